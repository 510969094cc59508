// oms-bench-report: renders a comparison run's results.jsonl (one shared
// result line per bench run, plus a machine line) as the markdown table of
// docs/benchmarks.md: orders/s and latency per system and workload, the flash
// sale, the memory figures, and the ratios checked against the targets with
// MET / MISSED. With --plot-dir it also writes the gnuplot data and script
// for throughput.svg and latency.svg.
//
// A C++ program rather than a jq or python script: nlohmann/json is already
// a dependency, python3 is not on a fresh Debian, number formatting in jq is
// awkward, and the normal build and ctest cover it like everything else.
//
//   oms-bench-report RESULTS.jsonl [--table FILE] [--plot-dir DIR]
// Exit status: 0; 1 when a run's invariants failed or a bench did not end
// well; 2 on unreadable input.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

namespace {

using json = nlohmann::json;

const std::vector<std::string> system_order = {
    "oms-memory",   "oms-sqlite",   "oms-http",       "postgres",
    "postgres-fn",  "redis-always", "redis-everysec", "caf-rtt",
    "nginx-static", "omsd-healthz", "omsd-inventory"};
const std::vector<std::string> workload_order = {
    "hot",       "spread", "multiline", "flash",       "flash-256",
    "lifecycle", "cancel", "rtt",       "http-ceiling"};

// A flash sale: "flash" at the run's clients, "flash-256" at 256.
bool is_flash(const std::string& workload) {
  return workload.rfind("flash", 0) == 0;
}

struct results {
  json machine = json::object();
  // By system, then workload: the last line for that pair.
  std::map<std::string, std::map<std::string, json>> runs;
  std::vector<json> memory;
  std::vector<json> skipped;
  // Synced 8 KiB writes per second measured before each series: the disk
  // is shared, and every durable design waits on it.
  std::vector<json> probes;
  std::vector<std::string> failed;
};

size_t rank_of(const std::vector<std::string>& order, const std::string& x) {
  auto i = std::find(order.begin(), order.end(), x);
  return static_cast<size_t>(i - order.begin());
}

template <class Map>
std::vector<std::string> ordered_keys(const Map& m,
                                      const std::vector<std::string>& order) {
  std::vector<std::string> keys;
  for (auto& [k, v] : m)
    keys.push_back(k);
  std::stable_sort(keys.begin(), keys.end(),
                   [&](const std::string& a, const std::string& b) {
                     return rank_of(order, a) < rank_of(order, b);
                   });
  return keys;
}

std::string with_thousands(double x) {
  auto n = static_cast<long long>(std::llround(x));
  auto digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0)
      out += ',';
    out += digits[i];
  }
  return (n < 0 ? "-" : "") + out;
}

std::string fixed(double x, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, x);
  return buf;
}

// A ratio: one decimal from 10 up, two down to 0.1, two significant digits
// below (0.0023), so that a small ratio never reads 0.00.
std::string ratio_text(double q) {
  if (q >= 10)
    return fixed(q, 1);
  if (q >= 0.1)
    return fixed(q, 2);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2g", q);
  return buf;
}

// Milliseconds with about three significant digits.
std::string ms(double x) {
  return fixed(x, x >= 100 ? 0 : x >= 10 ? 1 : x >= 1 ? 2 : 3);
}

std::optional<json> run(const results& r, const std::string& system,
                        const std::string& workload) {
  auto s = r.runs.find(system);
  if (s == r.runs.end())
    return std::nullopt;
  auto w = s->second.find(workload);
  if (w == s->second.end())
    return std::nullopt;
  return w->second;
}

double ops_of(const json& line) {
  return line.value("opsPerSecond", 0.0);
}

// What a ratio compares: orders/s; for a flash sale, units sold per second
// until sold out (the stock over the sell-out time).
double rate_of(const json& line) {
  auto extra = line.value("extra", json::object());
  if (is_flash(line.value("workload", std::string{})) &&
      extra.value("sellOutSeconds", 0.0) > 0)
    return static_cast<double>(extra.value("stock", int64_t{0})) /
           extra.value("sellOutSeconds", 0.0);
  return ops_of(line);
}

double p99_of(const json& line) {
  return line.contains("latencyMs") ? line["latencyMs"].value("p99", 0.0) : 0;
}

bool ok_of(const json& line) {
  return line.value("invariantsOk", false);
}

// One row of the ratio table.
struct ratio_row {
  std::string name;
  std::string value;
  std::string target;
  std::string verdict;
};

