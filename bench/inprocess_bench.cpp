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
  bool quiet = false;
};

enum class phase : int { warmup = 0, measure = 1, stop = 2 };

enum class step { create, pay, ship, deliver, cancel, done };

// What the run shares with its clients (read-only but for the counters).
struct run_setup {
  options opt;
  std::vector<sku_id> skus;
  address ship_to{"1 Bench Road", "", "Pune", "411001", "IN"};
  std::atomic<int> now{static_cast<int>(phase::warmup)};
  std::atomic<uint64_t> ops{0}; // measured operations, for the progress bar
  steady::time_point start;     // the first request
  phase current() const { return static_cast<phase>(now.load()); }
};

// What one client measured (while measuring) and changed (always).
struct client_stats {
  bench::latency_histogram latency;  // one per operation
  bench::latency_histogram requests; // one per request (lifecycle, cancel)
  bench::latency_histogram refusals; // refused creates
  uint64_t operations = 0;
  uint64_t granted = 0;
  uint64_t refused = 0;
  uint64_t errors = 0;
  // Over the whole run, warm-up included.
  uint64_t granted_total = 0;
  uint64_t unknown_outcomes = 0; // errors that leave an order's state unknown
  uint64_t last_grant_ns = 0;    // since the run's start (flash)
  std::map<std::string, uint64_t> error_codes;
  bench::expected_units units;
  explicit client_stats(size_t skus) : units(skus) {}
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
    lines_.clear();
    auto& w = run_.opt.workload;
    auto n = run_.skus.size();
    if (w == "hot" || w == "flash") {
      lines_.push_back(0);
    } else if (w == "multiline") {
      while (lines_.size() < 3) {
        auto i = static_cast<size_t>(rng_() % n);
        if (std::find(lines_.begin(), lines_.end(), i) == lines_.end())
          lines_.push_back(i);
      }
    } else {
      lines_.push_back(static_cast<size_t>(rng_() % n));
    }
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
          for (auto i : lines_)
            ++u.reserved[i];
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
          for (auto i : lines_) {
            --u.reserved[i];
            ++u.blocked[i];
          }
          next_ = step::ship;
          break;
        case step::ship:
          for (auto i : lines_) {
            --u.blocked[i];
            ++u.consumed[i];
          }
          next_ = step::deliver;
          break;
        case step::deliver:
          done_op();
          break;
        case step::cancel:
          for (auto i : lines_)
            --u.reserved[i];
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
  std::atomic<size_t> next{0};
  std::atomic<bool> ok{true};
  std::vector<std::thread> threads;
  auto n = std::min<size_t>(32, skus.size());
  for (size_t t = 0; t < n; ++t)
    threads.emplace_back([&] {
      for (auto i = next++; i < skus.size() && ok; i = next++) {
        for (int64_t left = stock; left > 0 && ok;) {
          auto part = std::min<int64_t>(left, max_receipt_quantity);
          auto res = oms.add_item_to_inventory(skus[i], part, 1000);
          if (!res) {
            std::cerr << "oms-bench-inprocess: receipt for " << skus[i]
                      << " failed: " << describe(res.error()) << "\n";
            ok = false;
          }
          left -= part;
        }
      }
    });
  for (auto& t : threads)
    t.join();
  return ok;
}

struct check_result {
  bool ok = true;
  bool exact = true;
  uint64_t violations = 0;
  std::vector<std::string> samples;
  void fail(std::string what) {
    ok = false;
    if (++violations <= 10)
      samples.push_back(std::move(what));
  }
};

