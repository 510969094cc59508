// The ORDER actor's protocol: one actor per order, running the state machine
// drawn in actors/order_machine.hpp. Each command it understands is its own
// message; clients that hold a command in the API's form (order_command, as
// the SUPERVISOR takes it) turn it into one with to_order_message.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include <caf/expected.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "messages/atoms.hpp"
#include "messages/domain.hpp"
#include "messages/inventory_protocol.hpp"

namespace oms {

struct created_order;

// -- commands -----------------------------------------------------------------
// Each names the customer whose order it must be (empty: any); another
// customer's order is ORDER_NOT_FOUND, as if it did not exist.

/// CREATED -> CONFIRMED: the reserved units become blocked. A charge whose
/// answer was lost is settled first.
struct confirm_command {
  customer_id customer;
  /// The order's version the client last saw (If-Match); 0: any.
  uint64_t if_version = 0;
};

/// CREATED|CONFIRMED -> PAID: charges the amount due through the PAYMENT
/// actor. Idempotent per client key: a retry whose charge went through is
/// answered with the order as it is.
struct pay_command {
  customer_id customer;
  /// Must equal the amount due.
  money amount = 0;
  /// The payment method token handed to the gateway ("default" if empty).
  std::string token;
  /// The client's idempotency key and request fingerprint, recorded with the
  /// charge (empty without a key).
  std::string client_key;
  std::string fingerprint;
  /// The order's version the client last saw (If-Match); 0: any.
  uint64_t if_version = 0;
};

/// PAID|PARTIALLY_SHIPPED -> SHIPPED: the blocked units leave on-hand, as
/// one shipment. With lines, only those units ship (PARTIALLY_SHIPPED until
/// every unit has); the rest stays blocked.
struct ship_command {
  customer_id customer;
  /// The SKUs and quantities to ship; empty: every unit not shipped yet.
  std::vector<order_item> lines;
  /// The carrier and its tracking number (may be empty).
  std::string carrier;
  std::string tracking_number;
  /// The client's idempotency key and request fingerprint, recorded with
  /// the shipment (empty without a key): a retry is answered with the order.
  std::string client_key;
  std::string fingerprint;
  /// The order's version the client last saw (If-Match); 0: any.
  uint64_t if_version = 0;
};

/// SHIPPED -> DELIVERED (the first seed's FULFILLED).
struct deliver_command {
  customer_id customer;
  /// The order's version the client last saw (If-Match); 0: any.
  uint64_t if_version = 0;
};

/// CREATED|CONFIRMED|PAID -> CANCELLED: the held units go back; a paid order
/// is refunded.
struct cancel_command {
  customer_id customer;
  /// Shown in the history (CUSTOMER_REQUEST if empty).
  std::string reason;
  /// The order's version the client last saw (If-Match); 0: any.
  uint64_t if_version = 0;
};

/// Cancels some units of some lines (every remaining unit: the whole order,
/// as cancel_command); a paid order is refunded their value.
struct cancel_lines_command {
  customer_id customer;
  /// Shown in the history (PARTIAL_CANCEL if empty).
  std::string reason;
  /// The SKUs and quantities to cancel, at least one.
  std::vector<order_item> lines;
  /// The order's version the client last saw (If-Match); 0: any.
  uint64_t if_version = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, confirm_command& x) {
  return f(caf::meta::type_name("confirm_command"), x.customer, x.if_version);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, pay_command& x) {
  return f(caf::meta::type_name("pay_command"), x.customer, x.amount, x.token,
           x.client_key, x.fingerprint, x.if_version);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ship_command& x) {
  return f(caf::meta::type_name("ship_command"), x.customer, x.lines, x.carrier,
           x.tracking_number, x.client_key, x.fingerprint, x.if_version);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, deliver_command& x) {
  return f(caf::meta::type_name("deliver_command"), x.customer, x.if_version);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cancel_command& x) {
  return f(caf::meta::type_name("cancel_command"), x.customer, x.reason,
           x.if_version);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cancel_lines_command& x) {
  return f(caf::meta::type_name("cancel_lines_command"), x.customer, x.reason,
           x.lines, x.if_version);
}

/// Any one ORDER command.
using order_message =
    std::variant<confirm_command, pay_command, ship_command, deliver_command,
                 cancel_command, cancel_lines_command>;

/// The ORDER command an order_command stands for: cancel with lines is
/// cancel_lines_command. Errors: VALIDATION_FAILED for expire (only the
/// order's own hold timer expires it).
caf::expected<order_message> to_order_message(order_command cmd);

/// The version a command requires of its order (0: any).
uint64_t if_version_of(const order_message& msg);

/// PRECONDITION_FAILED if `if_version` is set and is not the order's
/// version (details: the version it is at); no error otherwise.
caf::error version_mismatch(const order_record& rec, uint64_t if_version);

// -- the interface ------------------------------------------------------------
// Every command replies the order's record once the change is journaled and
// the SKU actors follow. Errors of every command: ORDER_NOT_FOUND (another
// customer's order), INVALID_TRANSITION (the table has no such transition
// from the order's state), STORE_FAILURE (nothing was changed); and
// PAYMENT_UNAVAILABLE where a charge whose answer was lost must be settled
// first (confirm, pay, cancel).

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
    // Errors: ORDER_EXPIRED (the hold expired and cancelled the order).
    caf::replies_to<confirm_command>::with<order_record>,
    // Errors: ORDER_EXPIRED, AMOUNT_MISMATCH (details: expected, given),
    // PAYMENT_DECLINED (details: reason; the order can be paid again).
    caf::replies_to<pay_command>::with<order_record>,
    // Errors: VALIDATION_FAILED (the message names the line; part of an
    // EXTERNAL order), IDEMPOTENCY_KEY_REUSED (the key shipped another
    // request).
    caf::replies_to<ship_command>::with<order_record>,
    caf::replies_to<deliver_command>::with<order_record>,
    caf::replies_to<cancel_command>::with<order_record>,
    // Errors: VALIDATION_FAILED (the message names the line; part of an
    // EXTERNAL order).
    caf::replies_to<cancel_lines_command>::with<order_record>,
    // Errors: INVALID_TRANSITION (not DELIVERED, or the return is not in a
    // state that takes the step), RETURN_WINDOW_CLOSED, NOT_FOUND (no such
    // return), VALIDATION_FAILED (the message names the line),
    // IDEMPOTENCY_KEY_REUSED, and a stock change's error.
    caf::replies_to<return_command>::with<order_record>,
    // Internal timer: the hold of generation `gen` has expired.
    caf::reacts_to<atom::expire, uint64_t>,
    // Internal timer: ask the gateway again about pending refunds.
    caf::reacts_to<atom::retry>,
    // Internal (the SUPERVISOR's sweep): an order that handled nothing for
    // the idle timeout and may rest tells the SUPERVISOR it rests
    // (atom::dormant) and ends; its record is in the store.
    caf::reacts_to<atom::purge>>;

/// Sends the ORDER command `msg` to `order` as a request of `self`; the
/// response handle is the same for every command (the order's record).
template <class Self, class Timeout>
auto request_order(Self self, const order_actor& order, Timeout timeout,
                   order_message msg) {
  return std::visit(
      [&](auto& m) { return self->request(order, timeout, std::move(m)); },
      msg);
}

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
