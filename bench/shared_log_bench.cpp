// What one shared, fenced journal costs the nodes of a cluster
// (docs/cluster.md): W writers, each a PostgreSQL store opened as one of
// several (pg_store::open_shared) and holding the leases of its own shards,
// commit batches of receipts for SKUs of their shards as fast as they can,
// each commit through the fence of every shard its batch touches and
// numbered from the one log head they all lock. Against, in the same run,
// one store that owns its schema alone (pg_store::open: no head row, no
// fence). Prints one JSON line per run and the ratios; exits 1 if a run
// committed nothing or had a commit refused, 77 without a server.
//
//   oms-bench-shared-log [--conn STR] [--writers 1,2,4] [--batch 32]
//                        [--seconds 3] [--shards 64] [--unrecorded]
//                        [--events receipts|orders]
// --events orders: each pair of events a new one-line order as the order
// path journals it (order_created, stock_reserved) instead of receipts.
// --conn defaults to $OMS_TEST_PG (tools/with-postgres.sh sets it).
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "actors/ids.hpp"
#include "bench/bench_common.hpp"
#include "system/cluster/leases.hpp"
#include "system/store/pg_store.hpp"
#include "tests/order_events.hpp"
#include "tests/pg_schema.hpp"

using namespace oms;
namespace bench = oms::bench;
using json = nlohmann::ordered_json;

namespace {

struct options {
  std::string conn;
  std::string writers = "1,2,4";
  int batch = 32;
  double seconds = 3;
  uint32_t shards = 64;
  bool unrecorded = false;
  /// "receipts" or "orders".
  std::string events = "receipts";
};

struct run_result {
  std::string mode;
  int writers = 0;
  uint64_t commits = 0;
  uint64_t failed = 0;
  double seconds = 0;
  bench::latency_histogram latency;
};

// SKUs of `shard`: the first `n` names "S<k>" that fall in it.
std::vector<std::string> skus_of(uint32_t shard, uint32_t shards, size_t n) {
  std::vector<std::string> out;
  for (int k = 0; out.size() < n; ++k) {
    auto sku = "S" + std::to_string(k);
    if (cluster::shard_of(sku, shards) == shard)
      out.push_back(sku);
  }
  return out;
}

// Milliseconds since the epoch.
uint64_t now_ms() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count());
}

event receipt(const std::string& sku) {
  event ev;
  ev.kind = event_kind::stock_received;
  ev.at = 1;
  ev.sku = sku;
  ev.quantity = 1;
  return ev;
}

