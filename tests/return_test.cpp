// Returns (RMA): the planner's checks, and the ORDER actor with the SKU
// actors, the INBOX, the payment gateway, virtual time and a restart.
#include "tests/backends.hpp"
#include "tests/fixture.hpp"

#include "actors/order_plan.hpp"

using namespace oms;
using namespace oms::test;
using namespace std::chrono_literals;

namespace {

constexpr timestamp_ms ret_t0 = 1'800'000'000'000;
constexpr auto window = std::chrono::milliseconds{30 * day};

return_command request_of(std::vector<return_item> lines,
                          std::string key = {}) {
  return_command cmd;
  cmd.step = return_step::request;
  cmd.lines = std::move(lines);
  cmd.client_key = std::move(key);
  return cmd;
}

// A delivered order of 4 A (2 from lot E, 2 from lot N) and 2 B, paid.
order_record delivered_sample() {
  order_record rec;
  rec.id = "o1";
  rec.customer = "c1";
  rec.status = order_status::delivered;
  rec.lines = {
      order_line{"A", 4, 1000, 0, 4, {{"E", 2, ret_t0 + day}, {"N", 2, 0}}},
      order_line{"B", 2, 250, 0, 2, {}}};
  rec.total_amount = 4500;
  rec.paid_amount = 4500;
  rec.history.push_back(history_entry{ret_t0, order_status::shipped,
                                      order_status::delivered, "deliver", 0});
  rec.version = 5;
  return rec;
}

std::string field_of(const planned<return_plan>& p) {
  return p ? std::string{} : p.refusal().details_json;
}

using strings = std::vector<std::string>;

} // namespace

TEST_CASE("a return is requested for delivered units within the window") {
  auto rec = delivered_sample();
  auto plan = plan_return(rec, request_of({{"A", 3, "too big", 0, 0}}), "",
                          ret_t0 + day, window);
  REQUIRE(plan);
  CHECK(plan->changes.empty());
  auto& next = plan->plan.next;
  REQUIRE(next.returns.size() == 1);
  auto& r = next.returns[0];
  CHECK(r.id == "ret_1");
  CHECK(r.status == return_status::requested);
  CHECK(r.lines[0].reason == "too big");
  // The units come back to the batches they left, with their expiry.
  CHECK(names(r.lines[0].lots) == strings{"E:2", "N:1"});
  CHECK(r.lines[0].lots[0].expires_at == ret_t0 + day);
  CHECK(next.status == order_status::delivered);
  CHECK(next.history.back().reason == "return ret_1 requested");
  // A second return takes the units left, from the batches left.
  auto second = plan_return(next, request_of({{"A", 1, "", 0, 0}}), "",
                            ret_t0 + day, window);
  REQUIRE(second);
  CHECK(names(second->plan.next.returns[1].lines[0].lots) == strings{"N:1"});
  // No more than was delivered and not returned yet.
  auto more = plan_return(next, request_of({{"A", 2, "", 0, 0}}), "",
                          ret_t0 + day, window);
  CHECK(field_of(more) == R"({"field":"lines[0].quantity"})");
}

TEST_CASE("a return is refused outside its window, for an order not "
          "delivered, or for lines the order does not have") {
  auto rec = delivered_sample();
  auto late = plan_return(rec, request_of({{"A", 1, "", 0, 0}}), "",
                          ret_t0 + 30 * day + 1, window);
  CHECK(late.refusal().code == errc::return_window_closed);
  CHECK(plan_return(rec, request_of({{"A", 1, "", 0, 0}}), "",
                    ret_t0 + 30 * day, window));
  for (auto status : {order_status::paid, order_status::shipped,
                      order_status::cancelled, order_status::created}) {
    CAPTURE(to_string(status));
    auto other = rec;
    other.status = status;
    CHECK(
        plan_return(other, request_of({{"A", 1, "", 0, 0}}), "", ret_t0, window)
            .refusal()
            .code == errc::invalid_transition);
  }
  CHECK(field_of(plan_return(rec, request_of({{"Z", 1, "", 0, 0}}), "", ret_t0,
                             window)) == R"({"field":"lines[0].sku"})");
  CHECK(field_of(plan_return(
            rec, request_of({{"A", 1, "", 0, 0}, {"A", 1, "", 0, 0}}), "",
            ret_t0, window)) == R"({"field":"lines[1].sku"})");
  CHECK(field_of(plan_return(rec, request_of({{"A", 0, "", 0, 0}}), "", ret_t0,
                             window)) == R"({"field":"lines[0].quantity"})");
  CHECK(field_of(plan_return(rec, request_of({}), "", ret_t0, window)) ==
        R"({"field":"lines"})");
  // An unknown return: NOT_FOUND.
  CHECK(plan_return(rec, step_of(return_step::receive, "ret_9"), "", ret_t0,
                    window)
            .refusal()
            .code == errc::not_found);
}

