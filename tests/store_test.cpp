// One suite for every journal backend: what is committed is read back,
// applied to the current state, and survives reopening the store.
#include <doctest/doctest.h>

#include "tests/why.hpp"

#include "messages/errors.hpp"
#include "tests/backends.hpp"

using namespace oms;
using namespace oms::test;

namespace {

event sku_event(event_kind kind, const std::string& sku, int64_t qty,
                money amount = 0) {
  event ev;
  ev.kind = kind;
  ev.at = 1000;
  ev.sku = sku;
  ev.quantity = qty;
  ev.amount = amount;
  return ev;
}

event hold_event(event_kind kind, const std::string& sku,
                 const std::string& order, int64_t qty) {
  auto ev = sku_event(kind, sku, qty);
  ev.order = order;
  return ev;
}

order_record sample_order(const std::string& id, const std::string& customer,
                          order_status status, timestamp_ms at) {
  order_record r;
  r.id = id;
  r.customer = customer;
  r.lines = {{"A", 2, 1000, 0, 0, {}}};
  r.ship_to = {"1 Main St", "Flat 2", "Pune", "411001", "IN"};
  r.status = status;
  r.total_amount = 2000;
  r.created_at = at;
  r.updated_at = at;
  r.hold_expires_at = at + 900'000;
  r.history = {
      {at, order_status::created, order_status::created, "created", 2000}};
  r.idempotency_key = "key-" + id;
  r.request_fingerprint = "00112233aabbccdd";
  return r;
}

event order_event(event_kind kind, const order_record& rec) {
  event ev;
  ev.kind = kind;
  ev.at = rec.updated_at;
  ev.order = rec.id;
  ev.amount = rec.total_amount;
  ev.snapshot = rec;
  return ev;
}

void require_ok(const caf::error& err) {
  REQUIRE_MESSAGE(!err, describe(err));
}

} // namespace

