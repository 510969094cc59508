// Shipping line by line: the ledger consuming part of a hold, the planner's
// checks, and the ORDER actor with its SKU actors, the audit and a restart.
#include "tests/backends.hpp"
#include "tests/fixture.hpp"

#include "actors/order_plan.hpp"
#include "actors/stock_ledger.hpp"

using namespace oms;
using namespace oms::test;

namespace {

constexpr timestamp_ms ship_t0 = 1'800'000'000'000;

using strings = std::vector<std::string>;

// A ledger with lots E (expiring first, 2 units), L (3 units) and N (never
// expires, 5 units), and a blocked hold of 6 units of order o1.
stock_ledger blocked_six() {
  stock_ledger l;
  REQUIRE(l.check_receive(2, 1000, "E", ship_t0 + day, ship_t0).ok());
  l.receive(2, 1000, "E", ship_t0 + day, ship_t0);
  l.receive(3, 0, "L", ship_t0 + 2 * day, ship_t0);
  l.receive(5, 0, "N", 0, ship_t0);
  reserve_reply reply;
  REQUIRE(l.reserve("o1", 6, reply, ship_t0).ok());
  REQUIRE(l.block("o1").ok());
  return l;
}

order_record paid_two_lines() {
  order_record rec;
  rec.id = "o1";
  rec.customer = "c1";
  rec.status = order_status::paid;
  rec.lines = {order_line{"A", 4, 1000, 0, 0, {{"E", 2}, {"L", 2}}},
               order_line{"B", 2, 250, 0, 0, {}}};
  rec.total_amount = 4500;
  rec.paid_amount = 4500;
  rec.version = 3;
  return rec;
}

} // namespace

TEST_CASE("slice_allocations skips units and takes the next ones") {
  std::vector<lot_allocation> lots{{"E", 2}, {"L", 3}, {"N", 5}};
  CHECK(names(slice_allocations(lots, 0, 3)) == strings{"E:2", "L:1"});
  CHECK(names(slice_allocations(lots, 2, 4)) == strings{"L:3", "N:1"});
  CHECK(names(slice_allocations(lots, 4, 100)) == strings{"L:1", "N:5"});
  CHECK(slice_allocations(lots, 10, 1).empty());
  CHECK(slice_allocations(lots, 1, 0).empty());
  CHECK(names(take_allocations(lots, 2)) == strings{"E:2"});
}

TEST_CASE("a partial consume ships the hold's first units and keeps the rest "
          "blocked") {
  auto l = blocked_six();
  auto res = l.consume("o1", 2);
  REQUIRE(res.ok());
  CHECK(res.quantity == 4);
  auto* hold = l.find_hold("o1");
  REQUIRE(hold != nullptr);
  CHECK(hold->quantity == 2);
  CHECK(hold->kind == hold_kind::blocked);
  // E (2) and two units of L shipped; one of L and one of N stay held.
  CHECK(names(hold->lots) == strings{"L:1", "N:1"});
  CHECK(l.blocked() == 2);
  CHECK(l.on_hand() == 6);
  CHECK(l.consumed_total() == 4);
  CHECK(l.available() == 4);
  CHECK(l.check_invariants().empty());
  // Naming the same target again ships nothing more.
  CHECK(l.consume("o1", 2).quantity == 0);
  CHECK(l.consumed_total() == 4);
  // The rest ships; the hold is gone.
  CHECK(l.consume("o1", 0).quantity == 2);
  CHECK(l.find_hold("o1") == nullptr);
  CHECK(l.consumed_total() == 6);
  CHECK(l.check_invariants().empty());
}

TEST_CASE("a consume that names more than the hold, or a negative target, "
          "is refused and changes nothing") {
  auto l = blocked_six();
  CHECK(l.consume("o1", 7).error == errc::validation_failed);
  CHECK(l.consume("o1", -1).error == errc::validation_failed);
  CHECK(l.blocked() == 6);
  CHECK(l.consumed_total() == 0);
  // Reserved units cannot ship.
  stock_ledger r;
  r.receive(3, 1000);
  reserve_reply reply;
  REQUIRE(r.reserve("o2", 2, reply).ok());
  CHECK(r.consume("o2", 1).error == errc::invalid_transition);
}

