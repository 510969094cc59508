// The embedded journal backend: one SQLite file in WAL mode with full sync on
// commit. Each commit writes the events to the event log and applies them to
// the current-state tables in the same transaction (sql_store.hpp: the shared SQL
// store; here the SQLite dialect, the file and its transactions). Schema in
// docs/data-model.md.
#pragma once

#include <memory>
#include <string>

#include "system/store/sql_store.hpp"

struct sqlite3;

namespace oms {

class sqlite_store : public sql_store {
 public:
  /// Opens (creating if needed) the store at `path`, migrating an older
  /// schema explicitly. Fails with a message naming the file and the
  /// problem: not a store of ours, damaged, or from a newer version.
  static caf::expected<std::unique_ptr<sqlite_store>>
  open(const std::string& path);

  ~sqlite_store() override;

  caf::error commit(const std::vector<event>& events) override;
  std::string describe() const override { return "sqlite:" + where_; }

  /// The schema version this build writes.
  static constexpr int schema_version = 3;

 private:
  class session;

  sqlite_store(std::string path, sqlite3* db);

  void reading(bool snapshot,
               const std::function<void(sql_session&)>& body) const override;

  /// STORE_FAILURE: "PATH: WHAT: SQLite's message".
  caf::error fail(const std::string& what) const;

  sqlite3* db_;
  std::unique_ptr<session> session_;
  bool broken_ = false;
};

} // namespace oms
