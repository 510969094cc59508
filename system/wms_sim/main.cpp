// wms-sim: the external seller's warehouse system (WMS) as a small HTTP
// server for end-to-end tests, examples and docs. It reflects reservations,
// receipts and adjustments in "orderable" only when its batch job runs,
// limits public requests per second, and injects failures, latency, hangs and
// duplicate events on demand (docs/wms-sim.md). One io thread owns the
// simulator; delays are asio timers, so a hung answer never blocks another.
// SIGTERM or SIGINT stops it with exit 0.
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <memory>
#include <set>
#include <sstream>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <restinio/all.hpp>

#include "system/wms_sim/sim.hpp"

namespace {

using namespace oms::wms_sim;

// -- JSON log lines on stderr
// ---------------------------------------------------

enum class level { debug = 0, info = 1, warn = 2, error = 3, off = 4 };

level log_level = level::info;

const char* level_name(level x) {
  switch (x) {
    case level::debug:
      return "debug";
    case level::info:
      return "info";
    case level::warn:
      return "warn";
    case level::error:
      return "error";
    default:
      return "off";
  }
}

// One JSON object per line: {"ts","level","event", ...fields}.
void log_line(level lvl, const char* event, json fields = json::object()) {
  if (lvl < log_level || lvl == level::off)
    return;
  using namespace std::chrono;
  auto now = system_clock::now();
  auto secs = system_clock::to_time_t(now);
  auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char ts[64];
  std::snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  nlohmann::ordered_json line = {
      {"ts", ts}, {"level", level_name(lvl)}, {"event", event}};
  for (auto& [key, value] : fields.items())
    line[key] = value;
  auto text = line.dump(-1, ' ', false, json::error_handler_t::replace);
  text += '\n';
  std::fwrite(text.data(), 1, text.size(), stderr);
}

// -- settings
// ------------------------------------------------------------------

struct settings {
  std::string listen = "127.0.0.1";
  uint16_t port = 8090;
  std::string seed_file;
  std::string config_file;
  options sim;
};

struct parse_outcome {
  std::optional<settings> config;
  int exit_code = 0;
  std::string output;
};

// A CLI11 option holding a duration ("500ms", "2s", "15m", bare seconds).
CLI::Option* add_duration(CLI::App& app, const std::string& name,
                          int64_t& target_ms, int64_t max_ms,
                          const std::string& help) {
  auto* opt = app.add_option_function<std::string>(
      name,
      [&target_ms, name, max_ms](const std::string& text) {
        auto d = parse_duration_ms(text);
        if (!d)
          throw CLI::ValidationError(
              name, "'" + text +
                        "' is not a duration (a number with ms, s, m or h; "
                        "a bare number is seconds)");
        if (*d > max_ms)
          throw CLI::ValidationError(name, "'" + text + "' is longer than " +
                                               format_duration_ms(max_ms));
        target_ms = *d;
      },
      help + " (default " + format_duration_ms(target_ms) + ")");
  opt->type_name("DURATION");
  return opt;
}

parse_outcome parse_args(int argc, char** argv) {
  settings cfg;
  auto& f = cfg.sim.faults;
  CLI::App app{"wms-sim: a simulator of the external seller's warehouse "
               "system (WMS): batch-reflected stock, reservations, an event "
               "feed, rate limits and injected faults",
               "wms-sim"};
  app.set_version_flag("--version", "wms-sim 0.1.0");
  app.set_config("--config", "",
                 "Read settings from this file (see config/wms-sim.conf); "
                 "flags override it");
  app.allow_config_extras(CLI::config_extras_mode::error);
  app.get_formatter()->column_width(34);
  app.add_option("--listen", cfg.listen, "Address to listen on")
      ->capture_default_str();
  app.add_option("--port", cfg.port, "TCP port to listen on")
      ->capture_default_str()
      ->check(CLI::Range(1, 65535));
  add_duration(app, "--batch-interval", cfg.sim.batch_interval_ms,
               int64_t{7} * 86'400'000,
               "Period of the batch job that makes changes visible in "
               "orderable (0: only POST /admin/batch)");
  app.add_option("--rate-limit", f.rate_limit,
                 "Public requests allowed per second (0: no limit)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{1'000'000}));
  app.add_option("--fail-rate", f.fail_rate,
                 "Fraction (0..1) of public requests answered 503 "
                 "INJECTED_FAULT")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  add_duration(app, "--latency", f.latency_ms, 600'000,
               "Delay added to every public answer");
  app.add_option("--hang-rate", f.hang_rate,
                 "Fraction (0..1) of public requests whose answer is late by "
                 "--hang-for")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  add_duration(app, "--hang-for", f.hang_for_ms, 600'000,
               "How late a hung answer is");
  app.add_option("--duplicate-rate", f.duplicate_rate,
                 "Fraction (0..1) of event pages that repeat an earlier "
                 "event")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--seed", cfg.sim.seed, "Seed of the fault randomness")
      ->capture_default_str();
  app.add_option("--seed-file", cfg.seed_file,
                 "JSON {\"skus\":[{\"sku\",\"onHand\",\"unitPrice\"}]} loaded "
                 "at start (a batch runs right after)")
      ->check(CLI::ExistingFile);
  std::string level_text = "info";
  app.add_option("--log-level", level_text, "debug, info, warn, error or off")
      ->capture_default_str()
      ->check(CLI::IsMember({"debug", "info", "warn", "error", "off"}));
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    std::ostringstream out;
    auto code = app.exit(e, out, out);
    return parse_outcome{std::nullopt, code, out.str()};
  } catch (const CLI::ParseError& e) {
    std::ostringstream out;
    app.exit(e, out, out);
    return parse_outcome{std::nullopt, 2, "wms-sim: " + out.str()};
  }
  for (auto x :
       {level::debug, level::info, level::warn, level::error, level::off})
    if (level_text == level_name(x))
      log_level = x;
  if (auto* opt = app.get_config_ptr(); opt && opt->count() > 0)
    cfg.config_file = opt->as<std::string>();
  return parse_outcome{std::move(cfg), 0, {}};
}

int fatal(const std::string& message) {
  std::cerr << "wms-sim: " << message << "\n";
  log_line(level::error, "wms.start_failed", {{"error", message}});
  return 2;
}

int64_t wall_clock_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch())
      .count();
}

