// A cluster node's SUPERVISOR (actors/supervisor_shards.cpp): it serves the
// shards it was told to adopt, loaded from the store the nodes share, and
// refuses the others with NOT_OWNER. On virtual time, over a memory store
// that a first, single-node system filled.
#include "tests/fixture.hpp"

#include "messages/shards.hpp"

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

shard_epochs one(uint32_t shard, int64_t epoch) {
  return shard_epochs{{shard}, {epoch}};
}

struct node_fixture : fixture {
  std::shared_ptr<shard_map> shards;

  node_fixture(std::shared_ptr<journal_store> store,
               std::shared_ptr<shard_map> map)
      : fixture(std::move(store), t0, default_test_settings(), {}, nullptr, {},
                map),
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

} // namespace

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
  node_fixture n{store, std::make_shared<shard_map>(shard_count)};

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
  // One shard per order; a second shard refuses the whole order.
  CHECK(code(n.try_create(
            "c1", {{a, 1, seller::internal}, {b, 1, seller::internal}})) ==
        "ORDER_SPANS_SHARDS");
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

TEST_CASE("a shard lost while it was being loaded is not served") {
  auto store = std::make_shared<memory_store>();
  auto a = sku_on(3, "A");
  {
    fixture before{store, t0};
    before.receive(a, 4, 100);
  }
  node_fixture n{store, std::make_shared<shard_map>(shard_count)};
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
  node_fixture n{store, std::make_shared<shard_map>(shard_count)};
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
