// Paying an order through the PAYMENT actor and the simulated gateway:
// declines, timeouts and their recovery, refunds, and expiry with a payment
// whose answer was lost.
#include "tests/fixture.hpp"

#include <nlohmann/json.hpp>

using namespace oms;
using namespace oms::test;
using namespace std::chrono_literals;

namespace {

struct pay_fixture : fixture {
  explicit pay_fixture(simulated_gateway::config gw = {})
      : fixture(default_test_settings(), gw) {
    receive("A", 10, 1000);
  }
  order_record order_of(int64_t qty = 2) {
    return create("c1", {{"A", qty, seller::internal}}).record;
  }
};

} // namespace

TEST_CASE_FIXTURE(
    pay_fixture,
    "a declined payment leaves the order as it was, a second one pays") {
  auto rec = order_of();
  auto res = pay(rec.id, rec.total_amount, "tok_decline");
  REQUIRE(code(res) == "PAYMENT_DECLINED");
  auto details = nlohmann::json::parse(details_of(res.error()));
  CHECK(details["reason"] == "card_declined");
  auto now = *get_order(rec.id);
  CHECK(now.status == order_status::created);
  CHECK(now.paid_amount == 0);
  CHECK(now.history.back().reason == "PAYMENT_DECLINED: card_declined");
  CHECK(stock("A").reserved == 2);
  auto paid = must_pay(rec.id, rec.total_amount);
  CHECK(paid.status == order_status::paid);
  CHECK(paid.paid_amount == rec.total_amount);
  REQUIRE(paid.payments.size() == 2);
  CHECK(paid.payments[0].status == payment_status::failed);
  CHECK(paid.payments[1].status == payment_status::succeeded);
  CHECK(gateway->charges() == 1);
  CHECK(stock("A").blocked == 2);
}

TEST_CASE_FIXTURE(pay_fixture,
                  "a payment timeout then a retry charges exactly once") {
  // tok_timeout charges at the gateway but the answer is lost.
  auto rec = order_of();
  auto res = pay(rec.id, rec.total_amount, "tok_timeout");
  REQUIRE(code(res) == "PAYMENT_UNAVAILABLE");
  auto now = *get_order(rec.id);
  CHECK(now.status == order_status::created);
  REQUIRE(now.payments.size() == 1);
  CHECK(now.payments[0].status == payment_status::pending);
  CHECK(now.payments[0].gateway_key == rec.id + ":charge:1");
  CHECK(gateway->charges() == 1);
  // The retry first recovers the lost outcome: the order is paid by it.
  auto paid = must_pay(rec.id, rec.total_amount);
  CHECK(paid.status == order_status::paid);
  CHECK(paid.paid_amount == rec.total_amount);
  REQUIRE(paid.payments.size() == 1);
  CHECK(paid.payments[0].status == payment_status::succeeded);
  CHECK(gateway->charges() == 1);
  CHECK(gateway->charged_total() == rec.total_amount);
}

TEST_CASE_FIXTURE(pay_fixture, "a timeout the gateway has no record of is "
                               "charged again under the same key") {
  // Reusing the key means a first request still on its way cannot lead to
  // a second capture.
  auto rec = order_of();
  CHECK(code(pay(rec.id, rec.total_amount, "tok_timeout_uncharged")) ==
        "PAYMENT_UNAVAILABLE");
  CHECK(gateway->charges() == 0);
  auto paid = must_pay(rec.id, rec.total_amount);
  REQUIRE(paid.payments.size() == 1);
  CHECK(paid.payments[0].gateway_key == rec.id + ":charge:1");
  CHECK(paid.payments[0].status == payment_status::succeeded);
  CHECK(gateway->charges() == 1);
}

TEST_CASE_FIXTURE(
    pay_fixture,
    "confirming an order first settles a payment whose answer was lost") {
  auto rec = order_of();
  CHECK(code(pay(rec.id, rec.total_amount, "tok_timeout")) ==
        "PAYMENT_UNAVAILABLE");
  // The charge went through: the order is PAID, so confirming is refused,
  // and nothing is left pending.
  CHECK(code(apply(rec.id, command_kind::confirm)) == "INVALID_TRANSITION");
  auto now = *get_order(rec.id);
  CHECK(now.status == order_status::paid);
  CHECK(pending_payment(now, payment_kind::charge) == nullptr);
  CHECK(gateway->charges() == 1);
}

TEST_CASE_FIXTURE(
    pay_fixture,
    "confirming is refused while a lost payment cannot be looked up") {
  auto rec = order_of();
  CHECK(code(pay(rec.id, rec.total_amount, "tok_timeout")) ==
        "PAYMENT_UNAVAILABLE");
  gateway->fail_next(1);
  CHECK(code(apply(rec.id, command_kind::confirm)) == "PAYMENT_UNAVAILABLE");
  CHECK(get_order(rec.id)->status == order_status::created);
}

