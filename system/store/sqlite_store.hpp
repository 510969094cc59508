// The embedded journal backend: one SQLite file in WAL mode. A commit appends
// the events to the event log and syncs: that alone makes them durable. Their
// effect on the current-state tables (orders, holds, SKUs, keys...) is
// applied later, many commits' worth in one transaction (synced like any
// commit: applying it unsynced was measured and gained nothing, see
// docs/benchmarks.md): when the JOURNAL asks
// (apply_committed), before any read, and at open, which applies what the
// log holds beyond the tables (after a crash). The table `projection` keeps
// the last event applied, in the same transaction as the tables.
// (sql_store.hpp: the shared SQL store; here the SQLite dialect, the file and
// its transactions.) Schema in docs/data-model.md.
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
  size_t unapplied() const override { return unapplied_.size(); }

  /// The newest order event among the unapplied ones carries the order's
  /// record: it answers without applying the log (a resting order is woken
  /// by this read, often while appends keep the log ahead of the tables).
  /// Else the tables answer, caught up first.
  caf::expected<order_record> find_order(const order_id& id) const override;
  /// A key no unapplied event records is read from the tables as they
  /// stand: a create under a key asks for it first, and catching the
  /// tables up for each would apply the log one order at a time. Else the
  /// tables answer, caught up first.
  caf::expected<std::vector<key_state>>
  load_key(const customer_id& customer, const std::string& key) const override;
  caf::error apply_committed() override;
  std::string describe() const override { return "sqlite:" + where_; }

  /// The last event whose effect the current-state tables hold.
  uint64_t applied_seq() const { return applied_seq_; }

  /// The connection's `PRAGMA synchronous`: 2 (FULL), which every commit
  /// of the log runs at; -1 if it cannot be read.
  int sync_level() const;

  /// The reads that answer from the unapplied events scan at most this
  /// many; past it, applying them first costs less than the scan.
  static constexpr size_t scan_max = 4096;

  /// A commit that leaves this many events unapplied applies them at once.
  static constexpr size_t unapplied_max = 65536;

  /// The schema version this build writes.
  static constexpr int schema_version = 8;

 private:
  class session;

  sqlite_store(std::string path, sqlite3* db);

  void reading(bool snapshot,
               const std::function<void(sql_session&)>& body) const override;
  void writing(const std::function<void(sql_session&)>& body) override;
  void
  reading_tables(const std::function<void(sql_session&)>& body) const override;

  /// STORE_FAILURE: "PATH: WHAT: SQLite's message".
  caf::error fail(const std::string& what) const;

  /// At open: applies what the log holds beyond the tables. What is wrong,
  /// or "".
  std::string catch_up();

  /// Applies `unapplied_` in one transaction; throws naming what failed
  /// (and the store is broken from then on).
  void apply_all() const;

  /// STORE_FAILURE if the store can serve no more, else none.
  caf::error refusal() const;

  struct logged {
    event ev;
    uint64_t seq;
    std::string payload; // as the log stores it
  };

  sqlite3* db_;
  std::unique_ptr<session> session_;
  // Committed to the log, not yet applied to the tables, in log order. The
  // reads (const) apply them first: they change what the file holds, not
  // what the store answers.
  mutable std::vector<logged> unapplied_;
  mutable uint64_t applied_seq_ = 0;
  // Why the store can serve no more (a rollback that failed, or events of
  // the log that could not be applied), or empty.
  mutable std::string broken_;
};

} // namespace oms
