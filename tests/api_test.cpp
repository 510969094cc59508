// The daemon's pieces that need no socket: flags and durations, tokens, the
// rate limit and the metrics text.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "system/daemon/auth.hpp"
#include "system/daemon/config.hpp"
#include "system/daemon/metrics.hpp"

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
  CHECK(res.config->store == store_kind::sqlite);
  CHECK(res.config->listen == "127.0.0.1");
}

TEST_CASE("omsd flags: bad values are refused with exit code 2") {
  for (auto args : std::vector<std::vector<std::string>>{
           {"--port", "70000"},
           {"--hold-ttl", "soon"},
           {"--store", "mongo"},
           {"--store", "postgres"}, // no connection string
           {"--log-level", "loud"},
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
  CHECK(res.config->max_body_bytes == defaults.max_body_bytes);
  CHECK(res.config->rate_limit == defaults.rate_limit);
  // Flags override the file.
  auto over = parse(
      {"--config", OMS_SOURCE_DIR "/config/omsd.conf", "--hold-ttl", "30s"});
  REQUIRE(over.config);
  CHECK(over.config->hold_ttl == 30'000ms);
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
  auto text = m.render(&js, {true, 7, 0});
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
  CHECK(has("oms_journal_batch_events_bucket{le=\"4\"} 0"));
  CHECK(has("oms_journal_batch_events_bucket{le=\"8\"} 2"));
  CHECK(has("oms_journal_batch_events_count 2"));
  CHECK(has("oms_journal_commit_seconds_bucket{le=\"0.001\"} 2"));
  CHECK(has("oms_customers 7"));
  CHECK(has("oms_ready 1"));
}
