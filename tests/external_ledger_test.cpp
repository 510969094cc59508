// The EXTERNAL seller's ledger without actors: stale snapshots made safe by
// our own holds, reconciliation when a batch lands, feed changes, releases.
#include <doctest/doctest.h>

#include "actors/external_ledger.hpp"

using namespace oms;

namespace {

constexpr timestamp_ms external_ledger_t0 = 1'800'000'000'000;

bool grant(external_ledger& l, const order_id& order, int64_t qty) {
  reserve_reply reply;
  auto res = l.reserve(order, qty, reply);
  REQUIRE_MESSAGE(res.ok(), res.message);
  return reply.granted;
}

} // namespace

TEST_CASE("external: nothing is sold before a snapshot") {
  external_ledger l;
  reserve_reply reply;
  CHECK(l.reserve("o1", 1, reply).error == errc::wms_unavailable);
  CHECK(l.available() == 0);
}

TEST_CASE("external: two rapid orders for the last units while the WMS still "
          "shows the old number: the second is refused by our own count") {
  external_ledger l;
  // The WMS's batch said 3 orderable; nothing we do shows there until the
  // next batch.
  l.apply_snapshot(3, 100, external_ledger_t0, 5000, external_ledger_t0);
  CHECK(grant(l, "o1", 2));
  CHECK(l.available() == 1);
  // The WMS would still answer 3: we refuse on our own count.
  CHECK_FALSE(grant(l, "o2", 2));
  CHECK(grant(l, "o3", 1));
  CHECK(l.available() == 0);
  // Even when the WMS acknowledges the reservations, the snapshot does not
  // reflect them yet: still subtracted.
  l.acknowledged("o1", wms_state::reserved, 101);
  l.acknowledged("o3", wms_state::reserved, 102);
  CHECK(l.available() == 0);
}

