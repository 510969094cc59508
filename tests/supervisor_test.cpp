// The SUPERVISOR: registry, handles, audit.
#include "tests/fixture.hpp"

#include "actors/inventory.hpp"
#include "actors/order_machine.hpp"
#include "actors/stock_ledger.hpp"

using namespace oms;
using namespace oms::test;

TEST_CASE_FIXTURE(fixture, "the supervisor hands out the owner of a SKU") {
  receive("A", 3, 100);
  auto h = call<inventory_actor>(sup, atom::find_sku_v, sku_id{"A"},
                                 seller::internal);
  REQUIRE(h);
  auto v = call<stock_view>(*h, atom::get_v);
  REQUIRE(v);
  CHECK(v->on_hand == 3);
  CHECK(code(call<inventory_actor>(sup, atom::find_sku_v, sku_id{"B"},
                                   seller::internal)) == "UNKNOWN_SKU");
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
  auto h = call<inventory_actor>(sup, atom::find_sku_v, sku_id{"A"},
                                 seller::internal);
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
  auto h = call<inventory_actor>(sup, atom::find_sku_v, sku_id{"S149"},
                                 seller::internal);
  REQUIRE(h);
  REQUIRE(
      call<reserve_reply>(*h, atom::reserve_v, order_id{"ghost"}, int64_t{1}));
  report = audit();
  REQUIRE(report.violations.size() == 1);
  CHECK(report.violations.front().sku == "S149");
  CHECK(report.live_orders == static_cast<uint64_t>(live));
}

TEST_CASE_FIXTURE(fixture, "an INVENTORY actor restored from a state that "
                           "does not add up stops before it sells") {
  lot_state lot;
  lot.on_hand = 12;
  stock_ledger ledger;
  ledger.restore(100, 10, 0, 0, {lot}, {}, 0);
  auto sku = sys.spawn(oms::restored_inventory, sku_id{"BAD"}, ctx, ledger,
                       int64_t{0});
  sched.run();
  auto res =
      call<reserve_reply>(sku, atom::reserve_v, order_id{"o1"}, int64_t{1});
  // The actor is gone: the request finds no receiver.
  REQUIRE_FALSE(res);
  CHECK(res.error() == caf::sec::request_receiver_down);
}

TEST_CASE_FIXTURE(fixture, "an order whose actor fails is restarted from its "
                           "record, its hold timer with it") {
  // Before, the order was forgotten: its holds stayed taken for good and
  // its commands answered ORDER_NOT_FOUND until omsd restarted.
  receive("A", 3, 100);
  auto created = create("c1", {{"A", 2, seller::internal}});
  auto id = created.record.id;
  self->send_exit(created.handle, make_error(errc::internal, "injected"));
  sched.run();
  auto found = call<order_actor>(sup, atom::find_order_v, id);
  REQUIRE_MESSAGE(found, why(found));
  CHECK(*found != created.handle);
  auto rec = call<order_record>(*found, atom::get_v);
  REQUIRE(rec);
  CHECK(rec->status == order_status::created);
  CHECK(stock("A").available == 1);
  // The restarted actor's hold timer cancels it and gives the units back.
  advance(ctx->settings.hold_ttl + std::chrono::seconds(1));
  auto after = call<order_record>(sup, atom::get_v, id);
  REQUIRE(after);
  CHECK(after->status == order_status::cancelled);
  CHECK(stock("A").available == 3);
}

TEST_CASE_FIXTURE(fixture, "an order's actor that keeps failing is left "
                           "stopped after a few restarts") {
  receive("A", 3, 100);
  auto id = create("c1", {{"A", 1, seller::internal}}).record.id;
  for (uint32_t i = 0; i <= supervisor_state::order_restarts_max; ++i) {
    auto h = call<order_actor>(sup, atom::find_order_v, id);
    REQUIRE_MESSAGE(h, "restart " << i);
    self->send_exit(*h, make_error(errc::internal, "injected"));
    sched.run();
  }
  CHECK(code(call<order_actor>(sup, atom::find_order_v, id)) ==
        "ORDER_NOT_FOUND");
  // Its record is still there to read.
  auto rec = call<order_record>(sup, atom::get_v, id);
  REQUIRE(rec);
  CHECK(rec->status == order_status::created);
}

TEST_CASE_FIXTURE(fixture, "a CUSTOMER actor that fails is spawned again on "
                           "next use") {
  // Before, the dead actor's handle was handed out for good, and every
  // cart request failed until omsd restarted.
  auto first = call<customer_actor>(sup, atom::customer_v, customer_id{"c1"});
  REQUIRE(first);
  self->send_exit(*first, make_error(errc::internal, "injected"));
  sched.run();
  auto again = call<customer_actor>(sup, atom::customer_v, customer_id{"c1"});
  REQUIRE(again);
  CHECK(*again != *first);
  auto cart = call<cart_view>(*again, atom::get_v);
  CHECK_MESSAGE(cart, why(cart));
}

