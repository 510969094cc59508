// The audit collector's looks: a violation an order's step in flight shows
// for a moment is looked at again and not reported; one that stays is.
#include <doctest/doctest.h>

#include <memory>

#include <caf/event_based_actor.hpp>

#include "actors/audit_collector.hpp"
#include "tests/fixture.hpp"

using namespace oms;
using namespace oms::test;

namespace {

// A SKU of 10 units on which order o1 holds 3 for its first `held_looks`
// snapshots (its release arrives after them); `asked` counts the snapshots.
// (Spawned with arguments: CAF 0.17 dereferences an empty argument tuple
// for a function spawned without any, which UBSan reports.)
caf::behavior releasing_sku(caf::event_based_actor*, int held_looks,
                            std::shared_ptr<int> asked) {
  return {[=](atom::holds) {
    stock_snapshot s;
    s.view.sku = "A";
    s.view.unit_price = 100;
    s.view.on_hand = 10;
    s.view.received_total = 10;
    if (++*asked <= held_looks) {
      s.view.reserved = 3;
      s.holds.push_back(hold_view{"o1", 3, hold_kind::reserved, {}});
    }
    s.view.available = s.view.on_hand - s.view.reserved;
    return s;
  }};
}

inventory_actor sku_releasing_after(caf::actor_system& sys, int held_looks,
                                    std::shared_ptr<int> asked) {
  return caf::actor_cast<inventory_actor>(
      sys.spawn(releasing_sku, held_looks, std::move(asked)));
}

// A journal whose record of every order is in `status` (o1's cancellation
// is journaled).
caf::behavior journal_of_status(caf::event_based_actor*, order_status status) {
  return {[=](atom::get, const order_id& id) {
    order_record rec;
    rec.id = id;
    rec.status = status;
    return rec;
  }};
}

journal_actor journal_with_o1_cancelled(caf::actor_system& sys) {
  return caf::actor_cast<journal_actor>(
      sys.spawn(journal_of_status, order_status::cancelled));
}

audit_report audit_of(fixture& f, inventory_actor sku) {
  auto collector = f.sys.spawn(
      audit_collector,
      std::vector<std::pair<sku_id, inventory_actor>>{{"A", sku}},
      std::vector<std::pair<order_id, order_actor>>{},
      journal_with_o1_cancelled(f.sys), caf::timespan{std::chrono::seconds(5)});
  auto report = f.call_over_time<audit_report>(std::chrono::milliseconds{200},
                                               collector, atom::audit_v);
  REQUIRE_MESSAGE(report, why(report));
  return *report;
}

} // namespace

TEST_CASE("an audit that finds a hold of a cancelled order looks again: a "
          "release on its way is not reported") {
  fixture f;
  auto asked = std::make_shared<int>(0);
  auto report = audit_of(f, sku_releasing_after(f.sys, 1, asked));
  CHECK(report.violations.empty());
  CHECK(*asked == 2);
  CHECK(report.units_reserved == 0);
}

TEST_CASE("an audit reports a hold of a cancelled order that is still there "
          "after three looks") {
  fixture f;
  auto asked = std::make_shared<int>(0);
  auto report = audit_of(f, sku_releasing_after(f.sys, 1000, asked));
  CHECK(*asked == 3);
  REQUIRE(report.violations.size() == 1);
  CHECK(report.violations.front().sku == "A");
  CHECK(report.violations.front().what.find("o1") != std::string::npos);
}

TEST_CASE("an audit with nothing wrong takes one look") {
  fixture f;
  auto asked = std::make_shared<int>(0);
  auto report = audit_of(f, sku_releasing_after(f.sys, 0, asked));
  CHECK(report.violations.empty());
  CHECK(*asked == 1);
}
