// The ORDER actor's protocol: one actor per order, running the state machine
// drawn in actors/order_machine.hpp.
#pragma once

#include <cstdint>
#include <vector>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "messages/atoms.hpp"
#include "messages/domain.hpp"
#include "messages/inventory_protocol.hpp"

namespace oms {

struct created_order;

/// Interface of an ORDER actor.
using order_actor = caf::typed_actor<
    // Reserves every line at its SKU actor (given in line order), all or
    // nothing, journals the order and replies it with its own handle.
    // Errors: INSUFFICIENT_STOCK (details name the short SKUs and what was
    // available; nothing stays reserved), STORE_FAILURE, INTERNAL.
    caf::replies_to<atom::create, create_order_request,
                    std::vector<inventory_actor>>::with<created_order>,
    // Replies the order's record (details and history).
    caf::replies_to<atom::get>::with<order_record>,
    // Applies a command if the transition table allows it from the current
    // state; replies the record after the change is journaled and the SKUs
    // follow. pay charges through the PAYMENT actor; cancel with lines
    // cancels part of the order (refunding a paid order). Errors:
    // INVALID_TRANSITION, ORDER_EXPIRED, ORDER_NOT_FOUND (another customer's
    // order), VALIDATION_FAILED, AMOUNT_MISMATCH, PAYMENT_DECLINED,
    // PAYMENT_UNAVAILABLE, STORE_FAILURE.
    caf::replies_to<atom::apply, order_command>::with<order_record>,
    // Internal timer: the hold of generation `gen` has expired.
    caf::reacts_to<atom::expire, uint64_t>,
    // Internal timer: ask the gateway again about pending refunds.
    caf::reacts_to<atom::retry>>;

/// The reply to a successful creation: the order and the actor that owns it,
/// so callers can talk to it directly.
struct created_order {
  order_record record;
  order_actor handle;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, created_order& x) {
  return f(caf::meta::type_name("created_order"), x.record, x.handle);
}

} // namespace oms
