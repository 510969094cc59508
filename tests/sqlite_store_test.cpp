// What only the SQLite store has: a file that can be torn, damaged, foreign
// or from another version, and must never be started from half-read; and
// the integrity check that reads all of it.
#include <doctest/doctest.h>

#include "tests/why.hpp"

#include <fstream>

#include <sqlite3.h>

#include "actors/order_plan.hpp" // stock_event
#include "messages/errors.hpp"
#include "system/store/sqlite_check.hpp"
#include "tests/backends.hpp"

using namespace oms;
using namespace oms::test;
namespace fs = std::filesystem;

namespace {

event created(const std::string& sku, money price) {
  event ev;
  ev.kind = event_kind::sku_created;
  ev.at = 1;
  ev.sku = sku;
  ev.amount = price;
  return ev;
}

std::unique_ptr<sqlite_store> open_ok(const std::string& path) {
  auto s = sqlite_store::open(path);
  REQUIRE_MESSAGE(s, why(s));
  return std::move(*s);
}

std::string open_error(const std::string& path) {
  auto s = sqlite_store::open(path);
  REQUIRE_FALSE(s);
  CHECK(code_of(s.error()) == errc::store_failure);
  return message_of(s.error());
}

void raw_exec(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
}

void overwrite(const fs::path& file, std::streamoff at, size_t n, char c) {
  std::fstream f{file, std::ios::in | std::ios::out | std::ios::binary};
  REQUIRE(f.good());
  f.seekp(at);
  std::string junk(n, c);
  f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
}

// The schema as released at version 2 (migrations 0 -> 1 and 1 -> 2 of
// system/store/sqlite_dialect.cpp, copied as they were).
constexpr const char* sqlite_store_schema_v2 = R"sql(
CREATE TABLE events (
  seq       INTEGER PRIMARY KEY,
  at        INTEGER NOT NULL,
  kind      TEXT    NOT NULL,
  sku       TEXT,
  order_id  TEXT,
  quantity  INTEGER NOT NULL DEFAULT 0,
  amount    INTEGER NOT NULL DEFAULT 0,
  payload   TEXT
);
CREATE TABLE skus (
  sku            TEXT PRIMARY KEY,
  seller         TEXT    NOT NULL DEFAULT 'INTERNAL',
  unit_price     INTEGER NOT NULL,
  on_hand        INTEGER NOT NULL DEFAULT 0,
  received_total INTEGER NOT NULL DEFAULT 0,
  consumed_total INTEGER NOT NULL DEFAULT 0,
  updated_at     INTEGER NOT NULL
);
CREATE TABLE holds (
  order_id TEXT    NOT NULL,
  sku      TEXT    NOT NULL,
  quantity INTEGER NOT NULL,
  kind     TEXT    NOT NULL,
  PRIMARY KEY (order_id, sku)
);
CREATE INDEX holds_by_sku ON holds (sku);
CREATE TABLE orders (
  id              TEXT PRIMARY KEY,
  customer        TEXT    NOT NULL,
  seller          TEXT    NOT NULL,
  status          TEXT    NOT NULL,
  total_amount    INTEGER NOT NULL,
  paid_amount     INTEGER NOT NULL,
  refunded_amount INTEGER NOT NULL,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  hold_expires_at INTEGER NOT NULL,
  cancel_reason   TEXT    NOT NULL,
  live            INTEGER NOT NULL,
  record          TEXT    NOT NULL,
  ordinal         INTEGER NOT NULL
);
CREATE INDEX orders_by_customer ON orders (customer, ordinal DESC);
CREATE INDEX orders_live ON orders (live) WHERE live = 1;
CREATE TABLE order_lines (
  order_id           TEXT    NOT NULL,
  line_no            INTEGER NOT NULL,
  sku                TEXT    NOT NULL,
  quantity           INTEGER NOT NULL,
  unit_price         INTEGER NOT NULL,
  cancelled_quantity INTEGER NOT NULL,
  shipped_quantity   INTEGER NOT NULL,
  PRIMARY KEY (order_id, line_no)
);
CREATE TABLE order_history (
  order_id    TEXT    NOT NULL,
  entry_no    INTEGER NOT NULL,
  at          INTEGER NOT NULL,
  from_status TEXT    NOT NULL,
  to_status   TEXT    NOT NULL,
  reason      TEXT    NOT NULL,
  amount      INTEGER NOT NULL,
  PRIMARY KEY (order_id, entry_no)
);
CREATE TABLE payments (
  gateway_key TEXT PRIMARY KEY,
  order_id    TEXT    NOT NULL,
  kind        TEXT    NOT NULL,
  amount      INTEGER NOT NULL,
  status      TEXT    NOT NULL,
  reference   TEXT    NOT NULL,
  reason      TEXT    NOT NULL,
  at          INTEGER NOT NULL,
  client_key  TEXT    NOT NULL,
  fingerprint TEXT    NOT NULL
);
CREATE INDEX payments_by_order ON payments (order_id);
CREATE TABLE idempotency_keys (
  customer    TEXT    NOT NULL,
  key         TEXT    NOT NULL,
  fingerprint TEXT    NOT NULL,
  order_id    TEXT    NOT NULL,
  at          INTEGER NOT NULL,
  response    TEXT    NOT NULL,
  PRIMARY KEY (customer, key)
);
CREATE INDEX idempotency_keys_by_at ON idempotency_keys (at);

CREATE TABLE customers (
  id         TEXT PRIMARY KEY,
  name       TEXT    NOT NULL,
  token_hash TEXT    NOT NULL UNIQUE,
  created_at INTEGER NOT NULL
);
)sql";

} // namespace

