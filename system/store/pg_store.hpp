// The server-grade journal backend: PostgreSQL 15 through libpqxx, with the
// same logical schema as the SQLite store (docs/data-model.md) and the same
// SQL store on top (sql_store.hpp; here the PostgreSQL dialect, the connection and
// its transactions). Each commit is one transaction with synchronous_commit
// on: acknowledged means on the server's disk. A store owns its schema: it
// holds a session-level advisory lock on it for as long as it lives, and
// commits only on a connection that holds it.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <pqxx/connection>
#include <pqxx/transaction_base>

#include "system/store/sql_store.hpp"

namespace oms {

class pg_store : public sql_store {
 public:
  /// Connects with libpq's `conninfo` ("host=127.0.0.1 port=5432 dbname=oms
  /// user=oms"), takes the schema's advisory lock and opens the store in
  /// `schema` (created if missing), migrating an older schema version
  /// explicitly. Fails with a message naming the server and the problem;
  /// when another store holds the schema, naming that store's session as
  /// PostgreSQL knows it (application_name, client address, backend pid).
  static caf::expected<std::unique_ptr<pg_store>>
  open(const std::string& conninfo, const std::string& schema = "oms");

  /// Opens the store in `schema` as one of several writers: the nodes of a
  /// cluster (docs/cluster.md), each committing through a fence. It holds
  /// the schema's lock shared (any number of shared stores at once, none
  /// beside a store open() made, and the other way round), and each commit
  /// writes the tables, then takes the log's next sequence numbers from one
  /// row it locks until it ends, so the log's order is the commits' order
  /// across writers and they wait for each other's log only. What
  /// the current-state tables say of a shard is up to date for the writer
  /// whose fence lets it commit there; the rest of what load() returns may
  /// be behind the other writers.
  static caf::expected<std::unique_ptr<pg_store>>
  open_shared(const std::string& conninfo, const std::string& schema);

  ~pg_store() override;

  /// Commits in one transaction. When the connection is lost, reconnects
  /// (taking the lock again) and asks the log whether the batch landed. If
  /// the log moved on while this store was away from it (another store took
  /// the schema), every later commit fails: restart to load what it holds.
  caf::error commit(const std::vector<event>& events) override;
  bool shared_log() const override { return shared_; }
  /// A session of its own on the same schema, for reads only (it takes no
  /// lock of the schema, commits nothing, and reconnects when the server
  /// ended its session).
  caf::expected<std::shared_ptr<journal_store>> open_reader() const override;
  /// A shared writer's: the log's head as committed (the head's row is
  /// locked by each commit until it ends, so every event up to it is
  /// committed).
  caf::expected<uint64_t> log_end() const override;
  std::string describe() const override { return where_; }

  /// Prunes as every SQL store does; a shared store then drops the rows of
  /// oms_log_epochs whose commits were all pruned (the record of the
  /// fences goes with the log it describes).
  caf::expected<uint64_t> prune(timestamp_ms before, uint64_t max) override;

  /// The schema version this build writes.
  static constexpr int schema_version = 7;

  /// What a fence let through: the shards a batch commits on, each under
  /// the epoch of `node`'s lease. A shared store records, in the batch's
  /// transaction, each (shard, epoch, node) with the first and last
  /// sequence numbers committed under it (table oms_log_epochs): what
  /// shows, on PostgreSQL's own state, that one epoch of a shard had one
  /// writer and that a shard's epochs followed each other in the log.
  struct fence_pass {
    std::string node;
    std::vector<std::pair<uint32_t, int64_t>> shards;
  };

  /// A check every commit makes in its own transaction before it writes,
  /// given the batch: nothing (or an exception) rolls the commit back and
  /// it fails, naming the check's `what` (for a cluster node: the shards'
  /// leases, cluster::lease_table::fenced_all, whose row locks make a
  /// takeover wait for the commit). Empty: no check.
  using fence_fn = std::function<std::optional<fence_pass>(
      pqxx::transaction_base&, const std::vector<event>& batch)>;
  void set_fence(fence_fn fence, std::string what) {
    fence_ = std::move(fence);
    fence_what_ = std::move(what);
  }

