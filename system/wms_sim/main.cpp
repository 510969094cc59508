// wms-sim: the external seller's warehouse system (WMS) as a small HTTP
// server for end-to-end tests, examples and docs. It reflects reservations,
// receipts and adjustments in "orderable" only when its batch job runs,
// limits public requests per second, and injects failures, latency, hangs and
// duplicate events on demand (docs/wms-sim.md). One io thread owns the
// simulator; delays are asio timers, so a hung answer never blocks another.
// SIGTERM or SIGINT stops it with exit 0.
#include <signal.h>

#include <chrono>
#include <iostream>
#include <memory>
#include <set>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include "system/http/flags.hpp"
#include "system/http/log_line.hpp"
#include "system/http/server.hpp"
#include "system/wms_sim/config.hpp"
#include "system/wms_sim/sim.hpp"

namespace {

using namespace oms::wms_sim;
namespace http = oms::http;
using http::log_level;
namespace asio = boost::asio;

// -- JSON log lines on stderr -------------------------------------------------

log_level log_threshold = log_level::info;

// One JSON object per line: {"ts","level","event", ...fields}.
void log_line(log_level lvl, const char* event, json fields = json::object()) {
  if (!http::log_enabled(lvl, log_threshold))
    return;
  nlohmann::ordered_json line = {{"ts", http::log_timestamp_now()},
                                 {"level", http::level_name(lvl)},
                                 {"event", event}};
  for (auto& [key, value] : fields.items())
    line[key] = value;
  http::write_log_line(
      line.dump(-1, ' ', false, json::error_handler_t::replace) + '\n');
}

int fatal(const std::string& message) {
  std::cerr << "wms-sim: " << message << "\n";
  log_line(log_level::error, "wms.start_failed", {{"error", message}});
  return 2;
}

int64_t wall_clock_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch())
      .count();
}

void log_batch(const batch_result& b) {
  log_line(log_level::info, "wms.batch",
           {{"trigger", b.trigger},
            {"batch", b.batch},
            {"asOf", b.as_of_ms},
            {"reflects", b.reflects},
            {"skus", b.skus},
            {"orderableTotal", b.orderable_total},
            {"changes", b.changes},
            {"events", b.events}});
}

// Loads --seed-file; what is wrong with it, or "".
std::string load_seed(sim& wms, const std::string& file) {
  auto loaded = load_seed_file(wms, file);
  if (!loaded.ok())
    return "--seed-file " + file + ": " +
           loaded.body["error"]["message"].get<std::string>();
  log_line(log_level::info, "wms.seeded",
           {{"file", file}, {"skus", loaded.body["skus"]}});
  return {};
}

// -- the HTTP server ----------------------------------------------------------

// Answers held back by latency or a hang, cancelled on stop.
using timer_ptr = std::shared_ptr<asio::steady_timer>;

// Bytes of a request that are not UTF-8 (a path's %FF) may be named in an
// answer: they go out as U+FFFD, where dump() would throw and leave the
// request unanswered.
http::response to_http(const response& resp) {
  http::response out;
  out.status = resp.status;
  out.headers = resp.headers;
  out.body = resp.body.dump(-1, ' ', false, json::error_handler_t::replace);
  return out;
}

// A body the server did not read whole: answered in the simulator's error
// shape.
http::response refused_body(http::body_outcome outcome) {
  bool large = outcome == http::body_outcome::too_large;
  json err = {{"code", large ? "PAYLOAD_TOO_LARGE" : "VALIDATION_FAILED"},
              {"message", large ? "the body is larger than 1 MiB"
                                : "the body ended early or was malformed"}};
  response resp;
  resp.status = large ? 413 : 400;
  resp.body = json{{"error", err}};
  return to_http(resp);
}

