// One suite for every journal backend: what is committed is read back,
// applied to the current state, and survives reopening the store.
#include <algorithm>
#include <set>

#include <doctest/doctest.h>

#include <limits>

#include "tests/why.hpp"

#include "actors/order_plan.hpp" // order_event
#include "messages/errors.hpp"
#include "system/store/codec.hpp"
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

void require_ok(const caf::error& err) {
  REQUIRE_MESSAGE(!err, describe(err));
}

// A SQLite store in `dir`.
std::unique_ptr<sqlite_store> sqlite_in(const temp_dir& dir) {
  auto opened = sqlite_store::open((dir.path / "oms.db").string());
  REQUIRE_MESSAGE(opened, why(opened));
  return std::move(*opened);
}

// -- batches, the inbox and the EXTERNAL seller -------------------------------

event stock(event_kind kind, const std::string& sku, int64_t qty,
            timestamp_ms at, const std::string& lot = {}) {
  auto ev = sku_event(kind, sku, qty);
  ev.at = at;
  ev.lot = lot;
  return ev;
}

event receipt(const std::string& sku, int64_t qty, timestamp_ms at,
              const std::string& lot, timestamp_ms expires_at) {
  auto ev = stock(event_kind::stock_received, sku, qty, at, lot);
  ev.expires_at = expires_at;
  return ev;
}

event moved(const std::string& lot, int64_t qty, const std::string& reason,
            timestamp_ms at) {
  auto ev = stock(event_kind::stock_moved, "A", qty, at, lot);
  ev.reason = reason;
  return ev;
}

event held(event_kind kind, const std::string& sku, const std::string& order,
           int64_t qty, timestamp_ms at,
           std::vector<lot_allocation> lots = {}) {
  auto ev = stock_event(kind, at, sku, order, qty);
  ev.lots = std::move(lots);
  return ev;
}

event external(event_kind kind, int64_t qty, int64_t wms_seq, timestamp_ms at,
               const std::string& inbox_id) {
  auto ev = stock(kind, "EXT-1", qty, at);
  ev.amount = wms_seq;
  ev.inbox_id = inbox_id;
  ev.seller = seller::external;
  return ev;
}

event wms(const std::string& order, int64_t qty, const std::string& state,
          int64_t wms_seq, timestamp_ms at) {
  auto ev = stock_event(event_kind::wms_synced, at, "EXT-1", order, qty);
  ev.reason = state;
  ev.amount = wms_seq;
  ev.seller = seller::external;
  return ev;
}

event cursor(const std::string& source, const std::string& value,
             timestamp_ms at) {
  event ev;
  ev.kind = event_kind::inbox_cursor;
  ev.at = at;
  ev.reason = source;
  ev.lot = value;
  return ev;
}

// Every kind of event the batches, the INBOX and the EXTERNAL seller add, in
// journal order: receipts into batches with expiry, holds drawing from
// several batches and shrinking, moves into DAMAGED and back, adjustments
// (one emptying a batch), a consumption, an expiry, inbox ids, cursors,
// feed changes and WMS reservations set and settled.
// The state `evs` add up to in memory: the reference the stores are
// compared with.
store_state applied(const std::vector<event>& evs);

