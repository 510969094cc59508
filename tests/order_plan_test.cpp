// The ORDER actor's planners on their own: records in, plans or refusals
// out, no actors and no clock.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "actors/order_machine.hpp"
#include "actors/order_plan.hpp"

using namespace oms;

namespace {

constexpr timestamp_ms order_plan_t0 = 1'700'000'000'000;
constexpr timestamp_ms later = order_plan_t0 + 60'000;

// An order "ord_1" of customer c1 in `status`: line A 3 x 100, line B 2 x 250
// (total 800), created at order_plan_t0.
order_record sample(order_status status = order_status::created) {
  order_record rec;
  rec.id = "ord_1";
  rec.customer = "c1";
  rec.status = status;
  rec.lines = {order_line{"A", 3, 100, 0, 0, {}},
               order_line{"B", 2, 250, 0, 0, {}}};
  rec.total_amount = 800;
  rec.created_at = order_plan_t0;
  rec.updated_at = order_plan_t0;
  rec.hold_expires_at =
      status == order_status::created ? order_plan_t0 + 900'000 : 0;
  return rec;
}

payment_record payment(payment_kind kind, std::string key, money amount,
                       payment_status status, std::string reference = {}) {
  payment_record p;
  p.kind = kind;
  p.gateway_key = std::move(key);
  p.amount = amount;
  p.status = status;
  p.reference = std::move(reference);
  return p;
}

// `sample(paid)` with its charge of 800 succeeded as "ref_c1".
order_record paid_sample() {
  auto rec = sample(order_status::paid);
  rec.payments.push_back(payment(payment_kind::charge, "ord_1:charge:1", 800,
                                 payment_status::succeeded, "ref_c1"));
  rec.paid_amount = 800;
  rec.payment_reference = "ref_c1";
  return rec;
}

gateway_result answer(gateway_status status, std::string reference = {},
                      std::string reason = {}) {
  gateway_result res;
  res.status = status;
  res.reference = std::move(reference);
  res.reason = std::move(reason);
  return res;
}

nlohmann::json details(const problem& p) {
  return nlohmann::json::parse(p.details_json);
}

std::vector<event_kind> kinds(const std::vector<event>& events) {
  std::vector<event_kind> result;
  for (auto& ev : events)
    result.push_back(ev.kind);
  return result;
}

reserve_reply granted(money unit_price) {
  reserve_reply r;
  r.granted = true;
  r.unit_price = unit_price;
  r.lots = {lot_allocation{"lot-1", 1}};
  return r;
}

reserve_reply short_of(int64_t available) {
  reserve_reply r;
  r.available = available;
  return r;
}

// How the creation of sample's lines (unpriced) ends at order_plan_t0 with a hold of
// 15 minutes, given each line's reservation reply.
create_outcome
create_with(const std::vector<std::optional<reserve_reply>>& replies,
            const std::optional<problem>& sku_failure = std::nullopt) {
  auto rec = sample();
  for (auto& line : rec.lines)
    line.unit_price = 0;
  rec.total_amount = 0;
  rec.created_at = rec.updated_at = rec.hold_expires_at = 0;
  return plan_create(rec, replies, sku_failure, order_plan_t0,
                     std::chrono::minutes(15));
}

} // namespace

// -- creation -----------------------------------------------------------------

TEST_CASE("a create request becomes an unpriced CREATED order of its lines") {
  // Proves the request's fields land in the record, and that a second create
  // or a SKU list that does not match the items is refused.
  order_record current;
  current.id = "ord_9";
  create_order_request req{
      "c7",
      {{"A", 2, seller::external}, {"B", 1, seller::external}},
      address{"1 Road", "", "City", "560001", "IN"},
      "key-1",
      "fp-1"};
  auto rec = plan_new_order(current, req, 2);
  REQUIRE(rec);
  CHECK(rec->id == "ord_9");
  CHECK(rec->customer == "c7");
  CHECK(rec->seller == seller::external);
  CHECK(rec->status == order_status::created);
  CHECK(rec->idempotency_key == "key-1");
  CHECK(rec->request_fingerprint == "fp-1");
  REQUIRE(rec->lines.size() == 2);
  CHECK(rec->lines[1].sku == "B");
  CHECK(rec->lines[1].quantity == 1);
  CHECK(rec->lines[1].unit_price == 0);
  CHECK(plan_new_order(*rec, req, 2).refusal().code == errc::internal);
  CHECK(plan_new_order(current, req, 1).refusal().code == errc::internal);
}

