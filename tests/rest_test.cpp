// Resting orders: an open order's idle actor ends and the order rests on its
// stored record; a command, a request for its actor, or its hold's expiry
// wakes it; a restart restores such orders resting. On virtual time.
#include "tests/fixture.hpp"

#include "actors/customer.hpp"
#include "actors/order.hpp"

using namespace oms;
using namespace oms::test;
using namespace std::chrono_literals;

namespace {

constexpr timestamp_ms rest_t0 = 1'800'000'000'000;

settings resting_settings(std::chrono::milliseconds idle = 1min) {
  auto s = default_test_settings();
  s.order_idle_timeout = idle;
  return s;
}

struct rest_fixture : fixture {
  explicit rest_fixture(
      std::shared_ptr<journal_store> store = std::make_shared<memory_store>(),
      std::chrono::milliseconds idle = 1min)
      : fixture(std::move(store), rest_t0, resting_settings(idle)) {}

  size_t running() { return sys.registry().running(); }

  /// Past the idle timeout, and a sweep (four per timeout) after it.
  void let_rest() {
    advance(1min);
    advance(1min);
  }
};

order_record open_record(order_status status) {
  order_record rec;
  rec.id = "o1";
  rec.customer = "c1";
  rec.seller = seller::internal;
  rec.status = status;
  rec.lines.push_back(order_line{});
  rec.hold_expires_at = 1000;
  return rec;
}

} // namespace

TEST_CASE("which open orders may rest") {
  for (auto status :
       {order_status::confirmed, order_status::paid, order_status::shipped})
    CHECK(may_rest(open_record(status), 5000));
  auto created = open_record(order_status::created);
  CHECK(may_rest(created, 999));
  CHECK_FALSE(may_rest(created, 1000)); // expired: it is cancelling
  for (auto status : {order_status::delivered, order_status::cancelled})
    CHECK_FALSE(may_rest(open_record(status), 0));
  auto external = open_record(order_status::confirmed);
  external.seller = seller::external;
  CHECK_FALSE(may_rest(external, 0));
  auto unborn = open_record(order_status::created);
  unborn.customer.clear(); // its creation is under way
  CHECK_FALSE(may_rest(unborn, 0));
  for (auto kind : {payment_kind::charge, payment_kind::refund}) {
    auto waiting = open_record(order_status::paid);
    payment_record p;
    p.kind = kind;
    p.status = payment_status::pending;
    waiting.payments.push_back(p);
    CHECK_FALSE(may_rest(waiting, 0));
    waiting.payments.back().status = payment_status::succeeded;
    CHECK(may_rest(waiting, 0));
  }
}

TEST_CASE_FIXTURE(rest_fixture,
                  "an idle open order rests and a command wakes it") {
  receive("A", 5, 100);
  auto created = create("c1", {{"A", 2, seller::internal}});
  auto id = created.record.id;
  auto with_actor = running();
  advance(30s); // a sweep finds it idle for 30 s only
  CHECK(running() == with_actor);
  advance(30s);
  CHECK(running() == with_actor - 1);
  // It still holds its units, and reads and audits as it was.
  CHECK(stock("A").reserved == 2);
  auto rec = get_order(id);
  REQUIRE_MESSAGE(rec, why(rec));
  CHECK(rec->status == order_status::created);
  auto report = audit();
  CHECK(report.live_orders == 1);
  CHECK(report.violations.empty());
  CHECK(running() == with_actor - 1); // neither woke it
  // Its old actor is gone; a command through the SUPERVISOR wakes it.
  CHECK(code(call<order_record>(created.handle, confirm_command{})) != "NONE");
  auto confirmed = must_apply(id, command_kind::confirm);
  CHECK(confirmed.status == order_status::confirmed);
  CHECK(running() == with_actor);
  CHECK(stock("A").blocked == 2);
  auto handle = call<order_actor>(sup, atom::find_order_v, id);
  REQUIRE(handle);
  CHECK(*handle != created.handle);
  // It goes on to the end, and its actor ends with it.
  must_pay(id, 200);
  must_apply(id, command_kind::ship);
  CHECK(must_apply(id, command_kind::deliver).status ==
        order_status::delivered);
  CHECK(running() == with_actor - 1);
  CHECK(stock("A").on_hand == 3);
  CHECK(audit().violations.empty());
}

