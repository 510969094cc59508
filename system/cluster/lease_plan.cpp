#include "system/cluster/lease_plan.hpp"

#include <algorithm>
#include <map>

namespace oms::cluster {

uint32_t fair_share(uint32_t shards, size_t live_nodes) {
  auto n = static_cast<uint64_t>(std::max<size_t>(1, live_nodes));
  return static_cast<uint32_t>((uint64_t{shards} + n - 1) / n);
}

lease_plan plan_leases(const std::vector<lease_state>& leases,
                       const std::string& me, size_t live_nodes) {
  lease_plan plan;
  auto total = static_cast<uint32_t>(leases.size());
  if (total == 0)
    return plan;
  auto fair = fair_share(total, live_nodes);
  std::map<std::string, uint32_t> held; // running leases per owner
  std::vector<uint32_t> mine;
  std::vector<uint32_t> free;
  for (auto& l : leases) {
    if (l.running && !l.owner.empty()) {
      ++held[l.owner];
      if (l.owner == me)
        mine.push_back(l.shard);
    } else {
      free.push_back(l.shard);
    }
  }
  if (mine.size() < fair) {
    // From a point of its own, so that nodes do not all reach for shard 0.
    auto start = static_cast<size_t>(shard_of(me, total));
    std::rotate(free.begin(),
                std::lower_bound(free.begin(), free.end(),
                                 static_cast<uint32_t>(start)),
                free.end());
    auto want = std::min<size_t>(fair - mine.size(), free.size());
    plan.take.assign(free.begin(), free.begin() + static_cast<long>(want));
    return plan;
  }
  if (mine.size() > fair) {
    // Hand back only what a short live node can take: one with a running
    // lease below the floor of the share, or a live node holding none.
    auto floor = static_cast<uint32_t>(
        total / static_cast<uint32_t>(std::max<size_t>(1, live_nodes)));
    size_t short_nodes =
        live_nodes > held.size() ? live_nodes - held.size() : 0;
    for (auto& [owner, n] : held)
      if (owner != me && n < floor)
        ++short_nodes;
    if (short_nodes == 0 || !free.empty())
      return plan; // free shards first: the short take those
    auto extra = mine.size() - fair;
    std::sort(mine.begin(), mine.end());
    plan.give_back.assign(mine.end() - static_cast<long>(extra), mine.end());
  }
  return plan;
}

} // namespace oms::cluster
