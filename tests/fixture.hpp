// Deterministic actor tests under doctest: a fixture over CAF's
// test_coordinator (CAF's own test DSL does not run under doctest). Nothing
// runs until the test says so, and time is virtual.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/scoped_actor.hpp>
#include <doctest/doctest.h>

#include "tests/why.hpp"

#include "actors/supervisor.hpp"
#include "messages/type_ids.hpp"
#include "system/order_system.hpp"
#include "system/simulated_gateway.hpp"
#include "system/store/memory_store.hpp"

namespace oms::test {

/// A step of a return: `id` names it (empty for a request), `lines` carries
/// what the step takes (the units asked back, or an inspection's counts).
inline return_command step_of(return_step step, std::string id,
                              std::vector<return_item> lines = {}) {
  return_command cmd;
  cmd.step = step;
  cmd.return_id = std::move(id);
  cmd.lines = std::move(lines);
  return cmd;
}

/// An inbound receipt of `qty` units of `sku` at 100, in lot LOT-`id`,
/// under event id `id`.
inline stock_change inbox_receipt(const std::string& id, const sku_id& sku,
                                  int64_t qty) {
  stock_change c;
  c.kind = stock_change_kind::receipt;
  c.sku = sku;
  c.quantity = qty;
  c.unit_price = 100;
  c.lot = "LOT-" + id;
  c.event_id = id;
  c.source = "test";
  return c;
}

/// A day, in the milliseconds of a timestamp.
constexpr timestamp_ms day = 24 * 3600 * 1000;

/// Each batch allocation of `xs` as "LOT:quantity", in order.
inline std::vector<std::string> names(const std::vector<lot_allocation>& xs) {
  std::vector<std::string> result;
  for (auto& x : xs)
    result.push_back(x.lot + ":" + std::to_string(x.quantity));
  return result;
}

inline settings default_test_settings() {
  settings s;
  s.hold_ttl = std::chrono::minutes(15);
  return s;
}

/// An actor system on the testing scheduler with a JOURNAL over a memory
/// store and a SUPERVISOR.
struct fixture {
  static caf::actor_system_config& init(caf::actor_system_config& cfg) {
    cfg.set("scheduler.policy", caf::atom("testing"));
    cfg.set("logger.file-verbosity", caf::atom("quiet"));
    cfg.set("logger.console-verbosity", caf::atom("quiet"));
    register_types(cfg);
    return cfg;
  }

  caf::actor_system_config cfg;
  caf::actor_system sys;
  caf::scoped_actor self;
  caf::scheduler::test_coordinator& sched;
  /// The memory store, if the fixture runs on one (else null).
  std::shared_ptr<memory_store> store;
  std::shared_ptr<journal_store> backend;
  std::shared_ptr<simulated_gateway> gateway;
  std::shared_ptr<const recovered_state> recovered;
  journal_actor journal;
  /// The journal behind a wrapper the fixture was started with (else null).
  journal_actor journal_itself;
  payment_actor payments;
  context_ptr ctx;
  supervisor_actor sup;

  explicit fixture(settings s = default_test_settings(),
                   simulated_gateway::config gw = {})
      : fixture(std::make_shared<memory_store>(), wall_clock_now(), s, gw) {}

  /// Starts on `backend` (recovering what it holds) as if the wall clock
  /// showed `start_at`: a second fixture on the same store is a restart.
  fixture(std::shared_ptr<journal_store> backend, timestamp_ms start_at,
          settings s = default_test_settings(),
          simulated_gateway::config gw = {},
          std::shared_ptr<simulated_gateway> same_gateway = nullptr,
          std::function<wms_gateway_actor(caf::actor_system&)> make_wms = {},
          std::shared_ptr<shard_map> shards = nullptr,
          std::function<journal_actor(caf::actor_system&, journal_actor)>
              wrap_journal = {})
      : sys(init(cfg)),
        self(sys, true),
        sched(dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler())),
        store(std::dynamic_pointer_cast<memory_store>(backend)),
        backend(backend),
        gateway(same_gateway ? same_gateway
                             : std::make_shared<simulated_gateway>(gw)) {
    auto loaded = backend->load();
    REQUIRE_MESSAGE(loaded, why(loaded));
    REQUIRE(check_consistency(*loaded).empty());
    recovered = std::make_shared<const recovered_state>(std::move(*loaded));
    // On the test scheduler even a blocking store runs inline, so that
    // every step stays deterministic.
    journal = spawn_journal(sys, backend, s.journal_batch_events_max, false);
    if (wrap_journal) {
      // The actors talk to the wrapper; both are sent their exit at the end.
      journal_itself = journal;
      journal = wrap_journal(sys, journal);
    }
    payments = spawn_payment(sys, gateway);
    auto c = std::make_shared<context>(
        *make_context(sys, s, journal, payments, start_at));
    if (make_wms)
      c->wms = make_wms(sys);
    c->shards = std::move(shards);
    ctx = c;
    sup = sys.spawn(oms::restored_supervisor, ctx, recovered);
    sched.run();
  }