// Answers a request at once, or when its delay is over. One io thread runs
// every connection, so the simulator is only ever used from it.
http::body_sink serve(http::request head, http::respond done, sim& wms,
                      asio::io_context& ioctx, std::set<timer_ptr>& held) {
  return [head = std::move(head), done = std::move(done), &wms, &ioctx,
          &held](std::string body, http::body_outcome outcome) {
    if (outcome != http::body_outcome::read)
      return done(refused_body(outcome));
    request r{head.method, head.path, head.query, std::move(body)};
    auto resp = std::make_shared<response>(wms.handle(r));
    log_line(log_level::debug, "wms.request",
             {{"method", r.method},
              {"path", r.path},
              {"status", resp->status},
              {"delayMs", resp->delay_ms}});
    if (resp->delay_ms <= 0)
      return done(to_http(*resp));
    auto timer = std::make_shared<asio::steady_timer>(ioctx);
    held.insert(timer);
    timer->expires_after(std::chrono::milliseconds(resp->delay_ms));
    timer->async_wait(
        [&held, timer, done, resp](const boost::system::error_code& ec) {
          held.erase(timer);
          if (!ec)
            done(to_http(*resp));
        });
  };
}

http::server_limits server_limits() {
  http::server_limits limits;
  limits.body_bytes_max = size_t{1} << 20;
  return limits;
}

// The batch job's timer wakes when the next batch is due by the wall clock.
void schedule_batch(asio::steady_timer& timer, sim& wms) {
  auto due = wms.next_batch_at();
  if (!due)
    return;
  auto wait_ms = std::max<int64_t>(0, *due - wall_clock_ms());
  timer.expires_after(std::chrono::milliseconds(wait_ms));
  timer.async_wait([&timer, &wms](const boost::system::error_code& ec) {
    if (ec)
      return;
    wms.run_due_batch();
    schedule_batch(timer, wms);
  });
}

void log_started(const settings& cfg) {
  auto& f = cfg.sim.faults;
  log_line(log_level::info, "wms.started",
           {{"listen", cfg.listen + ":" + std::to_string(cfg.port)},
            {"batchInterval", format_duration_ms(cfg.sim.batch_interval_ms)},
            {"rateLimit", f.rate_limit},
            {"failRate", f.fail_rate},
            {"latencyMs", f.latency_ms},
            {"hangRate", f.hang_rate},
            {"hangForMs", f.hang_for_ms},
            {"duplicateRate", f.duplicate_rate},
            {"seed", cfg.sim.seed},
            {"config", cfg.config_file.empty() ? std::string{"(none)"}
                                               : cfg.config_file}});
}

} // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  auto parsed = parse_args(argc, argv);
  if (!parsed.config)
    return http::report_exit({parsed.exit_code, parsed.output});
  auto cfg = std::move(*parsed.config);
  log_threshold = cfg.log_threshold;

  sim wms{cfg.sim, wall_clock_ms};
  wms.on_batch(log_batch);
  if (!cfg.seed_file.empty())
    if (auto error = load_seed(wms, cfg.seed_file); !error.empty())
      return fatal(error);

  // Declared before the io_context: destroying it destroys the handlers it
  // still holds, and a session's end counts itself in connections.
  std::set<timer_ptr> held;
  http::server_stats connections;
  asio::io_context ioctx;
  http::server server{ioctx, server_limits(),
                      [&](http::request head, http::respond done) {
                        return serve(std::move(head), std::move(done), wms,
                                     ioctx, held);
                      },
                      connections};
  if (auto failed = server.listen(cfg.listen, cfg.port); !failed.empty())
    return fatal("cannot listen on " + cfg.listen + ":" +
                 std::to_string(cfg.port) + " (port " +
                 std::to_string(cfg.port) + "): " + failed);

  asio::steady_timer batch_timer{ioctx};
  schedule_batch(batch_timer, wms);

  asio::signal_set stop_signals{ioctx, SIGTERM, SIGINT};
  stop_signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec)
      return;
    log_line(log_level::info, "wms.stopping",
             {{"signal", sig == SIGTERM ? "TERM" : "INT"},
              {"heldAnswers", held.size()}});
    batch_timer.cancel();
    for (auto& t : std::set<timer_ptr>{held})
      t->cancel();
    server.stop_accepting();
    ioctx.stop();
  });

  log_started(cfg);
  for (;;) {
    try {
      ioctx.run();
      break;
    } catch (const std::exception& e) {
      log_line(log_level::error, "wms.io_error", {{"error", e.what()}});
    }
  }
  auto& st = wms.stats();
  log_line(log_level::info, "wms.stopped",
           {{"requests", st.total},
            {"rateLimited", st.rate_limited},
            {"faults", st.faults},
            {"batch", wms.batch()},
            {"seq", wms.seq()}});
  return 0;
}