// Each writer commits batches from its own thread until the time is up.
// `record`: the fence's passes are recorded in oms_log_epochs, as a
// cluster node's are (off: the cost of that record, by difference).
run_result run(const options& o, int writers, bool shared, bool record = true) {
  auto schema = std::string{"bench_log_"} + (shared ? "s" : "x") +
                std::to_string(writers) + "_" + std::to_string(getpid());
  auto leases_schema = schema + "_cl";
  oms::test::drop_schema(o.conn, schema);
  oms::test::drop_schema(o.conn, leases_schema);
  std::vector<std::unique_ptr<pg_store>> stores;
  std::vector<std::vector<std::string>> skus(static_cast<size_t>(writers));
  std::unique_ptr<cluster::lease_table> leases;
  if (shared)
    leases = std::make_unique<cluster::lease_table>(
        o.conn, leases_schema, o.shards, std::chrono::milliseconds{1000});
  for (int w = 0; w < writers; ++w) {
    auto opened = shared ? pg_store::open_shared(o.conn, schema)
                         : pg_store::open(o.conn, schema);
    if (!opened) {
      std::cerr << "oms-bench-shared-log: " << to_string(opened.error())
                << "\n";
      std::exit(1);
    }
    auto node = "w" + std::to_string(w);
    auto held = std::make_shared<std::map<uint32_t, int64_t>>();
    // Writer w holds the shards s with s mod writers == w, and writes
    // receipts for SKUs of its first eight.
    for (uint32_t s = static_cast<uint32_t>(w); s < o.shards;
         s += static_cast<uint32_t>(writers)) {
      if (shared) {
        auto epoch = leases->acquire(s, node, std::chrono::hours(1));
        if (!epoch) {
          std::cerr << "oms-bench-shared-log: shard " << s << " not taken\n";
          std::exit(1);
        }
        (*held)[s] = *epoch;
      }
      if (skus[static_cast<size_t>(w)].size() < 8)
        skus[static_cast<size_t>(w)].push_back(skus_of(s, o.shards, 1).front());
    }
    if (shared) {
      auto shards = o.shards;
      (*opened)->set_fence(
          [node, held, leases_schema, shards,
           record](pqxx::transaction_base& tx, const std::vector<event>& b)
              -> std::optional<pg_store::fence_pass> {
            std::set<uint32_t> touched;
            for (auto& ev : b)
              touched.insert(cluster::shard_of(ev.sku, shards));
            pg_store::fence_pass pass{node, {}};
            for (auto s : touched) {
              auto i = held->find(s);
              if (i == held->end() ||
                  !cluster::lease_table::fenced(tx, leases_schema, s, node,
                                                i->second))
                return std::nullopt;
              if (record)
                pass.shards.emplace_back(s, i->second);
            }
            return pass;
          },
          node + "'s leases");
    }
    stores.push_back(std::move(*opened));
    if (!shared)
      break; // a schema has one owner: one writer only
  }
  run_result result;
  result.mode = !shared ? "alone" : record ? "shared" : "shared_unrecorded";
  result.writers = static_cast<int>(stores.size());
  // The SKUs' rows, before orders hold their units.
  bool orders = o.events == "orders";
  if (orders)
    for (size_t w = 0; w < stores.size(); ++w) {
      std::vector<event> stock;
      for (auto& sku : skus[w])
        stock.push_back(receipt(sku));
      if (auto err = stores[w]->commit(stock)) {
        std::cerr << "oms-bench-shared-log: " << to_string(err) << "\n";
        std::exit(1);
      }
    }
  std::atomic<bool> stop{false};
  std::vector<bench::latency_histogram> lat(stores.size());
  std::vector<uint64_t> commits(stores.size());
  std::vector<uint64_t> failed(stores.size());
  std::vector<std::thread> threads;
  auto start = bench::steady::now();
  for (size_t w = 0; w < stores.size(); ++w)
    threads.emplace_back([&, w] {
      std::vector<event> batch;
      size_t next = 0;
      while (!stop) {
        batch.clear();
        if (orders)
          while (batch.size() + 2 <= static_cast<size_t>(o.batch)) {
            const auto& sku = skus[w][next % skus[w].size()];
            auto customer =
                "cus_" + std::to_string(w) + "_" + std::to_string(next % 1000);
            ++next;
            oms::test::add_order_events(
                batch, time_ordered_id("ord_", now_ms()), sku, customer,
                static_cast<timestamp_ms>(now_ms()));
          }
        else
          for (int i = 0; i < o.batch; ++i)
            batch.push_back(receipt(skus[w][next++ % skus[w].size()]));
        auto t0 = bench::steady::now();
        if (stores[w]->commit(batch))
          ++failed[w];
        else
          ++commits[w];
        lat[w].record(bench::steady::now() - t0);
      }
    });
  std::this_thread::sleep_for(bench::duration_of(o.seconds));
  stop = true;
  for (auto& t : threads)
    t.join();
  result.seconds = bench::seconds_since(start);
  for (size_t w = 0; w < stores.size(); ++w) {
    result.commits += commits[w];
    result.failed += failed[w];
    result.latency.merge(lat[w]);
  }
  stores.clear();
  leases.reset();
  oms::test::drop_schema(o.conn, schema);
  oms::test::drop_schema(o.conn, leases_schema);
  return result;
}

