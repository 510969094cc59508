// A cluster node's SUPERVISOR (actors/supervisor_shards.cpp): it serves the
// shards it was told to adopt, loaded from the store the nodes share, and
// refuses the others with NOT_OWNER. On virtual time, over a memory store
// that a first, single-node system filled.
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "tests/fixture.hpp"

#include <caf/event_based_actor.hpp>

#include "actors/off_shard_holds.hpp"
#include "messages/shards.hpp"
#include "system/cluster/region.hpp"

using namespace oms;
using namespace oms::test;
using namespace std::chrono_literals;

namespace {

constexpr uint32_t shard_count = 4;
constexpr timestamp_ms t0 = 1'800'000'000'000;

// The first SKU PREFIX-N on `shard`.
sku_id sku_on(uint32_t shard, const std::string& prefix) {
  for (int n = 0;; ++n) {
    auto sku = prefix + "-" + std::to_string(n);
    if (shard_of_sku(sku, shard_count) == shard)
      return sku;
  }
}

// What a first node stored: 10 units of `a` at 100 and 5 of `b` at 250.
void stock_two_shards(const std::shared_ptr<memory_store>& store,
                      const sku_id& a, const sku_id& b) {
  fixture before{store, t0};
  before.receive(a, 10, 100);
  before.receive(b, 5, 250);
}

// A store of type Store that a first node filled with stock_two_shards,
// and the two SKUs: `a` on shard 1, `b` on shard 2.
template <class Store>
struct two_shards {
  std::shared_ptr<Store> store;
  sku_id a;
  sku_id b;
};

template <class Store = memory_store>
two_shards<Store> stocked_two_shards() {
  two_shards<Store> s{std::make_shared<Store>(), sku_on(1, "A"),
                      sku_on(2, "B")};
  stock_two_shards(s.store, s.a, s.b);
  return s;
}

std::shared_ptr<shard_map> fresh_map() {
  return std::make_shared<shard_map>(shard_count);
}

shard_epochs one(uint32_t shard, int64_t epoch) {
  return shard_epochs{{shard}, {epoch}};
}

struct node_fixture : fixture {
  std::shared_ptr<shard_map> shards;

  node_fixture(std::shared_ptr<journal_store> store,
               std::shared_ptr<shard_map> map,
               settings s = default_test_settings(),
               std::function<journal_actor(caf::actor_system&, journal_actor)>
                   wrap_journal = {})
      : fixture(std::move(store), t0, s, {}, nullptr, {}, map,
                std::move(wrap_journal)),
        shards(std::move(map)) {}

  void adopt(uint32_t shard, int64_t epoch) {
    self->send(sup, atom::adopt_v, one(shard, epoch));
    sched.run();
  }
  void disown(uint32_t shard) {
    self->send(sup, atom::disown_v, one(shard, 0));
    sched.run();
  }
  size_t running() { return sys.registry().running(); }

  inventory_actor stock_actor(const sku_id& sku) {
    auto res =
        call<inventory_actor>(sup, atom::find_sku_v, sku, seller::internal);
    REQUIRE_MESSAGE(res, why(res));
    return *res;
  }

  /// A creation whose answer waits on timers (an owner on another shard
  /// asked again every 100 ms): virtual time moves on 100 ms at a time,
  /// past the request timeout, before the answer is read.
  template <class T, class... Ts>
  caf::expected<T> call_waiting(Ts&&... xs) {
    auto rh = self->request(sup, caf::infinite, std::forward<Ts>(xs)...);
    auto steps = 3 * (ctx->settings.request_timeout / 100ms);
    for (int64_t k = 0; k < steps && self->mailbox().empty(); ++k)
      advance(100ms);
    caf::expected<T> result{make_error(errc::internal, "none")};
    rh.receive([&](T& x) { result = std::move(x); },
               [&](caf::error& err) { result = std::move(err); });
    return result;
  }

  caf::expected<created_order> create_waiting(const customer_id& customer,
                                              std::vector<order_item> items) {
    create_order_request req{
        customer, std::move(items), sample_address(), {}, {}};
    return call_waiting<created_order>(atom::create_v, std::move(req));
  }