TEST_CASE("a new store is created with its directory, WAL mode and schema") {
  temp_dir dir;
  auto path = (dir.path / "nested" / "oms.db").string();
  {
    auto store = open_ok(path);
    CHECK(store->last_seq() == 0);
    CHECK(store->describe() == "sqlite:" + path);
  }
  CHECK(fs::exists(path));
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, nullptr);
  REQUIRE(sqlite3_step(s) == SQLITE_ROW);
  CHECK(std::string{reinterpret_cast<const char*>(sqlite3_column_text(s, 0))} ==
        "wal");
  sqlite3_finalize(s);
  sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, nullptr);
  REQUIRE(sqlite3_step(s) == SQLITE_ROW);
  CHECK(sqlite3_column_int(s, 0) == sqlite_store::schema_version);
  sqlite3_finalize(s);
  sqlite3_close(db);
}

TEST_CASE("a torn last write loses only the transaction it tore") {
  // Copy the database and its WAL while the store is open (as a crash would
  // leave them), cut the WAL short inside the last transaction, and open the
  // copy: the earlier transaction is all there, the torn one is gone, and
  // the file checks clean.
  temp_dir dir;
  auto path = dir.path / "oms.db";
  auto copy = dir.path / "copy.db";
  auto store = open_ok(path.string());
  REQUIRE(!store->commit(
      {created("A", 100), receipt_event("A", 5), receipt_event("A", 6)}));
  auto wal = fs::path{path.string() + "-wal"};
  REQUIRE(fs::exists(wal));
  auto size_after_first = fs::file_size(wal);
  REQUIRE(!store->commit({receipt_event("A", 7), receipt_event("A", 8)}));
  auto size_after_second = fs::file_size(wal);
  REQUIRE(size_after_second > size_after_first);
  fs::copy_file(path, copy);
  fs::copy_file(wal, fs::path{copy.string() + "-wal"});
  fs::resize_file(fs::path{copy.string() + "-wal"}, size_after_second - 100);
  auto reopened = open_ok(copy.string());
  CHECK(reopened->last_seq() == 3);
  auto state = reopened->load();
  REQUIRE(state);
  REQUIRE(state->skus.size() == 1);
  CHECK(state->skus[0].on_hand == 11);
}

// One integer read behind the store's back.
int64_t raw_int(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, sql, -1, &s, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(s) == SQLITE_ROW);
  auto result = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  sqlite3_close(db);
  return result;
}

