#include "system/daemon/config.hpp"
#include "system/daemon/config_detail.hpp"

#include <initializer_list>
#include <limits>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "actors/validation.hpp"
#include "system/http/flags.hpp"

namespace oms::daemon {

const char* to_string(store_kind x) {
  switch (x) {
    case store_kind::sqlite:
      return "sqlite";
    case store_kind::postgres:
      return "postgres";
    case store_kind::memory:
      return "memory";
  }
  return "sqlite";
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view str) {
  auto ms = http::parse_duration_ms(str, http::omsd_durations);
  if (!ms)
    return std::nullopt;
  return std::chrono::milliseconds{*ms};
}

std::string format_duration(std::chrono::milliseconds x) {
  return http::format_duration_ms(x.count(), http::omsd_durations);
}

namespace config_detail {

// A CLI11 option holding a duration with a unit suffix.
CLI::Option* add_duration(CLI::App& app, const std::string& name,
                          std::chrono::milliseconds& target,
                          const std::string& help) {
  static const http::duration_flag_rules rules{
      http::omsd_durations, "use a number with ms, s, m, h or d, e.g. 15m"};
  return http::add_duration_flag(app, name, target, rules, help);
}

} // namespace config_detail

namespace {

using config_detail::add_duration;

// The range a duration flag must be in: [low, high], or 0s where `zero`
// names what 0s means ("off", "for ever"); `low_is` names the flag the
// low end comes from, if it does.
struct duration_range {
  const char* flag;
  std::chrono::milliseconds value;
  std::chrono::milliseconds low;
  std::chrono::milliseconds high;
  const char* zero = nullptr;
  const char* low_is = nullptr;
};

// "omsd: FLAG must be between LOW and HIGH" (or "0s (ZERO) or between
// ...") for the first flag out of its range; nothing if none is.
std::optional<std::string>
out_of_range(std::initializer_list<duration_range> ranges) {
  for (auto& r : ranges) {
    if (r.zero != nullptr && r.value.count() == 0)
      continue;
    if (r.value >= r.low && r.value <= r.high)
      continue;
    std::string zero =
        r.zero == nullptr ? "" : "0s (" + std::string{r.zero} + ") or ";
    auto low = format_duration(r.low);
    if (r.low_is != nullptr)
      low = std::string{r.low_is} + " (" + low + ")";
    return "omsd: " + std::string{r.flag} + " must be " + zero + "between " +
           low + " and " + format_duration(r.high) + "\n";
  }
  return std::nullopt;
}

void add_server_flags(CLI::App& app, daemon_config& cfg) {
  std::string listen_group = "Server";
  app.add_option("--listen", cfg.listen, "Address to listen on")
      ->capture_default_str()
      ->group(listen_group);
  app.add_option("-p,--port", cfg.port, "TCP port to listen on")
      ->capture_default_str()
      ->group(listen_group);
  app.add_option("--io-threads", cfg.io_threads,
                 "Threads serving HTTP connections")
      ->capture_default_str()
      ->check(CLI::Range(1, 64))
      ->group(listen_group);
  app.add_option("--actor-threads", cfg.actor_threads,
                 "Threads running actors (0: one per core)")
      ->capture_default_str()
      ->check(CLI::Range(0, 256))
      ->group(listen_group);
  app.add_option("--actor-scheduler", cfg.actor_scheduler,
                 "How actors are scheduled: stealing (a queue per thread, "
                 "idle threads poll the others) or sharing (one queue, idle "
                 "threads sleep: less CPU when idle, slower over HTTP)")
      ->capture_default_str()
      ->check(CLI::IsMember({"stealing", "sharing"}))
      ->group(listen_group);
  app.add_option("--max-body-bytes", cfg.limits.body_bytes_max,
                 "Largest request body; larger gets 413")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1024}, size_t{64} << 20))
      ->group(listen_group);
  app.add_option("--max-json-depth", cfg.limits.json_depth_max,
                 "Deepest JSON nesting accepted")
      ->capture_default_str()
      ->check(CLI::Range(2, 256))
      ->group(listen_group);
  add_duration(app, "--request-timeout", cfg.request_timeout,
               "Longest wait for the actors' answer before 503")
      ->group(listen_group);
  add_duration(app, "--drain-timeout", cfg.drain_timeout,
               "On SIGTERM, longest wait for in-flight requests")
      ->group(listen_group);
}