TEST_CASE("every backend reads back what it committed, in order and intact") {
  temp_dir dir;
  for (auto& b : backends(dir)) {
    SUBCASE(b.name.c_str()) {
      auto store = b.open();
      CHECK(store->last_seq() == 0);
      auto rec = sample_order("o1", "alice", order_status::created, 5000);
      rec.payments.push_back({payment_kind::charge, "o1:charge:1", 2000,
                              payment_status::pending, "", "", 5001, "pay-1",
                              "ffff"});
      require_ok(
          store->commit({sku_event(event_kind::sku_created, "A", 0, 1000),
                         sku_event(event_kind::stock_received, "A", 5)}));
      require_ok(store->commit(
          {order_event(event_kind::order_created, rec),
           hold_event(event_kind::stock_reserved, "A", "o1", 2)}));
      CHECK(store->last_seq() == 4);
      auto all = store->read(1, 100);
      REQUIRE(all);
      REQUIRE(all->size() == 4);
      CHECK((*all)[0].kind == event_kind::sku_created);
      CHECK((*all)[0].amount == 1000);
      CHECK((*all)[2].kind == event_kind::order_created);
      auto& snap = (*all)[2].snapshot;
      CHECK(snap.id == "o1");
      CHECK(snap.ship_to.line2 == "Flat 2");
      CHECK(snap.history.size() == 1);
      REQUIRE(snap.payments.size() == 1);
      CHECK(snap.payments[0].client_key == "pay-1");
      CHECK(snap.hold_expires_at == 905'000);
      auto tail = store->read(4, 100);
      REQUIRE(tail);
      REQUIRE(tail->size() == 1);
      CHECK(tail->front().order == "o1");
    }
  }
}

TEST_CASE("every backend keeps the current state the events add up to") {
  temp_dir dir;
  for (auto& b : backends(dir)) {
    SUBCASE(b.name.c_str()) {
      auto store = b.open();
      auto o1 = sample_order("o1", "alice", order_status::created, 5000);
      auto o2 = sample_order("o2", "alice", order_status::created, 6000);
      require_ok(
          store->commit({sku_event(event_kind::sku_created, "A", 0, 1000),
                         sku_event(event_kind::stock_received, "A", 10),
                         sku_event(event_kind::price_set, "A", 0, 1200)}));
      require_ok(store->commit(
          {order_event(event_kind::order_created, o1),
           hold_event(event_kind::stock_reserved, "A", "o1", 2)}));
      require_ok(store->commit(
          {order_event(event_kind::order_created, o2),
           hold_event(event_kind::stock_reserved, "A", "o2", 2)}));
      // o1 is paid and shipped; o2 is partly released, then confirmed.
      auto o1_paid = o1;
      o1_paid.status = order_status::paid;
      auto o1_shipped = o1;
      o1_shipped.status = order_status::shipped;
      auto o2_confirmed = o2;
      o2_confirmed.status = order_status::confirmed;
      o2_confirmed.lines[0].cancelled_quantity = 1;
      require_ok(store->commit(
          {hold_event(event_kind::stock_blocked, "A", "o1", 2),
           order_event(event_kind::order_changed, o1_paid),
           hold_event(event_kind::stock_consumed, "A", "o1", 2),
           order_event(event_kind::order_changed, o1_shipped),
           hold_event(event_kind::stock_released, "A", "o2", 1),
           hold_event(event_kind::stock_blocked, "A", "o2", 1),
           order_event(event_kind::order_changed, o2_confirmed)}));
      auto state = store->load();
      REQUIRE_MESSAGE(state, why(state));
      REQUIRE(state->skus.size() == 1);
      auto& a = state->skus[0];
      CHECK(a.unit_price == 1200);
      CHECK(a.on_hand == 8);
      CHECK(a.received_total == 10);
      CHECK(a.consumed_total == 2);
      REQUIRE(state->holds.size() == 1);
      CHECK(state->holds[0].order == "o2");
      CHECK(state->holds[0].quantity == 1);
      CHECK(state->holds[0].kind == hold_kind::blocked);
      // Shipped is not terminal: both orders still need an actor.
      CHECK(state->live_orders.size() == 2);
      CHECK(state->total_orders == 2);
      auto keys = store->load_keys("alice", 0);
      REQUIRE(keys);
      CHECK(keys->size() == 2);
      CHECK(state->last_seq == 14);
    }
  }
}

TEST_CASE("every backend finds and lists orders that have no actor") {
  temp_dir dir;
  for (auto& b : backends(dir)) {
    SUBCASE(b.name.c_str()) {
      auto store = b.open();
      for (int i = 0; i < 5; ++i) {
        auto rec = sample_order("o" + std::to_string(i), "alice",
                                order_status::cancelled, 1000 + i);
        require_ok(
            store->commit({order_event(event_kind::order_created, rec)}));
      }
      require_ok(store->commit({order_event(
          event_kind::order_created,
          sample_order("b1", "bob", order_status::delivered, 9000))}));
      auto found = store->find_order("o3");
      REQUIRE(found);
      CHECK(found->status == order_status::cancelled);
      CHECK(found->created_at == 1003);
      CHECK(code_of(store->find_order("nope").error()) ==
            errc::order_not_found);
      auto page = store->list_orders("alice", 0, 2);
      REQUIRE(page);
      REQUIRE(page->size() == 2);
      CHECK((*page)[0].id == "o4");
      CHECK((*page)[1].id == "o3");
      auto rest = store->list_orders("alice", 2, 10);
      REQUIRE(rest);
      REQUIRE(rest->size() == 3);
      CHECK(rest->back().id == "o0");
      auto state = store->load();
      REQUIRE(state);
      CHECK(state->live_orders.empty());
      CHECK(state->total_orders == 6);
    }
  }
}

TEST_CASE("every backend loads only the idempotency keys within the window") {
  temp_dir dir;
  for (auto& b : backends(dir)) {
    SUBCASE(b.name.c_str()) {
      auto store = b.open();
      require_ok(store->commit({order_event(
          event_kind::order_created,
          sample_order("old", "alice", order_status::created, 1000))}));
      require_ok(store->commit({order_event(
          event_kind::order_created,
          sample_order("new", "alice", order_status::created, 50'000))}));
      auto keys = store->load_keys("alice", 10'000);
      REQUIRE(keys);
      REQUIRE(keys->size() == 1);
      CHECK((*keys)[0].key == "key-new");
      CHECK((*keys)[0].customer == "alice");
      CHECK((*keys)[0].response.id == "new");
      auto none = store->load_keys("bob", 0);
      REQUIRE(none);
      CHECK(none->empty());
    }
  }
}

TEST_CASE("every backend keeps its state across a reopen") {
  temp_dir dir;
  for (auto& b : backends(dir)) {
    SUBCASE(b.name.c_str()) {
      {
        auto store = b.open();
        require_ok(
            store->commit({sku_event(event_kind::sku_created, "A", 0, 700),
                           sku_event(event_kind::stock_received, "A", 3)}));
        require_ok(store->commit({order_event(
            event_kind::order_created,
            sample_order("o1", "alice", order_status::created, 5000))}));
      }
      auto again = b.open();
      CHECK(again->last_seq() == 3);
      auto state = again->load();
      REQUIRE(state);
      REQUIRE(state->skus.size() == 1);
      CHECK(state->skus[0].on_hand == 3);
      CHECK(state->live_orders.size() == 1);
      require_ok(
          again->commit({sku_event(event_kind::stock_received, "A", 2)}));
      CHECK(again->last_seq() == 4);
    }
  }
}

TEST_CASE("a recovered state with holds or lines on unknown SKUs is refused") {
  recovered_state ok;
  ok.skus.push_back(sku_state{"A", 100, 5, 5, 0, 1});
  ok.holds.push_back(hold_state{"o1", "A", 2, hold_kind::reserved});
  CHECK(check_consistency(ok).empty());
  auto bad_hold = ok;
  bad_hold.holds.push_back(hold_state{"o2", "B", 1, hold_kind::blocked});
  CHECK(check_consistency(bad_hold).find("unknown SKU B") != std::string::npos);
  auto bad_line = ok;
  order_record rec;
  rec.id = "o3";
  rec.lines = {{"Z", 1, 100, 0, 0, {}}};
  bad_line.live_orders.push_back(rec);
  CHECK(check_consistency(bad_line).find("o3") != std::string::npos);
}