TEST_CASE(
    "a commit makes its events durable in the log, and their effect on the "
    "tables follows, before any read and at the next start") {
  temp_dir dir;
  auto path = (dir.path / "oms.db").string();
  {
    auto store = open_ok(path);
    REQUIRE(!store->commit({created("A", 100), receipt_event("A", 5)}));
    CHECK(store->last_seq() == 2);
    CHECK(store->unapplied() == 2);
    // As a crash would leave it: the log holds both events, the tables
    // neither (the store goes without applying them).
    CHECK(raw_int(path, "SELECT count(*) FROM events") == 2);
    CHECK(raw_int(path, "SELECT seq FROM projection") == 0);
    CHECK(raw_int(path, "SELECT count(*) FROM skus") == 0);
  }
  {
    // A start applies what the log holds beyond the tables.
    auto store = open_ok(path);
    CHECK(store->unapplied() == 0);
    CHECK(store->applied_seq() == 2);
    CHECK(raw_int(path, "SELECT seq FROM projection") == 2);
    auto state = store->load();
    REQUIRE(state);
    REQUIRE(state->skus.size() == 1);
    CHECK(state->skus[0].on_hand == 5);
    // A read sees every committed event: the tables catch up first.
    REQUIRE(!store->commit({receipt_event("A", 7)}));
    CHECK(store->unapplied() == 1);
    auto sku = store->load_sku("A");
    REQUIRE(sku);
    CHECK(sku->state.on_hand == 12);
    CHECK(store->unapplied() == 0);
    // The JOURNAL's catch-up applies them too, and only once.
    REQUIRE(!store->commit({receipt_event("A", 1)}));
    REQUIRE(!store->apply_committed());
    REQUIRE(!store->apply_committed());
    CHECK(raw_int(path, "SELECT on_hand FROM skus WHERE sku = 'A'") == 13);
    CHECK(raw_int(path, "SELECT seq FROM projection") == 4);
  }
}

TEST_CASE("the log's commits are synced in full, before and after the tables "
          "are applied") {
  temp_dir dir;
  auto path = (dir.path / "oms.db").string();
  auto store = open_ok(path);
  CHECK(store->sync_level() == 2);
  REQUIRE(!store->commit({created("A", 100), receipt_event("A", 5)}));
  CHECK(store->sync_level() == 2);
  REQUIRE(!store->apply_committed());
  CHECK(store->applied_seq() == 2);
  CHECK(store->sync_level() == 2);
  REQUIRE(!store->commit({receipt_event("A", 7)}));
  auto sku = store->load_sku("A"); // applies before reading
  REQUIRE(sku);
  CHECK(sku->state.on_hand == 12);
  CHECK(store->sync_level() == 2);
}

TEST_CASE("a committed event the tables cannot take stops the store from "
          "serving, a start applies it once the cause is gone") {
  temp_dir dir;
  auto path = (dir.path / "oms.db").string();
  {
    auto store = open_ok(path);
    REQUIRE(!store->commit({created("A", 100)}));
    REQUIRE(!store->apply_committed());
  }
  // The tables refuse any change to the SKU from now on.
  raw_exec(path.c_str(), "CREATE TRIGGER refuse BEFORE UPDATE ON skus BEGIN "
                         "SELECT RAISE(ABORT, 'refused by the test'); END;");
  {
    auto store = open_ok(path);
    // Durable in the log: acknowledged as every commit is.
    REQUIRE(!store->commit({receipt_event("A", 5)}));
    auto err = store->apply_committed();
    REQUIRE(err);
    CHECK(code_of(err) == errc::store_failure);
    auto msg = message_of(err);
    CHECK_MESSAGE(msg.find("seq 2 (stock_received)") != std::string::npos, msg);
    CHECK_MESSAGE(msg.find("refused by the test") != std::string::npos, msg);
    // Nothing more is served: no commit, no read of a state the log does
    // not lead to.
    auto again = store->commit({receipt_event("A", 1)});
    REQUIRE(again);
    CHECK(message_of(again).find("seq 2") != std::string::npos);
    CHECK(store->last_seq() == 2);
    auto read = store->load_sku("A");
    REQUIRE_FALSE(read);
    CHECK(code_of(read.error()) == errc::store_failure);
  }
  // While the cause stands, a start refuses, naming the event.
  auto refused = open_error(path);
  CHECK_MESSAGE(refused.find("seq 2 (stock_received)") != std::string::npos,
                refused);
  raw_exec(path.c_str(), "DROP TRIGGER refuse");
  auto store = open_ok(path);
  CHECK(store->last_seq() == 2);
  auto sku = store->load_sku("A");
  REQUIRE(sku);
  CHECK(sku->state.on_hand == 5);
}

