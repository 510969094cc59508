// The closed-loop driver the baseline benches share.
#include "bench/baseline.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <thread>

#include <CLI/CLI.hpp>

namespace oms::bench {

namespace {

double seconds_between(steady::time_point a, steady::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// After this many failed attempts in a row a client stops: the system under
// test is gone, and hammering it only hides the first error.
constexpr int errors_in_a_row_max = 100;

struct client_tally {
  uint64_t granted = 0;
  uint64_t refused = 0;
  uint64_t errors = 0;
  latency_histogram latency;
  uint64_t orders_granted_all = 0;
  uint64_t units_granted_all = 0;
  uint64_t units_unknown_all = 0;
  steady::time_point last_grant{};
  std::string first_error;
};

enum phase : int { warming, measuring, stopped };

} // namespace

std::optional<workload> parse_workload(const std::string& name) {
  for (auto w :
       {workload::hot, workload::spread, workload::multiline, workload::flash})
    if (name == to_string(w))
      return w;
  return std::nullopt;
}

const char* to_string(workload w) {
  switch (w) {
    case workload::hot:
      return "hot";
    case workload::spread:
      return "spread";
    case workload::multiline:
      return "multiline";
    case workload::flash:
      return "flash";
  }
  return "?";
}

std::string sku_name(int index) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "SKU-%05d", index);
  return buf;
}

std::vector<line> pick_lines(workload w, int skus, std::mt19937_64& rng) {
  std::uniform_int_distribution<int> any{0, skus - 1};
  switch (w) {
    case workload::hot:
    case workload::flash:
      return {{0, 1}};
    case workload::spread:
      return {{any(rng), 1}};
    case workload::multiline: {
      std::vector<line> lines;
      while (lines.size() < 3) {
        int s = any(rng);
        if (std::none_of(lines.begin(), lines.end(),
                         [s](const line& l) { return l.sku == s; }))
          lines.push_back({s, 1});
      }
      std::sort(lines.begin(), lines.end(),
                [](const line& a, const line& b) { return a.sku < b.sku; });
      return lines;
    }
  }
  return {};
}

void add_run_options(CLI::App& app, options& o, std::string& workload_name,
                     const std::string& skus_help) {
  app.add_option("--workload", workload_name, "hot, spread, multiline, flash")
      ->check(CLI::IsMember({"hot", "spread", "multiline", "flash"}));
  app.add_option("--clients", o.clients, "Clients, one connection each");
  app.add_option("--seconds", o.seconds, "Measured seconds (not flash)");
  app.add_option("--warmup", o.warmup, "Seconds before measuring (not flash)");
  app.add_option("--skus", o.skus, skus_help);
  app.add_option("--stock", o.stock,
                 "Units per SKU (default: ample; flash: 10000)");
  app.add_option("--flash-limit", o.flash_limit_seconds,
                 "A flash sale not sold out by then fails");
}

std::string describe_run(const std::string& system, const options& o) {
  return system + ", " + to_string(o.load) + ", " + std::to_string(o.clients) +
         " clients, " + std::to_string(o.skus) + " SKUs of " +
         std::to_string(stock_of(o)) + " units";
}

int64_t stock_of(const options& o) {
  if (o.stock > 0)
    return o.stock;
  return o.load == workload::flash ? 10'000 : 1'000'000'000;
}

std::optional<std::string> validate(const options& o) {
  if (o.clients < 1 || o.clients > 1024)
    return "--clients must be between 1 and 1024";
  if (!(o.seconds > 0) || o.seconds > 3600)
    return "--seconds must be above 0 and at most 3600";
  if (o.warmup < 0 || o.warmup > 600)
    return "--warmup must be between 0 and 600";
  if (o.skus < 1 || o.skus > 10'000'000)
    return "--skus must be between 1 and 10,000,000";
  if (o.load == workload::multiline && o.skus < 3)
    return "multiline needs at least 3 SKUs";
  if (o.stock < 0)
    return "--stock must not be negative";
  return std::nullopt;
}

