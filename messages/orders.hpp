// An order: its status, request, priced lines, history and payments.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "messages/basics.hpp"
#include "messages/stock.hpp"

namespace oms {

// -- order status -------------------------------------------------------------

/// The states of an order. The machine is drawn in actors/order_machine.hpp.
enum class order_status : uint8_t {
  created = 0,
  confirmed = 1,
  paid = 2,
  shipped = 3,
  delivered = 4,
  cancelled = 5,
  partially_shipped = 6, // some units shipped, the rest still blocked
};

/// The highest order_status code (for readers of stored codes).
inline constexpr order_status last_order_status =
    order_status::partially_shipped;

/// "CREATED", "CONFIRMED", ..., "PARTIALLY_SHIPPED".
const char* to_string(order_status x);

/// Parses the upper-case names; "FULFILLED" (the first seed's word) parses as
/// DELIVERED. Returns false for anything else.
bool parse_order_status(std::string_view str, order_status& out);

/// True for DELIVERED and CANCELLED: no transition leaves these states.
constexpr bool is_terminal(order_status x) {
  return x == order_status::delivered || x == order_status::cancelled;
}

// -- order requests -----------------------------------------------------------

/// One requested line of an order: a quantity of one SKU from one seller.
struct order_item {
  sku_id sku;
  int64_t quantity = 0;
  oms::seller seller = oms::seller::internal;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, order_item& x) {
  return f(caf::meta::type_name("order_item"), x.sku, x.quantity, x.seller);
}

/// Where an order ships to.
struct address {
  std::string line1;
  std::string line2;
  std::string city;
  std::string postal_code;
  std::string country;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, address& x) {
  return f(caf::meta::type_name("address"), x.line1, x.line2, x.city,
           x.postal_code, x.country);
}

/// createOrder(customerId, itemsInfo, address): all items from one seller.
struct create_order_request {
  customer_id customer;
  std::vector<order_item> items;
  oms::address ship_to;
  /// The client's idempotency key (may be empty) and the request's
  /// fingerprint, stored with the order they guard.
  std::string idempotency_key;
  std::string fingerprint;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, create_order_request& x) {
  return f(caf::meta::type_name("create_order_request"), x.customer, x.items,
           x.ship_to, x.idempotency_key, x.fingerprint);
}

// -- orders -------------------------------------------------------------------

/// One line of an order as priced at creation.
struct order_line {
  sku_id sku;
  int64_t quantity = 0;           // ordered
  money unit_price = 0;           // price at reservation time
  int64_t cancelled_quantity = 0; // released again by a partial cancel
  int64_t shipped_quantity = 0;   // consumed on shipment
  /// The batches the units were allocated from at creation.
  std::vector<lot_allocation> lots;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, order_line& x) {
  return f(caf::meta::type_name("order_line"), x.sku, x.quantity, x.unit_price,
           x.cancelled_quantity, x.shipped_quantity, x.lots);
}

/// One step of an order's history.
struct history_entry {
  timestamp_ms at = 0;
  order_status from = order_status::created;
  order_status to = order_status::created;
  std::string reason;
  money amount = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, history_entry& x) {
  return f(caf::meta::type_name("history_entry"), x.at, x.from, x.to, x.reason,
           x.amount);
}

/// A charge or a refund at the payment gateway, as the order knows it.
enum class payment_kind : uint8_t { charge = 0, refund = 1 };

/// Where a charge or refund stands. PENDING means asked but not answered
/// (e.g. a gateway timeout): the outcome is recovered with the gateway key.
enum class payment_status : uint8_t { pending = 0, succeeded = 1, failed = 2 };

/// "CHARGE" / "REFUND".
const char* to_string(payment_kind x);

/// "PENDING" / "SUCCEEDED" / "FAILED".
const char* to_string(payment_status x);

/// One charge or refund of an order.
struct payment_record {
  payment_kind kind = payment_kind::charge;
  /// The gateway's idempotency key: order id, kind and attempt number.
  std::string gateway_key;
  money amount = 0;
  payment_status status = payment_status::pending;
  /// The gateway's reference once it answered.
  std::string reference;
  /// Why a charge failed (decline code) or what a refund is for.
  std::string reason;
  timestamp_ms at = 0;
  /// The client's idempotency key of the pay request, if any, and the
  /// fingerprint of that request: recorded with the effect they guard.
  std::string client_key;
  std::string fingerprint;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, payment_record& x) {
  return f(caf::meta::type_name("payment_record"), x.kind, x.gateway_key,
           x.amount, x.status, x.reference, x.reason, x.at, x.client_key,
           x.fingerprint);
}

/// The units of one SKU that left in one shipment, and the batches they
/// came from.
struct shipped_line {
  sku_id sku;
  int64_t quantity = 0;
  std::vector<lot_allocation> lots;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, shipped_line& x) {
  return f(caf::meta::type_name("shipped_line"), x.sku, x.quantity, x.lots);
}

/// One shipment of an order: some units of some lines, with the carrier's
/// tracking if given.
struct shipment {
  /// "shp_1", "shp_2", ... within the order.
  std::string id;
  timestamp_ms at = 0;
  std::vector<shipped_line> lines;
  std::string carrier;
  std::string tracking_number;
  /// The client's idempotency key of the request, if any, and the request's
  /// fingerprint: recorded with the shipment they guard.
  std::string client_key;
  std::string fingerprint;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, shipment& x) {
  return f(caf::meta::type_name("shipment"), x.id, x.at, x.lines, x.carrier,
           x.tracking_number, x.client_key, x.fingerprint);
}

/// Where a return stands: REQUESTED -> (RECEIVING) -> RECEIVED ->
/// (INSPECTING) -> INSPECTED -> REFUNDED, or REQUESTED -> REJECTED. The
/// states in parentheses are journaled before a step's stock changes are
/// made: a step that failed half way can only be completed, as decided.
enum class return_status : uint8_t {
  requested = 0,  // asked for; the units are on their way back
  received = 1,   // the units arrived: on hand, set aside QUARANTINED
  inspected = 2,  // restocked or set aside DAMAGED; the refund is owed
  refunded = 3,   // the refund went through
  rejected = 4,   // refused before the units arrived
  receiving = 5,  // the receipt is decided, its stock changes under way
  inspecting = 6, // the inspection is decided (restocked, damaged), its
                  // stock changes under way
};

/// The highest return_status code.
inline constexpr return_status last_return_status = return_status::inspecting;

/// "REQUESTED", "RECEIVING", "RECEIVED", "INSPECTING", "INSPECTED",
/// "REFUNDED", "REJECTED".
const char* to_string(return_status x);

/// One SKU of a return.
struct return_line {
  sku_id sku;
  int64_t quantity = 0;
  /// Why the customer returns it (free text).
  std::string reason;
  /// The batches the units shipped from: where they come back.
  std::vector<lot_allocation> lots;
  /// Set by the inspection: units back for sale, units set aside DAMAGED.
  int64_t restocked = 0;
  int64_t damaged = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, return_line& x) {
  return f(caf::meta::type_name("return_line"), x.sku, x.quantity, x.reason,
           x.lots, x.restocked, x.damaged);
}

/// A return (RMA) of some delivered units of an order.
struct order_return {
  /// "ret_1", "ret_2", ... within the order.
  std::string id;
  return_status status = return_status::requested;
  timestamp_ms created_at = 0;
  timestamp_ms updated_at = 0;
  std::vector<return_line> lines;
  /// Why it was rejected.
  std::string reject_reason;
  /// The value of the units accepted at inspection, refunded.
  money refund_amount = 0;
  /// The gateway key of that refund, once owed.
  std::string refund_key;
  /// The client's idempotency key of the request, if any, and the request's
  /// fingerprint: recorded with the return they guard.
  std::string client_key;
  std::string fingerprint;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, order_return& x) {
  return f(caf::meta::type_name("order_return"), x.id, x.status, x.created_at,
           x.updated_at, x.lines, x.reject_reason, x.refund_amount,
           x.refund_key, x.client_key, x.fingerprint);
}

/// Everything known about one order: what "view order" and "track order"
/// return, and what the journal keeps as the order's current state.
struct order_record {
  order_id id;
  customer_id customer;
  oms::seller seller = oms::seller::internal;
  std::vector<order_line> lines;
  address ship_to;
  order_status status = order_status::created;
  money total_amount = 0;
  money paid_amount = 0;
  money refunded_amount = 0;
  std::string payment_reference;
  std::string cancel_reason;
  timestamp_ms created_at = 0;
  timestamp_ms updated_at = 0;
  timestamp_ms hold_expires_at = 0; // meaningful while CREATED
  std::vector<history_entry> history;
  std::vector<payment_record> payments;
  /// The client's idempotency key of the create request, if any, and the
  /// request's fingerprint: recorded with the order they guard.
  std::string idempotency_key;
  std::string request_fingerprint;
  /// How many changes the order has had, its creation the first: every
  /// change journaled adds one (0 in records stored before versions were).
  uint64_t version = 0;
  /// What left, shipment by shipment (orders shipped before shipments were
  /// recorded have none).
  std::vector<shipment> shipments;
  /// Returns of delivered units, oldest first.
  std::vector<order_return> returns;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, order_record& x) {
  return f(caf::meta::type_name("order_record"), x.id, x.customer, x.seller,
           x.lines, x.ship_to, x.status, x.total_amount, x.paid_amount,
           x.refunded_amount, x.payment_reference, x.cancel_reason,
           x.created_at, x.updated_at, x.hold_expires_at, x.history, x.payments,
           x.idempotency_key, x.request_fingerprint, x.version, x.shipments,
           x.returns);
}

/// The units an order holds on one line in its current state: every unit
/// neither cancelled nor shipped while the order is CREATED, CONFIRMED,
/// PAID or PARTIALLY_SHIPPED; none otherwise.
int64_t held_quantity(const order_record& order, const order_line& line);

/// The units of a line neither cancelled nor shipped yet.
inline int64_t unshipped_quantity(const order_line& line) {
  return line.quantity - line.cancelled_quantity - line.shipped_quantity;
}

/// What the customer owes for the lines not cancelled; nothing if a line's
/// total or their sum does not fit in `money` (the order must be refused).
std::optional<money> order_total(const std::vector<order_line>& lines);

/// What is still to be paid: the total less the value of returned units
/// accepted at inspection, less what was captured net of refunds (never
/// negative; nothing for a cancelled order).
money amount_due(const order_record& order);

/// The value of the returned units accepted at inspection (what returns
/// refund, or refunded).
money returned_amount(const order_record& order);

/// The units of `sku` that returns not rejected take back.
int64_t returned_quantity(const order_record& order, const sku_id& sku);

/// The payment record with a PENDING status of `kind`, if any.
const payment_record* pending_payment(const order_record& order,
                                      payment_kind kind);

} // namespace oms