TEST_CASE("external: a batch run reflecting our holds does not count them "
          "twice") {
  external_ledger l;
  l.apply_snapshot(10, 100, external_ledger_t0, 5000, external_ledger_t0);
  REQUIRE(grant(l, "o1", 4));
  REQUIRE(grant(l, "o2", 3));
  l.acknowledged("o1", wms_state::reserved, 101);
  l.acknowledged("o2", wms_state::reserved, 105);
  CHECK(l.available() == 3);
  // The next batch reflects changes up to 103: o1 is in it, o2 is not.
  l.apply_snapshot(6, 103, external_ledger_t0 + 900'000, 5000,
                   external_ledger_t0 + 900'001);
  CHECK(l.available() == 3); // 6 - 3 (o2 not reflected)
  // A batch reflecting both.
  l.apply_snapshot(3, 110, external_ledger_t0 + 1'800'000, 5000,
                   external_ledger_t0 + 1'800'001);
  CHECK(l.available() == 3);
  // An older snapshot arriving late is ignored.
  l.apply_snapshot(10, 100, external_ledger_t0, 5000,
                   external_ledger_t0 + 1'800'002);
  CHECK(l.available() == 3);
  CHECK(l.snapshot_reflects() == 110);
  // Sell the rest: no unit twice.
  CHECK(grant(l, "o3", 3));
  CHECK_FALSE(grant(l, "o4", 1));
  CHECK(l.check_invariants().empty());
}

TEST_CASE("external: a release counts only once the WMS has it") {
  external_ledger l;
  l.apply_snapshot(5, 100, external_ledger_t0, 5000, external_ledger_t0);
  REQUIRE(grant(l, "o1", 5));
  l.mark_requested("o1", 5);
  l.acknowledged("o1", wms_state::reserved, 101);
  REQUIRE(l.release("o1").quantity == 5);
  // The WMS may still hold it and the snapshot does not show it: subtracted.
  CHECK(l.available() == 0);
  CHECK(l.out_of_sync() == std::vector<order_id>{"o1"});
  l.acknowledged("o1", wms_state::released, 102);
  CHECK(l.available() == 5);
  CHECK(l.find("o1") == nullptr);
  // A hold released before it ever reached the WMS frees at once.
  REQUIRE(grant(l, "o2", 2));
  REQUIRE(l.release("o2").quantity == 2);
  CHECK(l.available() == 5);
}

TEST_CASE("external: a reflected reservation released stays out until the "
          "next batch, never counted twice") {
  external_ledger l;
  l.apply_snapshot(5, 100, external_ledger_t0, 5000, external_ledger_t0);
  REQUIRE(grant(l, "o1", 2));
  l.mark_requested("o1", 2);
  l.acknowledged("o1", wms_state::reserved, 101);
  l.apply_snapshot(3, 101, external_ledger_t0 + 1, 5000,
                   external_ledger_t0 + 1); // reflects o1
  CHECK(l.available() == 3);
  l.release("o1");
  CHECK(l.available() == 3); // the snapshot still excludes o1's units
  l.acknowledged("o1", wms_state::released, 102);
  CHECK(l.available() == 3);
  l.apply_snapshot(5, 102, external_ledger_t0 + 2, 5000,
                   external_ledger_t0 + 2);
  CHECK(l.available() == 5);
}

TEST_CASE("external: feed changes count until a snapshot reflects them") {
  external_ledger l(1); // safety buffer of one unit
  l.apply_snapshot(10, 100, external_ledger_t0, 5000, external_ledger_t0);
  CHECK(l.available() == 9);
  l.apply_delta(101, 5);  // receipt
  l.apply_delta(102, -3); // damage
  l.apply_delta(102, -3); // the same event again: once
  l.apply_delta(99, 50);  // already in the snapshot
  CHECK(l.available() == 11);
  l.apply_snapshot(12, 102, external_ledger_t0 + 1, 5000,
                   external_ledger_t0 + 1);
  CHECK(l.available() == 11);
  CHECK(l.view("X", external_ledger_t0).external.feed_delta == 0);
}

TEST_CASE("external: shipping and blocking follow the order") {
  external_ledger l;
  l.apply_snapshot(5, 100, external_ledger_t0, 5000, external_ledger_t0);
  REQUIRE(grant(l, "o1", 2));
  CHECK(l.consume("o1").error == errc::invalid_transition);
  REQUIRE(l.block("o1").ok());
  CHECK(l.find("o1")->wanted == wms_state::blocked);
  auto v = l.view("X", external_ledger_t0);
  CHECK(v.blocked == 2);
  CHECK(v.reserved == 0);
  REQUIRE(l.consume("o1").quantity == 2);
  CHECK(l.consume("o1").quantity == 0); // idempotent
  l.acknowledged("o1", wms_state::reserved, 101);
  l.acknowledged("o1", wms_state::blocked, 102);
  l.acknowledged("o1", wms_state::shipped, 103);
  CHECK(l.available() == 3);
  l.apply_snapshot(3, 103, external_ledger_t0 + 1, 5000,
                   external_ledger_t0 + 1);
  CHECK(l.find("o1") == nullptr);
  CHECK(l.available() == 3);
  CHECK(l.block("zz").error == errc::invalid_transition);
}

TEST_CASE("external: a refused reservation gives its units back at once, "
          "and the hold ends with the order's release") {
  external_ledger l;
  l.apply_snapshot(5, 100, external_ledger_t0, 5000, external_ledger_t0);
  REQUIRE(grant(l, "o1", 5));
  CHECK(l.available() == 0);
  l.refused("o1");
  CHECK(l.available() == 5);
  l.release("o1");
  CHECK(l.holds().empty());
}

TEST_CASE("external: a partial release keeps the WMS's units subtracted "
          "until it acknowledges the reduction") {
  external_ledger l;
  l.apply_snapshot(10, 100, external_ledger_t0, 5000, external_ledger_t0);
  REQUIRE(grant(l, "o1", 5));
  l.mark_requested("o1", 5);
  l.acknowledged("o1", wms_state::reserved, 101);
  l.acknowledged_quantity("o1", 5);
  CHECK(l.out_of_sync().empty());
  CHECK(l.available() == 5);
  // Cancel 2 of 5: our hold is 3 at once, the WMS still holds 5.
  auto res = l.reduce("o1", 3);
  REQUIRE(res.ok());
  CHECK(res.quantity == 2);
  CHECK(l.find("o1")->quantity == 3);
  CHECK(l.available() == 5);
  CHECK(l.out_of_sync() == std::vector<order_id>{"o1"});
  CHECK(l.check_invariants().empty());
  // Idempotent: it names the target.
  CHECK(l.reduce("o1", 3).quantity == 0);
  // Bad targets change nothing.
  CHECK(l.reduce("o1", 4).error == errc::validation_failed);
  CHECK(l.reduce("o1", -1).error == errc::validation_failed);
  CHECK(l.find("o1")->quantity == 3);
  // The WMS acknowledges: its 2 units are free there, and here.
  l.acknowledged("o1", wms_state::reserved, 102);
  l.acknowledged_quantity("o1", 3);
  CHECK(l.out_of_sync().empty());
  CHECK(l.available() == 7);
  // A snapshot reflecting the reservation but not yet the reduction still
  // excludes all 5 there: nothing is sold twice (we count 5 + 0, not 7).
  l.apply_snapshot(5, 101, external_ledger_t0 + 1, 5000, external_ledger_t0);
  CHECK(l.available() == 5);
  // Reduced to 0: the hold is released.
  CHECK(l.reduce("o1", 0).quantity == 3);
  CHECK(l.find("o1")->wanted == wms_state::released);
  CHECK(l.reduce("o1", 1).error == errc::validation_failed);
}

TEST_CASE("external: the ledger reports a WMS that acknowledged what the order "
          "never asked for, or holds fewer units than we granted") {
  external_ledger l;
  l.apply_snapshot(10, 100, external_ledger_t0, 5000, external_ledger_t0);
  REQUIRE(grant(l, "o1", 4));
  REQUIRE(grant(l, "o2", 2));
  l.mark_requested("o1", 4);
  l.mark_requested("o2", 2);
  l.acknowledged("o1", wms_state::reserved, 101);
  l.acknowledged("o2", wms_state::reserved, 102);
  CHECK(l.check_invariants().empty());
  l.acknowledged("o1", wms_state::shipped, 103);
  l.acknowledged_quantity("o2", 1);
  auto problems = l.check_invariants();
  REQUIRE(problems.size() == 2);
  auto all = problems[0] + "|" + problems[1];
  CHECK(all.find("acknowledged SHIPPED for order o1") != std::string::npos);
  CHECK(all.find("reserves 1 units for order o2") != std::string::npos);
}

TEST_CASE("external: a hold the WMS refused holds nothing back and grants "
          "nothing more, but stays until the order's cancel releases it") {
  external_ledger l;
  l.apply_snapshot(10, 100, external_ledger_t0, 5000, external_ledger_t0);
  REQUIRE(grant(l, "o1", 4));
  l.mark_requested("o1", 4);
  CHECK(l.available() == 6);
  l.refused("o1");
  // The units are back at once, and no WMS call is owed for them.
  CHECK(l.available() == 10);
  CHECK(l.out_of_sync().empty());
  CHECK(l.view("S", external_ledger_t0).external.wms_pending == 0);
  // The order still holds them as far as the audit goes (it is being
  // cancelled), so the audit finds its hold.
  auto holds = l.holds();
  REQUIRE(holds.size() == 1);
  CHECK(holds[0].order == "o1");
  CHECK(holds[0].quantity == 4);
  // Asked again, the reservation is not granted; nor is a block.
  reserve_reply reply;
  REQUIRE(l.reserve("o1", 4, reply).ok());
  CHECK_FALSE(reply.granted);
  CHECK(l.block("o1").error == errc::invalid_transition);
  CHECK(l.check_invariants().empty());
  // The cancel releases it: gone.
  l.release("o1");
  CHECK(l.find("o1") == nullptr);
  CHECK(l.available() == 10);
}

TEST_CASE("external: a reserve asked again and answered past RESERVED takes "
          "that answer's sequence, and counts until a snapshot reflects it") {
  external_ledger l;
  l.apply_snapshot(5, 100, external_ledger_t0, 5000, external_ledger_t0);
  REQUIRE(grant(l, "o1", 2));
  l.mark_requested("o1", 2);
  // An earlier holder's reserve and block reached the WMS, their answers
  // did not: the reserve asked again is answered BLOCKED at sequence 130.
  REQUIRE(l.block("o1").ok());
  l.acknowledged("o1", wms_state::blocked, 130);
  REQUIRE(l.find("o1") != nullptr);
  CHECK(l.find("o1")->reserve_seq == 130);
  CHECK(l.available() == 3);
  // A snapshot before it still counts the hold; one that reflects it not.
  l.apply_snapshot(5, 129, external_ledger_t0 + 1, 5000, external_ledger_t0);
  CHECK(l.available() == 3);
  l.apply_snapshot(3, 130, external_ledger_t0 + 2, 5000, external_ledger_t0);
  CHECK(l.available() == 3);
}
