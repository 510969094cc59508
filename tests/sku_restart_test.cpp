// The SUPERVISOR restarts an INVENTORY actor that stopped on a failure from
// the SKU as stored: units, holds and batches come back, orders follow the
// new actor, and a SKU that keeps failing is left stopped.
#include "tests/fixture.hpp"

#include <algorithm>

#include <caf/resumable.hpp>

using namespace oms;
using namespace oms::test;

namespace {

using std::chrono::milliseconds;

/// Long enough for every backoff of a SKU's restart.
constexpr milliseconds all_backoffs{60'000};

struct restart_fixture : fixture {
  inventory_actor sku_actor(const sku_id& sku) {
    auto h =
        call<inventory_actor>(sup, atom::find_sku_v, sku, seller::internal);
    REQUIRE_MESSAGE(h, why(h));
    return *h;
  }

  /// Stops the SKU's actor as a bug would, and lets the SUPERVISOR see it.
  void fail(const sku_id& sku) {
    self->send_exit(sku_actor(sku), make_error(errc::internal, "injected"));
    sched.run();
  }

  std::vector<sku_fault> health() {
    auto res = call<std::vector<sku_fault>>(sup, atom::health_v);
    REQUIRE(res);
    return *res;
  }

  /// Runs every job but `held`'s until only that one (or none) is left.
  template <class Handle>
  void run_all_but(const Handle& held) {
    auto* h = dynamic_cast<caf::resumable*>(
        caf::actor_cast<caf::abstract_actor*>(held));
    REQUIRE(h != nullptr);
    for (;;) {
      auto i = std::find_if(sched.jobs.begin(), sched.jobs.end(),
                            [h](caf::resumable* r) { return r != h; });
      if (i == sched.jobs.end())
        return;
      std::rotate(sched.jobs.begin(), i, i + 1);
      sched.run_once();
    }
  }
};

} // namespace

TEST_CASE_FIXTURE(restart_fixture, "a SKU whose actor fails comes back from "
                                   "the journal with its units and holds") {
  receive("A", 5, 100);
  auto held = create("c1", {{"A", 2, seller::internal}});
  auto before = sku_actor("A");
  fail("A");
  // While it restarts it answers UNAVAILABLE, and nothing spawns it empty.
  CHECK(code(call<stock_view>(sup, atom::get_v, sku_id{"A"},
                              seller::internal)) == "UNAVAILABLE");
  CHECK(code(call<inventory_actor>(sup, atom::find_sku_v, sku_id{"A"},
                                   seller::internal)) == "UNAVAILABLE");
  CHECK(code(call<stock_view>(sup, atom::receive_v, sku_id{"A"},
                              seller::internal, int64_t{2}, money{100})) ==
        "UNAVAILABLE");
  stock_change more;
  more.kind = stock_change_kind::receipt;
  more.sku = "A";
  more.quantity = 2;
  more.unit_price = 100;
  CHECK(code(call<inbox_result>(sup, atom::apply_v, more)) == "UNAVAILABLE");
  CHECK(code(try_create("c2", {{"A", 1, seller::internal}})) == "UNAVAILABLE");
  auto faults = health();
  REQUIRE(faults.size() == 1);
  CHECK(faults.front().sku == "A");
  CHECK(faults.front().restarting);
  CHECK(faults.front().failures == 1);
  CHECK(faults.front().reason.find("injected") != std::string::npos);
  advance(all_backoffs);
  CHECK(health().empty());
  auto after = sku_actor("A");
  CHECK(after != before);
  auto v = stock("A");
  CHECK(v.on_hand == 5);
  CHECK(v.reserved == 2);
  CHECK(v.available == 3);
  // The order's next step reaches the new actor: its units come back.
  must_apply(held.record.id, command_kind::cancel);
  CHECK(stock("A").available == 5);
  // And the SKU sells and receives as before.
  create("c2", {{"A", 4, seller::internal}});
  CHECK(receive("A", 1).on_hand == 6);
  CHECK(audit().violations.empty());
}

TEST_CASE_FIXTURE(restart_fixture, "an order's step journaled while its SKU "
                                   "restarts is in the new actor once") {
  receive("A", 5, 100);
  auto id = create("c1", {{"A", 2, seller::internal}}).record.id;
  fail("A");
  // Journaled now; the SKU's actor is gone, so only the journal has it.
  must_apply(id, command_kind::confirm);
  advance(all_backoffs);
  auto v = stock("A");
  CHECK(v.blocked == 2);
  CHECK(v.reserved == 0);
  CHECK(v.on_hand == 5);
  must_pay(id, 200);
  // Shipping reaches the new actor through the SUPERVISOR (the order's
  // handle is the stopped actor's) and consumes the units once.
  must_apply(id, command_kind::ship);
  v = stock("A");
  CHECK(v.on_hand == 3);
  CHECK(v.blocked == 0);
  CHECK(v.available == 3);
  CHECK(audit().violations.empty());
}

TEST_CASE_FIXTURE(restart_fixture, "a reservation the stopped actor granted "
                                   "but the order journals later is in the "
                                   "new actor") {
  // The order reserves at A and B, then journals. A grants and stops before
  // B answers; the restart's backoff passes meanwhile. The new actor of A
  // must not be read from the journal before the order is journaled, or the
  // 2 units it holds would be sold again.
  receive("A", 3, 100);
  receive("B", 3, 100);
  auto a = sku_actor("A");
  auto b = sku_actor("B");
  create_order_request req{
      "c1",
      {{"A", 2, seller::internal}, {"B", 1, seller::internal}},
      sample_address(),
      {},
      {}};
  auto rh = self->request(sup, caf::infinite, atom::create_v, req);
  // The order asks A and B; A grants, then stops.
  run_all_but(b);
  self->send_exit(a, make_error(errc::internal, "injected"));
  run_all_but(b);
  sched.advance_time(all_backoffs);
  run_all_but(b);
  // Only B's answer is missing: the order has not journaled yet.
  sched.run();
  caf::expected<created_order> created{make_error(errc::internal, "none")};
  rh.receive([&](created_order& c) { created = std::move(c); },
             [&](caf::error& err) { created = std::move(err); });
  REQUIRE_MESSAGE(created, why(created));
  advance(all_backoffs);
  auto v = stock("A");
  CHECK(v.reserved == 2);
  CHECK(v.available == 1);
  CHECK(code(try_create("c2", {{"A", 2, seller::internal}})) ==
        "INSUFFICIENT_STOCK");
  CHECK(audit().violations.empty());
}

TEST_CASE_FIXTURE(restart_fixture, "a SKU that keeps failing is left stopped "
                                   "after a bounded number of restarts") {
  receive("A", 3, 100);
  receive("B", 3, 100);
  for (uint32_t i = 0; i < supervisor_state::sku_restarts_max; ++i) {
    fail("A");
    // The n-th restart waits longer than the one before.
    auto wait = supervisor_state::sku_restart_backoff;
    for (uint32_t n = 0; n < i; ++n)
      wait *= 5;
    advance(wait - milliseconds{1});
    CHECK_MESSAGE(code(call<inventory_actor>(sup, atom::find_sku_v, sku_id{"A"},
                                             seller::internal)) ==
                      "UNAVAILABLE",
                  "failure " << i + 1);
    advance(milliseconds{1});
    REQUIRE_MESSAGE(call<inventory_actor>(sup, atom::find_sku_v, sku_id{"A"},
                                          seller::internal),
                    "failure " << i + 1);
  }
  fail("A");
  advance(all_backoffs);
  CHECK(code(call<inventory_actor>(sup, atom::find_sku_v, sku_id{"A"},
                                   seller::internal)) == "UNAVAILABLE");
  auto faults = health();
  REQUIRE(faults.size() == 1);
  CHECK_FALSE(faults.front().restarting);
  CHECK(faults.front().failures == supervisor_state::sku_restarts_max + 1);
  auto err = call<stock_view>(sup, atom::get_v, sku_id{"A"}, seller::internal);
  REQUIRE_FALSE(err);
  CHECK(message_of(err.error()).find("omsd restarts") != std::string::npos);
  // Every other SKU sells on.
  CHECK(create("c1", {{"B", 2, seller::internal}}).record.status ==
        order_status::created);
}

TEST_CASE_FIXTURE(restart_fixture, "failures far apart do not add up to "
                                   "leaving a SKU stopped") {
  receive("A", 3, 100);
  for (uint32_t i = 0; i <= supervisor_state::sku_restarts_max + 1; ++i) {
    fail("A");
    advance(milliseconds{supervisor_state::sku_failure_window_ms + 1});
    REQUIRE_MESSAGE(call<inventory_actor>(sup, atom::find_sku_v, sku_id{"A"},
                                          seller::internal),
                    "failure " << i + 1);
  }
  CHECK(stock("A").on_hand == 3);
}

TEST_CASE_FIXTURE(restart_fixture, "a cart keeps working with a SKU whose "
                                   "actor was restarted") {
  receive("A", 5, 100);
  auto cust = customer("c1");
  REQUIRE(call<cart_view>(cust, atom::add_v, sku_id{"A"}, int64_t{1},
                          seller::internal));
  fail("A");
  advance(all_backoffs);
  // The cart's handle is the stopped actor's: it asks for the new one.
  auto view = call<cart_view>(cust, atom::add_v, sku_id{"A"}, int64_t{1},
                              seller::internal);
  REQUIRE_MESSAGE(view, why(view));
  REQUIRE(view->lines.size() == 1);
  CHECK(view->lines.front().quantity == 2);
  CHECK(view->lines.front().unit_price == 100);
}

TEST_CASE_FIXTURE(restart_fixture, "a SKU's version numbers its own changes, "
                                   "guards them, and comes back with its "
                                   "actor") {
  auto v = receive("SKU-V", 10, 100); // created (1), received (2)
  CHECK(v.version == 2);
  auto seq = store->last_seq();
  auto price = [&](money unit_price, uint64_t if_version) {
    return call<stock_view>(sku_actor("SKU-V"), atom::price_v, unit_price,
                            if_version);
  };
  auto stale = price(250, 1);
  CHECK(code(stale) == "PRECONDITION_FAILED");
  CHECK(details_of(stale.error()) == "{\"version\":2}");
  CHECK(store->last_seq() == seq);
  auto priced = price(250, 2);
  REQUIRE_MESSAGE(priced, why(priced));
  CHECK(priced->version == 3);
  CHECK(priced->unit_price == 250);
  auto events = store_events(seq + 1, 10);
  REQUIRE(events.size() == 1);
  CHECK(events[0].kind == event_kind::price_set);
  CHECK(events[0].version == 3);
  // An order's hold is the order's change, not the SKU's.
  auto order = create("c1", {{"SKU-V", 4, seller::internal}});
  CHECK(stock("SKU-V").reserved == 4);
  CHECK(stock("SKU-V").version == 3);
  // A stale stock change is refused (not recorded under its event id).
  stock_change aside;
  aside.kind = stock_change_kind::set_aside;
  aside.sku = "SKU-V";
  aside.quantity = 1;
  aside.event_id = "aside-1";
  aside.if_version = 2;
  CHECK(code(call<inbox_result>(sup, atom::apply_v, aside)) ==
        "PRECONDITION_FAILED");
  aside.if_version = 3;
  auto applied = call<inbox_result>(sup, atom::apply_v, aside);
  REQUIRE_MESSAGE(applied, why(applied));
  CHECK(applied->outcome == inbox_outcome::applied);
  CHECK(applied->stock.version == 4);
  // The restarted actor takes the version from the journal.
  fail("SKU-V");
  advance(all_backoffs);
  CHECK(stock("SKU-V").version == 4);
  CHECK(code(price(300, 3)) == "PRECONDITION_FAILED");
  auto after = price(300, 4);
  REQUIRE_MESSAGE(after, why(after));
  CHECK(after->version == 5);
  CHECK(order.record.status == order_status::created);
}
