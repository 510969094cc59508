// The EXTERNAL seller after the sale, through actors on virtual time: a
// partial cancel reduces the WMS's reservation (retried while it is down,
// resumed after a restart), a return is reported to the WMS step by step and
// its restocked units come back through the feed, once; and the audit covers
// EXTERNAL SKUs.
#include "tests/external_fixture.hpp"

using namespace oms;
using namespace oms::test;
using namespace std::chrono_literals;

namespace {

caf::expected<order_record> ret(ext_fixture& x, const order_id& id,
                                return_command cmd) {
  return x.f->call<order_record>(x.f->sup, atom::apply_v, id, cmd);
}

int64_t wms_quantity(ext_fixture& x, const std::string& reservation) {
  auto* r = x.wms->sim.find_reservation(reservation);
  return r ? r->quantity : -1;
}

// The WMS's live counts of `sku`.
wms_sim::sku_state wms_sku(ext_fixture& x, const std::string& sku) {
  auto* s = x.wms->sim.find_sku(sku);
  REQUIRE(s != nullptr);
  return *s;
}

} // namespace

TEST_CASE("external: a partial cancel reduces the WMS's reservation, and the "
          "units come back once the WMS has them") {
  auto store = std::make_shared<memory_store>();
  ext_fixture x{store};
  x.wms->sim.put_sku("EXT-1", 10, 1000, true);
  auto a = x.order("c1", "EXT-1", 5);
  REQUIRE_MESSAGE(a, why(a));
  auto ra = reservation_id(a->record.id, "EXT-1");
  CHECK(wms_quantity(x, ra) == 5);
  CHECK(x.stock("EXT-1").available == 5);
  auto cut = x.f->cancel_lines(a->record.id, {{"EXT-1", 2, seller::external}});
  REQUIRE_MESSAGE(cut, why(cut));
  CHECK(cut->status == order_status::created);
  CHECK(cut->lines[0].cancelled_quantity == 2);
  CHECK(cut->total_amount == 3000);
  CHECK(wms_quantity(x, ra) == 3);
  CHECK(x.wms->status_of(ra) == "RESERVED");
  CHECK(wms_sku(x, "EXT-1").reserved == 3);
  auto v = x.stock("EXT-1");
  CHECK(v.reserved == 3);
  CHECK(v.available == 7);
  CHECK(v.external.wms_pending == 0);
  auto report = x.f->audit();
  CHECK(report.violations.empty());
  CHECK(report.skus_checked == 1); // the EXTERNAL SKU is audited
  CHECK(report.units_reserved == 3);
  // Paid, then 1 more cancelled: refunded, and the WMS ships the 2 left.
  x.f->must_apply(a->record.id, command_kind::confirm);
  x.f->must_pay(a->record.id, 3000);
  auto again =
      x.f->cancel_lines(a->record.id, {{"EXT-1", 1, seller::external}});
  REQUIRE_MESSAGE(again, why(again));
  CHECK(again->refunded_amount == 1000);
  CHECK(wms_quantity(x, ra) == 2);
  CHECK(x.wms->status_of(ra) == "BLOCKED");
  CHECK(x.f->audit().violations.empty());
  x.f->must_apply(a->record.id, command_kind::ship);
  CHECK(x.wms->status_of(ra) == "SHIPPED");
  CHECK(wms_sku(x, "EXT-1").shipped == 2);
  CHECK(wms_sku(x, "EXT-1").on_hand == 8);
  // More than the line holds is refused and changes nothing.
  auto b = x.order("c2", "EXT-1", 2);
  REQUIRE_MESSAGE(b, why(b));
  CHECK(
      code(x.f->cancel_lines(b->record.id, {{"EXT-1", 3, seller::external}})) ==
      "VALIDATION_FAILED");
  CHECK(wms_quantity(x, reservation_id(b->record.id, "EXT-1")) == 2);
}

