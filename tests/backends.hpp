// The journal backends every shared suite runs against: memory and SQLite
// always, PostgreSQL when OMS_TEST_PG names a connection string.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "system/store/memory_store.hpp"
#include "system/store/sqlite_store.hpp"
#include "tests/why.hpp"

namespace oms::test {

/// A fresh temporary directory, removed with the object.
struct temp_dir {
  std::filesystem::path path;
  temp_dir() {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "oms-test-XXXXXX").string();
    path = mkdtemp(tmpl.data());
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

/// A backend under test: opens (or reopens, as after a restart) its store.
struct backend_case {
  std::string name;
  /// Opens the store; calling it again reopens the same data.
  std::function<std::shared_ptr<journal_store>()> open;
  /// Runs SQL on the store's data behind its back (to damage it); empty for
  /// the memory store.
  std::function<void(const std::string& sql)> exec_sql;
  /// Reads rows of the store's data behind its back, each value as text
  /// ("NULL" for a null); unset for the memory store.
  std::function<std::vector<std::vector<std::string>>(const std::string& sql)>
      query_sql;
};

/// A receipt of `qty` units of `sku` (no batch) at time 1: the plainest
/// event a store commits.
inline event receipt_event(const std::string& sku, int64_t qty) {
  event ev;
  ev.kind = event_kind::stock_received;
  ev.at = 1;
  ev.sku = sku;
  ev.quantity = qty;
  return ev;
}

/// One backend_case per available backend, each on fresh, empty data.
std::vector<backend_case> backends(const temp_dir& dir);

} // namespace oms::test
