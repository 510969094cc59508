// oms-bench-memory: what the order system costs in memory on the in-memory
// store, or on SQLite (--store sqlite). Measures the resident set added per SKU and per open (CREATED)
// order, then moves a sample of the orders to terminal states (half
// cancelled, half paid, shipped and delivered) and checks that no actor
// stays alive for a terminal order: the number of running actors must drop
// by exactly the number of orders that ended. Prints the shared one-line
// JSON summary last; exits 1 if terminal orders keep actors or an invariant
// fails.
//
//   oms-bench-memory [--orders 1000000] [--skus 10000] [--customers 1000]
//                    [--clients 32] [--terminal-percent 10] [--no-audit]
//                    [--quiet]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <caf/actor_registry.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "bench/actor_config.hpp"
#include "bench/bench_common.hpp"
#include "messages/errors.hpp"
#include "messages/type_ids.hpp"
#include "system/log.hpp"
#include "system/order_system.hpp"
#include "system/simulated_gateway.hpp"
#include "system/store/memory_store.hpp"
#include "system/store/sqlite_store.hpp"

using namespace oms;
using bench::steady;

namespace {

struct options {
  uint64_t orders = 1'000'000;
  int skus = 10'000;
  int customers = 1000;
  int clients = 32;
  int terminal_percent = 10;
  size_t actor_threads = 0;
  std::string actor_scheduler = "stealing";
  bool audit = true;
  bool quiet = false;
  /// "memory" or "sqlite" (omsd's default store, in a temporary directory,
  /// with the payment ledger beside it as omsd keeps it).
  std::string store = "memory";
  /// How long an idle open order keeps its actor (omsd's default); 0: always.
  double order_idle_seconds = 60;
  /// Admin searches timed once the orders are in (pages of 20).
  int search_pages = 500;
};

// Orders still to create, and what the creators saw.
struct creation {
  uint64_t total = 0;
  uint64_t sample_every = 0; // every n-th order ends (0: none)
  std::vector<customer_actor> customers;
  std::vector<sku_id> skus;
  address ship_to{"1 Bench Road", "", "Pune", "411001", "IN"};
  std::chrono::milliseconds timeout{0};
  std::atomic<uint64_t> next{0};
  std::atomic<uint64_t> created{0};
};

// An order of the sample that ends later (only what that needs, so that the
// bench itself adds little to the memory measured).
struct sample_order {
  order_id id;
  money due = 0;
};

struct creator_stats {
  bench::latency_histogram latency;
  uint64_t refused = 0;
  uint64_t errors = 0;
  std::vector<sample_order> sample;
};

struct creator_state {
  creation* work = nullptr;
  creator_stats* stats = nullptr;
  steady::time_point sent;
};

using creator_ptr = caf::stateful_actor<creator_state>*;

// Creates order `next` of the shared count, until none is left.
void create_next(creator_ptr self) {
  auto& st = self->state;
  auto& w = *st.work;
  auto i = w.next.fetch_add(1);
  if (i >= w.total) {
    self->quit();
    return;
  }
  auto customer = i % w.customers.size();
  create_order_request req{"mem-" + std::to_string(customer),
                           {{w.skus[i % w.skus.size()], 1, seller::internal}},
                           w.ship_to,
                           {},
                           {}};
  st.sent = steady::now();
  self->request(w.customers[customer], w.timeout, atom::create_v,
                std::move(req), std::string{})
      .then(
          [self, i](order_record& rec) {
            auto& st = self->state;
            st.stats->latency.record(steady::now() - st.sent);
            auto every = st.work->sample_every;
            if (every > 0 && i % every == 0) {
              auto due = amount_due(rec);
              st.stats->sample.push_back({std::move(rec.id), due});
            }
            ++st.work->created;
            create_next(self);
          },
          [self](caf::error& err) {
            auto& st = self->state;
            if (code_of(err) == errc::insufficient_stock)
              ++st.stats->refused;
            else
              ++st.stats->errors;
            ++st.work->created;
            create_next(self);
          });
}

caf::behavior creator(creator_ptr self, creation* work, creator_stats* stats) {
  self->state.work = work;
  self->state.stats = stats;
  create_next(self);
  // Everything happens in the replies.
  return {[](int32_t) {
  }};
}

uint64_t peak_rss_bytes() {
  std::ifstream in{"/proc/self/status"};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0)
      return std::stoull(line.substr(6)) * 1024;
  return 0;
}

