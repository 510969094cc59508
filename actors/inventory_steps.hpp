// What the INVENTORY actor's behaviour (inventory.cpp) and its changes of
// the holds of orders on other shards (inventory_holds.cpp) share; used by
// nothing else.
#pragma once

#include "actors/inventory.hpp"

namespace oms::inventory_steps {

using inventory_ptr = inventory_actor::stateful_pointer<inventory_state>;

// -- inventory.cpp ------------------------------------------------------------

/// The ledger's refusal as an error.
caf::error to_error(const ledger_outcome& x);

/// Wall-clock milliseconds now, as the actors see it.
timestamp_ms now(inventory_ptr self);

/// The SKU's counters now.
stock_view view(inventory_ptr self);

/// A stock event of this SKU, at now.
event stock_event(inventory_ptr self, event_kind kind, int64_t quantity,
                  money amount);

/// After every change: INTERNAL, and the actor stops, if the ledger broke
/// an invariant; else none.
caf::error broken(inventory_ptr self);

/// Batches whose expiry is due leave sale now (and are journaled); an
/// error if that broke the ledger.
caf::error expire_due(inventory_ptr self);

// -- inventory_holds.cpp ------------------------------------------------------

/// A change of the hold of an order on another shard (or of this SKU's
/// timers for them): what it did, once journaled. Errors: those of the
/// ledger, UNAVAILABLE while another change of the same hold is being
/// made durable, STORE_FAILURE.
caf::result<hold_outcome> change_hold(inventory_ptr self, const hold_change& c);

} // namespace oms::inventory_steps
