// The server-grade journal backend: PostgreSQL 15 through libpqxx, with the
// same logical schema as the SQLite store (docs/data-model.md) and the same
// SQL store on top (sql_store.hpp; here the PostgreSQL dialect, the connection and
// its transactions). Each commit is one transaction with synchronous_commit
// on: acknowledged means on the server's disk.
#pragma once

#include <memory>
#include <string>

#include <pqxx/connection>

#include "system/store/sql_store.hpp"

namespace oms {

class pg_store : public sql_store {
 public:
  /// Connects with libpq's `conninfo` ("host=127.0.0.1 port=5432 dbname=oms
  /// user=oms") and opens the store in `schema` (created if missing),
  /// migrating an older schema version explicitly. Fails with a message
  /// naming the server and the problem.
  static caf::expected<std::unique_ptr<pg_store>>
  open(const std::string& conninfo, const std::string& schema = "oms");

  ~pg_store() override;

  caf::error commit(const std::vector<event>& events) override;
  std::string describe() const override { return where_; }

  /// The schema version this build writes.
  static constexpr int schema_version = 3;

 private:
  explicit pg_store(std::string name);

  void reading(bool snapshot,
               const std::function<void(sql_session&)>& body) const override;

  /// (Re)connects, sets the schema and prepares the statements; reads the
  /// last sequence number.
  void connect();

  std::string conninfo_;
  std::string schema_;
  std::unique_ptr<pqxx::connection> conn_;
};

} // namespace oms
