// oms-bench-inprocess: the order system driven directly, without HTTP. N
// closed-loop clients send the actor messages the daemon sends (create
// through the customer's actor, pay/ship/deliver/cancel through the
// SUPERVISOR) and wait for each answer before the next request; every
// request's latency runs from send to reply. Afterwards the audit checks
// stock conservation and every SKU's counters are compared with the units
// the clients were granted: no SKU may have handed out more than it received.
// Prints the shared one-line JSON summary last; exits 1 on a violation.
//
//   oms-bench-inprocess [--store memory|sqlite] [--workload hot|spread|
//                       multiline|lifecycle|cancel|flash] [--clients 32]
//                       [--seconds 5] [--warmup 1] [--skus 10000] [--stock N]
//                       [--driver actors|threads] [--data-dir DIR] [--quiet]
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/stock_ledger.hpp"
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
using bench::phase;
using bench::steady;

namespace {

struct options {
  std::string store = "memory";
  std::string workload = "hot";
  std::string driver = "actors";
  int clients = 32;
  double seconds = 5;
  double warmup = 1;
  int skus = 10'000;
  int64_t stock = 0; // 0: ample (flash: 1000)
  std::string data_dir;
  size_t actor_threads = 0;
  std::string actor_scheduler = "stealing";
  bool quiet = false;
};

enum class step { create, pay, ship, deliver, cancel, done };

// What the run shares with its clients (read-only but for the counters).
struct run_setup : bench::run_phase {
  options opt;
  std::vector<sku_id> skus;
  address ship_to{"1 Bench Road", "", "Pune", "411001", "IN"};
  steady::time_point start; // the first request
};

// What one client measured (while measuring) and changed (always).
struct client_stats : bench::client_counts {
  using client_counts::client_counts;
  std::map<std::string, uint64_t> error_codes;
};

// One closed-loop client: decides what to send next and books the answers.
// Both drivers (actors, threads) run this same logic.
class client {
 public:
  client(run_setup& run, client_stats& stats, int index)
      : run_(run),
        stats_(stats),
        rng_(static_cast<uint32_t>(index) * 7919u + 17u),
        customer_("bench-" + std::to_string(index)) {
    // nop
  }

  const customer_id& customer() const { return customer_; }
  const address& ship_to() const { return run_.ship_to; }
  const order_id& order() const { return order_; }
  step next() const { return next_; }

  // The next order's lines (remembered for the bookkeeping).
  std::vector<order_item> items() {
    bench::pick_skus(run_.opt.workload, run_.skus.size(), rng_, lines_);
    std::vector<order_item> result;
    for (auto i : lines_)
      result.push_back({run_.skus[i], 1, seller::internal});
    return result;
  }

  // The command of the next step (pay, ship, deliver, cancel).
  order_command command() const {
    order_command cmd;
    switch (next_) {
      case step::pay:
        cmd.kind = command_kind::pay;
        cmd.amount = due_;
        cmd.token = "tok_visa";
        break;
      case step::ship:
        cmd.kind = command_kind::ship;
        break;
      case step::deliver:
        cmd.kind = command_kind::deliver;
        break;
      default:
        cmd.kind = command_kind::cancel;
        break;
    }
    return cmd;
  }

  // Marks the send of the next request.
  void sending() {
    sent_ = steady::now();
    if (next_ == step::create)
      op_start_ = sent_;
  }

