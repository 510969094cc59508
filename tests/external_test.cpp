// The EXTERNAL seller through actors: orders against our own count while the
// WMS is stale, the WMS kept in step (reserve, block, ship, release), a
// refusal cancelling the order, retries while the WMS is down, a restart
// re-sending what the WMS did not acknowledge, and the event feed. The WMS is
// the simulator's core behind a gateway stand-in, all on virtual time.
#include "tests/external_fixture.hpp"

using namespace oms;
using namespace oms::test;
using namespace std::chrono_literals;

TEST_CASE("external: two rapid orders for the last units while the WMS still "
          "shows the old number: the second is refused by our own count") {
  auto store = std::make_shared<memory_store>();
  ext_fixture x{store};
  x.wms->sim.put_sku("EXT-1", 3, 5000, true);
  auto a = x.order("c1", "EXT-1", 2);
  REQUIRE_MESSAGE(a, why(a));
  CHECK(a->record.lines[0].unit_price == 5000);
  auto b = x.order("c2", "EXT-1", 2);
  CHECK(code(b) == "INSUFFICIENT_STOCK");
  // The WMS still says 3: its batch has not run.
  CHECK(x.wms_orderable("EXT-1") == 3);
  // Our order's reservation reached the WMS.
  CHECK(x.wms->status_of(reservation_id(a->record.id, "EXT-1")) == "RESERVED");
  auto v = x.stock("EXT-1");
  CHECK(v.available == 1);
  CHECK(v.reserved == 2);
  CHECK(v.external.snapshot_orderable == 3);
  CHECK(v.external.pending_holds == 2);
  CHECK(v.external.wms_pending == 0);
}

TEST_CASE("external: a batch run reflecting our holds: no double counting, no "
          "unit sold twice") {
  auto store = std::make_shared<memory_store>();
  ext_fixture x{store};
  x.wms->sim.put_sku("EXT-1", 3, 5000, true);
  auto a = x.order("c1", "EXT-1", 2);
  REQUIRE_MESSAGE(a, why(a));
  x.wms->sim.run_batch();
  CHECK(x.wms_orderable("EXT-1") == 1);
  // Our next read comes once the next batch should have run.
  auto reads = x.wms->count(wms_op::read_inventory);
  x.wms->now_ms += 15 * 60'000 + 1000;
  x.f->advance(15min + 1s);
  CHECK(x.wms->count(wms_op::read_inventory) == reads + 1);
  auto v = x.stock("EXT-1");
  CHECK(v.external.snapshot_orderable == 1);
  CHECK(v.external.pending_holds == 0); // reflected: not subtracted again
  CHECK(v.available == 1);
  REQUIRE(x.order("c3", "EXT-1", 1));
  CHECK(code(x.order("c4", "EXT-1", 1)) == "INSUFFICIENT_STOCK");
  // The WMS agrees: nothing left, nothing oversold.
  auto state = x.wms->sim.state();
  CHECK(state["skus"][0]["liveOrderable"] == 0);
}

TEST_CASE("external: the WMS refusing a reservation we granted cancels the "
          "order with the reason") {
  auto store = std::make_shared<memory_store>();
  ext_fixture x{store};
  x.wms->sim.put_sku("EXT-2", 5, 700, true);
  // Damage the WMS knows of but its snapshot does not show yet.
  REQUIRE(x.wms->sim.adjust("EXT-2", 4, "DAMAGE", "").ok());
  CHECK(x.wms_orderable("EXT-2") == 5);
  auto a = x.order("c1", "EXT-2", 3);
  REQUIRE_MESSAGE(a, why(a)); // granted on our count
  auto rec = x.f->get_order(a->record.id);
  REQUIRE_MESSAGE(rec, why(rec));
  CHECK(rec->status == order_status::cancelled);
  CHECK(rec->cancel_reason.find("refused the reservation") !=
        std::string::npos);
  CHECK(rec->history.back().reason.find("not enough stock") !=
        std::string::npos);
  // Our count gives the units back, and nothing is left to audit.
  CHECK(x.stock("EXT-2").available == 5);
  CHECK(x.f->audit().violations.empty());
}

