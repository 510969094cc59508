#include "system/cluster/lease_keeper.hpp"

#include "system/cluster/lease_plan.hpp"

namespace oms::cluster {

lease_keeper::lease_keeper(lease_backend& backend, keeper_config cfg)
    : backend_(backend), cfg_(std::move(cfg)) {}

keeper_changes lease_keeper::tick() {
  keeper_changes changes;
  backend_.heartbeat(cfg_.node, cfg_.address);
  for (auto i = owned_.begin(); i != owned_.end();) {
    if (backend_.renew(i->first, cfg_.node, i->second, cfg_.ttl)) {
      ++i;
      continue;
    }
    changes.lost.push_back(i->first);
    i = owned_.erase(i);
  }
  auto now = backend_.now_ms();
  size_t live = 0;
  for (auto& n : backend_.nodes())
    if (now - n.heartbeat_ms <= cfg_.node_timeout.count())
      ++live;
  std::vector<lease_state> states;
  for (auto& l : backend_.leases())
    states.push_back(lease_state{l.shard, l.owner, l.epoch,
                                 !l.owner.empty() && l.expires_at_ms > now});
  auto plan = plan_leases(states, cfg_.node, std::max<size_t>(live, 1));
  for (auto shard : plan.give_back) {
    auto i = owned_.find(shard);
    if (i == owned_.end())
      continue;
    backend_.release(shard, cfg_.node, i->second);
    changes.lost.push_back(shard);
    owned_.erase(i);
  }
  for (auto shard : plan.take)
    if (auto epoch = backend_.acquire(shard, cfg_.node, cfg_.ttl)) {
      owned_[shard] = *epoch;
      changes.gained[shard] = *epoch;
    }
  return changes;
}

keeper_changes lease_keeper::stop() {
  keeper_changes changes;
  for (auto& [shard, epoch] : owned_) {
    backend_.release(shard, cfg_.node, epoch);
    changes.lost.push_back(shard);
  }
  owned_.clear();
  backend_.leave(cfg_.node);
  return changes;
}

} // namespace oms::cluster
