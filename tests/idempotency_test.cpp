// Idempotency keys of order creation and payment, scoped to the customer.
#include "tests/fixture.hpp"

#include "actors/customer.hpp"

using namespace oms;
using namespace oms::test;
using namespace std::chrono_literals;

namespace {

struct key_fixture : fixture {
  customer_actor alice;

  key_fixture() {
    receive("A", 10, 1000);
    alice = customer("alice");
  }

  create_order_request request(int64_t qty = 2) {
    return create_order_request{
        "alice", {{"A", qty, seller::internal}}, sample_address(), {}, {}};
  }

  caf::expected<order_record> create_with(const std::string& key,
                                          int64_t qty = 2) {
    return call<order_record>(alice, atom::create_v, request(qty), key);
  }

  caf::expected<order_record> pay_with(const order_id& id, money amount,
                                       const std::string& key) {
    return call<order_record>(alice, atom::pay_v, id, amount,
                              std::string{"tok_visa"}, key, uint64_t{0});
  }

  size_t orders_created() {
    size_t n = 0;
    for (auto& ev : store_events(1, 1000))
      if (ev.kind == event_kind::order_created)
        ++n;
    return n;
  }
};

} // namespace

TEST_CASE_FIXTURE(key_fixture,
                  "an idempotent create retried 5 times gives one order") {
  auto first = create_with("key-1");
  REQUIRE(first);
  for (int i = 0; i < 5; ++i) {
    auto again = create_with("key-1");
    REQUIRE(again);
    CHECK(again->id == first->id);
    CHECK(again->status == order_status::created);
    CHECK(again->created_at == first->created_at);
    CHECK(again->total_amount == first->total_amount);
    CHECK(again->history.size() == first->history.size());
  }
  CHECK(stock("A").reserved == 2);
  CHECK(orders_created() == 1);
  auto page =
      call<order_page>(alice, atom::list_v, uint32_t{20}, std::string{});
  REQUIRE(page);
  CHECK(page->orders.size() == 1);
}

TEST_CASE_FIXTURE(
    key_fixture,
    "a retry returns the first result even after the order moved on") {
  auto first = create_with("key-1");
  REQUIRE(first);
  must_apply(first->id, command_kind::confirm);
  auto again = create_with("key-1");
  REQUIRE(again);
  CHECK(again->status == order_status::created);
  CHECK(get_order(first->id)->status == order_status::confirmed);
}

TEST_CASE_FIXTURE(
    key_fixture,
    "the same key with a different request is refused and changes nothing") {
  REQUIRE(create_with("key-1", 2));
  auto other = create_with("key-1", 3);
  CHECK(code(other) == "IDEMPOTENCY_KEY_REUSED");
  CHECK(stock("A").reserved == 2);
  CHECK(orders_created() == 1);
}

TEST_CASE_FIXTURE(key_fixture,
                  "requests with one key that arrive together run once") {
  std::vector<decltype(self->request(alice, caf::infinite, atom::create_v,
                                     request(), std::string{}))>
      handles;
  for (int i = 0; i < 5; ++i)
    handles.push_back(self->request(alice, caf::infinite, atom::create_v,
                                    request(), std::string{"key-1"}));
  sched.run();
  std::set<order_id> ids;
  for (auto& h : handles)
    h.receive([&](order_record& rec) { ids.insert(rec.id); },
              [&](caf::error& err) { FAIL(describe(err)); });
  CHECK(ids.size() == 1);
  CHECK(stock("A").reserved == 2);
  CHECK(orders_created() == 1);
}

TEST_CASE_FIXTURE(key_fixture, "a create that failed releases its key") {
  CHECK(code(create_with("key-1", 11)) == "INSUFFICIENT_STOCK");
  receive("A", 5);
  auto res = create_with("key-1", 11);
  REQUIRE_MESSAGE(res, why(res));
  CHECK(stock("A").reserved == 11);
}

TEST_CASE_FIXTURE(key_fixture, "keys are forgotten after the window") {
  auto first = create_with("key-1");
  REQUIRE(first);
  advance(23h);
  CHECK(create_with("key-1")->id == first->id);
  advance(2h); // past 24 h, and a purge ran
  auto later = create_with("key-1");
  REQUIRE(later);
  CHECK(later->id != first->id);
}

TEST_CASE_FIXTURE(key_fixture, "a key used again after the window, then "
                               "retried, runs once") {
  auto first = create_with("key-1");
  REQUIRE(first);
  advance(25h);
  auto second = create_with("key-1");
  REQUIRE(second);
  CHECK(second->id != first->id);
  // Its retry gets the second order, not a third one nor the first.
  auto retry = create_with("key-1");
  REQUIRE(retry);
  CHECK(retry->id == second->id);
  CHECK(orders_created() == 2);
  // And a different request under it within the window is refused.
  CHECK(code(create_with("key-1", 3)) == "IDEMPOTENCY_KEY_REUSED");
}

