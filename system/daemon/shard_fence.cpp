// The fence of a cluster node's commits (docs/cluster.md, "The fence").
// Its own file so that the test build omsd-unfenced can compile it with
// OMS_FENCE_REMOVED, the fence letting every commit through, for the
// check that the cluster's tests catch a missing fence
// (tests/fence_removed_check.sh). omsd itself never has that switch.
#include <map>
#include <vector>

#include <pqxx/pqxx>

#include "system/cluster/leases.hpp"
#include "system/daemon/cluster_node.hpp"
#include "system/log.hpp"

namespace oms::daemon {

#ifdef OMS_FENCE_REMOVED

pg_store::fence_fn shard_fence(std::shared_ptr<const shard_map>,
                               std::string node, std::string) {
  log::warn("cluster.fence_removed",
            {{"node", node},
             {"warning", "a test build: commits are not fenced, and a node "
                         "that lost its shard can grant units sold "
                         "elsewhere"}});
  return [](pqxx::transaction_base&, const std::vector<event>&) {
    return true;
  };
}

#else

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

#endif

} // namespace oms::daemon
