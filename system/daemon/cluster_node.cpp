#include "system/daemon/cluster_node.hpp"

#include <map>
#include <utility>
#include <vector>

#include <caf/send.hpp>
#include <pqxx/pqxx>

#include "messages/type_ids.hpp"
#include "system/cluster/leases.hpp"
#include "system/cluster/membership.hpp"
#include "system/daemon/auth.hpp"
#include "system/log.hpp"

namespace oms::daemon {

shard_bridge::shard_bridge(std::shared_ptr<shard_map> shards)
    : shards_(std::move(shards)) {}

void shard_bridge::on_change(const cluster::keeper_changes& changes) {
  std::lock_guard<std::mutex> guard{mtx_};
  shard_epochs lost;
  for (auto s : changes.lost) {
    shards_->stop(s); // first: the fence refuses the shard from now on
    lost.shards.push_back(s);
    lost.epochs.push_back(0);
  }
  shard_epochs gained;
  for (auto& [s, epoch] : changes.gained) {
    gained.shards.push_back(s);
    gained.epochs.push_back(epoch);
  }
  if (!sup_)
    return; // attach() hands over what is held by then
  if (!lost.shards.empty())
    caf::anon_send(sup_, atom::disown_v, std::move(lost));
  if (!gained.shards.empty())
    caf::anon_send(sup_, atom::adopt_v, std::move(gained));
}

void shard_bridge::attach(supervisor_actor sup, const cluster::membership& m) {
  std::lock_guard<std::mutex> guard{mtx_};
  sup_ = std::move(sup);
  shard_epochs held;
  for (auto& [s, epoch] : m.view().owned) {
    held.shards.push_back(s);
    held.epochs.push_back(epoch);
  }
  if (!held.shards.empty())
    caf::anon_send(sup_, atom::adopt_v, std::move(held));
}

void shard_bridge::detach() {
  std::lock_guard<std::mutex> guard{mtx_};
  for (auto& entry : shards_->served())
    shards_->stop(entry.first);
  sup_ = nullptr;
}

pg_store::fence_fn shard_fence(std::shared_ptr<const shard_map> shards,
                               std::string node, std::string schema) {
  return [shards, node, schema](pqxx::transaction_base& tx,
                                const std::vector<event>& batch) {
    std::map<uint32_t, int64_t> held;
    auto touch = [&](const sku_id& sku) {
      held.emplace(shards->shard_of(sku), 0);
    };
    for (auto& ev : batch) {
      if (!ev.sku.empty())
        touch(ev.sku);
      if (is_order_event(ev.kind))
        for (auto& line : ev.snapshot.lines)
          touch(line.sku);
    }
    // The epochs the node serves the shards under now: a shard it stopped
    // serving (or serves under a newer lease than the stale actor that
    // made this batch knew) is refused here or by PostgreSQL.
    for (auto& entry : held) {
      entry.second = shards->epoch(entry.first);
      if (entry.second == 0)
        return false;
    }
    return cluster::lease_table::fenced_all(tx, schema, node, held);
  };
}

customer_follower::customer_follower(std::string conninfo, std::string schema,
                                     token_registry& tokens,
                                     std::chrono::milliseconds interval)
    : conninfo_(std::move(conninfo)),
      schema_(std::move(schema)),
      tokens_(tokens),
      interval_(interval) {
  thread_ = std::thread{[this] {
    run();
  }};
}

customer_follower::~customer_follower() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

bool customer_follower::poll() {
  try {
    if (!conn_ || !conn_->is_open())
      conn_ =
          std::make_unique<pqxx::connection>(cluster::lease_session_conninfo(
              conninfo_, schema_ + "-customers", interval_));
    pqxx::read_transaction tx{*conn_};
    auto table = tx.quote_name(schema_) + ".customers";
    auto count = tx.exec1("SELECT count(*) FROM " + table)[0].as<int64_t>();
    if (count == known_)
      return true;
    auto rows =
        tx.exec("SELECT id, name, token_hash, created_at FROM " + table);
    for (const auto& row : rows)
      tokens_.add(
          customer_record{row[0].as<std::string>(), row[1].as<std::string>(),
                          row[2].as<std::string>(), row[3].as<int64_t>()});
    known_ = count;
    return true;
  } catch (const std::exception& e) {
    conn_.reset();
    log::warn("cluster.customers_unread", {{"error", std::string{e.what()}}});
    return false;
  }
}

void customer_follower::run() {
  std::unique_lock<std::mutex> guard{mtx_};
  while (!stopping_) {
    guard.unlock();
    poll();
    guard.lock();
    wake_.wait_for(guard, interval_, [this] { return stopping_; });
  }
}

} // namespace oms::daemon