TEST_CASE_FIXTURE(
    pay_fixture,
    "while the gateway cannot even be asked, the payment stays pending") {
  auto rec = order_of();
  gateway->fail_next(2); // the charge, then the lookup of the retry
  CHECK(code(pay(rec.id, rec.total_amount, "tok_visa")) ==
        "PAYMENT_UNAVAILABLE");
  CHECK(code(pay(rec.id, rec.total_amount, "tok_visa")) ==
        "PAYMENT_UNAVAILABLE");
  CHECK(get_order(rec.id)->status == order_status::created);
  auto paid = must_pay(rec.id, rec.total_amount);
  CHECK(paid.status == order_status::paid);
  CHECK(gateway->charges() == 1);
}

TEST_CASE_FIXTURE(
    pay_fixture,
    "an order whose lost payment went through is paid, not expired") {
  auto rec = order_of();
  CHECK(code(pay(rec.id, rec.total_amount, "tok_timeout")) ==
        "PAYMENT_UNAVAILABLE");
  advance(15min);
  auto now = *get_order(rec.id);
  CHECK(now.status == order_status::paid);
  CHECK(now.paid_amount == rec.total_amount);
  CHECK(stock("A").blocked == 2);
  CHECK(stock("A").reserved == 0);
}

TEST_CASE_FIXTURE(pay_fixture,
                  "an order whose lost payment never charged expires") {
  auto rec = order_of();
  CHECK(code(pay(rec.id, rec.total_amount, "tok_timeout_uncharged")) ==
        "PAYMENT_UNAVAILABLE");
  advance(15min);
  auto now = *get_order(rec.id);
  CHECK(now.status == order_status::cancelled);
  CHECK(now.cancel_reason == "EXPIRED");
  CHECK(stock("A").reserved == 0);
  CHECK(gateway->charges() == 0);
}

TEST_CASE_FIXTURE(
    pay_fixture,
    "a payment for another amount is AMOUNT_MISMATCH and charges nothing") {
  auto rec = order_of();
  auto res = pay(rec.id, rec.total_amount + 1, "tok_visa");
  REQUIRE(code(res) == "AMOUNT_MISMATCH");
  auto details = nlohmann::json::parse(details_of(res.error()));
  CHECK(details["expected"] == rec.total_amount);
  CHECK(gateway->charges() == 0);
  CHECK(get_order(rec.id)->payments.empty());
}

TEST_CASE_FIXTURE(pay_fixture, "shipping is refused until the order is paid") {
  auto rec = order_of();
  must_apply(rec.id, command_kind::confirm);
  CHECK(code(apply(rec.id, command_kind::ship)) == "INVALID_TRANSITION");
  must_pay(rec.id, rec.total_amount);
  CHECK(must_apply(rec.id, command_kind::ship).status == order_status::shipped);
}

TEST_CASE("the simulated gateway declines amounts above its limit") {
  simulated_gateway::config gw;
  gw.decline_amount_min = 5000;
  pay_fixture f{gw};
  auto rec = f.order_of(5);
  auto res = f.pay(rec.id, rec.total_amount, "tok_visa");
  REQUIRE(code(res) == "PAYMENT_DECLINED");
  CHECK(details_of(res.error()).find("amount_too_large") != std::string::npos);
}

TEST_CASE_FIXTURE(pay_fixture, "cancelling a paid order refunds it in full") {
  auto rec = order_of(3);
  must_pay(rec.id, rec.total_amount);
  auto cancelled = must_apply(rec.id, command_kind::cancel);
  CHECK(cancelled.status == order_status::cancelled);
  CHECK(cancelled.refunded_amount == rec.total_amount);
  CHECK(amount_due(cancelled) == 0);
  CHECK(gateway->refunds() == 1);
  CHECK(gateway->refunded_total() == rec.total_amount);
  CHECK(stock("A").available == 10);
}

TEST_CASE_FIXTURE(
    pay_fixture,
    "a refund the gateway does not answer is retried until it lands") {
  auto rec = order_of(3);
  must_pay(rec.id, rec.total_amount);
  gateway->fail_next(1);
  auto cancelled = must_apply(rec.id, command_kind::cancel);
  CHECK(cancelled.status == order_status::cancelled);
  CHECK(cancelled.refunded_amount == 0);
  REQUIRE(pending_payment(cancelled, payment_kind::refund) != nullptr);
  // The order's actor stays alive while it owes a refund.
  CHECK(call<order_actor>(sup, atom::find_order_v, rec.id));
  CHECK(gateway->refunds() == 0);
  advance(2s);
  auto done = *get_order(rec.id);
  CHECK(done.refunded_amount == rec.total_amount);
  CHECK(pending_payment(done, payment_kind::refund) == nullptr);
  CHECK(gateway->refunds() == 1);
  CHECK(code(call<order_actor>(sup, atom::find_order_v, rec.id)) ==
        "ORDER_NOT_FOUND");
  advance(1h);
  CHECK(gateway->refunds() == 1);
}