// Every SKU: nothing handed out beyond what was received, and (when every
// answer was definite) exactly the units the clients hold in each state.
void check_skus(order_system& oms, const std::vector<sku_id>& skus,
                const bench::expected_units& want, int64_t stock, bool exact,
                check_result& out) {
  for (size_t i = 0; i < skus.size(); ++i) {
    auto v = oms.get_available_inventory(skus[i], seller::internal);
    if (!v) {
      out.fail(skus[i] + ": " + describe(v.error()));
      continue;
    }
    bench::sku_counters have{v->received_total, v->on_hand,
                             v->reserved,       v->blocked,
                             v->consumed_total, v->available};
    bench::sku_counters granted;
    granted.reserved = want.reserved[i];
    granted.blocked = want.blocked[i];
    granted.consumed_total = want.consumed[i];
    for (auto& problem : bench::check_sku(skus[i], have, granted, stock, exact))
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
  cfg.set("logger.console-verbosity", caf::atom("quiet"));
  cfg.set("logger.file-verbosity", caf::atom("quiet"));
  if (o.actor_threads > 0)
    cfg.set("scheduler.max-threads", o.actor_threads);
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
    auto dur = [](double secs) {
      return std::chrono::duration_cast<steady::duration>(
          std::chrono::duration<double>(secs));
    };
    if (o.warmup > 0) {
      std::this_thread::sleep_for(dur(o.warmup));
      r.now = static_cast<int>(phase::measure);
    }
    auto measure_start = steady::now();
    auto clients_left = static_cast<size_t>(o.clients);
    {
      bench::timed_progress bar{o.workload, o.seconds, r.ops,
                                bench::progress_wanted(o.quiet)};
      auto deadline = measure_start + dur(o.seconds);
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
    uint64_t granted_total = 0;
    uint64_t unknown = 0;
    uint64_t last_grant_ns = 0;
    for (auto& st : stats) {
      all.latency.merge(st->latency);
      all.requests.merge(st->requests);
      all.refusals.merge(st->refusals);
      all.operations += st->operations;
      all.granted += st->granted;
      all.refused += st->refused;
      all.errors += st->errors;
      granted_total += st->granted_total;
      unknown += st->unknown_outcomes;
      last_grant_ns = std::max(last_grant_ns, st->last_grant_ns);
      for (auto& [k, v] : st->error_codes)
        all.error_codes[k] += v;
      all.units.merge(st->units);
    }
    // -- invariants -----------------------------------------------------------
    check_result chk;
    chk.exact = unknown == 0;
    auto audit_start = steady::now();
    auto audit = oms.audit();
    auto audit_s = bench::seconds_since(audit_start);
    if (!audit)
      chk.fail("audit: " + describe(audit.error()));
    else
      for (auto& v : audit->violations)
        chk.fail("audit: " + v.sku + ": " + v.what);
    check_skus(oms, r.skus, all.units, o.stock, chk.exact, chk);
    if (flash) {
      if (granted_total != static_cast<uint64_t>(o.stock))
        chk.fail("flash: " + std::to_string(granted_total) +
                 " units granted of a stock of " + std::to_string(o.stock));
      if (clients_left > 0)
        chk.fail("flash: the stock did not sell out within --seconds");
    }
    for (auto& line : chk.samples)
      std::cerr << "violation: " << line << "\n";
    // -- the summary ----------------------------------------------------------
    out.operations = all.operations;
    out.latency = all.latency.summary();
    out.granted = all.granted;
    out.refused = all.refused;
    out.errors = all.errors;
    out.invariants_ok = chk.ok;
    auto& x = out.extra;
    x["store"] = o.store;
    x["driver"] = o.driver;
    x["skus"] = r.skus.size();
    x["stock"] = o.stock;
    x["warmupSeconds"] = o.warmup;
    x["setupSeconds"] = bench::rounded(setup_s, 3);
    if (o.workload == "lifecycle" || o.workload == "cancel")
      x["requestLatencyMs"] = bench::to_json(all.requests.summary());
    if (all.refusals.count() > 0)
      x["refusedLatencyMs"] = bench::to_json(all.refusals.summary());
    if (flash) {
      x["sellOutSeconds"] =
          bench::rounded(static_cast<double>(last_grant_ns) / 1e9, 3);
      x["grantedUnits"] = granted_total;
    }
    if (journal_before && journal_after) {
      auto batches = journal_after->batches - journal_before->batches;
      auto events = journal_after->events - journal_before->events;
      auto commit_us =
          journal_after->commit_us_sum - journal_before->commit_us_sum;
      x["journalCommits"] = batches;
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
    x["auditSeconds"] = bench::rounded(audit_s, 2);
    x["exactCheck"] = chk.exact;
    x["violations"] = chk.violations;
    if (!all.error_codes.empty())
      x["errorCodes"] = all.error_codes;
    if (!o.quiet)
      std::cerr << "oms-bench-inprocess: " << all.operations
                << " operations in " << bench::fixed(out.seconds, 2)
                << " s, p50 " << bench::fixed(out.latency.p50_ms, 3)
                << " ms, p99 " << bench::fixed(out.latency.p99_ms, 3)
                << " ms; invariants " << (chk.ok ? "hold" : "VIOLATED") << "\n";
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
  app.add_flag("--quiet", o.quiet, "No progress bar and no human lines");
  CLI11_PARSE(app, argc, argv);
  return run(o);
}
