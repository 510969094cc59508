#include "system/store/pg_store.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <pqxx/pqxx>

#include "messages/errors.hpp"
#include "system/store/codec.hpp"
#include "system/store/dialects.hpp"
#include "system/store/pg_schema_locks.hpp"
#include "system/store/pg_session.hpp"

namespace oms {

using pg_schema_locks::migration_lock;
using pg_schema_locks::owner_key;
using pg_schema_locks::take_schema;

namespace {

// How our sessions show in pg_stat_activity: "omsd pid=4242 host=box"
// (PostgreSQL keeps the first 63 bytes).
std::string application_name() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0)
    host[0] = '\0';
  return std::string{program_invocation_short_name} +
         " pid=" + std::to_string(::getpid()) +
         " host=" + (host[0] != '\0' ? host : "unknown");
}

// How long a shared writer's session may sit in a transaction without
// sending anything before the server ends it.
constexpr std::chrono::milliseconds shared_idle_limit{5000};

// A session with the store's settings: named for pg_stat_activity, on
// `schema` (which need not exist yet), committing synchronously. libpqxx 6
// would reconnect a broken connection on its next use, silently, as a new
// session without the schema's lock or these settings: never here.
std::unique_ptr<pqxx::connection>
session(const std::string& conninfo, const std::string& schema, bool shared) {
  auto conn = std::make_unique<pqxx::connection>(conninfo);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  conn->inhibit_reactivation(true);
#pragma GCC diagnostic pop
  pqxx::nontransaction n{*conn};
  n.exec("SET application_name TO " + n.quote(application_name()));
  n.exec("SET search_path TO " + n.quote_name(schema));
  n.exec("SET synchronous_commit TO on");
  if (shared)
    // A writer that stops in the middle of a commit (a node frozen, its
    // host cut off: the server waits for a client that sends nothing, and
    // TCP may not tell it for hours) holds the log head's lock, which every
    // writer's commit needs, and its leases' row locks, which a takeover
    // needs: the server ends such a session, and what it had not committed
    // is rolled back. A commit's statements follow each other at once; a
    // snapshot read turns it off for its own transaction (reading()).
    n.exec("SET idle_in_transaction_session_timeout TO " +
           n.quote(std::to_string(shared_idle_limit.count()) + "ms"));
  return conn;
}

// One INSERT of `events` into the log, numbered from `first`, each with its
// encoded payload ("" for none), every text a quoted literal: one statement
// for the server to plan instead of one per event (measured: 1.04-1.12x the
// commits of a shared writer, docs/cluster.md).
std::string insert_events_sql(pqxx::transaction_base& tx,
                              const std::vector<event>& events,
                              const std::vector<std::string>& payloads,
                              uint64_t first) {
  if (events.empty())
    return {};
  std::string sql = "INSERT INTO events (seq, at, kind, sku, order_id, "
                    "quantity, amount, payload) VALUES ";
  for (size_t i = 0; i < events.size(); ++i) {
    auto& ev = events[i];
    sql += i == 0 ? "(" : ",\n(";
    sql += std::to_string(sql_integer(first + i)) + "," +
           std::to_string(ev.at) + "," +
           tx.quote(std::string{to_string(ev.kind)}) + "," + tx.quote(ev.sku) +
           "," + tx.quote(ev.order) + "," + std::to_string(ev.quantity) + "," +
           std::to_string(ev.amount) + "," +
           (payloads[i].empty() ? std::string{"NULL"} : tx.quote(payloads[i])) +
           ")";
  }
  sql += ";\n";
  return sql;
}

} // namespace

pg_store::pg_store(std::string name) : sql_store(std::move(name)) {}

pg_store::~pg_store() = default;

caf::expected<std::unique_ptr<pg_store>>
pg_store::open(const std::string& conninfo, const std::string& schema) {
  return open_as(conninfo, schema, false);
}

caf::expected<std::unique_ptr<pg_store>>
pg_store::open_shared(const std::string& conninfo, const std::string& schema) {
  return open_as(conninfo, schema, true);
}

