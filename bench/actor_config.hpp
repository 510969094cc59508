// The actor system configuration the in-process benchmarks run with: omsd's
// scheduler, CAF's own logging silenced. Header only: it needs CAF, which
// bench_common (linked by the HTTP load generator too) does without.
#pragma once

#include <cstddef>
#include <string>

#include <CLI/CLI.hpp>
#include <caf/actor_system_config.hpp>

#include "system/actor_threads.hpp"

namespace oms::bench {

/// Silences CAF's console and file logs in `cfg`, runs the actors on
/// `scheduler` ("stealing" or "sharing", as omsd's --actor-scheduler) on
/// `actor_threads` threads (0: one per core, as omsd).
inline void quiet_actor_config(caf::actor_system_config& cfg,
                               size_t actor_threads,
                               const std::string& scheduler = "stealing") {
  cfg.set("logger.console-verbosity", caf::atom("quiet"));
  cfg.set("logger.file-verbosity", caf::atom("quiet"));
  cfg.set("scheduler.policy", scheduler == "sharing" ? caf::atom("sharing")
                                                     : caf::atom("stealing"));
  cfg.set("scheduler.max-threads", actor_threads_for(actor_threads));
}

/// Adds --actor-scheduler (stealing or sharing, as omsd's) to `app`.
inline void add_actor_scheduler_option(CLI::App& app, std::string& scheduler) {
  app.add_option("--actor-scheduler", scheduler,
                 "The actors' scheduler: stealing (a queue per thread, idle "
                 "threads poll the others; omsd's default) or sharing (one "
                 "queue, idle threads sleep)")
      ->capture_default_str()
      ->check(CLI::IsMember({"stealing", "sharing"}));
}

} // namespace oms::bench
