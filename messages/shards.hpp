// Where a SKU lives in a cluster of nodes (docs/cluster.md): its shard, one
// of S fixed when the cluster is made.
#pragma once

#include <cstdint>
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
/// order's hold on them, and the live orders placed on them (an order is on
/// its first line's shard).
struct shard_state {
  std::vector<sku_state> skus;
  std::vector<hold_state> holds;
  std::vector<order_record> live_orders;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, shard_state& x) {
  return f(caf::meta::type_name("shard_state"), x.skus, x.holds, x.live_orders);
}

} // namespace oms
