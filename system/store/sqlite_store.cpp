#include "system/store/sqlite_store.hpp"

#include <algorithm>
#include <array>
#include <climits>
#include <filesystem>
#include <iterator>
#include <memory>
#include <utility>
#include <variant>

#include <sqlite3.h>

#include "messages/errors.hpp"
#include "system/store/dialects.hpp"
#include "system/store/projection.hpp"

namespace oms {

namespace {

// 'OMS1': marks a SQLite file as an order store.
constexpr int application_id = 0x4F4D5331;

int64_t clamp_seq(uint64_t x) {
  return static_cast<int64_t>(std::min<uint64_t>(x, INT64_MAX));
}

// A prepared statement, reset after each use; a row of its result.
class stmt final : public sql_row {
 public:
  stmt(sqlite3* db, const char* sql) {
    sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s_, nullptr);
  }
  ~stmt() { sqlite3_finalize(s_); }
  stmt(const stmt&) = delete;
  stmt& operator=(const stmt&) = delete;

  bool ok() const { return s_ != nullptr; }

  void bind(int i, const sql_value& x) {
    if (auto n = std::get_if<int64_t>(&x)) {
      sqlite3_bind_int64(s_, i, *n);
    } else {
      // Text, never NULL (an empty view may have no data).
      auto text = std::get<std::string_view>(x);
      sqlite3_bind_text(s_, i, text.empty() ? "" : text.data(),
                        static_cast<int>(text.size()), SQLITE_TRANSIENT);
    }
  }

  /// Steps once: SQLITE_ROW, SQLITE_DONE or an error code.
  int step() { return sqlite3_step(s_); }

  /// Runs to completion; returns SQLITE_DONE or an error code.
  int run() {
    int rc = step();
    reset();
    return rc;
  }

  void reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }

  int64_t integer(int i) const override { return sqlite3_column_int64(s_, i); }
  std::string text(int i) const override {
    auto p = sqlite3_column_text(s_, i);
    return p ? std::string{reinterpret_cast<const char*>(p),
                           static_cast<size_t>(sqlite3_column_bytes(s_, i))}
             : std::string{};
  }

 private:
  sqlite3_stmt* s_ = nullptr;
};

} // namespace

// Every statement prepared once, and the transaction's own.
class sqlite_store::session final : public sql_session {
 public:
  explicit session(sqlite3* db)
      : db_(db),
        begin(db, "BEGIN IMMEDIATE"),
        commit(db, "COMMIT"),
        rollback(db, "ROLLBACK"),
        applied_get(db, "SELECT seq FROM projection WHERE id = 1"),
        applied_set(db, "UPDATE projection SET seq = ?1 WHERE id = 1 AND "
                        "seq = ?2") {
    for (size_t i = 0; i < sql_count; ++i)
      stmts_[i] = std::make_unique<stmt>(db, sqlite_dialect().statements[i]);
  }

  bool ok() const {
    for (auto& s : stmts_)
      if (!s->ok())
        return false;
    return begin.ok() && commit.ok() && rollback.ok() && applied_get.ok() &&
           applied_set.ok();
  }

  void run(sql statement, std::initializer_list<sql_value> params,
           const row_handler& each) override {
    auto& s = *stmts_[static_cast<size_t>(statement)];
    int i = 0;
    for (auto& p : params)
      s.bind(++i, p);
    int rc;
    while ((rc = s.step()) == SQLITE_ROW)
      if (each) {
        try {
          each(s);
        } catch (...) {
          s.reset();
          throw;
        }
      }
    s.reset();
    if (rc != SQLITE_DONE)
      throw sql_failure{statement, sqlite3_errmsg(db_)};
  }

 private:
  sqlite3* db_;
  std::array<std::unique_ptr<stmt>, sql_count> stmts_;

 public:
  stmt begin, commit, rollback;
  stmt applied_get, applied_set;
};

sqlite_store::sqlite_store(std::string path, sqlite3* db)
    : sql_store(std::move(path)), db_(db) {}

sqlite_store::~sqlite_store() {
  session_.reset();
  sqlite3_close_v2(db_);
}