TEST_CASE_FIXTURE(key_fixture, "finished keys are read from the store, not "
                               "kept in the customer's memory") {
  using customer_impl =
      caf::stateful_actor<customer_state, customer_actor::base>;
  auto* impl = dynamic_cast<customer_impl*>(
      caf::actor_cast<caf::abstract_actor*>(alice));
  REQUIRE(impl != nullptr);
  receive("A", 20);
  for (int i = 0; i < 20; ++i) {
    auto rec = create_with("key-" + std::to_string(i), 1);
    REQUIRE_MESSAGE(rec, why(rec));
    must_apply(rec->id, command_kind::confirm);
    REQUIRE(pay_with(rec->id, 1000, "pay-" + std::to_string(i)));
  }
  CHECK(impl->state.keys.empty());
  // Every one still guards its request, and a paid order's pay key answers
  // the record as paid, not as it is after later steps.
  auto again = create_with("key-7", 1);
  REQUIRE(again);
  must_apply(again->id, command_kind::ship);
  auto paid = pay_with(again->id, 1000, "pay-7");
  REQUIRE_MESSAGE(paid, why(paid));
  CHECK(paid->status == order_status::paid);
  CHECK(code(create_with("key-7", 2)) == "IDEMPOTENCY_KEY_REUSED");
  CHECK(orders_created() == 20);
  CHECK(impl->state.keys.empty());
}

TEST_CASE_FIXTURE(key_fixture, "the key is recorded with the order it guards") {
  auto rec = create_with("key-1");
  REQUIRE(rec);
  CHECK(rec->idempotency_key == "key-1");
  CHECK(rec->request_fingerprint.size() == 16);
  for (auto& ev : store_events(1, 100))
    if (ev.kind == event_kind::order_created)
      CHECK(ev.snapshot.idempotency_key == "key-1");
}

TEST_CASE_FIXTURE(key_fixture,
                  "malformed keys and foreign customers are refused") {
  CHECK(code(create_with("has space")) == "VALIDATION_FAILED");
  CHECK(code(create_with(std::string(256, 'k'))) == "VALIDATION_FAILED");
  auto req = request();
  req.customer = "mallory";
  CHECK(code(call<order_record>(alice, atom::create_v, req,
                                std::string{"key-2"})) == "VALIDATION_FAILED");
  CHECK(stock("A").reserved == 0);
}

TEST_CASE_FIXTURE(key_fixture, "an idempotent payment charges once") {
  auto rec = *create_with("key-1");
  auto p1 = pay_with(rec.id, rec.total_amount, "pay-1");
  REQUIRE_MESSAGE(p1, why(p1));
  auto p2 = pay_with(rec.id, rec.total_amount, "pay-1");
  REQUIRE(p2);
  CHECK(p2->status == order_status::paid);
  CHECK(gateway->charges() == 1);
  CHECK(code(pay_with(rec.id, rec.total_amount + 5, "pay-1")) ==
        "IDEMPOTENCY_KEY_REUSED");
  // A new key on a paid order is a new request, refused by the state machine.
  CHECK(code(pay_with(rec.id, rec.total_amount, "pay-2")) ==
        "INVALID_TRANSITION");
  CHECK(gateway->charges() == 1);
  REQUIRE(p1->payments.size() == 1);
  CHECK(p1->payments[0].client_key == "pay-1");
}

TEST_CASE_FIXTURE(key_fixture, "another customer cannot pay my order") {
  auto rec = *create_with("key-1");
  auto mallory = customer("mallory");
  auto res = call<order_record>(mallory, atom::pay_v, rec.id, rec.total_amount,
                                std::string{"tok_visa"}, std::string{"k"},
                                uint64_t{0});
  CHECK(code(res) == "ORDER_NOT_FOUND");
  CHECK(gateway->charges() == 0);
  // Also once the order is terminal and answered from its final record.
  must_apply(rec.id, command_kind::cancel);
  res = call<order_record>(mallory, atom::pay_v, rec.id, rec.total_amount,
                           std::string{"tok_visa"}, std::string{"k2"},
                           uint64_t{0});
  CHECK(code(res) == "ORDER_NOT_FOUND");
}

TEST_CASE_FIXTURE(key_fixture, "a pay retry after its lost charge was settled "
                               "by the expiry gets the paid order") {
  auto rec = *create_with("key-1");
  auto first = call<order_record>(alice, atom::pay_v, rec.id, rec.total_amount,
                                  std::string{"tok_timeout"},
                                  std::string{"pay-1"}, uint64_t{0});
  CHECK(code(first) == "PAYMENT_UNAVAILABLE");
  advance(15min); // the expiry finds the charge went through: PAID
  REQUIRE(get_order(rec.id)->status == order_status::paid);
  auto retry = call<order_record>(alice, atom::pay_v, rec.id, rec.total_amount,
                                  std::string{"tok_timeout"},
                                  std::string{"pay-1"}, uint64_t{0});
  REQUIRE_MESSAGE(retry, why(retry));
  CHECK(retry->status == order_status::paid);
  CHECK(gateway->charges() == 1);
}