caf::expected<std::unique_ptr<pg_store>>
pg_store::open_as(const std::string& conninfo, const std::string& schema,
                  bool shared) {
  std::string name = "postgres:" + schema;
  auto failure = [&](const std::string& what) {
    return make_error(errc::store_failure, name + ": " + what);
  };
  try {
    auto conn = session(conninfo, schema, shared);
    name = "postgres:" + std::string{conn->hostname() ? conn->hostname() : ""} +
           ":" + std::string{conn->port() ? conn->port() : ""} + "/" +
           std::string{conn->dbname()} + "/" + schema;
    // Before anything is read or migrated: one owner at a time, or only
    // shared writers.
    take_schema(*conn, schema, shared);
    // Shared writers starting together make and migrate the schema once,
    // one after another: each holds a lock of the migration's own from
    // before it reads the schema until it migrated it. A lock taken in each
    // transaction was not enough: a writer's catalog cache, filled before it
    // waited, still said the tables were not there after another had made
    // them (PostgreSQL reads the invalidations when a transaction starts,
    // not after an advisory lock is granted), and it made them again.
    migration_lock migrating{*conn, owner_key(schema) ^ 1, shared};
    {
      pqxx::work w{*conn};
      w.exec("CREATE SCHEMA IF NOT EXISTS " + w.quote_name(schema));
      w.commit();
    }
    int version = 0;
    {
      pqxx::work w{*conn};
      auto meta = w.exec("SELECT to_regclass('oms_meta') IS NOT NULL, "
                         "to_regclass('events') IS NOT NULL");
      bool has_meta = meta[0][0].as<bool>();
      bool has_events = meta[0][1].as<bool>();
      if (!has_meta && has_events)
        return failure("schema holds tables but is not an order store");
      if (has_meta) {
        auto v = w.exec("SELECT value FROM oms_meta WHERE key = "
                        "'schema_version'");
        if (v.empty())
          return failure("has no schema version");
        version = v[0][0].as<int>();
      }
      w.commit();
    }
    if (version > schema_version)
      return failure("has schema version " + std::to_string(version) +
                     ", newer than this build's " +
                     std::to_string(schema_version) +
                     ": upgrade the software or restore a matching store");
    for (auto v = version; v < schema_version; ++v) {
      pqxx::work w{*conn};
      w.exec(pg_dialect().migrations[v]);
      w.exec("INSERT INTO oms_meta (key, value) VALUES ('schema_version', '" +
             std::to_string(v + 1) +
             "') ON CONFLICT (key) DO UPDATE SET value = excluded.value");
      w.commit();
    }
    if (shared) {
      // The log's head: the last sequence number taken, one row that every
      // commit locks.
      pqxx::work w{*conn};
      w.exec("CREATE TABLE IF NOT EXISTS oms_log_head (id INTEGER PRIMARY "
             "KEY CHECK (id = 1), last BIGINT NOT NULL)");
      w.exec("INSERT INTO oms_log_head (id, last) SELECT 1, coalesce(max(seq), "
             "0) FROM events ON CONFLICT (id) DO NOTHING");
      // Each shard's epochs as its commits went (fence_pass): one row per
      // shard, epoch and writer, so as many as the leases changed hands.
      w.exec("CREATE TABLE IF NOT EXISTS oms_log_epochs (shard INTEGER NOT "
             "NULL, epoch BIGINT NOT NULL, node TEXT NOT NULL, first_seq "
             "BIGINT NOT NULL, last_seq BIGINT NOT NULL, PRIMARY KEY (shard, "
             "epoch, node))");
      w.commit();
    }
    migrating.release();
    std::unique_ptr<pg_store> store{new pg_store(name)};
    store->conninfo_ = conninfo;
    store->schema_ = schema;
    store->shared_ = shared;
    store->adopt(std::move(conn));
    return store;
  } catch (const std::exception& e) {
    return failure(e.what());
  }
}

