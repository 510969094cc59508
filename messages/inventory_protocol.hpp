// The INVENTORY actor's protocol: one actor owns one SKU of the INTERNAL
// seller (its on-hand units, its price, and every order's hold on it).
#pragma once

#include <cstdint>
#include <vector>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "messages/atoms.hpp"
#include "messages/domain.hpp"

namespace oms {

/// Interface of an INVENTORY actor. Every handler is idempotent per
/// (order id, operation) where it takes an order id.
using inventory_actor = caf::typed_actor<
    // Receives `quantity` units (addItemToInventory). `unit_price` > 0 sets the
    // price, 0 keeps it; the first receipt must carry a price. Replies the new
    // view once the receipt is journaled. Errors: VALIDATION_FAILED,
    // STORE_FAILURE.
    caf::replies_to<atom::receive, int64_t, money>::with<stock_view>,
    // Applies a stock change (receipt into a batch, adjustment, set aside or
    // return from aside), journaled with its event id if any. Replies the new
    // view once durable. Errors: VALIDATION_FAILED, UNKNOWN_SKU,
    // INSUFFICIENT_STOCK (moving or removing units that are held or set
    // aside), PRECONDITION_FAILED (the change's if_version), STORE_FAILURE.
    caf::replies_to<atom::apply, stock_change>::with<stock_view>,
    // Timer: batches whose expiry is due leave sale (carries the timer's
    // generation; a stale one is ignored).
    caf::reacts_to<atom::expire, uint64_t>,
    // Sets the unit price for later reservations (held orders keep theirs),
    // if the SKU is at version `if_version` (0: any). Errors:
    // VALIDATION_FAILED, UNKNOWN_SKU (never received), PRECONDITION_FAILED,
    // STORE_FAILURE.
    caf::replies_to<atom::price, money, uint64_t>::with<stock_view>,
    // Replies the counters now. Errors: UNKNOWN_SKU (never received).
    caf::replies_to<atom::get>::with<stock_view>,
    // Replies the counters and every order's hold on this SKU, for audits.
    caf::replies_to<atom::holds>::with<stock_snapshot>,
    // Reserves `quantity` units for an order, all or nothing. Not granting is
    // a reply value. Idempotent: a repeated reserve for the same order and
    // quantity grants the existing hold again. Errors: VALIDATION_FAILED (bad
    // quantity, or the order already holds a different quantity), UNKNOWN_SKU.
    caf::replies_to<atom::reserve, order_id, int64_t>::with<reserve_reply>,
    // Turns the order's reserved units into blocked units; replies how many.
    // Idempotent. Errors: INVALID_TRANSITION (the order holds nothing here).
    caf::replies_to<atom::block, order_id>::with<int64_t>,
    // Releases whatever the order holds (reserved or blocked); replies how many
    // units went back. Idempotent: a second release returns 0. Errors: none
    // but INTERNAL, which every change may answer when it broke the ledger's
    // invariants (the actor then stops; see actors/inventory.cpp).
    caf::replies_to<atom::release, order_id>::with<int64_t>,
    // Shrinks the order's hold to `remaining` units (partial release); replies
    // how many went back. Idempotent because it names the target, not a delta.
    // Errors: VALIDATION_FAILED (remaining < 0 or above the hold).
    caf::replies_to<atom::reduce, order_id, int64_t>::with<int64_t>,
    // Ships the order's blocked units until it holds `remaining` (0: all
    // ship): they leave on-hand, the first to expire first. Replies how
    // many. Idempotent because it names the target: a second consume
    // returns 0. Errors: INVALID_TRANSITION (the hold is only reserved),
    // VALIDATION_FAILED (remaining < 0 or above the hold; above 0 for an
    // EXTERNAL SKU, whose WMS ships a reservation whole).
    caf::replies_to<atom::consume, order_id, int64_t>::with<int64_t>,
    // A cluster's order placed on another shard changes its hold here
    // (docs/cluster.md, "Orders across shards"): journaled before it
    // applies (under this node's lease of the SKU's shard), since the
    // order's own commits do not journal this SKU's stock. reserve grants
    // as reserve does, and the hold it makes goes back by itself once
    // settings::hold_ttl and settings::foreign_hold_grace have passed
    // unless blocked by then; block, release, reduce and consume as their
    // own messages do. Idempotent like them. Errors: theirs, and
    // STORE_FAILURE (nothing changed).
    caf::replies_to<atom::hold, hold_change>::with<hold_outcome>>;

/// What a cart asks of a SKU's actor: its stock and price now (the
/// INVENTORY actor's atom::get). Another cluster node is handed only this,
/// through a proxy that reads the SKU's actor and nothing else
/// (system/cluster/region.cpp), never the INVENTORY actor's own handle.
using stock_reader_actor =
    caf::typed_actor<caf::replies_to<atom::get>::with<stock_view>>;

} // namespace oms
