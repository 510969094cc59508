// A node's membership of a cluster: its lease keeper, ticking on a thread of
// its own every third of the lease TTL, and what the last ticks found, for
// the node's readers (GET /v1/cluster, /metrics, /readyz) on other threads.
// Stopping hands every lease back and leaves the node table, so the others
// take the shards at their next tick instead of after a TTL.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "system/cluster/lease_keeper.hpp"
#include "system/cluster/leases.hpp"

namespace oms::cluster {

struct membership_config {
  /// libpq's connection string of the cluster's PostgreSQL.
  std::string conninfo;
  /// The schema of the lease and node tables.
  std::string schema = "oms_cluster";
  /// S: fixed when the table is made (another S is refused).
  uint32_t shards = 256;
  std::string node;
  /// What the node table records: where the node's region listens (empty:
  /// none), and where it serves HTTP.
  std::string address;
  std::string http;
  std::chrono::milliseconds ttl{3000};
  /// keeper_config::on_handback.
  std::function<void(const std::map<uint32_t, int64_t>&, int64_t)> on_handback;
};

/// What a node knows of the cluster, as of its last tick.
struct membership_view {
  std::string node;
  uint32_t shards = 0;
  std::chrono::milliseconds ttl{0};
  /// The shards this node holds, with their epochs.
  std::map<uint32_t, int64_t> owned;
  /// For each: how long its lease surely runs yet, by the node's clock
  /// (lease_keeper::valid_until; 0 or less: lapsed, not to be counted on
  /// until the next tick renews it).
  std::map<uint32_t, int64_t> valid_for_ms;
  /// For each: the node's hold as two instants of its monotonic clock (on
  /// Linux one clock for every process of a machine, so the holds of
  /// nodes on one machine can be compared): from the take sent, until its
  /// validity ends.
  std::map<uint32_t, std::pair<int64_t, int64_t>> hold_monotonic_ms;
  /// The last leases handed back, and when (lease_keeper::handbacks).
  std::vector<lease_keeper::handback> handbacks;
  /// The table as the last tick that read it saw it (keeper::seen()).
  lease_keeper::table_view table;
  /// When that tick ended (steady clock); none before the first.
  std::optional<std::chrono::steady_clock::time_point> last_tick;
  /// Whether the last tick ran without an error.
  bool last_tick_clean = false;
  /// The last tick's errors.
  std::vector<std::string> errors;
  uint64_t ticks = 0;
  uint64_t ticks_failed = 0; // with at least one error
  uint64_t gained_total = 0;
  uint64_t lost_total = 0;
  /// Set once stop() has handed the leases back.
  bool stopped = false;
};

class membership {
 public:
  /// Called on the keeper's thread after each tick (and after the stop)
  /// with what it changed: to log it, and to stop or start serving shards.
  using change_handler = std::function<void(const keeper_changes&)>;

  /// Opens the lease table (and makes it if missing). Throws
  /// std::runtime_error if PostgreSQL cannot be reached or the table holds
  /// another number of shards, std::invalid_argument for bad settings.
  membership(membership_config cfg, change_handler on_change);
  ~membership();

  membership(const membership&) = delete;
  membership& operator=(const membership&) = delete;

  /// Ticks once on the caller's thread (so that a node starts holding its
  /// share), then every ttl / 3 on a thread of its own. First, if a node
  /// with this id heartbeat within the TTL, waits a TTL and a tick to see
  /// whether it still does: throws std::runtime_error if so (two nodes
  /// with one id would take each other's leases as their own), and goes on
  /// if it was this node's earlier life.
  void start();

  /// Stops ticking, hands every lease back and leaves the node table (the
  /// keeper's thread does, after its last tick), waiting at most `wait`.
  /// False if the keeper did not finish by then (a call stuck on a link
  /// that stopped moving): the leases run out by themselves within the
  /// TTL, and the membership must not be destroyed while its thread may
  /// still run. Idempotent.
  bool stop(std::chrono::milliseconds wait);

  /// A copy of what the node knows now.
  membership_view view() const;

  /// Who holds `shard` as the last tick saw the table (a lease not run out
  /// by PostgreSQL's clock then), with its epoch and where it serves HTTP
  /// ("" if it registered none); none if nobody does. Copies only that,
  /// not the view: a node asks it for every request it does not own.
  struct holder {
    std::string node;
    int64_t epoch = 0;
    std::string http;
  };
  std::optional<holder> holder_of(uint32_t shard) const;

  const membership_config& config() const { return cfg_; }

 private:
  void tick_and_publish();
  void refuse_a_live_twin();
  void publish(const keeper_changes& changes, bool stopping);

  membership_config cfg_;
  change_handler on_change_;
  std::unique_ptr<lease_table> table_;
  std::unique_ptr<lease_keeper> keeper_;
  mutable std::mutex mtx_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool finished_ = false; // the keeper's thread has handed back and ends
  membership_view view_;
  std::map<uint32_t, int64_t> valid_until_;
  std::map<uint32_t, int64_t> held_since_;
  std::thread thread_;
};

} // namespace oms::cluster