TEST_CASE("external: confirm blocks, ship ships, and a cancel releases at the "
          "WMS, retried while it is down") {
  auto store = std::make_shared<memory_store>();
  ext_fixture x{store};
  x.wms->sim.put_sku("EXT-3", 10, 1000, true);
  auto a = x.order("c1", "EXT-3", 2);
  REQUIRE_MESSAGE(a, why(a));
  auto ra = reservation_id(a->record.id, "EXT-3");
  x.f->must_apply(a->record.id, command_kind::confirm);
  CHECK(x.wms->status_of(ra) == "BLOCKED");
  x.f->must_pay(a->record.id, 2000);
  x.f->must_apply(a->record.id, command_kind::ship);
  CHECK(x.wms->status_of(ra) == "SHIPPED");
  // A second order cancelled while the WMS is down.
  auto b = x.order("c2", "EXT-3", 3);
  REQUIRE_MESSAGE(b, why(b));
  auto rb = reservation_id(b->record.id, "EXT-3");
  CHECK(x.wms->status_of(rb) == "RESERVED");
  x.wms->down = true;
  x.f->must_apply(b->record.id, command_kind::cancel);
  CHECK(x.wms->status_of(rb) == "RESERVED");
  // Until the WMS has the release, the units stay out of our count.
  CHECK(x.stock("EXT-3").external.wms_pending == 1);
  auto releases = x.wms->count(wms_op::release);
  x.f->advance(1s); // first retry: still down
  CHECK(x.wms->count(wms_op::release) == releases + 1);
  x.wms->down = false;
  x.f->advance(2s); // backoff doubled
  CHECK(x.wms->status_of(rb) == "RELEASED");
  CHECK(x.stock("EXT-3").external.wms_pending == 0);
}

TEST_CASE("external: a release the WMS does not know of is done, once") {
  auto store = std::make_shared<memory_store>();
  ext_fixture x{store};
  x.wms->sim.put_sku("EXT-5", 10, 1000, true);
  auto a = x.order("c1", "EXT-5", 2);
  REQUIRE_MESSAGE(a, why(a));
  CHECK(x.wms->status_of(reservation_id(a->record.id, "EXT-5")) == "RESERVED");
  x.wms->forgets = true;
  auto releases = x.wms->count(wms_op::release);
  x.f->must_apply(a->record.id, command_kind::cancel);
  x.f->advance(5s);
  // The 404 settles the release: not retried, nothing pending.
  CHECK(x.wms->count(wms_op::release) == releases + 1);
  CHECK(x.stock("EXT-5").external.wms_pending == 0);
  auto loaded = store->load();
  REQUIRE_MESSAGE(loaded, why(loaded));
  for (auto& r : loaded->wms_reservations)
    CHECK(r.order != a->record.id);
}