double per(uint64_t after, uint64_t before, uint64_t n) {
  if (n == 0)
    return 0;
  auto delta = after > before ? after - before : 0;
  return static_cast<double>(delta) / static_cast<double>(n);
}

// Waits until no more than `n` actors run, or until their number has not
// fallen for `stall`, telling `progress` how many are left every 30 s;
// returns how many run then.
size_t await_running_at_most(caf::actor_system& sys, size_t n,
                             std::chrono::milliseconds stall,
                             const std::function<void(size_t)>& progress) {
  // Bounded by progress, not by time: a slower machine rests a million
  // orders more slowly, and the wait goes on while their number falls.
  auto deadline = steady::now() + stall;
  auto running = sys.registry().running();
  auto fewest = running;
  auto report = steady::now() + std::chrono::seconds(30);
  for (; running > n && steady::now() < deadline;
       running = sys.registry().running()) {
    if (running < fewest) {
      fewest = running;
      deadline = steady::now() + stall;
    }
    if (steady::now() >= report) {
      progress(running - n);
      report = steady::now() + std::chrono::seconds(30);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return running;
}

int run(const options& o) {
  log::set_level(log::level::error);
  caf::actor_system_config cfg;
  bench::quiet_actor_config(cfg, o.actor_threads, o.actor_scheduler);
  register_types(cfg);
  caf::actor_system sys{cfg};
  settings s;
  s.hold_ttl = std::chrono::hours(24 * 30); // open orders stay open
  // The audit of a million live orders takes tens of seconds: the blocking
  // calls, and the audit's own deadline, wait up to 10 minutes.
  s.request_timeout = std::chrono::minutes(10);
  s.order_idle_timeout = std::chrono::milliseconds(
      static_cast<int64_t>(o.order_idle_seconds * 1000));
  bench::summary out;
  out.bench = "oms-bench-memory";
  out.system = "oms-" + o.store;
  out.workload = "memory";
  out.clients = o.clients;
  auto say = [&](const std::string& line) {
    if (!o.quiet)
      std::cerr << "oms-bench-memory: " << line << "\n";
  };
  auto left = [&](size_t n) {
    say("  " + std::to_string(n) + " actors still to end");
  };
  std::shared_ptr<journal_store> store;
  std::shared_ptr<simulated_gateway> gateway;
  // The SQLite files' directory, removed at the end (also by a large run,
  // which ends without tearing down).
  std::optional<bench::scratch_dir> dir;
  if (o.store == "sqlite") {
    dir.emplace("memory");
    auto opened = sqlite_store::open(dir->path() + "/oms.db");
    if (!opened) {
      std::cerr << "oms-bench-memory: " << message_of(opened.error()) << "\n";
      return 2;
    }
    store = std::move(*opened);
    gateway = std::make_shared<simulated_gateway>(
        simulated_gateway::config{}, dir->path() + "/payments.db",
        dir->path() + "/payments.jsonl");
  } else {
    store = std::make_shared<memory_store>();
    gateway = std::make_shared<simulated_gateway>();
  }
  order_system oms{sys, s, store, gateway};
  auto rss_baseline = bench::rss_bytes();
  // -- SKUs -------------------------------------------------------------------
  auto w = std::make_unique<creation>();
  for (int i = 0; i < o.skus; ++i)
    w->skus.push_back("MEM-" + std::to_string(i));
  auto per_sku_units = static_cast<int64_t>(o.orders / w->skus.size() + 1);
  {
    std::atomic<size_t> next{0};
    std::atomic<uint64_t> failed{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t)
      threads.emplace_back([&] {
        for (auto i = next++; i < w->skus.size(); i = next++)
          if (!oms.add_item_to_inventory(w->skus[i], per_sku_units, 1000))
            ++failed;
      });
    for (auto& t : threads)
      t.join();
    if (failed > 0) {
      std::cerr << "oms-bench-memory: " << failed << " receipts failed\n";
      return 2;
    }
  }
  auto rss_skus = bench::rss_bytes();
  say(std::to_string(o.skus) +
      " SKUs: " + bench::fixed(per(rss_skus, rss_baseline, w->skus.size()), 0) +
      " bytes each");
  // -- customers --------------------------------------------------------------
  for (int i = 0; i < o.customers; ++i) {
    auto c = oms.customer("mem-" + std::to_string(i));
    if (!c) {
      std::cerr << "oms-bench-memory: " << describe(c.error()) << "\n";
      return 2;
    }
    w->customers.push_back(*c);
  }
  auto rss_customers = bench::rss_bytes();
  // -- open orders ------------------------------------------------------------
  w->total = o.orders;
  w->sample_every =
      o.terminal_percent > 0
          ? std::max<uint64_t>(1,
                               100 / static_cast<uint64_t>(o.terminal_percent))
          : 0;
  w->timeout = s.request_timeout;
  auto actors_before_orders = sys.registry().running();
  std::vector<creator_stats> stats(static_cast<size_t>(o.clients));
  auto create_start = steady::now();
  {
    caf::scoped_actor self{sys};
    for (auto& st : stats)
      self->monitor(sys.spawn(creator, w.get(), &st));
    bench::count_progress bar{"creating orders", o.orders,
                              bench::progress_wanted(o.quiet)};
    size_t left = stats.size();
    while (left > 0)
      self->receive([&](const caf::down_msg&) { --left; },
                    caf::after(std::chrono::milliseconds(100)) >>
                        [&] { bar.update(w->created.load()); });
    bar.finish();
  }
  out.seconds = bench::seconds_since(create_start);
  auto rss_live = bench::rss_bytes();
  auto actors_live = sys.registry().running();
  // Open orders with nothing under way rest within 1.25 idle timeouts of
  // their last use: wait until every order's actor has ended (or none ended
  // for two timeouts and a minute).
  bool resting = s.order_idle_timeout.count() > 0;
  auto rest_bound = 2 * s.order_idle_timeout + std::chrono::seconds(60);
  double rest_s = 0;
  if (resting) {
    auto rest_start = steady::now();
    say("waiting for " + std::to_string(actors_live - actors_before_orders) +
        " idle orders to rest");
    await_running_at_most(sys, actors_before_orders, rest_bound, left);
    rest_s = bench::seconds_since(rest_start);
  }
  auto rss_orders = bench::rss_bytes();
  auto actors_open = sys.registry().running();
  bench::latency_histogram latency;
  std::vector<sample_order> sample;
  for (auto& st : stats) {
    latency.merge(st.latency);
    out.refused += st.refused;
    out.errors += st.errors;
    sample.insert(sample.end(), st.sample.begin(), st.sample.end());
  }
  auto open_orders = o.orders - out.refused - out.errors;
  out.operations = open_orders;
  out.granted = open_orders;
  out.latency = latency.summary();
  if (resting)
    say("with their actors: " +
        bench::fixed(per(rss_live, rss_customers, open_orders), 0) +
        " bytes each; resting after " + bench::fixed(rest_s, 1) + " s:");
  say(std::to_string(open_orders) + " open orders in " +
      bench::fixed(out.seconds, 2) +
      " s: " + bench::fixed(per(rss_orders, rss_customers, open_orders), 0) +
      " bytes and " +
      bench::fixed(per(actors_open, actors_before_orders, open_orders), 3) +
      " actors each");
  // -- terminal orders --------------------------------------------------------
  std::atomic<size_t> next{0};
  std::atomic<uint64_t> cancelled{0};
  std::atomic<uint64_t> delivered{0};
  std::atomic<uint64_t> failed{0};
  auto terminal_start = steady::now();
  {
    std::vector<std::thread> threads;
    for (int t = 0; t < o.clients; ++t)
      threads.emplace_back([&] {
        for (auto i = next++; i < sample.size(); i = next++) {
          auto& rec = sample[i];
          if (i % 2 == 0) {
            if (oms.update_order(rec.id, order_status::cancelled))
              ++cancelled;
            else
              ++failed;
            continue;
          }
          auto paid = oms.pay_order(rec.id, rec.due, "tok_visa");
          auto shipped =
              paid ? oms.update_order(rec.id, order_status::shipped) : paid;
          auto done = shipped
                          ? oms.update_order(rec.id, order_status::delivered)
                          : shipped;
          if (done && done->status == order_status::delivered)
            ++delivered;
          else
            ++failed;
        }
      });
    for (auto& t : threads)
      t.join();
  }
  uint64_t terminal = cancelled + delivered;
  auto terminal_s = bench::seconds_since(terminal_start);
  // An order actor quits right after its last reply: wait (bounded) until
  // the registry has seen every one of them go. With resting on, what is
  // left after the wait are the actors of orders still open (woken, then
  // back at rest within two idle timeouts): every actor beyond those that
  // ran before the orders is one a terminal order kept.
  auto expected_running =
      resting ? actors_before_orders
              : actors_open - std::min<size_t>(actors_open, terminal);
  auto actors_after = await_running_at_most(
      sys, expected_running,
      resting ? rest_bound
              : std::chrono::milliseconds(std::chrono::seconds(10)),
      left);
  auto leftover =
      actors_after > expected_running ? actors_after - expected_running : 0;
  auto actors_per_terminal = per(leftover, 0, terminal);
  say(std::to_string(terminal) + " terminal orders (" +
      std::to_string(cancelled.load()) + " cancelled, " +
      std::to_string(delivered.load()) + " delivered): running actors " +
      std::to_string(actors_open) + " -> " + std::to_string(actors_after));
  // -- invariants -------------------------------------------------------------
  std::vector<std::string> problems;
  if (failed > 0)
    problems.push_back(std::to_string(failed.load()) +
                       " sample orders did not reach their terminal state");
  if (leftover > 0)
    problems.push_back(std::to_string(leftover) +
                       " actors still run for terminal orders");
  if (out.errors > 0 || out.refused > 0)
    problems.push_back("order creation failed " +
                       std::to_string(out.errors + out.refused) + " times");
  // The audit asks every live order for its record: with a million of them
  // it takes long, hence --no-audit; the SKU sums below still check.
  auto audit_start = steady::now();
  if (o.audit) {
    say("auditing " + std::to_string(open_orders - terminal) + " live orders");
    auto audit = oms.audit();
    if (!audit)
      problems.push_back("audit: " + describe(audit.error()));
    else if (!audit->violations.empty())
      problems.push_back("audit: " + audit->violations.front().sku + ": " +
                         audit->violations.front().what);
    else if (audit->live_orders != open_orders - terminal)
      problems.push_back("audit counts " + std::to_string(audit->live_orders) +
                         " live orders, expected " +
                         std::to_string(open_orders - terminal));
  }
  auto audit_s = bench::seconds_since(audit_start);
  int64_t reserved = 0;
  int64_t consumed = 0;
  for (auto& sku : w->skus) {
    auto v = oms.get_available_inventory(sku, seller::internal);
    if (!v) {
      problems.push_back(sku + ": " + describe(v.error()));
      continue;
    }
    if (v->reserved + v->blocked + v->consumed_total > v->received_total)
      problems.push_back(sku + " handed out more units than it received");
    reserved += v->reserved;
    consumed += v->consumed_total;
  }
  auto open_left = static_cast<int64_t>(open_orders - terminal);
  if (reserved != open_left ||
      consumed != static_cast<int64_t>(delivered.load()))
    problems.push_back(
        "SKUs hold " + std::to_string(reserved) + " reserved and " +
        std::to_string(consumed) + " consumed units, expected " +
        std::to_string(open_left) + " and " + std::to_string(delivered.load()));
  // -- the admin search (GET /v1/orders), through the JOURNAL ----------------
  // Filtered pages of 20, one filter mix after another: a SKU; a SKU and a
  // status; a customer; a status; a customer and a SKU.
  bench::latency_histogram searches;
  uint64_t search_hits = 0;
  {
    caf::scoped_actor self{sys};
    static const char* statuses[] = {"CREATED", "CANCELLED", "DELIVERED"};
    for (int i = 0; i < o.search_pages; ++i) {
      order_query q;
      auto sku = w->skus[static_cast<size_t>(i * 7919) % w->skus.size()];
      auto customer = "mem-" + std::to_string((i * 104729) % o.customers);
      switch (i % 5) {
        case 0:
          q.sku = sku;
          break;
        case 1:
          q.sku = sku;
          q.status = statuses[i % 3];
          break;
        case 2:
          q.customer = customer;
          break;
        case 3:
          q.status = statuses[i % 3];
          break;
        default:
          q.customer = customer;
          q.sku = sku;
      }
      auto started = steady::now();
      self->request(oms.journal(), caf::infinite, atom::search_v, q)
          .receive(
              [&](order_hits& hits) {
                searches.record(steady::now() - started);
                search_hits += hits.orders.size();
              },
              [&](caf::error& err) {
                problems.push_back("search: " + describe(err));
              });
    }
  }
  if (o.search_pages > 0)
    say(std::to_string(searches.count()) + " searches: p50 " +
        bench::fixed(searches.summary().p50_ms, 2) + " ms, p99 " +
        bench::fixed(searches.summary().p99_ms, 2) + " ms");
  for (auto& p : problems)
    std::cerr << "violation: " << p << "\n";
  out.invariants_ok = problems.empty();
  auto& x = out.extra;
  x["rssBytesPerSku"] = bench::rounded(per(rss_skus, rss_baseline, o.skus), 1);
  x["rssBytesPerOpenOrder"] =
      bench::rounded(per(rss_orders, rss_customers, open_orders), 1);
  x["rssBytesPerOpenOrderWithActor"] =
      bench::rounded(per(rss_live, rss_customers, open_orders), 1);
  x["orderIdleSeconds"] = o.order_idle_seconds;
  x["searchPages"] = searches.count();
  x["searchHits"] = search_hits;
  x["searchLatencyMs"] = bench::to_json(searches.summary());
  x["restSeconds"] = bench::rounded(rest_s, 2);
  x["rssBaseline"] = rss_baseline;
  x["rssPeak"] = peak_rss_bytes();
  x["openOrders"] = open_orders;
  x["skus"] = o.skus;
  x["customers"] = o.customers;
  x["actorsRunning"] = actors_after;
  x["actorsPerOpenOrderWithActor"] =
      bench::rounded(per(actors_live, actors_before_orders, open_orders), 4);
  x["actorsPerOpenOrder"] =
      bench::rounded(per(actors_open, actors_before_orders, open_orders), 4);
  x["terminalOrders"] = terminal;
  x["cancelled"] = cancelled.load();
  x["delivered"] = delivered.load();
  x["actorsPerTerminalOrder"] = bench::rounded(actors_per_terminal, 6);
  x["terminalSeconds"] = bench::rounded(terminal_s, 2);
  x["audited"] = o.audit;
  x["auditSeconds"] = bench::rounded(audit_s, 2);
  x["ordersPerSecond"] = bench::rounded(
      out.seconds > 0 ? static_cast<double>(open_orders) / out.seconds : 0.0,
      1);
  auto rc = bench::print_summary(out);
  // The actor system's teardown grows faster than linearly with the live
  // actors (60,000 open orders: about 20 s; a million: more than 4 minutes).
  // It is not what this measures: once the figures are out, a large run ends
  // here. Small runs (the test command's) tear down, for the leak checks.
  if (o.orders >= 10'000) {
    if (dir)
      dir->remove();
    std::cout.flush();
    std::fflush(stdout);
    std::_Exit(rc);
  }
  return rc;
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"oms-bench-memory: resident memory per SKU and per open order "
               "on the in-memory store, and no actor left for terminal "
               "orders; prints one JSON line last"};
  options o;
  app.add_option("--orders", o.orders, "Open orders to create")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{1}, uint64_t{100'000'000}));
  app.add_option("--skus", o.skus, "SKUs the orders spread over")
      ->capture_default_str()
      ->check(CLI::Range(1, 10'000'000));
  app.add_option("--customers", o.customers, "Customers the orders belong to")
      ->capture_default_str()
      ->check(CLI::Range(1, 10'000'000));
  app.add_option("--clients", o.clients, "Concurrent creators")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  app.add_option("--terminal-percent", o.terminal_percent,
                 "Share of the orders moved to a terminal state afterwards "
                 "(half cancelled, half delivered)")
      ->capture_default_str()
      ->check(CLI::Range(0, 100));
  app.add_option("--actor-threads", o.actor_threads,
                 "Scheduler threads (default: one per core, as omsd)");
  oms::bench::add_actor_scheduler_option(app, o.actor_scheduler);
  app.add_flag("!--no-audit", o.audit,
               "Skip the full audit at the end (it asks every live order; "
               "the per-SKU sums are still checked)");
  app.add_flag("--quiet", o.quiet, "No progress bar and no human lines");
  app.add_option("--search-pages", o.search_pages,
                 "Admin order searches (GET /v1/orders' pages of 20, by SKU, "
                 "status and customer) timed once the orders are in")
      ->check(CLI::Range(0, 1'000'000));
  app.add_option("--order-idle-seconds", o.order_idle_seconds,
                 "How long an idle open order keeps its actor before it "
                 "rests (omsd's --order-idle-timeout); the resident set is "
                 "measured once they all rest. 0: orders keep their actors")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 86400.0));
  app.add_option("--store", o.store,
                 "memory, or sqlite (a store in a temporary directory, "
                 "synced as omsd's)")
      ->capture_default_str()
      ->check(CLI::IsMember({"memory", "sqlite"}));
  CLI11_PARSE(app, argc, argv);
  return run(o);
}
