// A cluster node's take of some shards (docs/cluster.md) reads those shards'
// rows of the SQL stores, through the SKUs' and live orders' shard columns,
// and keeps what a read of the whole store followed by the shards' filter
// keeps: on SQLite, and on PostgreSQL when OMS_TEST_PG names a server.
#include <set>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "actors/journal.hpp"
#include "actors/order_plan.hpp" // order_event
#include "messages/errors.hpp"
#include "messages/shards.hpp"
#include "system/store/sql_store.hpp"
#include "tests/backends.hpp"
#include "tests/why.hpp"

using namespace oms;
using namespace oms::test;

namespace {

constexpr uint32_t take_shards = 8;

event sku_change(event_kind kind, const std::string& sku, int64_t qty,
                 timestamp_ms at) {
  event ev;
  ev.kind = kind;
  ev.at = at;
  ev.sku = sku;
  ev.quantity = qty;
  return ev;
}

order_record live_order(const std::string& id, const std::string& sku,
                        seller from, timestamp_ms at) {
  order_record r;
  r.id = id;
  r.customer = "c-" + id;
  r.seller = from;
  r.lines = {{sku, 2, 100, 0, 0, {}}};
  r.status = order_status::created;
  r.total_amount = 200;
  r.created_at = at;
  r.updated_at = at;
  r.hold_expires_at = at + 900'000;
  r.history = {
      {at, order_status::created, order_status::created, "created", 200}};
  return r;
}

// Twelve SKUs on several shards, each with 50 units, a batch, a live order
// holding 2 of them and a shipped order (not live); an EXTERNAL order
// (the duty shard's), and an order of two lines whose first line decides
// its shard. `from` and `to` bound which SKUs (by number) it makes.
std::vector<event> shop_events(int from, int to) {
  std::vector<event> evs;
  for (int i = from; i < to; ++i) {
    auto sku = "SKU-" + std::to_string(i);
    timestamp_ms at = 1000 + i * 10;
    auto made = sku_change(event_kind::sku_created, sku, 0, at);
    made.amount = 100;
    evs.push_back(made);
    auto in = sku_change(event_kind::stock_received, sku, 50, at);
    in.lot = "L-" + sku;
    evs.push_back(in);
    auto live = live_order("o-" + sku, sku, seller::internal, at);
    evs.push_back(order_event(event_kind::order_created, live));
    auto hold = sku_change(event_kind::stock_reserved, sku, 2, at);
    hold.order = live.id;
    evs.push_back(hold);
    auto done = live_order("d-" + sku, sku, seller::internal, at);
    done.status = order_status::delivered;
    evs.push_back(order_event(event_kind::order_created, done));
  }
  return evs;
}

std::vector<event> extra_events() {
  std::vector<event> evs;
  auto ext = live_order("o-ext", "EXT-9", seller::external, 5000);
  evs.push_back(order_event(event_kind::order_created, ext));
  // Two lines: on its first line's shard, whatever the second's.
  auto two = live_order("o-two", "SKU-3", seller::internal, 5001);
  two.lines.push_back({"SKU-10", 1, 100, 0, 0, {}});
  evs.push_back(order_event(event_kind::order_created, two));
  return evs;
}

void commit(journal_store& store, const std::vector<event>& evs) {
  for (size_t i = 0; i < evs.size(); i += 5) {
    auto err = store.commit(std::vector<event>(
        evs.begin() + static_cast<long>(i),
        evs.begin() + static_cast<long>(std::min(evs.size(), i + 5))));
    REQUIRE_MESSAGE(!err, describe(err));
  }
}

// What a take of `shards` keeps, as ids: SKUs (with their batches' lots),
// holds, live orders, and the EXTERNAL seller's part.
struct kept {
  std::vector<std::string> skus, holds, orders;
  bool external = false;
  bool operator==(const kept& other) const {
    return skus == other.skus && holds == other.holds &&
           orders == other.orders && external == other.external;
  }
};

kept kept_of(recovered_state all, const std::vector<uint32_t>& shards,
             uint32_t count) {
  auto got = state_of_shards(all, shards, count);
  kept result;
  for (auto& s : got.skus) {
    std::string lots;
    for (auto& b : s.batches)
      lots += "/" + b.lot + ":" + std::to_string(b.on_hand);
    result.skus.push_back(s.sku + lots);
  }
  for (auto& h : got.holds)
    result.holds.push_back(h.order + "@" + h.sku + "x" +
                           std::to_string(h.quantity));
  for (auto& o : got.live_orders)
    result.orders.push_back(o.id);
  result.external = got.external;
  return result;
}

std::set<uint32_t> shards_of_skus(const recovered_state& read, uint32_t count) {
  std::set<uint32_t> result;
  for (auto& s : read.skus)
    result.insert(shard_of_sku(s.sku, count));
  return result;
}

// Every shard's take, and one of two shards, read through the columns and
// kept as the whole store's read keeps them.
void check_takes(journal_store& store, uint32_t count) {
  auto whole = store.load_stock(true);
  REQUIRE_MESSAGE(whole, why(whole));
  size_t rows = 0;
  for (uint32_t s = 0; s < count; ++s) {
    CAPTURE(s);
    auto read = store.load_shards({s}, count, s == duty_shard);
    REQUIRE_MESSAGE(read, why(read));
    // Only that shard's SKUs and live orders were read.
    auto on = shards_of_skus(*read, count);
    CHECK((on.empty() || on == std::set<uint32_t>{s}));
    for (auto& o : read->live_orders)
      CHECK(shard_value(o, count) == int64_t{s});
    rows += read->skus.size();
    CHECK(kept_of(*read, {s}, count) == kept_of(*whole, {s}, count));
  }
  CHECK(rows == whole->skus.size());
  auto two = store.load_shards({1, 5}, count, false);
  REQUIRE_MESSAGE(two, why(two));
  CHECK(kept_of(*two, {1, 5}, count) == kept_of(*whole, {1, 5}, count));
}

} // namespace

