// Who runs the webhooks on a cluster node (system/daemon/webhook_duty.hpp):
// a dispatcher while the node serves the duty shard, restored from the
// store at each take and stamped with the epoch it was taken under, none
// otherwise. Real actors on a memory store, whose named values stand for
// the shared store's.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/shard_map.hpp"
#include "messages/errors.hpp"
#include "messages/journal_protocol.hpp"
#include "messages/type_ids.hpp"
#include "system/daemon/webhook_duty.hpp"
#include "system/order_system.hpp"
#include "system/simulated_gateway.hpp"
#include "system/store/memory_store.hpp"
#include "tests/eventually.hpp"

using namespace oms;
using namespace oms::daemon;
using namespace std::chrono_literals;
using oms::test::eventually;

namespace {

caf::actor_system_config& quiet(caf::actor_system_config& cfg) {
  cfg.set("scheduler.max-threads", 2);
  cfg.set("logger.console-verbosity", caf::atom("quiet"));
  register_types(cfg);
  return cfg;
}

// Waits for what the duty's threads do, at most 20 s.
template <class Pred>
bool within(Pred pred) {
  return eventually(pred, 20s);
}

// A change's answer, waited for.
caf::expected<nlohmann::json>
answer_of(const std::function<void(webhook_dispatcher::answer)>& ask) {
  std::promise<caf::expected<nlohmann::json>> p;
  auto f = p.get_future();
  ask([&p](caf::expected<nlohmann::json> r) { p.set_value(std::move(r)); });
  REQUIRE(f.wait_for(20s) == std::future_status::ready);
  return f.get();
}

webhook_change paused_hook() {
  webhook_change c;
  c.url = "http://127.0.0.1:9/hook";
  c.types = std::vector<std::string>{"oms.stock.*"};
  c.paused = true;
  return c;
}

// Whether a reader asking the journal for the next event, for at most
// 300 ms, is answered only once that wait ran out (none comes meanwhile).
bool waits_for_events(caf::actor_system& sys, const journal_actor& journal) {
  caf::scoped_actor self{sys};
  uint64_t end = 0;
  self->request(journal, 20s, atom::await_v, uint64_t{0}, caf::timespan{0})
      .receive([&](uint64_t x) { end = x; },
               [&](caf::error& e) { FAIL(describe(e)); });
  auto t0 = std::chrono::steady_clock::now();
  self->request(journal, 20s, atom::await_v, end + 1,
                caf::timespan{std::chrono::milliseconds{300}})
      .receive([](uint64_t) {}, [&](caf::error& e) { FAIL(describe(e)); });
  // At least the wait: a slower machine only answers later.
  return std::chrono::steady_clock::now() - t0 >= 250ms;
}

struct duty_fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys;
  std::shared_ptr<memory_store> store = std::make_shared<memory_store>();
  order_system oms_;
  std::shared_ptr<shard_map> shards = std::make_shared<shard_map>(4);
  std::atomic<int> reads{0};
  std::atomic<bool> unreadable{false};

  duty_fixture()
      : sys(quiet(cfg)),
        oms_(sys, settings{}, store, std::make_shared<simulated_gateway>()) {}

  ~duty_fixture() { oms_.shutdown(); }

  // The store's named values as a shared store answers them.
  webhook_duty::store_reader reader() {
    return [this] {
      ++reads;
      if (unreadable)
        throw std::runtime_error("the store cannot be reached");
      auto state = store->load();
      REQUIRE(state);
      return state->cursors;
    };
  }
};

} // namespace

