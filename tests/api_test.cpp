// The daemon's pieces that need no socket: flags and durations, tokens, the
// rate limit, the metrics text, timestamps and the WMS counters as clients
// see them, and the stock change routes driven in process over the real
// actors.
#include <doctest/doctest.h>

#include <chrono>
#include <future>
#include <string>
#include <tuple>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <nlohmann/json.hpp>

#include "messages/json.hpp"
#include "messages/wms_protocol.hpp"
#include "system/daemon/api.hpp"
#include "system/daemon/auth.hpp"
#include "system/daemon/cluster_node.hpp"
#include "system/daemon/config.hpp"
#include "system/daemon/metrics.hpp"
#include "system/order_system.hpp"
#include "system/simulated_gateway.hpp"
#include "system/store/memory_store.hpp"
#include "tests/fuzz/omsd_routes.hpp"

using namespace oms;
using namespace oms::daemon;
using namespace std::chrono_literals;

namespace {

parse_outcome parse(std::vector<std::string> args) {
  args.insert(args.begin(), "omsd");
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  return parse_args(static_cast<int>(argv.size()), argv.data());
}

} // namespace

TEST_CASE("durations take ms, s, m, h and d suffixes") {
  CHECK(parse_duration("500ms") == 500ms);
  CHECK(parse_duration("2s") == 2000ms);
  CHECK(parse_duration("15m") == 900'000ms);
  CHECK(parse_duration("24h") == 86'400'000ms);
  CHECK(parse_duration("1d") == 86'400'000ms);
  for (auto* bad : {"", "15", "m", "-1s", "1.5s", "15 m", "2w", "s2"})
    CHECK_MESSAGE(!parse_duration(bad), bad);
  CHECK(format_duration(900'000ms) == "15m");
  CHECK(format_duration(1500ms) == "1500ms");
}

TEST_CASE("omsd flags: the example from the docs just works") {
  auto res = parse({"--port", "8081", "--data-dir", "/tmp/x", "--admin-token",
                    "secret", "--hold-ttl", "2s"});
  REQUIRE(res.config);
  CHECK(res.config->port == 8081);
  CHECK(res.config->data_dir == "/tmp/x");
  CHECK(res.config->admin_token == "secret");
  CHECK(res.config->hold_ttl == 2000ms);
  CHECK(res.config->inbox_retention == std::chrono::hours(24 * 30));
  CHECK(res.config->customer_idle_timeout == std::chrono::hours(1));
  CHECK(res.config->store == store_kind::sqlite);
  auto quick = parse({"--customer-idle-timeout", "30s"});
  REQUIRE(quick.config);
  CHECK(quick.config->customer_idle_timeout == 30s);
  CHECK(res.config->order_idle_timeout == 1min);
  for (auto& valid :
       std::vector<std::pair<std::string, std::chrono::milliseconds>>{
           {"0s", 0ms}, {"1s", 1000ms}, {"1d", std::chrono::hours(24)}}) {
    auto idle = parse({"--order-idle-timeout", valid.first});
    REQUIRE_MESSAGE(idle.config, valid.first);
    CHECK(idle.config->order_idle_timeout == valid.second);
  }
  CHECK(res.config->listen == "127.0.0.1");
  CHECK(res.config->store_check_background);
  CHECK_FALSE(res.config->check_only);
  auto off = parse({"--store-check", "off", "--check"});
  REQUIRE(off.config);
  CHECK_FALSE(off.config->store_check_background);
  CHECK(off.config->check_only);
}

TEST_CASE("omsd flags: bad values are refused with exit code 2") {
  for (auto args : std::vector<std::vector<std::string>>{
           {"--port", "70000"},
           {"--hold-ttl", "soon"},
           {"--store", "mongo"},
           {"--store", "postgres"}, // no connection string
           {"--log-level", "loud"},
           {"--inbox-retention", "59m"}, // shorter than any redelivery
           {"--customer-idle-timeout", "500ms"},
           {"--customer-idle-timeout", "2d"},
           {"--order-idle-timeout", "500ms"},
           {"--order-idle-timeout", "2d"},
           {"--order-idle-timeout", "-1s"},
           // Not a number: CLI11's range check let it through (found with
           // tests/fuzz/omsd_config_fuzz.cpp), and it turned the limit off.
           {"--rate-limit", "nan"},
           {"--rate-burst", "nan"},
           {"--rate-limit", "-1"},
           {"--store-check", "sometimes"},
           {"--event-retention", "500ms"},
           // Past a century its nanoseconds wrap negative: everything but
           // the newest event would be pruned.
           {"--event-retention", "200000d"},
           {"--webhook-retry-max", "400d"},
           {"--webhook-rotation-grace", "400d"},
           {"--webhook-timeout", "0s"},
           {"--webhook-retry-base", "0s"},
           {"--webhook-retry-base", "20m"}, // longer than the default max
           {"--webhook-failures-max", "0"},
           {"--cluster", "host=127.0.0.1"}, // no node id
           {"--node-id", "n1"},             // no cluster
           {"--cluster-shards", "0"},
           {"--cluster-shards", "65537"},
           {"--lease-ttl", "200ms"},
           {"--lease-ttl", "2h"},
           {"--cross-shard-grace", "25h"},
           {"--cross-shard-grace", "5s"}, // below the request timeout
           {"--cross-shard-check", "50ms"},
           {"--cross-shard-check", "25h"},
           {"--commit-settle-wait", "50ms"},
           {"--commit-settle-wait", "2h"},
           {"--cluster-schema", "oms-cluster"},
           {"--cluster-schema", ""},
           {"--cluster-schema", std::string(64, 's')}, // PostgreSQL keeps 63
           {"--cluster-listen", "127.0.0.1:7001"},     // no cluster
           {"--cluster", "host=127.0.0.1", "--node-id", "n1",
            "--cluster-advertise", "127.0.0.1:7002"}, // no listen
           {"--cluster", "host=127.0.0.1", "--node-id", "n1",
            "--cluster-listen", "127.0.0.1:7001", "--cluster-advertise",
            "0.0.0.0:7002"}, // a wildcard
           {"--no-such-flag"}}) {
    auto res = parse(args);
    CHECK_MESSAGE(!res.config, args[0]);
    CHECK(res.exit_code == 2);
    CHECK(!res.output.empty());
  }
  auto help = parse({"--help"});
  CHECK(!help.config);
  CHECK(help.exit_code == 0);
  CHECK(help.output.find("--hold-ttl") != std::string::npos);
}

TEST_CASE("omsd flags: a connection string selects PostgreSQL") {
  auto res = parse({"--postgres", "host=127.0.0.1 dbname=oms"});
  REQUIRE(res.config);
  CHECK(res.config->store == store_kind::postgres);
  auto mem = parse({"--store", "memory"});
  REQUIRE(mem.config);
  CHECK(mem.config->store == store_kind::memory);
}

TEST_CASE("the shipped config file parses and matches the defaults") {
  auto res = parse({"--config", OMS_SOURCE_DIR "/config/omsd.conf"});
  REQUIRE_MESSAGE(res.config, res.output);
  daemon_config defaults;
  CHECK(res.config->port == defaults.port);
  CHECK(res.config->hold_ttl == defaults.hold_ttl);
  CHECK(res.config->idempotency_window == defaults.idempotency_window);
  CHECK(res.config->inbox_retention == defaults.inbox_retention);
  CHECK(res.config->customer_idle_timeout == defaults.customer_idle_timeout);
  CHECK(res.config->limits.body_bytes_max == defaults.limits.body_bytes_max);
  CHECK(res.config->limits.json_depth_max == defaults.limits.json_depth_max);
  CHECK(res.config->limits.lines_per_order_max ==
        defaults.limits.lines_per_order_max);
  CHECK(res.config->limits.line_quantity_max ==
        defaults.limits.line_quantity_max);
  CHECK(res.config->limits.unit_price_max == defaults.limits.unit_price_max);
  CHECK(res.config->cart_lines_max == defaults.cart_lines_max);
  CHECK(res.config->request_timeout == defaults.request_timeout);
  CHECK(res.config->rate_limit == defaults.rate_limit);
  CHECK(res.config->store_check_background == defaults.store_check_background);
  CHECK(res.config->event_retention == defaults.event_retention);
  CHECK(res.config->webhook_allow == defaults.webhook_allow);
  CHECK(res.config->webhook_timeout == defaults.webhook_timeout);
  CHECK(res.config->webhook_retry_base == defaults.webhook_retry_base);
  CHECK(res.config->webhook_retry_max == defaults.webhook_retry_max);
  CHECK(res.config->webhook_failures_max == defaults.webhook_failures_max);
  CHECK(res.config->webhook_rotation_grace == defaults.webhook_rotation_grace);
  CHECK(res.config->actor_scheduler == defaults.actor_scheduler);
  CHECK(defaults.actor_scheduler == "stealing");
  CHECK(res.config->cluster.empty());
  CHECK(res.config->node_id.empty());
  CHECK(res.config->cluster_schema == defaults.cluster_schema);
  CHECK(res.config->cluster_shards == defaults.cluster_shards);
  CHECK(res.config->lease_ttl == defaults.lease_ttl);
  CHECK(defaults.cluster_shards == 256);
  CHECK(defaults.lease_ttl == 3'000ms);
  // Flags override the file.
  auto over = parse(
      {"--config", OMS_SOURCE_DIR "/config/omsd.conf", "--hold-ttl", "30s"});
  REQUIRE(over.config);
  CHECK(over.config->hold_ttl == 30'000ms);
}

TEST_CASE("config: a cluster node has a plain id, and --cluster and "
          "--node-id go together") {
  auto ok = parse({"--cluster", "host=127.0.0.1 dbname=oms", "--node-id",
                   "eu-1.a_b", "--cluster-shards", "16", "--lease-ttl", "1s",
                   "--commit-settle-wait", "5s"});
  REQUIRE_MESSAGE(ok.config, ok.output);
  CHECK(ok.config->commit_settle_wait == 5'000ms);
  CHECK(ok.config->cluster == "host=127.0.0.1 dbname=oms");
  CHECK(ok.config->node_id == "eu-1.a_b");
  CHECK(ok.config->cluster_shards == 16);
  CHECK(ok.config->lease_ttl == 1'000ms);
  for (const std::string& bad : std::vector<std::string>{
           "", "n 1", "n/1", "\xc3\xa9", std::string(65, 'n'), "n1\n"}) {
    auto res = parse({"--cluster", "host=127.0.0.1", "--node-id", bad});
    CHECK_MESSAGE(!res.config, bad);
  }
  CHECK(
      parse({"--cluster", "host=127.0.0.1", "--node-id", std::string(64, 'n')})
          .config);
  for (std::string good : {"127.0.0.1:7001", "10.0.0.5:1", "[::1]:65535"}) {
    auto res = parse({"--cluster", "host=127.0.0.1", "--node-id", "n1",
                      "--cluster-listen", good});
    REQUIRE_MESSAGE(res.config, good);
    CHECK(res.config->cluster_listen == good);
  }
  auto behind = parse({"--cluster", "host=127.0.0.1", "--node-id", "n1",
                       "--cluster-listen", "127.0.0.1:7001",
                       "--cluster-advertise", "127.0.0.1:7101"});
  REQUIRE_MESSAGE(behind.config, behind.output);
  CHECK(behind.config->cluster_advertise == "127.0.0.1:7101");
  // A name, no port, port 0 or past 65535, a wildcard (the other nodes
  // dial the address), IPv6 without brackets, junk.
  for (std::string bad :
       {"localhost:7001", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536",
        "0.0.0.0:7001", "[::]:7001", "::1:7001", "127.0.0.1:7a",
        "127.0.0.1:", ":7001", "127.0.0.1:0000070001", "127.0.0.1 :7001"})
    CHECK_MESSAGE(!parse({"--cluster", "host=127.0.0.1", "--node-id", "n1",
                          "--cluster-listen", bad})
                       .config,
                  bad);
  auto schema63 = parse({"--cluster", "host=127.0.0.1", "--node-id", "n1",
                         "--cluster-schema", std::string(63, 's')});
  CHECK(schema63.config);
}

TEST_CASE("config: the actors' scheduler is sharing or stealing, nothing "
          "else") {
  auto share = parse({"--actor-scheduler", "sharing"});
  REQUIRE(share.config);
  CHECK(share.config->actor_scheduler == "sharing");
  for (auto bad : {"", "testing", "Stealing", "sharing\n"})
    CHECK_MESSAGE(!parse({"--actor-scheduler", bad}).config, bad);
}

TEST_CASE("config: omsd's request limits and timeout default to the order "
          "system's") {
  // One default each: what omsd runs with unless told otherwise is what an
  // order system started without omsd runs with.
  daemon_config omsd;
  settings actors;
  CHECK(omsd.request_timeout == actors.request_timeout);
  CHECK(omsd.request_timeout == 10'000ms);
  CHECK(omsd.limits.lines_per_order_max == actors.limits.lines_per_order_max);
  CHECK(omsd.limits.line_quantity_max == actors.limits.line_quantity_max);
  CHECK(omsd.limits.unit_price_max == actors.limits.unit_price_max);
  CHECK(omsd.cart_lines_max == actors.cart_lines_max);
  CHECK(omsd.limits.body_bytes_max == actors.limits.body_bytes_max);
  CHECK(omsd.limits.json_depth_max == actors.limits.json_depth_max);
  auto res =
      parse({"--max-lines", "7", "--max-quantity", "9", "--max-body-bytes",
             "2048", "--max-json-depth", "4", "--request-timeout", "3s"});
  REQUIRE(res.config);
  CHECK(res.config->limits.lines_per_order_max == 7);
  CHECK(res.config->limits.line_quantity_max == 9);
  CHECK(res.config->limits.body_bytes_max == 2048);
  CHECK(res.config->limits.json_depth_max == 4);
  CHECK(res.config->request_timeout == 3000ms);
}

TEST_CASE("money: omsd refuses limits under which a total could overflow, "
          "naming the three settings") {
  // Proves the startup check of the bound max-lines x max-quantity x
  // max-unit-price (and the cart's): each flag alone is within its range,
  // together they are refused with exit code 2 before anything runs.
  struct refused_case {
    std::vector<std::string> args;
    const char* lines_flag;
  };
  for (auto& bad : std::vector<refused_case>{
           // The report: 100 x 10^9 x 10^10.
           {{"--max-quantity", "1000000000"}, "--max-lines 100"},
           {{"--max-lines", "1000"}, "--max-lines 1000"},
           {{"--max-unit-price", "9223372036854775807"}, "--max-lines 100"},
           // Orders fit (1 line), carts do not (10000 lines).
           {{"--max-lines", "1", "--max-quantity", "1000000000",
             "--max-unit-price", "9000000", "--cart-lines-max", "10000"},
            "--cart-lines-max 10000"}}) {
    auto res = parse(bad.args);
    INFO(bad.args[0] << " " << bad.args[1] << " -> " << res.output);
    CHECK_FALSE(res.config);
    CHECK(res.exit_code == 2);
    CHECK(res.output.find(bad.lines_flag) != std::string::npos);
    CHECK(res.output.find("--max-quantity") != std::string::npos);
    CHECK(res.output.find("--max-unit-price") != std::string::npos);
    CHECK(res.output.find("does not fit") != std::string::npos);
  }
  // Out of the flag's own range.
  for (auto* price : {"0", "-1", "9223372036854775808", "ten"}) {
    auto res = parse({"--max-unit-price", price});
    CHECK_MESSAGE(!res.config, price);
    CHECK(res.exit_code == 2);
  }
  // Raising one limit and lowering another to fit is accepted.
  auto fits =
      parse({"--max-quantity", "1000000000", "--max-unit-price", "9000000"});
  REQUIRE_MESSAGE(fits.config, fits.output);
  CHECK(fits.config->limits.line_quantity_max == 1'000'000'000);
  CHECK(fits.config->limits.unit_price_max == 9'000'000);
  auto defaults = parse({});
  REQUIRE(defaults.config);
  CHECK(defaults.config->limits.unit_price_max == unit_price_max_default);
}

TEST_CASE("money: an order system started in process refuses limits under "
          "which a total could overflow") {
  // Proves the same check guards order_system for callers without omsd:
  // startup_error names the settings, and nothing is loaded or started.
  caf::actor_system_config cfg;
  register_types(cfg);
  cfg.set("logger.console-verbosity", caf::atom("quiet"));
  caf::actor_system sys{cfg};
  settings s;
  s.limits.line_quantity_max = 1'000'000'000;
  try {
    order_system oms{sys, s, std::make_shared<memory_store>(),
                     std::make_shared<simulated_gateway>()};
    FAIL("order_system started with limits that let totals overflow");
  } catch (const startup_error& e) {
    std::string what = e.what();
    CHECK(what.find("--max-lines 100") != std::string::npos);
    CHECK(what.find("--max-quantity 1000000000") != std::string::npos);
    CHECK(what.find("--max-unit-price 10000000000") != std::string::npos);
  }
  s.cart_lines_max = 0;
  s.limits = request_limits{};
  CHECK_THROWS_AS(order_system(sys, s, std::make_shared<memory_store>(),
                               std::make_shared<simulated_gateway>()),
                  startup_error);
}

TEST_CASE("tokens: admin, customers by hash, unknown") {
  token_registry reg{"the-admin-token"};
  auto token = new_token();
  CHECK(token.rfind("oms_", 0) == 0);
  CHECK(token.size() == 4 + 26 + 26);
  CHECK(new_token() != token);
  reg.add(customer_record{"cus_1", "Ann", sha256_hex(token), 1});
  auto admin = reg.authenticate("the-admin-token");
  REQUIRE(admin);
  CHECK(admin->admin);
  auto cust = reg.authenticate(token);
  REQUIRE(cust);
  CHECK(!cust->admin);
  CHECK(cust->customer == "cus_1");
  CHECK(cust->key.find(token) == std::string::npos);
  CHECK(!reg.authenticate(""));
  CHECK(!reg.authenticate("the-admin-tokeN"));
  CHECK(!reg.authenticate(sha256_hex(token))); // the hash is not a token
  CHECK(reg.find("cus_1"));
  CHECK(!reg.find("cus_2"));
  CHECK(sha256_hex("abc") ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("tokens: the bearer token of an Authorization header, the word "
          "Bearer in any case, nothing else is one") {
  CHECK(bearer_token("Bearer abc") == std::optional<std::string_view>{"abc"});
  CHECK(bearer_token("bEARER abc") == std::optional<std::string_view>{"abc"});
  for (auto* bad : {"", "Bearer", "Bearer ", "Bearerabc", "Basic abc", "abc",
                    " Bearer abc"})
    CHECK_MESSAGE(!bearer_token(bad), bad);
}

TEST_CASE("rate limit: a burst, then one per 1/rate seconds, per key") {
  rate_limiter off{0, 0};
  CHECK(!off.enabled());
  auto t = rate_limiter::clock::now();
  rate_limiter lim{2, 3};
  CHECK(lim.acquire("a", t) == 0);
  CHECK(lim.acquire("a", t) == 0);
  CHECK(lim.acquire("a", t) == 0);
  CHECK(lim.acquire("a", t) == 1); // retry after 1 s (0.5 s rounded up)
  CHECK(lim.acquire("b", t) == 0); // its own bucket
  CHECK(lim.acquire("a", t + 500ms) == 0);
  CHECK(lim.acquire("a", t + 500ms) >= 1);
  CHECK(lim.acquire("a", t + 10s) == 0);
}

TEST_CASE("rate limit: a wait too long to count in seconds is answered as a "
          "day") {
  // Proves what a review of the fuzzed settings found: at --rate-limit
  // 1e-300 the wait (1e300 s) was converted to an integer, which is
  // undefined (in practice "retry in 1 s").
  auto t = rate_limiter::clock::now();
  rate_limiter lim{1e-300, 0};
  CHECK(lim.acquire("a", t) == 0);
  CHECK(lim.acquire("a", t) == 86'400);
}

TEST_CASE("metrics: requests, histograms and journal figures in Prometheus "
          "text") {
  metrics m;
  m.observe("/v1/orders", "POST", 201, 0.002);
  m.observe("/v1/orders", "POST", 201, 0.2);
  m.observe("/v1/orders", "POST", 409, 0.001);
  journal_stats js;
  js.events = 10;
  js.batches = 2;
  js.batch_sizes.assign(std::size(journal_batch_bounds) + 1, 0);
  js.batch_sizes[3] = 2; // two commits of 5..8 events
  js.commit_us.assign(std::size(journal_commit_us_bounds) + 1, 0);
  js.commit_us[3] = 2;
  js.commit_us_sum = 1500;
  js.open_orders = {4, 1, 0, 0, 0, 0};
  js.entered = {5, 1, 0, 0, 0, 1};
  js.unapplied = 12;
  js.applies = 3;
  js.units_reserved = 17;
  js.units_blocked = 5;
  metrics::process_view pv{true, 7, 0};
  pv.actors = 42;
  auto text = m.render(&js, pv);
  auto has = [&](const std::string& line) {
    return text.find(line + "\n") != std::string::npos;
  };
  CHECK(has("oms_http_requests_total{route=\"/v1/orders\",method=\"POST\","
            "status=\"201\"} 2"));
  CHECK(has("oms_http_requests_total{route=\"/v1/orders\",method=\"POST\","
            "status=\"409\"} 1"));
  CHECK(has("oms_http_request_duration_seconds_bucket{route=\"/v1/orders\","
            "method=\"POST\",le=\"0.0025\"} 2"));
  CHECK(has("oms_http_request_duration_seconds_bucket{route=\"/v1/orders\","
            "method=\"POST\",le=\"+Inf\"} 3"));
  CHECK(has("oms_orders_open{status=\"CREATED\"} 4"));
  CHECK(text.find("oms_orders_open{status=\"CANCELLED\"}") ==
        std::string::npos);
  CHECK(has("oms_orders_holding_stock{kind=\"reserved\"} 4"));
  CHECK(has("oms_orders_holding_stock{kind=\"blocked\"} 1"));
  CHECK(has("oms_units_held{kind=\"reserved\"} 17"));
  CHECK(has("oms_units_held{kind=\"blocked\"} 5"));
  CHECK(has("oms_journal_batch_events_bucket{le=\"4\"} 0"));
  CHECK(has("oms_journal_batch_events_bucket{le=\"8\"} 2"));
  CHECK(has("oms_journal_batch_events_count 2"));
  CHECK(has("oms_journal_commit_seconds_bucket{le=\"0.001\"} 2"));
  CHECK(has("oms_journal_unapplied_events 12"));
  CHECK(has("oms_journal_applies_total 3"));
  CHECK(has("oms_customers 7"));
  CHECK(has("oms_actors_running 42"));
  CHECK(has("oms_ready 1"));
}

TEST_CASE("timestamps: RFC 3339 in UTC parses to milliseconds, anything "
          "else is refused") {
  timestamp_ms at = 0;
  REQUIRE(parse_timestamp("2027-01-15T08:00:00Z", at));
  CHECK(at == 1'800'000'000'000);
  REQUIRE(parse_timestamp("2027-01-15T08:00:00.5Z", at));
  CHECK(at == 1'800'000'000'500);
  REQUIRE(parse_timestamp("2027-01-15T08:00:00.123456789+00:00", at));
  CHECK(at == 1'800'000'000'123);
  REQUIRE(parse_timestamp("1970-01-01T00:00:00Z", at));
  CHECK(at == 0);
  REQUIRE(parse_timestamp("2028-02-29T23:59:59Z", at)); // a leap day
  CHECK(format_timestamp(at) == "2028-02-29T23:59:59.000Z");
  // What format_timestamp writes reads back.
  REQUIRE(parse_timestamp(format_timestamp(1'800'000'000'123), at));
  CHECK(at == 1'800'000'000'123);
  for (auto* bad :
       {"", "2027-01-15", "2027-01-15T08:00:00", "2027-01-15 08:00:00Z",
        "2027-01-15T08:00:00+05:30", "2027-01-15T08:00:00-00:00",
        "2027-13-01T00:00:00Z", "2027-02-29T00:00:00Z", "2027-04-31T00:00:00Z",
        "2027-01-15T24:00:00Z", "2027-01-15T08:60:00Z", "2027-01-15T08:00:60Z",
        "2027-01-15T08:00:00.Z", "2027-01-15T08:00:00.1234567890Z",
        "1969-12-31T23:59:59Z", "+2027-01-15T08:00:00Z", "2027-1-15T08:00:00Z",
        "2027-01-15T08:00:00ZZ", "tomorrow"})
    CHECK_MESSAGE(!parse_timestamp(bad, at), bad);
}

TEST_CASE("the WMS gateway's counters render with camelCase names and the "
          "breaker as a word") {
  wms_gateway_stats ws;
  ws.calls_accepted = 10;
  ws.calls_sent = 12;
  ws.answered_2xx = 9;
  ws.answered_429 = 2;
  ws.transport_errors = 1;
  ws.retries = 2;
  ws.coalesced = 3;
  ws.rejected_breaker_open = 4;
  ws.failed_deadline = 5;
  ws.breaker = wms_breaker_state::half_open;
  ws.queue_depth = 6;
  ws.queue_depth_max = 7;
  ws.sent_in_window_max = 8;
  nlohmann::json j = ws;
  CHECK(j["callsAccepted"] == 10);
  CHECK(j["callsSent"] == 12);
  CHECK(j["answered2xx"] == 9);
  CHECK(j["answered429"] == 2);
  CHECK(j["answered4xx"] == 0);
  CHECK(j["transportErrors"] == 1);
  CHECK(j["retries"] == 2);
  CHECK(j["coalesced"] == 3);
  CHECK(j["rejectedBreakerOpen"] == 4);
  CHECK(j["failedDeadline"] == 5);
  CHECK(j["breaker"] == "HALF_OPEN");
  CHECK(j["queueDepth"] == 6);
  CHECK(j["queueDepthMax"] == 7);
  CHECK(j["sentInWindowMax"] == 8);
  CHECK(j.size() == 21); // every counter of the struct, nothing else
  ws.breaker = wms_breaker_state::open;
  CHECK(nlohmann::json(ws)["breaker"] == "OPEN");
  ws.breaker = wms_breaker_state::closed;
  CHECK(nlohmann::json(ws)["breaker"] == "CLOSED");
}

TEST_CASE("metrics: the WMS gateway's counters appear only with a gateway") {
  metrics m;
  wms_gateway_stats ws;
  ws.calls_accepted = 10;
  ws.calls_sent = 12;
  ws.answered_2xx = 9;
  ws.answered_5xx = 3;
  ws.retries = 2;
  ws.coalesced = 1;
  ws.rejected_queue_full = 4;
  ws.breaker = wms_breaker_state::open;
  ws.queue_depth = 5;
  ws.sent_in_window_max = 20;
  auto text = m.render(nullptr, {true, 0, 0}, &ws);
  auto has = [&](const std::string& line) {
    return text.find(line + "\n") != std::string::npos;
  };
  CHECK(has("oms_wms_calls_total 10"));
  CHECK(has("oms_wms_sends_total 12"));
  CHECK(has("oms_wms_answers_total{class=\"2xx\"} 9"));
  CHECK(has("oms_wms_answers_total{class=\"5xx\"} 3"));
  CHECK(has("oms_wms_answers_total{class=\"429\"} 0"));
  CHECK(has("oms_wms_retries_total 2"));
  CHECK(has("oms_wms_coalesced_total 1"));
  CHECK(has("oms_wms_rejected_total{reason=\"queue_full\"} 4"));
  CHECK(has("oms_wms_breaker_state 1"));
  CHECK(has("oms_wms_queue_depth 5"));
  CHECK(has("oms_wms_sends_per_window_max 20"));
  CHECK(has("# TYPE oms_wms_breaker_state gauge"));
  ws.breaker = wms_breaker_state::half_open;
  CHECK(
      m.render(nullptr, {true, 0, 0}, &ws).find("oms_wms_breaker_state 2\n") !=
      std::string::npos);
  CHECK(m.render(nullptr, {true, 0, 0}).find("oms_wms_") == std::string::npos);
}

namespace {

// The API over the real actors on a memory store, without HTTP: a request
// in, its answer out.
struct api_fixture {
  static caf::actor_system_config& init(caf::actor_system_config& cfg) {
    cfg.set("scheduler.max-threads", 2);
    cfg.set("logger.console-verbosity", caf::atom("quiet"));
    register_types(cfg);
    return cfg;
  }

  static constexpr const char* admin_token = "api-test-admin-token";

  caf::actor_system_config cfg;
  caf::actor_system sys;
  std::shared_ptr<memory_store> store = std::make_shared<memory_store>();
  order_system oms_;
  token_registry tokens{admin_token};
  metrics stats;
  api front;

  explicit api_fixture(settings s = settings{})
      : sys(init(cfg)),
        oms_(sys, s, store, std::make_shared<simulated_gateway>()),
        front(sys, oms_, tokens, stats, api_options{}) {}

  http_response call(const std::string& method, const std::string& path,
                     const std::string& body = {},
                     const std::string& token = admin_token) {
    http_request req;
    req.method = method;
    // As omsd takes them from the request line: the query apart, raw.
    auto q = path.find('?');
    req.path = path.substr(0, q);
    if (q != std::string::npos)
      req.query = path.substr(q + 1);
    if (!token.empty())
      req.authorization = "Bearer " + token;
    req.body = body;
    std::promise<http_response> answer;
    auto done = answer.get_future();
    front.handle(std::move(req), [&answer](http_response r) {
      answer.set_value(std::move(r));
    });
    REQUIRE(done.wait_for(std::chrono::seconds(20)) ==
            std::future_status::ready);
    return done.get();
  }

  /// An address every order of these tests ships to.
  static nlohmann::json ship_to() {
    return {{"line1", "1 Main St"},
            {"city", "Springfield"},
            {"postalCode", "12345"},
            {"country", "US"}};
  }

  nlohmann::json post(const std::string& path, const nlohmann::json& body,
                      int status) {
    auto r = call("POST", path, body.dump());
    INFO(path << " " << body.dump() << " -> " << r.body);
    CHECK(r.status == status);
    return nlohmann::json::parse(r.body);
  }
};

} // namespace

TEST_CASE_FIXTURE(api_fixture, "stock change routes: a new SKU's receipt "
                               "answers 201, a replayed event DUPLICATE") {
  // Proves the /changes status choice and the INBOX behind the route.
  nlohmann::json grn{{"kind", "RECEIPT"},
                     {"quantity", 4},
                     {"unitPrice", 250},
                     {"lot", "A1"},
                     {"eventId", "grn:1"}};
  auto first = post("/v1/inventory/NUT-1/changes", grn, 201);
  CHECK(first["outcome"] == "APPLIED");
  CHECK(first["stock"]["batches"][0]["lot"] == "A1");
  auto again = post("/v1/inventory/NUT-1/changes", grn, 200);
  CHECK(again["outcome"] == "DUPLICATE");
  CHECK(again["stock"]["onHand"] == 4);
  auto more = post("/v1/inventory/NUT-1/changes",
                   {{"kind", "RECEIPT"}, {"quantity", 1}, {"lot", "A1"}}, 200);
  CHECK(more["outcome"] == "APPLIED");
  CHECK(more["eventId"].is_null());
  CHECK(more["stock"]["receivedTotal"] == 5);
  // The receipts route keeps its StockView and adds the outcome.
  auto receipt = post("/v1/inventory/NUT-1/receipts",
                      {{"quantity", 2}, {"lot", "A1"}}, 200);
  CHECK(receipt["onHand"] == 7);
  CHECK(receipt["outcome"] == "APPLIED");
  CHECK_FALSE(receipt.contains("eventId"));
  auto ext = call("POST", "/v1/inventory/NUT-1/receipts",
                  R"({"quantity": 1, "seller": "EXTERNAL", "lot": "X"})");
  CHECK(ext.status == 409);
  CHECK(ext.body.find("EXTERNAL_INVENTORY_READ_ONLY") != std::string::npos);
}

TEST_CASE_FIXTURE(api_fixture, "stock change routes: bad bodies name the "
                               "field and change nothing") {
  // Proves the schema checks run before the actors see the change.
  post("/v1/inventory/NUT-2/receipts", {{"quantity", 3}, {"unitPrice", 100}},
       200);
  struct bad_case {
    const char* body;
    const char* field;
  };
  for (
      auto bad : std::vector<bad_case>{
          {R"({"kind":"RECEIPT","quantity":1,"extra":1})", "extra"},
          {R"({"kind":"SET_ASIDE","quantity":1,"reason":"EXPIRED"})", "reason"},
          {R"({"kind":"SET_ASIDE","quantity":-2,"reason":"DAMAGED"})",
           "quantity"},
          {R"({"kind":"ADJUSTMENT","quantity":0})", "quantity"},
          {R"({"kind":"ADJUSTMENT","quantity":1.5})", "quantity"},
          {R"({"kind":"RECEIPT","quantity":1,"expiresAt":"2001-01-01T00:00:00Z"})",
           "expiresAt"},
          {R"({"kind":"RECEIPT","quantity":1,"expiresAt":12345})", "expiresAt"},
          {R"({"kind":"RECEIPT","quantity":1,"eventId":"x y"})", "eventId"},
          {R"({"kind":"RECEIPT","quantity":1,"lot":"x/y"})", "lot"},
          {R"({"kind":"RETURN_ASIDE","quantity":1,"reason":"DAMAGED","expiresAt":"2099-01-01T00:00:00Z"})",
           "expiresAt"},
          {R"({"kind":"receipt","quantity":1})", "kind"},
          {R"({"kind":"RECEIPT","quantity":1,"note":7})", "note"}}) {
    auto r = call("POST", "/v1/inventory/NUT-2/changes", bad.body);
    INFO(bad.body << " -> " << r.body);
    CHECK(r.status == 400);
    auto j = nlohmann::json::parse(r.body);
    CHECK(j["error"]["code"] == "VALIDATION_FAILED");
    CHECK(j["error"]["details"]["field"] == bad.field);
  }
  auto r = call("POST", "/v1/inventory/NUT-2/changes", "not json");
  CHECK(r.status == 400);
  auto now = nlohmann::json::parse(call("GET", "/v1/inventory/NUT-2").body);
  CHECK(now["onHand"] == 3);
  CHECK(now["unallocatable"] == 0);
  CHECK(now["adjustedTotal"] == 0);
}

TEST_CASE_FIXTURE(api_fixture, "GET /v1/wms without a gateway answers 503 "
                               "WMS_UNAVAILABLE, a customer gets 403") {
  auto r = call("GET", "/v1/wms");
  CHECK(r.status == 503);
  auto j = nlohmann::json::parse(r.body);
  CHECK(j["error"]["code"] == "WMS_UNAVAILABLE");
  CHECK(j["error"]["message"] == "no WMS configured");
  auto token = new_token();
  tokens.add(customer_record{"cus_api", "Api", sha256_hex(token), 1});
  CHECK(call("GET", "/v1/wms", {}, token).status == 403);
  CHECK(call("POST", "/v1/inventory/X-1/changes",
             R"({"kind":"RECEIPT","quantity":1,"unitPrice":5})", token)
            .status == 403);
  // The routes are listed with their admin marks.
  int found = 0;
  for (auto& route : api::routes())
    if (route.pattern == "/v1/wms" ||
        route.pattern == "/v1/inventory/{sku}/changes") {
      ++found;
      CHECK(route.admin);
      CHECK(route.authenticated);
    }
  CHECK(found == 2);
}

namespace {

// The API over an order system configured with tighter limits than the
// defaults: order ids of at most 40 characters, orders of at most 2 lines.
struct limited_api_fixture : api_fixture {
  static settings limited() {
    settings s;
    s.limits.id_length_max = 40;
    s.limits.lines_per_order_max = 2;
    return s;
  }

  limited_api_fixture() : api_fixture(limited()) {}
};

} // namespace

namespace {

// The API over an order system with a lower highest unit price and a higher
// largest quantity: a configuration that keeps totals in range another way.
struct priced_api_fixture : api_fixture {
  static settings priced() {
    settings s;
    s.limits.line_quantity_max = 1'000'000'000;
    s.limits.unit_price_max = 9'000'000;
    return s;
  }

  priced_api_fixture() : api_fixture(priced()) {}
};

} // namespace

TEST_CASE_FIXTURE(priced_api_fixture,
                  "money: api: unit prices are checked against the configured "
                  "highest price, quantities against the configured largest") {
  // Proves --max-unit-price reaches every route that sets a price, and
  // that the raised quantity it made room for is accepted.
  post("/v1/inventory/GOLD/receipts",
       {{"quantity", 1'000'000'000}, {"unitPrice", 9'000'000}}, 200);
  for (auto& [method, path, body] :
       std::vector<std::tuple<std::string, std::string, nlohmann::json>>{
           {"POST",
            "/v1/inventory/GOLD/receipts",
            {{"quantity", 1}, {"unitPrice", 9'000'001}}},
           {"POST",
            "/v1/inventory/SILVER/changes",
            {{"kind", "RECEIPT"}, {"quantity", 1}, {"unitPrice", 9'000'001}}},
           {"PATCH", "/v1/inventory/GOLD", {{"unitPrice", 9'000'001}}}}) {
    auto r = call(method, path, body.dump());
    const std::string request = method + " " + path + " -> " + r.body;
    INFO(request);
    CHECK(r.status == 400);
    auto j = nlohmann::json::parse(r.body);
    CHECK(j["error"]["code"] == "VALIDATION_FAILED");
    CHECK(j["error"]["details"]["field"] == "unitPrice");
  }
  auto gold = nlohmann::json::parse(call("GET", "/v1/inventory/GOLD").body);
  CHECK(gold["unitPrice"] == 9'000'000);
  CHECK(gold["onHand"] == 1'000'000'000);
  CHECK(call("GET", "/v1/inventory/SILVER").status == 404);
}

TEST_CASE_FIXTURE(limited_api_fixture,
                  "api: an order id is checked against the configured "
                  "limits, not the defaults") {
  // 50 characters: within the default limit (64), past the configured one.
  // The API refuses it itself (its answer names the id) instead of asking
  // the store, which answers an unknown id without details.
  auto id = "ord_" + std::string(46, 'x');
  for (auto* method : {"GET", "POST"}) {
    auto r = call(method, "/v1/orders/" + id +
                              (std::string{method} == "POST" ? "/cancel" : ""));
    INFO(method << " -> " << r.body);
    CHECK(r.status == 404);
    auto j = nlohmann::json::parse(r.body);
    CHECK(j["error"]["code"] == "ORDER_NOT_FOUND");
    CHECK(j["error"]["details"]["orderId"] == id);
  }
  // An id within the configured limit still reaches the store.
  auto known_length = call("GET", "/v1/orders/ord_" + std::string(30, 'x'));
  CHECK(known_length.status == 404);
  CHECK(nlohmann::json::parse(known_length.body)["error"]["details"] ==
        nlohmann::json::object());
}

TEST_CASE_FIXTURE(limited_api_fixture,
                  "api: the request limits are the order system's "
                  "configured ones") {
  // The API refuses a third line itself, naming the field, before any actor
  // is asked.
  auto cus = post("/v1/customers", {{"name", "Lim"}}, 201);
  nlohmann::json order = {{"customerId", cus["customerId"]},
                          {"items",
                           {{{"sku", "A"}, {"quantity", 1}},
                            {{"sku", "B"}, {"quantity", 1}},
                            {{"sku", "C"}, {"quantity", 1}}}},
                          {"address", ship_to()}};
  auto j = post("/v1/orders", order, 400);
  CHECK(j["error"]["message"] == "items: must have at most 2 lines");
  CHECK(j["error"]["details"]["field"] == "items");
}

TEST_CASE_FIXTURE(api_fixture, "readiness: a journal whose last commit failed "
                               "is NOT_READY until a commit succeeds, only "
                               "the admin sees the store's error") {
  // Proves /readyz and the gauges follow the JOURNAL's failing flag, and
  // that the error (which names the store) is not shown without a token.
  store->fail_commits(true);
  auto write = call("POST", "/v1/inventory/RDY-1/receipts",
                    R"({"quantity": 1, "unitPrice": 5})");
  CHECK(write.status == 503);
  CHECK(write.body.find("STORE_FAILURE") != std::string::npos);
  auto anon = call("GET", "/readyz", {}, "");
  CHECK(anon.status == 503);
  auto j = nlohmann::json::parse(anon.body);
  CHECK(j["error"]["code"] == "NOT_READY");
  CHECK(j["error"]["message"] == "the journal's last commit failed; writes "
                                 "answer STORE_FAILURE until one succeeds");
  CHECK(j["error"]["details"]["failingSince"].get<int64_t>() > 0);
  CHECK_FALSE(j["error"]["details"].contains("lastError"));
  auto admin = nlohmann::json::parse(call("GET", "/readyz").body);
  CHECK(admin["error"]["code"] == "NOT_READY");
  CHECK(admin["error"]["details"]["lastError"] == "injected commit failure");
  CHECK(admin["error"]["message"].get<std::string>().find(
            ": injected commit failure") != std::string::npos);
  auto text = call("GET", "/metrics", {}, "").body;
  CHECK(text.find("\noms_journal_failing 1\n") != std::string::npos);
  CHECK(text.find("\noms_ready 0\n") != std::string::npos);
  store->fail_commits(false);
  post("/v1/inventory/RDY-1/receipts", {{"quantity", 1}, {"unitPrice", 5}},
       200);
  auto ready = call("GET", "/readyz", {}, "");
  CHECK(ready.status == 200);
  CHECK(nlohmann::json::parse(ready.body)["status"] == "ready");
  text = call("GET", "/metrics", {}, "").body;
  CHECK(text.find("\noms_journal_failing 0\n") != std::string::npos);
  CHECK(text.find("\noms_ready 1\n") != std::string::npos);
}

namespace {

// The error of an answer: status, code, details.field ("(none)" without
// one) and message, as one line to compare.
std::string refusal(const http_response& r) {
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (!j.is_object() || !j.contains("error"))
    return std::to_string(r.status) + " not an error: " + r.body;
  auto& e = j["error"];
  return std::to_string(r.status) + " " + e["code"].get<std::string>() + " " +
         e["details"].value("field", std::string{"(none)"});
}

} // namespace

TEST_CASE_FIXTURE(api_fixture,
                  "api: a query name or value that is not UTF-8 answers 400 "
                  "naming the parameter and leaves no request in flight") {
  // Proves issue #16 item 6: GET /healthz?%ff=1 closed the connection with
  // no answer (the refusal naming the parameter could not be written as
  // JSON) and left the in-flight gauge one higher for good.
  struct bad_query {
    const char* target;
    const char* expected;
  };
  for (auto b : {
           bad_query{"/healthz?%ff=1", "400 VALIDATION_FAILED %FF"},
           bad_query{"/healthz?%C0%80", "400 VALIDATION_FAILED %C0%80"},
           bad_query{"/readyz?%ED%A0%80=x", "400 VALIDATION_FAILED %ED%A0%80"},
           bad_query{"/v1/inventory?seller=%FF",
                     "400 VALIDATION_FAILED seller"},
           bad_query{"/v1/inventory?limit=2&cursor=%F4%90%80%80",
                     "400 VALIDATION_FAILED cursor"},
           bad_query{"/v1/inventory/NUT-3?seller=EXTERN%C1%81L",
                     "400 VALIDATION_FAILED seller"},
       }) {
    auto r = call("GET", b.target, {}, b.target[1] == 'v' ? admin_token : "");
    INFO(b.target << " -> " << r.body);
    CHECK(refusal(r) == b.expected);
    CHECK(front.in_flight() == 0);
  }
  // A name in UTF-8 that is not allowed is refused by its name.
  auto named = call("GET", "/healthz?caf%C3%A9=1", {}, "");
  CHECK(refusal(named) == "400 VALIDATION_FAILED caf\xC3\xA9");
  CHECK(call("GET", "/healthz", {}, "").status == 200);
  CHECK(front.in_flight() == 0);
  // The refusals counted as answered requests.
  auto text = call("GET", "/metrics", {}, "").body;
  CHECK(text.find("oms_http_requests_total{route=\"/healthz\",method=\"GET\","
                  "status=\"400\"} 3") != std::string::npos);
}

TEST_CASE_FIXTURE(api_fixture,
                  "api: a path parameter that is not UTF-8 answers 400 naming "
                  "it, with no exception text, and changes nothing") {
  // Proves issue #16 item 6: a 0xFF byte in an order id answered 500 with
  // nlohmann's json.exception text in the body.
  auto cus = post("/v1/customers", {{"name", "Utf"}}, 201);
  auto cid = cus["customerId"].get<std::string>();
  post("/v1/inventory/NUT-4/receipts", {{"quantity", 3}, {"unitPrice", 100}},
       200);
  struct bad_path {
    const char* method;
    std::string path;
    const char* expected;
  };
  for (auto& b : std::vector<bad_path>{
           {"GET", "/v1/orders/\xFF", "400 VALIDATION_FAILED orderId"},
           {"GET", "/v1/orders/ord_\xED\xA0\x80",
            "400 VALIDATION_FAILED orderId"},
           {"POST", "/v1/orders/\xC0\x80/cancel",
            "400 VALIDATION_FAILED orderId"},
           {"PATCH", "/v1/orders/\xFF", "400 VALIDATION_FAILED orderId"},
           {"GET", "/v1/inventory/NUT\xFF", "400 VALIDATION_FAILED sku"},
           {"POST", "/v1/inventory/\xF5\x80\x80\x80/receipts",
            "400 VALIDATION_FAILED sku"},
           {"GET", "/v1/customers/\xFF", "400 VALIDATION_FAILED customerId"},
           {"PUT", "/v1/customers/" + cid + "/cart/items/NUT\xE2\x82",
            "400 VALIDATION_FAILED sku"}}) {
    auto r = call(b.method, b.path, R"({"quantity":1,"status":"CANCELLED"})");
    INFO(b.method << " " << b.path << " -> " << r.body);
    CHECK(refusal(r) == b.expected);
    CHECK(r.body.find("exception") == std::string::npos);
    auto e = nlohmann::json::parse(r.body)["error"];
    CHECK(e["message"] ==
          e["details"]["field"].get<std::string>() + ": must be valid UTF-8");
    CHECK(front.in_flight() == 0);
  }
  // Nothing changed: no stock received, the cart empty, no order.
  auto stock = nlohmann::json::parse(call("GET", "/v1/inventory/NUT-4").body);
  CHECK(stock["onHand"] == 3);
  CHECK(stock["receivedTotal"] == 3);
  auto cart =
      nlohmann::json::parse(call("GET", "/v1/customers/" + cid + "/cart").body);
  CHECK(cart["lines"].empty());
  // A path that fits no route is 404 as ever, its bytes shown as U+FFFD.
  auto nowhere = call("GET", "/v1/\xFF");
  CHECK(refusal(nowhere) == "404 NOT_FOUND (none)");
  CHECK(nlohmann::json::parse(nowhere.body)["error"]["message"] ==
        "no route /v1/\xEF\xBF\xBD");
}

TEST_CASE_FIXTURE(api_fixture,
                  "api: an exception while answering is answered 500 "
                  "INTERNAL with a fixed message, never its text, and the "
                  "request leaves the in-flight count") {
  // Proves the API's guard: the exception's text goes to the log, the
  // client gets a fixed message in the error shape, and the request is
  // counted out once. Here the first answer's writer throws, as a
  // connection's might; every answer of /healthz comes on this thread.
  http_request req;
  req.method = "GET";
  req.path = "/healthz";
  std::vector<http_response> answers;
  front.handle(req, [&answers](http_response r) {
    answers.push_back(r);
    if (answers.size() == 1)
      throw std::runtime_error("secret internal text");
  });
  REQUIRE(answers.size() == 2);
  CHECK(answers[0].status == 200);
  CHECK(answers[1].status == 500);
  CHECK(answers[1].body.find("secret") == std::string::npos);
  auto j = nlohmann::json::parse(answers[1].body);
  CHECK(j["error"]["code"] == "INTERNAL");
  CHECK(j["error"]["message"] == "internal error: the request failed inside "
                                 "omsd; its log has the details");
  CHECK(j["error"]["details"] == nlohmann::json::object());
  CHECK(front.in_flight() == 0);
  // When even that answer cannot go out, the request leaves the count.
  int calls = 0;
  front.handle(req, [&calls](http_response) {
    ++calls;
    throw std::runtime_error("the connection is gone");
  });
  CHECK(calls == 2);
  CHECK(front.in_flight() == 0);
}

TEST_CASE_FIXTURE(api_fixture,
                  "api: a body with a repeated key or a NUL byte is refused "
                  "naming the field, and nothing is received") {
  // Proves issue #16 item 8: {"quantity":1,"quantity":1000000} received
  // 1,000,000 units (the last key won), and text after a NUL byte was
  // ignored.
  using namespace std::string_literals;
  post("/v1/inventory/NUT-5/receipts", {{"quantity", 3}, {"unitPrice", 100}},
       200);
  struct bad_body {
    const char* method;
    std::string path;
    std::string body;
    const char* expected;
  };
  for (auto& b : std::vector<bad_body>{
           {"POST", "/v1/inventory/NUT-5/receipts",
            R"({"quantity":1,"quantity":1000000})",
            "400 VALIDATION_FAILED quantity"},
           {"POST", "/v1/inventory/NEW-5/receipts",
            R"({"quantity":1,"unitPrice":5,"unitPrice":1})",
            "400 VALIDATION_FAILED unitPrice"},
           {"POST", "/v1/inventory/NUT-5/changes",
            R"({"kind":"RECEIPT","quantity":2,"lot":"A","lot":"B"})",
            "400 VALIDATION_FAILED lot"},
           {"POST", "/v1/inventory/NUT-5/receipts",
            "{\"quantity\":1}\0{\"quantity\":1000000}"s,
            "400 VALIDATION_FAILED body"},
           {"POST", "/v1/inventory/NUT-5/receipts",
            "{\"quantity\":1,\"note\0\":2}"s, "400 VALIDATION_FAILED body"},
           {"PATCH", "/v1/inventory/NUT-5",
            R"({"unitPrice":200,"unitPrice":1})",
            "400 VALIDATION_FAILED unitPrice"},
           {"POST", "/v1/orders",
            R"({"customerId":"x","items":[{"sku":"NUT-5","quantity":1,)"
            R"("sku":"NEW-5"}],"address":{}})",
            "400 VALIDATION_FAILED items[0].sku"},
           {"POST", "/v1/orders", R"({"address":{"city":"A","city":"B"}})",
            "400 VALIDATION_FAILED address.city"}}) {
    auto r = call(b.method, b.path, b.body);
    INFO(b.method << " " << b.path << " " << nlohmann::json(b.body).dump()
                  << " -> " << r.body);
    CHECK(refusal(r) == b.expected);
  }
  auto dup = nlohmann::json::parse(call("POST", "/v1/inventory/NUT-5/receipts",
                                        R"({"quantity":1,"quantity":1})")
                                       .body);
  CHECK(dup["error"]["message"] == "quantity: is given more than once");
  auto nul = nlohmann::json::parse(
      call("POST", "/v1/inventory/NUT-5/receipts", "{\"quantity\":1}\0"s).body);
  CHECK(nul["error"]["message"] == "the body holds a NUL byte at offset 14");
  // Nothing changed.
  auto stock = nlohmann::json::parse(call("GET", "/v1/inventory/NUT-5").body);
  CHECK(stock["onHand"] == 3);
  CHECK(stock["receivedTotal"] == 3);
  CHECK(stock["unitPrice"] == 100);
  CHECK(call("GET", "/v1/inventory/NEW-5").status == 404);
  // The same keys in different objects are no repeat.
  post("/v1/inventory/NUT-5/changes",
       {{"kind", "RECEIPT"}, {"quantity", 2}, {"lot", "A"}}, 200);
  CHECK(nlohmann::json::parse(
            call("GET", "/v1/inventory/NUT-5").body)["onHand"] == 5);
}

TEST_CASE_FIXTURE(api_fixture,
                  "api: an order with an empty customerId is refused naming "
                  "the field, the actors' refusals name theirs") {
  // Proves issue #16 item 12: an empty customerId answered 404 NOT_FOUND,
  // and VALIDATION_FAILED from inside the actors had no details.field.
  post("/v1/inventory/NUT-6/receipts", {{"quantity", 5}, {"unitPrice", 100}},
       200);
  auto cus = post("/v1/customers", {{"name", "Empty"}}, 201);
  auto cid = cus["customerId"].get<std::string>();
  auto token = cus["token"].get<std::string>();
  auto home = ship_to();
  auto order = [&](const nlohmann::json& customer, nlohmann::json items,
                   nlohmann::json address) {
    nlohmann::json j{{"items", std::move(items)},
                     {"address", std::move(address)}};
    if (!customer.is_null())
      j["customerId"] = customer;
    return j.dump();
  };
  nlohmann::json one = {{{"sku", "NUT-6"}, {"quantity", 1}}};
  for (auto* who : {admin_token, token.c_str()}) {
    auto r = call("POST", "/v1/orders", order("", one, home), who);
    INFO(r.body);
    CHECK(refusal(r) == "400 VALIDATION_FAILED customerId");
    CHECK(nlohmann::json::parse(r.body)["error"]["message"] ==
          "customerId: must not be empty");
  }
  // Refused by the actors' checks: the field comes from inside.
  auto blank_city = home;
  blank_city["city"] = "\t";
  auto r = call("POST", "/v1/orders", order(cid, one, blank_city));
  CHECK(refusal(r) == "400 VALIDATION_FAILED address.city");
  CHECK(nlohmann::json::parse(r.body)["error"]["message"] ==
        "address.city contains a control character");
  auto two = nlohmann::json{{{"sku", "NUT-6"}, {"quantity", 1}},
                            {{"sku", "NUT-6"}, {"quantity", 2}}};
  r = call("POST", "/v1/orders", order(cid, two, home));
  CHECK(refusal(r) == "400 VALIDATION_FAILED items[1].sku");
  auto bad_sku = nlohmann::json{{{"sku", "NUT 6"}, {"quantity", 1}}};
  r = call("POST", "/v1/orders", order(cid, bad_sku, home));
  CHECK(refusal(r) == "400 VALIDATION_FAILED items[0].sku");
  r = call("GET", "/v1/customers/" + cid + "/orders?cursor=zz");
  CHECK(refusal(r) == "400 VALIDATION_FAILED cursor");
  r = call("DELETE", "/v1/customers/" + cid + "/cart/items/NUT-6");
  CHECK(refusal(r) == "400 VALIDATION_FAILED sku");
  r = call("POST", "/v1/inventory/NUT-6/changes",
           R"({"kind":"ADJUSTMENT","quantity":1,"lot":"NOPE"})");
  CHECK(refusal(r) == "400 VALIDATION_FAILED lot");
  r = call("POST", "/v1/inventory/NUT-6/changes",
           R"({"kind":"SET_ASIDE","quantity":1,"reason":"DAMAGED","lot":"Q"})");
  CHECK(refusal(r) == "400 VALIDATION_FAILED lot");
  // Nothing was reserved or ordered.
  auto stock = nlohmann::json::parse(call("GET", "/v1/inventory/NUT-6").body);
  CHECK(stock["available"] == 5);
  CHECK(stock["onHand"] == 5);
  auto orders = nlohmann::json::parse(
      call("GET", "/v1/customers/" + cid + "/orders").body);
  CHECK(orders["orders"].empty());
}

TEST_CASE_FIXTURE(api_fixture,
                  "api: a text field holding U+0000 (escaped in JSON) is "
                  "refused naming the field, and nothing changes") {
  // An order's record keeps its history's reasons, and PostgreSQL's JSON
  // functions (the order_history view) refuse a \u0000 in a text.
  post("/v1/inventory/NUL-1/receipts", {{"quantity", 5}, {"unitPrice", 100}},
       200);
  auto cus = post("/v1/customers", {{"name", "Nul"}}, 201);
  auto cid = cus["customerId"].get<std::string>();
  auto created = post("/v1/orders",
                      {{"customerId", cid},
                       {"items", {{{"sku", "NUL-1"}, {"quantity", 2}}}},
                       {"address", ship_to()}},
                      201);
  auto id = created["id"].get<std::string>();
  auto r = call("POST", "/v1/orders/" + id + "/cancel",
                R"({"reason":"changed my mind\u0000; DROP"})");
  INFO(r.body);
  CHECK(refusal(r) == "400 VALIDATION_FAILED reason");
  CHECK(nlohmann::json::parse(r.body)["error"]["message"] ==
        "reason: must not hold the character U+0000");
  r = call("POST", "/v1/customers", R"({"name":"a\u0000b"})");
  CHECK(refusal(r) == "400 VALIDATION_FAILED name");
  // Nothing changed: the order is still CREATED with its units held.
  auto order = nlohmann::json::parse(call("GET", "/v1/orders/" + id).body);
  CHECK(order["status"] == "CREATED");
  auto stock = nlohmann::json::parse(call("GET", "/v1/inventory/NUL-1").body);
  CHECK(stock["available"] == 3);
  // The same reason without it is taken.
  r = call("POST", "/v1/orders/" + id + "/cancel",
           R"({"reason":"changed my mind"})");
  CHECK(r.status == 200);
}

TEST_CASE_FIXTURE(api_fixture, "a request target not in origin form fits no "
                               "route: 404, not the route its tail names") {
  // Proves what tests/fuzz/http_route_fuzz.cpp found: "Xv1/inventory" was
  // routed as "/v1/inventory" (the first byte was dropped unseen).
  CHECK(call("GET", "/v1/inventory").status == 200);
  for (auto* target : {"Xv1/inventory", "v1/inventory", "*",
                       "http://127.0.0.1/v1/inventory"}) {
    auto r = call("GET", target);
    INFO(target << " -> " << r.body);
    CHECK(r.status == 404);
    CHECK(nlohmann::json::parse(r.body)["error"]["code"] == "NOT_FOUND");
  }
}

TEST_CASE("the fuzz targets' copy of the route table is the API's, row by "
          "row") {
  // tests/fuzz/http_route_fuzz.cpp matches paths against this copy (the
  // API's table needs the actors); a route added to one only fails here.
  auto routes = api::routes();
  REQUIRE(routes.size() == std::size(fuzz::omsd_routes));
  for (size_t i = 0; i < routes.size(); ++i) {
    INFO(routes[i].method << " " << routes[i].pattern);
    CHECK(routes[i].method == fuzz::omsd_routes[i].method);
    CHECK(routes[i].pattern == fuzz::omsd_routes[i].pattern);
  }
}

TEST_CASE("metrics: the webhooks' counters appear only when omsd runs them") {
  metrics m;
  metrics::process_view pv;
  pv.ready = true;
  CHECK(m.render(nullptr, pv).find("oms_webhook") == std::string::npos);
  webhook_counters w;
  w.delivered = 7;
  w.failed = 3;
  w.dead = 1;
  w.expired = 4;
  w.active = 2;
  w.paused = 1;
  w.lag_events = 12;
  w.oldest_undelivered_s = 1.5;
  pv.webhooks = w;
  auto text = m.render(nullptr, pv);
  auto has = [&](const std::string& line) {
    return text.find(line + "\n") != std::string::npos;
  };
  CHECK(has("oms_webhook_deliveries_total{outcome=\"delivered\"} 7"));
  CHECK(has("oms_webhook_deliveries_total{outcome=\"failed\"} 3"));
  CHECK(has("oms_webhook_deliveries_total{outcome=\"dead\"} 1"));
  CHECK(has("oms_webhook_events_expired_total 4"));
  CHECK(has("oms_webhooks{state=\"active\"} 2"));
  CHECK(has("oms_webhooks{state=\"paused\"} 1"));
  CHECK(has("oms_webhook_lag_events 12"));
  CHECK(has("oms_webhook_oldest_undelivered_seconds 1.500000"));
}

TEST_CASE("a forwarded request carries what decides its answer, and is "
          "marked so that it is never forwarded again") {
  http::request req;
  req.method = "POST";
  req.path = "/v1/orders";
  req.query = "x=1";
  req.authorization = "Bearer t";
  req.idempotency_key = "k-1";
  req.accept = "application/json";
  req.if_match = "\"3\"";
  req.body = R"({"a":1})";
  auto fr = daemon::to_forwarded("n2", req);
  CHECK(fr.from_node == "n2");
  auto back = daemon::from_forwarded(fr);
  CHECK(back.method == "POST");
  CHECK(back.path == "/v1/orders");
  CHECK(back.query == "x=1");
  CHECK(back.authorization == "Bearer t");
  CHECK(back.idempotency_key == "k-1");
  CHECK(back.if_match == "\"3\"");
  CHECK(back.body == R"({"a":1})");
  CHECK(back.has_body);
  CHECK(back.content_length == std::optional<uint64_t>{7});
  CHECK(back.forwarded_from == "n2");
  // Even a request that names no node is marked forwarded.
  fr.from_node.clear();
  CHECK_FALSE(daemon::from_forwarded(fr).forwarded_from.empty());
  http::response resp;
  resp.status = 421;
  resp.body = "{}";
  resp.headers.emplace_back("Retry-After", "1");
  auto answer = daemon::from_forwarded(daemon::to_forwarded(resp));
  CHECK(answer.status == 421);
  CHECK(answer.body == "{}");
  REQUIRE(answer.headers.size() == 1);
  CHECK(answer.headers[0].second == "1");
}
