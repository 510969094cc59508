// Waiting on a condition with a deadline, for tests of what runs in its own
// time (real processes, sockets, threads): the exact timing of the actors is
// covered by the tests on virtual time.
#pragma once

#include <chrono>
#include <thread>

namespace oms::test {

/// Polls `pred` every `every` until it holds or `limit` passes; true when it
/// held (it is asked once more at the deadline).
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit,
                std::chrono::milliseconds every = std::chrono::milliseconds{
                    10}) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred())
      return true;
    std::this_thread::sleep_for(every);
  }
  return pred();
}

} // namespace oms::test
