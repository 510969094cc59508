#include "system/cluster/lease_keeper.hpp"

#include <algorithm>
#include <chrono>
#include <exception>
#include <stdexcept>

#include "system/cluster/lease_plan.hpp"

namespace oms::cluster {

lease_keeper::lease_keeper(lease_backend& backend, keeper_config cfg)
    : backend_(backend), cfg_(std::move(cfg)) {
  if (cfg_.node.empty())
    throw std::invalid_argument("a node needs an id");
  if (cfg_.ttl.count() <= 0 || cfg_.ttl > max_ttl)
    throw std::invalid_argument("a lease's TTL must be in 1 ms..1 day");
  if (cfg_.node_timeout.count() <= 0)
    throw std::invalid_argument("the node timeout must be positive");
}

namespace {

// Runs `f`; an exception becomes one of the tick's errors.
template <class F>
bool attempt(keeper_changes& changes, const char* what, F f) {
  try {
    f();
    return true;
  } catch (const std::exception& e) {
    changes.errors.push_back(std::string{what} + ": " + e.what());
  }
  return false;
}

} // namespace

int64_t lease_keeper::local_now() const {
  if (cfg_.local_clock)
    return cfg_.local_clock();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

keeper_changes lease_keeper::tick() {
  keeper_changes changes;
  // Renewed in one statement; what is not renewed is lost. If the table
  // cannot be reached, a lease is lost once its TTL from the last renewal
  // sent has passed: it may have been taken by now (and the fence keeps
  // any commit under it out).
  auto sent = local_now();
  bool renewed_all = attempt(changes, "renew", [&] {
    auto renewed = backend_.renew_all(cfg_.node, owned_, cfg_.ttl);
    std::sort(renewed.begin(), renewed.end());
    for (auto i = owned_.begin(); i != owned_.end();) {
      if (std::binary_search(renewed.begin(), renewed.end(), i->first)) {
        valid_until_[i->first] = sent + counted_ms();
        ++i;
        continue;
      }
      changes.lost.push_back(i->first);
      valid_until_.erase(i->first);
      held_since_.erase(i->first);
      i = owned_.erase(i);
    }
  });
  if (!renewed_all) {
    auto now = local_now();
    for (auto i = owned_.begin(); i != owned_.end();) {
      if (valid_until_[i->first] > now) {
        ++i;
        continue;
      }
      changes.lost.push_back(i->first);
      valid_until_.erase(i->first);
      held_since_.erase(i->first);
      i = owned_.erase(i);
    }
  }
  int64_t now = 0;
  std::vector<node_row> nodes;
  std::vector<lease> leases;
  bool read = attempt(changes, "read", [&] {
    now = backend_.now_ms();
    nodes = backend_.nodes();
    leases = backend_.leases();
  });
  if (read) {
    std::vector<std::string> live;
    for (auto& n : nodes)
      if (now - n.heartbeat_ms <= cfg_.node_timeout.count())
        live.push_back(n.id);
    std::vector<lease_state> states;
    for (auto& l : leases)
      states.push_back(lease_state{l.shard, l.owner, l.epoch,
                                   !l.owner.empty() && l.expires_at_ms > now});
    auto plan = plan_leases(states, cfg_.node, live);
    seen_ = table_view{now, nodes, std::move(leases)};
    auto seen_lease = [this](uint32_t shard) -> lease* {
      auto& all = seen_.leases;
      auto i = std::lower_bound(
          all.begin(), all.end(), shard,
          [](const lease& l, uint32_t s) { return l.shard < s; });
      return i != all.end() && i->shard == shard ? &*i : nullptr;
    };
    // Handed back in one statement. Given back or not, they are no longer
    // served: the fence or the TTL keeps them safe if the hand-back did
    // not reach the table.
    std::map<uint32_t, int64_t> giving;
    for (auto shard : plan.give_back)
      if (auto i = owned_.find(shard); i != owned_.end())
        giving.insert(*i);
    if (!giving.empty()) {
      handing_back(giving);
      bool given = attempt(changes, "release",
                           [&] { backend_.release_all(cfg_.node, giving); });
      for (auto& entry : giving) {
        if (given)
          if (auto* l = seen_lease(entry.first))
            l->expires_at_ms = now;
        changes.lost.push_back(entry.first);
        owned_.erase(entry.first);
        valid_until_.erase(entry.first);
        held_since_.erase(entry.first);
      }
    }
    // Taken in one statement, skipping what a fenced commit holds.
    if (!plan.take.empty())
      attempt(changes, "acquire", [&] {
        auto asked = local_now();
        for (auto& [shard, epoch] :
             backend_.acquire_all(plan.take, cfg_.node, cfg_.ttl)) {
          owned_[shard] = epoch;
          valid_until_[shard] = asked + counted_ms();
          held_since_[shard] = asked;
          changes.gained[shard] = epoch;
          if (auto* l = seen_lease(shard))
            *l = lease{shard, cfg_.node, epoch, now + cfg_.ttl.count()};
        }
      });
  }
  // Last: a node counts as live once it has done its tick.
  bool beat = attempt(changes, "heartbeat", [&] {
    backend_.heartbeat(cfg_.node, cfg_.address, cfg_.http);
  });
  // What the node shows of the table has its own heartbeat written in (it
  // read the table before it beat): on its first tick too, it is there.
  if (beat && seen_.now_ms != 0) {
    auto& nodes = seen_.nodes;
    auto i = std::lower_bound(
        nodes.begin(), nodes.end(), cfg_.node,
        [](const node_row& n, const std::string& id) { return n.id < id; });
    if (i == nodes.end() || i->id != cfg_.node)
      i = nodes.insert(i, node_row{cfg_.node, {}, 0, {}});
    i->address = cfg_.address;
    i->http = cfg_.http;
    i->heartbeat_ms = seen_.now_ms;
  }
  last_tick_failed_ = !changes.errors.empty();
  return changes;
}

keeper_changes lease_keeper::stop() {
  keeper_changes changes;
  // Handed back in one statement, unless the last tick could not reach
  // the table: then the leases run out by themselves, and a stop does not
  // wait on a connection that is gone.
  handing_back(owned_);
  if (!owned_.empty() && !last_tick_failed_)
    attempt(changes, "release",
            [&] { backend_.release_all(cfg_.node, owned_); });
  for (auto& entry : owned_)
    changes.lost.push_back(entry.first);
  owned_.clear();
  valid_until_.clear();
  held_since_.clear();
  if (!last_tick_failed_)
    attempt(changes, "leave", [&] { backend_.leave(cfg_.node); });
  return changes;
}

void lease_keeper::handing_back(const std::map<uint32_t, int64_t>& held) {
  auto at = local_now();
  if (cfg_.on_handback && !held.empty())
    cfg_.on_handback(held, at);
  for (auto& entry : held)
    handbacks_.push_back(handback{entry.first, entry.second, at});
  if (handbacks_.size() > handbacks_kept)
    handbacks_.erase(
        handbacks_.begin(),
        handbacks_.begin() +
            static_cast<std::ptrdiff_t>(handbacks_.size() - handbacks_kept));
}

int64_t lease_keeper::counted_ms() const {
  // A tenth of the TTL less than the lease runs, from when the statement
  // was sent: PostgreSQL ran it later, and its clock may run a little
  // ahead of ours.
  return cfg_.ttl.count() - cfg_.ttl.count() / 10;
}

} // namespace oms::cluster
