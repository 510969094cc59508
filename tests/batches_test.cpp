// Batches (lots) and unallocatable stock: first-expiry-first-out holds,
// expiry at the exact virtual time, explicit moves in and out of sale,
// adjustments; in the ledger alone and through the SKU's actor.
#include "tests/fixture.hpp"

#include "actors/stock_ledger.hpp"

using namespace oms;
using namespace oms::test;
using namespace std::chrono_literals;

namespace {

constexpr timestamp_ms batches_t0 = 1'800'000'000'000;

void receive(stock_ledger& l, int64_t qty, const std::string& lot,
             timestamp_ms expires_at, money price = 1000) {
  auto chk = l.check_receive(qty, price, lot, expires_at, batches_t0);
  REQUIRE_MESSAGE(chk.ok(), chk.message);
  l.receive(qty, price, lot, expires_at, batches_t0);
}

int64_t reason_count(const stock_view& v, unallocatable_reason r) {
  return v.unallocatable_by_reason.at(static_cast<size_t>(r));
}

const batch_view& batch(const stock_view& v, const std::string& lot) {
  for (auto& b : v.batches)
    if (b.lot == lot)
      return b;
  FAIL("no batch " << lot);
  return v.batches.front();
}

std::vector<std::string> lot_names(const std::vector<lot_allocation>& xs) {
  std::vector<std::string> result;
  for (auto& x : xs)
    result.push_back(x.lot + ":" + std::to_string(x.quantity));
  return result;
}

stock_change change(stock_change_kind kind, const sku_id& sku, int64_t qty,
                    const std::string& lot = {}) {
  stock_change c;
  c.kind = kind;
  c.sku = sku;
  c.quantity = qty;
  c.lot = lot;
  return c;
}

} // namespace

TEST_CASE("holds draw from batches first-expiry-first-out") {
  stock_ledger l;
  receive(l, 5, "", 0); // never expires: last
  receive(l, 3, "L-LATE", batches_t0 + 10 * day);
  receive(l, 2, "L-SOON", batches_t0 + 5 * day);
  reserve_reply reply;
  REQUIRE(l.reserve("o1", 4, reply, batches_t0).ok());
  REQUIRE(reply.granted);
  CHECK(lot_names(reply.lots) ==
        std::vector<std::string>{"L-SOON:2", "L-LATE:2"});
  CHECK(lot_names(l.find_hold("o1")->lots) == lot_names(reply.lots));
  REQUIRE(l.reserve("o2", 3, reply, batches_t0).ok());
  CHECK(lot_names(reply.lots) == std::vector<std::string>{"L-LATE:1", ":2"});
  auto v = l.view("A", batches_t0);
  REQUIRE(v.batches.size() == 3);
  CHECK(v.batches[0].lot == "L-SOON");
  CHECK(v.batches[1].lot == "L-LATE");
  CHECK(v.batches[2].lot == "");
  CHECK(v.available == 3);
  CHECK(l.check_invariants().empty());
}

TEST_CASE("a partial release gives back the units of the last batches") {
  stock_ledger l;
  receive(l, 2, "A", batches_t0 + day);
  receive(l, 2, "B", batches_t0 + 2 * day);
  reserve_reply reply;
  REQUIRE(l.reserve("o1", 4, reply, batches_t0).ok());
  REQUIRE(l.reduce("o1", 1).quantity == 3);
  CHECK(lot_names(l.find_hold("o1")->lots) == std::vector<std::string>{"A:1"});
  auto v = l.view("S", batches_t0);
  CHECK(batch(v, "A").held == 1);
  CHECK(batch(v, "B").held == 0);
  CHECK(v.available == 3);
  CHECK(l.check_invariants().empty());
  // Shipping takes the units off the batch they came from.
  REQUIRE(l.block("o1").ok());
  REQUIRE(l.consume("o1").quantity == 1);
  v = l.view("S", batches_t0);
  CHECK(batch(v, "A").on_hand == 1);
  CHECK(batch(v, "B").on_hand == 2);
  CHECK(l.check_invariants().empty());
}

