// A node's lease keeper: at every tick it heartbeats, renews the leases it
// holds (a lease it cannot renew is lost), and takes or hands back shards as
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
#include <map>
#include <string>
#include <vector>

#include "system/cluster/leases.hpp"

namespace oms::cluster {

/// Settings of a lease keeper.
struct keeper_config {
  std::string node;
  /// Where the node's region actor listens (host:port), for the others.
  std::string address;
  std::chrono::milliseconds ttl{3000};
  /// A node whose heartbeat is older than this is not counted live: its
  /// shards' leases have run out by then too, and the survivors' fair share
  /// grows to take them.
  std::chrono::milliseconds node_timeout{3000};
};

/// What one tick changed.
struct keeper_changes {
  /// Shards taken, with their new epoch.
  std::map<uint32_t, int64_t> gained;
  /// Shards lost (not renewed in time, or handed back).
  std::vector<uint32_t> lost;
};

class lease_keeper {
 public:
  lease_keeper(lease_backend& backend, keeper_config cfg);

  /// Heartbeats, renews, then takes and hands back as planned.
  keeper_changes tick();

  /// Hands every lease back at once and leaves the cluster (a node that
  /// stops): the others take its shards at their next tick.
  keeper_changes stop();

  /// The shards held now, with their epochs.
  const std::map<uint32_t, int64_t>& owned() const { return owned_; }

 private:
  lease_backend& backend_;
  keeper_config cfg_;
  std::map<uint32_t, int64_t> owned_;
};

} // namespace oms::cluster