TEST_CASE("a catch-up that cannot begin is reported, and the events wait for "
          "the next one") {
  temp_dir dir;
  auto path = (dir.path / "oms.db").string();
  auto store = open_ok(path);
  REQUIRE(!store->commit({created("A", 100), receipt_event("A", 5)}));
  {
    // Another connection holds the write lock: the catch-up cannot begin.
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) ==
            SQLITE_OK);
    auto err = store->apply_committed();
    CHECK(err);
    CHECK(code_of(err) == errc::store_failure);
    CHECK(store->unapplied() == 2);
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(db);
  }
  // Not broken: the next catch-up applies them.
  REQUIRE(!store->apply_committed());
  CHECK(store->unapplied() == 0);
  auto sku = store->load_sku("A");
  REQUIRE(sku);
  CHECK(sku->state.on_hand == 5);
}

TEST_CASE("events left unapplied stay bounded whoever commits them") {
  // A caller that never asks (a tool writing straight to the store) still
  // has the tables catch up once the cap is reached.
  temp_dir dir;
  auto path = (dir.path / "oms.db").string();
  auto store = open_ok(path);
  std::vector<event> batch{created("A", 100)};
  while (batch.size() < sqlite_store::unapplied_max - 1)
    batch.push_back(receipt_event("A", 1));
  REQUIRE(!store->commit(batch));
  CHECK(store->unapplied() == sqlite_store::unapplied_max - 1);
  REQUIRE(!store->commit({receipt_event("A", 1)}));
  CHECK(store->unapplied() == 0);
  CHECK(store->applied_seq() == sqlite_store::unapplied_max);
  CHECK(raw_int(path, "SELECT on_hand FROM skus WHERE sku = 'A'") ==
        static_cast<int64_t>(sqlite_store::unapplied_max - 1));
}

TEST_CASE("two stores opened on one file never apply the same events twice") {
  temp_dir dir;
  auto path = (dir.path / "oms.db").string();
  auto first = open_ok(path);
  REQUIRE(!first->commit({created("A", 100), receipt_event("A", 5)}));
  // The second one applies the log at its start; the first, which still
  // holds the same events as unapplied, must not add them again.
  auto second = open_ok(path);
  auto err = first->apply_committed();
  REQUIRE(err);
  CHECK(message_of(err).find("another store") != std::string::npos);
  CHECK(raw_int(path, "SELECT on_hand FROM skus WHERE sku = 'A'") == 5);
}

// A store of `n` receipts, closed (the WAL checkpointed into the file).
void fill(const fs::path& path, int n) {
  auto store = open_ok(path.string());
  std::vector<event> events{created("A", 100)};
  for (int i = 0; i < n; ++i)
    events.push_back(receipt_event("A", 1));
  REQUIRE(!store->commit(events));
  // As the JOURNAL does: the tables follow the log before the store closes.
  REQUIRE(!store->apply_committed());
}

TEST_CASE("the integrity check finds damage a start does not read, and "
          "names it") {
  // A start reads the current state and the log's last sequence number,
  // not every page (a whole-file check made every start as slow as reading
  // the store): damage in the middle of the event log is the check's to
  // find, with omsd --check or in the background.
  temp_dir dir;
  auto path = dir.path / "oms.db";
  // Enough events that the middle of the file is the log's rows, far from
  // the schema and the tables' first pages (written first).
  fill(path, 20000);
  for (auto depth : {check_depth::quick, check_depth::full}) {
    auto sound = check_sqlite_file(path.string(), depth);
    REQUIRE_MESSAGE(sound, why(sound));
    CHECK(sound->problems.empty());
  }
  auto size = fs::file_size(path);
  REQUIRE(size > 150 * 4096);
  // Scribble over two pages in the middle, where the event log's rows are.
  overwrite(path, static_cast<std::streamoff>(size / 2 / 4096 * 4096), 8192,
            '\x5a');
  for (auto depth : {check_depth::quick, check_depth::full}) {
    auto found = check_sqlite_file(path.string(), depth);
    REQUIRE_MESSAGE(found, why(found));
    REQUIRE_FALSE(found->problems.empty());
    // One problem per line, none empty.
    for (auto& p : found->problems) {
      CHECK(p.find('\n') == std::string::npos);
      CHECK(!p.empty());
    }
  }
  // The start itself does not read those pages: it opens, and knows where
  // the log ends.
  auto store = open_ok(path.string());
  CHECK(store->last_seq() == 20001);
  auto limited =
      check_sqlite_file(path.string(), check_depth::full, nullptr, 1);
  REQUIRE(limited);
  CHECK(limited->problems.size() <= 2); // one row, and the statement's error
}

