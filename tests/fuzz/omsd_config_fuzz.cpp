// Fuzzes omsd's settings (system/daemon/config.hpp, parse_args): the first
// byte picks whether the rest is a config file ('a': --config FILE) or the
// command line's arguments, one per line ('b'). Whatever the bytes:
// parse_args returns (only CLI11's parse errors are expected, and it turns
// them into exit code 2 with a message); settings it accepts hold the
// bounds it promises (money bounds, retention, body memory, timeouts,
// threads, a rate limit that is a number), and each of their durations
// formats to a text that parses to the same.
#include <cmath>
#include <cstdlib>
#include <string>

#include "actors/validation.hpp"
#include "system/daemon/config.hpp"
#include "tests/fuzz/config_file.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {

using namespace oms;
using namespace oms::daemon;

void check_duration(std::chrono::milliseconds d) {
  FUZZ_CHECK(d.count() >= 0, "a duration is not negative");
  auto back = parse_duration(format_duration(d));
  FUZZ_CHECK(back && *back == d, "a duration formats to what parses back");
}

void check_config(const daemon_config& c) {
  FUZZ_CHECK(!check_money_bounds(c.limits, c.cart_lines_max),
             "every total of the limits fits in money");
  FUZZ_CHECK(c.inbox_retention >= std::chrono::hours(1),
             "inbound ids are kept at least an hour");
  FUZZ_CHECK(c.body_memory_max >= c.limits.body_bytes_max,
             "a body fits in the body memory");
  FUZZ_CHECK(c.idle_timeout.count() > 0 && c.body_timeout.count() > 0,
             "connections time out after some time");
  FUZZ_CHECK(c.io_threads >= 1 && c.io_threads <= 64 && c.actor_threads <= 256,
             "threads are within their ranges");
  FUZZ_CHECK(c.actor_scheduler == "sharing" || c.actor_scheduler == "stealing",
             "the actors' scheduler is one of the two");
  FUZZ_CHECK(c.limits.json_depth_max >= 2 && c.limits.json_depth_max <= 256,
             "the JSON depth is within its range");
  FUZZ_CHECK(c.store != store_kind::postgres || !c.postgres.empty(),
             "PostgreSQL comes with a connection string");
  FUZZ_CHECK(c.cluster.empty() == c.node_id.empty(),
             "a cluster node has an id, and only a cluster node");
  FUZZ_CHECK(c.node_id.size() <= 64 &&
                 c.node_id.find_first_not_of(
                     "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                     "0123456789._-") == std::string::npos,
             "a node id is plain");
  FUZZ_CHECK(!c.cluster_schema.empty() && c.cluster_schema.size() <= 63 &&
                 c.cluster_schema.find_first_not_of(
                     "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                     "0123456789_") == std::string::npos,
             "the cluster's schema is a plain name");
  FUZZ_CHECK(c.cluster_listen.empty() || !c.cluster.empty(),
             "only a cluster node listens for the others");
  FUZZ_CHECK(c.cluster_shards >= 1 && c.cluster_shards <= 65536 &&
                 c.lease_ttl >= std::chrono::milliseconds(300) &&
                 c.lease_ttl <= std::chrono::hours(1),
             "shards and the lease TTL are within their ranges");
  FUZZ_CHECK(std::isfinite(c.rate_limit) && c.rate_limit >= 0 &&
                 std::isfinite(c.rate_burst) && c.rate_burst >= 0,
             "the rate limit and burst are numbers, not negative");
  for (auto d :
       {c.request_timeout, c.drain_timeout, c.idle_timeout, c.body_timeout,
        c.hold_ttl, c.idempotency_window, c.inbox_retention, c.wms_timeout,
        c.wms_breaker_open, c.wms_call_deadline, c.external_batch_interval,
        c.external_snapshot_min_interval, c.external_feed_interval})
    check_duration(d);
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Settings come from the input alone.
  for (auto* name : {"OMS_POSTGRES", "OMS_ADMIN_TOKEN", "OMS_WMS_URL"})
    unsetenv(name);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  auto text = oms::fuzz::text_of(data + 1, size - 1);
  static oms::fuzz::config_file file{"omsd_config_fuzz"};
  parse_outcome out;
  if (oms::fuzz::pick(data[0], 2) == 0) {
    auto path = file.write(text);
    std::string flag = "--config";
    char program[] = "omsd";
    char* argv[] = {program, flag.data(), const_cast<char*>(path.c_str()),
                    nullptr};
    out = parse_args(3, argv);
  } else {
    oms::fuzz::arguments args{"omsd", text};
    out = parse_args(args.argc(), args.argv());
  }
  if (out.config) {
    FUZZ_CHECK(out.exit_code == 0, "settings to run with exit 0");
    check_config(*out.config);
  } else {
    FUZZ_CHECK(out.exit_code == 0 || out.exit_code == 2,
               "a stop exits 0 (help, version) or 2 (bad flags)");
    FUZZ_CHECK(!out.output.empty(), "a stop says why");
  }
  return 0;
}
