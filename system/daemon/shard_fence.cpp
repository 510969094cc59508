// The fence of a cluster node's commits (docs/cluster.md, "The fence").
// Its own file so that the test build omsd-unfenced can compile it with
// OMS_FENCE_REMOVED, the fence letting every commit through, for the
// check that the cluster's tests catch a missing fence
// (tests/fence_removed_check.sh). omsd itself never has that switch.
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <pqxx/pqxx>

#include "messages/wms_protocol.hpp"
#include "system/cluster/leases.hpp"
#include "system/daemon/cluster_node.hpp"
#include "system/daemon/webhooks.hpp"
#include "system/log.hpp"

namespace oms::daemon {

namespace {

// The shards a batch touches (its events' SKUs, the shards of the orders
// they record: their first lines'; an order's lines on other shards are
// journaled by those shards' owners; the duty shard for the webhooks'
// values and the EXTERNAL seller's SKUs, orders and feed cursor), each with the epoch its writers
// stamped (event::fence; 0 where none did). `agree` turns false when two
// events of one shard carry different stamps: one of their writers is
// stale.
std::map<uint32_t, int64_t> shards_of(const shard_map& shards,
                                      const std::vector<event>& batch,
                                      bool& agree) {
  std::map<uint32_t, int64_t> touched;
  agree = true;
  auto touch = [&](uint32_t shard, int64_t stamp) {
    auto [at, fresh] = touched.emplace(shard, stamp);
    if (fresh || stamp == 0 || at->second == stamp)
      return;
    if (at->second == 0)
      at->second = stamp;
    else
      agree = false;
  };
  for (auto& ev : batch) {
    // (The EXTERNAL seller's SKUs and orders are all the duty shard's.)
    if (!ev.sku.empty())
      touch(shards.shard_of(ev.seller, ev.sku), ev.fence);
    if (is_order_event(ev.kind) && !ev.snapshot.lines.empty())
      touch(shards.shard_of(ev.snapshot), ev.fence);
    // The webhooks' subscriptions and cursors and the WMS feed's cursor
    // are the duty shard's: only the node that serves it runs the
    // deliveries (webhook_duty.hpp) and reads the feed.
    if (ev.kind == event_kind::inbox_cursor &&
        (is_webhook_value(ev.reason) || ev.reason == wms_feed_source))
      touch(duty_shard, ev.fence);
  }
  return touched;
}

// The epoch a shard's changes are fenced under, read once: the one the
// node serves it under now, if its writers stamped that one or none; 0
// (refused) otherwise.
int64_t fence_epoch(const shard_map& shards, uint32_t shard, int64_t stamp) {
  auto now = shards.epoch(shard);
  return now != 0 && (stamp == 0 || stamp == now) ? now : 0;
}

} // namespace

#ifdef OMS_FENCE_REMOVED

// Nothing refused before the commit either: the admission would otherwise
// stand in for the fence this build removes.
pg_store::admit_fn shard_admission(std::shared_ptr<const shard_map>) {
  return {};
}

pg_store::fence_fn shard_fence(std::shared_ptr<const shard_map> shards,
                               std::string node, std::string) {
  log::warn("cluster.fence_removed",
            {{"node", node},
             {"warning", "a test build: commits are not fenced, and a node "
                         "that lost its shard can grant units sold "
                         "elsewhere"}});
  // Every batch passes, recorded under the epochs the node serves its
  // shards under (0 for one it does not serve): what a stale writer's
  // commits look like in oms_log_epochs.
  return
      [shards, node](pqxx::transaction_base&, const std::vector<event>& batch) {
        pg_store::fence_pass pass{node, {}};
        bool agree = true;
        for (auto& [shard, stamp] : shards_of(*shards, batch, agree))
          pass.shards.emplace_back(shard, shards->epoch(shard));
        return std::optional<pg_store::fence_pass>{std::move(pass)};
      };
}

#else

pg_store::admit_fn shard_admission(std::shared_ptr<const shard_map> shards) {
  return [shards](const std::vector<event>& events) -> caf::error {
    bool agree = true;
    for (auto& [shard, stamp] : shards_of(*shards, events, agree)) {
      if (!agree || fence_epoch(*shards, shard, stamp) == 0)
        return make_error(errc::not_owner,
                          "cannot commit: shard " + std::to_string(shard) +
                              " is not served under the lease this change "
                              "was made under; nothing was written",
                          "{\"shard\":" + std::to_string(shard) + "}");
    }
    return caf::none;
  };
}

pg_store::fence_fn shard_fence(std::shared_ptr<const shard_map> shards,
                               std::string node, std::string schema) {
  return [shards, node, schema](pqxx::transaction_base& tx,
                                const std::vector<event>& batch)
             -> std::optional<pg_store::fence_pass> {
    bool agree = true;
    auto held = shards_of(*shards, batch, agree);
    if (!agree)
      return std::nullopt;
    // Each shard under its writers' epoch, which must be the one the node
    // serves it under now: a shard it stopped serving, or serves under a
    // newer lease than the one the (stale) writer started under, is
    // refused here, and PostgreSQL checks that epoch against the lease.
    // Changes stamped with no epoch take the one of the moment.
    for (auto& entry : held) {
      entry.second = fence_epoch(*shards, entry.first, entry.second);
      if (entry.second == 0)
        return std::nullopt;
    }
    if (!cluster::lease_table::fenced_all(tx, schema, node, held))
      return std::nullopt;
    return pg_store::fence_pass{node, {held.begin(), held.end()}};
  };
}

#endif

} // namespace oms::daemon
