// Where a SKU lives in a cluster of nodes (docs/cluster.md): its shard, one
// of S fixed when the cluster is made.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "messages/domain.hpp"
#include "messages/recovered_state.hpp"

namespace oms {

/// The shard of `sku` among `shards` (> 0): FNV-1a of its bytes, mod
/// `shards`. The same on every node and platform, for ever: it is where the
/// SKU's stock lives.
constexpr uint32_t shard_of_sku(std::string_view sku, uint32_t shards) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (char c : sku) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ull;
  }
  return static_cast<uint32_t>(h % shards);
}

/// The most shards a cluster can have.
inline constexpr uint32_t max_shards = 65'536;

/// The duty shard: its holder serves what is one for the whole cluster,
/// not one per SKU: the EXTERNAL seller (its SKUs, orders, WMS feed and
/// calls: one WMS rate budget) and the webhooks' deliveries. Its changes
/// are fenced under its lease like any shard's (docs/cluster.md).
inline constexpr uint32_t duty_shard = 0;

/// Shards of a cluster, each with the lease epoch the node took it under
/// (the two vectors pair up).
struct shard_epochs {
  std::vector<uint32_t> shards;
  std::vector<int64_t> epochs;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, shard_epochs& x) {
  return f(caf::meta::type_name("shard_epochs"), x.shards, x.epochs);
}

/// What a node loads of the shards it takes: their INTERNAL SKUs, every
/// order's hold on them, and the live orders placed on them (an INTERNAL
/// order is on its first line's shard, an EXTERNAL one on the duty shard);
/// with the duty shard (`external`), the EXTERNAL seller's state: its feed
/// cursor, its feed changes not yet in a snapshot, its unsettled WMS
/// reservations.
struct shard_state {
  std::vector<sku_state> skus;
  std::vector<hold_state> holds;
  std::vector<order_record> live_orders;
  bool external = false;
  std::string wms_cursor;
  std::vector<external_delta> external_deltas;
  std::vector<wms_reservation> wms_reservations;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, shard_state& x) {
  return f(caf::meta::type_name("shard_state"), x.skus, x.holds, x.live_orders,
           x.external, x.wms_cursor, x.external_deltas, x.wms_reservations);
}

} // namespace oms