TEST_CASE("receipts into batches are checked") {
  stock_ledger l;
  receive(l, 2, "A", batches_t0 + day);
  CHECK(l.check_receive(1, 0, "A", batches_t0 + 2 * day, batches_t0).error ==
        errc::validation_failed); // same lot, other expiry
  CHECK(l.check_receive(1, 0, "B", batches_t0, batches_t0).error ==
        errc::validation_failed); // already expired
  CHECK(l.check_receive(1, 0, "B", -5, batches_t0).error ==
        errc::validation_failed);
  CHECK(l.check_receive(1, 0, "A", batches_t0 + day, batches_t0).ok());
  CHECK(l.on_hand() == 2);
}

TEST_CASE("a ledger's refusals name the request field to blame") {
  // Proves the fields the API answers as details.field (issue #16 item 12):
  // each VALIDATION_FAILED a client's field causes names that field.
  stock_ledger fresh;
  CHECK(fresh.check_receive(1, 0).field == "unitPrice");
  CHECK(fresh.check_receive(0, 5).field == "quantity");
  CHECK(fresh.check_receive(1, -1).field == "unitPrice");
  stock_ledger l;
  receive(l, 2, "A", batches_t0 + day);
  CHECK(l.check_receive(1, 0, "A", batches_t0 + 2 * day, batches_t0).field ==
        "expiresAt");
  CHECK(l.check_receive(1, 0, "B", batches_t0, batches_t0).field ==
        "expiresAt");
  CHECK(l.check_price(0).field == "unitPrice");
  CHECK(l.check_adjust("A", 0).field == "quantity");
  CHECK(l.check_adjust("NOPE", 1).field == "lot");
  CHECK(l.check_move("A", 1, unallocatable_reason::expired).field == "reason");
  CHECK(l.check_move("NOPE", 1, unallocatable_reason::damaged).field == "lot");
  receive(l, 1, "B", 0);
  std::string lot;
  auto no_lot = l.resolve_lot("", lot);
  CHECK(no_lot.error == errc::validation_failed);
  CHECK(no_lot.field == "lot");
  CHECK(no_lot.details() == R"({"field":"lot"})");
  CHECK(l.resolve_lot("C", lot).field == "lot");
  // What no field causes names none.
  CHECK(l.check_move("A", 9, unallocatable_reason::damaged).field.empty());
  CHECK(l.check_adjust("A", 1).details() == "{}");
}

TEST_CASE("units move out of sale and back only by explicit moves") {
  stock_ledger l;
  receive(l, 10, "A", 0);
  reserve_reply reply;
  REQUIRE(l.reserve("o1", 6, reply, batches_t0).ok());
  CHECK(l.check_move("A", 4, unallocatable_reason::damaged).ok());
  // Held units cannot be set aside; nothing changes.
  CHECK(l.check_move("A", 5, unallocatable_reason::damaged).error ==
        errc::insufficient_stock);
  l.move("A", 3, unallocatable_reason::damaged);
  l.move("A", 1, unallocatable_reason::safety_stock);
  auto v = l.view("S", batches_t0);
  CHECK(v.available == 0);
  CHECK(v.unallocatable == 4);
  CHECK(reason_count(v, unallocatable_reason::damaged) == 3);
  CHECK(reason_count(v, unallocatable_reason::safety_stock) == 1);
  CHECK(l.check_move("A", -4, unallocatable_reason::damaged).error ==
        errc::insufficient_stock);
  CHECK(l.check_move("A", 1, unallocatable_reason::expired).error ==
        errc::validation_failed);
  CHECK(l.check_move("NOPE", 1, unallocatable_reason::damaged).error ==
        errc::validation_failed);
  l.move("A", -2, unallocatable_reason::damaged);
  CHECK(l.available() == 2);
  CHECK(l.check_invariants().empty());
}

