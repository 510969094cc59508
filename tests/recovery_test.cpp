// Restarts: the actors are rebuilt from the store with the same SKUs,
// holds, orders, histories and keys; hold timers are re-armed for the time
// left; on every backend.
#include "tests/fixture.hpp"

#include <map>
#include <optional>

#include "system/store/codec.hpp"
#include "tests/backends.hpp"

using namespace oms;
using namespace oms::test;
using namespace std::chrono_literals;

namespace {

constexpr timestamp_ms recovery_t0 =
    1'800'000'000'000; // a fixed wall-clock start

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
    const auto& case_sku = sku; // CAPTURE cannot name a binding
    CAPTURE(case_sku);
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
        fixture f{b.open(), recovery_t0};
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
      fixture g{b.open(), recovery_t0 + 60'000};
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
        fixture f{b.open(), recovery_t0};
        f.receive("A", 5, 1000);
        id = f.create("alice", {{"A", 3, seller::internal}}).record.id;
      }
      fixture g{b.open(), recovery_t0 + 20 * 60'000}; // down for 20 minutes
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
        fixture f{b.open(), recovery_t0};
        f.receive("A", 5, 1000);
        id = f.create("alice", {{"A", 3, seller::internal}}).record.id;
      }
      fixture g{b.open(), recovery_t0 + 5 * 60'000}; // down for 5 minutes
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
        fixture f{b.open(), recovery_t0, default_test_settings(), {}, gateway};
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
      fixture g{
          b.open(), recovery_t0 + 60'000, default_test_settings(), {}, gateway};
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

TEST_CASE("a restart keeps batches, their expiry, units set aside and the "
          "batches each hold draws from") {
  temp_dir dir;
  for (auto& b : backends(dir)) {
    SUBCASE(b.name.c_str()) {
      auto s = default_test_settings();
      s.hold_ttl = std::chrono::hours(24); // the order outlives a batch
      auto apply = [](fixture& f, stock_change c) {
        auto res = f.call<inbox_result>(f.sup, atom::apply_v, c);
        REQUIRE_MESSAGE(res, why(res));
        REQUIRE(res->outcome == inbox_outcome::applied);
      };
      auto change = [](stock_change_kind kind, int64_t qty,
                       const std::string& lot) {
        stock_change c;
        c.kind = kind;
        c.sku = "MILK";
        c.quantity = qty;
        c.lot = lot;
        return c;
      };
      stock_view before;
      order_id id;
      std::string record;
      {
        fixture f{b.open(), recovery_t0, s};
        auto soon = change(stock_change_kind::receipt, 5, "L-SOON");
        soon.unit_price = 6000;
        soon.expires_at = recovery_t0 + 2 * 3600'000;
        apply(f, soon);
        auto late = change(stock_change_kind::receipt, 4, "L-LATE");
        late.expires_at = recovery_t0 + 10 * 3600'000;
        apply(f, late);
        apply(f, change(stock_change_kind::receipt, 3, "L-KEEP")); // no expiry
        id = f.create("alice", {{"MILK", 7, seller::internal}}).record.id;
        auto damaged = change(stock_change_kind::set_aside, 1, "L-LATE");
        damaged.reason = unallocatable_reason::damaged;
        apply(f, damaged);
        auto held_back = change(stock_change_kind::set_aside, 2, "L-KEEP");
        held_back.reason = unallocatable_reason::quarantined;
        apply(f, held_back);
        auto released = change(stock_change_kind::return_aside, 1, "L-KEEP");
        released.reason = unallocatable_reason::quarantined;
        apply(f, released);
        auto count = change(stock_change_kind::adjustment, -1, "L-KEEP");
        count.note = "cycle count";
        apply(f, count);
        // Cancelling 3 gives back the last units first: L-LATE's 2, then 1
        // of L-SOON.
        REQUIRE(f.cancel_lines(id, {{"MILK", 3, seller::internal}}));
        before = f.stock("MILK");
        auto rec = f.get_order(id);
        REQUIRE(rec);
        record = encode_record(*rec);
        CHECK(f.audit().violations.empty());
      }
      REQUIRE(before.batches.size() == 3);
      CHECK(before.batches[0].lot == "L-SOON");
      CHECK(before.batches[0].held == 4);
      CHECK(before.batches[1].lot == "L-LATE");
      CHECK(before.batches[1].held == 0);
      CHECK(before.batches[1].unallocatable[0] == 1); // DAMAGED
      CHECK(before.batches[2].lot == "L-KEEP");
      CHECK(before.batches[2].on_hand == 2);
      CHECK(before.batches[2].unallocatable[1] == 1); // QUARANTINED
      CHECK(before.available == 1 + 3 + 1);
      fixture g{b.open(), recovery_t0 + 60'000, s};
      auto after = g.stock("MILK");
      CHECK(after.on_hand == before.on_hand);
      CHECK(after.reserved == before.reserved);
      CHECK(after.available == before.available);
      CHECK(after.unallocatable_by_reason == before.unallocatable_by_reason);
      CHECK(after.received_total == before.received_total);
      CHECK(after.adjusted_total == before.adjusted_total);
      REQUIRE(after.batches.size() == before.batches.size());
      for (size_t i = 0; i < before.batches.size(); ++i) {
        auto& x = before.batches[i];
        auto& y = after.batches[i];
        CAPTURE(x.lot);
        CHECK(y.lot == x.lot);
        CHECK(y.expires_at == x.expires_at);
        CHECK(y.received_at == x.received_at);
        CHECK(y.on_hand == x.on_hand);
        CHECK(y.held == x.held);
        CHECK(y.available == x.available);
        CHECK(y.unallocatable == x.unallocatable);
      }
      auto rec = g.get_order(id);
      REQUIRE(rec);
      CHECK(encode_record(*rec) == record);
      // The recovered batch expires on time: its one unheld unit leaves sale.
      g.advance(2h - 60s - 1ms);
      CHECK(g.stock("MILK").available == before.available);
      g.advance(1ms);
      auto expired = g.stock("MILK");
      CHECK(expired.available == before.available - 1);
      CHECK(expired.unallocatable_by_reason[2] == 1); // EXPIRED
      CHECK(g.audit().violations.empty());
    }
  }
}
