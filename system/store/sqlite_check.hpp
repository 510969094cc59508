// The integrity check of a SQLite file (the order store, the payment
// ledger): every page read, every b-tree walked. It reads the whole file, so
// its time grows with the store (19 s for a 1 GB store read from a cold
// cache here): omsd does not make a start wait for it. An operator runs it
// with `omsd --check` (full), and omsd runs it in the background once it
// serves (quick), turning /readyz to not ready if it finds damage. A start
// still refuses a file that is not a store of ours, from a newer version, or
// damaged where the start reads it.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include <caf/expected.hpp>

namespace oms {

enum class check_depth {
  /// PRAGMA quick_check: pages, b-trees and records; not whether every
  /// index entry matches its row. Linear in the file's size.
  quick,
  /// PRAGMA integrity_check: also every index against its table.
  full,
};

/// What a check of one file found.
struct file_check {
  /// The problems SQLite names (at most `problems_max`), empty when the file
  /// is sound.
  std::vector<std::string> problems;
  /// Wall time of the check.
  double seconds = 0;
};

/// Checks the SQLite file at `path`, opened read-only (never created, never
/// written; a live omsd may keep writing to it meanwhile, in WAL mode the
/// check reads one consistent snapshot). STORE_FAILURE naming the file when
/// it cannot be read as a database at all, or when `cancel` became true
/// (checked every few thousand steps).
caf::expected<file_check>
check_sqlite_file(const std::string& path, check_depth depth,
                  const std::atomic<bool>* cancel = nullptr,
                  size_t problems_max = 20);

} // namespace oms