void add_connection_flags(CLI::App& app, daemon_config& cfg) {
  std::string group = "Connections";
  app.add_option("--max-connections", cfg.connections_max,
                 "Connections open at once; more wait in the listen backlog "
                 "until one closes")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{1} << 20))
      ->group(group);
  app.add_option("--max-url-bytes", cfg.url_bytes_max,
                 "Longest request target (path and query); longer gets 414")
      ->capture_default_str()
      ->check(CLI::Range(size_t{256}, size_t{64} << 10))
      ->group(group);
  app.add_option("--max-header-bytes", cfg.header_bytes_max,
                 "Largest request line and header fields together; larger "
                 "gets 431")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1024}, size_t{256} << 10))
      ->group(group);
  app.add_option("--max-body-memory", cfg.body_memory_max,
                 "Bytes all request bodies being read or answered may take "
                 "together; beyond, 503 with Retry-After")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{64} << 10, uint64_t{16} << 30))
      ->group(group);
  add_duration(app, "--idle-timeout", cfg.idle_timeout,
               "Longest wait for a request's whole header, from a "
               "connection's start or its last answer")
      ->group(group);
  add_duration(app, "--body-timeout", cfg.body_timeout,
               "Longest time to read one request body, or to write one "
               "answer")
      ->group(group);
}

void add_store_flags(CLI::App& app, daemon_config& cfg, std::string& store_name,
                     std::string& check_name) {
  std::string store_group = "Store";
  app.add_option("--store", store_name,
                 "sqlite (a file in the data dir), postgres or memory")
      ->capture_default_str()
      ->check(CLI::IsMember({"sqlite", "postgres", "memory"}))
      ->group(store_group);
  app.add_option("--data-dir", cfg.data_dir,
                 "Directory of the SQLite store and the generated admin token")
      ->capture_default_str()
      ->group(store_group);
  app.add_option("--postgres", cfg.postgres,
                 "PostgreSQL connection string (implies --store postgres "
                 "unless --store is given)")
      ->envname("OMS_POSTGRES")
      ->group(store_group);
  app.add_option("--postgres-schema", cfg.postgres_schema,
                 "PostgreSQL schema holding the tables")
      ->capture_default_str()
      ->group(store_group);
  app.add_option("--store-check", check_name,
                 "background: once serving, check the SQLite files' "
                 "integrity on a thread of its own (damage turns /readyz to "
                 "not ready); off: never")
      ->capture_default_str()
      ->check(CLI::IsMember({"background", "off"}))
      ->group(store_group);
  app.add_flag("--check", cfg.check_only,
               "Check the store's SQLite files in full (every page and index; "
               "read-only, also while an omsd serves them), print what was "
               "found and exit: 0 sound, 1 damaged, 2 nothing to check")
      ->configurable(false)
      ->group(store_group);
}