caf::expected<uint64_t> pg_store::log_end() const {
  if (!shared_)
    return last_seq();
  try {
    pqxx::nontransaction n{*conn_};
    auto head = static_cast<uint64_t>(
        n.exec1("SELECT last FROM oms_log_head WHERE id = 1")[0].as<int64_t>());
    return std::max(head, last_seq());
  } catch (const std::exception& e) {
    return make_error(errc::store_failure,
                      where_ + ": cannot read the log's end: " + e.what());
  }
}

caf::expected<uint64_t> pg_store::prune(timestamp_ms before, uint64_t max) {
  auto gone = sql_store::prune(before, max);
  if (!gone || *gone == 0 || !shared_)
    return gone;
  try {
    pqxx::work w{*conn_};
    w.exec("DELETE FROM oms_log_epochs WHERE last_seq < " +
           std::to_string(first_seq_));
    w.commit();
  } catch (const std::exception& e) {
    // The events are gone; their epochs' rows go at the next prune.
    return failure(std::string{"cannot prune the record of the fences: "} +
                   e.what());
  }
  return gone;
}

caf::error pg_store::commit(const std::vector<event>& events) {
  if (reader_)
    return failure("a reader of the store commits nothing");
  if (!lost_.empty())
    return failure(lost_);
  // A shared writer writes the tables before it takes the log's head (below),
  // so two writers' commits may meet in a deadlock on rows outside any shard
  // (a customer's, a key's), which the head's lock used to keep apart: the
  // server rolls one back, and it is tried again.
  for (int attempt = 1;; ++attempt) {
    auto before = last_seq_;
    reserved_.reset();
    commit_sent_ = false;
    try {
      return commit_once(events, before);
    } catch (const bad_data& e) {
      // The stored state is wrong, not the connection: nothing was committed.
      return failure(std::string{"cannot commit: "} + e.what());
    } catch (const pqxx::deadlock_detected& e) {
      // Rolled back whole (no COMMIT was sent: a deadlock is found while the
      // statements wait), on a connection that still serves.
      if (attempt < deadlock_attempts && !commit_sent_ && conn_->is_open())
        continue;
      return settle(events, before, e.what());
    } catch (const std::exception& e) {
      return settle(events, before, e.what());
    }
  }
}

caf::error pg_store::commit_once(const std::vector<event>& events,
                                 uint64_t before) {
  pqxx::work w{*conn_};
  // Fenced first: nothing is written under a lost lease, and the lock the
  // fence takes holds until this transaction ends.
  std::optional<fence_pass> pass;
  if (fence_) {
    pass = fence_(w, events);
    if (!pass)
      return make_error(errc::not_owner,
                        "cannot commit: " + fence_what_ +
                            " no longer holds (another node took over); "
                            "nothing was written");
  }
  pg_session s{w, true};
  auto n = events.size();
  std::vector<std::string> payloads;
  payloads.reserve(n);
  for (auto& ev : events)
    payloads.push_back(encode_payload(ev));
  // The tables first, then the log. A shared writer writes the tables
  // without the log's head: the other writers' commits wait for this one's
  // numbering, its log and its COMMIT, not for its tables (most of its
  // statements). An order created here then takes a provisional ordinal,
  // above any number the log reaches, until its event is numbered.
  uint64_t provisional = before;
  if (shared_) {
    if (n >= provisional_span)
      throw bad_data{"a batch of " + std::to_string(n) +
                     " events is more than a shared writer numbers at once"};
    provisional = provisional_ordinals +
                  (static_cast<uint64_t>(backend_.pid) * provisional_span);
  }
  for (size_t i = 0; i < n; ++i)
    apply_event(s, events[i], provisional + i + 1, payloads[i], shard_count_);
  std::string sql;
  if (shared_) {
    s.flush();
    // The next numbers, under the head's lock: the other writers' commits
    // wait for this one's from here, so the log's order is the commits'.
    auto last = static_cast<uint64_t>(
        w.exec1("UPDATE oms_log_head SET last = last + " + std::to_string(n) +
                " WHERE id = 1 RETURNING last")[0]
            .as<int64_t>());
    before = last - n;
    reserved_ = before;
    // In one round trip with the log: the orders' ordinals, and the epochs
    // this batch was fenced under.
    if (n > 0)
      sql = "UPDATE orders SET ordinal = ordinal - " +
            std::to_string(provisional - before) + " WHERE ordinal > " +
            std::to_string(provisional) +
            " AND ordinal <= " + std::to_string(provisional + n) + ";\n";
    if (pass && !pass->shards.empty() && n > 0) {
      sql += "INSERT INTO oms_log_epochs (shard, epoch, node, first_seq, "
             "last_seq) VALUES ";
      auto node = w.quote(pass->node);
      bool first = true;
      for (auto& [shard, epoch] : pass->shards) {
        sql += (first ? "(" : ", (") + std::to_string(shard) + ", " +
               std::to_string(epoch) + ", " + node + ", " +
               std::to_string(before + 1) + ", " + std::to_string(last) + ")";
        first = false;
      }
      sql += " ON CONFLICT (shard, epoch, node) DO UPDATE SET last_seq = "
             "excluded.last_seq;\n";
    }
  }
  sql += insert_events_sql(w, events, payloads, before + 1);
  s.defer_sql(std::move(sql));
  auto seq = before + n;
  s.flush();
  commit_sent_ = true;
  w.commit();
  last_seq_ = seq;
  return caf::none;
}