  // Books the answer to the request sent last and picks the next step.
  void answer(caf::expected<order_record>& res) {
    auto now = steady::now();
    auto measuring = run_.current() == phase::measure;
    auto& w = run_.opt.workload;
    bool chained = w == "lifecycle" || w == "cancel";
    if (measuring && chained)
      stats_.requests.record(now - sent_);
    auto done_op = [&] {
      if (!measuring)
        return;
      stats_.latency.record(now - op_start_);
      ++stats_.operations;
      run_.ops.fetch_add(1, std::memory_order_relaxed);
    };
    auto s = next_;
    next_ = step::create;
    if (!res) {
      auto code = code_of(res.error());
      if (s == step::create && code == errc::insufficient_stock) {
        if (measuring) {
          ++stats_.refused;
          stats_.refusals.record(now - sent_);
          if (!chained)
            done_op();
        }
        if (w == "flash")
          next_ = step::done;
      } else {
        // The request may or may not have been applied: the counters can
        // only be bounded from now on.
        ++stats_.unknown_outcomes;
        ++stats_.error_codes[to_code(code)];
        if (measuring)
          ++stats_.errors;
      }
    } else {
      auto& u = stats_.units;
      switch (s) {
        case step::create:
          order_ = res->id;
          due_ = amount_due(*res);
          bench::move_units(lines_, nullptr, &u.reserved);
          ++stats_.granted_total;
          stats_.last_grant_ns = static_cast<uint64_t>(
              std::chrono::nanoseconds(now - run_.start).count());
          if (measuring)
            ++stats_.granted;
          if (w == "lifecycle")
            next_ = step::pay;
          else if (w == "cancel")
            next_ = step::cancel;
          else
            done_op();
          break;
        case step::pay:
          bench::move_units(lines_, &u.reserved, &u.blocked);
          next_ = step::ship;
          break;
        case step::ship:
          bench::move_units(lines_, &u.blocked, &u.consumed);
          next_ = step::deliver;
          break;
        case step::deliver:
          done_op();
          break;
        case step::cancel:
          bench::move_units(lines_, &u.reserved, nullptr);
          done_op();
          break;
        case step::done:
          break;
      }
    }
    if (run_.current() == phase::stop)
      next_ = step::done;
  }

