// Which shards of a cluster (docs/cluster.md) this node serves, and under
// which lease epoch: what the SUPERVISOR's gate reads on every request for
// a SKU or an order, and what the journal's fence checks each commit
// against. Written by the SUPERVISOR when it has loaded a shard (serve) and
// by the node's lease keeper when it loses one (stop), read from any
// thread: each shard's epoch is one atomic word.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <functional>
#include <mutex>

#include <caf/error.hpp>

#include "messages/cluster_protocol.hpp"
#include "messages/domain.hpp"
#include "messages/shards.hpp"

namespace oms {

class shard_map {
 public:
  /// `count` shards (1..65,536), none served.
  explicit shard_map(uint32_t count);

  uint32_t count() const { return count_; }

  /// The shard of a SKU.
  uint32_t shard_of(std::string_view sku) const;

  /// The shard of a SKU of `from`: the EXTERNAL seller's are all on the
  /// duty shard (its holder runs the WMS calls and feed).
  uint32_t shard_of(seller from, std::string_view sku) const;

  /// The shard of an order: that of its first line's SKU (the duty shard
  /// for the EXTERNAL seller's). Its other lines may be on other shards
  /// (see lines_off_shard).
  uint32_t shard_of(const order_record& rec) const;

  /// The epoch under which the node serves `shard`; 0 when it does not.
  int64_t epoch(uint32_t shard) const;

  bool serves(uint32_t shard) const { return epoch(shard) > 0; }

  /// From now on the node serves `shard` under `epoch` (> 0).
  void serve(uint32_t shard, int64_t epoch);

  /// From now on the node does not serve `shard` (no-op if it did not).
  void stop(uint32_t shard);

  /// Stops `shard` only if it is served under `epoch` (a newer adoption
  /// stays). True if it stopped.
  bool stop_if(uint32_t shard, int64_t epoch);

  /// The shards served now, with their epochs.
  std::map<uint32_t, int64_t> served() const;

  /// NOT_OWNER for `shard` (details: shard, and `what`: "sku" or "orderId"
  /// with `id`).
  static caf::error not_owner(uint32_t shard, std::string_view what,
                              std::string_view id);

  /// The region of the node that holds a shard this node does not, while
  /// this node is connected to it; none otherwise.
  using region_finder = std::function<region_actor(uint32_t)>;

  /// How the node finds other nodes' regions (set once its own region is
  /// open; cleared when it stops).
  void set_routes(region_finder find);

  /// The region of the node holding `shard` (see region_finder).
  region_actor region_for(uint32_t shard) const;

 private:
  uint32_t count_;
  std::unique_ptr<std::atomic<int64_t>[]> epochs_;
  mutable std::mutex routes_mtx_;
  region_finder routes_;
};

using shard_map_ptr = std::shared_ptr<shard_map>;

/// Per line of `rec` (an INTERNAL order), whether its SKU is on another
/// shard than the order's own: its stock is held by that shard's owner,
/// which journals it (docs/cluster.md, "Orders across shards"). All false
/// without a map (a single node) and for an EXTERNAL order.
std::vector<bool> lines_off_shard(const shard_map* map,
                                  const order_record& rec);

} // namespace oms