// "A ÷ B" of rate_of on one workload (B's on `b_workload` when given),
// checked against `at_least` when given.
ratio_row throughput_ratio(const results& r, const std::string& label,
                           const std::string& a, const std::string& b,
                           const std::string& workload,
                           std::optional<double> at_least,
                           const std::string& b_workload = {}) {
  auto wb = !b_workload.empty()                   ? b_workload
            : workload == "hot" && b == "caf-rtt" ? std::string{"rtt"}
                                                  : workload;
  ratio_row row{label + ": " + a + " ÷ " + b + ", " + workload +
                    (b_workload.empty() ? "" : " ÷ " + b_workload),
                "n/a",
                at_least ? "≥ " + fixed(*at_least, *at_least < 1 ? 1 : 0) + "×"
                         : "—",
                "NOT RUN"};
  auto x = run(r, a, workload);
  auto y = run(r, b, wb);
  if (!x || !y)
    return row;
  if (!ok_of(*x) || !ok_of(*y)) {
    row.verdict = "FAILED RUN";
    return row;
  }
  if (rate_of(*y) <= 0) {
    row.verdict = "NO FIGURE";
    return row;
  }
  auto q = rate_of(*x) / rate_of(*y);
  row.value = ratio_text(q) + "×";
  row.verdict = !at_least ? "info" : q >= *at_least ? "MET" : "MISSED";
  return row;
}

// The run a row of one system's figure reads; none when it did not run
// (the row stays NOT RUN) or failed (the row says FAILED RUN).
std::optional<json> usable_run(const results& r, const std::string& system,
                               const std::string& workload, ratio_row& row) {
  auto x = run(r, system, workload);
  if (x && !ok_of(*x)) {
    row.verdict = "FAILED RUN";
    return std::nullopt;
  }
  return x;
}

// The process's CPU time per operation (extra.cpuUsPerOperation) against a
// ceiling.
ratio_row cpu_target(const results& r, const std::string& system,
                     const std::string& workload, double at_most_us) {
  ratio_row row{"CPU per order: " + system + ", " + workload, "n/a",
                "≤ " + fixed(at_most_us, 0) + " µs", "NOT RUN"};
  auto x = usable_run(r, system, workload, row);
  if (!x)
    return row;
  auto extra = x->value("extra", json::object());
  if (!extra.contains("cpuUsPerOperation")) {
    row.verdict = "NO FIGURE";
    return row;
  }
  auto us = extra["cpuUsPerOperation"].get<double>();
  row.value = fixed(us, 1) + " µs";
  row.verdict = us <= at_most_us ? "MET" : "MISSED";
  return row;
}

ratio_row p99_target(const results& r, const std::string& system,
                     const std::string& workload, double below_ms) {
  ratio_row row{"OMS over HTTP p99: " + system + ", " + workload, "n/a",
                "< " + fixed(below_ms, 0) + " ms", "NOT RUN"};
  auto x = usable_run(r, system, workload, row);
  if (!x)
    return row;
  row.value = ms(p99_of(*x)) + " ms";
  row.verdict = p99_of(*x) < below_ms ? "MET" : "MISSED";
  return row;
}

