// The commands an ORDER actor is asked to carry out on its order.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "messages/basics.hpp"
#include "messages/orders.hpp"

namespace oms {

/// What the order actor is asked to do; the transition table decides whether
/// it may.
enum class command_kind : uint8_t {
  confirm = 0,   // CREATED -> CONFIRMED: reserved units become blocked
  pay = 1,       // CREATED|CONFIRMED -> PAID: records a captured payment
  ship = 2,      // PAID|PARTIALLY_SHIPPED -> SHIPPED: every blocked unit
                 // leaves on-hand (with lines: some, see ship_part)
  deliver = 3,   // SHIPPED -> DELIVERED (the first seed's FULFILLED)
  cancel = 4,    // CREATED|CONFIRMED|PAID -> CANCELLED: holds go back
  expire = 5,    // CREATED -> CANCELLED when the hold TTL passes (timer only)
  ship_part = 6, // PAID|PARTIALLY_SHIPPED -> PARTIALLY_SHIPPED: some blocked
                 // units leave on-hand, the rest stays blocked
};

/// "confirm", "pay", ...
const char* to_string(command_kind x);

/// A command for one order.
struct order_command {
  command_kind kind = command_kind::confirm;
  /// cancel: why (shown in the history).
  std::string reason;
  /// pay: the amount to charge; must equal what is due.
  money amount = 0;
  /// pay: the payment method token handed to the gateway.
  std::string token;
  /// cancel: the lines (SKU and quantity) to cancel; empty cancels the
  /// whole order. ship: the lines to ship; empty ships every unit left.
  std::vector<order_item> lines;
  /// ship: the carrier and its tracking number (may be empty).
  std::string carrier;
  std::string tracking_number;
  /// If set, the order must belong to this customer (ORDER_NOT_FOUND
  /// otherwise, as if it did not exist).
  customer_id customer;
  /// pay, ship: the client's idempotency key and request fingerprint,
  /// recorded with the charge or the shipment.
  std::string client_key;
  std::string fingerprint;
  /// The order's version the client last saw (If-Match): the command is
  /// refused with PRECONDITION_FAILED if the order is at another. 0: any.
  uint64_t if_version = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, order_command& x) {
  return f(caf::meta::type_name("order_command"), x.kind, x.reason, x.amount,
           x.token, x.lines, x.carrier, x.tracking_number, x.customer,
           x.client_key, x.fingerprint, x.if_version);
}

/// The steps of a return (see return_status).
enum class return_step : uint8_t {
  request = 0, // the customer (or admin) asks to return delivered units
  receive = 1, // admin: the units arrived
  inspect = 2, // admin: restocked or damaged; the refund is owed
  reject = 3,  // admin: refused before the units arrived
};

/// One line of a return step: request (sku, quantity, reason) or inspect
/// (sku, restock, damaged).
struct return_item {
  sku_id sku;
  int64_t quantity = 0;
  std::string reason;
  int64_t restock = 0;
  int64_t damaged = 0;
};

/// A step of a return of a DELIVERED order.
struct return_command {
  customer_id customer;
  return_step step = return_step::request;
  /// receive, inspect, reject: which return ("ret_1").
  std::string return_id;
  std::vector<return_item> lines;
  /// reject: why.
  std::string reason;
  /// request: the client's idempotency key (empty: none).
  std::string client_key;
  /// The order's version the client last saw (If-Match); 0: any.
  uint64_t if_version = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, return_item& x) {
  return f(caf::meta::type_name("return_item"), x.sku, x.quantity, x.reason,
           x.restock, x.damaged);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, return_command& x) {
  return f(caf::meta::type_name("return_command"), x.customer, x.step,
           x.return_id, x.lines, x.reason, x.client_key, x.if_version);
}

} // namespace oms
