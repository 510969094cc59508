// The INVENTORY actor: the one owner of one INTERNAL SKU. Everything that
// changes the SKU's units goes through its mailbox, one message at a time, so
// no unit can be granted twice and no lock is needed.
#pragma once

#include <unordered_map>
#include <unordered_set>

#include <caf/typed_event_based_actor.hpp>

#include "actors/context.hpp"
#include "actors/stock_ledger.hpp"
#include "messages/inventory_protocol.hpp"

namespace oms {

/// State of an INVENTORY actor.
struct inventory_state {
  sku_id sku;
  stock_ledger ledger;
  context_ptr ctx;
  /// Generation of the expiry timer; a timer carrying another is stale.
  uint64_t expiry_generation = 0;
  /// The expiry the current timer is set for (0: none).
  timestamp_ms expiry_armed_for = 0;
  /// Reserved holds of orders on other shards (hold_change), and when each
  /// goes back by itself unless blocked by then.
  std::unordered_map<order_id, timestamp_ms> lapses;
  /// The time the lapse timer is set for (0: none).
  timestamp_ms lapse_armed_for = 0;
  /// The generation of the lapse timer set last; a lapse carrying another
  /// is stale.
  uint64_t lapse_generation = 0;
  /// Every hold of an order on another shard: changed by hold changes
  /// (atom::hold) only, never by the messages of the SKU's own orders.
  std::unordered_set<order_id> off_shard;
  /// Orders whose hold change is on its way to the journal: another change
  /// of their holds waits (refused UNAVAILABLE, asked again), and the
  /// SKU's timers leave them alone until it is durable.
  std::unordered_set<order_id> hold_pending;
  /// Whether the timer that settles them against their records is set.
  bool check_armed = false;
  /// A cluster node's SKU: the lease epoch its shard was served under when
  /// this actor started, stamped on everything it journals (event::fence);
  /// 0 off a cluster.
  int64_t fence = 0;

  static inline const char* name = "inventory";
};

/// Behaviour of the INVENTORY actor for `sku`. Receipts and price changes are
/// journaled here (write-ahead: applied once durable); holds are journaled by
/// the order that asks for them, together with the order's own change.
/// `fence`: inventory_state::fence.
inventory_actor::behavior_type
inventory(inventory_actor::stateful_pointer<inventory_state> self, sku_id sku,
          context_ptr ctx, int64_t fence);

/// Behaviour of an INVENTORY actor restored from the store.
inventory_actor::behavior_type
restored_inventory(inventory_actor::stateful_pointer<inventory_state> self,
                   sku_id sku, context_ptr ctx, stock_ledger ledger,
                   int64_t fence);

} // namespace oms