// The targets of the performance issue (#14), in its order, then figures
// without a target.
std::vector<ratio_row> ratios(const results& r) {
  std::vector<ratio_row> rows;
  // 1. The journal is never the bottleneck.
  rows.push_back(throughput_ratio(r, "OMS in-process ÷ caf-rtt", "oms-sqlite",
                                  "caf-rtt", "hot", 0.1));
  rows.push_back(throughput_ratio(r, "SQLite journal ÷ memory journal",
                                  "oms-sqlite", "oms-memory", "hot", 0.7));
  // 2. CPU per order on the memory journal.
  rows.push_back(cpu_target(r, "oms-memory", "hot", 10.0));
  // 3. Over HTTP.
  rows.push_back(throughput_ratio(r, "OMS ÷ Redis(always)", "oms-http",
                                  "redis-always", "hot", 1.0));
  for (auto w : {"spread", "multiline"})
    rows.push_back(throughput_ratio(r, "OMS ÷ PostgreSQL", "oms-http",
                                    "postgres", w, 3.0));
  for (auto w : {"hot", "spread"})
    rows.push_back(p99_target(r, "oms-http", w, 5.0));
  // 4. The HTTP ceiling, and the order route's fraction of it.
  rows.push_back(throughput_ratio(r, "omsd's front ÷ nginx", "omsd-healthz",
                                  "nginx-static", "http-ceiling", 0.8));
  rows.push_back(throughput_ratio(r, "one actor read ÷ nginx", "omsd-inventory",
                                  "nginx-static", "http-ceiling",
                                  std::nullopt));
  rows.push_back(throughput_ratio(r, "order route ÷ omsd's /healthz",
                                  "oms-http", "omsd-healthz", "hot",
                                  std::nullopt, "http-ceiling"));
  rows.push_back(throughput_ratio(r, "order route ÷ omsd's inventory read",
                                  "oms-http", "omsd-inventory", "hot",
                                  std::nullopt, "http-ceiling"));
  // Without a target: how the other designs and stores compare.
  rows.push_back(throughput_ratio(r, "OMS ÷ PostgreSQL", "oms-http", "postgres",
                                  "hot", std::nullopt));
  for (auto w : {"spread", "multiline"})
    rows.push_back(throughput_ratio(r, "OMS ÷ Redis(always)", "oms-http",
                                    "redis-always", w, std::nullopt));
  rows.push_back(throughput_ratio(r, "OMS ÷ PostgreSQL", "oms-http", "postgres",
                                  "flash", std::nullopt));
  rows.push_back(throughput_ratio(r, "OMS ÷ Redis(always)", "oms-http",
                                  "redis-always", "flash", std::nullopt));
  rows.push_back(throughput_ratio(r, "OMS ÷ PostgreSQL (one-call function)",
                                  "oms-http", "postgres-fn", "hot",
                                  std::nullopt));
  rows.push_back(throughput_ratio(r, "OMS in-process ÷ PostgreSQL",
                                  "oms-sqlite", "postgres", "hot",
                                  std::nullopt));
  rows.push_back(throughput_ratio(r, "OMS in-process ÷ Redis(always)",
                                  "oms-sqlite", "redis-always", "hot",
                                  std::nullopt));
  rows.push_back(throughput_ratio(r, "OMS in-process ÷ caf-rtt, memory store",
                                  "oms-memory", "caf-rtt", "hot",
                                  std::nullopt));
  return rows;
}

