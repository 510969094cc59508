// Value types of the order system: what actors send each other and what the
// journal stores. Money is an integer count of minor units (paise, INR);
// quantities are integers; timestamps are milliseconds since the Unix epoch.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <caf/meta/type_name.hpp>

namespace oms {

using sku_id = std::string;
using order_id = std::string;
using customer_id = std::string;
/// An amount of money in minor units (paise). Never a floating point value.
using money = int64_t;
/// Milliseconds since the Unix epoch.
using timestamp_ms = int64_t;

/// The single currency the system trades in.
inline constexpr const char* currency = "INR";

// -- sellers ------------------------------------------------------------------

/// Who owns the stock: the platform itself or the one external seller whose
/// warehouse is reached through its WMS.
enum class seller : uint8_t { internal = 0, external = 1 };

/// "INTERNAL" or "EXTERNAL".
const char* to_string(seller x);

/// Parses "INTERNAL" / "EXTERNAL" (case-sensitive). Returns false otherwise.
bool parse_seller(std::string_view str, seller& out);

// -- order status -------------------------------------------------------------

/// The states of an order. The machine is drawn in actors/order_machine.hpp.
enum class order_status : uint8_t {
  created = 0,
  confirmed = 1,
  paid = 2,
  shipped = 3,
  delivered = 4,
  cancelled = 5,
};

/// "CREATED", "CONFIRMED", ...
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

// -- stock --------------------------------------------------------------------

/// Why units that are physically present are not for sale.
enum class unallocatable_reason : uint8_t {
  damaged = 0,
  quarantined = 1,
  expired = 2,      // set by the batch's expiry timer, never by hand
  safety_stock = 3, // kept back on purpose
};

/// Number of unallocatable reasons.
inline constexpr size_t unallocatable_reason_count = 4;

/// "DAMAGED", "QUARANTINED", "EXPIRED", "SAFETY_STOCK".
const char* to_string(unallocatable_reason x);

/// Parses what to_string writes; false otherwise.
bool parse_unallocatable_reason(std::string_view str,
                                unallocatable_reason& out);

/// Units of one batch (lot) given to one order line.
struct lot_allocation {
  std::string lot;
  int64_t quantity = 0;
};

inline bool operator==(const lot_allocation& x, const lot_allocation& y) {
  return x.lot == y.lot && x.quantity == y.quantity;
}

inline bool operator!=(const lot_allocation& x, const lot_allocation& y) {
  return !(x == y);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, lot_allocation& x) {
  return f(caf::meta::type_name("lot_allocation"), x.lot, x.quantity);
}

/// The first `quantity` units of `lots` (in their order): what remains of an
/// allocation after a partial release, which gives back the last units first.
std::vector<lot_allocation>
take_allocations(const std::vector<lot_allocation>& lots, int64_t quantity);

/// One batch (lot) of a SKU. The lot "" is the batch of receipts that named
/// none. Invariant: on_hand = held + unallocatable + available.
struct batch_view {
  std::string lot;
  timestamp_ms expires_at = 0; // 0: never expires
  bool expired = false;
  int64_t on_hand = 0;
  int64_t held = 0; // reserved or blocked by orders
  int64_t available = 0;
  /// Per unallocatable_reason (index).
  std::vector<int64_t> unallocatable;
  timestamp_ms received_at = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, batch_view& x) {
  return f(caf::meta::type_name("batch_view"), x.lot, x.expires_at, x.expired,
           x.on_hand, x.held, x.available, x.unallocatable, x.received_at);
}

/// How an EXTERNAL SKU's availability is derived: the WMS's last batch
/// snapshot, corrected by what we know happened since.
///   available = snapshot_orderable + feed_delta - pending_holds - buffer
struct external_view {
  bool known = false;             // a snapshot was read
  int64_t snapshot_orderable = 0; // as the WMS reported it
  timestamp_ms snapshot_as_of = 0;
  int64_t snapshot_reflects = 0; // last WMS change the snapshot includes
  timestamp_ms read_at = 0;      // when we read the snapshot
  int64_t feed_delta = 0;    // receipts/adjustments from the feed since then
  int64_t pending_holds = 0; // our holds the snapshot does not reflect yet
  int64_t safety_buffer = 0;
  int64_t wms_pending = 0; // WMS calls not yet acknowledged
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, external_view& x) {
  return f(caf::meta::type_name("external_view"), x.known, x.snapshot_orderable,
           x.snapshot_as_of, x.snapshot_reflects, x.read_at, x.feed_delta,
           x.pending_holds, x.safety_buffer, x.wms_pending);
}

/// getAvailableInventory: one SKU's counters as its owner sees them now.
/// Invariants: available = on_hand - unallocatable - reserved - blocked >= 0
/// and received_total + adjusted_total = on_hand + consumed_total.
struct stock_view {
  sku_id sku;
  oms::seller seller = oms::seller::internal;
  money unit_price = 0;
  int64_t on_hand = 0;
  int64_t reserved = 0;
  int64_t blocked = 0;
  int64_t available = 0;
  int64_t received_total = 0;
  int64_t consumed_total = 0;
  timestamp_ms as_of = 0;
  /// Units present but not for sale, in total and per unallocatable_reason.
  int64_t unallocatable = 0;
  std::vector<int64_t> unallocatable_by_reason;
  /// Net corrections of on-hand (stock counts, write-offs).
  int64_t adjusted_total = 0;
  /// INTERNAL: the batches, first to expire first.
  std::vector<batch_view> batches;
  /// EXTERNAL: what the WMS last reported and how our count derives from it.
  external_view external;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stock_view& x) {
  return f(caf::meta::type_name("stock_view"), x.sku, x.seller, x.unit_price,
           x.on_hand, x.reserved, x.blocked, x.available, x.received_total,
           x.consumed_total, x.as_of, x.unallocatable,
           x.unallocatable_by_reason, x.adjusted_total, x.batches, x.external);
}

/// One page of the SKUs of a seller, by SKU name; next_cursor is empty on the
/// last page.
struct inventory_page {
  std::vector<stock_view> items;
  std::string next_cursor;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, inventory_page& x) {
  return f(caf::meta::type_name("inventory_page"), x.items, x.next_cursor);
}

/// What an inbound stock change does.
enum class stock_change_kind : uint8_t {
  receipt = 0,      // units arrive into a batch (quantity > 0)
  adjustment = 1,   // on-hand of a batch corrected (quantity signed)
  set_aside = 2,    // units leave sale for a reason (quantity > 0)
  return_aside = 3, // units set aside come back to sale (quantity > 0)
};

/// "RECEIPT", "ADJUSTMENT", "SET_ASIDE", "RETURN_ASIDE".
const char* to_string(stock_change_kind x);

/// Parses what to_string writes; false otherwise.
bool parse_stock_change_kind(std::string_view str, stock_change_kind& out);

/// One change of a SKU's stock, from the admin API or a warehouse feed. With
/// an event id it goes through the INBOX, which applies each id once.
struct stock_change {
  stock_change_kind kind = stock_change_kind::receipt;
  sku_id sku;
  int64_t quantity = 0;
  money unit_price = 0;        // receipt: > 0 sets the price, 0 keeps it
  std::string lot;             // the batch ("" if the SKU has one)
  timestamp_ms expires_at = 0; // receipt into a new batch: 0 = never
  unallocatable_reason reason = unallocatable_reason::damaged; // set_aside,
                                                               // return_aside
  std::string note;     // free text kept with the change (adjustments)
  std::string event_id; // the inbound event's id; empty: not deduplicated
  std::string source;   // who sent it: "admin", "wms", ...
  oms::seller seller = oms::seller::internal;
  /// EXTERNAL: the WMS's change sequence of the event (snapshots with a
  /// higher `reflects` include it).
  int64_t wms_seq = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stock_change& x) {
  return f(caf::meta::type_name("stock_change"), x.kind, x.sku, x.quantity,
           x.unit_price, x.lot, x.expires_at, x.reason, x.note, x.event_id,
           x.source, x.seller, x.wms_seq);
}

/// What the INBOX did with an inbound change.
struct inbox_result {
  std::string event_id;
  /// APPLIED (this delivery changed the stock), DUPLICATE (an earlier
  /// delivery did) or REJECTED (recorded as processed without effect; error
  /// says why).
  std::string outcome;
  std::string error_code;
  std::string error;
  stock_view stock; // after the change (APPLIED) or now (DUPLICATE)
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, inbox_result& x) {
  return f(caf::meta::type_name("inbox_result"), x.event_id, x.outcome,
           x.error_code, x.error, x.stock);
}

/// How units are held for an order: provisionally (order CREATED) or firmly
/// (order CONFIRMED or PAID).
enum class hold_kind : uint8_t { reserved = 0, blocked = 1 };

/// "RESERVED" or "BLOCKED".
const char* to_string(hold_kind x);

/// Where one of our holds on an EXTERNAL SKU stands at the seller's WMS.
enum class wms_state : uint8_t {
  none = 0,     // nothing there (or unknown: never acknowledged)
  reserved = 1, // reservation acknowledged
  blocked = 2,
  shipped = 3,
  released = 4,
};

/// "NONE", "RESERVED", "BLOCKED", "SHIPPED", "RELEASED".
const char* to_string(wms_state x);

/// Parses what to_string writes; false otherwise.
bool parse_wms_state(std::string_view str, wms_state& out);

/// Where a reservation stands at the WMS as the journal keeps it: what the
/// WMS acknowledged last and, while a call that changes it is on its way,
/// what the call asks for (journaled before the call).
struct wms_standing {
  wms_state known = wms_state::none;
  std::optional<wms_state> wanted;
};

bool operator==(const wms_standing& x, const wms_standing& y);

/// "KNOWN" or "KNOWN>WANTED" (e.g. "NONE>RESERVED"): the text journaled and
/// stored for a standing.
std::string to_string(const wms_standing& x);

/// Parses what to_string(wms_standing) writes. Returns false for anything
/// else, leaving in `out` what it could read: the known state (none if
/// unreadable) and the wanted one only if readable.
bool parse_wms_standing(std::string_view str, wms_standing& out);

/// One order's hold on one SKU.
struct hold_view {
  order_id order;
  int64_t quantity = 0;
  hold_kind kind = hold_kind::reserved;
  /// The batches the units come from, first to expire first.
  std::vector<lot_allocation> lots;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, hold_view& x) {
  return f(caf::meta::type_name("hold_view"), x.order, x.quantity, x.kind,
           x.lots);
}

/// A SKU's counters and every hold on it, taken at one moment (for audits).
struct stock_snapshot {
  stock_view view;
  std::vector<hold_view> holds;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stock_snapshot& x) {
  return f(caf::meta::type_name("stock_snapshot"), x.view, x.holds);
}

/// The answer of a SKU to a reservation. Running short is a value, not an
/// error: the order needs to know what was available to report it.
struct reserve_reply {
  bool granted = false;
  int64_t available = 0; // what was available when the request was decided
  money unit_price = 0;  // the price the units were granted at
  /// The batches the units were taken from (first to expire first).
  std::vector<lot_allocation> lots;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, reserve_reply& x) {
  return f(caf::meta::type_name("reserve_reply"), x.granted, x.available,
           x.unit_price, x.lots);
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
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, order_record& x) {
  return f(caf::meta::type_name("order_record"), x.id, x.customer, x.seller,
           x.lines, x.ship_to, x.status, x.total_amount, x.paid_amount,
           x.refunded_amount, x.payment_reference, x.cancel_reason,
           x.created_at, x.updated_at, x.hold_expires_at, x.history, x.payments,
           x.idempotency_key, x.request_fingerprint);
}

/// The units an order holds on one line in its current state.
int64_t held_quantity(const order_record& order, const order_line& line);

/// What the customer owes for the lines not cancelled.
money order_total(const std::vector<order_line>& lines);

/// What is still to be paid: the total less what was captured net of
/// refunds (never negative; nothing for a cancelled order).
money amount_due(const order_record& order);

/// The payment record with a PENDING status of `kind`, if any.
const payment_record* pending_payment(const order_record& order,
                                      payment_kind kind);

/// What the order actor is asked to do; the transition table decides whether
/// it may.
enum class command_kind : uint8_t {
  confirm = 0, // CREATED -> CONFIRMED: reserved units become blocked
  pay = 1,     // CREATED|CONFIRMED -> PAID: records a captured payment
  ship = 2,    // PAID -> SHIPPED: blocked units leave on-hand
  deliver = 3, // SHIPPED -> DELIVERED (the first seed's FULFILLED)
  cancel = 4,  // CREATED|CONFIRMED|PAID -> CANCELLED: holds go back
  expire = 5,  // CREATED -> CANCELLED when the hold TTL passes (timer only)
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
  /// whole order.
  std::vector<order_item> lines;
  /// If set, the order must belong to this customer (ORDER_NOT_FOUND
  /// otherwise, as if it did not exist).
  customer_id customer;
  /// pay: the client's idempotency key and request fingerprint, recorded
  /// with the charge.
  std::string client_key;
  std::string fingerprint;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, order_command& x) {
  return f(caf::meta::type_name("order_command"), x.kind, x.reason, x.amount,
           x.token, x.lines, x.customer, x.client_key, x.fingerprint);
}

// -- payments at the gateway --------------------------------------------------

/// How the payment gateway answered.
enum class gateway_status : uint8_t {
  approved = 0,    // charged or refunded
  declined = 1,    // refused, with a reason
  unavailable = 2, // no answer (timeout, outage): the outcome is unknown
  not_found = 3,   // lookup: the gateway never saw that key
};

/// "APPROVED", "DECLINED", "UNAVAILABLE", "NOT_FOUND".
const char* to_string(gateway_status x);

/// The gateway's answer to a charge, refund or lookup.
struct gateway_result {
  gateway_status status = gateway_status::unavailable;
  std::string reference;
  std::string reason;
  money amount = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, gateway_result& x) {
  return f(caf::meta::type_name("gateway_result"), x.status, x.reference,
           x.reason, x.amount);
}

// -- carts and customers ------------------------------------------------------

/// One line of a cart, priced now.
struct cart_line {
  sku_id sku;
  int64_t quantity = 0;
  money unit_price = 0;
  money line_total = 0;
  int64_t available = 0; // what the SKU had available when the view was made
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cart_line& x) {
  return f(caf::meta::type_name("cart_line"), x.sku, x.quantity, x.unit_price,
           x.line_total, x.available);
}

/// A customer's cart. A cart holds no stock: availability is checked again
/// when an order is placed.
struct cart_view {
  customer_id customer;
  std::vector<cart_line> lines;
  money total = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cart_view& x) {
  return f(caf::meta::type_name("cart_view"), x.customer, x.lines, x.total);
}

/// One page of a customer's orders, newest first.
struct order_page {
  std::vector<order_record> orders;
  /// Pass back to get the next page; empty on the last page.
  std::string next_cursor;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, order_page& x) {
  return f(caf::meta::type_name("order_page"), x.orders, x.next_cursor);
}

// -- events -------------------------------------------------------------------

/// What happened; the journal stores these in order. Stock events are deltas
/// (sku, order, quantity); order events carry the order's full state after the
/// change.
enum class event_kind : uint8_t {
  sku_created = 0,      // sku, amount = unit price
  price_set = 1,        // sku, amount = new unit price
  stock_received = 2,   // sku, quantity
  stock_reserved = 3,   // sku, order, quantity
  stock_blocked = 4,    // sku, order, quantity (reserved -> blocked)
  stock_released = 5,   // sku, order, quantity (back to available)
  stock_consumed = 6,   // sku, order, quantity (left on-hand on shipment)
  order_created = 7,    // order, snapshot
  order_changed = 8,    // order, snapshot (status, amounts or lines changed)
  customer_created = 9, // customer
  stock_moved = 10,     // sku, lot, quantity (+ into / - out of
                        // unallocatable), reason
  stock_adjusted = 11,  // sku, lot, quantity (signed), reason
  batch_expired = 12,   // sku, lot, quantity (remainder now EXPIRED)
  inbox_cursor = 13,    // a feed's cursor: source (reason), cursor (lot);
                        // or an inbound event recorded without effect:
                        // inbox_id, reason = why it was rejected
  wms_synced = 14,      // sku, order, quantity, reason = WMS state,
                        // amount = WMS change sequence (0: intent)
};

/// "sku_created", "price_set", ...
const char* to_string(event_kind x);

/// Parses what to_string(event_kind) writes; false for anything else.
bool parse_event_kind(std::string_view str, event_kind& out);

/// A customer known to the API: its bearer token is kept only as a SHA-256
/// hash (hex).
struct customer_record {
  customer_id id;
  std::string name;
  std::string token_hash;
  timestamp_ms created_at = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, customer_record& x) {
  return f(caf::meta::type_name("customer_record"), x.id, x.name, x.token_hash,
           x.created_at);
}

/// One domain event.
struct event {
  event_kind kind = event_kind::stock_received;
  timestamp_ms at = 0;
  sku_id sku;
  order_id order;
  int64_t quantity = 0;
  money amount = 0;
  order_record snapshot;    // order events only
  customer_record customer; // customer_created only
  /// Stock events: the batch, its expiry (receipts), the reason (moves,
  /// adjustments), the batches of a hold (stock_reserved).
  std::string lot;
  timestamp_ms expires_at = 0;
  std::string reason;
  std::vector<lot_allocation> lots;
  /// The id of the inbound event this change applies (inbox), if any: the
  /// journal records it with the change, so a replay changes nothing.
  std::string inbox_id;
  oms::seller seller = oms::seller::internal;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, event& x) {
  return f(caf::meta::type_name("event"), x.kind, x.at, x.sku, x.order,
           x.quantity, x.amount, x.snapshot, x.customer, x.lot, x.expires_at,
           x.reason, x.lots, x.inbox_id, x.seller);
}

/// Bucket bounds of the journal's histograms (cumulative counts, the last
/// bucket is +Inf).
inline constexpr uint64_t journal_batch_bounds[] = {
    1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096};
inline constexpr uint64_t journal_commit_us_bounds[] = {
    100,   250,   500,   1000,   2500,   5000,
    10000, 25000, 50000, 100000, 250000, 1000000};

/// Counters a JOURNAL reports about itself.
struct journal_stats {
  uint64_t events = 0;    // events made durable since start
  uint64_t batches = 0;   // commits (one transaction, one sync each)
  uint64_t appends = 0;   // append requests acknowledged
  uint64_t max_batch = 0; // most events in one commit
  uint64_t failures = 0;  // commits that failed
  uint64_t last_seq = 0;  // sequence number of the last durable event
  /// Commits by events per commit: count per bucket of journal_batch_bounds,
  /// plus one for larger batches (not cumulative).
  std::vector<uint64_t> batch_sizes;
  /// Commits by duration in microseconds, per bucket of
  /// journal_commit_us_bounds plus one for longer (not cumulative).
  std::vector<uint64_t> commit_us;
  uint64_t commit_us_sum = 0;
  /// Orders not yet terminal, by status (index: order_status).
  std::vector<uint64_t> open_orders;
  /// Orders that entered each status since start (index: order_status).
  std::vector<uint64_t> entered;
  /// True while the last commit failed: appends are not made durable (they
  /// answer STORE_FAILURE). The next commit that succeeds clears it.
  bool failing = false;
  /// When the failing began: wall clock, ms since the epoch (0 if not).
  timestamp_ms failing_since = 0;
  /// The error of the last failed commit ("" if not failing).
  std::string last_error;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, journal_stats& x) {
  return f(caf::meta::type_name("journal_stats"), x.events, x.batches,
           x.appends, x.max_batch, x.failures, x.last_seq, x.batch_sizes,
           x.commit_us, x.commit_us_sum, x.open_orders, x.entered, x.failing,
           x.failing_since, x.last_error);
}

// -- audit --------------------------------------------------------------------

/// One broken invariant found by an audit.
struct violation {
  sku_id sku;
  std::string what;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, violation& x) {
  return f(caf::meta::type_name("violation"), x.sku, x.what);
}

/// The result of checking the stock conservation invariants of every SKU
/// against the holds of every live order.
struct audit_report {
  uint64_t skus_checked = 0;
  uint64_t live_orders = 0;
  std::vector<violation> violations;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, audit_report& x) {
  return f(caf::meta::type_name("audit_report"), x.skus_checked, x.live_orders,
           x.violations);
}

} // namespace oms