TEST_CASE("adjustments correct on-hand but never below held or set aside") {
  stock_ledger l;
  receive(l, 10, "A", 0);
  reserve_reply reply;
  REQUIRE(l.reserve("o1", 4, reply, batches_t0).ok());
  l.move("A", 2, unallocatable_reason::quarantined);
  CHECK(l.check_adjust("A", -5).error == errc::insufficient_stock);
  CHECK(l.check_adjust("A", 0).error == errc::validation_failed);
  REQUIRE(l.check_adjust("A", -4).ok());
  l.adjust("A", -4);
  CHECK(l.on_hand() == 6);
  CHECK(l.available() == 0);
  CHECK(l.adjusted_total() == -4);
  CHECK(l.check_invariants().empty());
  std::string lot;
  receive(l, 1, "B", 0);
  CHECK(l.resolve_lot("", lot).error == errc::validation_failed);
  REQUIRE(l.resolve_lot("B", lot).ok());
  CHECK(lot == "B");
}

TEST_CASE("an expired batch sells nothing and its unheld units are EXPIRED") {
  stock_ledger l;
  receive(l, 5, "E", batches_t0 + day);
  receive(l, 1, "F", 0);
  reserve_reply reply;
  REQUIRE(l.reserve("o1", 2, reply, batches_t0).ok());
  CHECK(l.next_expiry() == batches_t0 + day);
  CHECK(l.expire(batches_t0 + day - 1).empty());
  auto gone = l.expire(batches_t0 + day);
  REQUIRE(gone.size() == 1);
  CHECK(gone[0].lot == "E");
  CHECK(gone[0].quantity == 3);
  CHECK(l.expire(batches_t0 + day).empty()); // idempotent
  CHECK(l.available() == 1);
  // A reservation after expiry cannot draw from the expired batch.
  REQUIRE(l.reserve("o2", 2, reply, batches_t0 + day).ok());
  CHECK_FALSE(reply.granted);
  // Units released from an expired batch stay out of sale.
  REQUIRE(l.release("o1").quantity == 2);
  auto v = l.view("S", batches_t0 + day);
  CHECK(reason_count(v, unallocatable_reason::expired) == 5);
  CHECK(v.available == 1);
  CHECK(l.check_invariants().empty());
}

TEST_CASE("a restored ledger equals the one it was stored from") {
  stock_ledger l;
  receive(l, 4, "A", batches_t0 + day);
  receive(l, 4, "B", 0);
  reserve_reply reply;
  REQUIRE(l.reserve("o1", 5, reply, batches_t0).ok());
  l.move("B", 1, unallocatable_reason::damaged);
  std::vector<lot_state> lots = l.lots();
  stock_ledger r;
  r.restore(l.unit_price(), l.received_total(), l.consumed_total(),
            l.adjusted_total(), lots, l.holds(), batches_t0);
  CHECK(r.available() == l.available());
  CHECK(r.unallocatable() == l.unallocatable());
  CHECK(r.check_invariants().empty());
  // Restored after the expiry, the batch is expired at once.
  stock_ledger late;
  late.restore(l.unit_price(), l.received_total(), l.consumed_total(),
               l.adjusted_total(), lots, l.holds(), batches_t0 + day);
  CHECK(late.available() == 2);
  CHECK(late.check_invariants().empty());
}