TEST_CASE("external: a reduction the WMS misses is retried, and a restart "
          "resumes it, and the units stay the WMS's until then") {
  auto store = std::make_shared<memory_store>();
  auto wms = std::make_shared<fake_wms>();
  wms->sim.put_sku("EXT-2", 10, 1000, true);
  order_id id;
  std::string ra;
  {
    ext_fixture x{store, wms};
    auto a = x.order("c1", "EXT-2", 6);
    REQUIRE_MESSAGE(a, why(a));
    id = a->record.id;
    ra = reservation_id(id, "EXT-2");
    wms->down = true;
    auto cut = x.f->cancel_lines(id, {{"EXT-2", 4, seller::external}});
    REQUIRE_MESSAGE(cut, why(cut));
    CHECK(wms_quantity(x, ra) == 6);
    // Ours is 2 at once; the 4 are not sold again before the WMS frees them.
    auto v = x.stock("EXT-2");
    CHECK(v.reserved == 2);
    CHECK(v.available == 4);
    CHECK(v.external.wms_pending == 1);
    CHECK(x.f->audit().violations.empty());
    auto reductions = wms->count(wms_op::reduce);
    x.f->advance(1s);
    CHECK(wms->count(wms_op::reduce) == reductions + 1);
    CHECK(wms_quantity(x, ra) == 6);
  }
  // Restarted with the WMS back: the reduction is sent again.
  wms->down = false;
  ext_fixture y{store, wms, false, external_t0 + 60'000};
  y.f->sched.run();
  CHECK(wms->status_of(ra) == "RESERVED");
  CHECK(wms->sim.find_reservation(ra)->quantity == 2);
  auto v = y.stock("EXT-2");
  CHECK(v.reserved == 2);
  CHECK(v.available == 8);
  CHECK(v.external.wms_pending == 0);
  CHECK(y.f->audit().violations.empty());
}

TEST_CASE("external: a return is reported to the WMS step by step, its "
          "restocked units come back through the feed once, and it is "
          "refunded") {
  auto store = std::make_shared<memory_store>();
  ext_fixture x{store, nullptr, true};
  x.wms->sim.put_sku("EXT-3", 10, 1000, true);
  auto id = x.delivered("c1", "EXT-3", 4);
  auto ra = reservation_id(id, "EXT-3");
  REQUIRE(x.wms->status_of(ra) == "SHIPPED");
  auto before = x.stock("EXT-3").available;
  // A customer returning more than was delivered is refused.
  CHECK(code(ret(x, id,
                 step_of(return_step::request, {},
                         {{"EXT-3", 5, "too many", 0, 0}}))) ==
        "VALIDATION_FAILED");
  auto cmd =
      step_of(return_step::request, {}, {{"EXT-3", 3, "wrong colour", 0, 0}});
  auto asked = ret(x, id, cmd);
  REQUIRE_MESSAGE(asked, why(asked));
  REQUIRE(asked->returns.size() == 1);
  auto rid = asked->returns[0].id;
  auto wms_return = ra + ":" + rid;
  // Received: the WMS has the units on hand, not for sale; our count does
  // not change.
  auto got = ret(x, id, step_of(return_step::receive, rid));
  REQUIRE_MESSAGE(got, why(got));
  CHECK(got->returns[0].status == return_status::received);
  auto state = x.wms->sim.return_state(wms_return);
  REQUIRE(state.ok());
  CHECK(state.body["status"] == "RECEIVED");
  CHECK(state.body["quantity"] == 3);
  CHECK(wms_sku(x, "EXT-3").on_hand == 9);
  CHECK(wms_sku(x, "EXT-3").unallocatable == 3);
  CHECK(x.stock("EXT-3").available == before);
  // Inspected: 2 restocked, 1 damaged; the WMS has the decision.
  auto done =
      ret(x, id, step_of(return_step::inspect, rid, {{"EXT-3", 0, "", 2, 1}}));
  REQUIRE_MESSAGE(done, why(done));
  CHECK(done->returns[0].status == return_status::refunded);
  CHECK(done->refunded_amount == 3000);
  state = x.wms->sim.return_state(wms_return);
  CHECK(state.body["status"] == "INSPECTED");
  CHECK(state.body["restocked"] == 2);
  CHECK(state.body["damaged"] == 1);
  CHECK(wms_sku(x, "EXT-3").unallocatable == 1);
  // Our count has not moved yet: the restocked units come with the feed.
  CHECK(x.stock("EXT-3").available == before);
  x.f->advance(5s);
  auto v = x.stock("EXT-3");
  CHECK(v.external.feed_delta == 2);
  CHECK(v.available == before + 2);
  // Asked again: refused (the return is done), and nothing moves twice,
  // at the WMS or here.
  auto repeat =
      ret(x, id, step_of(return_step::inspect, rid, {{"EXT-3", 0, "", 2, 1}}));
  CHECK(code(repeat) == "INVALID_TRANSITION");
  x.f->advance(5s);
  CHECK(x.stock("EXT-3").available == before + 2);
  CHECK(wms_sku(x, "EXT-3").unallocatable == 1);
  // Once a batch reflects the return, it counts through the snapshot
  // instead of the feed: still once.
  x.wms->sim.run_batch();
  x.wms->now_ms += 16 * 60'000;
  x.f->advance(16min);
  v = x.stock("EXT-3");
  CHECK(v.external.feed_delta == 0);
  CHECK(v.available == before + 2);
  CHECK(x.f->audit().violations.empty());
}

TEST_CASE("external: a return step the WMS does not take is left to be asked "
          "again, and then counts once") {
  auto store = std::make_shared<memory_store>();
  ext_fixture x{store};
  x.wms->sim.put_sku("EXT-4", 10, 1000, true);
  auto id = x.delivered("c1", "EXT-4", 2);
  auto ra = reservation_id(id, "EXT-4");
  auto asked =
      ret(x, id, step_of(return_step::request, {}, {{"EXT-4", 2, "", 0, 0}}));
  REQUIRE_MESSAGE(asked, why(asked));
  x.wms->down = true;
  auto got = ret(x, id, step_of(return_step::receive, "ret_1"));
  CHECK(code(got) == "WMS_UNAVAILABLE");
  auto rec = x.f->get_order(id);
  REQUIRE_MESSAGE(rec, why(rec));
  CHECK(rec->returns[0].status == return_status::receiving);
  CHECK_FALSE(x.wms->sim.return_state(ra + ":ret_1").ok());
  x.wms->down = false;
  got = ret(x, id, step_of(return_step::receive, "ret_1"));
  REQUIRE_MESSAGE(got, why(got));
  CHECK(got->returns[0].status == return_status::received);
  CHECK(x.wms->sim.return_state(ra + ":ret_1").body["quantity"] == 2);
  CHECK(wms_sku(x, "EXT-4").unallocatable == 2);
  // A WMS that refuses the step (here: it never shipped the units it is
  // told came back) leaves the step to be asked again.
  auto b = x.order("c2", "EXT-4", 1);
  REQUIRE_MESSAGE(b, why(b));
  x.f->must_apply(b->record.id, command_kind::confirm);
  x.f->must_pay(b->record.id, 1000);
  x.wms->down = true; // the ship call does not reach the WMS
  x.f->must_apply(b->record.id, command_kind::ship);
  x.f->must_apply(b->record.id, command_kind::deliver);
  x.wms->down = false;
  REQUIRE(ret(x, b->record.id,
              step_of(return_step::request, {}, {{"EXT-4", 1, "", 0, 0}})));
  // The WMS still holds them BLOCKED (our ship call waits for its retry
  // timer): it refuses a return of units it has not shipped, which is
  // asked again later.
  auto early = ret(x, b->record.id, step_of(return_step::receive, "ret_1"));
  CHECK(code(early) == "WMS_UNAVAILABLE");
  x.f->advance(5s); // the ship reaches the WMS
  CHECK(x.wms->status_of(reservation_id(b->record.id, "EXT-4")) == "SHIPPED");
  early = ret(x, b->record.id, step_of(return_step::receive, "ret_1"));
  REQUIRE_MESSAGE(early, why(early));
  CHECK(early->returns[0].status == return_status::received);
}

TEST_CASE("external: a shipped order restored before its reduction reached "
          "the WMS ships only what the customer kept") {
  auto store = std::make_shared<memory_store>();
  auto wms = std::make_shared<fake_wms>();
  wms->sim.put_sku("EXT-R1", 10, 1000, true);
  order_id id;
  {
    ext_fixture x{store, wms};
    auto a = x.order("c1", "EXT-R1", 6);
    REQUIRE_MESSAGE(a, why(a));
    id = a->record.id;
    wms->down = true;
    REQUIRE(x.f->cancel_lines(id, {{"EXT-R1", 4, seller::external}}));
    x.f->must_apply(id, command_kind::confirm);
    x.f->must_pay(id, 2000);
    REQUIRE(x.f->must_apply(id, command_kind::ship).status ==
            order_status::shipped);
  }
  wms->down = false;
  ext_fixture y{store, wms, false, external_t0 + 60'000};
  y.f->sched.run();
  y.f->advance(10s);
  auto ra = reservation_id(id, "EXT-R1");
  REQUIRE(wms->status_of(ra) == "SHIPPED");
  CHECK(wms->sim.find_reservation(ra)->quantity == 2);
  CHECK(wms->sim.find_sku("EXT-R1")->shipped == 2);
  CHECK(wms->sim.find_sku("EXT-R1")->on_hand == 8);
}

TEST_CASE("external: a reserve asked again after a partial cancel that the "
          "WMS cannot grant in full is asked for the units left, and the "
          "order lives") {
  auto store = std::make_shared<memory_store>();
  ext_fixture x{store};
  x.wms->sim.put_sku("EXT-R2", 10, 1000, true);
  REQUIRE(x.stock("EXT-R2").available == 10);
  x.wms->down = true;
  auto a = x.order("c1", "EXT-R2", 6);
  REQUIRE_MESSAGE(a, why(a));
  auto id = a->record.id;
  REQUIRE(x.f->cancel_lines(id, {{"EXT-R2", 4, seller::external}}));
  REQUIRE(x.wms->sim.adjust("EXT-R2", 6, "DAMAGE", "").ok()); // 4 left there
  x.wms->down = false;
  x.f->advance(10s);
  auto rec = x.f->get_order(id);
  REQUIRE_MESSAGE(rec, why(rec));
  CHECK(rec->status == order_status::created);
  auto ra = reservation_id(id, "EXT-R2");
  CHECK(x.wms->status_of(ra) == "RESERVED");
  CHECK(x.wms->sim.find_reservation(ra)->quantity == 2);
  CHECK(x.stock("EXT-R2").external.wms_pending == 0);
}
