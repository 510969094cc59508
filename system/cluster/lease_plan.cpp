#include "system/cluster/lease_plan.hpp"

#include <algorithm>
#include <map>

namespace oms::cluster {

namespace {

// `live` with `me`, sorted, without repeats.
std::vector<std::string> live_with(std::vector<std::string> live,
                                   const std::string& me) {
  live.push_back(me);
  std::sort(live.begin(), live.end());
  live.erase(std::unique(live.begin(), live.end()), live.end());
  return live;
}

uint32_t target_in(uint32_t shards, const std::vector<std::string>& sorted,
                   const std::string& node) {
  auto i = std::lower_bound(sorted.begin(), sorted.end(), node);
  if (i == sorted.end() || *i != node)
    return 0;
  auto n = static_cast<uint32_t>(sorted.size());
  auto rank = static_cast<uint32_t>(i - sorted.begin());
  return shards / n + (rank < shards % n ? 1 : 0);
}

} // namespace

uint32_t target_share(uint32_t shards, const std::vector<std::string>& live,
                      const std::string& node) {
  auto sorted = live;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  return target_in(shards, sorted, node);
}

lease_plan plan_leases(const std::vector<lease_state>& leases,
                       const std::string& me,
                       const std::vector<std::string>& live) {
  lease_plan plan;
  auto total = static_cast<uint32_t>(leases.size());
  if (total == 0)
    return plan;
  auto nodes = live_with(live, me);
  auto target = target_in(total, nodes, me);
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
  if (mine.size() < target) {
    // From a point of its own, so that nodes do not all reach for shard 0.
    auto start = shard_of(me, total);
    std::rotate(free.begin(), std::lower_bound(free.begin(), free.end(), start),
                free.end());
    auto want = std::min<size_t>(target - mine.size(), free.size());
    plan.take.assign(free.begin(), free.begin() + static_cast<long>(want));
    return plan;
  }
  if (mine.size() > target) {
    // Hand back only what live nodes below their target (one joining) lack
    // beyond the free shards, which they take first.
    uint64_t lacking = 0;
    for (auto& node : nodes) {
      auto want = target_in(total, nodes, node);
      if (node != me && held[node] < want)
        lacking += want - held[node];
    }
    if (lacking <= free.size())
      return plan;
    auto extra =
        std::min<uint64_t>(mine.size() - target, lacking - free.size());
    std::sort(mine.begin(), mine.end());
    plan.give_back.assign(mine.end() - static_cast<long>(extra), mine.end());
  }
  return plan;
}

} // namespace oms::cluster
