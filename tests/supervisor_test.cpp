// The SUPERVISOR: registry, handles, audit.
#include "tests/fixture.hpp"

using namespace oms;
using namespace oms::test;

TEST_CASE_FIXTURE(fixture, "the supervisor hands out the owner of a SKU") {
  receive("A", 3, 100);
  auto h = call<inventory_actor>(sup, atom::find_sku_v, sku_id{"A"});
  REQUIRE(h);
  auto v = call<stock_view>(*h, atom::get_v);
  REQUIRE(v);
  CHECK(v->on_hand == 3);
  CHECK(code(call<inventory_actor>(sup, atom::find_sku_v, sku_id{"B"})) ==
        "UNKNOWN_SKU");
}

TEST_CASE_FIXTURE(fixture, "callers talk to an order's actor directly") {
  receive("A", 3, 100);
  auto created = create("c1", {{"A", 1, seller::internal}});
  auto res = call<order_record>(created.handle, confirm_command{});
  REQUIRE(res);
  CHECK(res->status == order_status::confirmed);
  auto found = call<order_actor>(sup, atom::find_order_v, created.record.id);
  REQUIRE(found);
  CHECK(*found == created.handle);
}

TEST_CASE_FIXTURE(fixture, "an order read while its actor ends is answered "
                           "from the journal, not with a retry") {
  // The actor ends before the SUPERVISOR learns of it (its down message
  // comes after the read in the SUPERVISOR's mailbox): the read reaches a
  // dead actor, and the journal has the record.
  receive("A", 3, 100);
  auto created = create("c1", {{"A", 1, seller::internal}});
  self->send_exit(created.handle, caf::exit_reason::kill);
  auto res = call<order_record>(sup, atom::get_v, created.record.id);
  REQUIRE_MESSAGE(res, why(res));
  CHECK(res->id == created.record.id);
  CHECK(res->status == order_status::created);
}

TEST_CASE_FIXTURE(fixture,
                  "the audit finds nothing wrong in a consistent system") {
  receive("A", 10, 100);
  receive("B", 10, 100);
  auto o1 = create("c1", {{"A", 2, seller::internal}}).record;
  auto o2 =
      create("c2", {{"A", 1, seller::internal}, {"B", 3, seller::internal}})
          .record;
  must_apply(o2.id, command_kind::confirm);
  auto report = audit();
  CHECK(report.skus_checked == 2);
  CHECK(report.live_orders == 2);
  CHECK(report.violations.empty());
}

TEST_CASE_FIXTURE(fixture,
                  "the audit reports a hold no live order accounts for") {
  // A hold placed behind the orders' back is exactly what the audit exists
  // to find.
  receive("A", 10, 100);
  auto h = call<inventory_actor>(sup, atom::find_sku_v, sku_id{"A"});
  REQUIRE(h);
  REQUIRE(
      call<reserve_reply>(*h, atom::reserve_v, order_id{"ghost"}, int64_t{2}));
  auto report = audit();
  REQUIRE(report.violations.size() == 1);
  CHECK(report.violations.front().sku == "A");
  CHECK(report.violations.front().what.find("ghost") != std::string::npos);
}

TEST_CASE_FIXTURE(fixture, "an audit of an empty system reports nothing") {
  auto report = audit();
  CHECK(report.skus_checked == 0);
  CHECK(report.violations.empty());
}

TEST_CASE_FIXTURE(
    fixture, "the audit asks every SKU and live order, beyond its window") {
  // More SKUs and orders than the audit keeps in flight at once (128): each
  // is asked once its turn comes, and a ghost hold on the last SKU is found.
  for (int s = 0; s < 150; ++s)
    receive("S" + std::to_string(s), 10, 100);
  int live = 0;
  for (int i = 0; i < 300; ++i) {
    auto o = create("c" + std::to_string(i % 7),
                    {{"S" + std::to_string(i % 150), 1, seller::internal}})
                 .record;
    if (i % 3 == 0)
      must_apply(o.id, command_kind::cancel);
    else
      ++live;
  }
  auto report = audit();
  CHECK(report.skus_checked == 150);
  CHECK(report.live_orders == static_cast<uint64_t>(live));
  CHECK(report.violations.empty());
  auto h = call<inventory_actor>(sup, atom::find_sku_v, sku_id{"S149"});
  REQUIRE(h);
  REQUIRE(
      call<reserve_reply>(*h, atom::reserve_v, order_id{"ghost"}, int64_t{1}));
  report = audit();
  REQUIRE(report.violations.size() == 1);
  CHECK(report.violations.front().sku == "S149");
  CHECK(report.live_orders == static_cast<uint64_t>(live));
}