TEST_CASE("an order takes a bounded number of returns") {
  auto rec = delivered_sample();
  rec.lines[0].quantity = rec.lines[0].shipped_quantity = 1000;
  for (size_t i = 0; i < max_returns_per_order; ++i) {
    auto next =
        plan_return(rec, request_of({{"A", 1, "", 0, 0}}), "", ret_t0, window);
    REQUIRE(next);
    rec = next->plan.next;
  }
  CHECK(field_of(plan_return(rec, request_of({{"A", 1, "", 0, 0}}), "", ret_t0,
                             window)) == R"({"field":"lines"})");
}

TEST_CASE("a return's key answers its retry and refuses another request") {
  auto rec = delivered_sample();
  auto first = plan_return(rec, request_of({{"B", 1, "", 0, 0}}, "k1"), "fp1",
                           ret_t0, window);
  REQUIRE(first);
  auto& next = first->plan.next;
  CHECK(plan_return(next, request_of({{"B", 1, "", 0, 0}}, "k1"), "fp1", ret_t0,
                    window)
            ->answered);
  CHECK(plan_return(next, request_of({{"B", 2, "", 0, 0}}, "k1"), "fp2", ret_t0,
                    window)
            .refusal()
            .code == errc::idempotency_key_reused);
}

TEST_CASE("receiving and inspecting a return plan the stock changes under "
          "stable event ids, and inspection owes a refund of the value") {
  auto rec = delivered_sample();
  auto req =
      plan_return(rec, request_of({{"A", 3, "", 0, 0}}), "", ret_t0, window);
  REQUIRE(req);
  auto got = plan_return(req->plan.next, step_of(return_step::receive, "ret_1"),
                         "", ret_t0 + 1, window);
  REQUIRE(got);
  REQUIRE(got->changes.size() == 2);
  CHECK(got->changes[0].kind == stock_change_kind::customer_return);
  CHECK(got->changes[0].lot == "E");
  CHECK(got->changes[0].quantity == 2);
  CHECK(got->changes[0].expires_at == ret_t0 + day);
  CHECK(got->changes[0].event_id == "ret:o1:ret_1:receive:0:0");
  CHECK(got->changes[1].event_id == "ret:o1:ret_1:receive:0:1");
  CHECK(got->plan.next.returns[0].status == return_status::received);
  // Receiving twice is refused.
  CHECK(plan_return(got->plan.next, step_of(return_step::receive, "ret_1"), "",
                    ret_t0 + 2, window)
            .refusal()
            .code == errc::invalid_transition);
  auto received = got->plan.next;
  // Every line inspected, restock + damaged = the units received.
  CHECK(field_of(plan_return(
            received,
            step_of(return_step::inspect, "ret_1", {{"A", 0, "", 2, 0}}), "",
            ret_t0 + 2, window)) == R"({"field":"lines[0].restock"})");
  CHECK(field_of(plan_return(
            received,
            step_of(return_step::inspect, "ret_1", {{"B", 0, "", 1, 0}}), "",
            ret_t0 + 2, window)) == R"({"field":"lines[0].sku"})");
  auto inspected = plan_return(
      received, step_of(return_step::inspect, "ret_1", {{"A", 0, "", 2, 1}}),
      "", ret_t0 + 2, window);
  REQUIRE(inspected);
  auto& changes = inspected->changes;
  REQUIRE(changes.size() == 2);
  CHECK(changes[0].kind == stock_change_kind::return_aside);
  CHECK(changes[0].lot == "E");
  CHECK(changes[0].quantity == 2);
  CHECK(changes[1].kind == stock_change_kind::reclassify);
  CHECK(changes[1].reason == unallocatable_reason::damaged);
  CHECK(changes[1].lot == "N");
  CHECK(changes[1].quantity == 1);
  auto& next = inspected->plan.next;
  CHECK(next.returns[0].status == return_status::inspected);
  CHECK(next.returns[0].refund_amount == 3000);
  REQUIRE(next.payments.size() == 1);
  CHECK(next.payments[0].kind == payment_kind::refund);
  CHECK(next.payments[0].status == payment_status::pending);
  CHECK(next.payments[0].amount == 3000);
  CHECK(next.returns[0].refund_key == next.payments[0].gateway_key);
  CHECK(returned_amount(next) == 3000);
  CHECK(amount_due(next) == 0);
  // Rejecting is for a return whose units have not arrived.
  CHECK(plan_return(received, step_of(return_step::reject, "ret_1"), "",
                    ret_t0 + 2, window)
            .refusal()
            .code == errc::invalid_transition);
}

