// The ORDER actor's plans for paying: checking a pay, writing a charge
// ahead, and settling it by the gateway's answer.
#include "actors/order_plan.hpp"

#include <nlohmann/json.hpp>

#include "actors/order_machine.hpp"

namespace oms {

namespace {

// The order PAID by the approved charge `charge` of `rec`; blocks the units
// of a CREATED order. Nothing if the paid amount would not fit (plan_pay
// refuses such a charge before the gateway hears of it).
std::optional<order_plan> charge_approved(const order_record& rec,
                                          size_t charge,
                                          const std::string& reference,
                                          timestamp_ms now) {
  auto paid = checked_add(rec.paid_amount, rec.payments[charge].amount);
  if (!paid)
    return std::nullopt;
  order_plan plan;
  plan.next = moved(rec, order_status::paid, "paid", 0, now);
  auto& p = plan.next.payments[charge];
  p.status = payment_status::succeeded;
  p.reference = reference;
  plan.next.paid_amount = *paid;
  plan.next.payment_reference = reference;
  plan.next.history.back().amount = p.amount;
  if (held_as(rec.status) == hold_kind::reserved)
    follow_holds(plan, rec, event_kind::stock_blocked, sku_op::block);
  return plan;
}

// The charge `charge` of `rec` marked failed for `reason`.
order_plan charge_failed(const order_record& rec, size_t charge,
                         const std::string& reason, timestamp_ms now) {
  order_plan plan;
  plan.next = rec;
  auto& p = plan.next.payments[charge];
  p.status = payment_status::failed;
  p.reason = reason;
  plan.next.updated_at = now;
  plan.next.history.push_back(history_entry{
      now, rec.status, rec.status, "PAYMENT_DECLINED: " + reason, p.amount});
  return plan;
}

} // namespace

planned<pay_start> plan_pay(const order_record& rec, money amount,
                            const std::string& client_key,
                            const std::string& fingerprint) {
  // A retry of a pay request whose charge went through meanwhile (found by
  // a lookup on expiry, say) is answered with the order as it is.
  if (!client_key.empty())
    for (auto& p : rec.payments)
      if (p.kind == payment_kind::charge && p.client_key == client_key &&
          p.fingerprint == fingerprint && p.status == payment_status::succeeded)
        return pay_start::answered;
  if (auto refusal = check_transition(rec, command_kind::pay))
    return *refusal;
  auto due = amount_due(rec);
  if (amount != due) {
    nlohmann::json details{{"expected", due}, {"given", amount}};
    return problem{errc::amount_mismatch,
                   "amount must equal the amount due of " + std::to_string(due),
                   details.dump()};
  }
  if (!checked_add(rec.paid_amount, amount))
    return problem{errc::internal, "the paid amount would not fit"};
  if (pending_payment(rec, payment_kind::charge))
    return pay_start::pending_charge;
  return pay_start::new_charge;
}

order_plan plan_charge(const order_record& rec, money amount,
                       std::string client_key, std::string fingerprint,
                       timestamp_ms now) {
  payment_record charge;
  charge.kind = payment_kind::charge;
  charge.gateway_key = next_gateway_key(rec, payment_kind::charge);
  charge.amount = amount;
  charge.at = now;
  charge.client_key = std::move(client_key);
  charge.fingerprint = std::move(fingerprint);
  order_plan plan;
  plan.next = rec;
  plan.next.payments.push_back(std::move(charge));
  plan.next.updated_at = now;
  return plan;
}

std::optional<order_plan> plan_settle_charge(const order_record& rec,
                                             const std::string& key,
                                             const gateway_result& res,
                                             timestamp_ms now) {
  auto i = find_payment(rec, key);
  if (!i || rec.payments[*i].kind != payment_kind::charge)
    return std::nullopt;
  switch (res.status) {
    case gateway_status::approved:
      return charge_approved(rec, *i, res.reference, now);
    case gateway_status::declined:
      return charge_failed(rec, *i, res.reason, now);
    case gateway_status::not_found:
      return charge_failed(rec, *i, "not received by the gateway", now);
    default:
      return std::nullopt;
  }
}

} // namespace oms
