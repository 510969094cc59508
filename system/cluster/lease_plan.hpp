// Which shards a node should hold, as a pure function of the lease table and
// the live nodes: each live node has a target (S over the live nodes,
// rounded down, one more for the first S mod n of them by id), takes
// expired or handed-back shards up to it, and hands its highest shards back
// only while it is above its target and other live nodes lack more than the
// free shards give them (a node joining), so that a cluster at rest does not
// churn. Unit-tested without a database; the lease keeper
// (lease_keeper.hpp) acts on it.
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

/// How many of `shards` the live node `node` should hold: shards / n, one
/// more for the first shards % n of `live` (sorted, without repeats) by id.
/// A node not in `live` gets 0.
uint32_t target_share(uint32_t shards, const std::vector<std::string>& live,
                      const std::string& node);

/// The plan of node `me` among the `live` nodes (ids; `me` counts as live
/// whether listed or not). Free shards are taken from a starting point that
/// depends on `me`, so that nodes starting together do not all reach for
/// the same ones.
lease_plan plan_leases(const std::vector<lease_state>& leases,
                       const std::string& me,
                       const std::vector<std::string>& live);

} // namespace oms::cluster