void add_order_flags(CLI::App& app, daemon_config& cfg) {
  std::string orders_group = "Orders";
  add_duration(app, "--hold-ttl", cfg.hold_ttl,
               "How long an unconfirmed order holds its stock")
      ->group(orders_group);
  add_duration(app, "--return-window", cfg.return_window,
               "How long after delivery a customer may return units")
      ->group(orders_group);
  add_duration(app, "--idempotency-window", cfg.idempotency_window,
               "How long Idempotency-Key values are remembered")
      ->group(orders_group);
  add_duration(app, "--customer-idle-timeout", cfg.customer_idle_timeout,
               "How long a customer's actor stays in memory with no request, "
               "no cart and no live order before it ends (it starts again on "
               "its next request)")
      ->group(orders_group);
  add_duration(app, "--order-idle-timeout", cfg.order_idle_timeout,
               "How long an open order's actor stays in memory with nothing "
               "under way and no command before it ends; the order rests on "
               "its stored record and its actor starts again when needed "
               "(0s keeps every open order's actor)")
      ->group(orders_group);
  add_duration(app, "--inbox-retention", cfg.inbox_retention,
               "How long an inbound stock change's eventId is remembered; a "
               "redelivery after that applies again (at least 1h)")
      ->group(orders_group);
  app.add_option("--max-lines", cfg.limits.lines_per_order_max,
                 "Most lines in one order")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000))
      ->group(orders_group);
  app.add_option("--max-quantity", cfg.limits.line_quantity_max,
                 "Largest quantity of one line or receipt")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1'000'000'000}))
      ->group(orders_group);
  app.add_option("--max-unit-price", cfg.limits.unit_price_max,
                 "Highest unit price of a SKU, in minor units; max-lines (and "
                 "cart-lines-max) x max-quantity x max-unit-price must fit "
                 "in a 64-bit amount")
      ->capture_default_str()
      ->check(CLI::Range(money{1}, std::numeric_limits<money>::max()))
      ->group(orders_group);
  app.add_option("--cart-lines-max", cfg.cart_lines_max,
                 "Most lines in one cart")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000))
      ->group(orders_group);
  app.add_option("--decline-amount-min", cfg.decline_amount_min,
                 "Simulated payment gateway: decline charges of at least "
                 "this many minor units (0: off)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber)
      ->group(orders_group);
}

void add_wms_flags(CLI::App& app, daemon_config& cfg) {
  std::string wms_group = "EXTERNAL seller (WMS)";
  app.add_option("--wms-url", cfg.wms_url,
                 "Base URL of the EXTERNAL seller's WMS, e.g. "
                 "http://127.0.0.1:8090 (empty: EXTERNAL requests fail with "
                 "WMS_UNAVAILABLE)")
      ->envname("OMS_WMS_URL")
      ->group(wms_group);
  app.add_option("--wms-rate", cfg.wms_rate,
                 "Most calls to the WMS in any 1-second window (keep it "
                 "under the WMS's own limit)")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000))
      ->group(wms_group);
  add_duration(app, "--wms-timeout", cfg.wms_timeout,
               "How long one WMS call may take before it counts as lost")
      ->group(wms_group);
  app.add_option("--wms-connections", cfg.wms_connections,
                 "Keep-alive connections to the WMS (calls in flight)")
      ->capture_default_str()
      ->check(CLI::Range(1, 64))
      ->group(wms_group);
  app.add_option("--wms-queue", cfg.wms_queue,
                 "Most WMS calls waiting; more fail at once with "
                 "WMS_UNAVAILABLE")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000))
      ->group(wms_group);
  app.add_option("--wms-breaker-failures", cfg.wms_breaker_failures,
                 "Consecutive failed WMS calls that open the circuit breaker")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000))
      ->group(wms_group);
  add_duration(app, "--wms-breaker-open", cfg.wms_breaker_open,
               "How long the breaker stays open before one probe call")
      ->group(wms_group);
  add_duration(app, "--wms-call-deadline", cfg.wms_call_deadline,
               "A WMS call not done by then fails with WMS_UNAVAILABLE")
      ->group(wms_group);
  app.add_option("--external-safety-buffer", cfg.external_safety_buffer,
                 "Units per EXTERNAL SKU never sold, whatever the WMS says")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{1'000'000'000}))
      ->group(wms_group);
  add_duration(app, "--external-batch-interval", cfg.external_batch_interval,
               "How often the WMS's batch job runs (snapshots are read again "
               "after each)")
      ->group(wms_group);
  add_duration(app, "--external-snapshot-min-interval",
               cfg.external_snapshot_min_interval,
               "Never read one SKU's WMS snapshot more often than this")
      ->group(wms_group);
  add_duration(app, "--external-feed-interval", cfg.external_feed_interval,
               "How often the WMS's event feed is read (0s: never)")
      ->group(wms_group);
}