TEST_CASE("every line granted prices the order, starts its hold and journals "
          "order_created then one stock_reserved per line") {
  // Proves the creation plan: prices from the SKUs' replies, the total, the
  // hold's expiry from the TTL, and the events in order with their lots.
  auto out = create_with({granted(100), granted(250)});
  REQUIRE_FALSE(out.refused);
  auto& rec = out.plan.next;
  CHECK(rec.lines[0].unit_price == 100);
  CHECK(rec.lines[1].unit_price == 250);
  CHECK(rec.total_amount == 800);
  CHECK(rec.created_at == order_plan_t0);
  CHECK(rec.hold_expires_at == order_plan_t0 + 900'000);
  REQUIRE(rec.history.size() == 1);
  CHECK(rec.history[0].reason == "created");
  CHECK(rec.history[0].amount == 800);
  CHECK(kinds(out.plan.events) ==
        std::vector<event_kind>{event_kind::order_created,
                                event_kind::stock_reserved,
                                event_kind::stock_reserved});
  CHECK(out.plan.events[0].snapshot.total_amount == 800);
  CHECK(out.plan.events[2].sku == "B");
  CHECK(out.plan.events[2].quantity == 2);
  CHECK(out.plan.events[2].lots.size() == 1);
  CHECK(out.plan.op == sku_op::none);
  CHECK(out.plan.lines.empty());
}

TEST_CASE("a line short refuses the creation with INSUFFICIENT_STOCK naming "
          "it, and only the granted lines are released") {
  // Proves the refusal's details and that nothing stays reserved.
  auto out = create_with({granted(100), short_of(1)});
  REQUIRE(out.refused);
  CHECK(out.refused->code == errc::insufficient_stock);
  CHECK(out.refused->message == "not enough stock for 1 SKU(s)");
  auto skus = details(*out.refused)["skus"];
  REQUIRE(skus.size() == 1);
  CHECK(skus[0]["sku"] == "B");
  CHECK(skus[0]["requested"] == 2);
  CHECK(skus[0]["available"] == 1);
  CHECK(out.plan.op == sku_op::release);
  CHECK(out.plan.lines == std::vector<size_t>{0});
  CHECK(out.plan.events.empty());
}

TEST_CASE("a SKU actor that failed refuses the creation with its error, or "
          "INTERNAL if the error is not one of ours") {
  // Proves which error a broken reservation replies.
  std::vector<std::optional<reserve_reply>> replies{std::nullopt, granted(250)};
  auto out = create_with(replies, problem{errc::wms_unavailable, "WMS down"});
  REQUIRE(out.refused);
  CHECK(out.refused->code == errc::wms_unavailable);
  CHECK(out.refused->message == "WMS down");
  CHECK(out.plan.lines == std::vector<size_t>{1});
  out = create_with(replies, problem{errc::internal, "x"});
  CHECK(out.refused->code == errc::internal);
  CHECK(out.refused->message == "a SKU actor did not answer");
  out = create_with(replies);
  CHECK(out.refused->code == errc::internal);
}

TEST_CASE("a SKU actor that stopped before it answered a reservation "
          "refuses the creation UNAVAILABLE (retryable: nothing is "
          "ordered), and any other error as it came") {
  auto gone =
      reservation_failure(caf::make_error(caf::sec::request_receiver_down));
  CHECK(gone.code == errc::unavailable);
  auto ours =
      reservation_failure(make_error(errc::wms_unavailable, "WMS down"));
  CHECK(ours.code == errc::wms_unavailable);
  CHECK(ours.message == "WMS down");
  std::vector<std::optional<reserve_reply>> replies{std::nullopt, granted(250)};
  auto out = create_with(replies, gone);
  REQUIRE(out.refused);
  CHECK(out.refused->code == errc::unavailable);
  CHECK(out.plan.lines == std::vector<size_t>{1});
}

TEST_CASE("money: every line granted but a total that does not fit refuses "
          "the creation with VALIDATION_FAILED and releases every line") {
  // Proves the order is never priced with a wrapped total: a line whose
  // product overflows, or lines whose sum does, refuse the creation before
  // anything is journaled, and every granted line is given back.
  for (auto prices : {std::pair<money, money>{INT64_MAX / 2, 250},
                      std::pair<money, money>{2'000'000'000'000'000'000,
                                              2'000'000'000'000'000'000}}) {
    auto out = create_with({granted(prices.first), granted(prices.second)});
    REQUIRE(out.refused);
    CHECK(out.refused->code == errc::validation_failed);
    CHECK(details(*out.refused)["field"] == "items");
    CHECK(out.plan.op == sku_op::release);
    CHECK(out.plan.lines == std::vector<size_t>{0, 1});
    CHECK(out.plan.events.empty());
  }
  // The largest total that fits is kept: 3 x p + 2 x q = INT64_MAX.
  auto edge = create_with({granted(1), granted((INT64_MAX - 3) / 2)});
  REQUIRE_FALSE(edge.refused);
  CHECK(edge.plan.next.total_amount == INT64_MAX);
}

// -- transitions without money ------------------------------------------------

TEST_CASE("confirm blocks the units of every line the order still holds") {
  // Proves one stock_blocked event per held line with the held quantity (a
  // partly cancelled line holds what is left, a fully cancelled one none).
  auto rec = sample();
  rec.lines[0].cancelled_quantity = 1;
  rec.lines[1].cancelled_quantity = 2;
  auto plan = plan_transition(rec, command_kind::confirm, later);
  REQUIRE(plan);
  CHECK(plan->next.status == order_status::confirmed);
  CHECK(plan->next.hold_expires_at == 0);
  CHECK(plan->next.updated_at == later);
  CHECK(plan->next.history.back().reason == "confirm");
  CHECK(plan->op == sku_op::block);
  CHECK(plan->lines == std::vector<size_t>{0});
  REQUIRE(plan->events.size() == 1);
  CHECK(plan->events[0].kind == event_kind::stock_blocked);
  CHECK(plan->events[0].quantity == 2);
  CHECK(plan->events[0].at == later);
}

TEST_CASE("ship consumes the held units and records them as shipped") {
  // Proves the consume events and the shipped quantities.
  auto plan = plan_transition(paid_sample(), command_kind::ship, later);
  REQUIRE(plan);
  CHECK(plan->next.status == order_status::shipped);
  CHECK(plan->op == sku_op::consume);
  CHECK(plan->lines == std::vector<size_t>{0, 1});
  CHECK(kinds(plan->events) ==
        std::vector<event_kind>{event_kind::stock_consumed,
                                event_kind::stock_consumed});
  CHECK(plan->next.lines[0].shipped_quantity == 3);
  CHECK(plan->next.lines[1].shipped_quantity == 2);
}

TEST_CASE("deliver moves no stock") {
  auto plan = plan_transition(sample(order_status::shipped),
                              command_kind::deliver, order_plan_t0);
  REQUIRE(plan);
  CHECK(plan->next.status == order_status::delivered);
  CHECK(plan->op == sku_op::none);
  CHECK(plan->events.empty());
}

TEST_CASE("a transition the table refuses is INVALID_TRANSITION naming the "
          "status and the command") {
  // Proves the refusal text and details the API shows.
  auto plan = plan_transition(sample(), command_kind::ship, order_plan_t0);
  REQUIRE_FALSE(plan);
  CHECK(plan.refusal().code == errc::invalid_transition);
  CHECK(plan.refusal().message == "cannot ship an order in state CREATED");
  CHECK(details(plan.refusal()) ==
        nlohmann::json{{"status", "CREATED"}, {"command", "ship"}});
  CHECK_FALSE(
      plan_transition(paid_sample(), command_kind::deliver, order_plan_t0));
  CHECK_FALSE(plan_transition(sample(order_status::delivered),
                              command_kind::ship, order_plan_t0));
}

TEST_CASE("confirming an order whose hold expired is ORDER_EXPIRED") {
  auto rec = sample(order_status::cancelled);
  rec.cancel_reason = expired_reason;
  auto plan = plan_transition(rec, command_kind::confirm, order_plan_t0);
  REQUIRE_FALSE(plan);
  CHECK(plan.refusal().code == errc::order_expired);
  rec.cancel_reason = "CUSTOMER_REQUEST";
  CHECK(plan_transition(rec, command_kind::confirm, order_plan_t0)
            .refusal()
            .code == errc::invalid_transition);
}

TEST_CASE("pay, cancel and expire are not transitions without money") {
  for (auto cmd :
       {command_kind::pay, command_kind::cancel, command_kind::expire})
    CHECK(plan_transition(sample(), cmd, order_plan_t0).refusal().code ==
          errc::internal);
}

TEST_CASE("transition_error refuses even a command the table allows") {
  // Proves the SUPERVISOR's answer for an order whose actor has ended: it
  // takes no more commands.
  auto err = transition_error(sample(), command_kind::confirm);
  CHECK(err.code == errc::invalid_transition);
  CHECK_FALSE(check_transition(sample(), command_kind::confirm));
  REQUIRE(check_transition(sample(), command_kind::deliver));
}

// -- payment ------------------------------------------------------------------

TEST_CASE("a pay of the amount due charges anew, or first looks up a charge "
          "whose answer was lost") {
  auto rec = sample();
  auto start = plan_pay(rec, 800, "", "");
  REQUIRE(start);
  CHECK(*start == pay_start::new_charge);
  rec.payments.push_back(payment(payment_kind::charge, "ord_1:charge:1", 800,
                                 payment_status::pending));
  CHECK(*plan_pay(rec, 800, "", "") == pay_start::pending_charge);
}

TEST_CASE("a pay of another amount than the amount due is AMOUNT_MISMATCH") {
  // Proves the details the client gets (what was expected and given).
  auto start = plan_pay(sample(), 799, "", "");
  REQUIRE_FALSE(start);
  CHECK(start.refusal().code == errc::amount_mismatch);
  CHECK(start.refusal().message == "amount must equal the amount due of 800");
  CHECK(details(start.refusal()) ==
        nlohmann::json{{"expected", 800}, {"given", 799}});
  CHECK(plan_pay(sample(), 801, "", "").refusal().code ==
        errc::amount_mismatch);
}

TEST_CASE("a pay retry whose charge went through is answered as it is, only "
          "for the same key and fingerprint") {
  auto rec = paid_sample();
  rec.payments[0].client_key = "k1";
  rec.payments[0].fingerprint = "fp1";
  CHECK(*plan_pay(rec, 800, "k1", "fp1") == pay_start::answered);
  CHECK(plan_pay(rec, 800, "k1", "fp2").refusal().code ==
        errc::invalid_transition);
  CHECK(plan_pay(rec, 800, "k2", "fp1").refusal().code ==
        errc::invalid_transition);
  CHECK(plan_pay(rec, 800, "", "").refusal().code == errc::invalid_transition);
}

TEST_CASE("paying a shipped order is refused, an expired one ORDER_EXPIRED") {
  CHECK(plan_pay(sample(order_status::shipped), 800, "", "").refusal().code ==
        errc::invalid_transition);
  auto rec = sample(order_status::cancelled);
  rec.cancel_reason = expired_reason;
  CHECK(plan_pay(rec, 0, "", "").refusal().code == errc::order_expired);
}

TEST_CASE("gateway keys count the attempts of each kind") {
  // Proves the key sequence: order id, kind, attempt number per kind.
  auto rec = sample();
  auto first = plan_charge(rec, 800, "k1", "fp1", later);
  REQUIRE(first.next.payments.size() == 1);
  auto& charge = first.next.payments.back();
  CHECK(charge.gateway_key == "ord_1:charge:1");
  CHECK(charge.status == payment_status::pending);
  CHECK(charge.amount == 800);
  CHECK(charge.client_key == "k1");
  CHECK(charge.fingerprint == "fp1");
  CHECK(charge.at == later);
  CHECK(first.next.updated_at == later);
  CHECK(first.next.status == order_status::created);
  CHECK(first.events.empty());
  auto failed =
      plan_settle_charge(first.next, "ord_1:charge:1",
                         answer(gateway_status::declined, "", "x"), later);
  REQUIRE(failed);
  auto second = plan_charge(failed->next, 800, "", "", later);
  CHECK(second.next.payments.back().gateway_key == "ord_1:charge:2");
  CHECK(next_gateway_key(second.next, payment_kind::refund) ==
        "ord_1:refund:1");
}

TEST_CASE("an approved charge pays a CREATED order and blocks its units") {
  auto rec = plan_charge(sample(), 800, "", "", order_plan_t0).next;
  auto plan = plan_settle_charge(
      rec, "ord_1:charge:1", answer(gateway_status::approved, "ref_9"), later);
  REQUIRE(plan);
  auto& next = plan->next;
  CHECK(next.status == order_status::paid);
  CHECK(next.paid_amount == 800);
  CHECK(next.payment_reference == "ref_9");
  CHECK(next.payments[0].status == payment_status::succeeded);
  CHECK(next.payments[0].reference == "ref_9");
  CHECK(next.hold_expires_at == 0);
  CHECK(next.history.back().reason == "paid");
  CHECK(next.history.back().amount == 800);
  CHECK(plan->op == sku_op::block);
  CHECK(kinds(plan->events) ==
        std::vector<event_kind>{event_kind::stock_blocked,
                                event_kind::stock_blocked});
}

TEST_CASE("an approved charge of a CONFIRMED order moves no stock") {
  auto rec =
      plan_charge(sample(order_status::confirmed), 800, "", "", order_plan_t0)
          .next;
  auto plan = plan_settle_charge(
      rec, "ord_1:charge:1", answer(gateway_status::approved, "ref_9"), later);
  REQUIRE(plan);
  CHECK(plan->next.status == order_status::paid);
  CHECK(plan->op == sku_op::none);
  CHECK(plan->events.empty());
}

TEST_CASE("a declined or lost charge is marked failed and the history says "
          "why, no answer settles nothing") {
  auto rec = plan_charge(sample(), 800, "", "", order_plan_t0).next;
  auto declined = plan_settle_charge(
      rec, "ord_1:charge:1",
      answer(gateway_status::declined, "", "insufficient_funds"), later);
  REQUIRE(declined);
  CHECK(declined->next.status == order_status::created);
  CHECK(declined->next.paid_amount == 0);
  CHECK(declined->next.payments[0].status == payment_status::failed);
  CHECK(declined->next.payments[0].reason == "insufficient_funds");
  CHECK(declined->next.history.back().reason ==
        "PAYMENT_DECLINED: insufficient_funds");
  CHECK(declined->next.history.back().amount == 800);
  CHECK(declined->events.empty());
  auto lost = plan_settle_charge(rec, "ord_1:charge:1",
                                 answer(gateway_status::not_found), later);
  REQUIRE(lost);
  CHECK(lost->next.payments[0].reason == "not received by the gateway");
  CHECK_FALSE(plan_settle_charge(rec, "ord_1:charge:1",
                                 answer(gateway_status::unavailable), later));
  CHECK_FALSE(plan_settle_charge(rec, "ord_1:charge:7",
                                 answer(gateway_status::approved), later));
}

// -- cancellation and refunds -------------------------------------------------

TEST_CASE("cancelling a CREATED order releases every held line and owes no "
          "refund") {
  auto plan = plan_cancel(sample(), command_kind::cancel, "", later);
  REQUIRE(plan);
  CHECK(plan->next.status == order_status::cancelled);
  CHECK(plan->next.cancel_reason == "CUSTOMER_REQUEST");
  CHECK(plan->next.history.back().amount == 0);
  CHECK(plan->next.payments.empty());
  CHECK(plan->op == sku_op::release);
  CHECK(plan->lines == std::vector<size_t>{0, 1});
  CHECK(kinds(plan->events) ==
        std::vector<event_kind>{event_kind::stock_released,
                                event_kind::stock_released});
  CHECK(plan->events[0].quantity == 3);
  CHECK(plan_cancel(sample(), command_kind::cancel, "changed my mind", later)
            ->next.cancel_reason == "changed my mind");
}

TEST_CASE("cancelling a paid order owes what was paid less what is refunded "
          "or being refunded") {
  // Proves the refund arithmetic: 800 paid, 100 refunded, 200 pending -> a
  // new PENDING refund of 500 under the third refund key.
  auto rec = paid_sample();
  rec.payments.push_back(payment(payment_kind::refund, "ord_1:refund:1", 100,
                                 payment_status::succeeded, "ref_r1"));
  rec.payments.push_back(payment(payment_kind::refund, "ord_1:refund:2", 200,
                                 payment_status::pending));
  rec.refunded_amount = 100;
  CHECK(refund_owed(rec) == 500);
  auto plan = plan_cancel(rec, command_kind::cancel, "", later);
  REQUIRE(plan);
  auto& refund = plan->next.payments.back();
  CHECK(refund.kind == payment_kind::refund);
  CHECK(refund.gateway_key == "ord_1:refund:3");
  CHECK(refund.amount == 500);
  CHECK(refund.status == payment_status::pending);
  CHECK(refund.reason == "order cancelled");
  CHECK(plan->next.history.back().amount == 500);
  CHECK(plan->next.refunded_amount == 100);
}

TEST_CASE("a paid order refunded beyond what it owes gets no new refund") {
  auto rec = paid_sample();
  rec.refunded_amount = 900;
  CHECK(refund_owed(rec) == -100);
  auto plan = plan_cancel(rec, command_kind::cancel, "", later);
  REQUIRE(plan);
  CHECK(plan->next.payments.size() == 1);
  CHECK(plan->next.history.back().amount == 0);
}

TEST_CASE("expiry cancels a CREATED order with reason EXPIRED and nothing "
          "else") {
  auto plan = plan_cancel(sample(), command_kind::expire, "ignored", later);
  REQUIRE(plan);
  CHECK(plan->next.cancel_reason == expired_reason);
  CHECK(plan->next.history.back().reason == expired_reason);
  CHECK(plan_cancel(sample(order_status::confirmed), command_kind::expire, "",
                    later)
            .refusal()
            .code == errc::invalid_transition);
  CHECK(
      plan_cancel(sample(), command_kind::confirm, "", later).refusal().code ==
      errc::internal);
}

TEST_CASE("cancel after SHIPPED or of a cancelled order is refused") {
  CHECK(plan_cancel(sample(order_status::shipped), command_kind::cancel, "",
                    later)
            .refusal()
            .code == errc::invalid_transition);
  CHECK_FALSE(check_line_cancel(sample(order_status::cancelled),
                                {{"A", 1, seller::internal}}));
}

TEST_CASE("a cancel of lines is refused for bad lines, naming the field") {
  // Proves each validation: unknown SKU, repeated SKU, quantity 0 or above
  // what remains (after an earlier partial cancel), no lines.
  auto rec = sample();
  rec.lines[0].cancelled_quantity = 1; // A: 2 remain
  // The message, then the field the details name.
  auto refused = [&](std::vector<order_item> lines) {
    auto checked = check_line_cancel(rec, lines);
    REQUIRE_FALSE(checked);
    CHECK(checked.refusal().code == errc::validation_failed);
    return checked.refusal().message + " | " +
           details(checked.refusal())["field"].get<std::string>();
  };
  CHECK(refused({{"Z", 1, seller::internal}}) ==
        "lines[0].sku Z is not in the order | lines[0].sku");
  CHECK(refused({{"A", 1, seller::internal}, {"A", 1, seller::internal}}) ==
        "lines[1].sku repeats SKU A | lines[1].sku");
  CHECK(refused({{"A", 0, seller::internal}}) ==
        "lines[0].quantity must be between 1 and 2 | lines[0].quantity");
  CHECK(refused({{"B", 1, seller::internal}, {"A", 3, seller::internal}}) ==
        "lines[1].quantity must be between 1 and 2 | lines[1].quantity");
  CHECK(refused({}) == "lines must name at least one line to cancel | lines");
}

TEST_CASE("cancelling every remaining unit is a cancel of the whole order") {
  auto rec = sample();
  rec.lines[0].cancelled_quantity = 1;
  auto checked = check_line_cancel(
      rec, {{"B", 2, seller::internal}, {"A", 2, seller::internal}});
  REQUIRE(checked);
  CHECK(checked->everything);
  checked = check_line_cancel(rec, {{"B", 1, seller::internal}});
  REQUIRE(checked);
  CHECK_FALSE(checked->everything);
  CHECK(checked->quantities == std::vector<int64_t>{0, 1});
}

TEST_CASE("part of an EXTERNAL order is cancelled as for INTERNAL (the WMS's "
          "reservation is reduced), and all of it") {
  auto rec = sample();
  rec.seller = seller::external;
  auto checked = check_line_cancel(rec, {{"A", 1, seller::external}});
  REQUIRE(checked);
  CHECK_FALSE(checked->everything);
  CHECK(checked->quantities == std::vector<int64_t>{1, 0});
  // More than a line holds is refused as for INTERNAL.
  checked = check_line_cancel(rec, {{"A", 4, seller::external}});
  REQUIRE_FALSE(checked);
  CHECK(checked.refusal().code == errc::validation_failed);
  checked = check_line_cancel(
      rec, {{"A", 3, seller::external}, {"B", 2, seller::external}});
  REQUIRE(checked);
  CHECK(checked->everything);
}

TEST_CASE("a partial cancel of a paid order releases the units, lowers the "
          "total and refunds their value") {
  // Proves the arithmetic: 1 x 100 + 1 x 250 cancelled of 800 -> total 450,
  // a PENDING refund of 350 with the cancel's reason.
  auto plan = plan_partial_cancel(paid_sample(), {1, 1}, "damaged", later);
  REQUIRE(plan);
  auto& next = plan->next;
  CHECK(next.status == order_status::paid);
  CHECK(next.lines[0].cancelled_quantity == 1);
  CHECK(next.lines[1].cancelled_quantity == 1);
  CHECK(next.total_amount == 450);
  CHECK(next.history.back().reason == "damaged");
  CHECK(next.history.back().amount == 350);
  auto& refund = next.payments.back();
  CHECK(refund.kind == payment_kind::refund);
  CHECK(refund.gateway_key == "ord_1:refund:1");
  CHECK(refund.amount == 350);
  CHECK(refund.reason == "damaged");
  CHECK(plan->op == sku_op::reduce);
  CHECK(plan->lines == std::vector<size_t>{0, 1});
  REQUIRE(plan->events.size() == 2);
  CHECK(plan->events[1].kind == event_kind::stock_released);
  CHECK(plan->events[1].quantity == 1);
  CHECK(amount_due(next) == 0);
}

TEST_CASE("a partial cancel of an unpaid order owes no refund and keeps its "
          "hold") {
  auto plan = plan_partial_cancel(sample(), {0, 2}, "", later);
  REQUIRE(plan);
  CHECK(plan->next.status == order_status::created);
  CHECK(plan->next.hold_expires_at == order_plan_t0 + 900'000);
  CHECK(plan->next.history.back().reason == "PARTIAL_CANCEL");
  CHECK(plan->next.total_amount == 300);
  CHECK(plan->next.payments.empty());
  CHECK(plan->lines == std::vector<size_t>{1});
}

TEST_CASE("a partial cancel of more than a line holds is refused") {
  CHECK(plan_partial_cancel(sample(), {4, 0}, "", later).refusal().code ==
        errc::internal);
  CHECK(plan_partial_cancel(sample(), {1}, "", later).refusal().code ==
        errc::internal);
  CHECK(plan_partial_cancel(sample(order_status::shipped), {1, 0}, "", later)
            .refusal()
            .code == errc::invalid_transition);
}

TEST_CASE("the next refund is the first pending one, against the charge") {
  auto rec = paid_sample();
  CHECK_FALSE(next_refund(rec));
  rec = plan_cancel(rec, command_kind::cancel, "", later)->next;
  auto call = next_refund(rec);
  REQUIRE(call);
  CHECK(call->key == "ord_1:refund:1");
  CHECK(call->charge_reference == "ref_c1");
  CHECK(call->amount == 800);
}

TEST_CASE("an approved refund is added to the refunded amount, a refused one "
          "is marked failed for a person to see") {
  auto rec = plan_cancel(paid_sample(), command_kind::cancel, "", later)->next;
  auto ok =
      plan_refund_outcome(rec, "ord_1:refund:1",
                          answer(gateway_status::approved, "ref_r"), later + 1);
  REQUIRE(ok);
  CHECK(ok->next.refunded_amount == 800);
  CHECK(ok->next.payments.back().status == payment_status::succeeded);
  CHECK(ok->next.payments.back().reference == "ref_r");
  CHECK(ok->next.updated_at == later + 1);
  CHECK_FALSE(next_refund(ok->next));
  auto no = plan_refund_outcome(rec, "ord_1:refund:1",
                                answer(gateway_status::declined, "", "closed"),
                                later + 1);
  REQUIRE(no);
  CHECK(no->next.refunded_amount == 0);
  CHECK(no->next.payments.back().status == payment_status::failed);
  CHECK(no->next.history.back().reason == "REFUND_DECLINED: closed");
  CHECK(no->next.history.back().amount == 800);
  CHECK_FALSE(plan_refund_outcome(rec, "ord_1:refund:1",
                                  answer(gateway_status::unavailable), later));
  CHECK_FALSE(plan_refund_outcome(rec, "ord_1:charge:1",
                                  answer(gateway_status::approved), later));
}

TEST_CASE("money: records beyond the amounts' invariants are never summed "
          "into a wrapped amount") {
  // Proves the defence behind 0 <= refunded <= paid <= total: a pay, an
  // approved charge or refund, a partial cancel or a refund owed whose sum
  // would not fit is refused or left unrecorded, never wrapped.
  auto paid_near_max = sample(order_status::confirmed);
  paid_near_max.total_amount = 20;
  paid_near_max.paid_amount = INT64_MAX;
  paid_near_max.refunded_amount = INT64_MAX - 10;
  REQUIRE(amount_due(paid_near_max) == 10);
  CHECK(plan_pay(paid_near_max, 10, "", "").refusal().code == errc::internal);
  auto charged = plan_charge(paid_near_max, 10, "", "", order_plan_t0).next;
  CHECK_FALSE(plan_settle_charge(charged, "ord_1:charge:1",
                                 answer(gateway_status::approved, "r"), later));
  // The same charge on a record with room is settled.
  auto roomy =
      plan_charge(sample(order_status::confirmed), 800, "", "", order_plan_t0);
  CHECK(plan_settle_charge(roomy.next, "ord_1:charge:1",
                           answer(gateway_status::approved, "r"), later));

  auto refunding =
      plan_cancel(paid_sample(), command_kind::cancel, "", later)->next;
  refunding.refunded_amount = INT64_MAX;
  CHECK_FALSE(plan_refund_outcome(refunding, "ord_1:refund:1",
                                  answer(gateway_status::approved, "ref_r"),
                                  later + 1));
  refunding.paid_amount = INT64_MIN;
  CHECK(refund_owed(refunding) == INT64_MIN);

  auto broken = paid_sample();
  broken.lines[1].unit_price = INT64_MAX;
  CHECK(plan_partial_cancel(broken, {0, 1}, "", later).refusal().code ==
        errc::internal);
  CHECK(plan_partial_cancel(broken, {1, 0}, "", later).refusal().code ==
        errc::internal);
}

TEST_CASE("unanswered refunds are asked again after a doubling, capped wait") {
  using std::chrono::milliseconds;
  auto delay = [](uint32_t retries) {
    return refund_retry_delay(retries, milliseconds(2000), milliseconds(10000));
  };
  CHECK(delay(0) == milliseconds(2000));
  CHECK(delay(1) == milliseconds(4000));
  CHECK(delay(2) == milliseconds(8000));
  CHECK(delay(3) == milliseconds(10000));
  CHECK(delay(40) == milliseconds(10000));
}
