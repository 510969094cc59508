// The in-memory journal backend: fast, lost on exit. For unit tests and for
// runs that do not need durability.
#pragma once

#include <atomic>
#include <mutex>

#include "system/journal_store.hpp"

namespace oms {

/// Keeps events in a vector. Thread-safe, so tests may inspect it while the
/// JOURNAL runs.
class memory_store : public journal_store {
 public:
  caf::error commit(const std::vector<event>& events) override;
  std::vector<event> read(uint64_t from, uint64_t max) const override;
  uint64_t last_seq() const override;
  bool blocking() const override { return false; }
  std::string describe() const override { return "memory"; }

  /// While set, every commit fails with STORE_FAILURE (fault injection).
  void fail_commits(bool on) { failing_ = on; }

 private:
  mutable std::mutex mtx_;
  std::vector<event> events_;
  std::atomic<bool> failing_{false};
};

} // namespace oms
