// How many threads run the actors: omsd's --actor-threads, and the
// in-process benches' (header only: the bare round-trip bench links no
// order system).
#pragma once

#include <algorithm>
#include <cstddef>
#include <thread>

namespace oms {

/// The actor threads to run for `asked` (0: one per core). CAF 0.17's own
/// default is at least four whatever the cores, and on two cores the idle
/// ones' polling starved the busy ones (docs/benchmarks.md).
inline size_t actor_threads_for(size_t asked) {
  if (asked > 0)
    return asked;
  return std::max<size_t>(1, std::thread::hardware_concurrency());
}

} // namespace oms