caf::error sqlite_store::fail(const std::string& what) const {
  return failure(what + ": " + sqlite3_errmsg(db_));
}

void sqlite_store::reading(
    bool, const std::function<void(sql_session&)>& body) const {
  if (!broken_.empty())
    throw std::runtime_error{broken_};
  // Every committed event counts: the tables catch up with the log first.
  apply_all();
  // One connection, used by one thread at a time: reads see one state.
  body(*session_);
}

void sqlite_store::reading_tables(
    const std::function<void(sql_session&)>& body) const {
  if (!broken_.empty())
    throw std::runtime_error{broken_};
  body(*session_);
}

void sqlite_store::writing(const std::function<void(sql_session&)>& body) {
  if (!broken_.empty())
    throw std::runtime_error{broken_};
  auto& s = *session_;
  if (s.begin.run() != SQLITE_DONE)
    throw std::runtime_error{std::string{"cannot begin a transaction: "} +
                             sqlite3_errmsg(db_)};
  try {
    body(s);
    if (s.commit.run() != SQLITE_DONE)
      throw std::runtime_error{std::string{"cannot commit: "} +
                               sqlite3_errmsg(db_)};
  } catch (...) {
    s.rollback.run();
    throw;
  }
}

caf::expected<order_record> sqlite_store::find_order(const order_id& id) const {
  if (auto err = refusal())
    return err;
  if (unapplied_.size() <= scan_max)
    for (auto i = unapplied_.rbegin(); i != unapplied_.rend(); ++i)
      if (is_order_event(i->ev.kind) && i->ev.snapshot.id == id)
        return i->ev.snapshot;
  return sql_store::find_order(id);
}

caf::expected<std::vector<key_state>>
sqlite_store::load_key(const customer_id& customer,
                       const std::string& key) const {
  if (auto err = refusal())
    return err;
  bool lagging =
      unapplied_.size() > scan_max ||
      std::any_of(unapplied_.begin(), unapplied_.end(), [&](const logged& l) {
        return records_key(l.ev, customer, key);
      });
  return read_key(customer, key, !lagging);
}

caf::error sqlite_store::refusal() const {
  if (broken_.empty())
    return caf::none;
  return make_error(errc::store_failure, where_ + ": " + broken_);
}

void sqlite_store::apply_all() const {
  if (unapplied_.empty())
    return;
  auto& s = *session_;
  if (s.begin.run() != SQLITE_DONE)
    throw std::runtime_error{std::string{"cannot begin a transaction: "} +
                             sqlite3_errmsg(db_)};
  const logged* at = nullptr;
  try {
    for (auto& l : unapplied_) {
      at = &l;
      apply_event(s, l.ev, l.seq, l.payload, shard_count_);
    }
    at = nullptr;
    // Only from where this store left the tables: another store that
    // applied the same events (two opened on one file) would apply them
    // twice.
    s.applied_set.bind(1, clamp_seq(unapplied_.back().seq));
    s.applied_set.bind(2, clamp_seq(applied_seq_));
    if (s.applied_set.run() != SQLITE_DONE)
      throw std::runtime_error{std::string{"cannot record the last event "
                                           "applied: "} +
                               sqlite3_errmsg(db_)};
    if (sqlite3_changes(db_) != 1)
      throw std::runtime_error{"the current state moved past seq " +
                               std::to_string(applied_seq_) +
                               " behind this store's back (another store "
                               "on the same file?)"};
    if (s.commit.run() != SQLITE_DONE)
      throw std::runtime_error{std::string{"cannot commit: "} +
                               sqlite3_errmsg(db_)};
  } catch (const std::exception& e) {
    s.rollback.run();
    // The events are in the log and acknowledged: tables that cannot follow
    // it would answer reads with a state the log does not lead to. Nothing
    // more is served; a start applies the log again (and fails the same way
    // if the cause is in the data).
    broken_ = "cannot apply the event log to the current state";
    if (at != nullptr)
      broken_ += " at seq " + std::to_string(at->seq) + " (" +
                 to_string(at->ev.kind) + ")";
    broken_ += ": " + std::string{e.what()} +
               "; the events are durable in the log: restart to apply them "
               "again";
    throw std::runtime_error{broken_};
  }
  applied_seq_ = unapplied_.back().seq;
  unapplied_.clear();
}

