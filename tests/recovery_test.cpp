// Restarts: the actors are rebuilt from the store with the same SKUs,
// holds, orders, histories and keys; hold timers are re-armed for the time
// left; on every backend.
#include "tests/fixture.hpp"

#include <map>
#include <optional>

#include "system/codec.hpp"
#include "tests/backends.hpp"

using namespace oms;
using namespace oms::test;
using namespace std::chrono_literals;

namespace {

constexpr timestamp_ms t0 = 1'800'000'000'000; // a fixed wall-clock start

struct dump {
  std::map<sku_id, stock_view> skus;
  std::map<order_id, std::string> orders; // encoded records
  audit_report audit;
};

dump take_dump(fixture& f, const std::vector<sku_id>& skus,
               const std::vector<order_id>& orders) {
  dump d;
  for (auto& sku : skus) {
    auto v = f.stock(sku);
    v.as_of = 0;
    d.skus[sku] = v;
  }
  for (auto& id : orders) {
    auto rec = f.get_order(id);
    REQUIRE_MESSAGE(rec, why(rec));
    d.orders[id] = encode_record(*rec);
  }
  d.audit = f.audit();
  return d;
}

void check_same(const dump& a, const dump& b) {
  REQUIRE(a.skus.size() == b.skus.size());
  for (auto& [sku, v] : a.skus) {
    CAPTURE(sku);
    auto& w = b.skus.at(sku);
    CHECK(v.unit_price == w.unit_price);
    CHECK(v.on_hand == w.on_hand);
    CHECK(v.reserved == w.reserved);
    CHECK(v.blocked == w.blocked);
    CHECK(v.available == w.available);
    CHECK(v.received_total == w.received_total);
    CHECK(v.consumed_total == w.consumed_total);
  }
  CHECK(a.orders == b.orders);
  CHECK(a.audit.live_orders == b.audit.live_orders);
  CHECK(b.audit.violations.empty());
}

create_order_request request(const customer_id& c,
                             std::vector<order_item> items) {
  return create_order_request{
      c, std::move(items), fixture::sample_address(), {}, {}};
}

} // namespace

