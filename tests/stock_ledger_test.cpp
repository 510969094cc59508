// One SKU's ledger, without actors: arithmetic, idempotency, bad input.
#include <doctest/doctest.h>

#include "actors/stock_ledger.hpp"

using namespace oms;

namespace {

stock_ledger with_stock(int64_t qty, money price = 1000) {
  stock_ledger l;
  REQUIRE(l.check_receive(qty, price).ok());
  l.receive(qty, price);
  return l;
}

void check_counters(const stock_ledger& l, int64_t on_hand, int64_t reserved,
                    int64_t blocked) {
  CHECK(l.on_hand() == on_hand);
  CHECK(l.reserved() == reserved);
  CHECK(l.blocked() == blocked);
  CHECK(l.available() == on_hand - reserved - blocked);
  CHECK(l.check_invariants().empty());
}

} // namespace

TEST_CASE("a new SKU needs a unit price on its first receipt") {
  stock_ledger l;
  auto res = l.check_receive(10, 0);
  CHECK(res.error == errc::validation_failed);
  CHECK(res.message.find("unitPrice") != std::string::npos);
  CHECK_FALSE(l.defined());
  CHECK(l.check_receive(10, 500).ok());
}

TEST_CASE("receipts outside the bounds are refused") {
  auto l = with_stock(5);
  CHECK(l.check_receive(0, 0).error == errc::validation_failed);
  CHECK(l.check_receive(-3, 0).error == errc::validation_failed);
  CHECK(l.check_receive(max_receipt_quantity + 1, 0).error ==
        errc::validation_failed);
  CHECK(l.check_receive(1, -1).error == errc::validation_failed);
  CHECK(l.check_receive(1, unit_price_max_default + 1).error ==
        errc::validation_failed);
  CHECK(l.check_receive(1, unit_price_max_default).ok());
  CHECK(l.check_receive(1, 0).ok());
  check_counters(l, 5, 0, 0);
}

TEST_CASE("receipts add units and keep or replace the price") {
  auto l = with_stock(5, 1000);
  l.receive(7, 0);
  CHECK(l.unit_price() == 1000);
  l.receive(1, 1200);
  CHECK(l.unit_price() == 1200);
  CHECK(l.received_total() == 13);
  check_counters(l, 13, 0, 0);
}

TEST_CASE("a price change needs a known SKU and a positive price") {
  stock_ledger fresh;
  CHECK(fresh.check_price(100).error == errc::unknown_sku);
  auto l = with_stock(1);
  CHECK(l.check_price(0).error == errc::validation_failed);
  CHECK(l.check_price(-5).error == errc::validation_failed);
  CHECK(l.check_price(2500).ok());
}

TEST_CASE("money: a ledger takes unit prices up to its configured highest "
          "price") {
  // Proves the settings' unit_price_max, not a constant, bounds receipts
  // and price changes (it is one factor of the bound on order totals).
  stock_ledger l{1000};
  auto above = l.check_receive(1, 1001);
  CHECK(above.error == errc::validation_failed);
  CHECK(above.message.find("1000") != std::string::npos);
  REQUIRE(l.check_receive(1, 1000).ok());
  l.receive(1, 1000);
  CHECK(l.check_price(1001).error == errc::validation_failed);
  CHECK(l.check_price(1000).ok());
  // A higher limit takes prices the default refuses.
  stock_ledger wide{unit_price_max_default * 10};
  CHECK(wide.check_receive(1, unit_price_max_default + 1).ok());
}

TEST_CASE("a reservation is granted only when available stock covers it") {
  auto l = with_stock(5);
  reserve_reply reply;
  auto res = l.reserve("o1", 3, reply);
  REQUIRE(res.ok());
  CHECK(reply.granted);
  CHECK(reply.unit_price == 1000);
  check_counters(l, 5, 3, 0);
  res = l.reserve("o2", 3, reply);
  REQUIRE(res.ok());
  CHECK_FALSE(reply.granted);
  CHECK(reply.available == 2);
  CHECK(l.find_hold("o2") == nullptr);
  check_counters(l, 5, 3, 0);
  res = l.reserve("o3", 2, reply);
  CHECK(reply.granted);
  check_counters(l, 5, 5, 0);
}

TEST_CASE("a repeated reservation for the same order does not reserve twice") {
  auto l = with_stock(10);
  reserve_reply reply;
  REQUIRE(l.reserve("o1", 4, reply).ok());
  REQUIRE(l.reserve("o1", 4, reply).ok());
  CHECK(reply.granted);
  check_counters(l, 10, 4, 0);
  // A different quantity for an order that already holds is refused.
  auto res = l.reserve("o1", 5, reply);
  CHECK(res.error == errc::validation_failed);
  check_counters(l, 10, 4, 0);
}

TEST_CASE("reservations with bad input change nothing") {
  auto l = with_stock(10);
  reserve_reply reply;
  CHECK(l.reserve("o1", 0, reply).error == errc::validation_failed);
  CHECK(l.reserve("o1", -1, reply).error == errc::validation_failed);
  CHECK(l.reserve("", 1, reply).error == errc::validation_failed);
  stock_ledger fresh;
  CHECK(fresh.reserve("o1", 1, reply).error == errc::unknown_sku);
  check_counters(l, 10, 0, 0);
}

