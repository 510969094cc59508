// Cancelling part of an order, refunds of paid orders, the order's history,
// and a customer's order list.
#include "tests/fixture.hpp"

using namespace oms;
using namespace oms::test;

namespace {

struct lines_fixture : fixture {
  lines_fixture() {
    receive("A", 10, 1000);
    receive("B", 10, 250);
  }
  order_record two_lines() {
    return create("c1",
                  {{"A", 4, seller::internal}, {"B", 2, seller::internal}})
        .record;
  }
};

} // namespace

TEST_CASE_FIXTURE(
    lines_fixture,
    "a partial cancel releases exactly those units and recomputes the total") {
  auto rec = two_lines();
  CHECK(rec.total_amount == 4500);
  auto after = cancel_lines(rec.id, {{"A", 1, seller::internal}});
  REQUIRE_MESSAGE(after, why(after));
  CHECK(after->status == order_status::created);
  CHECK(after->lines[0].cancelled_quantity == 1);
  CHECK(after->total_amount == 3500);
  CHECK(after->history.back().reason == "PARTIAL_CANCEL");
  CHECK(after->history.back().amount == 1000);
  CHECK(stock("A").reserved == 3);
  CHECK(stock("B").reserved == 2);
  // The rest of the lifecycle works on what is left.
  must_pay(rec.id, 3500);
  auto shipped = must_apply(rec.id, command_kind::ship);
  CHECK(shipped.lines[0].shipped_quantity == 3);
  CHECK(stock("A").on_hand == 7);
  CHECK(stock("A").consumed_total == 3);
  CHECK(audit().violations.empty());
}

TEST_CASE_FIXTURE(
    lines_fixture,
    "a partial cancel of a paid order refunds exactly the cancelled amount") {
  auto rec = two_lines();
  must_pay(rec.id, rec.total_amount);
  auto after = cancel_lines(
      rec.id, {{"A", 2, seller::internal}, {"B", 1, seller::internal}});
  REQUIRE_MESSAGE(after, why(after));
  CHECK(after->status == order_status::paid);
  CHECK(after->total_amount == 4500 - 2000 - 250);
  CHECK(after->paid_amount == 4500);
  CHECK(after->refunded_amount == 2250);
  CHECK(amount_due(*after) == 0);
  CHECK(gateway->refunds() == 1);
  CHECK(gateway->refunded_total() == 2250);
  CHECK(stock("A").blocked == 2);
  CHECK(stock("B").blocked == 1);
  CHECK(stock("A").available == 8);
  CHECK(audit().violations.empty());
}

TEST_CASE_FIXTURE(lines_fixture,
                  "cancelling every remaining unit cancels the order") {
  auto rec = two_lines();
  must_pay(rec.id, rec.total_amount);
  REQUIRE(cancel_lines(rec.id, {{"A", 3, seller::internal}}));
  auto last = cancel_lines(
      rec.id, {{"A", 1, seller::internal}, {"B", 2, seller::internal}});
  REQUIRE(last);
  CHECK(last->status == order_status::cancelled);
  CHECK(last->refunded_amount == 4500);
  CHECK(gateway->refunded_total() == 4500);
  CHECK(stock("A").available == 10);
  CHECK(stock("B").available == 10);
}

TEST_CASE_FIXTURE(lines_fixture,
                  "a bad partial cancel is refused and changes nothing") {
  auto rec = two_lines();
  CHECK(code(cancel_lines(rec.id, {{"Z", 1, seller::internal}})) ==
        "VALIDATION_FAILED");
  CHECK(code(cancel_lines(rec.id, {{"A", 5, seller::internal}})) ==
        "VALIDATION_FAILED");
  CHECK(code(cancel_lines(rec.id, {{"A", 0, seller::internal}})) ==
        "VALIDATION_FAILED");
  CHECK(code(cancel_lines(rec.id, {{"A", 1, seller::internal},
                                   {"A", 1, seller::internal}})) ==
        "VALIDATION_FAILED");
  auto now = *get_order(rec.id);
  CHECK(now.total_amount == 4500);
  CHECK(now.history.size() == 1);
  CHECK(stock("A").reserved == 4);
  must_pay(rec.id, 4500);
  must_apply(rec.id, command_kind::ship);
  CHECK(code(cancel_lines(rec.id, {{"A", 1, seller::internal}})) ==
        "INVALID_TRANSITION");
}

TEST_CASE_FIXTURE(lines_fixture,
                  "the history lists every transition in order") {
  auto rec = two_lines();
  CHECK(code(pay(rec.id, rec.total_amount, "tok_insufficient_funds")) ==
        "PAYMENT_DECLINED");
  must_apply(rec.id, command_kind::confirm);
  REQUIRE(cancel_lines(rec.id, {{"B", 1, seller::internal}}));
  must_pay(rec.id, 4250);
  must_apply(rec.id, command_kind::ship);
  auto done = must_apply(rec.id, command_kind::deliver);
  std::vector<std::string> reasons;
  std::vector<order_status> to;
  for (auto& h : done.history) {
    reasons.push_back(h.reason);
    to.push_back(h.to);
  }
  CHECK(reasons == std::vector<std::string>{
                       "created", "PAYMENT_DECLINED: insufficient_funds",
                       "confirm", "PARTIAL_CANCEL", "paid", "ship", "deliver"});
  CHECK(to == std::vector<order_status>{
                  order_status::created, order_status::created,
                  order_status::confirmed, order_status::confirmed,
                  order_status::paid, order_status::shipped,
                  order_status::delivered});
  for (size_t i = 1; i < done.history.size(); ++i)
    CHECK(done.history[i].at >= done.history[i - 1].at);
  CHECK(done.history[4].amount == 4250);
}

TEST_CASE_FIXTURE(lines_fixture,
                  "a customer lists their orders newest first, page by page") {
  auto alice = customer("alice");
  std::vector<order_id> created;
  for (int i = 0; i < 5; ++i) {
    auto rec = call<order_record>(
        alice, atom::create_v,
        create_order_request{
            "alice", {{"A", 1, seller::internal}}, sample_address(), {}, {}},
        std::string{});
    REQUIRE(rec);
    created.push_back(rec->id);
  }
  std::vector<order_id> listed;
  std::string cursor;
  int pages = 0;
  do {
    auto page = call<order_page>(alice, atom::list_v, uint32_t{2}, cursor);
    REQUIRE(page);
    for (auto& o : page->orders)
      listed.push_back(o.id);
    cursor = page->next_cursor;
    ++pages;
  } while (!cursor.empty() && pages < 10);
  CHECK(pages == 3);
  std::reverse(created.begin(), created.end());
  CHECK(listed == created);
  CHECK(code(call<order_page>(alice, atom::list_v, uint32_t{2},
                              std::string{"zzz"})) == "VALIDATION_FAILED");
  CHECK(code(call<order_page>(alice, atom::list_v, uint32_t{101},
                              std::string{})) == "VALIDATION_FAILED");
  auto bob = customer("bob");
  auto none = call<order_page>(bob, atom::list_v, uint32_t{20}, std::string{});
  REQUIRE(none);
  CHECK(none->orders.empty());
}