const char* reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 409:
      return "Conflict";
    case 429:
      return "Too Many Requests";
    case 503:
      return "Service Unavailable";
    case 507:
      return "Insufficient Storage";
  }
  return "Unknown";
}

void log_batch(const batch_result& b) {
  log_line(level::info, "wms.batch",
           {{"trigger", b.trigger},
            {"batch", b.batch},
            {"asOf", b.as_of_ms},
            {"reflects", b.reflects},
            {"skus", b.skus},
            {"orderableTotal", b.orderable_total},
            {"changes", b.changes},
            {"events", b.events}});
}

using traits_t = restinio::default_single_thread_traits_t;
using server_t = restinio::http_server_t<traits_t>;

// Answers held back by latency or a hang, cancelled on stop.
using timer_ptr = std::shared_ptr<asio::steady_timer>;

} // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  auto parsed = parse_args(argc, argv);
  if (!parsed.config) {
    (parsed.exit_code == 0 ? std::cout : std::cerr) << parsed.output;
    return parsed.exit_code;
  }
  auto cfg = std::move(*parsed.config);

  sim wms{cfg.sim, wall_clock_ms};
  wms.on_batch(log_batch);
  if (!cfg.seed_file.empty()) {
    std::ifstream in{cfg.seed_file};
    auto seed = json::parse(in, nullptr, false);
    if (seed.is_discarded())
      return fatal("--seed-file " + cfg.seed_file + ": not valid JSON");
    auto loaded = wms.load_seed(seed);
    if (!loaded.ok())
      return fatal("--seed-file " + cfg.seed_file + ": " +
                   loaded.body["error"]["message"].get<std::string>());
    log_line(level::info, "wms.seeded",
             {{"file", cfg.seed_file}, {"skus", loaded.body["skus"]}});
  }

  asio::io_context ioctx;
  std::set<timer_ptr> held;
  auto max_body = size_t{1} << 20;
  server_t server{
      restinio::external_io_context(ioctx),
      restinio::server_settings_t<traits_t>{}
          .port(cfg.port)
          .address(cfg.listen)
          .incoming_http_msg_limits(
              restinio::incoming_http_msg_limits_t{}.max_body_size(max_body))
          // Answers may be held back up to latency + hang-for (10 min each).
          .handle_request_timeout(std::chrono::minutes(30))
          .read_next_http_message_timelimit(std::chrono::seconds(60))
          .request_handler([&](const restinio::request_handle_t& req) {
            request r;
            r.method = req->header().method().c_str();
            r.path = std::string{req->header().path()};
            r.query = std::string{req->header().query()};
            r.body = req->body();
            auto resp = std::make_shared<response>(wms.handle(r));
            log_line(level::debug, "wms.request",
                     {{"method", r.method},
                      {"path", r.path},
                      {"status", resp->status},
                      {"delayMs", resp->delay_ms}});
            auto send = [req, resp] {
              auto rb = req->create_response(restinio::http_status_line_t{
                  restinio::http_status_code_t{
                      static_cast<std::uint16_t>(resp->status)},
                  reason_phrase(resp->status)});
              rb.append_header(restinio::http_field::content_type,
                               "application/json");
              rb.append_header(restinio::http_field::cache_control, "no-store");
              for (auto& [name, value] : resp->headers)
                rb.append_header(name, value);
              rb.set_body(resp->body.dump());
              rb.done();
            };
            if (resp->delay_ms <= 0) {
              send();
              return restinio::request_accepted();
            }
            auto timer = std::make_shared<asio::steady_timer>(ioctx);
            held.insert(timer);
            timer->expires_after(std::chrono::milliseconds(resp->delay_ms));
            timer->async_wait([&held, timer, send](const asio::error_code& ec) {
              held.erase(timer);
              if (!ec)
                send();
            });
            return restinio::request_accepted();
          })};
  try {
    server.open_sync();
  } catch (const std::exception& e) {
    return fatal("cannot listen on " + cfg.listen + ":" +
                 std::to_string(cfg.port) + " (port " +
                 std::to_string(cfg.port) + "): " + e.what());
  }

  // The batch job's timer wakes when the next batch is due by the wall clock.
  asio::steady_timer batch_timer{ioctx};
  std::function<void()> schedule_batch = [&] {
    auto due = wms.next_batch_at();
    if (!due)
      return;
    auto wait_ms = std::max<int64_t>(0, *due - wall_clock_ms());
    batch_timer.expires_after(std::chrono::milliseconds(wait_ms));
    batch_timer.async_wait([&](const asio::error_code& ec) {
      if (ec)
        return;
      wms.run_due_batch();
      schedule_batch();
    });
  };
  schedule_batch();

  asio::signal_set stop_signals{ioctx, SIGTERM, SIGINT};
  stop_signals.async_wait([&](const asio::error_code& ec, int sig) {
    if (ec)
      return;
    log_line(level::info, "wms.stopping",
             {{"signal", sig == SIGTERM ? "TERM" : "INT"},
              {"heldAnswers", held.size()}});
    batch_timer.cancel();
    for (auto& t : std::set<timer_ptr>{held})
      t->cancel();
    try {
      server.close_sync();
    } catch (const std::exception& e) {
      log_line(level::warn, "wms.close_failed", {{"error", e.what()}});
    }
    ioctx.stop();
  });

  log_line(level::info, "wms.started",
           {{"listen", cfg.listen + ":" + std::to_string(cfg.port)},
            {"batchInterval", format_duration_ms(cfg.sim.batch_interval_ms)},
            {"rateLimit", cfg.sim.faults.rate_limit},
            {"failRate", cfg.sim.faults.fail_rate},
            {"latencyMs", cfg.sim.faults.latency_ms},
            {"hangRate", cfg.sim.faults.hang_rate},
            {"hangForMs", cfg.sim.faults.hang_for_ms},
            {"duplicateRate", cfg.sim.faults.duplicate_rate},
            {"seed", cfg.sim.seed},
            {"config", cfg.config_file.empty() ? std::string{"(none)"}
                                               : cfg.config_file}});
  for (;;) {
    try {
      ioctx.run();
      break;
    } catch (const std::exception& e) {
      log_line(level::error, "wms.io_error", {{"error", e.what()}});
    }
  }
  auto& st = wms.stats();
  log_line(level::info, "wms.stopped",
           {{"requests", st.total},
            {"rateLimited", st.rate_limited},
            {"faults", st.faults},
            {"batch", wms.batch()},
            {"seq", wms.seq()}});
  return 0;
}