caf::error sqlite_store::apply_committed() {
  if (auto err = refusal())
    return err;
  try {
    apply_all();
  } catch (const std::exception& e) {
    // Broken (the tables could not take an event), or a transaction that
    // could not begin: the events wait for the next try.
    if (auto err = refusal())
      return err;
    return failure(e.what());
  }
  return caf::none;
}

namespace {

// Runs SQL text; the error message, or "" on success.
std::string exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) == SQLITE_OK)
    return {};
  std::string msg = err ? err : sqlite3_errmsg(db);
  sqlite3_free(err);
  return msg;
}

// Reads one integer; the error message, or "" on success.
std::string pragma_int(sqlite3* db, const char* sql, int64_t& out) {
  stmt s{db, sql};
  if (!s.ok())
    return sqlite3_errmsg(db);
  auto rc = s.step();
  if (rc != SQLITE_ROW)
    return sqlite3_errmsg(db);
  out = s.integer(0);
  return {};
}

// Checks that the file is an order store this build can open, reads its
// schema version and sets WAL mode with full sync. What is wrong, or "".
std::string check_file(sqlite3* db, int64_t& version) {
  // Reading the header tells a damaged or foreign file apart early.
  int64_t app_id = 0;
  if (auto err = pragma_int(db, "PRAGMA application_id", app_id); !err.empty())
    return "not a readable SQLite database (" + err + ")";
  if (auto err = pragma_int(db, "PRAGMA user_version", version); !err.empty())
    return "is damaged: cannot read the schema version (" + err + ")";
  int64_t tables = 0;
  if (auto err = pragma_int(db, "SELECT count(*) FROM sqlite_master", tables);
      !err.empty())
    return "is damaged: cannot read the schema (" + err + ")";
  if (tables > 0 && app_id != application_id)
    return "is a SQLite database but not an order store";
  if (version > sqlite_store::schema_version)
    return "has schema version " + std::to_string(version) +
           ", newer than this build's " +
           std::to_string(sqlite_store::schema_version) +
           ": upgrade the software or restore a matching store";
  if (auto err = exec(db, "PRAGMA journal_mode = WAL"); !err.empty())
    return "cannot switch to WAL mode: " + err;
  if (auto err = exec(db, "PRAGMA synchronous = FULL"); !err.empty())
    return "cannot set full sync: " + err;
  // No check of every page here: it reads the whole file, so a start would
  // take longer with every order ever taken. It runs in the background once
  // omsd serves, and as `omsd --check` (system/store/sqlite_check.hpp);
  // damage on a page the start reads still stops the start (the load fails).
  return {};
}

// Explicit migrations from `version`, each in its own transaction. What
// failed, or "".
std::string migrate(sqlite3* db, int64_t version) {
  for (auto v = version; v < sqlite_store::schema_version; ++v) {
    std::string sql = "BEGIN;";
    sql += sqlite_dialect().migrations[v];
    sql += "PRAGMA user_version = " + std::to_string(v + 1) + ";";
    if (v == 0)
      sql += "PRAGMA application_id = " + std::to_string(application_id) + ";";
    sql += "COMMIT;";
    if (auto err = exec(db, sql.c_str()); !err.empty()) {
      exec(db, "ROLLBACK");
      return "migration to schema version " + std::to_string(v + 1) +
             " failed: " + err;
    }
  }
  return {};
}

} // namespace

int sqlite_store::sync_level() const {
  int64_t level = -1;
  if (!pragma_int(db_, "PRAGMA synchronous", level).empty())
    return -1;
  return static_cast<int>(level);
}

