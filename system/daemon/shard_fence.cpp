// The fence of a cluster node's commits (docs/cluster.md, "The fence").
// Its own file so that the test build omsd-unfenced can compile it with
// OMS_FENCE_REMOVED, the fence letting every commit through, for the
// check that the cluster's tests catch a missing fence
// (tests/fence_removed_check.sh). omsd itself never has that switch.
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include <pqxx/pqxx>

#include "system/cluster/leases.hpp"
#include "system/daemon/cluster_node.hpp"
#include "system/log.hpp"

namespace oms::daemon {

namespace {

// The shards a batch touches (its events' SKUs, and the shards of the
// orders they record: their first lines'; an order's lines on other shards
// are journaled by those shards' owners), each with epoch 0 for the caller
// to fill.
std::map<uint32_t, int64_t> shards_of(const shard_map& shards,
                                      const std::vector<event>& batch) {
  std::map<uint32_t, int64_t> touched;
  auto touch = [&](const sku_id& sku) {
    touched.emplace(shards.shard_of(sku), 0);
  };
  for (auto& ev : batch) {
    if (!ev.sku.empty())
      touch(ev.sku);
    if (is_order_event(ev.kind) && !ev.snapshot.lines.empty())
      touch(ev.snapshot.lines.front().sku);
  }
  return touched;
}

} // namespace

#ifdef OMS_FENCE_REMOVED

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
        for (auto& [shard, epoch] : shards_of(*shards, batch))
          pass.shards.emplace_back(shard, shards->epoch(shard));
        return std::optional<pg_store::fence_pass>{std::move(pass)};
      };
}

#else

pg_store::fence_fn shard_fence(std::shared_ptr<const shard_map> shards,
                               std::string node, std::string schema) {
  return [shards, node, schema](pqxx::transaction_base& tx,
                                const std::vector<event>& batch)
             -> std::optional<pg_store::fence_pass> {
    auto held = shards_of(*shards, batch);
    // The epochs the node serves the shards under now: a shard it stopped
    // serving (or serves under a newer lease than the stale actor that
    // made this batch knew) is refused here or by PostgreSQL.
    for (auto& entry : held) {
      entry.second = shards->epoch(entry.first);
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