TEST_CASE("a shipment of some lines is checked line by line") {
  auto rec = paid_two_lines();
  auto ok = check_shipment(rec, {{"A", 3, seller::internal}}, "", "");
  REQUIRE(ok);
  CHECK(ok->quantities == std::vector<int64_t>{3, 0});
  CHECK_FALSE(ok->everything);
  auto all = check_shipment(
      rec, {{"B", 2, seller::internal}, {"A", 4, seller::internal}}, "", "");
  REQUIRE(all);
  CHECK(all->everything);
  auto none = check_shipment(rec, {}, "", "");
  REQUIRE(none);
  CHECK(none->everything);
  CHECK(none->quantities == std::vector<int64_t>{4, 2});
  auto field_of = [](const planned<shipment_check>& x) {
    return x ? std::string{} : x.refusal().details_json;
  };
  auto unknown = check_shipment(rec, {{"Z", 1, seller::internal}}, "", "");
  CHECK(unknown.refusal().code == errc::validation_failed);
  CHECK(field_of(unknown) == R"({"field":"lines[0].sku"})");
  auto twice = check_shipment(
      rec, {{"A", 1, seller::internal}, {"A", 1, seller::internal}}, "", "");
  CHECK(field_of(twice) == R"({"field":"lines[1].sku"})");
  auto too_many = check_shipment(rec, {{"B", 3, seller::internal}}, "", "");
  CHECK(field_of(too_many) == R"({"field":"lines[0].quantity"})");
  CHECK(too_many.refusal().message ==
        "lines[0].quantity must be between 1 and 2");
  auto zero = check_shipment(rec, {{"B", 0, seller::internal}}, "", "");
  CHECK(field_of(zero) == R"({"field":"lines[0].quantity"})");
  // Only PAID and PARTIALLY_SHIPPED orders ship.
  for (auto status : {order_status::created, order_status::confirmed,
                      order_status::shipped, order_status::cancelled}) {
    CAPTURE(to_string(status));
    auto other = rec;
    other.status = status;
    CHECK(check_shipment(other, {{"A", 1, seller::internal}}, "", "")
              .refusal()
              .code == errc::invalid_transition);
  }
  // An EXTERNAL order ships whole.
  auto external = rec;
  external.seller = seller::external;
  CHECK(field_of(check_shipment(external, {{"A", 1, seller::internal}}, "",
                                "")) == R"({"field":"lines"})");
  CHECK(check_shipment(external, {}, "", ""));
}

TEST_CASE("a shipment consumes its units from the line's allocation in order "
          "and leaves the order PARTIALLY_SHIPPED until nothing is left") {
  auto rec = paid_two_lines();
  auto first =
      plan_shipment(rec, {3, 0}, {"DHL", "JD01", "k1", "fp1"}, ship_t0);
  REQUIRE(first);
  auto& next = first->next;
  CHECK(next.status == order_status::partially_shipped);
  CHECK(next.lines[0].shipped_quantity == 3);
  CHECK(next.lines[1].shipped_quantity == 0);
  REQUIRE(next.shipments.size() == 1);
  auto& s = next.shipments[0];
  CHECK(s.id == "shp_1");
  CHECK(s.carrier == "DHL");
  CHECK(s.tracking_number == "JD01");
  CHECK(s.client_key == "k1");
  REQUIRE(s.lines.size() == 1);
  CHECK(names(s.lines[0].lots) == strings{"E:2", "L:1"});
  CHECK(first->op == sku_op::consume);
  CHECK(first->lines == std::vector<size_t>{0});
  REQUIRE(first->events.size() == 1);
  CHECK(first->events[0].kind == event_kind::stock_consumed);
  CHECK(first->events[0].quantity == 3);
  CHECK(names(first->events[0].lots) == strings{"E:2", "L:1"});
  CHECK(held_quantity(next, next.lines[0]) == 1);
  CHECK(held_quantity(next, next.lines[1]) == 2);
  // Paid in full: shipping moves no money.
  CHECK(next.total_amount == 4500);
  CHECK(next.history.back().reason == "ship_part");
  // The rest ships as the second shipment; the order is SHIPPED.
  auto second = plan_shipment(next, {1, 2}, {}, ship_t0 + 1);
  REQUIRE(second);
  CHECK(second->next.status == order_status::shipped);
  CHECK(second->next.shipments.size() == 2);
  CHECK(second->next.shipments[1].id == "shp_2");
  CHECK(names(second->next.shipments[1].lines[0].lots) == strings{"L:1"});
  CHECK(second->next.history.back().reason == "ship");
  CHECK(held_quantity(second->next, second->next.lines[0]) == 0);
  // A retry under the first key is answered; the key with another request
  // is refused.
  CHECK(check_shipment(next, {{"A", 3, seller::internal}}, "k1", "fp1")
            ->answered);
  CHECK(check_shipment(next, {{"A", 1, seller::internal}}, "k1", "fp2")
            .refusal()
            .code == errc::idempotency_key_reused);
  // More than is left is a planner error, not a wrap.
  CHECK(plan_shipment(next, {2, 0}, {}, ship_t0).refusal().code ==
        errc::internal);
}

