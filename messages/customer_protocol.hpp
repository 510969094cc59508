// The CUSTOMER actor's protocol: one actor per customer owns the customer's
// cart, their idempotency keys and the index of their orders. Requests of one
// customer are ordered by its mailbox; different customers run in parallel.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "messages/atoms.hpp"
#include "messages/domain.hpp"

namespace oms {

/// Interface of a CUSTOMER actor. Idempotency keys are scoped to the
/// customer: the same key and the same request give the first result again
/// without doing anything; the same key with another request gives
/// IDEMPOTENCY_KEY_REUSED; concurrent requests with one key run once. An
/// empty key means no idempotency.
using customer_actor = caf::typed_actor<
    // Views the cart, priced now. Errors: VALIDATION_FAILED (field items)
    // if its total would not fit in money (never under limits that pass
    // check_money_bounds).
    caf::replies_to<atom::get>::with<cart_view>,
    // Sets the quantity of the line of (sku, seller), adding it if new.
    // Succeeds only if the SKU's available stock covers it now (for the
    // EXTERNAL seller: our own safe count of it) and the cart's total still
    // fits in money. Errors: VALIDATION_FAILED (field quantity for a total
    // that would not fit), UNKNOWN_SKU, INSUFFICIENT_STOCK (details:
    // requested, available), WMS_UNAVAILABLE (EXTERNAL without a WMS).
    caf::replies_to<atom::put, sku_id, int64_t, seller>::with<cart_view>,
    // Adds units to a line (creates it if new); same checks as put.
    caf::replies_to<atom::add, sku_id, int64_t, seller>::with<cart_view>,
    // Removes a line. Errors: VALIDATION_FAILED (not in the cart).
    caf::replies_to<atom::remove, sku_id, seller>::with<cart_view>,
    // Places an order from the cart's lines of one seller: all of them, or
    // the SKUs given; the ordered lines leave the cart. On failure the cart
    // is unchanged. (address, skus, idempotency key, seller, whether the
    // seller was given: if not, the cart's lines must all be one seller's).
    // Errors: CART_EMPTY, VALIDATION_FAILED (a SKU not in the cart, lines of
    // both sellers and none chosen), those of createOrder.
    caf::replies_to<atom::checkout, address, std::vector<sku_id>, std::string,
                    seller, bool>::with<order_record>,
    // createOrder with an idempotency key. Errors: IDEMPOTENCY_KEY_REUSED and
    // those of the SUPERVISOR's create.
    caf::replies_to<atom::create, create_order_request,
                    std::string>::with<order_record>,
    // A cluster's checkout at the customer's home node whose first line's
    // shard this node serves (the region's atom::create): the order made
    // here under the key and fingerprint the home gave it, so that a
    // second attempt under that key, while the first is under way here or
    // once it is stored, answers the first's order. Errors: those of the
    // SUPERVISOR's create.
    caf::replies_to<atom::create, create_order_request,
                    atom::forward>::with<order_record>,
    // Pays one of the customer's orders: (order, amount, payment token,
    // idempotency key, the order's version the client saw or 0). A repeat of
    // a key answers its first result, whatever the version is now. Errors:
    // IDEMPOTENCY_KEY_REUSED, ORDER_NOT_FOUND (not this customer's), and
    // those of the order's pay.
    caf::replies_to<atom::pay, order_id, money, std::string, std::string,
                    uint64_t>::with<order_record>,
    // Lists the customer's orders newest first: (limit 1..100, cursor from
    // the previous page or empty). Errors: VALIDATION_FAILED (bad cursor or
    // limit).
    caf::replies_to<atom::list, uint32_t, std::string>::with<order_page>,
    // Internal timer: forget idempotency keys older than the window.
    caf::reacts_to<atom::purge>,
    // A cluster node lost the shard of this customer's id (docs/cluster.md,
    // "Carts"): the cart, which the shard's new owner keeps from now on, is
    // forgotten here, so that it is not served again, stale, if the shard
    // comes back. A checkout under way does not put its lines back.
    caf::reacts_to<atom::disown>>;

} // namespace oms