  /// The stock events journaled for `order` on `sku` (their kinds).
  std::vector<event_kind> stock_events_of(const order_id& order,
                                          const sku_id& sku) {
    std::vector<event_kind> kinds;
    for (auto& ev : store_events(1, 100'000))
      if (ev.order == order && ev.sku == sku && !is_order_event(ev.kind))
        kinds.push_back(ev.kind);
    return kinds;
  }
};

// A memory store whose next `failing` loads fail, as a shared store does
// while PostgreSQL restarts.
struct flaky_store : memory_store {
  int failing = 0;
  int loads = 0;
  caf::expected<recovered_state> load() override {
    ++loads;
    if (failing > 0) {
      --failing;
      return make_error(errc::store_failure, "the server is restarting");
    }
    return memory_store::load();
  }
};

// A memory store that runs `on_inbox_lookup` once, right after the next
// read of an inbound change's id and before its answer goes back: what
// happens to the shard while the answer is on its way.
struct hooked_store : memory_store {
  mutable std::function<void()> on_inbox_lookup;
  caf::expected<bool>
  knows_inbox_id(const std::string& event_id) const override {
    auto known = memory_store::knows_inbox_id(event_id);
    if (auto hook = std::exchange(on_inbox_lookup, nullptr))
      hook();
    return known;
  }
};

// The answer to one read of an order's record, held back by
// reordering_journal until the test lets it go.
struct held_read {
  bool hold_next = false;
  std::optional<caf::typed_response_promise<order_record>> promise;
  std::optional<order_record> answer;
};

// A journal in front of the node's own that answers one read of an order's
// record (atom::get) only when the test sends it atom::retry: the answer
// of a read made before the node lost a shard arrives after the shard was
// taken back and loaded. The node's own journal answers in order; a journal
// whose reads run on sessions of their own need not.
caf::behavior reordering_journal(caf::event_based_actor* self,
                                 journal_actor real,
                                 std::shared_ptr<held_read> held) {
  auto untyped = caf::actor_cast<caf::actor>(real);
  self->set_default_handler(
      [untyped](caf::scheduled_actor* s,
                caf::message_view& x) -> caf::result<caf::message> {
        return static_cast<caf::event_based_actor*>(s)->delegate(
            untyped, x.move_content_to_message());
      });
  return {
      [self, real, held](atom::get,
                         const order_id& id) -> caf::result<order_record> {
        if (!held->hold_next)
          return self->delegate(real, atom::get_v, id);
        held->hold_next = false;
        auto rp = self->make_response_promise<order_record>();
        held->promise = rp;
        self->request(real, caf::infinite, atom::get_v, id)
            .then([held](order_record& rec) { held->answer = std::move(rec); },
                  [](caf::error& err) { FAIL(describe(err)); });
        return rp;
      },
      [held](atom::retry) {
        REQUIRE(held->promise);
        REQUIRE(held->answer);
        held->promise->deliver(std::move(*held->answer));
        held->promise.reset();
      },
  };
}

// A node that rests orders idle for a minute, with reordering_journal in
// front of its journal, serving shard 1 (SKU s.a) under epoch 4.
struct reordered_node {
  two_shards<memory_store> s = stocked_two_shards();
  std::shared_ptr<held_read> held = std::make_shared<held_read>();
  caf::actor front;
  node_fixture next;

  reordered_node()
      : next{s.store, fresh_map(), resting(),
             [this](caf::actor_system& sys, journal_actor real) {
               front = sys.spawn(reordering_journal, real, held);
               return caf::actor_cast<journal_actor>(front);
             }} {
    next.adopt(1, 4);
  }

  static settings resting() {
    auto r = default_test_settings();
    r.order_idle_timeout = 1min;
    return r;
  }

  /// The node loses shard 1; another owner confirms order `id` and hands
  /// the shard back; the node takes it again under epoch 6.
  void confirmed_elsewhere(const order_id& id) {
    next.disown(1);
    {
      node_fixture first{s.store, fresh_map()};
      first.adopt(1, 5);
      first.must_apply(id, command_kind::confirm);
      first.disown(1);
    }
    next.adopt(1, 6);
  }

  /// The held answer to the read goes to the node now.
  void release() {
    next.self->send(front, atom::retry_v);
    next.sched.run();
  }

  /// Order `id`'s actor, asked for, runs from the confirmed record, and
  /// the order stays confirmed with its units blocked past its hold's
  /// expiry: no stale CREATED actor cancels it.
  void runs_confirmed(const order_id& id) {
    auto handle = next.call<order_actor>(next.sup, atom::find_order_v, id);
    REQUIRE_MESSAGE(handle, why(handle));
    runs_confirmed(id, *handle);
  }

  void runs_confirmed(const order_id& id, const order_actor& handle) {
    auto in_actor = next.call<order_record>(handle, atom::get_v);
    REQUIRE_MESSAGE(in_actor, why(in_actor));
    CHECK(in_actor->status == order_status::confirmed);
    next.advance(20min);
    CHECK(next.stock(s.a).blocked == 2);
    CHECK(next.stock(s.a).reserved == 0);
    CHECK(next.get_order(id)->status == order_status::confirmed);
    CHECK(next.audit().violations.empty());
  }
};

} // namespace

TEST_CASE("a wake whose read of the order was made before its node lost "
          "the shard, and answered after the node took the shard back, "
          "reads the order again: its actor runs from what the other owner "
          "made of it") {
  reordered_node r;
  auto& next = r.next;
  auto id = next.create("c1", {{r.s.a, 2, seller::internal}}).record.id;
  auto with_actor = next.running();
  next.advance(1min);
  next.advance(1min);
  REQUIRE(next.running() == with_actor - 1); // it rests

  // Asking for its actor wakes it: the record is read (CREATED), and the
  // answer held back.
  r.held->hold_next = true;
  auto woken =
      next.self->request(next.sup, caf::infinite, atom::find_order_v, id);
  next.sched.run();
  REQUIRE(r.held->answer);
  CHECK(r.held->answer->status == order_status::created);
  r.confirmed_elsewhere(id);
  // The read's answer arrives now, older than the shard's load: the order
  // is read again, and its actor runs from the confirmed record.
  r.release();
  // (Answered by now, one way or the other: a wait forgotten fails here
  // rather than hangs.)
  REQUIRE_FALSE(next.self->mailbox().empty());
  caf::expected<order_actor> handle{make_error(errc::internal, "no reply")};
  woken.receive([&](order_actor& h) { handle = std::move(h); },
                [&](caf::error& err) { handle = std::move(err); });
  if (!handle) // (the loss ended the wait: asked again)
    handle = next.call<order_actor>(next.sup, atom::find_order_v, id);
  REQUIRE_MESSAGE(handle, why(handle));
  r.runs_confirmed(id, *handle);
}

TEST_CASE("a restart whose read of the order was made before its node "
          "lost the shard, and answered after the node took the shard back "
          "with the order resting, starts no actor from the older record") {
  reordered_node r;
  auto& next = r.next;
  auto created = next.create("c1", {{r.s.a, 2, seller::internal}});
  auto id = created.record.id;
  // Its actor fails: the restart reads the record (CREATED), the answer
  // held back.
  r.held->hold_next = true;
  next.self->send_exit(created.handle, make_error(errc::internal, "injected"));
  next.sched.run();
  REQUIRE(r.held->answer);
  CHECK(r.held->answer->status == order_status::created);
  // The confirmed order rests at the node once it took the shard back.
  r.confirmed_elsewhere(id);
  auto resting_count = next.running();
  // The read's answer arrives now: no actor starts from it.
  r.release();
  CHECK(next.running() == resting_count);
  // Asked for, the order wakes from the confirmed record.
  r.runs_confirmed(id);
}

TEST_CASE("a cluster node serves only the shards it adopted, each as the "
          "shared store holds it, and stops serving a shard it lost") {
  auto store = std::make_shared<memory_store>();
  auto a = sku_on(1, "A");
  auto b = sku_on(2, "B");
  auto a2 = sku_on(1, "AA");
  order_id first;
  {
    // What another node made durable before this one takes over.
    fixture before{store, t0};
    before.receive(a, 10, 100);
    before.receive(b, 5, 100);
    before.receive(a2, 5, 100);
    first = before.create("c1", {{a, 3, seller::internal}}).record.id;
  }
  node_fixture n{store, fresh_map()};

  // Nothing is served before it is adopted; reads from the store are.
  CHECK(code(n.call<stock_view>(n.sup, atom::get_v, a, seller::internal)) ==
        "NOT_OWNER");
  auto refused = n.call<stock_view>(n.sup, atom::receive_v, a, seller::internal,
                                    int64_t{1}, money{0});
  CHECK(code(refused) == "NOT_OWNER");
  CHECK(details_of(refused.error()).find("\"shard\":1") != std::string::npos);
  CHECK(code(n.try_create("c1", {{a, 1, seller::internal}})) == "NOT_OWNER");
  CHECK(code(n.apply(first, command_kind::confirm)) == "NOT_OWNER");
  CHECK(code(n.call<inventory_actor>(n.sup, atom::find_sku_v, a,
                                     seller::internal)) == "NOT_OWNER");
  REQUIRE(n.get_order(first));

  // Adopted: the SKU as stored, with the hold of the order placed before.
  n.adopt(1, 7);
  CHECK(n.shards->epoch(1) == 7);
  CHECK_FALSE(n.shards->serves(2));
  CHECK(n.stock(a).available == 7);
  CHECK(n.stock(a).reserved == 3);
  CHECK(code(n.call<stock_view>(n.sup, atom::get_v, b, seller::internal)) ==
        "NOT_OWNER");
  CHECK(code(n.try_create("c1", {{a, 8, seller::internal}})) ==
        "INSUFFICIENT_STOCK");
  // A line on a shard no node can be reached for: refused as unavailable
  // once the owner was asked for long enough, nothing reserved.
  CHECK(code(n.create_waiting(
            "c1", {{a, 1, seller::internal}, {b, 1, seller::internal}})) ==
        "UNAVAILABLE");
  CHECK(n.stock(a).available == 7);
  // The earlier order's hold timer runs here: it expires and gives its
  // units back.
  n.advance(16min);
  auto expired = n.get_order(first);
  REQUIRE(expired);
  CHECK(expired->status == order_status::cancelled);
  CHECK(n.stock(a).available == 10);
  auto second =
      n.create("c1", {{a, 7, seller::internal}, {a2, 1, seller::internal}});
  CHECK(n.stock(a).available == 3);

  // Lost: refused at once, and its actors stop.
  auto with_actors = n.running();
  n.disown(1);
  CHECK_FALSE(n.shards->serves(1));
  CHECK(n.running() < with_actors);
  CHECK(code(n.call<stock_view>(n.sup, atom::get_v, a, seller::internal)) ==
        "NOT_OWNER");
  CHECK(code(n.apply(second.record.id, command_kind::confirm)) == "NOT_OWNER");

  // Taken again under a newer epoch: read again from the store.
  n.adopt(1, 9);
  CHECK(n.shards->epoch(1) == 9);
  CHECK(n.stock(a).available == 3);
  CHECK(n.stock(a).reserved == 7);
  CHECK(n.must_apply(second.record.id, command_kind::confirm).status ==
        order_status::confirmed);
  CHECK(n.stock(a).blocked == 7);
}

TEST_CASE("a cluster node that loses a customer's shard forgets the "
          "customer's cart: taken back, it serves no stale cart") {
  auto s = stocked_two_shards();
  node_fixture n{s.store, fresh_map()};
  for (uint32_t shard = 0; shard < shard_count; ++shard)
    n.adopt(shard, 1);
  // Two customers, on shards 3 and 0, each with a line of `a` in the cart.
  auto moving = sku_on(3, "cust");
  auto staying = sku_on(0, "cust");
  for (auto& id : {moving, staying}) {
    auto put = n.call<cart_view>(n.customer(id), atom::put_v, s.a, int64_t{2},
                                 seller::internal);
    REQUIRE_MESSAGE(put, why(put));
    REQUIRE(put->lines.size() == 1);
  }
  auto lines_of = [&](const customer_id& id) {
    auto view = n.call<cart_view>(n.customer(id), atom::get_v);
    REQUIRE_MESSAGE(view, why(view));
    return view->lines.size();
  };
  // Adopted again under the same epoch (a change announced twice): the
  // shard stays as it is, carts included.
  n.adopt(3, 1);
  CHECK(lines_of(moving) == 1);
  // Shard 3 moves away: another node keeps that cart from now on, and a
  // request that reaches the customer's actor here late is refused
  // NOT_OWNER (sent on there), changing nothing.
  auto customer = n.customer(moving);
  n.disown(3);
  auto late = n.call<cart_view>(customer, atom::put_v, s.b, int64_t{1},
                                seller::internal);
  CHECK(code(late) == "NOT_OWNER");
  CHECK(details_of(late.error()).find("\"shard\":3") != std::string::npos);
  CHECK(code(n.call<cart_view>(customer, atom::get_v)) == "NOT_OWNER");
  CHECK(code(n.call<order_record>(customer, atom::checkout_v,
                                  fixture::sample_address(),
                                  std::vector<sku_id>{}, std::string{},
                                  seller::internal, false)) == "NOT_OWNER");
  // It comes back later: its customer's cart here is gone, not served
  // stale.
  n.adopt(3, 2);
  CHECK(lines_of(moving) == 0);
  // The customer on a shard that stayed keeps its cart.
  CHECK(lines_of(staying) == 1);
}

TEST_CASE("a cluster node's SKU and order actors stamp what they journal "
          "with the epoch their shard was served under when they started") {
  auto [store, a, b] = stocked_two_shards();
  node_fixture n{store, fresh_map()};
  // The fencing token of every event journaled after `from`, by the shard
  // it is on (its SKU's, or its order's first line's).
  auto stamps = [&](uint64_t from) {
    std::map<uint32_t, std::set<int64_t>> by_shard;
    for (auto& ev : n.store_events(from, 100'000)) {
      auto& sku =
          is_order_event(ev.kind) ? ev.snapshot.lines.front().sku : ev.sku;
      by_shard[shard_of_sku(sku, shard_count)].insert(ev.fence);
    }
    return by_shard;
  };
  using stamped = std::map<uint32_t, std::set<int64_t>>;
  n.adopt(1, 7);
  n.adopt(2, 4);
  auto from = store->last_seq() + 1;
  auto id = n.create("c1", {{a, 2, seller::internal}, {b, 1, seller::internal}})
                .record.id;
  n.receive(a, 5, 100);
  n.receive(b, 5, 250);
  CHECK(stamps(from) == stamped{{1, {7}}, {2, {4}}});

  // Lost and taken again: the new actors stamp the new epoch, the other
  // shard's SKU still its own.
  n.disown(1);
  n.adopt(1, 9);
  from = store->last_seq() + 1;
  CHECK(n.must_apply(id, command_kind::confirm).status ==
        order_status::confirmed);
  n.receive(a, 1, 100);
  CHECK(stamps(from) == stamped{{1, {9}}, {2, {4}}});
}

TEST_CASE("a stock change a shard's owner applied is a duplicate at the "
          "shard's next owner, whose inbox never saw its id") {
  auto [store, a, b] = stocked_two_shards();
  // Both nodes start before the change: neither inbox has its id from the
  // store it started from.
  node_fixture first{store, fresh_map()};
  node_fixture next{store, fresh_map()};
  first.adopt(1, 3);
  auto c = inbox_receipt("wms-1", a, 4);
  auto applied = first.call<inbox_result>(first.sup, atom::apply_v, c);
  REQUIRE_MESSAGE(applied, why(applied));
  CHECK(applied->outcome == inbox_outcome::applied);
  CHECK(first.stock(a).on_hand == 14);

  // The shard moves; the change is delivered again at its new owner.
  first.disown(1);
  next.adopt(1, 4);
  CHECK(next.stock(a).on_hand == 14);
  auto again = next.call<inbox_result>(next.sup, atom::apply_v, c);
  REQUIRE_MESSAGE(again, why(again));
  CHECK(again->outcome == inbox_outcome::duplicate);
  CHECK(next.stock(a).on_hand == 14);
  // Known now without a read; a new id is applied once.
  CHECK(next.call<inbox_result>(next.sup, atom::apply_v, c)->outcome ==
        inbox_outcome::duplicate);
  c.event_id = "wms-2";
  CHECK(next.call<inbox_result>(next.sup, atom::apply_v, c)->outcome ==
        inbox_outcome::applied);
  CHECK(next.stock(a).on_hand == 18);

  // The node that lost the shard refuses a change of it, nothing changed.
  c.event_id = "wms-3";
  CHECK(code(first.call<inbox_result>(first.sup, atom::apply_v, c)) ==
        "NOT_OWNER");
  CHECK(next.stock(a).on_hand == 18);
}

TEST_CASE("an inbound change whose id was read while its shard was lost, "
          "taken by another owner and taken back is refused, not applied "
          "a second time") {
  auto [store, a, b] = stocked_two_shards<hooked_store>();
  node_fixture first{store, fresh_map()};
  node_fixture next{store, fresh_map()};
  next.adopt(1, 4);
  auto c = inbox_receipt("wms-7", a, 4);
  // While next's store read of the id is on its way back: next loses the
  // shard, first takes it, applies the same change delivered to it, and
  // hands it back, and next serves it again under a newer epoch.
  store->on_inbox_lookup = [&] {
    next.shards->stop(1);
    first.adopt(1, 5);
    auto at_first = first.call<inbox_result>(first.sup, atom::apply_v, c);
    REQUIRE_MESSAGE(at_first, why(at_first));
    CHECK(at_first->outcome == inbox_outcome::applied);
    first.disown(1);
    next.shards->serve(1, 6);
  };
  // (A copy: C++17 lambdas do not capture structured bindings.)
  auto receipts = [&, sku = a] {
    int n = 0;
    for (auto& ev : next.store_events(1, 100'000))
      if (ev.kind == event_kind::stock_received && ev.sku == sku &&
          ev.inbox_id == c.event_id)
        ++n;
    return n;
  };
  // The read said "not known", but it was made under epoch 4: refused,
  // retryable, nothing journaled by next.
  CHECK(code(next.call<inbox_result>(next.sup, atom::apply_v, c)) ==
        "NOT_OWNER");
  CHECK(receipts() == 1);
  // Asked again: read under epoch 6, known, a duplicate.
  auto again = next.call<inbox_result>(next.sup, atom::apply_v, c);
  REQUIRE_MESSAGE(again, why(again));
  CHECK(again->outcome == inbox_outcome::duplicate);
  CHECK(receipts() == 1);
}

TEST_CASE("a shard lost while it was being loaded is not served") {
  auto store = std::make_shared<memory_store>();
  auto a = sku_on(3, "A");
  {
    fixture before{store, t0};
    before.receive(a, 4, 100);
  }
  node_fixture n{store, fresh_map()};
  // Both before the load's answer is handled.
  n.self->send(n.sup, atom::adopt_v, one(3, 5));
  n.self->send(n.sup, atom::disown_v, one(3, 0));
  n.sched.run();
  CHECK_FALSE(n.shards->serves(3));
  CHECK(code(n.call<stock_view>(n.sup, atom::get_v, a, seller::internal)) ==
        "NOT_OWNER");
  // A later adoption serves it.
  n.adopt(3, 6);
  CHECK(n.stock(a).available == 4);
}

TEST_CASE("a shard whose load failed is loaded again a second later, "
          "unless it was lost in between") {
  auto store = std::make_shared<flaky_store>();
  auto a = sku_on(3, "A");
  auto b = sku_on(2, "B");
  {
    fixture before{store, t0};
    before.receive(a, 4, 100);
    before.receive(b, 6, 100);
  }
  node_fixture n{store, fresh_map()};
  auto loads = store->loads;

  // Lost after its load failed, before the retry: never served.
  store->failing = 1;
  n.adopt(3, 5);
  CHECK(store->loads == loads + 1);
  CHECK_FALSE(n.shards->serves(3));
  n.disown(3);
  n.advance(2s);
  CHECK(store->loads == loads + 1); // nothing left to load
  CHECK_FALSE(n.shards->serves(3));
  CHECK(code(n.call<stock_view>(n.sup, atom::get_v, a, seller::internal)) ==
        "NOT_OWNER");

  // Still held at the retry: served, under the epoch it was taken with.
  store->failing = 2;
  n.adopt(2, 8);
  CHECK_FALSE(n.shards->serves(2));
  n.advance(1s); // the second load fails too
  CHECK_FALSE(n.shards->serves(2));
  n.advance(1s);
  CHECK(store->loads == loads + 4);
  CHECK(n.shards->epoch(2) == 8);
  CHECK(n.stock(b).available == 6);
  // The lost one is taken again, under a newer epoch: its own load.
  n.adopt(3, 7);
  CHECK(n.shards->epoch(3) == 7);
  CHECK(n.stock(a).available == 4);
}

TEST_CASE("a shard map refuses a bad count, and serves under one epoch at a "
          "time") {
  CHECK_THROWS_AS(shard_map{0}, std::invalid_argument);
  CHECK_THROWS_AS(shard_map{65'537}, std::invalid_argument);
  shard_map m{8};
  CHECK(m.epoch(8) == 0); // out of range: never served
  m.serve(8, 3);
  CHECK(m.served().empty());
  m.serve(2, 4);
  CHECK(m.serves(2));
  CHECK_FALSE(m.stop_if(2, 3)); // an older epoch leaves the newer one
  CHECK(m.epoch(2) == 4);
  CHECK(m.stop_if(2, 4));
  CHECK_FALSE(m.serves(2));
  // The same function the lease table uses.
  CHECK(m.shard_of("SKU-1") == shard_of_sku("SKU-1", 8));
}

TEST_CASE("an order across shards: the other shard's owner reserves, "
          "blocks, ships and gives back its units, journaling each change "
          "itself, all or nothing") {
  auto [store, a, b] = stocked_two_shards();
  node_fixture n{store, fresh_map()};
  n.adopt(1, 3);
  n.adopt(2, 4);

  // Created: both lines held, priced by their owners; the order's commit
  // journals its own shard's stock only, b's owner journals b's hold.
  auto made =
      n.create("c1", {{a, 2, seller::internal}, {b, 3, seller::internal}});
  auto id = made.record.id;
  CHECK(made.record.total_amount == 2 * 100 + 3 * 250);
  CHECK(n.stock(a).reserved == 2);
  CHECK(n.stock(b).reserved == 3);
  CHECK(n.stock_events_of(id, b) ==
        std::vector<event_kind>{event_kind::stock_reserved});
  CHECK(n.stock_events_of(id, a) ==
        std::vector<event_kind>{event_kind::stock_reserved});
  CHECK(n.audit().violations.empty());

  // All or nothing: b short refuses the order, and a gives its units back.
  CHECK(code(n.try_create(
            "c2", {{a, 1, seller::internal}, {b, 3, seller::internal}})) ==
        "INSUFFICIENT_STOCK");
  CHECK(n.stock(a).available == 8);
  CHECK(n.stock(b).available == 2);

  // Confirmed: blocked at both; a line cancelled in part: b's hold shrinks.
  CHECK(n.must_apply(id, command_kind::confirm).status ==
        order_status::confirmed);
  CHECK(n.stock(b).blocked == 3);
  auto part = n.cancel_lines(id, {{b, 1, seller::internal}});
  REQUIRE_MESSAGE(part, why(part));
  CHECK(n.stock(b).blocked == 2);
  CHECK(n.stock(b).available == 3);

  // Paid and shipped: b's units leave on-hand at b's owner.
  n.must_pay(id, part->total_amount);
  auto shipped = n.ship_lines(id, {});
  REQUIRE_MESSAGE(shipped, why(shipped));
  CHECK(n.stock(b).blocked == 0);
  CHECK(n.stock(b).on_hand == 3);
  CHECK(n.stock(a).on_hand == 8);
  CHECK(n.stock_events_of(id, b) ==
        std::vector<event_kind>{
            event_kind::stock_reserved, event_kind::stock_blocked,
            event_kind::stock_released, event_kind::stock_consumed});
  CHECK(n.audit().violations.empty());

  // A return of a unit held on another shard: received by b's owner's
  // inbox under the step's id, so a step asked again changes b once.
  n.must_apply(id, command_kind::deliver);
  return_command ret;
  ret.step = return_step::request;
  ret.lines = {{b, 1, "damaged", 0, 0}};
  auto asked = n.call<order_record>(n.sup, atom::apply_v, id, ret);
  REQUIRE_MESSAGE(asked, why(asked));
  auto before_return = n.stock(b);
  return_command receive;
  receive.step = return_step::receive;
  receive.return_id = asked->returns.at(0).id;
  auto received = n.call<order_record>(n.sup, atom::apply_v, id, receive);
  REQUIRE_MESSAGE(received, why(received));
  CHECK(received->returns.at(0).status == return_status::received);
  // Back on hand at b's owner, set aside until inspected.
  CHECK(n.stock(b).on_hand == before_return.on_hand + 1);
  CHECK(n.stock(b).available == before_return.available);
  auto again = n.call<order_record>(n.sup, atom::apply_v, id, receive);
  CHECK(code(again) == "INVALID_TRANSITION");
  CHECK(n.stock(b).on_hand == before_return.on_hand + 1);
  CHECK(n.audit().violations.empty());

  // Cancelled whole before confirmation: both owners give every unit back.
  auto other =
      n.create("c3", {{a, 1, seller::internal}, {b, 1, seller::internal}});
  n.must_apply(other.record.id, command_kind::cancel);
  CHECK(n.stock(b).available == 3);
  CHECK(n.stock(b).reserved == 0);

  // An owner that cannot be reached refuses a confirmation before
  // anything is journaled: the order stays CREATED, its units reserved.
  auto third =
      n.create("c4", {{a, 1, seller::internal}, {b, 1, seller::internal}});
  n.disown(2);
  order_command confirm;
  confirm.kind = command_kind::confirm;
  auto unreached =
      n.call_waiting<order_record>(atom::apply_v, third.record.id, confirm);
  CHECK(code(unreached) == "UNAVAILABLE");
  auto still = n.get_order(third.record.id);
  REQUIRE(still);
  CHECK(still->status == order_status::created);
  CHECK(n.stock(a).reserved == 1);
  n.adopt(2, 6);
  CHECK(n.stock(b).reserved == 1);
  CHECK(n.must_apply(third.record.id, command_kind::confirm).status ==
        order_status::confirmed);
  CHECK(n.stock(b).blocked == 1);

  // The order's state as the store has it matches the holds there: a node
  // starting from it finds b's units where they are.
  node_fixture later{store, fresh_map()};
  later.adopt(2, 7);
  CHECK(later.stock(b).on_hand == 4); // one returned, set aside
  CHECK(later.stock(b).available == 2);
  CHECK(later.stock(b).blocked == 1);
}

TEST_CASE("a reservation made for an order on another shard that never came "
          "to be goes back once the hold and its grace have passed, at the "
          "node that made it or at the next owner of its shard") {
  auto [store, a, b] = stocked_two_shards();
  auto grace = default_test_settings().hold_ttl +
               default_test_settings().foreign_hold_grace;
  {
    node_fixture n{store, fresh_map()};
    n.adopt(2, 1);
    // As an order of shard 1, placed at another node, asks.
    auto made =
        n.call<hold_outcome>(n.sup, atom::hold_v, b,
                             hold_change{hold_op::reserve, "ord_x", 2}, true);
    REQUIRE_MESSAGE(made, why(made));
    CHECK(made->reserved.granted);
    CHECK(made->reserved.unit_price == 250);
    // Asked again (an answer lost): the same grant, nothing more held.
    auto again =
        n.call<hold_outcome>(n.sup, atom::hold_v, b,
                             hold_change{hold_op::reserve, "ord_x", 2}, true);
    REQUIRE(again);
    CHECK(again->reserved.granted);
    CHECK(n.stock(b).reserved == 2);
    // Another quantity for the same order is refused.
    CHECK(code(n.call<hold_outcome>(n.sup, atom::hold_v, b,
                                    hold_change{hold_op::reserve, "ord_x", 3},
                                    true)) == "VALIDATION_FAILED");
    // Not served here, and not to be routed: NOT_OWNER.
    CHECK(code(n.call<hold_outcome>(n.sup, atom::hold_v, a,
                                    hold_change{hold_op::reserve, "ord_y", 1},
                                    false)) == "NOT_OWNER");
    // One blocked meanwhile: blocked units never lapse.
    REQUIRE(n.call<hold_outcome>(n.sup, atom::hold_v, b,
                                 hold_change{hold_op::reserve, "ord_w", 1},
                                 true));
    REQUIRE(n.call<hold_outcome>(
        n.sup, atom::hold_v, b, hold_change{hold_op::block, "ord_w", 0}, true));
    // The SKU's own orders' messages do not touch such holds.
    CHECK(code(n.call<int64_t>(n.stock_actor(b), atom::release_v,
                               order_id{"ord_w"})) == "INVALID_TRANSITION");
    n.advance(grace - 1min);
    CHECK(n.stock(b).reserved == 2);
    n.advance(2min);
    CHECK(n.stock(b).reserved == 0);
    CHECK(n.stock(b).blocked == 1);
    CHECK(n.stock(b).available == 4);
    CHECK(n.stock_events_of("ord_x", b) ==
          std::vector<event_kind>{event_kind::stock_reserved,
                                  event_kind::stock_released});
    // Too late to block: refused, nothing held.
    CHECK(code(n.call<hold_outcome>(n.sup, atom::hold_v, b,
                                    hold_change{hold_op::block, "ord_x", 0},
                                    true)) == "INVALID_TRANSITION");
    // A second one, left when the node goes.
    REQUIRE(n.call<hold_outcome>(n.sup, atom::hold_v, b,
                                 hold_change{hold_op::reserve, "ord_z", 1},
                                 true));
  }
  node_fixture next{store, fresh_map()};
  next.adopt(2, 2);
  CHECK(next.stock(b).reserved == 1);
  next.advance(grace + 1min);
  CHECK(next.stock(b).reserved == 0);
  CHECK(next.stock(b).blocked == 1);
  CHECK(next.stock(b).available == 4);
}

TEST_CASE("a change of a hold on another shard whose message was lost is "
          "made by the SKU's owner from the order's record as stored") {
  auto [store, a, b] = stocked_two_shards();
  node_fixture n{store, fresh_map()};
  n.adopt(1, 1);
  n.adopt(2, 1);
  auto made =
      n.create("c1", {{a, 1, seller::internal}, {b, 2, seller::internal}});
  auto id = made.record.id;
  n.must_apply(id, command_kind::confirm);
  CHECK(n.stock(b).blocked == 2);
  // b's owner cannot be reached when the order is cancelled: the order is
  // cancelled all the same (journaled first), b's release is lost.
  n.disown(2);
  order_command cancel;
  cancel.kind = command_kind::cancel;
  auto cancelled = n.call_waiting<order_record>(atom::apply_v, id, cancel);
  REQUIRE_MESSAGE(cancelled, why(cancelled));
  CHECK(cancelled->status == order_status::cancelled);
  CHECK(n.stock(a).available == 10);
  // Its next owner finds the hold of an order that is not live here, and
  // settles it against the order's record within a check interval.
  n.adopt(2, 2);
  CHECK(n.stock(b).blocked == 2);
  n.advance(default_test_settings().off_shard_check_interval + 1s);
  CHECK(n.stock(b).blocked == 0);
  CHECK(n.stock(b).available == 5);
  CHECK(n.stock_events_of(id, b).back() == event_kind::stock_released);
  CHECK(n.audit().violations.empty());
}

TEST_CASE("settling a hold on another shard against its order's record "
          "only gives back what the record no longer holds") {
  order_record rec;
  rec.id = "o1";
  rec.status = order_status::confirmed;
  rec.lines = {order_line{"A", 4, 100, 0, 0, {}},
               order_line{"B", 3, 100, 0, 0, {}}};
  auto hold = [](int64_t qty, hold_kind kind) {
    return hold_view{"o1", qty, kind, {}};
  };
  // As the record says, or ahead of it: nothing.
  CHECK(settle_off_shard_hold(rec, "B", hold(3, hold_kind::blocked)).empty());
  CHECK(settle_off_shard_hold(rec, "B", hold(2, hold_kind::blocked)).empty());
  // Not a line of the order: given back.
  auto stray = settle_off_shard_hold(rec, "C", hold(2, hold_kind::reserved));
  REQUIRE(stray.size() == 1);
  CHECK(stray[0].op == hold_op::release);
  // One unit cancelled, one shipped (the owner shipped it before the
  // shipment was journaled): the hold shrinks to the one left.
  rec.lines[1].cancelled_quantity = 1;
  rec.lines[1].shipped_quantity = 1;
  rec.status = order_status::partially_shipped;
  auto less = settle_off_shard_hold(rec, "B", hold(2, hold_kind::blocked));
  REQUIRE(less.size() == 1);
  CHECK(less[0].op == hold_op::reduce);
  CHECK(less[0].quantity == 1);
  // Cancelled (or shipped whole): what is left goes back.
  rec.status = order_status::cancelled;
  auto back = settle_off_shard_hold(rec, "B", hold(1, hold_kind::blocked));
  REQUIRE(back.size() == 1);
  CHECK(back[0].op == hold_op::release);
}

TEST_CASE("units on another shard ship there before the shipment is "
          "journaled: an owner out of reach refuses it, and a later "
          "cancellation gives back only units that did not ship") {
  auto [store, a, b] = stocked_two_shards();
  node_fixture n{store, fresh_map()};
  n.adopt(1, 1);
  n.adopt(2, 1);
  auto made =
      n.create("c1", {{a, 1, seller::internal}, {b, 5, seller::internal}});
  auto id = made.record.id;
  n.must_pay(id, made.record.total_amount);
  CHECK(n.stock(b).blocked == 5);
  // b's owner out of reach: the shipment of 2 is refused, nothing shipped.
  n.disown(2);
  order_command ship;
  ship.kind = command_kind::ship;
  ship.lines = {{b, 2, seller::internal}};
  auto refused = n.call_waiting<order_record>(atom::apply_v, id, ship);
  CHECK(code(refused) == "UNAVAILABLE");
  auto still = n.get_order(id);
  REQUIRE(still);
  CHECK(still->status == order_status::paid);
  CHECK(still->lines[1].shipped_quantity == 0);
  n.adopt(2, 2);
  CHECK(n.stock(b).on_hand == 5);
  // Back: 2 ship (at b's owner first), then the 3 left are cancelled and
  // go back; the 2 that left never do.
  auto shipped = n.ship_lines(id, {{b, 2, seller::internal}});
  REQUIRE_MESSAGE(shipped, why(shipped));
  CHECK(n.stock(b).on_hand == 3);
  CHECK(n.stock(b).blocked == 3);
  auto cancelled = n.cancel_lines(id, {{b, 3, seller::internal}});
  REQUIRE_MESSAGE(cancelled, why(cancelled));
  CHECK(n.stock(b).on_hand == 3);
  CHECK(n.stock(b).blocked == 0);
  CHECK(n.stock(b).available == 3);
  CHECK(n.audit().violations.empty());
}

TEST_CASE("the regions peers offer are taken once, and bounded") {
  fixture f;
  auto region = oms::cluster::spawn_region(f.sys, "n1", [] { return 0; });
  oms::cluster::forward_slot slot;
  slot.offer("n2", region);
  CHECK(slot.take_offer("n2") == region);
  CHECK(!slot.take_offer("n2")); // taken
  CHECK(!slot.take_offer("n3"));
  // A peer names itself: an id longer than a node id can be is ignored,
  // and so are new peers past the bound (a known one is still replaced).
  slot.offer(std::string(65, 'n'), region);
  CHECK(!slot.take_offer(std::string(65, 'n')));
  for (size_t i = 0; i < oms::cluster::forward_slot::offers_max; ++i)
    slot.offer("p" + std::to_string(i), region);
  slot.offer("one-too-many", region);
  CHECK(!slot.take_offer("one-too-many"));
  slot.offer("p7", region);
  CHECK(slot.take_offer("p7") == region);
  caf::anon_send_exit(region, caf::exit_reason::user_shutdown);
}

TEST_CASE("a peer asking a region for a SKU is handed a reader of its "
          "stock, never the SKU actor's own handle") {
  auto s = stocked_two_shards();
  node_fixture n{s.store, fresh_map()};
  n.adopt(1, 1);
  auto slot = std::make_shared<oms::cluster::forward_slot>();
  slot->set_holds(n.sup);
  auto region = oms::cluster::spawn_region(
      n.sys, "n1", [] { return uint64_t{1}; }, slot);
  auto reader = n.call<stock_reader_actor>(region, atom::find_sku_v, s.a,
                                           seller::internal);
  REQUIRE_MESSAGE(reader, why(reader));
  // It reads the SKU's stock and price, answering in its own name (the
  // reply's sender is no way to the SKU's actor either).
  auto sku_actor = n.stock_actor(s.a);
  caf::actor_addr replied_by;
  std::optional<stock_view> view;
  auto rh = n.self->request(*reader, caf::infinite, atom::get_v);
  n.sched.run();
  rh.receive(
      [&](stock_view& v) {
        view = v;
        replied_by = caf::actor_cast<caf::actor_addr>(n.self->current_sender());
      },
      [&](caf::error& err) { FAIL(describe(err)); });
  REQUIRE(view);
  CHECK(view->available == 10);
  CHECK(view->unit_price == 100);
  CHECK(replied_by == reader->address());
  CHECK(replied_by != sku_actor.address());
  // It is not the SKU's actor, and a peer that casts it to one gets
  // nothing else out of it: every other request is refused, nothing
  // changes.
  CHECK(reader->address() != sku_actor.address());
  auto cast = caf::actor_cast<inventory_actor>(*reader);
  CHECK_FALSE(n.call<stock_snapshot>(cast, atom::holds_v));
  CHECK_FALSE(n.call<stock_view>(cast, atom::receive_v, int64_t{5}, money{0}));
  CHECK(n.stock(s.a).available == 10);
  // One reader per SKU actor: asked again, the same.
  auto again = n.call<stock_reader_actor>(region, atom::find_sku_v, s.a,
                                          seller::internal);
  REQUIRE(again);
  CHECK(*again == *reader);
  // A SKU of a shard this node does not serve: NOT_OWNER, nothing handed.
  CHECK(code(n.call<stock_reader_actor>(region, atom::find_sku_v, s.b,
                                        seller::internal)) == "NOT_OWNER");
  // An EXTERNAL SKU is the duty shard's, not served here either.
  CHECK(code(n.call<stock_reader_actor>(region, atom::find_sku_v, s.a,
                                        seller::external)) == "NOT_OWNER");
  // The SKU's actor ends (its shard lost): so does the reader, and the
  // SKU's next actor gets a reader of its own.
  n.self->monitor(*reader);
  n.disown(1);
  bool ended = false;
  n.self->receive(
      [&](const caf::down_msg& dm) { ended = dm.source == reader->address(); },
      caf::after(std::chrono::seconds(0)) >> [] {});
  CHECK(ended);
  n.adopt(1, 2);
  auto next = n.call<stock_reader_actor>(region, atom::find_sku_v, s.a,
                                         seller::internal);
  REQUIRE_MESSAGE(next, why(next));
  CHECK(*next != *reader);
  CHECK(n.call<stock_view>(*next, atom::get_v));
  caf::anon_send_exit(region, caf::exit_reason::user_shutdown);
  n.sched.run();
}
