// The server-grade journal backend: PostgreSQL 15 through libpqxx, with the
// same logical schema as the SQLite store (docs/data-model.md). Each commit
// is one transaction with synchronous_commit on: acknowledged means on the
// server's disk.
#pragma once

#include <memory>
#include <string>

#include "messages/journal_store.hpp"

#include <pqxx/connection>

namespace oms {

class pg_store : public journal_store {
 public:
  /// Connects with libpq's `conninfo` ("host=127.0.0.1 port=5432 dbname=oms
  /// user=oms") and opens the store in `schema` (created if missing),
  /// migrating an older schema version explicitly. Fails with a message
  /// naming the server and the problem.
  static caf::expected<std::unique_ptr<pg_store>>
  open(const std::string& conninfo, const std::string& schema = "oms");

  ~pg_store() override;

  caf::error commit(const std::vector<event>& events) override;
  caf::expected<std::vector<event>> read(uint64_t from,
                                         uint64_t max) const override;
  uint64_t last_seq() const override { return last_seq_; }
  caf::expected<recovered_state> load() override;
  caf::expected<std::vector<key_state>>
  load_keys(const customer_id& customer, timestamp_ms since) const override;
  caf::expected<order_record> find_order(const order_id& id) const override;
  caf::expected<std::vector<order_record>>
  list_orders(const customer_id& customer, uint64_t offset,
              uint64_t limit) const override;
  bool blocking() const override { return true; }
  std::string describe() const override { return name_; }

  /// The schema version this build writes.
  static constexpr int schema_version = 3;

 private:
  pg_store(std::string name, std::unique_ptr<pqxx::connection> conn);

  /// (Re)connects, sets the schema and prepares the statements.
  void connect();

  std::string name_;
  std::string conninfo_;
  std::string schema_;
  std::unique_ptr<pqxx::connection> conn_;
  uint64_t last_seq_ = 0;
};

} // namespace oms