void add_webhook_flags(CLI::App& app, daemon_config& cfg) {
  std::string group = "Webhooks";
  add_duration(app, "--event-retention", cfg.event_retention,
               "How long committed events stay in the log for the change "
               "feed and webhooks (0s: for ever); a cursor older answers 410")
      ->group("Events");
  app.add_option("--webhook-allow", cfg.webhook_allow,
                 "Hosts a webhook's URL may name, comma-separated (exact "
                 "names or IP addresses); no request goes anywhere else")
      ->capture_default_str()
      ->group(group);
  add_duration(app, "--webhook-timeout", cfg.webhook_timeout,
               "Longest wait for a receiver's answer to one delivery")
      ->group(group);
  add_duration(app, "--webhook-retry-base", cfg.webhook_retry_base,
               "Wait after a delivery's first failure (doubled per failure, "
               "with jitter)")
      ->group(group);
  add_duration(app, "--webhook-retry-max", cfg.webhook_retry_max,
               "Longest wait between two tries of a delivery")
      ->group(group);
  app.add_option("--webhook-failures-max", cfg.webhook_failures_max,
                 "Failures in a row that pause a subscription")
      ->capture_default_str()
      ->check(CLI::Range(uint32_t{1}, uint32_t{10000}))
      ->group(group);
  add_duration(app, "--webhook-rotation-grace", cfg.webhook_rotation_grace,
               "How long a rotated-out secret still signs deliveries")
      ->group(group);
}

void add_security_flags(CLI::App& app, daemon_config& cfg) {
  std::string security_group = "Security";
  app.add_option("--admin-token", cfg.admin_token,
                 "Bearer token of the admin (else --admin-token-file, else "
                 "a token generated into DATA_DIR/admin.token)")
      ->envname("OMS_ADMIN_TOKEN")
      ->group(security_group);
  app.add_option("--admin-token-file", cfg.admin_token_file,
                 "File whose first line is the admin token")
      ->group(security_group);
  app.add_option("--rate-limit", cfg.rate_limit,
                 "Requests per second allowed per token (0: no limit)")
      ->capture_default_str()
      ->check(http::number_between(0, std::numeric_limits<double>::max()))
      ->group(security_group);
  app.add_option("--rate-burst", cfg.rate_burst,
                 "Requests a token may send at once (0: the rate, at least "
                 "1)")
      ->capture_default_str()
      ->check(http::number_between(0, std::numeric_limits<double>::max()))
      ->group(security_group);
}

} // namespace

