// The INVENTORY actor behind the SUPERVISOR: receipts, prices, availability,
// holds, and what happens when the journal refuses.
#include "tests/fixture.hpp"

#include "actors/stock_ledger.hpp"

using namespace oms;
using namespace oms::test;

TEST_CASE_FIXTURE(fixture, "the first receipt creates the SKU with its price") {
  auto v = receive("SKU-1", 10, 49900);
  CHECK(v.sku == "SKU-1");
  CHECK(v.on_hand == 10);
  CHECK(v.available == 10);
  CHECK(v.unit_price == 49900);
  CHECK(v.as_of > 0);
  auto again = receive("SKU-1", 5);
  CHECK(again.on_hand == 15);
  CHECK(again.unit_price == 49900);
  CHECK(again.received_total == 15);
}

TEST_CASE_FIXTURE(fixture,
                  "receipts are journaled before they are acknowledged") {
  receive("SKU-1", 10, 49900);
  auto events = store_events(1, 100);
  REQUIRE(events.size() == 2);
  CHECK(events[0].kind == event_kind::sku_created);
  CHECK(events[0].amount == 49900);
  CHECK(events[1].kind == event_kind::stock_received);
  CHECK(events[1].quantity == 10);
  receive("SKU-1", 3, 50000);
  events = store_events(3, 100);
  REQUIRE(events.size() == 2);
  CHECK(events[0].kind == event_kind::price_set);
  CHECK(events[1].kind == event_kind::stock_received);
}

TEST_CASE_FIXTURE(fixture,
                  "a new SKU without a price is refused and does not exist") {
  auto res = call<stock_view>(sup, atom::receive_v, sku_id{"SKU-X"},
                              seller::internal, int64_t{10}, money{0});
  CHECK(code(res) == "VALIDATION_FAILED");
  CHECK(message_of(res.error()).find("unitPrice") != std::string::npos);
  auto get =
      call<stock_view>(sup, atom::get_v, sku_id{"SKU-X"}, seller::internal);
  CHECK(code(get) == "UNKNOWN_SKU");
  CHECK(store->last_seq() == 0);
}

TEST_CASE_FIXTURE(fixture, "receipts with bad quantities change nothing") {
  receive("SKU-1", 10, 100);
  for (int64_t qty : {int64_t{0}, int64_t{-1}, max_receipt_quantity + 1}) {
    auto res = call<stock_view>(sup, atom::receive_v, sku_id{"SKU-1"},
                                seller::internal, qty, money{0});
    CHECK(code(res) == "VALIDATION_FAILED");
  }
  auto bad_id = call<stock_view>(sup, atom::receive_v, sku_id{"bad id"},
                                 seller::internal, int64_t{1}, money{100});
  CHECK(code(bad_id) == "VALIDATION_FAILED");
  CHECK(stock("SKU-1").on_hand == 10);
  CHECK(store->last_seq() == 2);
}

TEST_CASE_FIXTURE(fixture,
                  "the EXTERNAL seller's stock cannot be received here") {
  auto res = call<stock_view>(sup, atom::receive_v, sku_id{"SKU-1"},
                              seller::external, int64_t{10}, money{100});
  CHECK(code(res) == "EXTERNAL_INVENTORY_READ_ONLY");
  CHECK(store->last_seq() == 0);
}

TEST_CASE_FIXTURE(fixture, "availability of an unknown SKU is UNKNOWN_SKU") {
  auto res =
      call<stock_view>(sup, atom::get_v, sku_id{"NOPE"}, seller::internal);
  CHECK(code(res) == "UNKNOWN_SKU");
  auto ext =
      call<stock_view>(sup, atom::get_v, sku_id{"NOPE"}, seller::external);
  CHECK(code(ext) == "WMS_UNAVAILABLE");
}

TEST_CASE_FIXTURE(fixture, "a receipt the journal refuses changes nothing") {
  receive("SKU-1", 10, 100);
  store->fail_commits(true);
  auto res = call<stock_view>(sup, atom::receive_v, sku_id{"SKU-1"},
                              seller::internal, int64_t{5}, money{0});
  CHECK(code(res) == "STORE_FAILURE");
  // A new SKU whose first receipt failed does not exist either.
  auto fresh = call<stock_view>(sup, atom::receive_v, sku_id{"SKU-2"},
                                seller::internal, int64_t{5}, money{100});
  CHECK(code(fresh) == "STORE_FAILURE");
  store->fail_commits(false);
  CHECK(stock("SKU-1").on_hand == 10);
  auto get =
      call<stock_view>(sup, atom::get_v, sku_id{"SKU-2"}, seller::internal);
  CHECK(code(get) == "UNKNOWN_SKU");
}

TEST_CASE_FIXTURE(fixture, "a price change applies to later reservations") {
  receive("SKU-1", 10, 100);
  auto h = call<inventory_actor>(sup, atom::find_sku_v, sku_id{"SKU-1"},
                                 seller::internal);
  REQUIRE(h);
  auto v = call<stock_view>(*h, atom::price_v, money{250}, uint64_t{0});
  REQUIRE(v);
  CHECK(v->unit_price == 250);
  auto bad = call<stock_view>(*h, atom::price_v, money{0}, uint64_t{0});
  CHECK(code(bad) == "VALIDATION_FAILED");
  auto order = create("c1", {{"SKU-1", 2, seller::internal}});
  CHECK(order.record.lines[0].unit_price == 250);
  CHECK(order.record.total_amount == 500);
}

TEST_CASE_FIXTURE(fixture, "the SKU actor's holds are idempotent per order") {
  receive("SKU-1", 10, 100);
  auto h = call<inventory_actor>(sup, atom::find_sku_v, sku_id{"SKU-1"},
                                 seller::internal);
  REQUIRE(h);
  auto r1 =
      call<reserve_reply>(*h, atom::reserve_v, order_id{"o1"}, int64_t{4});
  auto r2 =
      call<reserve_reply>(*h, atom::reserve_v, order_id{"o1"}, int64_t{4});
  REQUIRE(r1);
  REQUIRE(r2);
  CHECK(r1->granted);
  CHECK(r2->granted);
  CHECK(stock("SKU-1").reserved == 4);
  CHECK(*call<int64_t>(*h, atom::block_v, order_id{"o1"}) == 4);
  CHECK(*call<int64_t>(*h, atom::block_v, order_id{"o1"}) == 4);
  CHECK(stock("SKU-1").blocked == 4);
  CHECK(*call<int64_t>(*h, atom::reduce_v, order_id{"o1"}, int64_t{1}) == 3);
  CHECK(*call<int64_t>(*h, atom::reduce_v, order_id{"o1"}, int64_t{1}) == 0);
  CHECK(stock("SKU-1").blocked == 1);
  CHECK(*call<int64_t>(*h, atom::consume_v, order_id{"o1"}, int64_t{0}) == 1);
  CHECK(*call<int64_t>(*h, atom::consume_v, order_id{"o1"}, int64_t{0}) == 0);
  auto v = stock("SKU-1");
  CHECK(v.on_hand == 9);
  CHECK(v.consumed_total == 1);
  CHECK(v.available == 9);
  CHECK(*call<int64_t>(*h, atom::release_v, order_id{"o1"}) == 0);
}