namespace {

struct return_fixture : fixture {
  return_fixture() : fixture(std::make_shared<memory_store>(), ret_t0) {
    receive_lot("A", 2, "E", ret_t0 + 5 * day);
    receive_lot("A", 8, "N", 0);
  }

  void receive_lot(const sku_id& sku, int64_t qty, const std::string& lot,
                   timestamp_ms expires_at) {
    stock_change c;
    c.kind = stock_change_kind::receipt;
    c.sku = sku;
    c.quantity = qty;
    c.unit_price = 1000;
    c.lot = lot;
    c.expires_at = expires_at;
    auto res = call<inbox_result>(sup, atom::apply_v, c);
    REQUIRE_MESSAGE(res, why(res));
  }

  caf::expected<order_record> step(const order_id& id, return_command cmd) {
    return call<order_record>(sup, atom::apply_v, id, cmd);
  }

  // A delivered order of `qty` A, paid: its record.
  order_record delivered(int64_t qty) {
    auto rec = create("c1", {{"A", qty, seller::internal}}).record;
    must_pay(rec.id, rec.total_amount);
    must_apply(rec.id, command_kind::ship);
    return must_apply(rec.id, command_kind::deliver);
  }

  int64_t set_aside(const sku_id& sku, unallocatable_reason r) {
    return stock(sku).unallocatable_by_reason.at(static_cast<size_t>(r));
  }
};

} // namespace

TEST_CASE_FIXTURE(return_fixture,
                  "a return received, inspected and refunded: restocked units "
                  "sell again, damaged ones are set aside") {
  auto rec = delivered(4);
  CHECK(stock("A").on_hand == 6);
  auto asked = step(rec.id, request_of({{"A", 3, "wrong size", 0, 0}}));
  REQUIRE_MESSAGE(asked, why(asked));
  CHECK(asked->status == order_status::delivered);
  CHECK(asked->returns.at(0).status == return_status::requested);
  // The delivered order's actor ended again once it answered.
  CHECK(code(call<order_actor>(sup, atom::find_order_v, rec.id)) ==
        "ORDER_NOT_FOUND");
  auto got = step(rec.id, step_of(return_step::receive, "ret_1"));
  REQUIRE_MESSAGE(got, why(got));
  auto a = stock("A");
  CHECK(a.on_hand == 9);
  CHECK(a.available == 6);
  CHECK(set_aside("A", unallocatable_reason::quarantined) == 3);
  CHECK(a.adjusted_total == 3);
  CHECK(audit().violations.empty());
  auto done = step(
      rec.id, step_of(return_step::inspect, "ret_1", {{"A", 0, "", 2, 1}}));
  REQUIRE_MESSAGE(done, why(done));
  CHECK(done->returns.at(0).status == return_status::refunded);
  CHECK(done->refunded_amount == 3000);
  CHECK(returned_amount(*done) == 3000);
  CHECK(amount_due(*done) == 0);
  CHECK(gateway->refunded_total() == 3000);
  a = stock("A");
  CHECK(a.on_hand == 9);
  CHECK(a.available == 8);
  CHECK(set_aside("A", unallocatable_reason::quarantined) == 0);
  CHECK(set_aside("A", unallocatable_reason::damaged) == 1);
  CHECK(audit().violations.empty());
  // A restocked unit sells again.
  CHECK(try_create("c2", {{"A", 8, seller::internal}}));
  // Everything delivered is returned or being returned: no more.
  CHECK(code(step(rec.id, request_of({{"A", 2, "", 0, 0}}))) ==
        "VALIDATION_FAILED");
  CHECK(step(rec.id, request_of({{"A", 1, "", 0, 0}})));
}

