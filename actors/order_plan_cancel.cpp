// The ORDER actor's plans for cancelling, whole or in part, and for the
// refunds a cancelled payment owes.
#include "actors/order_plan.hpp"

#include <algorithm>
#include <limits>

#include "actors/order_machine.hpp"

namespace oms {

namespace {

// Cancels `quantities` units per line, moving the order to `to`: releases
// them, lowers the total, and owes a PENDING refund of their value if the
// order was paid.
planned<order_plan> cancel_units(const order_record& rec,
                                 const std::vector<int64_t>& quantities,
                                 const std::string& why, order_status to,
                                 timestamp_ms now) {
  if (quantities.size() != rec.lines.size())
    return problem{errc::internal, "one quantity per line expected"};
  order_plan plan;
  plan.next = moved(rec, to, why, 0, now);
  plan.op = sku_op::reduce;
  auto& next = plan.next;
  money cancelled_value = 0;
  for (size_t i = 0; i < next.lines.size(); ++i) {
    auto qty = quantities[i];
    if (qty == 0)
      continue;
    if (qty < 0 || qty > unshipped_quantity(next.lines[i]))
      return problem{errc::internal, "more cancelled than the line holds"};
    next.lines[i].cancelled_quantity += qty;
    // Part of a total that fitted fits; checked all the same.
    auto value = checked_mul(qty, next.lines[i].unit_price);
    auto sum = value ? checked_add(cancelled_value, *value) : std::nullopt;
    if (!sum)
      return problem{errc::internal, "the cancelled value does not fit"};
    cancelled_value = *sum;
    plan.events.push_back(stock_event(event_kind::stock_released, now,
                                      next.lines[i].sku, next.id, qty));
    plan.lines.push_back(i);
  }
  auto total = order_total(next.lines);
  if (!total)
    return problem{errc::internal, "the order's total does not fit"};
  next.total_amount = *total;
  next.history.back().amount = cancelled_value;
  if (rec.status == order_status::paid ||
      rec.status == order_status::partially_shipped)
    owe_refund(next, cancelled_value, why, now);
  return plan;
}

} // namespace

void owe_refund(order_record& next, money amount, std::string reason,
                timestamp_ms now) {
  if (amount <= 0)
    return;
  payment_record refund;
  refund.kind = payment_kind::refund;
  refund.gateway_key = next_gateway_key(next, payment_kind::refund);
  refund.amount = amount;
  refund.reason = std::move(reason);
  refund.at = now;
  next.payments.push_back(std::move(refund));
}

money refund_owed(const order_record& rec) {
  // Paid and refunded amounts are never negative, and pending refunds never
  // exceed what was paid; a record beyond that owes nothing back.
  auto owed = checked_sub(rec.paid_amount, rec.refunded_amount);
  for (auto& p : rec.payments)
    if (owed && p.kind == payment_kind::refund &&
        p.status == payment_status::pending)
      owed = checked_sub(*owed, p.amount);
  return owed ? *owed : std::numeric_limits<money>::min();
}

planned<order_plan> plan_cancel(const order_record& rec, command_kind cmd,
                                const std::string& reason, timestamp_ms now) {
  if (cmd != command_kind::cancel && cmd != command_kind::expire)
    return problem{errc::internal,
                   std::string{to_string(cmd)} + " does not cancel an order"};
  if (auto refusal = check_transition(rec, cmd))
    return *refusal;
  auto why = cmd == command_kind::expire ? std::string{expired_reason}
             : reason.empty()            ? std::string{"CUSTOMER_REQUEST"}
                                         : reason;
  if (rec.status == order_status::partially_shipped) {
    // What shipped stays shipped: the rest is cancelled and refunded, and
    // the order is SHIPPED.
    std::vector<int64_t> rest;
    for (auto& line : rec.lines)
      rest.push_back(unshipped_quantity(line));
    return cancel_units(rec, rest, why, *next_status(rec.status, cmd), now);
  }
  order_plan plan;
  plan.next = moved(rec, order_status::cancelled, why, 0, now);
  plan.next.cancel_reason = why;
  auto owed = refund_owed(rec);
  owe_refund(plan.next, owed, "order cancelled", now);
  plan.next.history.back().amount = std::max<money>(owed, 0);
  follow_holds(plan, rec, event_kind::stock_released, sku_op::release);
  return plan;
}

planned<line_cancel> check_line_cancel(const order_record& rec,
                                       const std::vector<order_item>& lines) {
  if (auto refusal = check_transition(rec, command_kind::cancel))
    return *refusal;
  if (lines.empty())
    return field_problem("lines",
                         "lines must name at least one line to cancel");
  line_cancel result;
  auto quantities = quantities_per_line(rec, lines, unshipped_quantity);
  if (!quantities)
    return quantities.refusal();
  result.quantities = std::move(*quantities);
  result.everything = true;
  for (size_t i = 0; i < rec.lines.size(); ++i)
    if (unshipped_quantity(rec.lines[i]) != result.quantities[i])
      result.everything = false;
  return result;
}

planned<order_plan> plan_partial_cancel(const order_record& rec,
                                        const std::vector<int64_t>& quantities,
                                        const std::string& reason,
                                        timestamp_ms now) {
  if (auto refusal = check_transition(rec, command_kind::cancel))
    return *refusal;
  auto why = reason.empty() ? std::string{"PARTIAL_CANCEL"} : reason;
  return cancel_units(rec, quantities, why, rec.status, now);
}

std::optional<refund_call> next_refund(const order_record& rec) {
  auto* pending = pending_payment(rec, payment_kind::refund);
  if (!pending)
    return std::nullopt;
  refund_call call;
  for (auto& p : rec.payments)
    if (p.kind == payment_kind::charge && p.status == payment_status::succeeded)
      call.charge_reference = p.reference;
  call.key = pending->gateway_key;
  call.amount = pending->amount;
  return call;
}

std::optional<order_plan> plan_refund_outcome(const order_record& rec,
                                              const std::string& key,
                                              const gateway_result& res,
                                              timestamp_ms now) {
  if (res.status == gateway_status::unavailable)
    return std::nullopt;
  auto i = find_payment(rec, key);
  if (!i || rec.payments[*i].kind != payment_kind::refund)
    return std::nullopt;
  order_plan plan;
  plan.next = rec;
  auto& next = plan.next;
  auto* p = &next.payments[*i];
  next.updated_at = now;
  if (res.status == gateway_status::approved) {
    // Refunds never exceed what was paid, so this fits; a sum that would
    // not is left unrecorded (the refund stays PENDING) rather than wrapped.
    auto refunded = checked_add(next.refunded_amount, p->amount);
    if (!refunded)
      return std::nullopt;
    p->status = payment_status::succeeded;
    p->reference = res.reference;
    next.refunded_amount = *refunded;
    // The refund of a return settles it.
    for (auto& r : next.returns)
      if (r.refund_key == key && r.status == return_status::inspected) {
        r.status = return_status::refunded;
        r.updated_at = now;
      }
  } else {
    // A refused refund needs a person: the history says so.
    p->status = payment_status::failed;
    p->reason = res.reason;
    next.history.push_back(history_entry{now, next.status, next.status,
                                         "REFUND_DECLINED: " + res.reason,
                                         p->amount});
  }
  return plan;
}

std::chrono::milliseconds
refund_retry_delay(uint32_t retries, std::chrono::milliseconds interval,
                   std::chrono::milliseconds interval_max) {
  auto delay = interval;
  for (uint32_t i = 0; i < retries && delay < interval_max; ++i)
    delay *= 2;
  return std::min(delay, interval_max);
}

} // namespace oms