TEST_CASE_FIXTURE(fixture, "a command that reaches an order's actor as it "
                           "ends is answered from the journal") {
  // Before, the command bounced off the ended actor and answered the
  // retryable 503 UNAVAILABLE, where a retry answers INVALID_TRANSITION.
  receive("A", 3, 100);
  auto created = create("c1", {{"A", 1, seller::internal}});
  // The cancel ends the order; the confirm, sent meanwhile through the
  // SUPERVISOR, reaches the actor as it ends.
  self->send(created.handle, cancel_command{});
  order_command confirm;
  confirm.kind = command_kind::confirm;
  auto res = call<order_record>(sup, atom::apply_v, created.record.id, confirm);
  CHECK(code(res) == "INVALID_TRANSITION");
  auto rec = call<order_record>(sup, atom::get_v, created.record.id);
  REQUIRE(rec);
  CHECK(rec->status == order_status::cancelled);
}

TEST_CASE_FIXTURE(fixture, "a finished order's actor is freed at once, not "
                           "when its hold timer runs out") {
  // Before, the hold timer (15 minutes) held the order's handle: every
  // order that finished before its hold ran out kept its actor in memory
  // until then (about 1.6 KB each, seen as growing memory under load).
  receive("A", 3, 100);
  caf::actor_addr weak;
  order_id id;
  {
    auto created = create("c1", {{"A", 2, seller::internal}});
    weak = created.handle.address();
    id = created.record.id;
  }
  must_apply(id, command_kind::cancel);
  sched.run();
  CHECK(caf::actor_cast<caf::strong_actor_ptr>(weak) == nullptr);
  // Its timer, when it fires, finds no order and changes nothing.
  advance(ctx->settings.hold_ttl + std::chrono::seconds(1));
  CHECK(stock("A").available == 3);
  auto rec = get_order(id);
  REQUIRE(rec);
  CHECK(rec->cancel_reason != expired_reason);
}

TEST_CASE_FIXTURE(fixture, "an order that ended leaves no hold timer "
                           "behind, those of live orders expire in order") {
  // Before, each order's hold was a delayed message CAF cannot take back:
  // about 170 B per order for 15 minutes after it ended.
  using sup_impl =
      caf::stateful_actor<supervisor_state, supervisor_actor::base>;
  auto* impl =
      dynamic_cast<sup_impl*>(caf::actor_cast<caf::abstract_actor*>(sup));
  REQUIRE(impl != nullptr);
  receive("A", 100, 100);
  for (int i = 0; i < 50; ++i) {
    auto id =
        create("c" + std::to_string(i), {{"A", 1, seller::internal}}).record.id;
    must_apply(id, command_kind::cancel);
  }
  CHECK(impl->state.holds_due.empty());
  CHECK(impl->state.hold_of.empty());
  // Two live orders, armed a minute apart: each expires at its own time.
  auto first = create("c1", {{"A", 2, seller::internal}}).record.id;
  advance(std::chrono::minutes(1));
  auto second = create("c2", {{"A", 3, seller::internal}}).record.id;
  CHECK(impl->state.holds_due.size() == 2);
  advance(ctx->settings.hold_ttl - std::chrono::minutes(1));
  CHECK(get_order(first)->status == order_status::cancelled);
  CHECK(get_order(second)->status == order_status::created);
  CHECK(impl->state.holds_due.size() == 1);
  advance(std::chrono::minutes(1));
  CHECK(get_order(second)->status == order_status::cancelled);
  CHECK(impl->state.holds_due.empty());
  CHECK(stock("A").available == 100);
}

TEST_CASE_FIXTURE(fixture, "a live order's hold still expires through the "
                           "supervisor, and not before its time") {
  receive("A", 3, 100);
  auto id = create("c1", {{"A", 2, seller::internal}}).record.id;
  advance(ctx->settings.hold_ttl - std::chrono::seconds(1));
  CHECK(get_order(id)->status == order_status::created);
  // A timer that fires early (armed for a due time already past, with the
  // order's own generation) does not cancel it: the order arms its hold
  // again for its real due time.
  self->send(sup, atom::arm_v, id, uint64_t{1}, timestamp_ms{0});
  sched.run(); // the SUPERVISOR arms its timer for now
  advance(std::chrono::milliseconds(0));
  CHECK(get_order(id)->status == order_status::created);
  advance(std::chrono::seconds(2));
  CHECK(get_order(id)->status == order_status::cancelled);
  CHECK(stock("A").available == 3);
}