TEST_CASE_FIXTURE(return_fixture,
                  "units returned after their batch sold out come back into "
                  "it, and stay out of sale once it expired") {
  // The order takes lot E's two units (first to expire) and one of N.
  auto rec = delivered(3);
  REQUIRE(rec.lines[0].lots.size() == 2);
  auto before = stock("A");
  for (auto& b : before.batches)
    CHECK(b.lot != "E"); // sold out and gone
  REQUIRE(step(rec.id, request_of({{"A", 2, "", 0, 0}})));
  REQUIRE(step(rec.id, step_of(return_step::receive, "ret_1")));
  auto a = stock("A");
  auto e = std::find_if(a.batches.begin(), a.batches.end(),
                        [](const batch_view& b) { return b.lot == "E"; });
  REQUIRE(e != a.batches.end());
  CHECK(e->expires_at == ret_t0 + 5 * day);
  CHECK(e->on_hand == 2);
  // The batch expires before the inspection: restocked units do not sell.
  advance(std::chrono::hours(24 * 6));
  auto done = step(
      rec.id, step_of(return_step::inspect, "ret_1", {{"A", 0, "", 2, 0}}));
  REQUIRE_MESSAGE(done, why(done));
  a = stock("A");
  CHECK(a.available == 7);
  CHECK(set_aside("A", unallocatable_reason::expired) == 2);
  CHECK(audit().violations.empty());
}

TEST_CASE_FIXTURE(return_fixture,
                  "a receipt asked again after its stock change went through "
                  "counts the units once") {
  auto rec = delivered(2);
  REQUIRE(step(rec.id, request_of({{"A", 1, "", 0, 0}})));
  // The stock change of the receipt went through, the order did not record
  // it (as if omsd stopped in between).
  auto plan =
      plan_return(*get_order(rec.id), step_of(return_step::receive, "ret_1"),
                  "", ret_t0, window);
  REQUIRE(plan);
  REQUIRE(plan->changes.size() == 1);
  REQUIRE(call<inbox_result>(sup, atom::apply_v, plan->changes[0]));
  CHECK(stock("A").on_hand == 9);
  // The receipt asked again finds it done.
  auto got = step(rec.id, step_of(return_step::receive, "ret_1"));
  REQUIRE_MESSAGE(got, why(got));
  CHECK(stock("A").on_hand == 9);
  CHECK(set_aside("A", unallocatable_reason::quarantined) == 1);
  CHECK(audit().violations.empty());
}

TEST_CASE_FIXTURE(return_fixture,
                  "a rejected return changes no stock and frees its units to "
                  "be returned again") {
  auto rec = delivered(2);
  REQUIRE(step(rec.id, request_of({{"A", 2, "", 0, 0}})));
  auto no = step(rec.id, [] {
    auto cmd = step_of(return_step::reject, "ret_1");
    cmd.reason = "outside policy";
    return cmd;
  }());
  REQUIRE_MESSAGE(no, why(no));
  CHECK(no->returns[0].status == return_status::rejected);
  CHECK(no->returns[0].reject_reason == "outside policy");
  CHECK(stock("A").on_hand == 8);
  CHECK(code(step(rec.id, step_of(return_step::receive, "ret_1"))) ==
        "INVALID_TRANSITION");
  CHECK(step(rec.id, request_of({{"A", 2, "", 0, 0}})));
  // Another customer's order is not found.
  auto other = request_of({{"A", 1, "", 0, 0}});
  other.customer = "c9";
  CHECK(code(step(rec.id, other)) == "ORDER_NOT_FOUND");
}