TEST_CASE_FIXTURE(rest_fixture, "an order in use does not rest") {
  receive("A", 5, 100);
  auto id = create("c1", {{"A", 1, seller::internal}}).record.id;
  auto with_actor = running();
  advance(30s);
  must_apply(id, command_kind::confirm);
  advance(45s); // 75 s after its creation, 45 s after its last use
  CHECK(running() == with_actor);
  advance(30s);
  CHECK(running() == with_actor - 1);
}

TEST_CASE_FIXTURE(rest_fixture,
                  "a command that meets the actor as it rests wakes it") {
  receive("A", 5, 100);
  auto created = create("c1", {{"A", 1, seller::internal}});
  auto id = created.record.id;
  advance(59s); // a sweep finds it idle for 59 s only
  // The next sweep's question reaches the order first, then the command:
  // the actor rests with the command in its mailbox, which bounces.
  sched.advance_time(15s);
  order_command cmd;
  cmd.kind = command_kind::confirm;
  auto rh = self->request(sup, caf::infinite, atom::apply_v, id, cmd);
  sched.run();
  caf::expected<order_record> res{make_error(errc::internal, "no reply")};
  rh.receive([&](order_record& rec) { res = std::move(rec); },
             [&](caf::error& err) { res = std::move(err); });
  REQUIRE_MESSAGE(res, why(res));
  CHECK(res->status == order_status::confirmed);
  // It did rest in between: another actor answered.
  auto handle = call<order_actor>(sup, atom::find_order_v, id);
  REQUIRE(handle);
  CHECK(*handle != created.handle);
}

TEST_CASE_FIXTURE(rest_fixture, "asking for a resting order's actor wakes it") {
  receive("A", 5, 100);
  auto id = create("c1", {{"A", 1, seller::internal}}).record.id;
  auto with_actor = running();
  let_rest();
  REQUIRE(running() == with_actor - 1);
  auto handle = call<order_actor>(sup, atom::find_order_v, id);
  REQUIRE_MESSAGE(handle, why(handle));
  CHECK(running() == with_actor);
  auto rec = call<order_record>(*handle, atom::get_v);
  REQUIRE(rec);
  CHECK(rec->id == id);
  CHECK(rec->status == order_status::created);
  CHECK(code(call<order_actor>(sup, atom::find_order_v, order_id{"ord_x"})) ==
        "ORDER_NOT_FOUND");
}

TEST_CASE_FIXTURE(rest_fixture,
                  "a resting order's hold expires: it wakes and cancels") {
  receive("A", 5, 100);
  auto id = create("c1", {{"A", 2, seller::internal}}).record.id;
  auto with_actor = running();
  let_rest();
  REQUIRE(running() == with_actor - 1);
  advance(13min); // 15 minutes after creation
  auto rec = get_order(id);
  REQUIRE(rec);
  CHECK(rec->status == order_status::cancelled);
  CHECK(stock("A").available == 5);
  CHECK(stock("A").reserved == 0);
  CHECK(running() == with_actor - 1);
  CHECK(audit().violations.empty());
}

TEST_CASE_FIXTURE(rest_fixture,
                  "a customer's command reaches its order after it rested") {
  receive("A", 5, 100);
  auto alice = customer("alice");
  create_order_request req{
      "alice", {{"A", 2, seller::internal}}, sample_address(), {}, {}};
  auto rec = call<order_record>(alice, atom::create_v, req, std::string{"k1"});
  REQUIRE_MESSAGE(rec, why(rec));
  let_rest();
  auto paid = call<order_record>(alice, atom::pay_v, rec->id, money{200},
                                 std::string{"tok_visa"}, std::string{"k2"},
                                 uint64_t{0});
  REQUIRE_MESSAGE(paid, why(paid));
  CHECK(paid->status == order_status::paid);
  // Another customer still cannot see it.
  order_command cmd;
  cmd.kind = command_kind::ship;
  cmd.customer = "mallory";
  let_rest();
  CHECK(code(call<order_record>(sup, atom::apply_v, rec->id, cmd)) ==
        "ORDER_NOT_FOUND");
}