  static timestamp_ms wall_clock_now() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch())
        .count();
  }

  /// The wall-clock time the actors see now.
  timestamp_ms now() { return ctx->now(sys.clock()); }

  ~fixture() {
    self->send_exit(sup, caf::exit_reason::user_shutdown);
    self->send_exit(journal, caf::exit_reason::user_shutdown);
    if (journal_itself)
      self->send_exit(journal_itself, caf::exit_reason::user_shutdown);
    self->send_exit(payments, caf::exit_reason::user_shutdown);
    if (ctx->wms)
      self->send_exit(ctx->wms, caf::exit_reason::user_shutdown);
    sched.run();
  }

  /// Sends a request, runs every actor until idle, and returns the reply.
  template <class T, class Handle, class... Ts>
  caf::expected<T> call(const Handle& dest, Ts&&... xs) {
    auto rh = self->request(dest, caf::infinite, std::forward<Ts>(xs)...);
    sched.run();
    caf::expected<T> result{make_error(errc::internal, "no reply")};
    rh.receive([&](T& x) { result = std::move(x); },
               [&](caf::error& err) { result = std::move(err); });
    return result;
  }

  /// Moves virtual time forward, fires due timers, and runs until idle.
  void advance(std::chrono::milliseconds d) {
    sched.advance_time(d);
    sched.run();
  }

  // -- shortcuts that must succeed --------------------------------------------

  stock_view receive(const sku_id& sku, int64_t qty, money price = 0) {
    auto res = call<stock_view>(sup, atom::receive_v, sku, seller::internal,
                                qty, price);
    REQUIRE_MESSAGE(res, why(res));
    return *res;
  }

  stock_view stock(const sku_id& sku) {
    auto res = call<stock_view>(sup, atom::get_v, sku, seller::internal);
    REQUIRE_MESSAGE(res, why(res));
    return *res;
  }

  caf::expected<created_order> try_create(const customer_id& customer,
                                          std::vector<order_item> items) {
    create_order_request req{
        customer, std::move(items), sample_address(), {}, {}};
    return call<created_order>(sup, atom::create_v, std::move(req));
  }

  created_order create(const customer_id& customer,
                       std::vector<order_item> items) {
    auto res = try_create(customer, std::move(items));
    REQUIRE_MESSAGE(res, why(res));
    return *res;
  }

  caf::expected<order_record> apply(const order_id& id, command_kind kind,
                                    money amount = 0) {
    order_command cmd;
    cmd.kind = kind;
    cmd.amount = amount;
    return call<order_record>(sup, atom::apply_v, id, cmd);
  }

  order_record must_apply(const order_id& id, command_kind kind,
                          money amount = 0) {
    auto res = apply(id, kind, amount);
    REQUIRE_MESSAGE(res, why(res));
    return *res;
  }

  caf::expected<order_record> get_order(const order_id& id) {
    return call<order_record>(sup, atom::get_v, id);
  }

  customer_actor customer(const customer_id& id) {
    auto res = call<customer_actor>(sup, atom::customer_v, id);
    REQUIRE_MESSAGE(res, why(res));
    return *res;
  }

  order_record must_pay(const order_id& id, money amount,
                        const std::string& token = "tok_visa") {
    auto res = pay(id, amount, token);
    REQUIRE_MESSAGE(res, why(res));
    return *res;
  }

  caf::expected<order_record> pay(const order_id& id, money amount,
                                  const std::string& token) {
    order_command cmd;
    cmd.kind = command_kind::pay;
    cmd.amount = amount;
    cmd.token = token;
    return call<order_record>(sup, atom::apply_v, id, cmd);
  }

  caf::expected<order_record> cancel_lines(const order_id& id,
                                           std::vector<order_item> lines) {
    order_command cmd;
    cmd.kind = command_kind::cancel;
    cmd.lines = std::move(lines);
    return call<order_record>(sup, atom::apply_v, id, cmd);
  }

  /// Ships `lines` of order `id` as one shipment (none: every unit left),
  /// under the idempotency key `key` if given.
  caf::expected<order_record> ship_lines(const order_id& id,
                                         std::vector<order_item> lines,
                                         std::string key = {},
                                         std::string carrier = {},
                                         std::string tracking = {}) {
    order_command cmd;
    cmd.kind = command_kind::ship;
    cmd.lines = std::move(lines);
    cmd.client_key = std::move(key);
    cmd.carrier = std::move(carrier);
    cmd.tracking_number = std::move(tracking);
    return call<order_record>(sup, atom::apply_v, id, cmd);
  }

  /// Durable events from sequence number `from` on (at most `max`).
  std::vector<event> store_events(uint64_t from, uint64_t max) {
    auto res = backend->read(from, max);
    REQUIRE(res);
    return *res;
  }

  /// As call(), for a reply that waits on timers: virtual time moves on,
  /// `step` at a time (at most ten steps), until the reply comes.
  template <class T, class Handle, class... Ts>
  caf::expected<T> call_over_time(std::chrono::milliseconds step,
                                  const Handle& dest, Ts&&... xs) {
    auto rh = self->request(dest, caf::infinite, std::forward<Ts>(xs)...);
    sched.run();
    for (int steps = 0; steps < 10 && self->mailbox().empty(); ++steps)
      advance(step);
    caf::expected<T> result{make_error(errc::internal, "no reply")};
    rh.receive([&](T& x) { result = std::move(x); },
               [&](caf::error& err) { result = std::move(err); });
    return result;
  }

  /// The audit's report. A look that finds violations is taken again after
  /// a pause: virtual time moves on until the report comes.
  audit_report audit() {
    auto res = call_over_time<audit_report>(std::chrono::milliseconds{200}, sup,
                                            atom::audit_v);
    REQUIRE_MESSAGE(res, why(res));
    return *res;
  }

  static address sample_address() {
    return address{"12 MG Road", "", "Bengaluru", "560001", "IN"};
  }
};

/// The error code of a failed expected, or NONE.
template <class T>
std::string code(const caf::expected<T>& x) {
  return x ? "NONE" : to_code(code_of(x.error()));
}

} // namespace oms::test