TEST_CASE_FIXTURE(return_fixture,
                  "a return's refund the gateway does not answer is retried "
                  "until it lands") {
  auto rec = delivered(2);
  REQUIRE(step(rec.id, request_of({{"A", 2, "", 0, 0}})));
  REQUIRE(step(rec.id, step_of(return_step::receive, "ret_1")));
  gateway->fail_next(1);
  auto done = step(
      rec.id, step_of(return_step::inspect, "ret_1", {{"A", 0, "", 2, 0}}));
  REQUIRE_MESSAGE(done, why(done));
  CHECK(done->returns[0].status == return_status::inspected);
  CHECK(done->refunded_amount == 0);
  // The order's actor stays while it owes the refund.
  CHECK(call<order_actor>(sup, atom::find_order_v, rec.id));
  advance(2s);
  auto later = *get_order(rec.id);
  CHECK(later.returns[0].status == return_status::refunded);
  CHECK(later.refunded_amount == 2000);
  CHECK(gateway->refunded_total() == 2000);
}

TEST_CASE("a return survives a restart and goes on after it") {
  temp_dir dir;
  for (auto& b : backends(dir)) {
    SUBCASE(b.name.c_str()) {
      order_id id;
      std::shared_ptr<simulated_gateway> gateway;
      {
        fixture f{b.open(), ret_t0};
        gateway = f.gateway;
        f.receive("A", 5, 1000);
        auto rec = f.create("c1", {{"A", 2, seller::internal}}).record;
        id = rec.id;
        f.must_pay(id, rec.total_amount);
        f.must_apply(id, command_kind::ship);
        f.must_apply(id, command_kind::deliver);
        auto asked = f.call<order_record>(
            f.sup, atom::apply_v, id,
            request_of({{"A", 2, "damaged box", 0, 0}}, "rk"));
        REQUIRE_MESSAGE(asked, why(asked));
      }
      // The same gateway: it knows the charge the refund refunds.
      fixture g{b.open(), ret_t0 + 1000, default_test_settings(), {}, gateway};
      auto rec = g.get_order(id);
      REQUIRE(rec);
      REQUIRE(rec->returns.size() == 1);
      CHECK(rec->returns[0].lines[0].reason == "damaged box");
      CHECK(rec->returns[0].client_key == "rk");
      // The key still answers its retry.
      auto again = g.call<order_record>(
          g.sup, atom::apply_v, id,
          request_of({{"A", 2, "damaged box", 0, 0}}, "rk"));
      REQUIRE(again);
      CHECK(again->returns.size() == 1);
      REQUIRE(g.call<order_record>(g.sup, atom::apply_v, id,
                                   step_of(return_step::receive, "ret_1")));
      auto done = g.call<order_record>(
          g.sup, atom::apply_v, id,
          step_of(return_step::inspect, "ret_1", {{"A", 0, "", 1, 1}}));
      REQUIRE_MESSAGE(done, why(done));
      CHECK(done->returns[0].status == return_status::refunded);
      CHECK(g.stock("A").on_hand == 5);
      CHECK(g.stock("A").available == 4);
      CHECK(g.audit().violations.empty());
    }
  }
}

