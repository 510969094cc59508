// The actor system configuration the in-process benchmarks run with: omsd's
// scheduler, CAF's own logging silenced. Header only: it needs CAF, which
// bench_common (linked by the HTTP load generator too) does without.
#pragma once

#include <cstddef>

#include <caf/actor_system_config.hpp>

namespace oms::bench {

/// Silences CAF's console and file logs in `cfg` and, when `actor_threads`
/// is above 0, caps the scheduler at that many threads (else one per core,
/// as omsd).
inline void quiet_actor_config(caf::actor_system_config& cfg,
                               size_t actor_threads) {
  cfg.set("logger.console-verbosity", caf::atom("quiet"));
  cfg.set("logger.file-verbosity", caf::atom("quiet"));
  if (actor_threads > 0)
    cfg.set("scheduler.max-threads", actor_threads);
}

} // namespace oms::bench
