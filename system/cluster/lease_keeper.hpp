// A node's lease keeper: at every tick it heartbeats, renews the leases it
// holds (a lease it cannot renew is lost, and so is one it could not reach
// the table to renew within the TTL), and takes or hands back shards as
// plan_leases says; stopping hands every lease back at once. It reports
// each shard it gains (with its epoch: the journal must replay the shard
// before serving it, and fence its commits with that epoch) and each it
// loses (stop serving it). Ticks well inside the TTL (a third of it) keep
// the leases; a dead node's shards are taken by the survivors at their
// first tick after its leases expire: within TTL + one tick.
//
// Not thread-safe, and blocking (the backend talks to PostgreSQL): one
// thread of its own runs a keeper.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "system/cluster/leases.hpp"

namespace oms::cluster {

/// Settings of a lease keeper.
struct keeper_config {
  std::string node;
  /// Where the node's region actor listens (host:port), for the others;
  /// empty if it publishes none.
  std::string address;
  /// Where the node serves HTTP (http://host:port).
  std::string http;
  std::chrono::milliseconds ttl{3000};
  /// A node whose heartbeat is older than this is not counted live: its
  /// shards' leases have run out by then too, and the survivors' fair share
  /// grows to take them.
  std::chrono::milliseconds node_timeout{3000};
  /// Called with each hand-back (shard -> epoch, and the local time the
  /// node stopped counting on them) just before the table is asked: what
  /// it records (omsd logs it) is written before another node can take
  /// the shards, even if this node dies right after.
  std::function<void(const std::map<uint32_t, int64_t>&, int64_t)> on_handback;
  /// The node's own monotonic clock, in ms (empty: std::chrono's
  /// steady_clock). It bounds how long the node may count on a lease it
  /// could not renew: never longer than the TTL from when it last sent a
  /// renewal that succeeded.
  std::function<int64_t()> local_clock;
};

/// What one tick changed. Losses come before gains: a shard lost and taken
/// again in one tick is in both, with its new epoch in `gained`.
struct keeper_changes {
  /// Shards lost (another owner or epoch, or handed back).
  std::vector<uint32_t> lost;
  /// Shards taken, with their new epoch.
  std::map<uint32_t, int64_t> gained;
  /// What failed (the table could not be reached, a lock wait ran out):
  /// the tick went on with the rest, and the next one tries again.
  std::vector<std::string> errors;
};

class lease_keeper {
 public:
  /// Throws std::invalid_argument for an empty node id, a TTL outside
  /// 1 ms..max_ttl or a node timeout that is not positive.
  lease_keeper(lease_backend& backend, keeper_config cfg);

  /// Renews, takes and hands back as planned, then heartbeats. Never
  /// throws: what failed is in the changes' errors, and what it did before
  /// the failure is reported all the same.
  keeper_changes tick();

  /// Hands every lease back at once and leaves the cluster (a node that
  /// stops): the others take its shards at their next tick. After a tick
  /// that could not reach the table, neither: its leases run out by
  /// themselves.
  keeper_changes stop();

  /// The shards held now, with their epochs.
  const std::map<uint32_t, int64_t>& owned() const { return owned_; }

  /// By the local clock, until when each held shard's lease surely runs:
  /// nine tenths of the TTL from when the node sent the take or renewal
  /// that last succeeded (PostgreSQL ran it later, so its lease runs at
  /// least as long, with a tenth to spare for the clocks' drift). Past it, the node must not act as the shard's owner; a tick
  /// that cannot renew by then loses the shard.
  const std::map<uint32_t, int64_t>& valid_until() const {
    return valid_until_;
  }

  /// By the local clock, when the node sent the take of each held shard:
  /// it counts on the shard from then until valid_until (so one node's
  /// hold of a shard never overlaps another's, on one clock).
  const std::map<uint32_t, int64_t>& held_since() const { return held_since_; }

  /// A lease the node handed back, and when (by the local clock) it
  /// stopped counting on it: just before it asked the table.
  struct handback {
    uint32_t shard = 0;
    int64_t epoch = 0;
    int64_t at = 0;
  };
  /// The last hand-backs (at most handbacks_kept), oldest first.
  const std::vector<handback>& handbacks() const { return handbacks_; }
  static constexpr size_t handbacks_kept = 1024;

  /// The local clock now.
  int64_t local_now() const;

  /// The table as the last tick that could read it saw it, with what that
  /// tick then took and handed back written in: every shard's lease, the
  /// nodes registered, and the table's clock when it read them (0: no tick
  /// has read it yet).
  struct table_view {
    int64_t now_ms = 0;
    std::vector<node_row> nodes;
    std::vector<lease> leases;
  };
  const table_view& seen() const { return seen_; }

  const keeper_config& config() const { return cfg_; }

 private:
  lease_backend& backend_;
  keeper_config cfg_;
  std::map<uint32_t, int64_t> owned_;
  std::map<uint32_t, int64_t> valid_until_;
  std::map<uint32_t, int64_t> held_since_;
  std::vector<handback> handbacks_;
  table_view seen_;
  bool last_tick_failed_ = false;

  /// How long past sending a take or renewal the node counts on it.
  int64_t counted_ms() const;

  /// Records that the node stops counting on `held` now.
  void handing_back(const std::map<uint32_t, int64_t>& held);
};

} // namespace oms::cluster
