// omsd's settings: defaults, the config file (config/omsd.conf documents
// every key) and command-line flags, in rising precedence; the admin token may
// also come from a file or OMS_ADMIN_TOKEN.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "actors/context.hpp"
#include "system/log.hpp"

namespace oms::daemon {

enum class store_kind { sqlite, postgres, memory };

const char* to_string(store_kind x);

struct daemon_config {
  /// Request bounds (--max-lines, --max-quantity, --max-unit-price,
  /// --max-body-bytes, --max-json-depth), handed to the order system as they
  /// are; parse_args refuses them unless every total fits in `money`
  /// (check_money_bounds).
  request_limits limits;
  // -- server
  std::string listen = "127.0.0.1";
  uint16_t port = 8080;
  size_t io_threads = 2;
  size_t actor_threads = 0; // 0: one per core
  /// "stealing" (a queue per thread; idle threads poll the others) or
  /// "sharing" (one queue; idle threads sleep).
  std::string actor_scheduler = "stealing";
  std::chrono::milliseconds request_timeout = request_timeout_default;
  std::chrono::milliseconds drain_timeout = std::chrono::seconds(10);
  // -- connections (system/http/server.hpp)
  size_t connections_max = 1024;
  size_t url_bytes_max = 8 * 1024;
  size_t header_bytes_max = 16 * 1024;
  uint64_t body_memory_max = uint64_t{64} << 20;
  std::chrono::milliseconds idle_timeout = std::chrono::seconds(60);
  std::chrono::milliseconds body_timeout = std::chrono::seconds(30);
  // -- store
  store_kind store = store_kind::sqlite;
  std::string data_dir = "./data";
  std::string postgres; // libpq connection string
  std::string postgres_schema = "oms";
  /// Check the SQLite files' integrity in the background once serving
  /// (--store-check background|off).
  bool store_check_background = true;
  /// --check: check the store's files in full, print what was found and
  /// exit (0 sound, 1 damaged, 2 nothing could be checked); omsd does not
  /// serve.
  bool check_only = false;
  // -- orders
  std::chrono::milliseconds hold_ttl = std::chrono::minutes(15);
  std::chrono::milliseconds return_window = std::chrono::hours(24 * 30);
  std::chrono::milliseconds idempotency_window = std::chrono::hours(24);
  std::chrono::milliseconds customer_idle_timeout = std::chrono::hours(1);
  std::chrono::milliseconds order_idle_timeout = std::chrono::minutes(1);
  std::chrono::milliseconds inbox_retention = std::chrono::hours(24 * 30);
  size_t cart_lines_max = 100;
  // -- payments (the simulated gateway)
  int64_t decline_amount_min = 0;
  // -- the EXTERNAL seller's WMS
  std::string wms_url; // "" = no WMS: EXTERNAL requests fail
  uint32_t wms_rate = 8;
  std::chrono::milliseconds wms_timeout = std::chrono::seconds(5);
  size_t wms_connections = 4;
  size_t wms_queue = 1024;
  uint32_t wms_breaker_failures = 5;
  std::chrono::milliseconds wms_breaker_open = std::chrono::seconds(15);
  std::chrono::milliseconds wms_call_deadline = std::chrono::seconds(60);
  int64_t external_safety_buffer = 0;
  std::chrono::milliseconds external_batch_interval = std::chrono::minutes(15);
  std::chrono::milliseconds external_snapshot_min_interval =
      std::chrono::seconds(10);
  std::chrono::milliseconds external_feed_interval = std::chrono::seconds(5);
  // -- the change feed
  /// How long committed events stay in the log for the feed and webhooks
  /// (0: for ever); older ones are pruned.
  std::chrono::milliseconds event_retention = std::chrono::hours(24 * 7);
  // -- webhooks (system/daemon/webhooks.hpp)
  /// Hosts a webhook's URL may name, comma-separated.
  std::string webhook_allow = "127.0.0.1,localhost,::1";
  std::chrono::milliseconds webhook_timeout = std::chrono::seconds(10);
  std::chrono::milliseconds webhook_retry_base = std::chrono::seconds(2);
  std::chrono::milliseconds webhook_retry_max = std::chrono::minutes(10);
  uint32_t webhook_failures_max = 12;
  std::chrono::milliseconds webhook_rotation_grace = std::chrono::hours(24);
  // -- cluster (docs/cluster.md)
  /// libpq connection string of the PostgreSQL holding the cluster's
  /// leases; empty: omsd is not a cluster node.
  std::string cluster;
  /// This node's id in the cluster: 1-64 of A-Z a-z 0-9 . _ -
  std::string node_id;
  std::string cluster_schema = "oms_cluster";
  /// HOST:PORT where this node's region listens for the other nodes (CAF's
  /// middleman); empty: it publishes none and watches no peer.
  std::string cluster_listen;
  /// HOST:PORT the other nodes dial for this node's region (the node
  /// table's address); empty: cluster_listen.
  std::string cluster_advertise;
  /// PEM files of mutual TLS between the nodes' regions: this node's
  /// certificate (chain), its private key, and the cluster's CA, which
  /// signed every node's certificate. All three or none; none: plain BASP.
  std::string cluster_tls_cert;
  std::string cluster_tls_key;
  std::string cluster_tls_ca;
  bool cluster_tls() const { return !cluster_tls_cert.empty(); }
  uint32_t cluster_shards = 256;
  std::chrono::milliseconds lease_ttl = std::chrono::seconds(3);
  /// Orders across shards: see settings::foreign_hold_grace and
  /// settings::off_shard_check_interval.
  std::chrono::milliseconds cross_shard_grace = std::chrono::minutes(1);
  std::chrono::milliseconds cross_shard_check = std::chrono::seconds(30);
  /// pg_store::set_settle_wait of a cluster node's store.
  std::chrono::milliseconds commit_settle_wait = std::chrono::seconds(60);
  // -- security
  std::string admin_token;
  std::string admin_token_file;
  double rate_limit = 0; // requests per second per token; 0: off
  double rate_burst = 0; // bucket size; 0: max(1, rate_limit)
  // -- logs
  log::level log_level = log::level::info;
  std::string config_file;
};

/// "500ms", "2s", "15m", "24h", "1d"; nullopt for anything else.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view str);

/// The shortest exact rendering: "15m", "2s", "1500ms".
std::string format_duration(std::chrono::milliseconds x);

/// What parsing the command line decided.
struct parse_outcome {
  /// Set when omsd should run.
  std::optional<daemon_config> config;
  /// Otherwise: the exit code (0 after --help or --version, 2 for bad
  /// flags) and the text to print (stdout for 0, stderr otherwise).
  int exit_code = 0;
  std::string output;
};

parse_outcome parse_args(int argc, char** argv);

} // namespace oms::daemon