TEST_CASE("cancelling a PARTIALLY_SHIPPED order releases and refunds what "
          "has not shipped, and the order is SHIPPED") {
  auto rec = paid_two_lines();
  auto part = plan_shipment(rec, {3, 0}, {}, ship_t0);
  REQUIRE(part);
  auto cancel = plan_cancel(part->next, command_kind::cancel, "", ship_t0 + 1);
  REQUIRE(cancel);
  auto& next = cancel->next;
  CHECK(next.status == order_status::shipped);
  CHECK(next.cancel_reason.empty());
  CHECK(next.lines[0].cancelled_quantity == 1);
  CHECK(next.lines[1].cancelled_quantity == 2);
  CHECK(next.total_amount == 3000);
  REQUIRE(next.payments.size() == 1);
  CHECK(next.payments[0].kind == payment_kind::refund);
  CHECK(next.payments[0].amount == 1500);
  CHECK(cancel->op == sku_op::reduce);
  // A cancel of some of what has not shipped keeps it PARTIALLY_SHIPPED.
  auto some = check_line_cancel(part->next, {{"B", 1, seller::internal}});
  REQUIRE(some);
  CHECK_FALSE(some->everything);
  // Shipped units cannot be cancelled.
  CHECK(check_line_cancel(part->next, {{"A", 2, seller::internal}})
            .refusal()
            .details_json == R"({"field":"lines[0].quantity"})");
}

namespace {

struct ship_fixture : fixture {
  ship_fixture() {
    receive("A", 10, 1000);
    receive("B", 10, 250);
  }
  order_record paid_order() {
    auto rec =
        create("c1", {{"A", 4, seller::internal}, {"B", 2, seller::internal}})
            .record;
    must_pay(rec.id, rec.total_amount);
    return rec;
  }
};

} // namespace

TEST_CASE_FIXTURE(ship_fixture,
                  "shipping line by line consumes only the order's own block") {
  auto rec = paid_order();
  auto part = ship_lines(rec.id, {{"A", 3, seller::internal}}, "", "DHL",
                         "JD014600003");
  REQUIRE_MESSAGE(part, why(part));
  CHECK(part->status == order_status::partially_shipped);
  REQUIRE(part->shipments.size() == 1);
  CHECK(part->shipments[0].tracking_number == "JD014600003");
  auto a = stock("A");
  CHECK(a.on_hand == 7);
  CHECK(a.blocked == 1);
  CHECK(a.consumed_total == 3);
  CHECK(a.available == 6);
  CHECK(stock("B").blocked == 2);
  CHECK(audit().violations.empty());
  // More than is left of a line is refused, and nothing changes.
  CHECK(code(ship_lines(rec.id, {{"A", 2, seller::internal}})) ==
        "VALIDATION_FAILED");
  CHECK(stock("A").blocked == 1);
  CHECK(get_order(rec.id)->version == part->version);
  // The rest ships through the whole-order command.
  auto rest = must_apply(rec.id, command_kind::ship);
  CHECK(rest.status == order_status::shipped);
  CHECK(rest.shipments.size() == 2);
  CHECK(stock("A").on_hand == 6);
  CHECK(stock("A").blocked == 0);
  CHECK(stock("B").on_hand == 8);
  CHECK(audit().violations.empty());
  CHECK(must_apply(rec.id, command_kind::deliver).status ==
        order_status::delivered);
}

