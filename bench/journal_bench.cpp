// What durability costs: the JOURNAL's group commit on SQLite (appends/s,
// events/s, batch sizes, latency per append) for growing numbers of
// concurrent appenders, and order creation through the whole actor system on
// the SQLite store against the in-memory store, in the same run. Prints a
// JSON summary.
//   oms-bench-journal [--seconds S] [--clients 1,16,64,256]
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <nlohmann/json.hpp>

#include "bench/bench_common.hpp"
#include "messages/type_ids.hpp"
#include "system/log.hpp"
#include "system/order_system.hpp"
#include "system/simulated_gateway.hpp"
#include "system/store/memory_store.hpp"
#include "system/store/sqlite_store.hpp"

using namespace oms;
using clock_type = std::chrono::steady_clock;
namespace bench = oms::bench;

namespace {

// Every client's latencies, merged as the clients finish.
struct latencies {
  std::mutex mtx;
  bench::latency_histogram all;
  void add(const bench::latency_histogram& local) {
    std::lock_guard<std::mutex> guard{mtx};
    all.merge(local);
  }
  double pct(double p) {
    return static_cast<double>(all.percentile_ns(p)) / 1000.0;
  }
};

// Runs `clients` threads for `secs` seconds. Each calls `client(c, local,
// stop)` with its index and a histogram of its own, which goes on until
// `stop` and records its latencies in `local`; they are merged into `lat` as
// the client finishes. Returns the seconds from the start to the last join.
template <class Client>
double closed_loop(int clients, double secs, latencies& lat, Client client) {
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  auto start = clock_type::now();
  for (int c = 0; c < clients; ++c)
    threads.emplace_back([&, c] {
      bench::latency_histogram local;
      client(c, local, stop);
      lat.add(local);
    });
  std::this_thread::sleep_for(std::chrono::duration<double>(secs));
  stop = true;
  for (auto& t : threads)
    t.join();
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

std::shared_ptr<journal_store> fresh_sqlite(const std::string& dir,
                                            const std::string& name) {
  auto s = sqlite_store::open(dir + "/" + name + ".db");
  if (!s) {
    std::cerr << describe(s.error()) << '\n';
    std::exit(2);
  }
  return std::shared_ptr<journal_store>{std::move(*s)};
}

std::vector<event> receipt_events(const std::string& sku, int n) {
  std::vector<event> result;
  for (int i = 0; i < n; ++i) {
    event ev;
    ev.kind = event_kind::stock_received;
    ev.at = 1;
    ev.sku = sku;
    ev.quantity = 1;
    result.push_back(ev);
  }
  return result;
}

void status(const std::string& line) {
  if (isatty(STDERR_FILENO))
    std::cerr << line << '\n';
}

// Closed-loop appenders against a JOURNAL over SQLite.
nlohmann::json journal_run(const std::string& dir, int clients, double secs,
                           int events_per_append) {
  caf::actor_system_config cfg;
  cfg.set("logger.console-verbosity", caf::atom("quiet"));
  register_types(cfg);
  caf::actor_system sys{cfg};
  auto store = fresh_sqlite(dir, "journal-" + std::to_string(clients));
  auto journal = spawn_journal(sys, store, 4096);
  std::atomic<uint64_t> appends{0};
  latencies lat;
  auto elapsed = closed_loop(
      clients, secs, lat,
      [&](int c, bench::latency_histogram& local,
          const std::atomic<bool>& stop) {
        caf::scoped_actor self{sys};
        auto events =
            receipt_events("SKU-" + std::to_string(c), events_per_append);
        while (!stop) {
          auto t = clock_type::now();
          bool ok = false;
          self->request(journal, std::chrono::seconds(30), atom::append_v,
                        events)
              .receive([&](uint64_t) { ok = true; }, [&](caf::error&) {});
          if (!ok)
            break;
          local.record(clock_type::now() - t);
          ++appends;
        }
      });
  journal_stats stats;
  {
    caf::scoped_actor self{sys};
    self->request(journal, std::chrono::seconds(30), atom::stats_v)
        .receive([&](journal_stats& x) { stats = x; }, [](caf::error&) {});
    self->send_exit(journal, caf::exit_reason::user_shutdown);
  }
  auto n = appends.load();
  return {
      {"clients", clients},
      {"eventsPerAppend", events_per_append},
      {"appendsPerSecond", static_cast<double>(n) / elapsed},
      {"eventsPerSecond", static_cast<double>(stats.events) / elapsed},
      {"commitsPerSecond", static_cast<double>(stats.batches) / elapsed},
      {"meanBatchEvents", stats.batches ? static_cast<double>(stats.events) /
                                              static_cast<double>(stats.batches)
                                        : 0.0},
      {"maxBatchEvents", stats.max_batch},
      {"appendLatencyUsP50", lat.pct(50)},
      {"appendLatencyUsP99", lat.pct(99)},
  };
}

// Closed-loop order creation through the actor system.
nlohmann::json order_run(std::shared_ptr<journal_store> store,
                         const std::string& name, int clients, double secs) {
  caf::actor_system_config cfg;
  cfg.set("logger.console-verbosity", caf::atom("quiet"));
  register_types(cfg);
  caf::actor_system sys{cfg};
  order_system oms{sys, settings{}, store,
                   std::make_shared<simulated_gateway>()};
  constexpr int skus = 100;
  for (int s = 0; s < skus; ++s)
    oms.add_item_to_inventory("SKU-" + std::to_string(s), 100'000'000, 1000);
  std::atomic<uint64_t> created{0};
  std::atomic<uint64_t> failed{0};
  latencies lat;
  auto elapsed =
      closed_loop(clients, secs, lat,
                  [&](int c, bench::latency_histogram& local,
                      const std::atomic<bool>& stop) {
                    address home{"1 Bench Rd", "", "Pune", "411001", "IN"};
                    for (uint64_t i = 0; !stop; ++i) {
                      auto sku = "SKU-" + std::to_string((c * 7 + i) % skus);
                      auto t = clock_type::now();
                      auto rec =
                          oms.create_order("bench-" + std::to_string(c),
                                           {{sku, 1, seller::internal}}, home);
                      local.record(clock_type::now() - t);
                      if (rec)
                        ++created;
                      else
                        ++failed;
                    }
                  });
  auto stats = oms.journal_counters();
  auto audit = oms.audit();
  return {
      {"store", name},
      {"clients", clients},
      {"ordersPerSecond", static_cast<double>(created.load()) / elapsed},
      {"failed", failed.load()},
      {"latencyUsP50", lat.pct(50)},
      {"latencyUsP99", lat.pct(99)},
      {"latencyUsP999", lat.pct(99.9)},
      {"meanBatchEvents", stats && stats->batches
                              ? static_cast<double>(stats->events) /
                                    static_cast<double>(stats->batches)
                              : 0.0},
      {"auditViolations", audit ? audit->violations.size() : 1},
  };
}

} // namespace

int main(int argc, char** argv) {
  double secs = 3;
  std::vector<int> clients{1, 16, 64, 256};
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string key = argv[i];
    if (key == "--seconds") {
      secs = std::stod(argv[i + 1]);
    } else if (key == "--clients") {
      clients.clear();
      std::stringstream in{argv[i + 1]};
      std::string part;
      while (std::getline(in, part, ','))
        clients.push_back(std::stoi(part));
    }
  }
  log::set_level(log::level::error);
  oms::bench::scratch_dir scratch{"journal"};
  const auto& dir = scratch.path();
  nlohmann::json summary;
  summary["secondsPerRun"] = secs;
  for (int c : clients) {
    status("journal: " + std::to_string(c) + " appenders");
    summary["journal"].push_back(journal_run(dir, c, secs, 3));
  }
  int order_clients = clients.empty() ? 1 : clients.back();
  order_clients = std::min(order_clients, 64);
  status("orders: in-memory store");
  auto mem = order_run(std::make_shared<memory_store>(), "memory",
                       order_clients, secs);
  status("orders: SQLite store");
  auto lite =
      order_run(fresh_sqlite(dir, "orders"), "sqlite", order_clients, secs);
  summary["orders"] = {mem, lite};
  auto mem_rate = mem["ordersPerSecond"].get<double>();
  summary["durableOverMemoryThroughput"] =
      mem_rate > 0 ? lite["ordersPerSecond"].get<double>() / mem_rate : 0.0;
  summary["addedLatencyUsP50"] =
      lite["latencyUsP50"].get<double>() - mem["latencyUsP50"].get<double>();
  std::cout << summary.dump(2) << '\n';
  bool ok = mem["auditViolations"] == 0 && lite["auditViolations"] == 0;
  return ok ? 0 : 1;
}