TEST_CASE("webhook duty: a dispatcher runs while the node serves the duty "
          "shard, restored from the store at each take and fenced by the "
          "epoch it was taken under") {
  duty_fixture f;
  webhook_duty duty{
      f.sys, f.oms_.journal(), webhook_settings{},           f.shards,
      0,     f.reader(),       std::chrono::milliseconds{10}};
  CHECK(duty.shard() == 0u);
  // Not served: none runs, and nothing is read, however often it looks.
  REQUIRE(within([&] { return duty.idle_looks() >= 3; }));
  CHECK(duty.here() == nullptr);
  CHECK(f.reads == 0);

  f.shards->serve(0, 5);
  REQUIRE(within([&] { return duty.here() != nullptr; }));
  CHECK(f.reads == 1);
  auto first = duty.here();
  CHECK(first->settings().fence == 5);
  REQUIRE(first->settings().may_deliver);
  CHECK(first->settings().may_deliver());
  auto hook = answer_of([&](auto done) { first->create(paused_hook(), done); });
  REQUIRE_MESSAGE(hook, describe(hook.error()));
  auto id = (*hook)["id"].get<std::string>();
  // What it journaled carries the epoch, for the fence to check.
  int stamped = 0;
  for (auto& ev : f.store->events())
    if (ev.kind == event_kind::inbox_cursor && is_webhook_value(ev.reason)) {
      CHECK(ev.fence == 5);
      ++stamped;
    }
  CHECK(stamped >= 1);

  // Lost: none runs; a change asked of the former one goes to the holder.
  f.shards->stop(0);
  CHECK_FALSE(first->settings().may_deliver());
  REQUIRE(within([&] { return duty.here() == nullptr; }));
  auto late = answer_of([&](auto done) { first->create(paused_hook(), done); });
  REQUIRE_FALSE(late);
  CHECK(code_of(late.error()) == errc::not_owner);
  CHECK(details_of(late.error()).find("\"shard\":0") != std::string::npos);

  // The journal's other readers still wait for events (a long poll, a
  // stream): the dispatcher's stop did not release them for good.
  CHECK(waits_for_events(f.sys, f.oms_.journal()));

  // Taken again under a newer epoch: read again, the subscription made
  // under the first is there.
  f.shards->serve(0, 7);
  REQUIRE(within([&] { return duty.here() != nullptr; }));
  CHECK(f.reads == 2);
  auto second = duty.here();
  CHECK(second != first);
  CHECK(second->settings().fence == 7);
  auto listed = second->list();
  REQUIRE(listed);
  REQUIRE((*listed)["webhooks"].size() == 1);
  CHECK((*listed)["webhooks"][0]["id"] == id);

  // A new epoch while served (lost and taken again between two looks):
  // the dispatcher of the old one stops, one of the new one starts.
  f.shards->serve(0, 8);
  REQUIRE(within([&] {
    auto now = duty.here();
    return now != nullptr && now->settings().fence == 8;
  }));
  CHECK(f.reads == 3);

  // Handed back under its epoch: stopped before the call returns (its last
  // cursors journaled while the lease still lets them), and none starts
  // again under that epoch, though the map still says it is served.
  auto third = duty.here();
  duty.handing_back({{1, 4}}); // another shard: nothing to do
  CHECK(duty.here() == third);
  duty.handing_back({{0, 8}});
  CHECK(duty.here() == nullptr);
  auto refused =
      answer_of([&](auto done) { third->create(paused_hook(), done); });
  CHECK_FALSE(refused);
  auto looked = duty.idle_looks();
  REQUIRE(within([&] { return duty.idle_looks() >= looked + 3; }));
  CHECK(duty.here() == nullptr);
  CHECK(f.reads == 3);
  // Taken again later under a new epoch: it runs.
  f.shards->serve(0, 10);
  REQUIRE(within([&] { return duty.here() != nullptr; }));
  CHECK(duty.here()->settings().fence == 10);
  CHECK(f.reads == 4);

  // Stopped: none from then on, served or not.
  // (The watch has ended when stop() returns: nothing can start one.)
  duty.stop();
  CHECK(duty.here() == nullptr);
  f.shards->serve(0, 11);
  CHECK(duty.here() == nullptr);
  CHECK(f.reads == 4);
}

TEST_CASE("webhook duty: a holder that cannot read the store runs no "
          "dispatcher, and reads again until it can") {
  duty_fixture f;
  f.unreadable = true;
  webhook_duty duty{
      f.sys, f.oms_.journal(), webhook_settings{},           f.shards,
      0,     f.reader(),       std::chrono::milliseconds{10}};
  f.shards->serve(0, 3);
  // Read again (a second later), and still none runs.
  REQUIRE(within([&] { return f.reads >= 2; }));
  CHECK(duty.here() == nullptr);
  f.unreadable = false;
  REQUIRE(within([&] { return duty.here() != nullptr; }));
  CHECK(duty.here()->settings().fence == 3);
}

TEST_CASE("webhook duty: on a single node the dispatcher runs from the start "
          "with no fence, until stopped") {
  duty_fixture f;
  webhook_duty duty{f.sys, f.oms_.journal(), webhook_settings{}, {}};
  CHECK_FALSE(duty.shard());
  auto here = duty.here();
  REQUIRE(here != nullptr);
  CHECK(here->settings().fence == 0);
  auto hook = answer_of([&](auto done) { here->create(paused_hook(), done); });
  REQUIRE(hook);
  duty.stop();
  CHECK(duty.here() == nullptr);
  // A change after the stop: omsd is stopping, not a shard moving.
  auto late = answer_of([&](auto done) { here->create(paused_hook(), done); });
  REQUIRE_FALSE(late);
  CHECK(code_of(late.error()) == errc::not_ready);
}
