// The EXTERNAL seller's WMS in tests: the simulator's core behind a stand-in
// for the WMS GATEWAY, answering at once on virtual time, and a fixture that
// orders from it.
#pragma once

#include "tests/fixture.hpp"

#include "system/wms_sim/sim.hpp"

namespace oms::test {

inline constexpr timestamp_ms external_t0 = 1'800'000'000'000;

/// The simulated WMS and what the stand-in gateway saw.
struct fake_wms {
  int64_t now_ms = external_t0;
  wms_sim::sim sim;
  std::vector<wms_call> calls;
  bool down = false;
  /// The WMS has lost every reservation: each call on one is 404.
  bool forgets = false;
  /// Purges the gateway was asked for.
  int purges = 0;
  /// When set, rewrites the body of each answer (a WMS answering garbage).
  std::function<std::string(wms_op, std::string)> garble;

  fake_wms() : sim(options(), [this] { return now_ms; }) {}

  static wms_sim::options options() {
    wms_sim::options o;
    o.batch_interval_ms = 0; // batches when the test runs them
    o.faults.rate_limit = 0;
    return o;
  }

  size_t count(wms_op op) const {
    size_t n = 0;
    for (auto& c : calls)
      n += c.op == op ? 1 : 0;
    return n;
  }

  std::string status_of(const std::string& reservation) {
    auto* r = sim.find_reservation(reservation);
    return r ? wms_sim::to_string(r->status) : "NONE";
  }
};

using fake_ptr = wms_gateway_actor::stateful_pointer<caf::unit_t>;

// Answers each call from the simulator at once, or WMS_UNAVAILABLE while
// `down` (as the real gateway does once it gives up).
inline wms_gateway_actor::behavior_type
fake_gateway(wms_gateway_actor::pointer, std::shared_ptr<fake_wms> w) {
  return {
      [=](atom::call, const wms_call& c) -> caf::result<wms_response> {
        w->calls.push_back(c);
        if (w->down)
          return make_error(errc::wms_unavailable, "circuit open");
        wms_sim::outcome o;
        if (w->forgets && !c.reservation.empty())
          return wms_response{404,
                              R"({"error":{"code":"UNKNOWN_RESERVATION"}})", 0};
        switch (c.op) {
          case wms_op::read_inventory:
            o = w->sim.inventory(c.sku);
            break;
          case wms_op::reserve:
            o = w->sim.reserve(c.reservation, c.sku, c.quantity);
            break;
          case wms_op::block:
            o = w->sim.block(c.reservation);
            break;
          case wms_op::ship:
            o = w->sim.ship(c.reservation);
            break;
          case wms_op::release:
            o = w->sim.release(c.reservation);
            break;
          case wms_op::reduce:
            o = w->sim.reduce(c.reservation, c.quantity);
            break;
          case wms_op::return_receive:
            o = w->sim.receive_return(c.return_id, c.reservation, c.quantity);
            break;
          case wms_op::return_restock:
            o = w->sim.inspect_return(c.return_id, c.quantity, std::nullopt);
            break;
          case wms_op::return_damaged:
            o = w->sim.inspect_return(c.return_id, std::nullopt, c.quantity);
            break;
          case wms_op::read_events:
            o = w->sim.events(c.cursor, c.limit == 0 ? 100 : c.limit);
            break;
        }
        auto body = o.body.dump();
        if (w->garble)
          body = w->garble(c.op, std::move(body));
        return wms_response{o.status, std::move(body), 0};
      },
      [=](atom::purge) { ++w->purges; },
      [=](atom::stats) { return wms_gateway_stats{}; },
  };
}

inline settings external_settings_for_tests(bool feed) {
  auto s = default_test_settings();
  s.hold_ttl = std::chrono::hours(24); // orders outlive the batches here
  s.external.batch_interval = std::chrono::minutes(15);
  s.external.snapshot_min_interval = std::chrono::seconds(10);
  s.external.feed_interval =
      feed ? std::chrono::milliseconds{5000} : std::chrono::milliseconds{0};
  return s;
}

struct ext_fixture {
  std::shared_ptr<fake_wms> wms;
  std::unique_ptr<fixture> f;

  explicit ext_fixture(std::shared_ptr<journal_store> store,
                       std::shared_ptr<fake_wms> w = nullptr, bool feed = false,
                       timestamp_ms start = external_t0)
      : wms(w ? w : std::make_shared<fake_wms>()) {
    auto wp = wms;
    f = std::make_unique<fixture>(
        store, start, external_settings_for_tests(feed),
        simulated_gateway::config{}, nullptr,
        [wp](caf::actor_system& sys) -> wms_gateway_actor {
          return sys.spawn(fake_gateway, wp);
        });
  }

  caf::expected<created_order> order(const customer_id& c, const sku_id& sku,
                                     int64_t qty) {
    return f->try_create(c, {{sku, qty, seller::external}});
  }

  /// An EXTERNAL order of `qty` `sku` confirmed, paid, shipped and
  /// delivered: its id.
  order_id delivered(const customer_id& c, const sku_id& sku, int64_t qty) {
    auto a = order(c, sku, qty);
    REQUIRE_MESSAGE(a, why(a));
    auto id = a->record.id;
    f->must_apply(id, command_kind::confirm);
    f->must_pay(id, a->record.total_amount);
    f->must_apply(id, command_kind::ship);
    f->must_apply(id, command_kind::deliver);
    return id;
  }

  stock_view stock(const sku_id& sku) {
    auto res = f->call<stock_view>(f->sup, atom::get_v, sku, seller::external);
    REQUIRE_MESSAGE(res, why(res));
    return *res;
  }

  int64_t wms_orderable(const sku_id& sku) {
    return wms->sim.inventory(sku).body.value("orderable", int64_t{-1});
  }
};

} // namespace oms::test