std::string render(const results& r) {
  std::ostringstream out;
  auto& m = r.machine;
  out << "# Comparison run " << m.value("date", "(undated)") << "\n\n";
  out << "Machine: " << m.value("nproc", 0) << " cores, "
      << m.value("cpu", std::string{"unknown CPU"}) << ", kernel "
      << m.value("kernel", std::string{"?"});
  if (m.contains("loadavgBefore"))
    out << "; load average before " << m["loadavgBefore"].get<std::string>();
  if (m.contains("loadavgAfter"))
    out << ", after " << m["loadavgAfter"].get<std::string>();
  out << ".";
  if (m.contains("busiestProcessesBefore"))
    out << " Busiest processes at the start: "
        << m["busiestProcessesBefore"].get<std::string>() << ".";
  if (!r.probes.empty()) {
    out << " Synced 8 KiB writes per second before each series:";
    for (size_t i = 0; i < r.probes.size(); ++i) {
      auto& p = r.probes[i];
      out << (i ? ", " : " ") << p.value("before", std::string{"?"}) << " "
          << with_thousands(p.value("syncedWritesPerSecond", 0.0));
    }
    out << ".";
  }
  if (m.contains("secondsPerRun"))
    out << " " << m["secondsPerRun"].get<double>() << " s per run"
        << (m.value("quick", false) ? " (--quick)" : "") << ".";
  if (m.contains("commit"))
    out << " Commit " << m["commit"].get<std::string>() << ".";
  out << "\n\n";
  std::vector<std::string> workloads;
  for (auto& [system, by_workload] : r.runs)
    for (auto& [w, line] : by_workload)
      if (std::find(workloads.begin(), workloads.end(), w) == workloads.end())
        workloads.push_back(w);
  std::stable_sort(workloads.begin(), workloads.end(),
                   [](const std::string& a, const std::string& b) {
                     return rank_of(workload_order, a) <
                            rank_of(workload_order, b);
                   });
  auto systems = ordered_keys(r.runs, system_order);
  auto header = [&](const std::string& first) {
    out << "| " << first << " |";
    for (auto& w : workloads)
      out << ' ' << w << " |";
    out << "\n|---|";
    for (size_t i = 0; i < workloads.size(); ++i)
      out << "---:|";
    out << '\n';
  };
  auto clients = [&](const json& line) {
    return std::to_string(line.value("clients", 0));
  };
  out << "## Throughput (operations/s; clients in brackets)\n\n";
  header("system");
  for (auto& s : systems) {
    out << "| " << s << " |";
    for (auto& w : workloads) {
      auto x = run(r, s, w);
      if (!x)
        out << " — |";
      else if (!ok_of(*x))
        out << " **FAILED** |";
      else
        out << ' ' << with_thousands(ops_of(*x)) << " (" << clients(*x)
            << ") |";
    }
    out << '\n';
  }
  out << "\n## Latency per operation (ms): p50 / p99 / p999\n\n";
  header("system");
  for (auto& s : systems) {
    out << "| " << s << " |";
    for (auto& w : workloads) {
      auto x = run(r, s, w);
      if (!x || !x->contains("latencyMs")) {
        out << " — |";
        continue;
      }
      auto& l = (*x)["latencyMs"];
      out << ' ' << ms(l.value("p50", 0.0)) << " / " << ms(l.value("p99", 0.0))
          << " / " << ms(l.value("p999", 0.0)) << " |";
    }
    out << '\n';
  }
  std::vector<std::string> flashes;
  for (auto& w : workloads)
    if (is_flash(w))
      flashes.push_back(w);
  if (!flashes.empty()) {
    out << "\n## Flash sale (stock S on one SKU; clients buy 1 unit until "
           "refused)\n\n"
        << "| system | clients | stock | granted | refused | errors | "
           "sell-out s | units/s to sell out | refusal p99 ms | invariants "
           "|\n"
        << "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n";
    for (auto& w : flashes)
      for (auto& s : systems)
        if (auto x = run(r, s, w)) {
          auto extra = x->value("extra", json::object());
          auto stock = extra.value("stock", int64_t{0});
          auto sell_out = extra.value("sellOutSeconds", 0.0);
          // Only the order system's programs time refusals on their own.
          auto refusal = extra.value("refusedLatencyMs", json::object());
          out << "| " << s << " | " << clients(*x) << " | "
              << with_thousands(double(stock)) << " | "
              << with_thousands(x->value("granted", 0.0)) << " | "
              << with_thousands(x->value("refused", 0.0)) << " | "
              << with_thousands(x->value("errors", 0.0)) << " | "
              << fixed(sell_out, 3) << " | "
              << (sell_out > 0 ? with_thousands(double(stock) / sell_out) : "—")
              << " | "
              << (refusal.contains("p99") ? ms(refusal.value("p99", 0.0)) : "—")
              << " | " << (ok_of(*x) ? "ok" : "**FAILED**") << " |\n";
        }
  }
  out << "\n## Ratios against the targets (same run, same machine)\n\n"
      << "| ratio | value | target | verdict |\n|---|---:|---|---|\n";
  for (auto& row : ratios(r))
    out << "| " << row.name << " | " << row.value << " | " << row.target
        << " | " << row.verdict << " |\n";
  for (auto& mem : r.memory) {
    out << "\n## Memory (" << mem.value("system", std::string{"?"})
        << "; target on SQLite: at most 2,048 bytes of RSS per open order "
           "with 1M open orders; terminal orders keep no actor alive)\n\n"
        << "| figure | value |\n|---|---:|\n";
    auto extra = mem.value("extra", json::object());
    for (auto& [k, v] : extra.items())
      out << "| " << k << " | "
          << (v.is_number() ? with_thousands(v.get<double>()) : v.dump())
          << " |\n";
    out << "| invariantsOk | " << (ok_of(mem) ? "true" : "**false**") << " |\n";
  }
  if (!r.skipped.empty()) {
    out << "\n## Not run\n\n";
    for (auto& s : r.skipped)
      out << "- " << s.value("skipped", std::string{"?"}) << ": "
          << s.value("reason", std::string{"?"}) << '\n';
  }
  out << "\n## Failed runs (invariants, or a bench that did not end "
         "well)\n\n";
  if (r.failed.empty())
    out << "None: every run's invariants held and every bench ended well.\n";
  for (auto& f : r.failed)
    out << "- **" << f << "**\n";
  return out.str();
}