TEST_CASE("with resting turned off, every open order keeps its actor") {
  rest_fixture f{std::make_shared<memory_store>(), 0ms};
  f.receive("A", 5, 100);
  f.create("c1", {{"A", 1, seller::internal}});
  auto with_actor = f.running();
  f.advance(10min);
  CHECK(f.running() == with_actor);
}

TEST_CASE("a restart restores the orders that may rest as resting") {
  auto store = std::make_shared<memory_store>();
  order_id created, confirmed;
  {
    rest_fixture f{store};
    f.receive("A", 5, 100);
    created = f.create("c1", {{"A", 1, seller::internal}}).record.id;
    confirmed = f.create("c2", {{"A", 2, seller::internal}}).record.id;
    f.must_apply(confirmed, command_kind::confirm);
  }
  size_t all_actors = 0;
  {
    rest_fixture f{store, 0ms};
    all_actors = f.running();
  }
  rest_fixture f{store};
  CHECK(f.running() == all_actors - 2);
  auto report = f.audit();
  CHECK(report.live_orders == 2);
  CHECK(report.violations.empty());
  CHECK(f.must_apply(confirmed, command_kind::cancel).status ==
        order_status::cancelled);
  // The created one's hold was re-armed from its record: 15 minutes after
  // its creation it is cancelled.
  f.advance(15min);
  auto rec = f.get_order(created);
  REQUIRE(rec);
  CHECK(rec->status == order_status::cancelled);
  CHECK(f.stock("A").available == 5);
  CHECK(f.running() == all_actors - 2);
}

TEST_CASE_FIXTURE(rest_fixture, "a confirmed order that rests is not woken "
                                "when its old hold falls due") {
  receive("A", 5, 100);
  auto id = create("c1", {{"A", 2, seller::internal}}).record.id;
  must_apply(id, command_kind::confirm);
  auto with_actor = running();
  let_rest();
  REQUIRE(running() == with_actor - 1);
  advance(14min); // past the hold armed at its creation
  CHECK(running() == with_actor - 1);
  auto rec = get_order(id);
  REQUIRE(rec);
  CHECK(rec->status == order_status::confirmed);
  CHECK(stock("A").blocked == 2);
}

TEST_CASE_FIXTURE(rest_fixture, "reads do not keep an order from resting") {
  receive("A", 5, 100);
  auto created = create("c1", {{"A", 1, seller::internal}});
  auto with_actor = running();
  advance(30s);
  REQUIRE(call<order_record>(created.handle, atom::get_v)); // as the audit
  CHECK(audit().violations.empty());
  advance(30s);
  CHECK(running() == with_actor - 1);
}

TEST_CASE_FIXTURE(rest_fixture,
                  "a command that is not a client's is refused with an error, "
                  "live or resting") {
  receive("A", 5, 100);
  auto id = create("c1", {{"A", 1, seller::internal}}).record.id;
  CHECK(code(apply(id, command_kind::expire)) == "VALIDATION_FAILED");
  let_rest();
  CHECK(code(apply(id, command_kind::expire)) == "VALIDATION_FAILED");
  CHECK(get_order(id)->status == order_status::created);
}

TEST_CASE_FIXTURE(rest_fixture,
                  "a hold that falls due while its order is going to rest is "
                  "not lost") {
  // The hold timer of an earlier order fires, but the SUPERVISOR reads it
  // only after order A decided to rest and before it reads A's dormant
  // message, at a time A's hold is due too: the expiry it sends A reaches
  // the ended actor, and the dormant message must arm A's hold again.
  receive("A", 5, 100);
  create("c1", {{"A", 1, seller::internal}}); // X: its hold is due at 15:00
  advance(14min);
  auto a = create("c2", {{"A", 2, seller::internal}}); // due at 29:00
  sched.advance_time(14min + 55s); // X's timer fires; nothing runs
  self->send(a.handle, atom::purge_v);
  sched.run_once_lifo();   // A alone: idle since 14:00, its hold not yet due
  sched.advance_time(10s); // 29:05: A's hold is due
  sched.run();
  advance(1s);
  auto rec = get_order(a.record.id);
  REQUIRE(rec);
  CHECK(rec->status == order_status::cancelled);
  CHECK(stock("A").reserved == 0);
}
