#include "system/cluster/membership.hpp"

#include <optional>
#include <stdexcept>
#include <thread>
#include <utility>

namespace oms::cluster {

namespace {

// How long a statement of the lease table may wait for a row lock: a third
// of the TTL (docs/cluster.md), so a tick blocked by a paused node's fenced
// commit still ends well inside the TTL.
std::chrono::milliseconds lock_wait_of(std::chrono::milliseconds ttl) {
  return std::max(std::chrono::milliseconds{1}, ttl / 3);
}

} // namespace

membership::membership(membership_config cfg, change_handler on_change)
    : cfg_(std::move(cfg)), on_change_(std::move(on_change)) {
  if (cfg_.ttl < std::chrono::milliseconds{300} || cfg_.ttl > max_ttl)
    throw std::invalid_argument("a lease's TTL must be in 300ms..1d");
  table_ = std::make_unique<lease_table>(cfg_.conninfo, cfg_.schema,
                                         cfg_.shards, lock_wait_of(cfg_.ttl));
  keeper_config kc;
  kc.node = cfg_.node;
  kc.address = cfg_.address;
  kc.http = cfg_.http;
  kc.on_handback = cfg_.on_handback;
  kc.ttl = cfg_.ttl;
  kc.node_timeout = cfg_.ttl;
  keeper_ = std::make_unique<lease_keeper>(*table_, kc);
  view_.node = cfg_.node;
  view_.shards = cfg_.shards;
  view_.ttl = cfg_.ttl;
}

membership::~membership() {
  // Waits as long as it takes: omsd's own stop gives up after a deadline
  // and then does not destroy a membership whose keeper is stuck.
  while (!stop(std::chrono::hours(1))) {
  }
}

void membership::refuse_a_live_twin() {
  auto heartbeat_of_mine = [this]() -> std::optional<node_row> {
    for (auto& n : table_->nodes())
      if (n.id == cfg_.node)
        return n;
    return std::nullopt;
  };
  auto first = heartbeat_of_mine();
  if (!first || table_->now_ms() - first->heartbeat_ms > cfg_.ttl.count())
    return;
  // A heartbeat of this id within the TTL: this node's earlier life (killed
  // a moment ago), or another node started with the same id. Only the
  // latter heartbeats again.
  std::this_thread::sleep_for(cfg_.ttl + cfg_.ttl / 3);
  auto second = heartbeat_of_mine();
  if (second && second->heartbeat_ms > first->heartbeat_ms)
    throw std::runtime_error(
        "another node with the id " + cfg_.node + " is live (at " +
        (second->http.empty() ? std::string{"an unknown address"}
                              : second->http) +
        "): each node of a cluster needs an id of its own");
}

void membership::start() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (thread_.joinable() || stopping_)
      return;
  }
  refuse_a_live_twin();
  tick_and_publish();
  thread_ = std::thread{[this] {
    auto period = cfg_.ttl / 3;
    std::unique_lock<std::mutex> lock{mtx_};
    while (!wake_.wait_for(lock, period, [this] { return stopping_; })) {
      lock.unlock();
      tick_and_publish();
      lock.lock();
    }
    lock.unlock();
    // The hand-back runs here too, so that a stop that cannot wait for a
    // call stuck on a dead link can give up on it.
    publish(keeper_->stop(), true);
    lock.lock();
    finished_ = true;
    wake_.notify_all();
  }};
}

bool membership::stop(std::chrono::milliseconds wait) {
  std::unique_lock<std::mutex> lock{mtx_};
  if (view_.stopped) {
    lock.unlock();
    if (thread_.joinable())
      thread_.join();
    return true;
  }
  stopping_ = true;
  if (!thread_.joinable()) {
    lock.unlock();
    publish(keeper_->stop(), true);
    return true;
  }
  wake_.notify_all();
  if (!wake_.wait_for(lock, wait, [this] { return finished_; }))
    return false;
  lock.unlock();
  thread_.join();
  return true;
}

void membership::tick_and_publish() {
  auto changes = keeper_->tick();
  publish(changes, false);
}

void membership::publish(const keeper_changes& changes, bool stopping) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    view_.owned = keeper_->owned();
    valid_until_ = keeper_->valid_until();
    held_since_ = keeper_->held_since();
    view_.handbacks = keeper_->handbacks();
    view_.table = keeper_->seen();
    view_.last_tick = std::chrono::steady_clock::now();
    view_.last_tick_clean = changes.errors.empty();
    view_.errors = changes.errors;
    ++view_.ticks;
    if (!changes.errors.empty())
      ++view_.ticks_failed;
    view_.gained_total += changes.gained.size();
    view_.lost_total += changes.lost.size();
    if (stopping)
      view_.stopped = true;
  }
  if (on_change_)
    on_change_(changes);
}

std::optional<membership::holder> membership::holder_of(uint32_t shard) const {
  std::lock_guard<std::mutex> guard{mtx_};
  auto& t = view_.table;
  for (auto& l : t.leases) {
    if (l.shard != shard || l.owner.empty() || l.expires_at_ms <= t.now_ms)
      continue;
    holder h{l.owner, l.epoch, {}};
    for (auto& n : t.nodes)
      if (n.id == l.owner)
        h.http = n.http;
    return h;
  }
  return std::nullopt;
}

membership_view membership::view() const {
  std::lock_guard<std::mutex> guard{mtx_};
  auto copy = view_;
  auto now = keeper_->local_now();
  for (auto& [shard, until] : valid_until_) {
    copy.valid_for_ms[shard] = until - now;
    auto since = held_since_.find(shard);
    copy.hold_monotonic_ms[shard] = {
        since != held_since_.end() ? since->second : until, until};
  }
  return copy;
}

} // namespace oms::cluster