caf::expected<std::unique_ptr<sqlite_store>>
sqlite_store::open(const std::string& path) {
  auto failure = [&](const std::string& what) {
    return make_error(errc::store_failure, path + ": " + what);
  };
  std::error_code ec;
  auto dir = std::filesystem::path{path}.parent_path();
  if (!dir.empty())
    std::filesystem::create_directories(dir, ec);
  if (ec)
    return failure("cannot create directory " + dir.string() + ": " +
                   ec.message());
  sqlite3* db = nullptr;
  auto rc = sqlite3_open_v2(path.c_str(), &db,
                            SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                SQLITE_OPEN_NOMUTEX,
                            nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    return failure("cannot open: " + msg);
  }
  std::unique_ptr<sqlite_store> store{new sqlite_store(path, db)};
  int64_t version = 0;
  if (auto err = check_file(db, version); !err.empty())
    return failure(err);
  if (auto err = migrate(db, version); !err.empty())
    return failure(err);
  store->session_ = std::make_unique<session>(db);
  if (!store->session_->ok())
    return failure("schema does not match this build: " +
                   std::string{sqlite3_errmsg(db)});
  try {
    store->read_bounds(*store->session_);
  } catch (const std::exception& e) {
    return failure(std::string{"cannot read the event log: "} + e.what());
  }
  if (auto err = store->catch_up(); !err.empty())
    return failure(err);
  return store;
}

std::string sqlite_store::catch_up() {
  auto& s = *session_;
  int64_t applied = -1;
  if (s.applied_get.step() == SQLITE_ROW)
    applied = s.applied_get.integer(0);
  s.applied_get.reset();
  if (applied < 0)
    return "cannot read the last event applied to the current state: " +
           std::string{sqlite3_errmsg(db_)};
  applied_seq_ = static_cast<uint64_t>(applied);
  if (applied_seq_ > last_seq_)
    return "the current state holds events up to seq " +
           std::to_string(applied_seq_) + " but the event log ends at seq " +
           std::to_string(last_seq_) +
           ": the file was changed by something else; restore a backup";
  // What a crash left in the log only: applied as a commit would have been,
  // a chunk at a time.
  constexpr uint64_t chunk = 4096;
  try {
    while (applied_seq_ < last_seq_) {
      s.run(sql::read_events, {clamp_seq(applied_seq_ + 1), clamp_seq(chunk)},
            [&](const sql_row& row) {
              std::string payload;
              auto ev = event_of(row, &payload);
              auto seq = static_cast<uint64_t>(row.integer(0));
              unapplied_.push_back(
                  logged{std::move(ev), seq, std::move(payload)});
            });
      if (unapplied_.empty())
        return "the event log has no event after seq " +
               std::to_string(applied_seq_) + " but ends at seq " +
               std::to_string(last_seq_);
      apply_all();
    }
  } catch (const std::exception& e) {
    unapplied_.clear();
    return e.what();
  }
  return {};
}

caf::error sqlite_store::commit(const std::vector<event>& events) {
  auto& s = *session_;
  if (auto err = refusal())
    return err;
  if (s.begin.run() != SQLITE_DONE)
    return fail("cannot begin a transaction");
  // Undo a failed batch; a transaction that stays open would make every
  // later batch fail in ways that hide the first error.
  auto undo = [&](caf::error err) {
    s.rollback.run();
    if (!sqlite3_get_autocommit(db_))
      broken_ = "a failed transaction could not be rolled back; restart to "
                "recover from the file";
    return err;
  };
  auto seq = last_seq_;
  std::vector<logged> now;
  now.reserve(events.size());
  for (auto& ev : events) {
    ++seq;
    try {
      auto payload = append_event(s, ev, seq);
      now.push_back(logged{ev, seq, std::move(payload)});
    } catch (const std::exception& e) {
      return undo(failure("cannot append event: " + std::string{e.what()}));
    }
  }
  if (s.commit.run() != SQLITE_DONE)
    return undo(fail("cannot commit"));
  last_seq_ = seq;
  unapplied_.insert(unapplied_.end(), std::make_move_iterator(now.begin()),
                    std::make_move_iterator(now.end()));
  // Bounded whoever commits (the JOURNAL applies far sooner): past the cap
  // the tables catch up now. The events are durable either way; a failure
  // leaves the store broken, and the next call says so.
  if (unapplied_.size() >= unapplied_max) {
    try {
      apply_all();
    } catch (const std::exception&) {
    }
  }
  return caf::none;
}

} // namespace oms