std::vector<event> model_events() {
  std::vector<event> evs;
  auto add = [&](event ev) {
    evs.push_back(std::move(ev));
  };
  add(sku_event(event_kind::sku_created, "A", 0, 1000));
  auto first = receipt("A", 10, 1001, "L1", 50'000);
  first.inbox_id = "rcv-1";
  add(first);
  add(receipt("A", 5, 1002, "L2", 90'000));
  add(receipt("A", 3, 1003, "", 0));
  auto o1 = sample_order("o1", "alice", order_status::created, 2000);
  o1.lines = {{"A", 12, 1000, 0, 0, {{"L1", 10}, {"L2", 2}}}};
  add(order_event(event_kind::order_created, o1));
  add(held(event_kind::stock_reserved, "A", "o1", 12, 2000,
           {{"L1", 10}, {"L2", 2}}));
  add(held(event_kind::stock_released, "A", "o1", 3, 2100));
  add(moved("L2", 2, "DAMAGED", 2200));
  add(moved("L2", -1, "DAMAGED", 2201));
  add(moved("", 1, "SAFETY_STOCK", 2202));
  add(moved("L2", 1, "NOT_A_REASON", 2203));
  auto count = stock(event_kind::stock_adjusted, "A", -1, 2300, "L2");
  count.reason = "cycle count";
  count.inbox_id = "adj-1";
  add(count);
  add(receipt("A", 2, 2400, "L3", 0));
  auto lost = stock(event_kind::stock_adjusted, "A", -2, 2401, "L3");
  lost.reason = "lost";
  add(lost);
  add(held(event_kind::stock_blocked, "A", "o1", 9, 2500));
  add(held(event_kind::stock_consumed, "A", "o1", 9, 2600));
  auto o1_shipped = o1;
  o1_shipped.status = order_status::shipped;
  o1_shipped.lines[0].cancelled_quantity = 3;
  o1_shipped.lines[0].shipped_quantity = 9;
  o1_shipped.updated_at = 2600;
  add(order_event(event_kind::order_changed, o1_shipped));
  add(stock(event_kind::batch_expired, "A", 1, 50'000, "L1"));
  // SKU A's 13th change, numbered by its actor (the ones before carry no
  // version, as journaled before SKUs had versions: each counts one).
  auto numbered = receipt("A", 4, 50'100, "L3", 120'000);
  numbered.version = 20;
  add(numbered);
  auto o5 = sample_order("o5", "bob", order_status::created, 50'200);
  o5.lines = {{"A", 5, 1000, 0, 0, {{"L1", 1}, {"L2", 3}, {"", 1}}}};
  add(order_event(event_kind::order_created, o5));
  add(held(event_kind::stock_reserved, "A", "o5", 5, 50'200,
           {{"L1", 1}, {"L2", 3}, {"", 1}}));
  add(held(event_kind::stock_released, "A", "o5", 2, 50'300));
  // A SKU and a hold from before batches: no lot, no allocations.
  add(stock(event_kind::sku_created, "B", 0, 3000));
  add(stock(event_kind::stock_received, "B", 4, 3001));
  add(order_event(event_kind::order_created,
                  sample_order("o2", "carol", order_status::created, 3100)));
  add(held(event_kind::stock_reserved, "B", "o2", 2, 3100));
  event cust;
  cust.kind = event_kind::customer_created;
  cust.at = 3200;
  cust.customer = {"cust-1", "Alice", "abcd", 3200};
  add(cust);
  // An inbound change recorded as processed without effect.
  auto rejected = stock(event_kind::inbox_cursor, "A", -50, 3300);
  rejected.inbox_id = "bad-1";
  rejected.reason = "INSUFFICIENT_STOCK: only 12 on hand";
  add(rejected);
  add(cursor("wms", "c-17", 3400));
  add(cursor("wms", "c-18", 3500));
  add(cursor("erp", "e-1", 3501));
  // The EXTERNAL seller: feed changes by WMS sequence, no SKU or hold rows.
  auto ext = external(event_kind::stock_received, 7, 41, 4000, "wms-41");
  ext.lot = "W1";
  add(ext);
  auto ext_count = external(event_kind::stock_adjusted, -2, 42, 4001, "wms-42");
  ext_count.reason = "count";
  add(ext_count);
  add(external(event_kind::stock_received, 3, 41, 4002, "wms-41b"));
  auto ext_hold = held(event_kind::stock_reserved, "EXT-1", "o3", 2, 4100);
  ext_hold.seller = seller::external;
  add(ext_hold);
  add(wms("o3", 2, "NONE>RESERVED", 0, 4200));
  add(wms("o3", 2, "RESERVED", 43, 4201));
  add(wms("o4", 1, "RESERVED", 44, 4300));
  add(wms("o4", 1, "RELEASED", 44, 4301));
  return evs;
}

// Commits `evs` in transactions of up to four events.
void commit_all(journal_store& store, const std::vector<event>& evs) {
  for (size_t i = 0; i < evs.size(); i += 4)
    require_ok(store.commit(std::vector<event>(
        evs.begin() + i, evs.begin() + std::min(evs.size(), i + 4))));
}

void check_same_event(const event& want, const event& got) {
  CHECK(got.kind == want.kind);
  CHECK(got.at == want.at);
  CHECK(got.sku == want.sku);
  CHECK(got.order == want.order);
  CHECK(got.quantity == want.quantity);
  CHECK(got.amount == want.amount);
  CHECK(encode_record(got.snapshot) == encode_record(want.snapshot));
  CHECK(encode_customer(got.customer) == encode_customer(want.customer));
  CHECK(got.lot == want.lot);
  CHECK(got.expires_at == want.expires_at);
  CHECK(got.reason == want.reason);
  CHECK(got.lots == want.lots);
  CHECK(got.inbox_id == want.inbox_id);
  CHECK(got.seller == want.seller);
  CHECK(got.version == want.version);
}

store_state applied(const std::vector<event>& evs) {
  store_state result;
  for (auto& ev : evs)
    result.apply(ev);
  return result;
}

void check_same_state(const recovered_state& want, const recovered_state& got) {
  REQUIRE(got.skus.size() == want.skus.size());
  for (size_t i = 0; i < want.skus.size(); ++i) {
    auto& w = want.skus[i];
    auto& g = got.skus[i];
    CAPTURE(w.sku);
    CHECK(g.sku == w.sku);
    CHECK(g.unit_price == w.unit_price);
    CHECK(g.on_hand == w.on_hand);
    CHECK(g.received_total == w.received_total);
    CHECK(g.consumed_total == w.consumed_total);
    CHECK(g.adjusted_total == w.adjusted_total);
    CHECK(g.updated_at == w.updated_at);
    CHECK(g.version == w.version);
    REQUIRE(g.batches.size() == w.batches.size());
    for (size_t j = 0; j < w.batches.size(); ++j) {
      auto& wb = w.batches[j];
      auto& gb = g.batches[j];
      CAPTURE(wb.lot);
      CHECK(gb.lot == wb.lot);
      CHECK(gb.expires_at == wb.expires_at);
      CHECK(gb.received_at == wb.received_at);
      CHECK(gb.on_hand == wb.on_hand);
      CHECK(gb.unallocatable == wb.unallocatable);
      CHECK(gb.expired == wb.expired);
      CHECK(gb.held == wb.held);
      CHECK(gb.available == wb.available);
    }
  }
  REQUIRE(got.holds.size() == want.holds.size());
  for (size_t i = 0; i < want.holds.size(); ++i) {
    auto& w = want.holds[i];
    auto& g = got.holds[i];
    CAPTURE(w.order);
    CHECK(g.order == w.order);
    CHECK(g.sku == w.sku);
    CHECK(g.quantity == w.quantity);
    CHECK(g.kind == w.kind);
    CHECK(g.lots == w.lots);
  }
  REQUIRE(got.live_orders.size() == want.live_orders.size());
  for (size_t i = 0; i < want.live_orders.size(); ++i)
    CHECK(encode_record(got.live_orders[i]) ==
          encode_record(want.live_orders[i]));
  REQUIRE(got.customers.size() == want.customers.size());
  for (size_t i = 0; i < want.customers.size(); ++i)
    CHECK(encode_customer(got.customers[i]) ==
          encode_customer(want.customers[i]));
  CHECK(got.inbox_ids == want.inbox_ids);
  CHECK(got.cursors == want.cursors);
  REQUIRE(got.external_deltas.size() == want.external_deltas.size());
  for (size_t i = 0; i < want.external_deltas.size(); ++i) {
    auto& w = want.external_deltas[i];
    auto& g = got.external_deltas[i];
    CHECK(g.sku == w.sku);
    CHECK(g.event_id == w.event_id);
    CHECK(g.wms_seq == w.wms_seq);
    CHECK(g.quantity == w.quantity);
    CHECK(g.at == w.at);
  }
  REQUIRE(got.wms_reservations.size() == want.wms_reservations.size());
  for (size_t i = 0; i < want.wms_reservations.size(); ++i) {
    auto& w = want.wms_reservations[i];
    auto& g = got.wms_reservations[i];
    CHECK(g.order == w.order);
    CHECK(g.sku == w.sku);
    CHECK(g.quantity == w.quantity);
    CHECK(g.state == w.state);
    CHECK(g.wms_seq == w.wms_seq);
    CHECK(g.at == w.at);
  }
  CHECK(got.last_seq == want.last_seq);
  CHECK(got.total_orders == want.total_orders);
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
           stock_event(event_kind::stock_reserved, 1000, "A", "o1", 2)}));
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
           stock_event(event_kind::stock_reserved, 1000, "A", "o1", 2)}));
      require_ok(store->commit(
          {order_event(event_kind::order_created, o2),
           stock_event(event_kind::stock_reserved, 1000, "A", "o2", 2)}));
      // o1 is paid and shipped; o2 is partly released, then confirmed.
      auto o1_paid = o1;
      o1_paid.status = order_status::paid;
      auto o1_shipped = o1;
      o1_shipped.status = order_status::shipped;
      auto o2_confirmed = o2;
      o2_confirmed.status = order_status::confirmed;
      o2_confirmed.lines[0].cancelled_quantity = 1;
      require_ok(store->commit(
          {stock_event(event_kind::stock_blocked, 1000, "A", "o1", 2),
           order_event(event_kind::order_changed, o1_paid),
           stock_event(event_kind::stock_consumed, 1000, "A", "o1", 2),
           order_event(event_kind::order_changed, o1_shipped),
           stock_event(event_kind::stock_released, 1000, "A", "o2", 1),
           stock_event(event_kind::stock_blocked, 1000, "A", "o2", 1),
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
      for (auto* key : {"key-o1", "key-o2"}) {
        auto one = store->load_key("alice", key);
        REQUIRE(one);
        CHECK(one->size() == 1);
      }
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

TEST_CASE("every backend reads one idempotency key with the result it "
          "guards") {
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
      auto fresh = store->load_key("alice", "key-new");
      REQUIRE(fresh);
      REQUIRE(fresh->size() == 1);
      CHECK((*fresh)[0].key == "key-new");
      CHECK((*fresh)[0].customer == "alice");
      CHECK((*fresh)[0].at == 50'000);
      CHECK((*fresh)[0].response.id == "new");
      // One key, as a repeated request reads the result it guards.
      auto one = store->load_key("alice", "key-old");
      REQUIRE_MESSAGE(one, why(one));
      REQUIRE(one->size() == 1);
      CHECK((*one)[0].fingerprint == "00112233aabbccdd");
      CHECK((*one)[0].order == "old");
      CHECK((*one)[0].response.id == "old");
      CHECK((*one)[0].response.total_amount == 2000);
      for (auto [customer, key] :
           {std::pair{"bob", "key-old"}, std::pair{"alice", "key-none"}}) {
        auto missing = store->load_key(customer, key);
        REQUIRE(missing);
        CHECK(missing->empty());
      }
      // The key used again, later, for another order replaces its row; an
      // earlier use, or the same order's again, does not.
      auto reused =
          sample_order("reused", "alice", order_status::created, 90'000);
      reused.idempotency_key = "key-old";
      reused.request_fingerprint = "ffeeddccbbaa9988";
      auto stale = sample_order("stale", "alice", order_status::created, 500);
      stale.idempotency_key = "key-old";
      auto same =
          sample_order("reused", "alice", order_status::created, 95'000);
      same.idempotency_key = "key-old";
      same.request_fingerprint = "0000000000000000";
      for (auto* rec : {&reused, &stale, &same})
        require_ok(
            store->commit({order_event(event_kind::order_created, *rec)}));
      auto now = store->load_key("alice", "key-old");
      REQUIRE_MESSAGE(now, why(now));
      REQUIRE(now->size() == 1);
      CHECK((*now)[0].order == "reused");
      CHECK((*now)[0].fingerprint == "ffeeddccbbaa9988");
      CHECK((*now)[0].at == 90'000);
    }
  }
}

TEST_CASE("every backend keeps text SQL could misread and the largest "
          "integers verbatim") {
  // PostgreSQL's commits send their writes as EXECUTE lines with the
  // parameters quoted in the text, and the log as one INSERT of quoted
  // literals: a quote, a backslash, a semicolon or a parameter marker in a
  // value must stay part of the value.
  const std::string odd = "it's \\'; DROP TABLE skus; -- $1 $$ \"q\"\n"
                          "\t\xc3\xa9\xe2\x82\xac\xf0\x9f\x93\xa6";
  temp_dir dir;
  for (auto& b : backends(dir)) {
    SUBCASE(b.name.c_str()) {
      {
        auto store = b.open();
        auto price = sku_event(event_kind::sku_created, odd, 0,
                               std::numeric_limits<int64_t>::max());
        // The latest time whose hold expiry (15 minutes on) still fits.
        auto rec = sample_order("ord-" + odd, odd, order_status::created,
                                std::numeric_limits<int64_t>::max() - 900'000);
        rec.lines[0].sku = odd;
        rec.ship_to.line1 = odd;
        rec.idempotency_key = odd;
        require_ok(
            store->commit({price, sku_event(event_kind::stock_received, odd, 7),
                           order_event(event_kind::order_created, rec)}));
      }
      auto store = b.open();
      auto state = store->load();
      REQUIRE_MESSAGE(state, why(state));
      REQUIRE(state->skus.size() == 1);
      CHECK(state->skus[0].sku == odd);
      CHECK(state->skus[0].unit_price == std::numeric_limits<int64_t>::max());
      CHECK(state->skus[0].on_hand == 7);
      auto found = store->find_order("ord-" + odd);
      REQUIRE_MESSAGE(found, why(found));
      CHECK(found->customer == odd);
      CHECK(found->lines[0].sku == odd);
      CHECK(found->ship_to.line1 == odd);
      CHECK(found->created_at == std::numeric_limits<int64_t>::max() - 900'000);
      CHECK(found->hold_expires_at == std::numeric_limits<int64_t>::max());
      auto key = store->load_key(odd, odd);
      REQUIRE_MESSAGE(key, why(key));
      REQUIRE(key->size() == 1);
      CHECK((*key)[0].order == "ord-" + odd);
      // The log as written (PostgreSQL: one INSERT of literals per batch).
      auto log = store->read(1, 10);
      REQUIRE_MESSAGE(log, why(log));
      REQUIRE(log->size() == 3);
      CHECK(log->at(0).sku == odd);
      CHECK(log->at(0).amount == std::numeric_limits<int64_t>::max());
      CHECK(log->at(1).quantity == 7);
      CHECK(log->at(2).kind == event_kind::order_created);
      CHECK(log->at(2).order == "ord-" + odd);
      CHECK(log->at(2).snapshot.customer == odd);
      CHECK(log->at(2).snapshot.idempotency_key == odd);
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
  ok.skus.push_back(sku_state{"A", 100, 5, 5, 0, 0, 1, 0, {}});
  ok.holds.push_back(hold_state{"o1", "A", 2, hold_kind::reserved, {}});
  CHECK(check_consistency(ok).empty());
  auto bad_hold = ok;
  bad_hold.holds.push_back(hold_state{"o2", "B", 1, hold_kind::blocked, {}});
  CHECK(check_consistency(bad_hold).find("unknown SKU B") != std::string::npos);
  auto bad_line = ok;
  order_record rec;
  rec.id = "o3";
  rec.lines = {{"Z", 1, 100, 0, 0, {}}};
  bad_line.live_orders.push_back(rec);
  CHECK(check_consistency(bad_line).find("o3") != std::string::npos);
}

TEST_CASE("a WMS standing is written as the text it is read from") {
  std::vector<std::string> states{"NONE", "RESERVED", "BLOCKED", "SHIPPED",
                                  "RELEASED"};
  for (auto& known : states) {
    std::vector<std::string> texts{known};
    for (auto& wanted : states)
      texts.push_back(known + ">" + wanted);
    for (auto& text : texts) {
      CAPTURE(text);
      wms_standing x;
      REQUIRE(parse_wms_standing(text, x));
      CHECK(to_string(x) == text);
    }
  }
  wms_standing x;
  CHECK(parse_wms_standing("NONE>RESERVED", x));
  CHECK(x.known == wms_state::none);
  CHECK(x.wanted == wms_state::reserved);
  // What is not a standing reads as far as it goes.
  CHECK_FALSE(parse_wms_standing("BLOCKED>SOMEDAY", x));
  CHECK(x.known == wms_state::blocked);
  CHECK_FALSE(x.wanted);
  CHECK_FALSE(parse_wms_standing("REFUSED", x));
  CHECK(x.known == wms_state::none);
}

TEST_CASE("every store recovers batches, hold lots, the inbox, cursors and the "
          "external seller's records as the memory state does") {
  auto evs = model_events();
  auto reference = applied(evs);
  auto want = reference.recover();
  // The reference itself, by hand: what the events add up to.
  REQUIRE(want.skus.size() == 2);
  auto& a = want.skus[0];
  CHECK(a.sku == "A");
  CHECK(a.on_hand == 12);
  CHECK(a.received_total == 24);
  CHECK(a.consumed_total == 9);
  CHECK(a.adjusted_total == -3);
  CHECK(a.updated_at == 50'100);
  // Twelve changes without a number, then one numbered 20; orders' holds
  // and shipments do not count, nor the EXTERNAL seller's events.
  CHECK(a.version == 20);
  CHECK(want.skus[1].version == 2);
  std::vector<std::vector<int64_t>> aside{
      {0, 0, 0, 0}, {1, 0, 0, 0}, {0, 0, 0, 1}, {0, 0, 0, 0}};
  REQUIRE(a.batches.size() == 4);
  CHECK(a.batches[0].lot == "L1");
  CHECK(a.batches[0].on_hand == 1);
  CHECK(a.batches[1].lot == "L2");
  CHECK(a.batches[1].on_hand == 4);
  CHECK(a.batches[2].lot == "");
  CHECK(a.batches[2].on_hand == 3);
  CHECK(a.batches[3].lot == "L3"); // emptied, dropped, received again
  CHECK(a.batches[3].expires_at == 120'000);
  CHECK(a.batches[3].received_at == 50'100);
  for (size_t i = 0; i < aside.size(); ++i)
    CHECK(a.batches[i].unallocatable == aside[i]);
  REQUIRE(want.holds.size() == 2);
  CHECK(want.holds[0].order == "o2");
  CHECK(want.holds[0].lots == std::vector<lot_allocation>{{"", 2}});
  CHECK(want.holds[1].order == "o5");
  CHECK(want.holds[1].quantity == 3);
  CHECK(want.holds[1].lots ==
        std::vector<lot_allocation>{{"L1", 1}, {"L2", 2}});
  std::vector<std::string> inbox_ids;
  for (auto& [id, at] : want.inbox_ids)
    inbox_ids.push_back(id);
  CHECK(inbox_ids == std::vector<std::string>{"adj-1", "bad-1", "rcv-1",
                                              "wms-41", "wms-41b", "wms-42"});
  CHECK(want.cursors == std::vector<std::pair<std::string, std::string>>{
                            {"erp", "e-1"}, {"wms", "c-18"}});
  REQUIRE(want.external_deltas.size() == 2);
  CHECK(want.external_deltas[0].event_id == "wms-41b");
  CHECK(want.external_deltas[0].quantity == 3);
  CHECK(want.external_deltas[1].quantity == -2);
  REQUIRE(want.wms_reservations.size() == 1);
  CHECK(want.wms_reservations[0].order == "o3");
  CHECK(to_string(want.wms_reservations[0].state) == "RESERVED");
  CHECK(want.wms_reservations[0].wms_seq == 43);
  CHECK(want.live_orders.size() == 3);
  CHECK(want.last_seq == evs.size());
  temp_dir dir;
  for (auto& b : backends(dir)) {
    SUBCASE(b.name.c_str()) {
      {
        auto store = b.open();
        commit_all(*store, evs);
        auto got = store->load();
        REQUIRE_MESSAGE(got, why(got));
        check_same_state(want, *got);
      }
      // And again from what is on disk.
      auto again = b.open();
      auto got = again->load();
      REQUIRE_MESSAGE(got, why(got));
      check_same_state(want, *got);
      CHECK(check_consistency(*got).empty());
      // What a cluster node reads to take a shard: the stock and the live
      // orders as load() has them, and nothing else.
      auto stock = again->load_stock(false);
      REQUIRE_MESSAGE(stock, why(stock));
      auto only = want;
      only.customers.clear();
      only.inbox_ids.clear();
      only.cursors.clear();
      only.external_deltas.clear();
      only.wms_reservations.clear();
      only.total_orders = 0;
      if (b.name == "memory")
        only = want; // the memory store's is all of load()'s
      check_same_state(only, *stock);
      // With the EXTERNAL seller's state (the duty shard's): its cursors,
      // feed changes and WMS reservations too.
      auto duty = again->load_stock(true);
      REQUIRE_MESSAGE(duty, why(duty));
      only.cursors = want.cursors;
      only.external_deltas = want.external_deltas;
      only.wms_reservations = want.wms_reservations;
      if (b.name == "memory")
        only = want;
      check_same_state(only, *duty);
    }
  }
}

// What a restart of one SKU's actor reads: the SKU as the whole state has
// it, and only the holds on it.
static void check_same_sku(const recovered_state& whole, const sku_id& id,
                           const stored_sku& got) {
  auto sku = std::find_if(whole.skus.begin(), whole.skus.end(),
                          [&](const sku_state& s) { return s.sku == id; });
  REQUIRE(got.found == (sku != whole.skus.end()));
  if (got.found) {
    CHECK(got.state.sku == id);
    CHECK(got.state.unit_price == sku->unit_price);
    CHECK(got.state.on_hand == sku->on_hand);
    CHECK(got.state.received_total == sku->received_total);
    CHECK(got.state.consumed_total == sku->consumed_total);
    CHECK(got.state.adjusted_total == sku->adjusted_total);
    CHECK(got.state.updated_at == sku->updated_at);
    CHECK(got.state.version == sku->version);
    REQUIRE(got.state.batches.size() == sku->batches.size());
    for (size_t i = 0; i < sku->batches.size(); ++i) {
      CHECK(got.state.batches[i].lot == sku->batches[i].lot);
      CHECK(got.state.batches[i].on_hand == sku->batches[i].on_hand);
      CHECK(got.state.batches[i].expires_at == sku->batches[i].expires_at);
      CHECK(got.state.batches[i].unallocatable ==
            sku->batches[i].unallocatable);
    }
  }
  std::vector<hold_state> want;
  for (auto& h : whole.holds)
    if (h.sku == id)
      want.push_back(h);
  REQUIRE(got.holds.size() == want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    CHECK(got.holds[i].order == want[i].order);
    CHECK(got.holds[i].sku == id);
    CHECK(got.holds[i].quantity == want[i].quantity);
    CHECK(got.holds[i].kind == want[i].kind);
    CHECK(got.holds[i].lots == want[i].lots);
  }
}

TEST_CASE("every store reads one SKU with the holds on it as its whole state "
          "has them") {
  auto evs = model_events();
  auto reference = applied(evs);
  auto whole = reference.recover();
  REQUIRE_FALSE(whole.holds.empty());
  for (auto& id : {"A", "B", "Z"})
    check_same_sku(whole, id, reference.sku_of(id));
  CHECK_FALSE(reference.sku_of("Z").found);
  temp_dir dir;
  for (auto& b : backends(dir)) {
    SUBCASE(b.name.c_str()) {
      auto store = b.open();
      commit_all(*store, evs);
      for (auto& id : {"A", "B", "Z", ""}) {
        auto got = store->load_sku(id);
        REQUIRE_MESSAGE(got, why(got));
        check_same_sku(whole, id, *got);
      }
    }
  }
}

// What a restart of one EXTERNAL SKU's actor reads: only its reservations
// and feed changes, as the whole state has them.
static void check_same_external(const recovered_state& whole, const sku_id& id,
                                const stored_external& got) {
  std::vector<wms_reservation> reservations;
  for (auto& r : whole.wms_reservations)
    if (r.sku == id)
      reservations.push_back(r);
  REQUIRE(got.reservations.size() == reservations.size());
  for (size_t i = 0; i < reservations.size(); ++i) {
    auto& w = reservations[i];
    auto& g = got.reservations[i];
    CHECK(g.order == w.order);
    CHECK(g.sku == id);
    CHECK(g.quantity == w.quantity);
    CHECK(g.state == w.state);
    CHECK(g.wms_seq == w.wms_seq);
    CHECK(g.at == w.at);
  }
  std::vector<external_delta> deltas;
  for (auto& d : whole.external_deltas)
    if (d.sku == id)
      deltas.push_back(d);
  REQUIRE(got.deltas.size() == deltas.size());
  for (size_t i = 0; i < deltas.size(); ++i) {
    CHECK(got.deltas[i].sku == id);
    CHECK(got.deltas[i].event_id == deltas[i].event_id);
    CHECK(got.deltas[i].wms_seq == deltas[i].wms_seq);
    CHECK(got.deltas[i].quantity == deltas[i].quantity);
    CHECK(got.deltas[i].at == deltas[i].at);
  }
}

TEST_CASE("every store reads one EXTERNAL SKU's WMS reservations and feed "
          "changes as its whole state has them") {
  auto evs = model_events();
  auto reference = applied(evs);
  auto whole = reference.recover();
  std::set<sku_id> ids{"NOPE", ""};
  for (auto& r : whole.wms_reservations)
    ids.insert(r.sku);
  for (auto& d : whole.external_deltas)
    ids.insert(d.sku);
  REQUIRE(ids.size() > 2);
  for (auto& id : ids)
    check_same_external(whole, id, reference.external_of(id));
  CHECK(reference.external_of("NOPE").reservations.empty());
  temp_dir dir;
  for (auto& b : backends(dir)) {
    SUBCASE(b.name.c_str()) {
      auto store = b.open();
      commit_all(*store, evs);
      for (auto& id : ids) {
        CAPTURE(id);
        auto got = store->load_external(id);
        REQUIRE_MESSAGE(got, why(got));
        check_same_external(whole, id, *got);
      }
    }
  }
}

TEST_CASE("every store reads back stock events with their batch, expiry, "
          "reason, lots, inbox id, seller and version") {
  auto evs = model_events();
  temp_dir dir;
  for (auto& b : backends(dir)) {
    SUBCASE(b.name.c_str()) {
      {
        auto store = b.open();
        commit_all(*store, evs);
      }
      auto store = b.open();
      auto got = store->read(1, 1000);
      REQUIRE_MESSAGE(got, why(got));
      REQUIRE(got->size() == evs.size());
      for (size_t i = 0; i < evs.size(); ++i) {
        CAPTURE(i);
        check_same_event(evs[i], (*got)[i]);
      }
      // Replaying the log gives the state the store kept.
      store_state replayed;
      for (auto& ev : *got)
        replayed.apply(ev);
      auto state = store->load();
      REQUIRE_MESSAGE(state, why(state));
      check_same_state(replayed.recover(), *state);
    }
  }
}

TEST_CASE("a SQL store refuses undecodable stock details and hold batches, "
          "naming them") {
  temp_dir dir;
  for (auto& b : backends(dir)) {
    if (!b.exec_sql)
      continue;
    SUBCASE(b.name.c_str()) {
      auto store = b.open();
      require_ok(store->commit({receipt("A", 5, 1000, "L1", 9000),
                                receipt("A", 5, 1001, "L2", 0),
                                held(event_kind::stock_reserved, "A", "o1", 6,
                                     1002, {{"L1", 5}, {"L2", 1}})}));
      for (std::string bad :
           {std::string{"{\"lots\": 5"}, std::string{"[1, 2]"},
            std::string{"{\"lots\": [[\"L1\", \"six\"]]}"},
            std::string{"{\"seller\": 7}"},
            std::string{"{\"expiresAt\": \"soon\"}"}, std::string{"{\"v\": 0}"},
            std::string{"{\"v\": -3}"}, std::string{"{\"v\": \"4\"}"}}) {
        CAPTURE(bad);
        b.exec_sql("UPDATE events SET payload = '" + bad + "' WHERE seq = 2");
        auto log = store->read(1, 10);
        REQUIRE_FALSE(log);
        CHECK(code_of(log.error()) == errc::store_failure);
        CHECK(message_of(log.error())
                  .find("undecodable payload of "
                        "stock_received at seq 2") != std::string::npos);
      }
      // The events after the damaged one still read.
      auto tail = store->read(3, 10);
      REQUIRE_MESSAGE(tail, why(tail));
      REQUIRE(tail->size() == 1);
      CHECK(tail->front().lots ==
            std::vector<lot_allocation>{{"L1", 5}, {"L2", 1}});
      // A hold whose batches do not decode stops the recovery ...
      b.exec_sql("UPDATE holds SET lots = '[[\"L1\"' WHERE order_id = 'o1'");
      auto state = store->load();
      REQUIRE_FALSE(state);
      CHECK(code_of(state.error()) == errc::store_failure);
      CHECK(message_of(state.error())
                .find("undecodable batches of the hold of order o1 on A") !=
            std::string::npos);
      // ... and a release of it is refused. A store that changes its tables
      // in the commit stores nothing; one whose tables follow the log
      // (SQLite) has the release in its log and stops serving, naming the
      // hold, when it applies it.
      auto err =
          store->commit({held(event_kind::stock_released, "A", "o1", 1, 1003)});
      bool follows_log = !err;
      if (follows_log)
        err = store->apply_committed();
      REQUIRE(err);
      CHECK(code_of(err) == errc::store_failure);
      CHECK(message_of(err).find("o1") != std::string::npos);
      if (follows_log) {
        CHECK(store->last_seq() == 4);
        CHECK(store->commit({receipt_event("A", 1)}));
        CHECK_FALSE(store->load());
      } else {
        CHECK(store->last_seq() == 3);
        store.reset(); // a store has one owner at a time
        auto again = b.open();
        CHECK(again->last_seq() == 3);
      }
    }
  }
}

TEST_CASE("every store names a SKU first seen in a move or a shipment as the "
          "memory state does") {
  // Stock events that arrive for a SKU no receipt created (a journal cut
  // short, a hand-made event) still add up to a SKU under its own name.
  std::vector<event> evs{moved("L1", 2, "QUARANTINED", 100),
                         held(event_kind::stock_consumed, "Z", "o9", 1, 200)};
  evs[0].sku = "Y";
  auto reference = applied(evs);
  auto want = reference.recover();
  REQUIRE(want.skus.size() == 2);
  CHECK(want.skus[0].sku == "Y");
  CHECK(want.skus[0].batches.size() == 1);
  CHECK(want.skus[1].sku == "Z");
  CHECK(want.skus[1].on_hand == -1);
  temp_dir dir;
  for (auto& b : backends(dir)) {
    SUBCASE(b.name.c_str()) {
      auto store = b.open();
      require_ok(store->commit(evs));
      auto got = store->load();
      REQUIRE_MESSAGE(got, why(got));
      check_same_state(want, *got);
    }
  }
}

TEST_CASE("an order's newest unapplied change answers its read without "
          "applying the log") {
  temp_dir dir;
  auto store = sqlite_in(dir);
  auto rec = sample_order("o1", "alice", order_status::created, 5000);
  require_ok(store->commit({sku_event(event_kind::sku_created, "A", 0, 1000),
                            sku_event(event_kind::stock_received, "A", 5)}));
  require_ok(store->commit(
      {order_event(event_kind::order_created, rec),
       stock_event(event_kind::stock_reserved, 1000, "A", "o1", 2)}));
  auto confirmed = rec;
  confirmed.status = order_status::confirmed;
  require_ok(store->commit(
      {order_event(event_kind::order_changed, confirmed),
       stock_event(event_kind::stock_blocked, 1000, "A", "o1", 2)}));
  REQUIRE(store->unapplied() == 6);
  auto found = store->find_order("o1");
  REQUIRE_MESSAGE(found, why(found));
  CHECK(found->status == order_status::confirmed); // the newest
  CHECK(encode_record(*found) == encode_record(confirmed));
  CHECK(store->unapplied() == 6); // nothing applied for it
  // An order the log does not hold is read from the tables, caught up.
  CHECK(code_of(store->find_order("o2").error()) == errc::order_not_found);
  CHECK(store->unapplied() == 0);
  // And the tables say the same once applied.
  found = store->find_order("o1");
  REQUIRE(found);
  CHECK(encode_record(*found) == encode_record(confirmed));
}

TEST_CASE("a key no unapplied event records is read from the tables as they "
          "stand, and one an unapplied event records after applying") {
  temp_dir dir;
  auto store = sqlite_in(dir);
  auto first = sample_order("o1", "alice", order_status::created, 5000);
  require_ok(store->commit({sku_event(event_kind::sku_created, "A", 0, 1000),
                            sku_event(event_kind::stock_received, "A", 5),
                            order_event(event_kind::order_created, first)}));
  require_ok(store->apply_committed());
  auto second = sample_order("o2", "alice", order_status::created, 5000);
  require_ok(store->commit({order_event(event_kind::order_created, second)}));
  REQUIRE(store->unapplied() == 1);
  // key-o1 is in the tables; the unapplied event records key-o2 only.
  auto one = store->load_key("alice", "key-o1");
  REQUIRE_MESSAGE(one, why(one));
  REQUIRE(one->size() == 1);
  CHECK(one->front().order == "o1");
  CHECK(store->unapplied() == 1); // nothing applied for it
  // Another customer's key of the same name is not o2's.
  auto other = store->load_key("bob", "key-o2");
  REQUIRE_MESSAGE(other, why(other));
  CHECK(other->empty());
  CHECK(store->unapplied() == 1);
  // The key the unapplied create records is found: the tables catch up.
  auto two = store->load_key("alice", "key-o2");
  REQUIRE_MESSAGE(two, why(two));
  REQUIRE(two->size() == 1);
  CHECK(two->front().order == "o2");
  CHECK(two->front().fingerprint == second.request_fingerprint);
  CHECK(store->unapplied() == 0);
}

TEST_CASE("every backend prunes the oldest events, keeps the newest and the "
          "state, and refuses reads of what went") {
  temp_dir dir;
  for (auto& b : backends(dir)) {
    SUBCASE(b.name.c_str()) {
      {
        auto store = b.open();
        CHECK(store->first_seq() == 1);
        // Nothing to prune in an empty log.
        auto none = store->prune(1'000'000, 100);
        REQUIRE(none);
        CHECK(*none == 0);
        std::vector<event> evs;
        for (int i = 1; i <= 5; ++i) {
          auto ev = sku_event(i == 1 ? event_kind::sku_created
                                     : event_kind::stock_received,
                              "A", i == 1 ? 0 : 1, 100);
          ev.at = i * 1000;
          require_ok(store->commit({ev}));
        }
        // Events 1..3 were committed before 3500; at most 2 per call.
        auto gone = store->prune(3500, 2);
        REQUIRE(gone);
        CHECK(*gone == 2);
        gone = store->prune(3500, 100);
        REQUIRE(gone);
        CHECK(*gone == 1);
        CHECK(store->first_seq() == 4);
        CHECK(store->last_seq() == 5);
        auto old = store->read(2, 10);
        REQUIRE_FALSE(old);
        CHECK(code_of(old.error()) == errc::events_expired);
        CHECK(details_of(old.error()) == R"({"first":"4"})");
        auto kept = store->read(4, 10);
        REQUIRE(kept);
        REQUIRE(kept->size() == 2);
        CHECK(kept->front().at == 4000);
        // However old, the newest event stays: the sequence goes on from it.
        gone = store->prune(1'000'000, 100);
        REQUIRE(gone);
        CHECK(*gone == 1);
        CHECK(store->first_seq() == 5);
        CHECK(store->last_seq() == 5);
      }
      // The current state never needed the events, and the log's bounds
      // hold across a reopen.
      auto again = b.open();
      CHECK(again->first_seq() == 5);
      CHECK(again->last_seq() == 5);
      auto state = again->load();
      REQUIRE(state);
      REQUIRE(state->skus.size() == 1);
      CHECK(state->skus[0].on_hand == 4);
      CHECK_FALSE(again->read(1, 10));
      require_ok(
          again->commit({sku_event(event_kind::stock_received, "A", 1)}));
      CHECK(again->last_seq() == 6);
      auto tail = again->read(5, 10);
      REQUIRE(tail);
      CHECK(tail->size() == 2);
    }
  }
}

TEST_CASE("the SQL stores' order_history and payments views list each "
          "order's history and payments as its record holds them, and its "
          "lines follow its changes") {
  // With a non-ASCII letter, and without (the record's writer takes
  // another path for each).
  const std::string odd = "it's \"q\" \\ \xc3\xa9";
  const std::string plain = "it's \"q\" \\ ; --";
  temp_dir dir;
  for (auto& b : backends(dir)) {
    if (!b.query_sql)
      continue; // the memory store has no tables
    SUBCASE(b.name.c_str()) {
      auto rec = sample_order("o1", "alice", order_status::created, 5000);
      auto other = sample_order("o2", "bob", order_status::created, 5001);
      {
        auto store = b.open();
        require_ok(
            store->commit({order_event(event_kind::order_created, rec),
                           order_event(event_kind::order_created, other)}));
        // Paid, partly shipped, refunded in part (pending), then shipped and
        // delivered; the other declined and cancelled: every status and
        // payment code the views name.
        rec.status = order_status::partially_shipped;
        rec.history.push_back(
            {6000, order_status::created, order_status::confirmed, "", 0});
        rec.history.push_back(
            {7000, order_status::confirmed, order_status::paid, odd, 2000});
        rec.history.push_back(
            {8000, order_status::paid, order_status::partially_shipped, "", 0});
        rec.payments.push_back({payment_kind::charge, "o1/charge/1", 2000,
                                payment_status::succeeded, "ref-1", "", 7000,
                                odd, "ff00"});
        rec.payments.push_back({payment_kind::refund, "o1/refund/1", 500,
                                payment_status::pending, "", odd, 9000, "",
                                ""});
        rec.lines[0].shipped_quantity = 1;
        require_ok(
            store->commit({order_event(event_kind::order_changed, rec)}));
        rec.status = order_status::delivered;
        rec.history.push_back({8100, order_status::partially_shipped,
                               order_status::shipped, "", 0});
        rec.history.push_back(
            {8200, order_status::shipped, order_status::delivered, "", 0});
        rec.lines[0].shipped_quantity = 2;
        // The other: a declined charge, then cancelled.
        other.status = order_status::cancelled;
        other.history.push_back(
            {5100, order_status::created, order_status::cancelled, plain, 0});
        other.payments.push_back({payment_kind::charge, "o2/charge/1", 2000,
                                  payment_status::failed, "", plain, 5050, "",
                                  ""});
        require_ok(
            store->commit({order_event(event_kind::order_changed, rec),
                           order_event(event_kind::order_changed, other)}));
      }
      // Reopened: the tables hold every committed event.
      auto store = b.open();
      auto history = b.query_sql(
          "SELECT order_id, entry_no, at, from_status, to_status, reason, "
          "amount FROM order_history ORDER BY order_id, entry_no");
      using row = std::vector<std::string>;
      std::vector<row> want_history{
          {"o1", "0", "5000", "CREATED", "CREATED", "created", "2000"},
          {"o1", "1", "6000", "CREATED", "CONFIRMED", "", "0"},
          {"o1", "2", "7000", "CONFIRMED", "PAID", odd, "2000"},
          {"o1", "3", "8000", "PAID", "PARTIALLY_SHIPPED", "", "0"},
          {"o1", "4", "8100", "PARTIALLY_SHIPPED", "SHIPPED", "", "0"},
          {"o1", "5", "8200", "SHIPPED", "DELIVERED", "", "0"},
          {"o2", "0", "5001", "CREATED", "CREATED", "created", "2000"},
          {"o2", "1", "5100", "CREATED", "CANCELLED", plain, "0"}};
      CHECK(history == want_history);
      auto payments = b.query_sql(
          "SELECT gateway_key, order_id, kind, amount, status, reference, "
          "reason, at, client_key, fingerprint FROM payments ORDER BY "
          "gateway_key");
      std::vector<row> want_payments{{"o1/charge/1", "o1", "CHARGE", "2000",
                                      "SUCCEEDED", "ref-1", "", "7000", odd,
                                      "ff00"},
                                     {"o1/refund/1", "o1", "REFUND", "500",
                                      "PENDING", "", odd, "9000", "", ""},
                                     {"o2/charge/1", "o2", "CHARGE", "2000",
                                      "FAILED", "", plain, "5050", "", ""}};
      CHECK(payments == want_payments);
      auto lines = b.query_sql(
          "SELECT order_id, line_no, sku, quantity, shipped_quantity FROM "
          "order_lines ORDER BY order_id, line_no");
      std::vector<row> want_lines{{"o1", "0", "A", "2", "2"},
                                  {"o2", "0", "A", "2", "0"}};
      CHECK(lines == want_lines);
    }
  }
}