TEST_CASE("the integrity check reads without writing, and refuses what it "
          "cannot read") {
  temp_dir dir;
  auto path = dir.path / "oms.db";
  // A file that does not exist is not created.
  auto missing = check_sqlite_file(path.string(), check_depth::quick);
  REQUIRE_FALSE(missing);
  CHECK(code_of(missing.error()) == errc::store_failure);
  CHECK(message_of(missing.error()).find(path.string()) != std::string::npos);
  CHECK_FALSE(fs::exists(path));
  // A file that is not a database.
  {
    std::ofstream f{path};
    f << std::string(8192, 'x');
  }
  auto foreign = check_sqlite_file(path.string(), check_depth::full);
  REQUIRE_FALSE(foreign);
  CHECK(message_of(foreign.error()).find(path.string()) != std::string::npos);
  fs::remove(path);
  // A check under way stops when asked.
  fill(path, 2000);
  std::atomic<bool> cancel{true};
  auto stopped = check_sqlite_file(path.string(), check_depth::full, &cancel);
  REQUIRE_FALSE(stopped);
  CHECK(message_of(stopped.error()).find("cancelled") != std::string::npos);
  // Checking a store a writer has open sees its committed state and leaves
  // it writable.
  auto store = open_ok(path.string());
  REQUIRE(!store->commit({receipt_event("A", 3)}));
  auto live = check_sqlite_file(path.string(), check_depth::full);
  REQUIRE_MESSAGE(live, why(live));
  CHECK(live->problems.empty());
  CHECK(!store->commit({receipt_event("A", 4)}));
}

TEST_CASE("a file that is not a database is refused") {
  temp_dir dir;
  auto path = dir.path / "oms.db";
  {
    std::ofstream f{path};
    f << std::string(8192, 'x');
  }
  auto msg = open_error(path.string());
  CHECK(msg.find(path.string()) != std::string::npos);
}

TEST_CASE("another application's SQLite database is refused") {
  temp_dir dir;
  auto path = (dir.path / "other.db").string();
  raw_exec(path, "CREATE TABLE t (x INTEGER)");
  auto msg = open_error(path);
  CHECK(msg.find("not an order store") != std::string::npos);
}

TEST_CASE("a store from a newer schema version is refused") {
  temp_dir dir;
  auto path = (dir.path / "oms.db").string();
  open_ok(path);
  raw_exec(path, "PRAGMA user_version = 99");
  auto msg = open_error(path);
  CHECK(msg.find("schema version 99") != std::string::npos);
  CHECK(msg.find("newer") != std::string::npos);
}