TEST_CASE_FIXTURE(
    ship_fixture,
    "a shipment retried under its key ships once, and the key with "
    "other lines is refused") {
  auto rec = paid_order();
  auto first = ship_lines(rec.id, {{"A", 1, seller::internal}}, "ship-1");
  REQUIRE(first);
  auto again = ship_lines(rec.id, {{"A", 1, seller::internal}}, "ship-1");
  REQUIRE(again);
  CHECK(again->version == first->version);
  CHECK(again->shipments.size() == 1);
  CHECK(stock("A").consumed_total == 1);
  CHECK(code(ship_lines(rec.id, {{"A", 2, seller::internal}}, "ship-1")) ==
        "IDEMPOTENCY_KEY_REUSED");
  CHECK(stock("A").consumed_total == 1);
}

TEST_CASE_FIXTURE(ship_fixture,
                  "cancelling the rest of a partially shipped order refunds "
                  "the unshipped units and releases them") {
  auto rec = paid_order();
  REQUIRE(ship_lines(rec.id, {{"B", 2, seller::internal}}));
  // Part of what is left first, then the rest.
  auto some = cancel_lines(rec.id, {{"A", 1, seller::internal}});
  REQUIRE_MESSAGE(some, why(some));
  CHECK(some->status == order_status::partially_shipped);
  CHECK(some->refunded_amount == 1000);
  CHECK(stock("A").blocked == 3);
  auto rest = must_apply(rec.id, command_kind::cancel);
  CHECK(rest.status == order_status::shipped);
  CHECK(rest.total_amount == 500);
  CHECK(rest.refunded_amount == 4000);
  CHECK(gateway->refunded_total() == 4000);
  auto a = stock("A");
  CHECK(a.blocked == 0);
  CHECK(a.available == 10);
  CHECK(stock("B").on_hand == 8);
  CHECK(audit().violations.empty());
  CHECK(must_apply(rec.id, command_kind::deliver).status ==
        order_status::delivered);
}

TEST_CASE("a restart keeps what part of a hold is left after a shipment, on "
          "its batches") {
  // Proves the store's projection of a partial consume: the hold shrinks
  // to its last units and the shipped ones leave their batches.
  temp_dir dir;
  for (auto& b : backends(dir)) {
    SUBCASE(b.name.c_str()) {
      order_id id;
      {
        fixture f{b.open(), ship_t0};
        auto c = stock_change{};
        c.kind = stock_change_kind::receipt;
        c.sku = "A";
        c.quantity = 2;
        c.unit_price = 1000;
        c.lot = "E";
        c.expires_at = ship_t0 + day;
        REQUIRE(f.call<inbox_result>(f.sup, atom::apply_v, c));
        c.quantity = 5;
        c.lot = "N";
        c.expires_at = 0;
        REQUIRE(f.call<inbox_result>(f.sup, atom::apply_v, c));
        auto rec = f.create("c1", {{"A", 4, seller::internal}}).record;
        id = rec.id;
        f.must_pay(id, rec.total_amount);
        auto part = f.ship_lines(id, {{"A", 3, seller::internal}});
        REQUIRE_MESSAGE(part, why(part));
        CHECK(names(part->shipments[0].lines[0].lots) == strings{"E:2", "N:1"});
      }
      fixture g{b.open(), ship_t0 + 1000};
      auto a = g.stock("A");
      CHECK(a.on_hand == 4);
      CHECK(a.blocked == 1);
      CHECK(a.consumed_total == 3);
      REQUIRE(a.batches.size() == 1);
      CHECK(a.batches[0].lot == "N");
      CHECK(a.batches[0].held == 1);
      auto rec = g.get_order(id);
      REQUIRE(rec);
      CHECK(rec->status == order_status::partially_shipped);
      REQUIRE(rec->shipments.size() == 1);
      CHECK(rec->shipments[0].lines[0].quantity == 3);
      for (auto& v : g.audit().violations)
        FAIL_CHECK(v.sku << ": " << v.what);
      // The rest ships after the restart.
      auto rest = g.must_apply(id, command_kind::ship);
      CHECK(rest.status == order_status::shipped);
      CHECK(g.stock("A").on_hand == 3);
      CHECK(g.audit().violations.empty());
    }
  }
}

TEST_CASE("a line recorded before batches ships from the batch \"\", named, "
          "so that the store keeps the rest of its hold") {
  auto rec = paid_two_lines();
  rec.lines[0].lots.clear();
  auto plan = plan_shipment(rec, {1, 0}, {}, ship_t0);
  REQUIRE(plan);
  REQUIRE(plan->events.size() == 1);
  CHECK(names(plan->events[0].lots) == strings{":1"});
}