TEST_CASE("external: a restart re-sends what the WMS did not acknowledge") {
  auto store = std::make_shared<memory_store>();
  auto wms = std::make_shared<fake_wms>();
  wms->sim.put_sku("EXT-4", 10, 1000, true);
  order_id kept;
  order_id dropped;
  {
    ext_fixture x{store, wms};
    auto a = x.order("c1", "EXT-4", 2); // reaches the WMS
    REQUIRE_MESSAGE(a, why(a));
    dropped = a->record.id;
    wms->down = true;
    auto b = x.order("c2", "EXT-4", 3); // granted, WMS down
    REQUIRE_MESSAGE(b, why(b));
    kept = b->record.id;
    x.f->must_apply(dropped, command_kind::cancel); // release not delivered
    CHECK(wms->status_of(reservation_id(dropped, "EXT-4")) == "RESERVED");
    CHECK(wms->status_of(reservation_id(kept, "EXT-4")) == "NONE");
  }
  wms->down = false;
  ext_fixture y{store, wms, false, external_t0 + 60'000};
  y.f->sched.run();
  CHECK(wms->status_of(reservation_id(dropped, "EXT-4")) == "RELEASED");
  CHECK(wms->status_of(reservation_id(kept, "EXT-4")) == "RESERVED");
  auto v = y.stock("EXT-4");
  CHECK(v.reserved == 3);
  CHECK(v.available == 7);
  CHECK(v.external.wms_pending == 0);
}

TEST_CASE("external: feed events count once, before the batch shows them, "
          "across a restart") {
  auto store = std::make_shared<memory_store>();
  auto wms = std::make_shared<fake_wms>();
  wms->sim.put_sku("EXT-5", 4, 1000, true);
  {
    ext_fixture x{store, wms, true};
    CHECK(x.stock("EXT-5").available == 4);
    REQUIRE(wms->sim.receive("EXT-5", 6, "L-9").ok());
    REQUIRE(wms->sim.adjust("EXT-5", 1, "DAMAGE", "").ok());
    x.f->advance(5s); // the feed is read
    auto v = x.stock("EXT-5");
    CHECK(v.external.feed_delta == 5);
    CHECK(v.available == 9);
  }
  // After a restart the feed goes on from its cursor and the changes the
  // snapshot does not reflect yet still count, once.
  ext_fixture y{store, wms, true, external_t0 + 60'000};
  y.f->advance(5s);
  auto v = y.stock("EXT-5");
  CHECK(v.external.feed_delta == 5);
  CHECK(v.available == 9);
  // Once a batch reflects them they count through the snapshot instead.
  wms->sim.run_batch();
  wms->now_ms += 16 * 60'000;
  y.f->advance(16min);
  v = y.stock("EXT-5");
  CHECK(v.external.feed_delta == 0);
  CHECK(v.external.snapshot_orderable == 9);
  CHECK(v.available == 9);
}

TEST_CASE("external: a snapshot with a count of the wrong type is answered "
          "as an unavailable WMS, and the SKU's actor lives on") {
  // Proves what tests/fuzz/wms_answer_fuzz.cpp found: "orderable":"v" in a
  // snapshot threw out of its reader and ended the EXTERNAL-SKU actor.
  auto store = std::make_shared<memory_store>();
  ext_fixture x{store};
  x.wms->sim.put_sku("EXT-1", 3, 5000, true);
  x.wms->garble = [](wms_op op, std::string body) {
    if (op != wms_op::read_inventory)
      return body;
    auto j = nlohmann::json::parse(body);
    j["orderable"] = "v";
    return j.dump();
  };
  auto read = x.f->call<stock_view>(x.f->sup, atom::get_v, sku_id{"EXT-1"},
                                    seller::external);
  CHECK(code(read) == "WMS_UNAVAILABLE");
  // The same actor reads the next, well-formed snapshot and sells from it.
  x.wms->garble = nullptr;
  x.f->advance(std::chrono::seconds(11));
  auto a = x.order("c1", "EXT-1", 2);
  REQUIRE_MESSAGE(a, why(a));
  CHECK(x.stock("EXT-1").available == 1);
}

TEST_CASE("external: an unknown SKU and no WMS are clear errors") {
  auto store = std::make_shared<memory_store>();
  ext_fixture x{store};
  CHECK(code(x.order("c1", "NOPE", 1)) == "UNKNOWN_SKU");
  CHECK(code(x.f->call<stock_view>(x.f->sup, atom::get_v, sku_id{"NOPE"},
                                   seller::external)) == "UNKNOWN_SKU");
  fixture plain{std::make_shared<memory_store>(), external_t0};
  CHECK(code(plain.try_create("c1", {{"EXT-1", 1, seller::external}})) ==
        "WMS_UNAVAILABLE");
}
