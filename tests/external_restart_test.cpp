// The SUPERVISOR restarts an EXTERNAL SKU's actor that stopped on a failure,
// in place: its holds come back from the live orders' records, its WMS
// reservations and feed changes from the journal, the WMS is told only what
// it does not know yet, orders' steps taken meanwhile reach it once, and a
// SKU that keeps failing is left stopped.
#include "tests/external_fixture.hpp"

#include "actors/supervisor_steps.hpp"

using namespace oms;
using namespace oms::test;
using namespace std::chrono_literals;

namespace {

/// Long enough for every backoff of a SKU's restart.
constexpr std::chrono::milliseconds all_backoffs{60'000};

struct ext_restart : ext_fixture {
  explicit ext_restart(
      std::shared_ptr<journal_store> store = std::make_shared<memory_store>(),
      std::shared_ptr<fake_wms> w = nullptr, bool feed = true)
      : ext_fixture(std::move(store), std::move(w), feed) {}

  external_sku_actor sku_actor(const sku_id& sku) {
    auto h = f->call<inventory_actor>(f->sup, atom::find_sku_v, sku,
                                      seller::external);
    REQUIRE_MESSAGE(h, why(h));
    return caf::actor_cast<external_sku_actor>(*h);
  }

  /// Stops the SKU's actor as a bug would, and lets the SUPERVISOR see it.
  void fail(const sku_id& sku) {
    f->self->send_exit(sku_actor(sku), make_error(errc::internal, "injected"));
    f->sched.run();
  }

  std::vector<sku_fault> health() {
    auto res = f->call<std::vector<sku_fault>>(f->sup, atom::health_v);
    REQUIRE(res);
    return *res;
  }

  caf::expected<stock_view> try_stock(const sku_id& sku) {
    return f->call<stock_view>(f->sup, atom::get_v, sku, seller::external);
  }

  std::string at_wms(const order_id& order, const sku_id& sku) {
    return wms->status_of(reservation_id(order, sku));
  }
};

} // namespace

TEST_CASE("external restart: a failed EXTERNAL SKU comes back in place with "
          "its holds and feed changes, and the WMS is not asked twice") {
  ext_restart x;
  x.wms->sim.put_sku("EXT-9", 3, 1000, true);
  REQUIRE(x.wms->sim.receive("EXT-9", 4, "L-1").ok());
  x.f->advance(5s); // the feed brings the receipt
  REQUIRE(x.stock("EXT-9").available == 7);
  auto a = x.order("c1", "EXT-9", 2);
  REQUIRE_MESSAGE(a, why(a));
  REQUIRE(x.at_wms(a->record.id, "EXT-9") == "RESERVED");
  auto reserves = x.wms->count(wms_op::reserve);
  auto before = x.sku_actor("EXT-9");
  x.fail("EXT-9");
  // While it restarts: UNAVAILABLE, never a fresh actor that knows no hold.
  CHECK(code(x.try_stock("EXT-9")) == "UNAVAILABLE");
  CHECK(code(x.order("c2", "EXT-9", 1)) == "UNAVAILABLE");
  CHECK(code(x.f->call<inventory_actor>(x.f->sup, atom::find_sku_v,
                                        sku_id{"EXT-9"}, seller::external)) ==
        "UNAVAILABLE");
  auto faults = x.health();
  REQUIRE(faults.size() == 1);
  CHECK(faults.front().sku == "EXT-9");
  CHECK(faults.front().from == seller::external);
  CHECK(faults.front().restarting);
  CHECK(faults.front().failures == 1);
  // An INTERNAL SKU of the same name is another SKU: not down.
  CHECK(code(x.f->call<stock_view>(x.f->sup, atom::get_v, sku_id{"EXT-9"},
                                   seller::internal)) == "UNKNOWN_SKU");
  x.f->advance(all_backoffs);
  CHECK(x.health().empty());
  CHECK(x.sku_actor("EXT-9") != before);
  auto v = x.stock("EXT-9");
  CHECK(v.reserved == 2);
  CHECK(v.external.feed_delta == 4);
  CHECK(v.available == 5);
  // The WMS knew the reservation: it is not made again.
  CHECK(x.wms->count(wms_op::reserve) == reserves);
  // Our count still refuses what is held, and sells the rest.
  CHECK(code(x.order("c2", "EXT-9", 6)) == "INSUFFICIENT_STOCK");
  auto b = x.order("c2", "EXT-9", 5);
  REQUIRE_MESSAGE(b, why(b));
  CHECK(x.at_wms(b->record.id, "EXT-9") == "RESERVED");
  // The first order's next step reaches the new actor and the WMS.
  x.f->must_apply(a->record.id, command_kind::cancel);
  CHECK(x.at_wms(a->record.id, "EXT-9") == "RELEASED");
  CHECK(x.stock("EXT-9").available == 2);
}

TEST_CASE("external restart: orders' steps taken while the SKU is down reach "
          "the new actor and the WMS once") {
  ext_restart x;
  x.wms->sim.put_sku("EXT-7", 10, 500, true);
  auto kept = x.order("c1", "EXT-7", 2);
  auto dropped = x.order("c2", "EXT-7", 3);
  auto shipped = x.order("c3", "EXT-7", 1);
  REQUIRE_MESSAGE(kept, why(kept));
  REQUIRE_MESSAGE(dropped, why(dropped));
  REQUIRE_MESSAGE(shipped, why(shipped));
  auto k = kept->record.id;
  auto d = dropped->record.id;
  auto s = shipped->record.id;
  x.f->must_apply(s, command_kind::confirm);
  x.f->must_pay(s, 500);
  REQUIRE(x.at_wms(s, "EXT-7") == "BLOCKED");
  x.fail("EXT-7");
  // Journaled now; the SKU's actor is gone, so only the journal has them.
  x.f->must_apply(k, command_kind::confirm);
  x.f->must_apply(d, command_kind::cancel);
  x.f->must_apply(s, command_kind::ship);
  x.f->advance(all_backoffs);
  CHECK(x.health().empty());
  auto v = x.stock("EXT-7");
  CHECK(v.blocked == 2);
  CHECK(v.reserved == 0);
  // The shipped unit counts as gone until a batch snapshot reflects it.
  CHECK(v.available == 7);
  CHECK(x.at_wms(k, "EXT-7") == "BLOCKED");
  CHECK(x.at_wms(d, "EXT-7") == "RELEASED");
  CHECK(x.at_wms(s, "EXT-7") == "SHIPPED");
  CHECK(x.wms->count(wms_op::ship) == 1);
  // The rest of the kept order's life goes through the new actor.
  x.f->must_pay(k, 1000);
  x.f->must_apply(k, command_kind::ship);
  CHECK(x.at_wms(k, "EXT-7") == "SHIPPED");
  CHECK(x.wms->count(wms_op::ship) == 2);
}

TEST_CASE("external restart: an EXTERNAL SKU that keeps failing is left "
          "stopped, and its holds come back when omsd restarts") {
  auto store = std::make_shared<memory_store>();
  auto wms = std::make_shared<fake_wms>();
  wms->sim.put_sku("EXT-3", 3, 1000, true);
  wms->sim.put_sku("EXT-4", 3, 1000, true);
  {
    ext_restart x{store, wms, false};
    REQUIRE(x.order("c1", "EXT-3", 2));
    for (uint32_t i = 0; i < supervisor_state::sku_restarts_max; ++i) {
      x.fail("EXT-3");
      x.f->advance(all_backoffs);
      REQUIRE_MESSAGE(x.try_stock("EXT-3"), "failure " << i + 1);
    }
    x.fail("EXT-3");
    x.f->advance(all_backoffs);
    auto err = x.try_stock("EXT-3");
    REQUIRE_FALSE(err);
    CHECK(code(err) == "UNAVAILABLE");
    CHECK(message_of(err.error()).find("omsd restarts") != std::string::npos);
    auto faults = x.health();
    REQUIRE(faults.size() == 1);
    CHECK_FALSE(faults.front().restarting);
    CHECK(faults.front().from == seller::external);
    CHECK(faults.front().failures == supervisor_state::sku_restarts_max + 1);
    // Every other SKU sells on.
    CHECK(x.order("c2", "EXT-4", 1));
  }
  ext_fixture y{store, wms, false, external_t0 + 3'600'000};
  y.f->sched.run();
  auto v = y.stock("EXT-3");
  CHECK(v.reserved == 2);
  CHECK(v.available == 1);
}

TEST_CASE("external restart: the ledger rebuilt from the journal ships what a "
          "shipped order held, even if the ship never reached the SKU") {
  order_record rec;
  rec.id = "ord_1";
  rec.seller = seller::external;
  rec.status = order_status::shipped;
  order_line line;
  line.sku = "EXT-1";
  line.quantity = 2;
  rec.lines.push_back(line);
  order_record live = rec;
  live.id = "ord_2";
  live.status = order_status::paid;
  // Both reservations were blocked at the WMS; the SKU's actor stopped
  // before it journaled that ord_1 is to ship.
  wms_reservation shipped_row{"ord_1", "EXT-1", 2, {}, 7, 0};
  shipped_row.state.known = wms_state::blocked;
  wms_reservation live_row{"ord_2", "EXT-1", 2, {}, 8, 0};
  live_row.state.known = wms_state::blocked;
  wms_reservation ended_row{"ord_3", "EXT-1", 1, {}, 9, 0};
  ended_row.state.known = wms_state::reserved;
  wms_reservation other_row{"ord_4", "EXT-2", 1, {}, 10, 0};
  sku_id only = "EXT-1";
  auto ledgers = supervisor_steps::external_ledgers(
      0, {rec, live}, {shipped_row, live_row, ended_row, other_row},
      {{"EXT-1", "e1", 11, 5, 0}, {"EXT-2", "e2", 12, 5, 0}}, &only);
  REQUIRE(ledgers.size() == 1);
  auto& ledger = ledgers.at("EXT-1");
  REQUIRE(ledger.find("ord_1") != nullptr);
  CHECK(ledger.find("ord_1")->wanted == wms_state::shipped);
  REQUIRE(ledger.find("ord_2") != nullptr);
  CHECK(ledger.find("ord_2")->wanted == wms_state::blocked);
  CHECK(ledger.find("ord_2")->quantity == 2);
  REQUIRE(ledger.find("ord_3") != nullptr);
  CHECK(ledger.find("ord_3")->wanted == wms_state::released);
  CHECK(ledger.find("ord_4") == nullptr);
  auto v = ledger.view("EXT-1", 0);
  CHECK(v.external.feed_delta == 5);
}