TEST_CASE("the SKU actor expires a batch at the exact virtual time") {
  auto s = default_test_settings();
  s.hold_ttl = std::chrono::hours(24); // the order outlives the batch
  fixture f{std::make_shared<memory_store>(), batches_t0, s};
  auto c = change(stock_change_kind::receipt, "MILK", 5, "L-1");
  c.unit_price = 6000;
  c.expires_at = batches_t0 + 3600'000;
  auto res = f.call<inbox_result>(f.sup, atom::apply_v, c);
  REQUIRE_MESSAGE(res, why(res));
  f.receive("MILK", 2); // the batch "" that never expires
  auto o = f.create("c1", {{"MILK", 4, seller::internal}});
  CHECK(lot_names(o.record.lines[0].lots) == std::vector<std::string>{"L-1:4"});
  f.advance(3600'000ms - 1ms);
  CHECK(f.stock("MILK").available == 3);
  CHECK(f.stock("MILK").version == 3); // created, two receipts
  f.advance(1ms);
  auto v = f.stock("MILK");
  CHECK(v.available == 2);
  CHECK(v.version == 4); // and the expiry
  CHECK(reason_count(v, unallocatable_reason::expired) == 1);
  CHECK(batch(v, "L-1").expired);
  // The order keeps its units; cancelling does not put them back on sale.
  f.must_apply(o.record.id, command_kind::cancel);
  v = f.stock("MILK");
  CHECK(v.available == 2);
  CHECK(reason_count(v, unallocatable_reason::expired) == 5);
  CHECK(f.audit().violations.empty());
  // The expiry is journaled.
  bool journaled = false;
  for (auto& ev : f.store_events(1, 1000))
    if (ev.kind == event_kind::batch_expired && ev.lot == "L-1" &&
        ev.quantity == 1 && ev.version == 4)
      journaled = true;
  CHECK(journaled);
}

TEST_CASE("a batch that expires before its timer runs is journaled and "
          "versioned by the change that finds it expired") {
  fixture f{std::make_shared<memory_store>(), batches_t0};
  auto c = change(stock_change_kind::receipt, "MILK", 5, "L-1");
  c.unit_price = 6000;
  c.expires_at = batches_t0 + 3600'000;
  REQUIRE(f.call<inbox_result>(f.sup, atom::apply_v, c));
  f.receive("MILK", 2);
  CHECK(f.stock("MILK").version == 3);
  // The clock passes the expiry but the timer has not run yet: the next
  // reservation is the first to see the batch expired.
  f.sched.clock().current_time += std::chrono::milliseconds(3600'000);
  auto o = f.create("c1", {{"MILK", 1, seller::internal}});
  CHECK(lot_names(o.record.lines[0].lots) == std::vector<std::string>{":1"});
  auto v = f.stock("MILK");
  CHECK(v.version == 4);
  int expired_events = 0;
  for (auto& ev : f.store_events(1, 1000))
    if (ev.kind == event_kind::batch_expired && ev.lot == "L-1") {
      ++expired_events;
      CHECK(ev.version == 4);
      CHECK(ev.quantity == 5);
    }
  CHECK(expired_events == 1);
  // The timer, when it runs, finds nothing left to expire.
  f.advance(1ms);
  CHECK(f.stock("MILK").version == 4);
}

TEST_CASE("moves and adjustments through the SKU actor, bad ones change "
          "nothing") {
  fixture f{std::make_shared<memory_store>(), batches_t0};
  f.receive("TEA", 10, 300);
  auto aside = change(stock_change_kind::set_aside, "TEA", 3);
  aside.reason = unallocatable_reason::quarantined;
  auto res = f.call<inbox_result>(f.sup, atom::apply_v, aside);
  REQUIRE_MESSAGE(res, why(res));
  CHECK(res->outcome == inbox_outcome::applied);
  CHECK(res->stock.available == 7);
  CHECK(reason_count(res->stock, unallocatable_reason::quarantined) == 3);
  auto back = change(stock_change_kind::return_aside, "TEA", 4);
  back.reason = unallocatable_reason::quarantined;
  CHECK(code(f.call<inbox_result>(f.sup, atom::apply_v, back)) ==
        "INSUFFICIENT_STOCK");
  auto expired = change(stock_change_kind::set_aside, "TEA", 1);
  expired.reason = unallocatable_reason::expired;
  CHECK(code(f.call<inbox_result>(f.sup, atom::apply_v, expired)) ==
        "VALIDATION_FAILED");
  auto unknown = change(stock_change_kind::adjustment, "NOPE", -1);
  CHECK(code(f.call<inbox_result>(f.sup, atom::apply_v, unknown)) ==
        "UNKNOWN_SKU");
  auto too_much = change(stock_change_kind::adjustment, "TEA", -8);
  CHECK(code(f.call<inbox_result>(f.sup, atom::apply_v, too_much)) ==
        "INSUFFICIENT_STOCK");
  auto v = f.stock("TEA");
  CHECK(v.on_hand == 10);
  CHECK(v.available == 7);
  auto count = change(stock_change_kind::adjustment, "TEA", -2);
  count.note = "cycle count";
  res = f.call<inbox_result>(f.sup, atom::apply_v, count);
  REQUIRE_MESSAGE(res, why(res));
  CHECK(res->stock.on_hand == 8);
  CHECK(res->stock.adjusted_total == -2);
  CHECK(res->stock.available == 5);
  CHECK(f.audit().violations.empty());
}