json line_of(const run_result& r, const options& o) {
  json j;
  j["bench"] = "shared_log";
  j["mode"] = r.mode;
  j["writers"] = r.writers;
  j["events"] = o.events;
  j["batch_events"] = o.events == "orders" ? o.batch / 2 * 2 : o.batch;
  j["seconds"] = r.seconds;
  j["commits"] = r.commits;
  j["failed"] = r.failed;
  j["commits_per_s"] = static_cast<double>(r.commits) / r.seconds;
  j["events_per_s"] =
      static_cast<double>(r.commits) * j["batch_events"].get<int>() / r.seconds;
  j["commit_ms"] = bench::to_json(r.latency.summary());
  return j;
}

} // namespace

int main(int argc, char** argv) {
  options o;
  if (auto env = std::getenv("OMS_TEST_PG"))
    o.conn = env;
  CLI::App app{"oms-bench-shared-log: a journal shared by a cluster's nodes "
               "against one owned alone, on PostgreSQL"};
  app.add_option("--conn", o.conn, "libpq connection string")
      ->capture_default_str();
  app.add_option("--writers", o.writers, "Writer counts, comma-separated")
      ->capture_default_str();
  app.add_option("--batch", o.batch, "Events per commit")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  app.add_option("--seconds", o.seconds, "Seconds per run")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 3600.0));
  app.add_option("--shards", o.shards, "Shards of the cluster")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  app.add_flag("--unrecorded", o.unrecorded,
               "Also run each writer count without the fences' record "
               "(oms_log_epochs): its cost");
  app.add_option("--events", o.events,
                 "receipts: each event a receipt; orders: each two events a "
                 "new one-line order (its record and its hold)")
      ->capture_default_str()
      ->check(CLI::IsMember({"receipts", "orders"}));
  CLI11_PARSE(app, argc, argv);
  if (o.events == "orders" && o.batch < 2) {
    std::cerr << "oms-bench-shared-log: --events orders: --batch 2 or more "
                 "(an order is two events)\n";
    return 2;
  }
  if (o.conn.empty()) {
    std::cerr << "oms-bench-shared-log: no --conn and no OMS_TEST_PG: "
                 "skipped\n";
    return 77;
  }
  std::vector<int> counts;
  std::stringstream list{o.writers};
  for (std::string item; std::getline(list, item, ',');) {
    try {
      auto n = std::stoi(item);
      if (n < 1 || n > 64 || static_cast<uint32_t>(n) > o.shards)
        throw std::out_of_range{item};
      counts.push_back(n);
    } catch (const std::exception&) {
      std::cerr << "oms-bench-shared-log: --writers: 1..64 (and at most "
                   "--shards) each, not "
                << item << "\n";
      return 2;
    }
  }
  // A run that committed nothing, or had a commit refused (every writer
  // holds the shards it writes), is a failure of the bench.
  bool sound = true;
  auto check = [&sound](const run_result& r) {
    if (r.commits == 0 || r.failed != 0) {
      std::cerr << "oms-bench-shared-log: " << r.mode << " with " << r.writers
                << " writers: " << r.commits << " commits, " << r.failed
                << " failed\n";
      sound = false;
    }
  };
  auto alone = run(o, 1, false);
  check(alone);
  std::cout << line_of(alone, o).dump() << "\n";
  json ratios = json::object();
  double base = static_cast<double>(alone.commits) / alone.seconds;
  for (auto w : counts) {
    auto r = run(o, w, true);
    check(r);
    std::cout << line_of(r, o).dump() << "\n";
    ratios[std::to_string(w)] =
        base > 0 ? static_cast<double>(r.commits) / r.seconds / base : 0.0;
    if (o.unrecorded) {
      auto u = run(o, w, true, false);
      check(u);
      std::cout << line_of(u, o).dump() << "\n";
      ratios[std::to_string(w) + "_unrecorded"] =
          base > 0 ? static_cast<double>(u.commits) / u.seconds / base : 0.0;
    }
  }
  std::cout << json{{"bench", "shared_log_ratios"},
                    {"against", "one store owning its schema alone"},
                    {"commits_per_s_ratio_by_writers", ratios}}
                   .dump()
            << "\n";
  return sound ? 0 : 1;
}
