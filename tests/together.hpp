// Runs `n` threads that start their work together, as far as threads can,
// and waits for them all: for tests of races.
#pragma once

#include <atomic>
#include <functional>
#include <thread>
#include <vector>

namespace oms::test {

/// Calls `work(i)` for i in [0, n), each on a thread of its own, released
/// at once when all are running; returns when all returned.
inline void run_together(int n, const std::function<void(int)>& work) {
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i)
    threads.emplace_back([&, i] {
      ++ready;
      while (ready.load() < n)
        std::this_thread::yield();
      work(i);
    });
  for (auto& t : threads)
    t.join();
}

} // namespace oms::test
