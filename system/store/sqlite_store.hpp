// The embedded journal backend: one SQLite file in WAL mode with full sync on
// commit. Each commit writes the events to the event log and applies them to
// the current-state tables in the same transaction. Schema in
// docs/data-model.md.
#pragma once

#include <memory>
#include <string>

#include "messages/journal_store.hpp"

struct sqlite3;

namespace oms {

class sqlite_store : public journal_store {
 public:
  /// Opens (creating if needed) the store at `path`, migrating an older
  /// schema explicitly. Fails with a message naming the file and the
  /// problem: not a store of ours, damaged, or from a newer version.
  static caf::expected<std::unique_ptr<sqlite_store>>
  open(const std::string& path);

  ~sqlite_store() override;

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
  std::string describe() const override { return "sqlite:" + path_; }

  /// The schema version this build writes.
  static constexpr int schema_version = 3;

 private:
  struct statements;

  sqlite_store(std::string path, sqlite3* db);

  caf::error apply(const event& ev, uint64_t seq);

  /// Reads the hold of `ev`'s order on its SKU, if there is one.
  caf::error find_hold(const event& ev, bool& found, int64_t& quantity,
                       std::vector<lot_allocation>& lots);
  caf::error fail(const std::string& what) const;

  std::string path_;
  sqlite3* db_;
  std::unique_ptr<statements> stmts_;
  uint64_t last_seq_ = 0;
  bool broken_ = false;
};

} // namespace oms
