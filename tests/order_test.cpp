// The ORDER actor and its state machine, driven through the SUPERVISOR on
// the deterministic scheduler and virtual time.
#include "tests/fixture.hpp"

#include <nlohmann/json.hpp>

#include "actors/order_machine.hpp"
#include "actors/validation.hpp"

using namespace oms;
using namespace oms::test;
using namespace std::chrono_literals;

namespace {

order_item item(const std::string& sku, int64_t qty) {
  return order_item{sku, qty, seller::internal};
}

// Runs `cmds` from a fresh order and returns it in the reached state.
order_record order_in(fixture& f, order_status target) {
  auto rec = f.create("c1", {item("A", 2), item("B", 1)}).record;
  auto total = rec.total_amount;
  switch (target) {
    case order_status::created:
      return rec;
    case order_status::confirmed:
      return f.must_apply(rec.id, command_kind::confirm);
    case order_status::paid:
      f.must_apply(rec.id, command_kind::confirm);
      return f.must_apply(rec.id, command_kind::pay, total);
    case order_status::shipped:
      f.must_apply(rec.id, command_kind::confirm);
      f.must_apply(rec.id, command_kind::pay, total);
      return f.must_apply(rec.id, command_kind::ship);
    case order_status::delivered:
      f.must_apply(rec.id, command_kind::confirm);
      f.must_apply(rec.id, command_kind::pay, total);
      f.must_apply(rec.id, command_kind::ship);
      return f.must_apply(rec.id, command_kind::deliver);
    case order_status::cancelled:
      return f.must_apply(rec.id, command_kind::cancel);
    case order_status::partially_shipped: {
      f.must_apply(rec.id, command_kind::confirm);
      f.must_apply(rec.id, command_kind::pay, total);
      auto part = f.ship_lines(rec.id, {item("A", 1)});
      REQUIRE(part);
      return *part;
    }
  }
  return rec;
}

struct stock_fixture : fixture {
  stock_fixture() {
    receive("A", 10, 1000);
    receive("B", 5, 250);
  }
};

// Limits the startup check refuses (100 lines x 10^9 units x 10^10): what an
// order system would run with if nothing checked them, so that what is
// tested is the ORDER actor's own check, not the bound.
settings unbounded_settings() {
  auto s = default_test_settings();
  s.limits.line_quantity_max = 1'000'000'000;
  return s;
}

// Two SKUs of 10^9 units at the highest unit price, under unbounded limits.
struct big_money_fixture : fixture {
  big_money_fixture() : fixture(unbounded_settings()) {
    REQUIRE(
        check_money_bounds(ctx->settings.limits, ctx->settings.cart_lines_max));
    receive("GOLD", 1'000'000'000, unit_price_max_default);
    receive("SILVER", 1'000'000'000, unit_price_max_default);
  }

  void check_untouched(const sku_id& sku) {
    auto v = stock(sku);
    CHECK(v.on_hand == 1'000'000'000);
    CHECK(v.available == 1'000'000'000);
    CHECK(v.reserved == 0);
    CHECK(v.blocked == 0);
  }
};

} // namespace

TEST_CASE_FIXTURE(big_money_fixture,
                  "money: an order whose total would overflow is refused with "
                  "VALIDATION_FAILED and nothing is reserved or journaled") {
  // Proves the reported defect is gone: 10^9 units at 10^10 wrapped to a
  // negative total with nothing due. Now the order is refused naming
  // items, every granted reservation is released, and the journal, the
  // audit and the stock show no trace of it; likewise for two lines that
  // fit alone but not together.
  auto before = store->last_seq();
  for (auto items : std::vector<std::vector<order_item>>{
           {item("GOLD", 1'000'000'000)},
           {item("GOLD", 500'000'000), item("SILVER", 500'000'000)},
           {item("SILVER", 1), item("GOLD", 1'000'000'000)}}) {
    auto res = try_create("c1", items);
    INFO(items.size() << " line(s)");
    REQUIRE(code(res) == "VALIDATION_FAILED");
    CHECK(nlohmann::json::parse(details_of(res.error()))["field"] == "items");
    check_untouched("GOLD");
    check_untouched("SILVER");
  }
  CHECK(store->last_seq() == before);
  auto report = audit();
  CHECK(report.violations.empty());
  CHECK(report.live_orders == 0);
  // The units are there for an order that fits.
  auto ok = create("c1", {item("GOLD", 1)}).record;
  CHECK(ok.total_amount == unit_price_max_default);
}

TEST_CASE_FIXTURE(big_money_fixture,
                  "money: an order at the edge of the amount range is priced "
                  "exactly, paid in full and partly refunded exactly") {
  // Proves the largest totals are kept, not refused: 922,337,203 units at
  // 10^10 is 9,223,372,030,000,000,000, 5,807 paise below the int64 limit.
  auto rec = create("c1", {item("GOLD", 922'337'203)}).record;
  CHECK(rec.total_amount == 9'223'372'030'000'000'000);
  CHECK(amount_due(rec) == rec.total_amount);
  // Paying 0, what the wrapped order asked for, is refused.
  CHECK(code(pay(rec.id, 0, "tok_visa")) == "AMOUNT_MISMATCH");
  auto paid = must_pay(rec.id, rec.total_amount);
  CHECK(paid.status == order_status::paid);
  CHECK(paid.paid_amount == rec.total_amount);
  CHECK(gateway->charged_total() == rec.total_amount);
  auto after = cancel_lines(rec.id, {item("GOLD", 22'337'203)});
  REQUIRE_MESSAGE(after, why(after));
  CHECK(after->total_amount == 9'000'000'000'000'000'000);
  CHECK(gateway->refunded_total() == money{223'372'030'000'000'000});
  CHECK(stock("GOLD").blocked == 900'000'000);
  CHECK(audit().violations.empty());
}

TEST_CASE_FIXTURE(stock_fixture,
                  "creating an order reserves every line and prices it") {
  auto created = create("c1", {item("A", 3), item("B", 2)});
  auto& rec = created.record;
  CHECK(rec.id.rfind("ord_", 0) == 0);
  CHECK(rec.id.size() == 30);
  CHECK(rec.status == order_status::created);
  CHECK(rec.customer == "c1");
  REQUIRE(rec.lines.size() == 2);
  CHECK(rec.lines[0].unit_price == 1000);
  CHECK(rec.lines[1].unit_price == 250);
  CHECK(rec.total_amount == 3 * 1000 + 2 * 250);
  CHECK(rec.created_at > 0);
  CHECK(rec.hold_expires_at == rec.created_at + 15 * 60 * 1000);
  CHECK(stock("A").reserved == 3);
  CHECK(stock("A").available == 7);
  CHECK(stock("B").reserved == 2);
  CHECK(created.handle);
}

TEST_CASE_FIXTURE(stock_fixture,
                  "the order and its holds are journaled as one record") {
  auto before = store->last_seq();
  auto rec = create("c1", {item("A", 3), item("B", 2)}).record;
  auto events = store_events(before + 1, 100);
  REQUIRE(events.size() == 3);
  CHECK(events[0].kind == event_kind::order_created);
  CHECK(events[0].snapshot.id == rec.id);
  CHECK(events[0].snapshot.total_amount == rec.total_amount);
  CHECK(events[1].kind == event_kind::stock_reserved);
  CHECK(events[1].sku == "A");
  CHECK(events[1].quantity == 3);
  CHECK(events[2].sku == "B");
  auto stats = call<journal_stats>(journal, atom::stats_v);
  REQUIRE(stats);
  // Two receipts and one order: three appends.
  CHECK(stats->appends == 3);
}

TEST_CASE_FIXTURE(fixture, "second competing order for the last units is "
                           "rejected with INSUFFICIENT_STOCK") {
  // Both requests are in the SKU's mailbox before either is handled; the SKU
  // grants the first and refuses the second from its own count.
  receive("LAST", 2, 500);
  create_order_request r1{"c1", {item("LAST", 2)}, sample_address(), {}, {}};
  create_order_request r2{"c2", {item("LAST", 2)}, sample_address(), {}, {}};
  auto h1 = self->request(sup, caf::infinite, atom::create_v, r1);
  auto h2 = self->request(sup, caf::infinite, atom::create_v, r2);
  sched.run();
  int granted = 0;
  int refused = 0;
  for (auto* h : {&h1, &h2})
    h->receive([&](created_order&) { ++granted; },
               [&](caf::error& err) {
                 CHECK(code_of(err) == errc::insufficient_stock);
                 auto details = nlohmann::json::parse(details_of(err));
                 CHECK(details["skus"][0]["sku"] == "LAST");
                 CHECK(details["skus"][0]["available"] == 0);
                 CHECK(details["skus"][0]["requested"] == 2);
                 ++refused;
               });
  CHECK(granted == 1);
  CHECK(refused == 1);
  auto v = stock("LAST");
  CHECK(v.on_hand == 2);
  CHECK(v.reserved == 2);
  CHECK(v.available == 0);
  CHECK(audit().violations.empty());
}

TEST_CASE_FIXTURE(
    stock_fixture,
    "a multi-SKU order with one short line holds nothing anywhere") {
  auto res = try_create("c1", {item("A", 4), item("B", 6)});
  REQUIRE_FALSE(res);
  CHECK(code_of(res.error()) == errc::insufficient_stock);
  auto details = nlohmann::json::parse(details_of(res.error()));
  REQUIRE(details["skus"].size() == 1);
  CHECK(details["skus"][0]["sku"] == "B");
  CHECK(details["skus"][0]["available"] == 5);
  CHECK(stock("A").reserved == 0);
  CHECK(stock("A").available == 10);
  CHECK(stock("B").reserved == 0);
  // Nothing journaled beyond the receipts.
  CHECK(store->last_seq() == 4);
  auto report = audit();
  CHECK(report.violations.empty());
  CHECK(report.live_orders == 0);
}

TEST_CASE_FIXTURE(
    stock_fixture,
    "orders naming unknown SKUs or mixed sellers change nothing") {
  auto unknown = try_create("c1", {item("A", 1), item("NOPE", 1)});
  CHECK(code(unknown) == "UNKNOWN_SKU");
  CHECK(details_of(unknown.error()).find("NOPE") != std::string::npos);
  auto mixed = try_create("c1", {item("A", 1), {"B", 1, seller::external}});
  CHECK(code(mixed) == "MIXED_SELLERS");
  auto external = try_create("c1", {{"A", 1, seller::external}});
  CHECK(code(external) == "WMS_UNAVAILABLE");
  auto empty = try_create("c1", {});
  CHECK(code(empty) == "VALIDATION_FAILED");
  auto no_customer = try_create("", {item("A", 1)});
  CHECK(code(no_customer) == "VALIDATION_FAILED");
  CHECK(message_of(no_customer.error()).find("customerId") !=
        std::string::npos);
  auto dup = try_create("c1", {item("A", 1), item("A", 2)});
  CHECK(code(dup) == "VALIDATION_FAILED");
  auto huge = try_create("c1", {item("A", 1'000'001)});
  CHECK(code(huge) == "VALIDATION_FAILED");
  CHECK(stock("A").reserved == 0);
  CHECK(store->last_seq() == 4);
}

TEST_CASE_FIXTURE(
    stock_fixture,
    "the full lifecycle moves stock from reserved to blocked to shipped") {
  auto rec = create("c1", {item("A", 2), item("B", 1)}).record;
  auto confirmed = must_apply(rec.id, command_kind::confirm);
  CHECK(confirmed.status == order_status::confirmed);
  CHECK(stock("A").reserved == 0);
  CHECK(stock("A").blocked == 2);
  auto paid = must_apply(rec.id, command_kind::pay, rec.total_amount);
  CHECK(paid.status == order_status::paid);
  CHECK(paid.paid_amount == rec.total_amount);
  CHECK(stock("A").blocked == 2);
  auto shipped = must_apply(rec.id, command_kind::ship);
  CHECK(shipped.status == order_status::shipped);
  CHECK(shipped.lines[0].shipped_quantity == 2);
  auto a = stock("A");
  CHECK(a.on_hand == 8);
  CHECK(a.blocked == 0);
  CHECK(a.consumed_total == 2);
  CHECK(a.received_total == a.on_hand + a.consumed_total);
  auto delivered = must_apply(rec.id, command_kind::deliver);
  CHECK(delivered.status == order_status::delivered);
  REQUIRE(delivered.history.size() == 5);
  CHECK(delivered.history[1].to == order_status::confirmed);
  CHECK(delivered.history[2].amount == rec.total_amount);
  CHECK(delivered.history[4].from == order_status::shipped);
  CHECK(delivered.history[4].to == order_status::delivered);
  CHECK(audit().violations.empty());
}

TEST_CASE_FIXTURE(stock_fixture,
                  "paying straight from CREATED blocks the stock") {
  auto rec = create("c1", {item("A", 2)}).record;
  auto paid = must_apply(rec.id, command_kind::pay, rec.total_amount);
  CHECK(paid.status == order_status::paid);
  CHECK(stock("A").blocked == 2);
  CHECK(stock("A").reserved == 0);
}

TEST_CASE_FIXTURE(
    stock_fixture,
    "a payment for another amount is refused and changes nothing") {
  auto rec = create("c1", {item("A", 2)}).record;
  auto res = apply(rec.id, command_kind::pay, rec.total_amount - 1);
  CHECK(code(res) == "AMOUNT_MISMATCH");
  auto now = get_order(rec.id);
  REQUIRE(now);
  CHECK(now->status == order_status::created);
  CHECK(now->paid_amount == 0);
  CHECK(stock("A").reserved == 2);
}

TEST_CASE_FIXTURE(
    stock_fixture,
    "every transition not in the table is refused and changes nothing") {
  // From each reachable state, each command the table lacks gets
  // INVALID_TRANSITION; the order's status and the stock stay as they were.
  constexpr order_status states[] = {
      order_status::created,
      order_status::confirmed,
      order_status::paid,
      order_status::shipped,
      order_status::delivered,
      order_status::cancelled,
      order_status::partially_shipped,
  };
  constexpr command_kind commands[] = {
      command_kind::confirm, command_kind::pay,    command_kind::ship,
      command_kind::deliver, command_kind::cancel,
  };
  int refused = 0;
  for (auto state : states) {
    auto rec = order_in(*this, state);
    REQUIRE(rec.status == state);
    auto a_before = stock("A");
    for (auto cmd : commands) {
      if (next_status(state, cmd))
        continue;
      CAPTURE(to_string(state));
      CAPTURE(to_string(cmd));
      auto res = apply(rec.id, cmd, rec.total_amount);
      CHECK(code(res) == "INVALID_TRANSITION");
      ++refused;
      auto after = get_order(rec.id);
      REQUIRE(after);
      CHECK(after->status == state);
      CHECK(after->history.size() == rec.history.size());
      auto a_after = stock("A");
      CHECK(a_after.on_hand == a_before.on_hand);
      CHECK(a_after.reserved == a_before.reserved);
      CHECK(a_after.blocked == a_before.blocked);
    }
    // Leave no holds behind for the next state's order.
    if (!is_terminal(state) && state != order_status::shipped)
      must_apply(rec.id, command_kind::cancel);
  }
  CHECK(refused == 25);
  CHECK(audit().violations.empty());
}

TEST_CASE_FIXTURE(
    stock_fixture,
    "cancel from each cancellable state releases exactly what was held") {
  for (auto state :
       {order_status::created, order_status::confirmed, order_status::paid}) {
    CAPTURE(to_string(state));
    auto rec = order_in(*this, state);
    auto a = stock("A");
    auto b = stock("B");
    CHECK(a.available == 8);
    CHECK(b.available == 4);
    auto cancelled = must_apply(rec.id, command_kind::cancel);
    CHECK(cancelled.status == order_status::cancelled);
    CHECK(cancelled.cancel_reason == "CUSTOMER_REQUEST");
    auto a2 = stock("A");
    auto b2 = stock("B");
    CHECK(a2.available == 10);
    CHECK(a2.reserved == 0);
    CHECK(a2.blocked == 0);
    CHECK(a2.on_hand == 10);
    CHECK(b2.available == 5);
  }
  CHECK(audit().violations.empty());
}

TEST_CASE_FIXTURE(stock_fixture, "cancel after SHIPPED is refused") {
  auto rec = order_in(*this, order_status::shipped);
  auto res = apply(rec.id, command_kind::cancel);
  CHECK(code(res) == "INVALID_TRANSITION");
  CHECK(stock("A").on_hand == 8);
  CHECK(stock("A").consumed_total == 2);
}

TEST_CASE_FIXTURE(
    stock_fixture,
    "an unconfirmed order cancels itself exactly when its hold expires") {
  auto rec = create("c1", {item("A", 4)}).record;
  advance(15min - 1s);
  auto still = get_order(rec.id);
  REQUIRE(still);
  CHECK(still->status == order_status::created);
  CHECK(stock("A").reserved == 4);
  advance(1s);
  auto gone = get_order(rec.id);
  REQUIRE(gone);
  CHECK(gone->status == order_status::cancelled);
  CHECK(gone->cancel_reason == "EXPIRED");
  CHECK(gone->history.back().reason == "EXPIRED");
  CHECK(stock("A").reserved == 0);
  CHECK(stock("A").available == 10);
  // The expiry is journaled with the released units.
  auto events = store_events(1, 100);
  CHECK(events.back().kind == event_kind::order_changed);
  CHECK(events.back().snapshot.status == order_status::cancelled);
  CHECK(events[events.size() - 2].kind == event_kind::stock_released);
}

TEST_CASE_FIXTURE(stock_fixture,
                  "a confirm after expiry is refused with ORDER_EXPIRED") {
  auto rec = create("c1", {item("A", 4)}).record;
  advance(15min);
  auto res = apply(rec.id, command_kind::confirm);
  CHECK(code(res) == "ORDER_EXPIRED");
  auto pay = apply(rec.id, command_kind::pay, rec.total_amount);
  CHECK(code(pay) == "ORDER_EXPIRED");
  CHECK(stock("A").reserved == 0);
  CHECK(stock("A").blocked == 0);
}

TEST_CASE_FIXTURE(stock_fixture,
                  "a confirmed order ignores its old hold timer") {
  auto rec = create("c1", {item("A", 4)}).record;
  advance(10min);
  must_apply(rec.id, command_kind::confirm);
  advance(10min);
  auto now = get_order(rec.id);
  REQUIRE(now);
  CHECK(now->status == order_status::confirmed);
  CHECK(stock("A").blocked == 4);
  advance(24h);
  CHECK(get_order(rec.id)->status == order_status::confirmed);
}

TEST_CASE("the hold TTL comes from the settings") {
  settings s;
  s.hold_ttl = 2s;
  fixture f{s};
  f.receive("A", 1, 100);
  auto rec = f.create("c1", {{"A", 1, seller::internal}}).record;
  CHECK(rec.hold_expires_at - rec.created_at == 2000);
  f.advance(1999ms);
  CHECK(f.get_order(rec.id)->status == order_status::created);
  f.advance(1ms);
  CHECK(f.get_order(rec.id)->status == order_status::cancelled);
}

TEST_CASE_FIXTURE(
    stock_fixture,
    "a terminal order's actor is gone but its record stays queryable") {
  auto rec = order_in(*this, order_status::delivered);
  auto found = call<order_actor>(sup, atom::find_order_v, rec.id);
  CHECK(code(found) == "ORDER_NOT_FOUND");
  auto got = get_order(rec.id);
  REQUIRE(got);
  CHECK(got->status == order_status::delivered);
  auto cancelled = order_in(*this, order_status::cancelled);
  CHECK(code(call<order_actor>(sup, atom::find_order_v, cancelled.id)) ==
        "ORDER_NOT_FOUND");
  CHECK(get_order(cancelled.id)->status == order_status::cancelled);
  auto live = create("c1", {item("A", 1)}).record;
  CHECK(call<order_actor>(sup, atom::find_order_v, live.id));
}

TEST_CASE_FIXTURE(stock_fixture, "an unknown order id is ORDER_NOT_FOUND") {
  CHECK(code(get_order("ord_nope")) == "ORDER_NOT_FOUND");
  CHECK(code(apply("ord_nope", command_kind::confirm)) == "ORDER_NOT_FOUND");
}

TEST_CASE_FIXTURE(
    stock_fixture,
    "an order the journal refuses is not created and holds nothing") {
  store->fail_commits(true);
  auto res = try_create("c1", {item("A", 3), item("B", 1)});
  CHECK(code(res) == "STORE_FAILURE");
  store->fail_commits(false);
  CHECK(stock("A").reserved == 0);
  CHECK(stock("B").reserved == 0);
  auto report = audit();
  CHECK(report.violations.empty());
  CHECK(report.live_orders == 0);
}

TEST_CASE_FIXTURE(
    stock_fixture,
    "a transition the journal refuses leaves the order as it was") {
  auto rec = create("c1", {item("A", 3)}).record;
  store->fail_commits(true);
  CHECK(code(apply(rec.id, command_kind::confirm)) == "STORE_FAILURE");
  CHECK(code(apply(rec.id, command_kind::cancel)) == "STORE_FAILURE");
  store->fail_commits(false);
  auto now = get_order(rec.id);
  REQUIRE(now);
  CHECK(now->status == order_status::created);
  CHECK(stock("A").reserved == 3);
  CHECK(stock("A").blocked == 0);
  CHECK(must_apply(rec.id, command_kind::confirm).status ==
        order_status::confirmed);
}

TEST_CASE_FIXTURE(stock_fixture,
                  "an expiry the journal refuses is retried until it lands") {
  auto rec = create("c1", {item("A", 3)}).record;
  store->fail_commits(true);
  advance(15min);
  CHECK(get_order(rec.id)->status == order_status::created);
  CHECK(stock("A").reserved == 3);
  store->fail_commits(false);
  advance(1s);
  CHECK(get_order(rec.id)->status == order_status::cancelled);
  CHECK(stock("A").reserved == 0);
}

TEST_CASE_FIXTURE(
    stock_fixture,
    "commands sent to one order at once are applied one after the other") {
  // A confirm and a cancel race on one order: exactly one of the two final
  // states results, and the stock matches it.
  auto rec = create("c1", {item("A", 3)}).record;
  order_command confirm;
  confirm.kind = command_kind::confirm;
  order_command cancel;
  cancel.kind = command_kind::cancel;
  auto h1 = self->request(sup, caf::infinite, atom::apply_v, rec.id, confirm);
  auto h2 = self->request(sup, caf::infinite, atom::apply_v, rec.id, cancel);
  sched.run();
  int ok = 0;
  for (auto* h : {&h1, &h2})
    h->receive([&](order_record&) { ++ok; }, [&](caf::error&) {});
  CHECK(ok == 2); // confirm, then cancel of a confirmed order
  auto now = get_order(rec.id);
  CHECK(now->status == order_status::cancelled);
  CHECK(stock("A").blocked == 0);
  CHECK(stock("A").reserved == 0);
  CHECK(audit().violations.empty());
}

TEST_CASE("each API command becomes the ORDER message of its kind") {
  // Proves to_order_message: the fields each command needs travel, a cancel
  // with lines is a cancel of lines, and expire is no client command.
  order_command cmd;
  cmd.customer = "c1";
  cmd.kind = command_kind::pay;
  cmd.amount = 1250;
  cmd.token = "tok_visa";
  cmd.client_key = "k1";
  cmd.fingerprint = "fp1";
  auto msg = to_order_message(cmd);
  REQUIRE(msg);
  auto* pay = std::get_if<pay_command>(&*msg);
  REQUIRE(pay != nullptr);
  CHECK(pay->customer == "c1");
  CHECK(pay->amount == 1250);
  CHECK(pay->token == "tok_visa");
  CHECK(pay->client_key == "k1");
  CHECK(pay->fingerprint == "fp1");
  cmd = order_command{};
  cmd.kind = command_kind::cancel;
  cmd.reason = "late";
  msg = to_order_message(cmd);
  REQUIRE(msg);
  REQUIRE(std::holds_alternative<cancel_command>(*msg));
  CHECK(std::get<cancel_command>(*msg).reason == "late");
  cmd.lines = {item("A", 1)};
  msg = to_order_message(cmd);
  REQUIRE(msg);
  REQUIRE(std::holds_alternative<cancel_lines_command>(*msg));
  CHECK(std::get<cancel_lines_command>(*msg).lines.size() == 1);
  for (auto [kind, index] :
       {std::pair{command_kind::confirm, 0}, std::pair{command_kind::ship, 2},
        std::pair{command_kind::deliver, 3}}) {
    cmd = order_command{};
    cmd.kind = kind;
    msg = to_order_message(cmd);
    REQUIRE(msg);
    CHECK(msg->index() == static_cast<size_t>(index));
  }
  cmd.kind = command_kind::expire;
  CHECK(code(to_order_message(cmd)) == "VALIDATION_FAILED");
}

TEST_CASE_FIXTURE(stock_fixture,
                  "the ORDER actor refuses another customer's command and a "
                  "cancel of no lines") {
  // Proves the typed commands sent to the actor directly: the customer check
  // answers ORDER_NOT_FOUND, an empty cancel of lines VALIDATION_FAILED,
  // and a cancel of some lines releases them.
  auto created = create("c1", {item("A", 3)});
  auto& order = created.handle;
  ship_command other;
  other.customer = "c2";
  CHECK(code(call<order_record>(order, other)) == "ORDER_NOT_FOUND");
  CHECK(code(call<order_record>(order, cancel_lines_command{"c1", "", {}})) ==
        "VALIDATION_FAILED");
  auto rec =
      call<order_record>(order, cancel_lines_command{"c1", "", {item("A", 1)}});
  REQUIRE_MESSAGE(rec, why(rec));
  CHECK(rec->lines[0].cancelled_quantity == 1);
  CHECK(stock("A").reserved == 2);
}
