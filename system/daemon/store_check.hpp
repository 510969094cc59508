// omsd's integrity check of its SQLite files (the order store and the
// payment ledger) in the background, once it serves: a start no longer
// waits for a read of the whole store (system/store/sqlite_check.hpp). What
// it found shows in /readyz (not ready on damage), /metrics and the log.
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace oms::daemon {

/// Where the background check stands.
struct store_check_view {
  enum class state {
    /// Not run: --store-check off, or a store with no SQLite file.
    off,
    running,
    /// Every file sound.
    ok,
    /// A file has problems: omsd answers not ready.
    damaged,
    /// A file could not be checked (unreadable, cancelled): reported, not
    /// counted as damage.
    failed,
  };
  state status = state::off;
  /// The damaged file, or the one that could not be checked.
  std::string file;
  /// What SQLite named (damaged), or why the check failed.
  std::vector<std::string> problems;
  /// Wall time of the whole check, once finished.
  double seconds = 0;
};

const char* to_string(store_check_view::state x);

class store_check {
 public:
  store_check() = default;
  /// Cancels a check under way and waits for its thread.
  ~store_check();

  store_check(const store_check&) = delete;
  store_check& operator=(const store_check&) = delete;

  /// Checks `files` (quick_check; a file that does not exist is skipped)
  /// one after the other on a thread of its own, at most once.
  void start(std::vector<std::string> files);

  store_check_view view() const;

 private:
  void run(const std::vector<std::string>& files);

  mutable std::mutex mtx_;
  store_check_view view_;
  std::atomic<bool> cancel_{false};
  std::thread thread_;
};

} // namespace oms::daemon
