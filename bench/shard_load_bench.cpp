// What a cluster node reads to take shards (docs/cluster.md): fills a store
// with SKUs and orders (a share of them live), computes its shard columns
// (timed: what the first start of a cluster on an existing store spends),
// then (on PostgreSQL after a VACUUM ANALYZE, as autovacuum would do in
// time) times a take of one shard, of a third of the shards (a node of three
// joining), and the read of every shard's stock that a take made before the
// columns. Prints one JSON line. PostgreSQL with --conn or OMS_TEST_PG (the
// cluster's store); SQLite with --store sqlite.
//   oms-bench-shard-load [--store postgres|sqlite] [--skus N] [--orders N]
//                        [--live-percent P] [--shards S] [--rounds R]
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "bench/bench_common.hpp"
#include "messages/shards.hpp"
#include "system/log.hpp"
#include "system/store/pg_store.hpp"
#include "system/store/sqlite_store.hpp"
#include "tests/pg_schema.hpp"

using namespace oms;
using clock_type = std::chrono::steady_clock;

namespace {

struct options {
  std::string store = "postgres";
  std::string conn;
  uint64_t skus = 20'000;
  uint64_t orders = 200'000;
  uint64_t live_percent = 20;
  uint32_t shards = 256;
  int rounds = 3;
};

event ev_of(event_kind kind, const std::string& sku, const std::string& order,
            int64_t qty, money amount = 0) {
  event ev;
  ev.kind = kind;
  ev.at = 1'700'000'000'000;
  ev.sku = sku;
  ev.order = order;
  ev.quantity = qty;
  ev.amount = amount;
  return ev;
}

// Commits `batch` (and, on SQLite, brings the tables up to the log as the
// JOURNAL does); false on a failure, printed.
bool commit(journal_store& store, std::vector<event>& batch) {
  auto err = store.commit(batch);
  if (!err)
    if (auto* lite = dynamic_cast<sqlite_store*>(&store))
      err = lite->apply_committed();
  batch.clear();
  if (err)
    std::cerr << describe(err) << '\n';
  return !err;
}

bool fill(journal_store& store, const options& o, uint64_t& live) {
  std::vector<event> batch;
  for (uint64_t s = 0; s < o.skus; ++s) {
    auto sku = "SKU-" + std::to_string(s);
    batch.push_back(ev_of(event_kind::sku_created, sku, "", 0, 1000));
    batch.push_back(ev_of(event_kind::stock_received, sku, "", 1'000'000));
    if (batch.size() >= 2000 && !commit(store, batch))
      return false;
  }
  for (uint64_t i = 0; i < o.orders; ++i) {
    order_record r;
    r.id = "ord_" + std::to_string(i);
    r.customer = "cust-" + std::to_string(i % 10'000);
    auto sku = "SKU-" + std::to_string(i % o.skus);
    r.lines = {{sku, 1, 1000, 0, 0, {}}};
    r.total_amount = 1000;
    r.created_at = 1'700'000'000'000;
    r.updated_at = r.created_at;
    r.hold_expires_at = r.created_at + 3'600'000;
    r.history = {{r.created_at, order_status::created, order_status::created,
                  "created", 1000}};
    auto created = ev_of(event_kind::order_created, "", r.id, 0, 1000);
    created.snapshot = r;
    batch.push_back(std::move(created));
    batch.push_back(ev_of(event_kind::stock_reserved, sku, r.id, 1));
    if (i % 100 >= o.live_percent) {
      r.status = order_status::cancelled;
      r.cancel_reason = "CUSTOMER_REQUEST";
      batch.push_back(ev_of(event_kind::stock_released, sku, r.id, 1));
      auto changed = ev_of(event_kind::order_changed, "", r.id, 0, 1000);
      changed.snapshot = r;
      batch.push_back(std::move(changed));
    } else {
      ++live;
    }
    if (batch.size() >= 4000 && !commit(store, batch))
      return false;
  }
  return batch.empty() || commit(store, batch);
}

struct timed_read {
  double seconds = 0; // the median of the rounds
  size_t skus = 0, holds = 0, live_orders = 0;
};

template <class Read>
std::optional<timed_read> time_read(int rounds, Read read) {
  std::vector<double> times;
  timed_read result;
  for (int i = 0; i < rounds; ++i) {
    auto start = clock_type::now();
    caf::expected<recovered_state> got = read();
    times.push_back(bench::seconds_since(start));
    if (!got) {
      std::cerr << describe(got.error()) << '\n';
      return std::nullopt;
    }
    result.skus = got->skus.size();
    result.holds = got->holds.size();
    result.live_orders = got->live_orders.size();
  }
  std::sort(times.begin(), times.end());
  result.seconds = times[times.size() / 2];
  return result;
}

nlohmann::json json_of(const timed_read& r) {
  return {{"seconds", r.seconds},
          {"skus", r.skus},
          {"holds", r.holds},
          {"liveOrders", r.live_orders}};
}

} // namespace

int main(int argc, char** argv) {
  options o;
  if (auto env = std::getenv("OMS_TEST_PG"))
    o.conn = env;
  CLI::App app{"oms-bench-shard-load: what a cluster node reads to take "
               "shards, against a read of every shard"};
  app.add_option("--store", o.store, "postgres or sqlite")
      ->check(CLI::IsMember({"postgres", "sqlite"}))
      ->capture_default_str();
  app.add_option("--conn", o.conn, "libpq connection string (postgres)");
  app.add_option("--skus", o.skus, "SKUs")
      ->check(CLI::Range(uint64_t{1}, uint64_t{10'000'000}))
      ->capture_default_str();
  app.add_option("--orders", o.orders, "Orders")
      ->check(CLI::Range(uint64_t{0}, uint64_t{100'000'000}))
      ->capture_default_str();
  app.add_option("--live-percent", o.live_percent, "Share of orders live")
      ->check(CLI::Range(uint64_t{0}, uint64_t{100}))
      ->capture_default_str();
  app.add_option("--shards", o.shards, "Shards of the cluster")
      ->check(CLI::Range(uint32_t{3}, max_shards))
      ->capture_default_str();
  app.add_option("--rounds", o.rounds, "Reads timed of each kind (median)")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  log::set_level(log::level::warn);
  std::optional<bench::scratch_dir> dir;
  std::string schema = "bench_shard_" + std::to_string(getpid());
  std::unique_ptr<sql_store> store;
  if (o.store == "postgres") {
    if (o.conn.empty()) {
      std::cerr << "oms-bench-shard-load: no --conn and no OMS_TEST_PG: "
                   "skipped\n";
      return 77;
    }
    oms::test::drop_schema(o.conn, schema);
    auto opened = pg_store::open(o.conn, schema);
    if (!opened) {
      std::cerr << describe(opened.error()) << '\n';
      return 2;
    }
    store = std::move(*opened);
  } else {
    dir.emplace("shard-load");
    auto opened = sqlite_store::open(dir->path() + "/oms.db");
    if (!opened) {
      std::cerr << describe(opened.error()) << '\n';
      return 2;
    }
    store = std::move(*opened);
  }
  uint64_t live = 0;
  auto fill_start = clock_type::now();
  if (!fill(*store, o, live))
    return 2;
  auto fill_s = bench::seconds_since(fill_start);
  // The columns computed for every row there: the first start of a
  // cluster on this store.
  auto index_start = clock_type::now();
  if (auto err = store->index_shards(o.shards)) {
    std::cerr << describe(err) << '\n';
    return 2;
  }
  auto index_s = bench::seconds_since(index_start);
  // As autovacuum would in time: the row versions the fill and the index
  // left behind gone, the planner's statistics current.
  if (o.store == "postgres") {
    pqxx::connection c{o.conn};
    pqxx::nontransaction n{c};
    n.exec("SET search_path TO " + n.quote_name(schema));
    n.exec("VACUUM ANALYZE");
  }
  std::vector<uint32_t> one{1};
  std::vector<uint32_t> third;
  for (uint32_t s = 0; s < o.shards; s += 3)
    third.push_back(s);
  auto whole = time_read(o.rounds, [&] { return store->load_stock(true); });
  auto shard = time_read(
      o.rounds, [&] { return store->load_shards(one, o.shards, false); });
  auto node = time_read(
      o.rounds, [&] { return store->load_shards(third, o.shards, true); });
  store.reset();
  if (o.store == "postgres")
    oms::test::drop_schema(o.conn, schema);
  if (!whole || !shard || !node)
    return 2;
  nlohmann::json line{
      {"bench", "shard_load"},
      {"store", o.store},
      {"skus", o.skus},
      {"orders", o.orders},
      {"liveOrders", live},
      {"shards", o.shards},
      {"fillSeconds", fill_s},
      {"indexSeconds", index_s},
      {"everyShard", json_of(*whole)},
      {"oneShard", json_of(*shard)},
      {"thirdOfShards", json_of(*node)},
      {"oneShardRatio", shard->seconds / whole->seconds},
      {"thirdOfShardsRatio", node->seconds / whole->seconds},
  };
  std::cout << line.dump() << '\n';
  return 0;
}
