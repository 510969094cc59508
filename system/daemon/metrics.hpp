// Counters and histograms of the HTTP front, rendered with the journal's in
// the Prometheus text format (version 0.0.4) for GET /metrics.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "messages/domain.hpp"
#include "system/daemon/webhooks.hpp"
#include "system/http/exchange.hpp"

namespace oms {
struct wms_gateway_stats;
} // namespace oms

namespace oms::daemon {

/// What a cluster node reports of its membership (system/cluster/
/// membership.hpp) in /metrics.
struct cluster_counters {
  uint64_t shards = 0;       // S
  uint64_t shards_owned = 0; // by this node
  uint64_t nodes_live = 0;   // heartbeats younger than the TTL
  uint64_t gained_total = 0;
  uint64_t lost_total = 0;
  uint64_t ticks = 0;
  uint64_t ticks_failed = 0;
  /// Since the keeper's last tick ended (-1: none yet).
  double last_tick_age_seconds = -1;
  /// Other nodes whose region this node watches, and those it reaches.
  uint64_t peers = 0;
  uint64_t peers_reachable = 0;
  /// Requests forwarded to the owner of their shard (with
  /// --cluster-listen): answered, failed (no answer in time), unroutable
  /// (the owner's region not connected); the answered ones' round trips
  /// per bucket of `forward_bounds_us` (and +Inf) and their sum.
  bool forwarding = false;
  uint64_t forwarded_answered = 0;
  uint64_t forwarded_failed = 0;
  uint64_t forwarded_unroutable = 0;
  std::vector<uint64_t> forward_bounds_us;
  std::vector<uint64_t> forward_buckets;
  double forward_seconds_sum = 0;
};

class metrics {
 public:
  /// Upper bounds (seconds) of the request latency histogram.
  static constexpr std::array<double, 14> latency_bounds = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
      0.1,    0.25,  0.5,    1.0,   2.5,  5.0,   10.0};

  /// Records one answered request; `route` is the route's pattern (never a
  /// concrete path, so the label set stays small).
  void observe(std::string_view route, std::string_view method, int status,
               double seconds);

  void in_flight_add(int64_t delta) { in_flight_ += delta; }
  int64_t in_flight() const { return in_flight_.load(); }

  /// What the HTTP server counts of its connections (it writes them).
  http::server_stats& connections() { return connections_; }

  struct process_view {
    bool ready = false;
    uint64_t customers = 0;
    double start_time_seconds = 0;
    /// SKUs whose actor stopped on a failure.
    uint64_t skus_unavailable = 0;
    /// Actors running (SKUs, open orders not resting, customers, services).
    uint64_t actors = 0;
    /// Change-feed streams open (GET /v1/events as Server-Sent Events).
    uint64_t event_streams = 0;
    /// Long polls of the change feed waiting for an event.
    uint64_t event_polls = 0;
    /// The webhooks' counters, when omsd runs webhooks.
    std::optional<webhook_counters> webhooks{};
    /// The background integrity check's state (store_check_view::state's
    /// names); "damaged" makes omsd not ready.
    std::string store_check = "off";
    /// The membership's counters, when omsd is a cluster node.
    std::optional<cluster_counters> cluster{};
  };

  /// The exposition text; `journal` may be null when the journal did not
  /// answer, `wms` when there is no WMS gateway or it did not answer.
  std::string render(const journal_stats* journal, const process_view& process,
                     const wms_gateway_stats* wms = nullptr) const;

 private:
  struct series {
    std::map<int, uint64_t> by_status;
    std::array<uint64_t, latency_bounds.size() + 1> buckets{};
    double sum = 0;
    uint64_t count = 0;
  };
  mutable std::mutex mtx_;
  std::map<std::pair<std::string, std::string>, series> series_;
  std::atomic<int64_t> in_flight_{0};
  http::server_stats connections_;
};

} // namespace oms::daemon
