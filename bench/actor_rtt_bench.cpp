// oms-bench-actor-rtt: the floor under every in-process figure. One server
// actor answers each request with the value it got; N clients do request ->
// reply in a closed loop, either as event-based actors or as threads with a
// scoped actor each, on the scheduler settings omsd uses. The faster of the
// two is reported as caf-rtt, both are in extra. Prints the shared one-line
// JSON summary last.
//
// With --across loopback the server lives in a second actor system, published
// on 127.0.0.1 through CAF's middleman, and the clients reach it as a remote
// actor: the cost of a request forwarded to another node against a local one
// (docs/cluster.md). Both systems share this process and its cores.
//
//   oms-bench-actor-rtt [--clients 32] [--seconds 5] [--warmup 1]
//                       [--mode both|actors|threads] [--across none|loopback]
//                       [--quiet]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "bench/actor_config.hpp"
#include "bench/bench_common.hpp"

using oms::bench::phase;
using oms::bench::steady;

namespace {

struct options {
  int clients = 32;
  double seconds = 5;
  double warmup = 1;
  std::string mode = "both";
  size_t actor_threads = 0;
  std::string actor_scheduler = "stealing";
  std::string across = "none";
  bool quiet = false;
};

// What one client measured.
struct client_stats {
  oms::bench::latency_histogram latency;
  uint64_t round_trips = 0;
  uint64_t errors = 0;
  uint64_t wrong_answers = 0;
};

using shared_run = oms::bench::run_phase;

struct result {
  double seconds = 0;
  client_stats all;
};

// Answers every request with the value it carries. (The argument is a
// dummy: CAF 0.17 dereferences the empty argument tuple of a function actor
// spawned without arguments.)
caf::behavior echo_server(int) {
  return {[](int32_t x) {
    return x;
  }};
}

struct client_state {
  shared_run* run = nullptr;
  client_stats* stats = nullptr;
  caf::actor server;
  int32_t next = 0;
  steady::time_point sent;
};

using client_ptr = caf::stateful_actor<client_state>*;

void ask(client_ptr self) {
  auto& st = self->state;
  if (st.run->current() == phase::stop) {
    self->quit();
    return;
  }
  auto value = st.next++;
  st.sent = steady::now();
  self->request(st.server, caf::infinite, value)
      .then(
          [self, value](int32_t answer) {
            auto& st = self->state;
            if (st.run->current() == phase::measure) {
              st.stats->latency.record(steady::now() - st.sent);
              ++st.stats->round_trips;
              st.run->ops.fetch_add(1, std::memory_order_relaxed);
              if (answer != value)
                ++st.stats->wrong_answers;
            }
            ask(self);
          },
          [self](caf::error&) {
            ++self->state.stats->errors;
            ask(self);
          });
}

caf::behavior rtt_client(client_ptr self, shared_run* run, client_stats* stats,
                         caf::actor server) {
  self->state.run = run;
  self->state.stats = stats;
  self->state.server = std::move(server);
  ask(self);
  // Everything happens in the replies.
  return {[](int64_t) {
  }};
}

void rtt_thread(caf::actor_system& sys, const caf::actor& server,
                shared_run& run, client_stats& stats) {
  caf::scoped_actor self{sys};
  for (int32_t value = 0; run.current() != phase::stop; ++value) {
    auto sent = steady::now();
    self->request(server, caf::infinite, value)
        .receive(
            [&](int32_t answer) {
              if (run.current() != phase::measure)
                return;
              stats.latency.record(steady::now() - sent);
              ++stats.round_trips;
              run.ops.fetch_add(1, std::memory_order_relaxed);
              if (answer != value)
                ++stats.wrong_answers;
            },
            [&](caf::error&) { ++stats.errors; });
  }
}

// The echo server: local, or in `remote_sys` published on loopback and
// reached from `sys` through the middleman. Empty (with why in `error`) if
// it could not be reached.
caf::actor echo_handle(caf::actor_system& sys, caf::actor_system* remote_sys,
                       caf::actor& local, std::string& error) {
  if (remote_sys == nullptr) {
    local = sys.spawn(echo_server, 0);
    return local;
  }
  local = remote_sys->spawn(echo_server, 0);
  auto port = remote_sys->middleman().publish(local, 0, "127.0.0.1");
  if (!port) {
    error = remote_sys->render(port.error());
    return {};
  }
  auto remote = sys.middleman().remote_actor("127.0.0.1", *port);
  if (!remote) {
    error = sys.render(remote.error());
    return {};
  }
  return *remote;
}

result run_mode(caf::actor_system& sys, caf::actor_system* remote_sys,
                const options& o, const std::string& mode) {
  caf::actor local;
  std::string error;
  auto server = echo_handle(sys, remote_sys, local, error);
  if (!server) {
    std::cerr << "oms-bench-actor-rtt: the server cannot be reached: " << error
              << "\n";
    result failed;
    failed.all.errors = 1;
    return failed;
  }
  shared_run run;
  std::vector<client_stats> stats(static_cast<size_t>(o.clients));
  caf::scoped_actor self{sys};
  std::vector<std::thread> threads;
  for (size_t i = 0; i < stats.size(); ++i) {
    if (mode == "actors")
      self->monitor(sys.spawn(rtt_client, &run, &stats[i], server));
    else
      threads.emplace_back(rtt_thread, std::ref(sys), std::cref(server),
                           std::ref(run), std::ref(stats[i]));
  }
  if (o.warmup > 0)
    std::this_thread::sleep_for(oms::bench::duration_of(o.warmup));
  run.now = static_cast<int>(phase::measure);
  auto start = steady::now();
  {
    oms::bench::timed_progress bar{"rtt " + mode, o.seconds, run.ops,
                                   oms::bench::progress_wanted(o.quiet)};
    std::this_thread::sleep_for(oms::bench::duration_of(o.seconds));
  }
  run.now = static_cast<int>(phase::stop);
  result res;
  res.seconds = oms::bench::seconds_since(start);
  for (auto& t : threads)
    t.join();
  if (mode == "actors")
    for (size_t i = 0; i < stats.size(); ++i)
      self->receive([](const caf::down_msg&) {});
  if (remote_sys != nullptr)
    remote_sys->middleman().unpublish(local, 0);
  caf::anon_send_exit(local, caf::exit_reason::user_shutdown);
  for (auto& s : stats) {
    res.all.latency.merge(s.latency);
    res.all.round_trips += s.round_trips;
    res.all.errors += s.errors;
    res.all.wrong_answers += s.wrong_answers;
  }
  return res;
}

nlohmann::ordered_json describe(const result& r) {
  auto rate =
      r.seconds > 0 ? static_cast<double>(r.all.round_trips) / r.seconds : 0.0;
  return {{"roundTrips", r.all.round_trips},
          {"opsPerSecond", oms::bench::rounded(rate, 1)},
          {"latencyMs", oms::bench::to_json(r.all.latency.summary())},
          {"errors", r.all.errors},
          {"wrongAnswers", r.all.wrong_answers}};
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"oms-bench-actor-rtt: bare CAF request/reply round trips with N "
               "closed-loop clients; prints one JSON line last"};
  options o;
  app.add_option("--clients", o.clients, "Concurrent closed-loop clients")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  app.add_option("--seconds", o.seconds, "Measured time per mode")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--warmup", o.warmup, "Unmeasured time before each mode")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--mode", o.mode,
                 "actors: event-based client actors; threads: one thread "
                 "with a scoped actor per client; both: each in turn, the "
                 "faster reported")
      ->capture_default_str()
      ->check(CLI::IsMember({"both", "actors", "threads"}));
  app.add_option("--actor-threads", o.actor_threads,
                 "Scheduler threads (default: one per core, as omsd)");
  oms::bench::add_actor_scheduler_option(app, o.actor_scheduler);
  app.add_option("--across", o.across,
                 "none: the server is a local actor; loopback: it is "
                 "published by a second actor system on 127.0.0.1 and "
                 "reached through CAF's middleman")
      ->capture_default_str()
      ->check(CLI::IsMember({"none", "loopback"}));
  app.add_flag("--quiet", o.quiet, "No progress bar and no human lines");
  CLI11_PARSE(app, argc, argv);

  // The configuration omsd runs its actors with.
  caf::actor_system_config cfg;
  oms::bench::quiet_actor_config(cfg, o.actor_threads, o.actor_scheduler);
  caf::actor_system_config remote_cfg;
  oms::bench::quiet_actor_config(remote_cfg, o.actor_threads,
                                 o.actor_scheduler);
  std::unique_ptr<caf::actor_system> remote_sys;
  if (o.across == "loopback") {
    cfg.load<caf::io::middleman>();
    remote_cfg.load<caf::io::middleman>();
    remote_sys = std::make_unique<caf::actor_system>(remote_cfg);
  }
  caf::actor_system sys{cfg};
  std::vector<std::string> modes;
  if (o.mode == "both" || o.mode == "actors")
    modes.push_back("actors");
  if (o.mode == "both" || o.mode == "threads")
    modes.push_back("threads");
  std::vector<result> results;
  for (auto& m : modes) {
    results.push_back(run_mode(sys, remote_sys.get(), o, m));
    if (!o.quiet) {
      auto& r = results.back();
      std::cerr << "oms-bench-actor-rtt: " << m << ": "
                << oms::bench::fixed(
                       static_cast<double>(r.all.round_trips) / r.seconds, 0)
                << " round trips/s, p50 "
                << oms::bench::fixed(r.all.latency.summary().p50_ms, 3)
                << " ms\n";
    }
  }
  auto rate = [](const result& r) {
    return static_cast<double>(r.all.round_trips) / r.seconds;
  };
  size_t best = 0;
  for (size_t i = 1; i < results.size(); ++i)
    if (rate(results[i]) > rate(results[best]))
      best = i;
  auto& r = results[best];
  oms::bench::summary out;
  out.bench = "oms-bench-actor-rtt";
  out.system = "caf-rtt";
  out.workload = "rtt";
  out.clients = o.clients;
  out.seconds = r.seconds;
  out.operations = r.all.round_trips;
  out.latency = r.all.latency.summary();
  out.errors = r.all.errors;
  bool ok = true;
  for (auto& x : results)
    ok = ok && x.all.errors == 0 && x.all.wrong_answers == 0 &&
         x.all.round_trips > 0;
  out.invariants_ok = ok;
  out.extra["mode"] = modes[best];
  out.extra["across"] = o.across;
  for (size_t i = 0; i < results.size(); ++i)
    out.extra[modes[i]] = describe(results[i]);
  return oms::bench::print_summary(out);
}