  /// What admit() asks of an append (none: every append joins a batch).
  using admit_fn = std::function<caf::error(const std::vector<event>&)>;
  void set_admit(admit_fn admit) { admit_ = std::move(admit); }
  caf::error admit(const std::vector<event>& events) const override {
    return admit_ ? admit_(events) : caf::none;
  }

  /// How long a shared writer's commit that lost its connection after it
  /// may have sent COMMIT keeps trying to reach the server to learn
  /// whether its batch landed (the commit is answered only then). Past it,
  /// the store commits nothing more, and calls the lost handler.
  void set_settle_wait(std::chrono::milliseconds wait) { settle_wait_ = wait; }

  /// Called once, on the committing thread, when the store stops
  /// committing for good (with the reason): a cluster node must then stop
  /// holding shards it can no longer write.
  void set_on_lost(std::function<void(const std::string&)> handler) {
    on_lost_ = std::move(handler);
  }

 private:
  explicit pg_store(std::string name);

  void reading(bool snapshot,
               const std::function<void(sql_session&)>& body) const override;
  void writing(const std::function<void(sql_session&)>& body) override;

  /// Reconnects (taking the lock again), prepares the statements and reads
  /// the last sequence number. Throws what connecting throws.
  void connect();

  /// Makes `conn`, which holds the lock, the store's connection: prepares
  /// the statements and reads the last sequence number.
  void adopt(std::unique_ptr<pqxx::connection> conn);

  /// One try of commit() on top of sequence number `before`; throws what
  /// the session throws.
  caf::error commit_once(const std::vector<event>& events, uint64_t before);

  /// How often a shared writer's commit that met another's in a deadlock is
  /// tried in all.
  static constexpr int deadlock_attempts = 3;
  /// A shared writer's provisional ordinals (commit_once): from 2^62 up, a
  /// span of numbers for each server process, as many as a batch may hold.
  static constexpr uint64_t provisional_ordinals = uint64_t{1} << 62;
  static constexpr uint64_t provisional_span = uint64_t{1} << 24;

  /// After a commit of `events` on top of sequence number `before` failed
  /// with `what`: finds out from the log whether the batch landed.
  caf::error settle(const std::vector<event>& events, uint64_t before,
                    std::string what);

  /// After a commit met a lost connection: a new session, or the commit's
  /// failure (with `what`) if none can be had.
  std::optional<caf::error> reconnect(std::string& what);

  /// settle() for a shared writer: from the numbers the commit reserved,
  /// waiting (up to settle_wait_) until the server can say.
  caf::error settle_shared(const std::vector<event>& events, std::string what);

  static caf::expected<std::unique_ptr<pg_store>>
  open_as(const std::string& conninfo, const std::string& schema, bool shared);

  std::string conninfo_;
  std::string schema_;
  /// One of several writers (open_shared).
  bool shared_ = false;
  /// A reader of a store opened by another (open_reader).
  bool reader_ = false;
  /// The sequence number after which the commit under way reserved its
  /// batch's numbers (shared writers), once it has.
  std::optional<uint64_t> reserved_;
  /// Whether the commit under way has sent its COMMIT (it may have landed
  /// only then).
  bool commit_sent_ = false;
  std::unique_ptr<pqxx::connection> conn_;
  /// Set once the log is found to have moved on without this store.
  std::string lost_;
  fence_fn fence_;
  std::string fence_what_;
  admit_fn admit_;
  /// The session's backend as PostgreSQL knows it (pid and start), to end
  /// it from a new session if the server still has it.
  struct backend {
    int pid = 0;
    std::string started;
  };
  backend backend_;
  std::chrono::milliseconds settle_wait_{60000};
  std::function<void(const std::string&)> on_lost_;
};

} // namespace oms