TEST_CASE("blocking moves reserved units to blocked, once") {
  auto l = with_stock(10);
  reserve_reply reply;
  REQUIRE(l.reserve("o1", 4, reply).ok());
  CHECK(l.block("o1").quantity == 4);
  check_counters(l, 10, 0, 4);
  CHECK(l.block("o1").quantity == 4);
  check_counters(l, 10, 0, 4);
  CHECK(l.block("nobody").error == errc::invalid_transition);
  check_counters(l, 10, 0, 4);
}

TEST_CASE("release gives back reserved or blocked units, once") {
  auto l = with_stock(10);
  reserve_reply reply;
  REQUIRE(l.reserve("o1", 4, reply).ok());
  REQUIRE(l.reserve("o2", 3, reply).ok());
  REQUIRE(l.block("o2").ok());
  CHECK(l.release("o1").quantity == 4);
  check_counters(l, 10, 0, 3);
  CHECK(l.release("o2").quantity == 3);
  check_counters(l, 10, 0, 0);
  CHECK(l.release("o2").quantity == 0);
  CHECK(l.release("o1").quantity == 0);
  check_counters(l, 10, 0, 0);
}

TEST_CASE("reduce shrinks a hold to a target, so repeating it is harmless") {
  auto l = with_stock(10);
  reserve_reply reply;
  REQUIRE(l.reserve("o1", 6, reply).ok());
  CHECK(l.reduce("o1", 4).quantity == 2);
  check_counters(l, 10, 4, 0);
  CHECK(l.reduce("o1", 4).quantity == 0);
  check_counters(l, 10, 4, 0);
  CHECK(l.reduce("o1", 5).error == errc::validation_failed);
  CHECK(l.reduce("o1", -1).error == errc::validation_failed);
  check_counters(l, 10, 4, 0);
  CHECK(l.reduce("o1", 0).quantity == 4);
  CHECK(l.find_hold("o1") == nullptr);
  check_counters(l, 10, 0, 0);
}

TEST_CASE("consume ships blocked units only, once") {
  auto l = with_stock(10);
  reserve_reply reply;
  REQUIRE(l.reserve("o1", 4, reply).ok());
  CHECK(l.consume("o1").error == errc::invalid_transition);
  check_counters(l, 10, 4, 0);
  REQUIRE(l.block("o1").ok());
  CHECK(l.consume("o1").quantity == 4);
  check_counters(l, 6, 0, 0);
  CHECK(l.consumed_total() == 4);
  CHECK(l.consume("o1").quantity == 0);
  check_counters(l, 6, 0, 0);
  CHECK(l.received_total() == l.on_hand() + l.consumed_total());
}

TEST_CASE("the view reports the counters of the SKU") {
  auto l = with_stock(10, 4999);
  reserve_reply reply;
  REQUIRE(l.reserve("o1", 2, reply).ok());
  auto v = l.view("SKU-1", 1234);
  CHECK(v.sku == "SKU-1");
  CHECK(v.seller == seller::internal);
  CHECK(v.unit_price == 4999);
  CHECK(v.on_hand == 10);
  CHECK(v.reserved == 2);
  CHECK(v.available == 8);
  CHECK(v.as_of == 1234);
}

TEST_CASE("the cheap invariants pass on every ledger the operations make") {
  auto l = with_stock(10);
  CHECK(l.first_broken_invariant().empty());
  reserve_reply r;
  REQUIRE(l.reserve("o1", 4, r).ok());
  REQUIRE(l.block("o1").ok());
  REQUIRE(l.reserve("o2", 3, r).ok());
  REQUIRE(l.reduce("o2", 1).ok());
  REQUIRE(l.consume("o1").ok());
  REQUIRE(l.release("o2").ok());
  CHECK(l.first_broken_invariant().empty());
  CHECK(l.check_invariants().empty());
}

TEST_CASE("a ledger restored in a state that does not add up names the "
          "broken invariant") {
  auto restored = [](int64_t received, int64_t on_hand,
                     std::vector<hold_view> holds) {
    lot_state lot;
    lot.on_hand = on_hand;
    stock_ledger l;
    l.restore(1000, received, 0, 0, {lot}, holds, 0);
    return l;
  };
  SUBCASE("units appeared from nowhere") {
    auto l = restored(10, 12, {});
    CHECK(l.first_broken_invariant() ==
          "received + adjusted 10 != on hand + consumed 12 + 0");
    CHECK_FALSE(l.check_invariants().empty());
  }
  SUBCASE("holds beyond what the batch has") {
    hold_view h{"o1", 7, hold_kind::reserved, {{"", 7}}};
    auto l = restored(5, 5, {h});
    CHECK(l.first_broken_invariant() ==
          "batch '' holds or sets aside more than its 5 units on hand");
  }
  SUBCASE("a consistent state passes") {
    hold_view h{"o1", 3, hold_kind::blocked, {{"", 3}}};
    auto l = restored(5, 5, {h});
    CHECK(l.first_broken_invariant().empty());
  }
}