totals drive(const options& o,
             const std::function<std::unique_ptr<client>(int)>& connect) {
  std::vector<std::unique_ptr<client>> clients;
  for (int i = 0; i < o.clients; ++i)
    clients.push_back(connect(i));
  bool flash = o.load == workload::flash;
  bool warm = !flash && o.warmup > 0;
  std::atomic<int> state{warm ? warming : measuring};
  std::atomic<uint64_t> warmup_ops{0};
  std::atomic<uint64_t> ops{0}; // in the measured window
  std::atomic<uint64_t> granted{0};
  std::mutex mtx;
  std::condition_variable all_done;
  int finished = 0; // clients that have stopped, under mtx
  std::vector<client_tally> tallies(static_cast<size_t>(o.clients));
  std::vector<std::thread> threads;
  auto started = steady::now();
  for (int i = 0; i < o.clients; ++i)
    threads.emplace_back([&, i] {
      auto& c = *clients[static_cast<size_t>(i)];
      auto& tally = tallies[static_cast<size_t>(i)];
      std::mt19937_64 rng{static_cast<uint64_t>(i) * 7919 + 17};
      int errors_in_a_row = 0;
      for (uint64_t n = 0;; ++n) {
        int now_in = state.load(std::memory_order_relaxed);
        if (now_in == stopped)
          break;
        auto lines = pick_lines(o.load, o.skus, rng);
        uint64_t units = 0;
        for (auto& l : lines)
          units += static_cast<uint64_t>(l.quantity);
        auto id = "c" + std::to_string(i) + "-" + std::to_string(n);
        auto t0 = steady::now();
        auto out = c.reserve(id, lines);
        auto t1 = steady::now();
        bool counted = now_in == measuring;
        if (counted)
          tally.latency.record(t1 - t0);
        (counted ? ops : warmup_ops).fetch_add(1, std::memory_order_relaxed);
        switch (out) {
          case outcome::granted:
            ++tally.orders_granted_all;
            tally.units_granted_all += units;
            tally.last_grant = t1;
            granted.fetch_add(1, std::memory_order_relaxed);
            tally.granted += counted;
            errors_in_a_row = 0;
            break;
          case outcome::refused:
            tally.refused += counted;
            errors_in_a_row = 0;
            break;
          case outcome::unknown:
            tally.units_unknown_all += units;
            [[fallthrough]];
          case outcome::error:
            tally.errors += counted;
            if (tally.first_error.empty())
              tally.first_error = c.last_error();
            ++errors_in_a_row;
            break;
        }
        if (flash && out == outcome::refused)
          break;
        if (errors_in_a_row >= errors_in_a_row_max)
          break;
      }
      std::lock_guard<std::mutex> guard{mtx};
      ++finished;
      all_done.notify_all();
    });
  bool tty = progress_wanted(o.quiet);
  auto tick = std::chrono::milliseconds(100);
  // Waits until `until`, a tick, or the last client's stop, whichever comes
  // first (a flash sale's time ends with the last refusal, not at the next
  // tick); true once every client has stopped.
  auto wait_a_tick = [&](steady::time_point until) {
    std::unique_lock<std::mutex> lock{mtx};
    return all_done.wait_until(lock, std::min(until, steady::now() + tick),
                               [&] { return finished == o.clients; });
  };
  bool all_finished = false;
  if (warm) {
    timed_progress bar{"warmup", o.warmup, warmup_ops, tty};
    auto until = started + std::chrono::duration_cast<steady::duration>(
                               std::chrono::duration<double>(o.warmup));
    while (!all_finished && steady::now() < until)
      all_finished = wait_a_tick(until);
  }
  state = measuring;
  auto measured_from = steady::now();
  auto span = flash ? o.flash_limit_seconds : o.seconds;
  auto until = measured_from + std::chrono::duration_cast<steady::duration>(
                                   std::chrono::duration<double>(span));
  if (flash) {
    // A flash sale's progress is the stock sold.
    count_progress bar{"flash", static_cast<uint64_t>(stock_of(o)), tty};
    while (!all_finished && steady::now() < until) {
      all_finished = wait_a_tick(until);
      bar.update(granted.load());
    }
    bar.finish();
  } else {
    timed_progress bar{to_string(o.load), o.seconds, ops, tty};
    while (!all_finished && steady::now() < until)
      all_finished = wait_a_tick(until);
  }
  state = stopped;
  for (auto& t : threads)
    t.join();
  auto measured_to = steady::now();
  totals t;
  t.seconds = seconds_between(measured_from, measured_to);
  steady::time_point last_grant = measured_from;
  for (auto& x : tallies) {
    t.granted += x.granted;
    t.refused += x.refused;
    t.errors += x.errors;
    t.orders_granted_all += x.orders_granted_all;
    t.units_granted_all += x.units_granted_all;
    t.units_unknown_all += x.units_unknown_all;
    t.latency.merge(x.latency);
    if (x.orders_granted_all > 0)
      last_grant = std::max(last_grant, x.last_grant);
    if (t.first_error.empty())
      t.first_error = x.first_error;
  }
  t.sell_out_seconds = seconds_between(measured_from, last_grant);
  return t;
}