TEST_CASE("a shard's take reads that shard's rows once the store's shard "
          "columns are computed, and keeps what a read of the whole store "
          "keeps") {
  temp_dir dir;
  for (auto& b : backends(dir)) {
    if (b.name == "memory")
      continue; // no tables: its take is all of load_stock()
    SUBCASE(b.name.c_str()) {
      auto first = shop_events(0, 6);
      auto later = shop_events(6, 12);
      auto extra = extra_events();
      {
        auto store = b.open();
        auto* sql = dynamic_cast<sql_store*>(store.get());
        REQUIRE(sql != nullptr);
        commit(*store, first);
        // Not computed yet: every take reads the whole store.
        CHECK(sql->shard_count() == 0);
        auto all = store->load_stock(false);
        REQUIRE_MESSAGE(all, why(all));
        auto one = store->load_shards({3}, take_shards, false);
        REQUIRE_MESSAGE(one, why(one));
        CHECK(one->skus.size() == all->skus.size());
        CHECK(one->live_orders.size() == all->live_orders.size());
        // Computed for the rows there, then written with each new row.
        auto err = sql->index_shards(take_shards);
        REQUIRE_MESSAGE(!err, describe(err));
        CHECK(sql->shard_count() == take_shards);
        commit(*store, later);
        commit(*store, extra);
        check_takes(*store, take_shards);
      }
      // Reopened: the store knows the count its columns are computed for.
      {
        auto store = b.open();
        auto* sql = dynamic_cast<sql_store*>(store.get());
        CHECK(sql->shard_count() == take_shards);
        check_takes(*store, take_shards);
        // Another count than the columns': the whole store is read.
        auto other = store->load_shards({3}, 16, false);
        REQUIRE_MESSAGE(other, why(other));
        auto all = store->load_stock(false);
        REQUIRE_MESSAGE(all, why(all));
        CHECK(other->skus.size() == all->skus.size());
        CHECK(kept_of(*other, {3}, 16) == kept_of(*all, {3}, 16));
        // Counts out of range are refused, and change nothing.
        for (uint32_t bad : {0u, max_shards + 1}) {
          auto refused = sql->index_shards(bad);
          CHECK(code_of(refused) == errc::store_failure);
          CHECK(sql->shard_count() == take_shards);
        }
        // Computed again for another count.
        auto err = sql->index_shards(16);
        REQUIRE_MESSAGE(!err, describe(err));
        check_takes(*store, 16);
        err = sql->index_shards(take_shards);
        REQUIRE_MESSAGE(!err, describe(err));
      }
      // A row whose shard is not there (written by a build before the
      // columns) is read by every take, and kept by its own shard's only.
      b.exec_sql("UPDATE skus SET shard = NULL WHERE sku = 'SKU-4'; "
                 "UPDATE orders SET shard = NULL WHERE id = 'o-SKU-7'");
      auto store = b.open();
      auto whole = store->load_stock(true);
      REQUIRE_MESSAGE(whole, why(whole));
      for (uint32_t s = 0; s < take_shards; ++s) {
        CAPTURE(s);
        auto read = store->load_shards({s}, take_shards, s == duty_shard);
        REQUIRE_MESSAGE(read, why(read));
        bool has_4 = false, has_7 = false;
        for (auto& sku : read->skus)
          has_4 = has_4 || sku.sku == "SKU-4";
        for (auto& o : read->live_orders)
          has_7 = has_7 || o.id == "o-SKU-7";
        CHECK(has_4);
        CHECK(has_7);
        CHECK(kept_of(*read, {s}, take_shards) ==
              kept_of(*whole, {s}, take_shards));
      }
    }
  }
}