 private:
  run_setup& run_;
  client_stats& stats_;
  std::minstd_rand rng_;
  customer_id customer_;
  std::vector<size_t> lines_;
  order_id order_;
  money due_ = 0;
  step next_ = step::create;
  steady::time_point sent_;
  steady::time_point op_start_;
};

// -- the actor driver ---------------------------------------------------------

struct client_actor_state {
  std::unique_ptr<client> logic;
  customer_actor customer;
  supervisor_actor supervisor;
  std::chrono::milliseconds timeout{0};
};

using client_ptr = caf::stateful_actor<client_actor_state>*;

void send_next(client_ptr self) {
  auto& st = self->state;
  auto& c = *st.logic;
  auto on_record = [self](order_record& rec) {
    caf::expected<order_record> res{std::move(rec)};
    self->state.logic->answer(res);
    send_next(self);
  };
  auto on_error = [self](caf::error& err) {
    caf::expected<order_record> res{std::move(err)};
    self->state.logic->answer(res);
    send_next(self);
  };
  switch (c.next()) {
    case step::done:
      self->quit();
      return;
    case step::create: {
      create_order_request req{c.customer(), c.items(), c.ship_to(), {}, {}};
      c.sending();
      self->request(st.customer, st.timeout, atom::create_v, std::move(req),
                    std::string{})
          .then(on_record, on_error);
      return;
    }
    default: {
      auto cmd = c.command();
      c.sending();
      self->request(st.supervisor, st.timeout, atom::apply_v, c.order(),
                    std::move(cmd))
          .then(on_record, on_error);
    }
  }
}

caf::behavior client_actor(client_ptr self, client* logic,
                           customer_actor customer, supervisor_actor sup,
                           std::chrono::milliseconds timeout) {
  self->state.logic.reset(logic);
  self->state.customer = std::move(customer);
  self->state.supervisor = std::move(sup);
  self->state.timeout = timeout;
  send_next(self);
  // Everything happens in the replies; the actor quits when told to stop.
  return {[](int32_t) {
  }};
}

// -- the thread driver --------------------------------------------------------

void client_thread(order_system& oms, client& c,
                   std::atomic<size_t>& finished) {
  for (;;) {
    caf::expected<order_record> res{order_record{}};
    switch (c.next()) {
      case step::done:
        ++finished;
        return;
      case step::create: {
        auto items = c.items();
        c.sending();
        res = oms.create_order(c.customer(), std::move(items), c.ship_to());
        break;
      }
      case step::pay: {
        auto cmd = c.command();
        c.sending();
        res = oms.pay_order(c.order(), cmd.amount, cmd.token);
        break;
      }
      case step::ship:
        c.sending();
        res = oms.update_order(c.order(), order_status::shipped);
        break;
      case step::deliver:
        c.sending();
        res = oms.update_order(c.order(), order_status::delivered);
        break;
      case step::cancel:
        c.sending();
        res = oms.update_order(c.order(), order_status::cancelled);
        break;
    }
    c.answer(res);
  }
}

// -- setup and checks ---------------------------------------------------------

std::shared_ptr<journal_store>
open_store(const options& o, std::string& db_path, std::string& made_dir) {
  if (o.store == "memory")
    return std::make_shared<memory_store>();
  namespace fs = std::filesystem;
  auto dir = o.data_dir;
  if (dir.empty()) {
    auto tmpl =
        (fs::temp_directory_path() / "oms-bench-inprocess-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) {
      std::cerr << "oms-bench-inprocess: cannot make a temporary dir\n";
      std::exit(2);
    }
    dir = made_dir = tmpl;
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  db_path =
      (fs::path{dir} / ("oms-bench-" + std::to_string(::getpid()) + ".db"))
          .string();
  fs::remove(db_path, ec);
  auto s = sqlite_store::open(db_path);
  if (!s) {
    std::cerr << "oms-bench-inprocess: " << describe(s.error()) << "\n";
    std::exit(2);
  }
  return std::shared_ptr<journal_store>{std::move(*s)};
}

// Receives `stock` units on every SKU from a few threads at once, so that
// the journal commits the receipts in groups.
bool receive_stock(order_system& oms, const std::vector<sku_id>& skus,
                   int64_t stock) {
  auto receiver = [&oms, &skus] {
    return [&oms, &skus](size_t i, int64_t part) {
      auto res = oms.add_item_to_inventory(skus[i], part, 1000);
      if (!res)
        std::cerr << "oms-bench-inprocess: receipt for " << skus[i]
                  << " failed: " << describe(res.error()) << "\n";
      return static_cast<bool>(res);
    };
  };
  return bench::receive_in_parallel(skus.size(), stock, max_receipt_quantity,
                                    32, receiver);
}

// Every SKU: nothing handed out beyond what was received, and (when every
// answer was definite) exactly the units the clients hold in each state.
void check_skus(order_system& oms, const std::vector<sku_id>& skus,
                const bench::expected_units& want, int64_t stock, bool exact,
                bench::violations& out) {
  for (size_t i = 0; i < skus.size(); ++i) {
    auto v = oms.get_available_inventory(skus[i], seller::internal);
    if (!v) {
      out.fail(skus[i] + ": " + describe(v.error()));
      continue;
    }
    bench::sku_counters have{v->received_total, v->on_hand,
                             v->reserved,       v->blocked,
                             v->consumed_total, v->available};
    for (auto& problem : bench::check_sku(skus[i], have, want, i, stock, exact))
      out.fail(std::move(problem));
  }
}

int run(const options& o_in) {
  auto o = o_in;
  bool flash = o.workload == "flash";
  if (o.stock <= 0)
    o.stock = flash ? 1000 : 1'000'000'000;
  if (flash)
    o.warmup = 0;
  if (o.workload == "multiline" && o.skus < 3) {
    std::cerr << "oms-bench-inprocess: multiline needs --skus of 3 or more\n";
    return 2;
  }
  log::set_level(log::level::error);
  caf::actor_system_config cfg;
  bench::quiet_actor_config(cfg, o.actor_threads, o.actor_scheduler);
  register_types(cfg);
  caf::actor_system sys{cfg};
  std::string db_path;
  std::string made_dir;
  auto store = open_store(o, db_path, made_dir);
  settings s;
  s.hold_ttl = std::chrono::hours(24); // nothing expires during a run
  // The audit asks every live order; with tens of thousands of them it
  // takes longer than the default wait of a blocking call.
  s.request_timeout = std::chrono::minutes(10);
  auto run_ptr = std::make_unique<run_setup>();
  auto& r = *run_ptr;
  r.opt = o;
  int sku_count = o.workload == "hot" || flash ? 1 : o.skus;
  for (int i = 0; i < sku_count; ++i)
    r.skus.push_back("BENCH-" + std::to_string(i));
  auto system_name = "oms-" + o.store;
  bench::summary out;
  out.bench = "oms-bench-inprocess";
  out.system = system_name;
  out.workload = o.workload;
  out.clients = o.clients;
  {
    order_system oms{sys, s, store, std::make_shared<simulated_gateway>()};
    if (!o.quiet)
      std::cerr << "oms-bench-inprocess: " << system_name << ", " << o.workload
                << ", " << o.clients << " clients (" << o.driver << "), "
                << sku_count << " SKUs of " << o.stock << " units\n";
    auto setup_start = steady::now();
    if (!receive_stock(oms, r.skus, o.stock))
      return 2;
    std::vector<customer_actor> customers;
    for (int i = 0; i < o.clients; ++i) {
      auto c = oms.customer("bench-" + std::to_string(i));
      if (!c) {
        std::cerr << "oms-bench-inprocess: " << describe(c.error()) << "\n";
        return 2;
      }
      customers.push_back(*c);
    }
    auto setup_s = bench::seconds_since(setup_start);
    auto journal_before = oms.journal_counters();
    // -- the run --------------------------------------------------------------
    std::vector<std::unique_ptr<client_stats>> stats;
    std::vector<std::unique_ptr<client>> logic;
    for (int i = 0; i < o.clients; ++i) {
      stats.push_back(std::make_unique<client_stats>(r.skus.size()));
      logic.push_back(std::make_unique<client>(r, *stats.back(), i));
    }
    r.now = static_cast<int>(o.warmup > 0 ? phase::warmup : phase::measure);
    r.start = steady::now();
    caf::scoped_actor self{sys};
    std::vector<std::thread> threads;
    std::atomic<size_t> threads_finished{0};
    if (o.driver == "actors") {
      for (int i = 0; i < o.clients; ++i) {
        auto h =
            sys.spawn(client_actor, logic[static_cast<size_t>(i)].release(),
                      customers[static_cast<size_t>(i)], oms.supervisor(),
                      s.request_timeout);
        self->monitor(h);
      }
    } else {
      for (int i = 0; i < o.clients; ++i)
        threads.emplace_back(client_thread, std::ref(oms),
                             std::ref(*logic[static_cast<size_t>(i)]),
                             std::ref(threads_finished));
    }
    if (o.warmup > 0) {
      std::this_thread::sleep_for(bench::duration_of(o.warmup));
      r.now = static_cast<int>(phase::measure);
    }
    auto measure_start = steady::now();
    auto cpu_start = bench::process_cpu_seconds();
    auto clients_left = static_cast<size_t>(o.clients);
    {
      bench::timed_progress bar{o.workload, o.seconds, r.ops,
                                bench::progress_wanted(o.quiet)};
      auto deadline = measure_start + bench::duration_of(o.seconds);
      if (flash && o.driver == "actors") {
        // Until every client was refused, at most --seconds.
        while (clients_left > 0 && steady::now() < deadline)
          self->receive([&](const caf::down_msg&) { --clients_left; },
                        caf::after(std::chrono::milliseconds(50)) >> [] {});
      } else if (flash) {
        while (threads_finished < clients_left && steady::now() < deadline)
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        clients_left -= threads_finished;
      } else {
        std::this_thread::sleep_for(deadline - steady::now());
      }
    }
    r.now = static_cast<int>(phase::stop);
    out.seconds = bench::seconds_since(measure_start);
    auto cpu_s = bench::process_cpu_seconds() - cpu_start;
    // Every client finishes the request it has in flight.
    for (auto& t : threads)
      t.join();
    if (o.driver == "actors") {
      auto wait_max = s.request_timeout + std::chrono::seconds(5);
      while (clients_left > 0) {
        bool got = false;
        self->receive([&](const caf::down_msg&) { got = true; },
                      caf::after(wait_max) >> [] {});
        if (!got) {
          std::cerr << "oms-bench-inprocess: " << clients_left
                    << " clients did not stop\n";
          return 2;
        }
        --clients_left;
      }
    }
    auto run_s = bench::seconds_since(r.start);
    auto journal_after = oms.journal_counters();
    // -- what the clients saw -------------------------------------------------
    client_stats all{r.skus.size()};
    for (auto& st : stats) {
      all.merge(*st);
      for (auto& [k, v] : st->error_codes)
        all.error_codes[k] += v;
    }
    // -- invariants -----------------------------------------------------------
    bench::violations chk;
    bool exact = all.unknown_outcomes == 0;
    auto audit_start = steady::now();
    auto audit = oms.audit();
    auto audit_s = bench::seconds_since(audit_start);
    if (!audit)
      chk.fail("audit: " + describe(audit.error()));
    else
      for (auto& v : audit->violations)
        chk.fail("audit: " + v.sku + ": " + v.what);
    check_skus(oms, r.skus, all.units, o.stock, exact, chk);
    if (flash) {
      bench::check_flash_granted(all.granted_total, o.stock, chk);
      if (clients_left > 0)
        chk.fail("flash: the stock did not sell out within --seconds");
    }
    chk.print_samples();
    // -- the summary ----------------------------------------------------------
    bench::add_counts(out, all);
    out.invariants_ok = chk.ok;
    auto& x = out.extra;
    x["store"] = o.store;
    x["driver"] = o.driver;
    bench::add_run_extra(x, all, r.skus.size(), o.stock, o.warmup, setup_s,
                         o.workload == "lifecycle" || o.workload == "cancel",
                         flash);
    if (journal_before && journal_after) {
      auto batches = journal_after->batches - journal_before->batches;
      auto events = journal_after->events - journal_before->events;
      auto commit_us =
          journal_after->commit_us_sum - journal_before->commit_us_sum;
      x["journalCommits"] = batches;
      // Transactions that applied the log to the tables (0 on the memory
      // journal, which applies in the commit).
      x["journalApplies"] = journal_after->applies - journal_before->applies;
      x["commitMsMean"] =
          bench::rounded(batches ? static_cast<double>(commit_us) / 1e3 /
                                       static_cast<double>(batches)
                                 : 0.0,
                         3);
      // Share of the run the JOURNAL spent committing (1: always busy).
      x["journalBusy"] = bench::rounded(
          run_s > 0 ? static_cast<double>(commit_us) / 1e6 / run_s : 0.0, 3);
      x["eventsPerCommit"] = bench::rounded(
          batches ? static_cast<double>(events) / static_cast<double>(batches)
                  : 0.0,
          2);
    }
    // The process's CPU time over the measured phase per operation, in µs:
    // the order system and the in-process clients that drive it (issue
    // target: at most 10 µs per order on the memory journal).
    x["cpuSeconds"] = bench::rounded(cpu_s, 3);
    x["cpuUsPerOperation"] = bench::rounded(
        out.operations ? cpu_s * 1e6 / static_cast<double>(out.operations)
                       : 0.0,
        2);
    x["auditSeconds"] = bench::rounded(audit_s, 2);
    x["exactCheck"] = exact;
    x["violations"] = chk.count;
    if (!all.error_codes.empty())
      x["errorCodes"] = all.error_codes;
    if (!o.quiet)
      std::cerr << "oms-bench-inprocess: " << bench::describe_operations(out)
                << "\n";
  }
  if (!made_dir.empty())
    std::filesystem::remove_all(made_dir);
  else if (!db_path.empty())
    for (auto suffix : {"", "-wal", "-shm"})
      std::filesystem::remove(db_path + suffix);
  return bench::print_summary(out);
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"oms-bench-inprocess: closed-loop clients against the order "
               "system's actors, without HTTP; prints one JSON line last"};
  options o;
  app.add_option("--store", o.store, "Journal store (sqlite syncs each commit)")
      ->capture_default_str()
      ->check(CLI::IsMember({"memory", "sqlite"}));
  app.add_option("--workload", o.workload,
                 "hot: 1 unit of one SKU; spread: 1 unit of a SKU among "
                 "--skus; multiline: 3 distinct SKUs; lifecycle: create, pay, "
                 "ship, deliver (an operation is a delivered order); cancel: "
                 "create, cancel; flash: --stock units of one SKU, each client "
                 "buys until refused")
      ->capture_default_str()
      ->check(CLI::IsMember(
          {"hot", "spread", "multiline", "lifecycle", "cancel", "flash"}));
  app.add_option("--clients", o.clients, "Concurrent closed-loop clients")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  app.add_option("--seconds", o.seconds,
                 "Measured time (flash: the longest it may take)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--warmup", o.warmup, "Unmeasured time before (not for flash)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--skus", o.skus,
                 "SKUs of spread, multiline, lifecycle, cancel")
      ->capture_default_str()
      ->check(CLI::Range(1, 1'000'000));
  app.add_option("--stock", o.stock,
                 "Units per SKU (default: 10^9, ample; flash: 1000)")
      ->check(CLI::Range(int64_t{1}, max_on_hand));
  app.add_option("--driver", o.driver,
                 "actors: one event-based actor per client; threads: one "
                 "thread per client calling the blocking order_system API")
      ->capture_default_str()
      ->check(CLI::IsMember({"actors", "threads"}));
  app.add_option("--data-dir", o.data_dir,
                 "Where the SQLite file goes (default: a temporary dir); the "
                 "file is removed afterwards");
  app.add_option("--actor-threads", o.actor_threads,
                 "Scheduler threads (default: one per core, as omsd)");
  oms::bench::add_actor_scheduler_option(app, o.actor_scheduler);
  app.add_flag("--quiet", o.quiet, "No progress bar and no human lines");
  CLI11_PARSE(app, argc, argv);
  return run(o);
}