summary to_summary(const std::string& bench, const std::string& system,
                   const options& o, const totals& t, bool invariants_ok,
                   nlohmann::ordered_json extra) {
  summary s;
  s.bench = bench;
  s.system = system;
  s.workload = to_string(o.load);
  s.clients = o.clients;
  s.seconds = t.seconds;
  s.operations = t.granted + t.refused;
  s.latency = t.latency.summary();
  s.granted = t.granted;
  s.refused = t.refused;
  s.errors = t.errors;
  s.invariants_ok = invariants_ok;
  if (!extra.is_object())
    extra = nlohmann::ordered_json::object();
  extra["skus"] = o.skus;
  extra["stock"] = stock_of(o);
  if (o.load == workload::flash)
    extra["sellOutSeconds"] = rounded(t.sell_out_seconds, 3);
  else
    extra["warmupSeconds"] = o.warmup;
  s.extra = std::move(extra);
  return s;
}

std::string describe(const summary& s) {
  auto rate =
      s.seconds > 0 ? static_cast<double>(s.operations) / s.seconds : 0.0;
  return fixed(rate, 0) + " reservations/s, p50 " + fixed(s.latency.p50_ms, 3) +
         " ms, p99 " + fixed(s.latency.p99_ms, 3) + " ms, invariants " +
         (s.invariants_ok ? "hold" : "VIOLATED");
}

int print_check(const std::string& bench, int64_t units_reserved,
                const nlohmann::json& violations) {
  bool ok = no_violations(violations);
  std::cout << nlohmann::json{{"bench", bench},
                              {"check", "invariants"},
                              {"unitsReserved", units_reserved},
                              {"violations", violations},
                              {"invariantsOk", ok}}
                   .dump()
            << '\n';
  return ok ? 0 : 1;
}

int finish(const std::string& bench, const std::string& system,
           const options& o, const totals& t, int64_t units_reserved,
           const nlohmann::json& violations, nlohmann::ordered_json extra,
           const std::function<std::pair<int64_t, int64_t>()>& sku0_stock,
           const std::function<void()>& clean_up) {
  bool ok = no_violations(violations);
  // Every unit a client was told it got is in the store, and nothing more
  // beyond attempts whose answer was lost.
  auto told = static_cast<int64_t>(t.units_granted_all);
  ok = ok && units_accounted(units_reserved, t);
  extra["unitsReserved"] = units_reserved;
  extra["unitsGrantedToClients"] = told;
  extra["violations"] = violations;
  if (o.load == workload::flash) {
    auto [on_hand, reserved] = sku0_stock();
    bool sold_out = told == stock_of(o) && reserved == on_hand;
    extra["soldOut"] = sold_out;
    ok = ok && sold_out;
  }
  if (!t.first_error.empty()) {
    extra["firstError"] = t.first_error;
    say(bench + ": first error: " + t.first_error);
  }
  clean_up();
  auto result = to_summary(bench, system, o, t, ok, extra);
  say(bench + ": " + describe(result));
  return print_summary(result);
}

void say(const std::string& line) {
  std::cerr << line << '\n';
}

bool no_violations(const nlohmann::json& violations) {
  for (auto& [name, count] : violations.items())
    if (count.get<int64_t>() != 0)
      return false;
  return true;
}

bool units_accounted(int64_t recorded, const totals& t) {
  auto told = static_cast<int64_t>(t.units_granted_all);
  auto maybe = static_cast<int64_t>(t.units_unknown_all);
  return recorded >= told && recorded <= told + maybe;
}

} // namespace oms::bench
