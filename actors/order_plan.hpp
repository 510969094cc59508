// What the ORDER actor decides, as pure functions: each takes the order's
// record, a command or an answer it got, and the time, and says what the
// record becomes, which stock events are journaled with it and what the SKU
// actors of which lines do once it is durable; or why the command is
// refused. No actors, no clock, no I/O: the ORDER actor (actors/order*.cpp)
// only sends, awaits and replies, and these are unit-tested on their own
// (tests/order_plan_test.cpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <caf/error.hpp>

#include "actors/validation.hpp"
#include "messages/domain.hpp"
#include "messages/order_protocol.hpp"

namespace oms {

// -- plans --------------------------------------------------------------------

/// What the SKU actors of some lines are told once a change is durable.
enum class sku_op {
  none,
  block,   // reserved units become blocked
  consume, // blocked units leave on-hand (shipment)
  release, // the hold goes back to available
  reduce,  // the hold shrinks to what the order holds now
};

/// A change of one order, decided but not made yet.
struct order_plan {
  /// The record once the change is journaled.
  order_record next;
  /// The stock events journaled with it.
  std::vector<event> events;
  /// What the SKU actors of `lines` (indexes into the order's lines) do once
  /// the change is durable.
  sku_op op = sku_op::none;
  std::vector<size_t> lines;
};

/// A planner's answer: a value, or the problem that refuses the command.
template <class T>
class planned {
 public:
  planned(T value) : x_(std::move(value)) {}

  planned(problem refusal) : x_(std::move(refusal)) {}

  explicit operator bool() const { return x_.index() == 0; }

  T& operator*() { return std::get<0>(x_); }

  const T& operator*() const { return std::get<0>(x_); }

  T* operator->() { return &std::get<0>(x_); }

  const T* operator->() const { return &std::get<0>(x_); }

  /// Why the command is refused (only if there is no value).
  const problem& refusal() const { return std::get<1>(x_); }