parse_outcome parse_args(int argc, char** argv) {
  daemon_config cfg;
  CLI::App app{"omsd: the order management and inventory service (JSON over "
               "HTTP)",
               "omsd"};
  http::add_common_flags(app, "omsd 0.1.0",
                         "Read settings from this file (see "
                         "config/omsd.conf); flags override it");
  add_server_flags(app, cfg);
  add_connection_flags(app, cfg);
  std::string store_name = "sqlite";
  std::string check_name = "background";
  add_store_flags(app, cfg, store_name, check_name);
  add_order_flags(app, cfg);
  add_wms_flags(app, cfg);
  add_webhook_flags(app, cfg);
  config_detail::add_cluster_flags(app, cfg);
  add_security_flags(app, cfg);
  std::string level_name = "info";
  http::add_log_level_flag(app, level_name)->group("Logs");

  if (auto stop = http::parse_command_line(app, argc, argv, "omsd"))
    return parse_outcome{std::nullopt, stop->code, stop->output};
  cfg.store_check_background = check_name == "background";
  if (store_name == "postgres")
    cfg.store = store_kind::postgres;
  else if (store_name == "memory")
    cfg.store = store_kind::memory;
  else if (app.count("--store") == 0 && !cfg.postgres.empty())
    cfg.store = store_kind::postgres;
  if (auto why = config_detail::cluster_store(cfg, app.count("--store") > 0,
                                              store_name))
    return parse_outcome{std::nullopt, 2, *why};
  if (cfg.store == store_kind::postgres && cfg.postgres.empty())
    return parse_outcome{std::nullopt, 2,
                         "omsd: --store postgres needs --postgres "
                         "CONNECTION_STRING\n"};
  // The limits bound every total; refuse limits under which one can wrap.
  if (auto why = check_money_bounds(cfg.limits, cfg.cart_lines_max))
    return parse_outcome{std::nullopt, 2, "omsd: " + *why + "\n"};
  if (cfg.inbox_retention < std::chrono::hours(1))
    return parse_outcome{std::nullopt, 2,
                         "omsd: --inbox-retention must be at least 1h, longer "
                         "than any redelivery of an inbound event\n"};
  using std::chrono::hours;
  using std::chrono::milliseconds;
  using std::chrono::seconds;
  // Bounded so that no sum of them with the time overflows.
  constexpr auto day = hours(24);
  constexpr auto century = hours(24 * 36500);
  constexpr auto year = hours(24 * 365);
  // A reservation made for an order on another shard lapses
  // --cross-shard-grace after the hold TTL: longer than a creation may take
  // (the order's hold starts when every line is granted), so that it lapses
  // only once its order can no longer be confirmed.
  if (auto why = out_of_range({
          {"--customer-idle-timeout", cfg.customer_idle_timeout, seconds(1),
           day},
          {"--order-idle-timeout", cfg.order_idle_timeout, seconds(1), day,
           "off"},
          {"--event-retention", cfg.event_retention, seconds(1), century,
           "for ever"},
          {"--lease-ttl", cfg.lease_ttl, milliseconds(300), hours(1)},
          {"--cross-shard-grace", cfg.cross_shard_grace, cfg.request_timeout,
           day, nullptr, "--request-timeout"},
          {"--cross-shard-check", cfg.cross_shard_check, milliseconds(100),
           day},
          {"--commit-settle-wait", cfg.commit_settle_wait, milliseconds(100),
           hours(1)},
      }))
    return parse_outcome{std::nullopt, 2, *why};
  if (cfg.body_memory_max < cfg.limits.body_bytes_max)
    return parse_outcome{std::nullopt, 2,
                         "omsd: --max-body-memory must be at least "
                         "--max-body-bytes, or no body would fit\n"};
  if (cfg.idle_timeout.count() <= 0 || cfg.body_timeout.count() <= 0)
    return parse_outcome{std::nullopt, 2,
                         "omsd: --idle-timeout and --body-timeout must be "
                         "longer than 0\n"};
  if (cfg.webhook_timeout > year || cfg.webhook_retry_max > year ||
      cfg.webhook_rotation_grace > year)
    return parse_outcome{std::nullopt, 2,
                         "omsd: --webhook-timeout, --webhook-retry-max and "
                         "--webhook-rotation-grace must be at most 365d\n"};
  if (cfg.webhook_timeout.count() <= 0 || cfg.webhook_retry_base.count() <= 0 ||
      cfg.webhook_retry_max < cfg.webhook_retry_base)
    return parse_outcome{std::nullopt, 2,
                         "omsd: --webhook-timeout and --webhook-retry-base "
                         "must be longer than 0, --webhook-retry-max at least "
                         "--webhook-retry-base\n"};
  if (auto why = config_detail::check_cluster(cfg))
    return parse_outcome{std::nullopt, 2, *why};
  log::parse_level(level_name, cfg.log_level);
  if (auto* opt = app.get_config_ptr(); opt && opt->count() > 0)
    cfg.config_file = opt->as<std::string>();
  return parse_outcome{std::move(cfg), 0, {}};
}

} // namespace oms::daemon