void pg_store::connect() {
  auto conn = session(conninfo_, schema_, shared_);
  if (!reader_)
    take_schema(*conn, schema_, shared_);
  adopt(std::move(conn));
}

caf::expected<std::shared_ptr<journal_store>> pg_store::open_reader() const {
  try {
    std::shared_ptr<pg_store> r{new pg_store(where_ + " (reader)")};
    r->conninfo_ = conninfo_;
    r->schema_ = schema_;
    r->reader_ = true;
    r->connect();
    return std::shared_ptr<journal_store>{std::move(r)};
  } catch (const std::exception& e) {
    return failure(std::string{"cannot open a reader: "} + e.what());
  }
}

void pg_store::adopt(std::unique_ptr<pqxx::connection> conn) {
  for (size_t i = 0; i < sql_count; ++i) {
    conn->prepare(name_of(static_cast<sql>(i)), pg_dialect().statements[i]);
    // Now, not at first use: a commit's writes name them in EXECUTE.
    conn->prepare_now(name_of(static_cast<sql>(i)));
  }
  {
    pqxx::nontransaction n{*conn};
    auto me = n.exec1("SELECT pg_backend_pid(), backend_start::text FROM "
                      "pg_stat_activity WHERE pid = pg_backend_pid()");
    backend_ = {me[0].as<int>(), me[1].as<std::string>()};
    pg_session s{n};
    read_bounds(s);
  }
  conn_ = std::move(conn);
}

void pg_store::writing(const std::function<void(sql_session&)>& body) {
  if (reader_)
    throw std::runtime_error{"a reader of the store writes nothing"};
  if (!lost_.empty())
    throw std::runtime_error{lost_};
  pqxx::work w{*conn_};
  pg_session s{w};
  body(s);
  w.commit();
}

void pg_store::reading(bool snapshot,
                       const std::function<void(sql_session&)>& body) const {
  auto read = [&] {
    if (!snapshot) {
      pqxx::nontransaction n{*conn_};
      pg_session s{n};
      body(s);
      return;
    }
    pqxx::work w{*conn_};
    // A load may take its time between statements (rows to decode): not a
    // stalled commit (session()).
    if (shared_)
      w.exec("SET LOCAL idle_in_transaction_session_timeout TO 0");
    pg_session s{w};
    body(s);
    w.commit();
  };
  try {
    read();
  } catch (const pqxx::broken_connection&) {
    // A shared writer whose session the server ended (a restart of
    // PostgreSQL) opens another and reads again: its numbers come from the
    // log's head, so nothing it knows goes stale; so does a reader, which
    // holds nothing. A store that owns its schema leaves that to its next
    // commit, which finds out whether the log moved on while it was away.
    if (!shared_ && !reader_)
      throw;
    const_cast<pg_store*>(this)->connect();
    read();
  }
}

} // namespace oms