TEST_CASE("a SQLite store of schema version 2 is migrated: on-hand becomes the "
          "batch '' and each hold draws from it") {
  temp_dir dir;
  auto path = (dir.path / "oms.db").string();
  raw_exec(path, sqlite_store_schema_v2);
  raw_exec(path, R"sql(
PRAGMA user_version = 2;
PRAGMA application_id = 1330467633;
INSERT INTO events (seq, at, kind, sku, order_id, quantity, amount, payload)
  VALUES (1, 100, 'sku_created', 'A', '', 0, 1000, NULL),
         (2, 200, 'stock_received', 'A', '', 10, 0, NULL),
         (3, 300, 'stock_reserved', 'A', 'o1', 3, 0, NULL),
         (4, 400, 'stock_blocked', 'A', 'o1', 3, 0, NULL),
         (5, 500, 'sku_created', 'B', '', 0, 250, NULL),
         (6, 550, 'stock_received', 'B', '', 4, 0, '{"seller":1}');
INSERT INTO skus (sku, unit_price, on_hand, received_total, consumed_total,
                  updated_at)
  VALUES ('A', 1000, 10, 10, 0, 200), ('B', 250, 0, 0, 0, 500);
INSERT INTO holds (order_id, sku, quantity, kind)
  VALUES ('o1', 'A', 3, 'BLOCKED');
)sql");
  {
    auto store = open_ok(path);
    CHECK(store->last_seq() == 6);
    auto state = store->load();
    REQUIRE_MESSAGE(state, why(state));
    REQUIRE(state->skus.size() == 2);
    auto& a = state->skus[0];
    CHECK(a.sku == "A");
    CHECK(a.on_hand == 10);
    CHECK(a.adjusted_total == 0);
    CHECK(a.updated_at == 200);
    REQUIRE(a.batches.size() == 1);
    CHECK(a.batches[0].lot == "");
    CHECK(a.batches[0].expires_at == 0);
    CHECK(a.batches[0].on_hand == 10);
    CHECK(a.batches[0].unallocatable == std::vector<int64_t>{0, 0, 0, 0});
    CHECK(state->skus[1].sku == "B");
    CHECK(state->skus[1].batches.empty()); // nothing on hand
    // Versions count the SKUs' own changes in the log, not the holds nor
    // the EXTERNAL seller's stock of the same name.
    CHECK(a.version == 2);
    CHECK(state->skus[1].version == 1);
    REQUIRE(state->holds.size() == 1);
    CHECK(state->holds[0].kind == hold_kind::blocked);
    CHECK(state->holds[0].lots == std::vector<lot_allocation>{{"", 3}});
    // The old log reads back without details.
    auto log = store->read(1, 10);
    REQUIRE_MESSAGE(log, why(log));
    REQUIRE(log->size() == 6);
    CHECK((*log)[2].kind == event_kind::stock_reserved);
    CHECK((*log)[2].lots.empty());
    // Shipping the old hold takes its units off the batch ''.
    REQUIRE(!store->commit(
        {stock_event(event_kind::stock_consumed, 600, "A", "o1", 3),
         receipt_event("A", 4)}));
  }
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, nullptr);
  REQUIRE(sqlite3_step(s) == SQLITE_ROW);
  CHECK(sqlite3_column_int(s, 0) == sqlite_store::schema_version);
  sqlite3_finalize(s);
  sqlite3_close(db);
  auto store = open_ok(path);
  auto state = store->load();
  REQUIRE_MESSAGE(state, why(state));
  auto& a = state->skus[0];
  CHECK(a.on_hand == 11);
  CHECK(a.consumed_total == 3);
  CHECK(a.version == 3); // the receipt, not the shipment
  REQUIRE(a.batches.size() == 1);
  CHECK(a.batches[0].on_hand == 11);
  CHECK(state->holds.empty());
}

TEST_CASE("a SQLite store whose migration fails stays at its old version") {
  // A v2 store with a stray table named like a new one: the migration fails
  // halfway and is rolled back as a whole.
  temp_dir dir;
  auto path = (dir.path / "oms.db").string();
  raw_exec(path, sqlite_store_schema_v2);
  raw_exec(path, "PRAGMA user_version = 2; PRAGMA application_id = "
                 "1330467633; CREATE TABLE inbox (x INTEGER); INSERT INTO "
                 "skus (sku, unit_price, on_hand, updated_at) VALUES ('A', 1, "
                 "5, 1);");
  auto msg = open_error(path);
  CHECK(msg.find("migration to schema version 3 failed") != std::string::npos);
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, nullptr);
  REQUIRE(sqlite3_step(s) == SQLITE_ROW);
  CHECK(sqlite3_column_int(s, 0) == 2);
  sqlite3_finalize(s);
  // Nothing of the half-run migration is left behind.
  sqlite3_prepare_v2(db,
                     "SELECT count(*) FROM sqlite_master WHERE name = "
                     "'batches'",
                     -1, &s, nullptr);
  REQUIRE(sqlite3_step(s) == SQLITE_ROW);
  CHECK(sqlite3_column_int(s, 0) == 0);
  sqlite3_finalize(s);
  sqlite3_close(db);
}
