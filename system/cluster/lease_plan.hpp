// Which shards a node should hold, as a pure function of the lease table:
// every live node about its fair share (S divided by the live nodes, rounded
// up), expired or handed-back shards taken by whoever is short, and a node
// above its share handing shards back only while another live node is short
// (so that a cluster at rest does not churn). Unit-tested without a
// database; the lease keeper (lease_keeper.hpp) acts on it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "system/cluster/leases.hpp"

namespace oms::cluster {

/// What the plan starts from: each shard's lease and whether it runs now.
struct lease_state {
  uint32_t shard = 0;
  std::string owner; // empty: never held, or handed back
  int64_t epoch = 0;
  bool running = false; // false: expired (or handed back)
};

/// What a node should do now.
struct lease_plan {
  /// Shards to take (acquire), first first.
  std::vector<uint32_t> take;
  /// Shards of its own to hand back (release).
  std::vector<uint32_t> give_back;
};

/// The fair share of `shards` among `live_nodes` (at least 1): rounded up.
uint32_t fair_share(uint32_t shards, size_t live_nodes);

/// The plan of node `me` among `live_nodes` live nodes (itself included).
/// Free shards are taken from a starting point that depends on `me`, so
/// that nodes starting together do not all reach for the same ones.
lease_plan plan_leases(const std::vector<lease_state>& leases,
                       const std::string& me, size_t live_nodes);

} // namespace oms::cluster
