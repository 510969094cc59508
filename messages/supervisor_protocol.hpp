// The SUPERVISOR's protocol: it spawns SKU and order actors on demand, keeps
// the registry, and hands out actor handles so that callers talk to owners
// directly instead of through one mailbox.
#pragma once

#include <cstdint>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "messages/atoms.hpp"
#include "messages/customer_protocol.hpp"
#include "messages/domain.hpp"
#include "messages/inbox_protocol.hpp"
#include "messages/inventory_protocol.hpp"
#include "messages/order_protocol.hpp"
#include "messages/shards.hpp"

namespace oms {

/// Interface of the SUPERVISOR.
using supervisor_actor = caf::typed_actor<
    // addItemToInventory(sku, quantity[, unit_price]) for a seller: spawns the
    // SKU's actor on first receipt (which must carry a unit price > 0), then
    // delegates to it. Errors: VALIDATION_FAILED, EXTERNAL_INVENTORY_READ_ONLY,
    // STORE_FAILURE.
    caf::replies_to<atom::receive, sku_id, seller, int64_t,
                    money>::with<stock_view>,
    // getAvailableInventory(sku, seller). Errors: UNKNOWN_SKU,
    // VALIDATION_FAILED, WMS_UNAVAILABLE (EXTERNAL with no WMS gateway).
    caf::replies_to<atom::get, sku_id, seller>::with<stock_view>,
    // Applies an inbound stock change to an INTERNAL SKU: through the INBOX
    // (once per event id) if it has an event id, directly otherwise (outcome
    // APPLIED). A receipt spawns a new SKU's actor. Errors: those of the
    // INBOX and of inventory_actor's apply, UNKNOWN_SKU.
    caf::replies_to<atom::apply, stock_change>::with<inbox_result>,
    // The same for a change with an event id that an order's return makes
    // (docs/cluster.md, "Orders across shards"): on a cluster node that
    // does not serve the SKU's shard, sent to the INBOX of the node that
    // holds it (its region), which makes it once per id. Errors: as above,
    // NOT_OWNER (no route now), UNAVAILABLE.
    caf::replies_to<atom::apply, stock_change, bool>::with<inbox_result>,
    // Applies a stock change directly, without deduplication (the INBOX's
    // way in). Errors: those of inventory_actor's apply, UNKNOWN_SKU.
    caf::replies_to<atom::put, stock_change>::with<stock_view>,
    // Lists a seller's SKUs by name: (seller, limit 1..100, cursor: the last
    // SKU of the previous page or empty). Errors: VALIDATION_FAILED,
    // WMS_UNAVAILABLE (EXTERNAL with no WMS gateway).
    caf::replies_to<atom::list, seller, uint32_t, sku_id>::with<inventory_page>,
    // Replies the actor owning a seller's SKU (an EXTERNAL SKU's is spawned
    // on first use). While its actor is being restarted, waits for the new
    // one once the journal is being read, and before answers UNAVAILABLE.
    // Errors: UNKNOWN_SKU (INTERNAL), UNAVAILABLE, WMS_UNAVAILABLE (EXTERNAL
    // with no WMS gateway).
    caf::replies_to<atom::find_sku, sku_id, seller>::with<inventory_actor>,
    // What a cart reads of a seller's SKU: its actor, as a stock reader;
    // on a cluster node, an INTERNAL SKU of a shard another node holds is
    // (if `route`) asked of that node's region, which answers a proxy that
    // reads that node's SKU actor. Errors: those above, NOT_OWNER (not
    // routed, or no route).
    caf::replies_to<atom::find_sku, sku_id, seller,
                    bool>::with<stock_reader_actor>,
    // A cluster's order across shards (docs/cluster.md): a change of its
    // hold on an INTERNAL SKU of another shard, made by the SKU's actor
    // when this node serves the SKU's shard, else (if `route`) sent to the
    // region of the node that holds it. Errors: NOT_OWNER (not served
    // here, and not routed or no route now), UNAVAILABLE (the SKU's actor
    // restarting), UNKNOWN_SKU, and those of the SKU's atom::hold.
    caf::replies_to<atom::hold, sku_id, hold_change, bool>::with<hold_outcome>,
    // createOrder: validates, resolves the SKUs, spawns the order's actor with
    // a fresh unguessable id and delegates the creation to it. Errors:
    // VALIDATION_FAILED, MIXED_SELLERS, UNKNOWN_SKU, WMS_UNAVAILABLE, and those
    // of order_actor's create.
    caf::replies_to<atom::create, create_order_request>::with<created_order>,
    // As above; on a cluster node, an order whose first line's shard another
    // node holds is (if `route`) made by that node through its region (the
    // answer has no handle). Errors: those above, NOT_OWNER (not routed, or
    // no route), and a lost answer's (the order may have been made).
    caf::replies_to<atom::create, create_order_request,
                    bool>::with<created_order>,
    // Applies a command to an order: delegates to its live actor, or answers
    // from the final record if the order is terminal. Errors: ORDER_NOT_FOUND,
    // and those of order_actor's apply.
    caf::replies_to<atom::apply, order_id, order_command>::with<order_record>,
    // A step of a return: delegates to the order's actor, started again
    // from its record if the order ended (DELIVERED). Errors:
    // ORDER_NOT_FOUND, and those of order_actor's return_command.
    caf::replies_to<atom::apply, order_id, return_command>::with<order_record>,
    // Replies an order's record, live or terminal. Errors: ORDER_NOT_FOUND.
    caf::replies_to<atom::get, order_id>::with<order_record>,
    // Replies the actor of a live order, waking a resting one. Errors:
    // ORDER_NOT_FOUND (unknown or terminal; ask with get or apply instead),
    // and the journal's if a resting order cannot be read.
    caf::replies_to<atom::find_order, order_id>::with<order_actor>,
    // Replies the CUSTOMER actor of a customer id, spawning it on first use.
    // Errors: VALIDATION_FAILED (bad id).
    caf::replies_to<atom::customer, customer_id>::with<customer_actor>,
    // Sent by an order actor that reached a terminal state, right before it
    // quits: the record stays queryable while the actor is gone.
    caf::reacts_to<atom::archive, order_record>,
    // Checks the stock conservation invariants of every SKU and the holds of
    // every live order. Exact when no order is in flight.
    caf::replies_to<atom::audit>::with<audit_report>,
    // Replies the SKUs whose actor stopped on a failure, by name: being
    // restarted, or left stopped. No errors.
    caf::replies_to<atom::health>::with<std::vector<sku_fault>>,
    // Internal (an order's actor): the order's hold of a generation is due
    // at a time; replaces the order's earlier one. Forgotten when the order
    // ends.
    caf::reacts_to<atom::arm, order_id, uint64_t, timestamp_ms>,
    // Internal (the SUPERVISOR's hold timer, with its generation): passes
    // atom::expire to every live order whose hold is due.
    caf::reacts_to<atom::tick, uint64_t>,
    // Internal (a timer): restarts the seller's SKU's stopped actor from the
    // journal.
    caf::reacts_to<atom::restart, sku_id, seller>,
    // Internal (an order's actor, right before it ends): the open order
    // rests; its record is in the store and its actor is spawned again from
    // it when a command, a read of its actor, or its hold's expiry needs it.
    // With its status and, if CREATED, its hold's due time (kept; any other
    // status drops it).
    caf::reacts_to<atom::dormant, order_id, order_status, timestamp_ms>,
    // Internal (its own timer, then itself): asks the live orders idle for
    // the idle timeout, from bucket `cursor` of the registry on, to rest.
    caf::reacts_to<atom::purge, uint64_t>,
    // A cluster node took these shards under these epochs: reads what the
    // store holds of them, starts their SKUs' and live orders' actors (any
    // it had are stopped first), and from then on serves them (a shard lost
    // meanwhile is not served; a failed read is tried again a second later
    // while the shard is still held).
    caf::reacts_to<atom::adopt, shard_epochs>,
    // A cluster node lost these shards: from now on it does not serve them,
    // and stops their SKUs' and orders' actors (callers in flight get
    // request_receiver_down; the store keeps what they made durable).
    caf::reacts_to<atom::disown, shard_epochs>>;

} // namespace oms