// Data files and a gnuplot script that draws them, next to each other.
void write_plots(const results& r, const std::string& dir) {
  auto systems = ordered_keys(r.runs, system_order);
  // The workloads with a figure, flash aside (it is a sell-out time).
  std::vector<std::string> bars;
  for (auto& w : workload_order)
    for (auto& s : systems)
      if (!is_flash(w) && run(r, s, w) &&
          std::find(bars.begin(), bars.end(), w) == bars.end())
        bars.push_back(w);
  std::ofstream t{dir + "/throughput.dat"};
  t << "system";
  for (auto& w : bars)
    t << ' ' << w;
  t << '\n';
  for (auto& s : systems) {
    t << s;
    for (auto& w : bars) {
      auto x = run(r, s, w);
      t << ' ' << (x && ok_of(*x) ? fixed(ops_of(*x), 1) : "?");
    }
    t << '\n';
  }
  std::ofstream l{dir + "/latency.dat"};
  l << "system p50 p99 p999\n";
  for (auto& s : systems) {
    auto x = run(r, s, "hot");
    if (!x)
      x = run(r, s, "rtt");
    if (!x || !x->contains("latencyMs"))
      continue;
    auto& lat = (*x)["latencyMs"];
    l << s << ' ' << lat.value("p50", 0.0) << ' ' << lat.value("p99", 0.0)
      << ' ' << lat.value("p999", 0.0) << '\n';
  }
  std::ofstream g{dir + "/plot.gp"};
  g << R"(# Drawn by oms-bench-report; run from this directory: gnuplot plot.gp
set terminal svg size 960,540 dynamic font 'sans,11'
set datafile missing '?'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set logscale y
set key outside right top
set xtics rotate by -25
set output 'throughput.svg'
set title 'Operations per second by system and workload (log scale; same run)'
set ylabel 'operations/s'
plot for [i=2:)"
    << bars.size() + 1 << R"(] 'throughput.dat' using i:xtic(1) title columnhead
set output 'latency.svg'
set title 'Latency per operation, hot workload (caf-rtt: rtt), log scale'
set ylabel 'ms'
plot for [i=2:4] 'latency.dat' using i:xtic(1) title columnhead
)";
}

} // namespace

int main(int argc, char** argv) {
  std::string input;
  std::string table_path;
  std::string plot_dir;
  CLI::App app{"Renders a comparison run's results.jsonl as tables"};
  app.add_option("results", input, "results.jsonl")->required();
  app.add_option("--table", table_path, "Also write the markdown here");
  app.add_option("--plot-dir", plot_dir,
                 "Write throughput.dat, latency.dat and plot.gp here");
  CLI11_PARSE(app, argc, argv);
  std::ifstream in{input};
  if (!in) {
    std::cerr << "oms-bench-report: cannot read " << input << "\n";
    return 2;
  }
  results r;
  std::string text;
  int number = 0;
  while (std::getline(in, text)) {
    ++number;
    if (text.find_first_not_of(" \t\r") == std::string::npos)
      continue;
    auto line = json::parse(text, nullptr, false);
    if (line.is_discarded() || !line.is_object()) {
      std::cerr << "oms-bench-report: " << input << ":" << number
                << ": not a JSON object\n";
      return 2;
    }
    if (line.contains("machine")) {
      r.machine = line["machine"];
    } else if (line.contains("probe")) {
      r.probes.push_back(line);
    } else if (line.contains("problem")) {
      // A bench that could not run, or did not end well after its figures.
      r.failed.push_back(line.value("problem", std::string{"?"}) + ": " +
                         line.value("reason", std::string{"?"}));
    } else if (line.contains("skipped")) {
      r.skipped.push_back(line);
    } else if (line.contains("bench") && line.contains("system") &&
               line.contains("workload")) {
      auto system = line["system"].get<std::string>();
      auto workload = line["workload"].get<std::string>();
      if (!ok_of(line))
        r.failed.push_back(system + " " + workload);
      if (workload == "memory")
        r.memory.push_back(line);
      else
        r.runs[system][workload] = line;
    } else {
      std::cerr << "oms-bench-report: " << input << ":" << number
                << ": not a result, machine, probe, problem or skipped line\n";
      return 2;
    }
  }
  auto table = render(r);
  std::cout << table;
  if (!table_path.empty()) {
    std::ofstream out{table_path};
    out << table;
    if (!out) {
      std::cerr << "oms-bench-report: cannot write " << table_path << "\n";
      return 2;
    }
  }
  if (!plot_dir.empty())
    write_plots(r, plot_dir);
  return r.failed.empty() ? 0 : 1;
}