TEST_CASE("a restart rebuilds SKUs, holds, orders, histories and keys") {
  temp_dir dir;
  for (auto& b : backends(dir)) {
    SUBCASE(b.name.c_str()) {
      std::vector<sku_id> skus{"A", "B"};
      std::vector<order_id> ids;
      dump before;
      order_id keyed;
      {
        fixture f{b.open(), t0};
        f.receive("A", 20, 1000);
        f.receive("B", 10, 250);
        auto alice = f.customer("alice");
        auto created = f.call<order_record>(
            alice, atom::create_v,
            request("alice", {{"A", 2, seller::internal}}), std::string{"k1"});
        REQUIRE(created);
        keyed = created->id;
        ids.push_back(keyed);
        // One order in each state, and a partial cancel of a paid order.
        auto confirmed = f.create("bob", {{"A", 1, seller::internal}}).record;
        f.must_apply(confirmed.id, command_kind::confirm);
        auto paid = f.create("bob", {{"A", 3, seller::internal},
                                     {"B", 2, seller::internal}})
                        .record;
        f.must_pay(paid.id, paid.total_amount);
        REQUIRE(f.cancel_lines(paid.id, {{"A", 1, seller::internal}}));
        auto shipped = f.create("carol", {{"B", 1, seller::internal}}).record;
        f.must_pay(shipped.id, shipped.total_amount);
        f.must_apply(shipped.id, command_kind::ship);
        auto delivered = f.create("carol", {{"A", 1, seller::internal}}).record;
        f.must_pay(delivered.id, delivered.total_amount);
        f.must_apply(delivered.id, command_kind::ship);
        f.must_apply(delivered.id, command_kind::deliver);
        auto cancelled = f.create("dave", {{"B", 4, seller::internal}}).record;
        f.must_apply(cancelled.id, command_kind::cancel);
        for (auto* r : {&confirmed, &paid, &shipped, &delivered, &cancelled})
          ids.push_back(r->id);
        before = take_dump(f, skus, ids);
        CHECK(before.audit.violations.empty());
      }
      fixture g{b.open(), t0 + 60'000};
      CHECK(g.recovered->live_orders.size() == 4);
      auto after = take_dump(g, skus, ids);
      check_same(before, after);
      // The recovered key answers a retry with the same order.
      auto alice = g.customer("alice");
      auto retry = g.call<order_record>(
          alice, atom::create_v, request("alice", {{"A", 2, seller::internal}}),
          std::string{"k1"});
      REQUIRE(retry);
      CHECK(retry->id == keyed);
      CHECK(code(g.call<order_record>(
                alice, atom::create_v,
                request("alice", {{"A", 3, seller::internal}}),
                std::string{"k1"})) == "IDEMPOTENCY_KEY_REUSED");
      // The customer's list still holds its orders.
      auto page =
          g.call<order_page>(alice, atom::list_v, uint32_t{10}, std::string{});
      REQUIRE(page);
      CHECK(page->orders.size() == 1);
      // Recovered stock keeps refusing what it cannot cover.
      auto a = g.stock("A");
      auto too_many =
          g.try_create("erin", {{"A", a.available + 1, seller::internal}});
      CHECK(code(too_many) == "INSUFFICIENT_STOCK");
      CHECK(g.try_create("erin", {{"A", a.available, seller::internal}}));
    }
  }
}

TEST_CASE("an order whose hold expired while the system was down is cancelled "
          "at start") {
  temp_dir dir;
  for (auto& b : backends(dir)) {
    SUBCASE(b.name.c_str()) {
      order_id id;
      {
        fixture f{b.open(), t0};
        f.receive("A", 5, 1000);
        id = f.create("alice", {{"A", 3, seller::internal}}).record.id;
      }
      fixture g{b.open(), t0 + 20 * 60'000}; // down for 20 minutes
      auto rec = g.get_order(id);
      REQUIRE(rec);
      CHECK(rec->status == order_status::cancelled);
      CHECK(rec->cancel_reason == "EXPIRED");
      CHECK(g.stock("A").available == 5);
      CHECK(g.audit().violations.empty());
    }
  }
}

TEST_CASE("an order whose hold is still running expires at the right time "
          "after a restart") {
  temp_dir dir;
  for (auto& b : backends(dir)) {
    SUBCASE(b.name.c_str()) {
      order_id id;
      {
        fixture f{b.open(), t0};
        f.receive("A", 5, 1000);
        id = f.create("alice", {{"A", 3, seller::internal}}).record.id;
      }
      fixture g{b.open(), t0 + 5 * 60'000}; // down for 5 minutes
      g.advance(10min - 1s);
      CHECK(g.get_order(id)->status == order_status::created);
      CHECK(g.stock("A").reserved == 3);
      g.advance(1s);
      CHECK(g.get_order(id)->status == order_status::cancelled);
      CHECK(g.stock("A").reserved == 0);
    }
  }
}

TEST_CASE("a refund still owed at a restart is asked for again") {
  temp_dir dir;
  for (auto& b : backends(dir)) {
    SUBCASE(b.name.c_str()) {
      order_id id;
      money total = 0;
      auto gateway = std::make_shared<simulated_gateway>();
      {
        fixture f{b.open(), t0, default_test_settings(), {}, gateway};
        f.receive("A", 5, 1000);
        auto rec = f.create("alice", {{"A", 2, seller::internal}}).record;
        id = rec.id;
        total = rec.total_amount;
        f.must_pay(id, total);
        f.gateway->fail_next(1);
        auto cancelled = f.must_apply(id, command_kind::cancel);
        REQUIRE(pending_payment(cancelled, payment_kind::refund) != nullptr);
      }
      // The gateway (an account outside the process) is the same.
      fixture g{b.open(), t0 + 60'000, default_test_settings(), {}, gateway};
      auto rec = g.get_order(id);
      REQUIRE(rec);
      CHECK(rec->status == order_status::cancelled);
      CHECK(rec->refunded_amount == total);
      CHECK(pending_payment(*rec, payment_kind::refund) == nullptr);
      CHECK(gateway->refunds() == 1);
      CHECK(gateway->refunded_total() == total);
    }
  }
}