 private:
  std::variant<T, problem> x_;
};

// -- building blocks ----------------------------------------------------------

/// `rec` moved to `to` at `now`, with a history entry for `reason` and
/// `amount`; leaving CREATED clears the hold's expiry.
order_record moved(const order_record& rec, order_status to, std::string reason,
                   money amount, timestamp_ms now);

/// The lines `rec` holds units on in its current state.
std::vector<size_t> held_lines(const order_record& rec);

/// A stock event of the order `order` on `sku`.
event stock_event(event_kind kind, timestamp_ms at, const sku_id& sku,
                  const order_id& order, int64_t quantity);

/// An order event carrying `snapshot` (order_created, order_changed).
event order_event(event_kind kind, const order_record& snapshot);

/// Adds to `plan` one `kind` event per line that `from` (the record before
/// the change) holds units on, with the units it holds, and has the SKU
/// actors of those lines do `op`.
void follow_holds(order_plan& plan, const order_record& from, event_kind kind,
                  sku_op op);

/// Where in `rec.payments` the payment with gateway key `key` is, if any.
std::optional<size_t> find_payment(const order_record& rec,
                                   const std::string& key);

/// The gateway key of the next charge or refund of `rec`: the order id, the
/// kind and the attempt number ("ord_1:charge:2").
std::string next_gateway_key(const order_record& rec, payment_kind kind);

/// The units per line of `rec` that `lines` (SKU and quantity) name, each
/// between 1 and `left` of its line: VALIDATION_FAILED naming
/// lines[j].sku for a SKU not in the order, named twice or with no unit
/// left, or lines[j].quantity for a quantity outside that range.
planned<std::vector<int64_t>>
quantities_per_line(const order_record& rec,
                    const std::vector<order_item>& lines,
                    int64_t (*left)(const order_line&));

// -- creation -----------------------------------------------------------------

/// The order a create request asks for (lines not priced yet), for the
/// order `current` (only its id set) with `sku_count` SKU actors. INTERNAL
/// if the order was created before or the SKU actors do not match the items.
planned<order_record> plan_new_order(const order_record& current,
                                     const create_order_request& req,
                                     size_t sku_count);

/// How a creation ends once every line's SKU actor has answered.
struct create_outcome {
  /// Why the order is not created, if it is not: replied once the granted
  /// lines (`plan.lines`, op release) are given back.
  std::optional<problem> refused;
  /// Not refused: the priced order, its hold expiring `hold_ttl` after
  /// `now`, with the order_created and stock_reserved events.
  order_plan plan;
};

/// A SKU actor's failure to answer a reservation, as a problem: one that
/// stopped before it answered (its shard moved to another node, or it is
/// restarting) is UNAVAILABLE (nothing is ordered: retry); any other
/// error as it came.
problem reservation_failure(const caf::error& err);

/// Decides a creation from each line's reservation reply (nothing: the SKU
/// actor failed; `sku_failure` is the first such error, if known): every
/// line granted creates the order; a line short refuses it with
/// INSUFFICIENT_STOCK (details list the short SKUs with what was
/// available); a failed SKU actor refuses it with that actor's error
/// (INTERNAL if it was not one of ours); every line granted but a total
/// that does not fit in `money` refuses it with VALIDATION_FAILED (details:
/// field items), every line to be released.
create_outcome
plan_create(const order_record& requested,
            const std::vector<std::optional<reserve_reply>>& replies,
            const std::optional<problem>& sku_failure, timestamp_ms now,
            std::chrono::milliseconds hold_ttl);

// -- transitions without money: confirm, ship, deliver -----------------------

/// confirm (reserved units become blocked), ship (every unit not shipped
/// yet, as one shipment without tracking: see plan_shipment) or deliver. INVALID_TRANSITION or ORDER_EXPIRED
/// as the table says; INTERNAL for a command that moves money or stock
/// otherwise (pay, cancel, expire).
planned<order_plan> plan_transition(const order_record& rec, command_kind cmd,
                                    timestamp_ms now);

// -- shipping -----------------------------------------------------------------

/// A shipment asked for, checked against the order.
struct shipment_check {
  /// Units to ship per line of the order (in line order).
  std::vector<int64_t> quantities;
  /// Whether that is every unit not shipped yet: the order ships whole.
  bool everything = false;
  /// A retry of a shipment made already (same client key and fingerprint):
  /// answer the order as it is.
  bool answered = false;
};

/// Checks a shipment of `lines` (SKU and quantity; none: every unit not
/// shipped yet) under the client key `client_key` with the request's
/// `fingerprint`: IDEMPOTENCY_KEY_REUSED if the key shipped another
/// request; INVALID_TRANSITION as the table says (only PAID and
/// PARTIALLY_SHIPPED orders ship); VALIDATION_FAILED for a SKU not in the
/// order or named twice, a quantity outside 1..what is left to ship, or
/// part of an EXTERNAL order (its WMS ships a reservation whole).
planned<shipment_check> check_shipment(const order_record& rec,
                                       const std::vector<order_item>& lines,
                                       const std::string& client_key,
                                       const std::string& fingerprint);

/// What a shipment records besides its units.
struct shipment_request {
  std::string carrier;
  std::string tracking_number;
  std::string client_key;
  std::string fingerprint;
};

/// Ships `quantities` units per line (checked by check_shipment) as the
/// order's next shipment ("shp_N"): consumes them from the order's own
/// block, the first units of each line's allocation first, and moves the
/// order to SHIPPED if nothing is left to ship, PARTIALLY_SHIPPED
/// otherwise. INVALID_TRANSITION as the table says; INTERNAL for a
/// quantity outside what is left or a shipment of nothing.
planned<order_plan> plan_shipment(const order_record& rec,
                                  const std::vector<int64_t>& quantities,
                                  shipment_request req, timestamp_ms now);

// -- returns ------------------------------------------------------------------

/// A step of a return, decided but not made yet.
struct return_plan {
  /// A retry of a request made already (same key and fingerprint): answer
  /// the order as it is; nothing else is set.
  bool answered = false;
  /// The decision, journaled first when the step changes stock (the return
  /// RECEIVING or INSPECTING): the step can then only be completed as
  /// decided.
  std::optional<order_plan> intent;
  /// The stock changes of the step, each under its own event id (applied
  /// once by the INBOX), made once the intent is durable: a step that fails
  /// half way is asked again and finds the changes made done.
  std::vector<stock_change> changes;
  /// The record once the step is done (built on the intent's, if any).
  order_plan plan;
};

/// Most returns one order records (rejected ones included).
inline constexpr size_t max_returns_per_order = 50;

/// Decides a step of a return of `rec` (the request's fingerprint: of its
/// lines and reasons, for a key). request: a DELIVERED order, within
/// `window` of its delivery, for at most what shipped of each SKU less
/// what returns not rejected take back; the units come back to the batches
/// they shipped from. receive: a REQUESTED return; its units arrive on
/// hand, set aside QUARANTINED. inspect: a RECEIVED return, every line
/// inspected with restock + damaged = its quantity; restocked units go
/// back to sale (an expired batch keeps them out of it), damaged ones are
/// set aside DAMAGED, and a PENDING refund of their value is owed. reject:
/// a REQUESTED return. Errors: INVALID_TRANSITION, RETURN_WINDOW_CLOSED,
/// NOT_FOUND (no such return), VALIDATION_FAILED (details name the
/// field), IDEMPOTENCY_KEY_REUSED.
planned<return_plan> plan_return(const order_record& rec,
                                 const return_command& cmd,
                                 const std::string& fingerprint,
                                 timestamp_ms now,
                                 std::chrono::milliseconds window);

// -- payment ------------------------------------------------------------------

/// What a pay command does first.
enum class pay_start {
  /// A retry of a pay whose charge went through meanwhile (same client key
  /// and fingerprint): answer the order as it is.
  answered,
  /// Journal a new PENDING charge (plan_charge), then charge.
  new_charge,
  /// An earlier charge's answer was lost: ask the gateway about it first.
  pending_charge,
};

/// Checks a pay of `amount` (the request's client key and fingerprint, if
/// any): INVALID_TRANSITION or ORDER_EXPIRED as the table says,
/// AMOUNT_MISMATCH unless `amount` is the amount due (details: expected,
/// given); INTERNAL if the paid amount would not fit in `money` (a record
/// breaking paid <= total).
planned<pay_start> plan_pay(const order_record& rec, money amount,
                            const std::string& client_key,
                            const std::string& fingerprint);

/// A new PENDING charge of `amount` under the next charge key (written ahead
/// of asking the gateway); the key is `next.payments.back().gateway_key`.
order_plan plan_charge(const order_record& rec, money amount,
                       std::string client_key, std::string fingerprint,
                       timestamp_ms now);

/// Settles the charge with gateway key `key` by the gateway's answer:
/// approved moves the order to PAID (blocking its units if it was CREATED);
/// declined, or not found by a lookup, marks the charge failed and says why
/// in the history. Nothing for an answer that tells no outcome
/// (unavailable), an unknown key, or an approval whose paid amount would
/// not fit in `money` (left PENDING rather than wrapped).
std::optional<order_plan> plan_settle_charge(const order_record& rec,
                                             const std::string& key,
                                             const gateway_result& res,
                                             timestamp_ms now);

// -- cancellation and refunds -------------------------------------------------

/// Cancels the whole order: by the customer (`cmd` cancel, `reason` or
/// CUSTOMER_REQUEST) or by its hold's expiry (`cmd` expire, reason EXPIRED).
/// Releases every held line and owes a PENDING refund of what was paid and
/// is not refunded or being refunded yet. INVALID_TRANSITION or
/// ORDER_EXPIRED as the table says.
planned<order_plan> plan_cancel(const order_record& rec, command_kind cmd,
                                const std::string& reason, timestamp_ms now);

/// A cancel of some lines checked against the order.
struct line_cancel {
  /// Units to cancel per line of the order (in line order).
  std::vector<int64_t> quantities;
  /// Whether that is every remaining unit: the whole order is cancelled.
  bool everything = false;
};

/// Checks a cancel of `lines` (SKU and quantity): INVALID_TRANSITION or
/// ORDER_EXPIRED as the table says; VALIDATION_FAILED for no lines, a SKU
/// not in the order or named twice, a quantity outside 1..remaining, or part
/// of an EXTERNAL order (its WMS keeps or releases a reservation whole).
planned<line_cancel> check_line_cancel(const order_record& rec,
                                       const std::vector<order_item>& lines);

/// Cancels `quantities` units per line (checked by check_line_cancel):
/// releases them, lowers the total, and owes a PENDING refund of their
/// value if the order is PAID. The reason is `reason` or PARTIAL_CANCEL.
/// INTERNAL if an amount does not fit in `money` (a part of a total that
/// fitted always does).
planned<order_plan> plan_partial_cancel(const order_record& rec,
                                        const std::vector<int64_t>& quantities,
                                        const std::string& reason,
                                        timestamp_ms now);

/// Adds to `next` a PENDING refund of `amount` under the next refund key,
/// for `reason` (nothing if amount <= 0).
void owe_refund(order_record& next, money amount, std::string reason,
                timestamp_ms now);

/// What was paid and is neither refunded nor being refunded (may be
/// negative if refunds exceed it; the lowest `money` if that does not fit).
money refund_owed(const order_record& rec);

/// A refund to ask the gateway for.
struct refund_call {
  std::string key;
  /// The reference of the charge it refunds.
  std::string charge_reference;
  money amount = 0;
};

/// The first PENDING refund of `rec`, if any.
std::optional<refund_call> next_refund(const order_record& rec);

/// Records the gateway's answer to the refund with key `key`: approved adds
/// it to the refunded amount; refused marks it failed and says so in the
/// history (a person must look at it). Nothing for no answer (unavailable:
/// ask again later), an unknown key, or an approval whose refunded amount
/// would not fit in `money` (left PENDING rather than wrapped).
std::optional<order_plan> plan_refund_outcome(const order_record& rec,
                                              const std::string& key,
                                              const gateway_result& res,
                                              timestamp_ms now);

/// How long to wait before asking about unanswered refunds again after
/// `retries` retries: `interval`, doubled per retry, at most `interval_max`.
std::chrono::milliseconds
refund_retry_delay(uint32_t retries, std::chrono::milliseconds interval,
                   std::chrono::milliseconds interval_max);

} // namespace oms