TEST_CASE("a receipt or an inspection is decided and journaled first: asked "
          "again, it completes as decided") {
  auto rec = delivered_sample();
  auto req =
      plan_return(rec, request_of({{"A", 3, "", 0, 0}}), "", ret_t0, window);
  REQUIRE(req);
  auto got = plan_return(req->plan.next, step_of(return_step::receive, "ret_1"),
                         "", ret_t0, window);
  REQUIRE(got);
  REQUIRE(got->intent);
  CHECK(got->intent->next.returns[0].status == return_status::receiving);
  CHECK(got->plan.next.returns[0].status == return_status::received);
  // The intent journaled, the changes failed: the receipt is asked again
  // and completes with the same changes; it can no longer be rejected.
  auto receiving = got->intent->next;
  auto again = plan_return(receiving, step_of(return_step::receive, "ret_1"),
                           "", ret_t0, window);
  REQUIRE(again);
  CHECK_FALSE(again->intent);
  REQUIRE(again->changes.size() == got->changes.size());
  CHECK(again->changes[0].event_id == got->changes[0].event_id);
  CHECK(plan_return(receiving, step_of(return_step::reject, "ret_1"), "",
                    ret_t0, window)
            .refusal()
            .code == errc::invalid_transition);
  // The inspection recorded first is the one completed, whatever a retry
  // says.
  auto inspect =
      plan_return(got->plan.next,
                  step_of(return_step::inspect, "ret_1", {{"A", 0, "", 3, 0}}),
                  "", ret_t0, window);
  REQUIRE(inspect);
  REQUIRE(inspect->intent);
  auto inspecting = inspect->intent->next;
  CHECK(inspecting.returns[0].status == return_status::inspecting);
  CHECK(inspecting.returns[0].lines[0].restocked == 3);
  auto retry = plan_return(
      inspecting, step_of(return_step::inspect, "ret_1", {{"A", 0, "", 0, 3}}),
      "", ret_t0, window);
  REQUIRE(retry);
  CHECK(retry->plan.next.returns[0].lines[0].restocked == 3);
  CHECK(retry->plan.next.returns[0].lines[0].damaged == 0);
  REQUIRE_FALSE(retry->changes.empty());
  CHECK(retry->changes[0].kind == stock_change_kind::return_aside);
}

TEST_CASE("a return worth more than can still be refunded is a conflict") {
  auto rec = delivered_sample();
  rec.refunded_amount = 4000; // refunded already, e.g. a goodwill refund
  auto req =
      plan_return(rec, request_of({{"A", 1, "", 0, 0}}), "", ret_t0, window);
  REQUIRE(req);
  auto got = plan_return(req->plan.next, step_of(return_step::receive, "ret_1"),
                         "", ret_t0, window);
  REQUIRE(got);
  auto no =
      plan_return(got->plan.next,
                  step_of(return_step::inspect, "ret_1", {{"A", 0, "", 1, 0}}),
                  "", ret_t0, window);
  CHECK(no.refusal().code == errc::conflict);
}

TEST_CASE_FIXTURE(return_fixture,
                  "returned units of a SKU with several batches, one of them "
                  "unnamed, go back to sale") {
  receive("A", 3, 0); // into the batch "" beside E and N
  auto rec = delivered(12);
  REQUIRE(step(rec.id, request_of({{"A", 12, "", 0, 0}})));
  REQUIRE(step(rec.id, step_of(return_step::receive, "ret_1")));
  auto done = step(
      rec.id, step_of(return_step::inspect, "ret_1", {{"A", 0, "", 12, 0}}));
  REQUIRE_MESSAGE(done, why(done));
  CHECK(stock("A").available == 13);
  CHECK(set_aside("A", unallocatable_reason::quarantined) == 0);
  CHECK(audit().violations.empty());
}

TEST_CASE_FIXTURE(return_fixture,
                  "a return's stock change that is refused is not recorded "
                  "under its id: asked again later, it applies") {
  stock_change c;
  c.kind = stock_change_kind::reclassify;
  c.sku = "A";
  c.lot = "N";
  c.quantity = 1;
  c.reason = unallocatable_reason::damaged;
  c.source = return_source;
  c.event_id = "ret:o9:ret_1:damaged:0:0";
  // Nothing is QUARANTINED yet: refused, as an error.
  auto first = call<inbox_result>(sup, atom::apply_v, c);
  CHECK(code(first) == "INSUFFICIENT_STOCK");
  // Once a unit is QUARANTINED, the same id applies.
  stock_change aside;
  aside.kind = stock_change_kind::set_aside;
  aside.sku = "A";
  aside.lot = "N";
  aside.quantity = 1;
  aside.reason = unallocatable_reason::quarantined;
  REQUIRE(call<inbox_result>(sup, atom::apply_v, aside));
  auto second = call<inbox_result>(sup, atom::apply_v, c);
  REQUIRE_MESSAGE(second, why(second));
  CHECK(second->outcome == inbox_outcome::applied);
  CHECK(set_aside("A", unallocatable_reason::damaged) == 1);
}
