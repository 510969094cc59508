#include "system/store/sqlite_store.hpp"

#include <array>
#include <filesystem>
#include <utility>

#include <sqlite3.h>

#include "messages/errors.hpp"
#include "system/store/codec.hpp"
#include "system/store/store_state.hpp"

namespace oms {

namespace {

// 'OMS1': marks a SQLite file as an order store.
constexpr int application_id = 0x4F4D5331;

// Migration i brings the schema from version i to version i + 1. Append new
// migrations; never edit a released one.
constexpr const char* migrations[] = {
    // 0 -> 1: the initial schema.
    R"sql(
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
)sql",
    // 1 -> 2: customers of the HTTP API (token kept as a hash only).
    R"sql(
CREATE TABLE customers (
  id         TEXT PRIMARY KEY,
  name       TEXT    NOT NULL,
  token_hash TEXT    NOT NULL UNIQUE,
  created_at INTEGER NOT NULL
);
)sql",
    // 2 -> 3: batches with expiry and units set aside by reason, the batches
    // of each hold, adjustments, the INBOX's processed ids and feed cursors,
    // and the EXTERNAL seller's feed changes and WMS reservations. Units on
    // hand before batches existed become the batch '' (never expires); each
    // hold draws from it.
    R"sql(
ALTER TABLE skus ADD COLUMN adjusted_total INTEGER NOT NULL DEFAULT 0;
CREATE TABLE batches (
  sku          TEXT    NOT NULL,
  lot          TEXT    NOT NULL,
  expires_at   INTEGER NOT NULL DEFAULT 0,
  received_at  INTEGER NOT NULL DEFAULT 0,
  on_hand      INTEGER NOT NULL DEFAULT 0,
  damaged      INTEGER NOT NULL DEFAULT 0,
  quarantined  INTEGER NOT NULL DEFAULT 0,
  expired      INTEGER NOT NULL DEFAULT 0,
  safety_stock INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (sku, lot)
);
INSERT INTO batches (sku, lot, on_hand)
  SELECT sku, '', on_hand FROM skus WHERE on_hand <> 0 ORDER BY sku;
ALTER TABLE holds ADD COLUMN lots TEXT NOT NULL DEFAULT '';
UPDATE holds SET lots = json_array(json_array('', quantity));
CREATE TABLE inbox (
  id TEXT PRIMARY KEY,
  at INTEGER NOT NULL
);
CREATE TABLE inbox_cursors (
  source TEXT PRIMARY KEY,
  cursor TEXT    NOT NULL,
  at     INTEGER NOT NULL
);
CREATE TABLE external_deltas (
  sku      TEXT    NOT NULL,
  wms_seq  INTEGER NOT NULL,
  event_id TEXT    NOT NULL,
  quantity INTEGER NOT NULL,
  at       INTEGER NOT NULL,
  PRIMARY KEY (sku, wms_seq)
);
CREATE TABLE wms_reservations (
  order_id TEXT    NOT NULL,
  sku      TEXT    NOT NULL,
  quantity INTEGER NOT NULL,
  state    TEXT    NOT NULL,
  wms_seq  INTEGER NOT NULL,
  at       INTEGER NOT NULL,
  PRIMARY KEY (order_id, sku)
);
)sql",
};

constexpr int migration_count = sizeof(migrations) / sizeof(migrations[0]);
static_assert(migration_count == sqlite_store::schema_version);

// A prepared statement, reset after each use.
class stmt {
 public:
  stmt(sqlite3* db, const char* sql) : db_(db) {
    sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s_, nullptr);
  }
  ~stmt() { sqlite3_finalize(s_); }
  stmt(const stmt&) = delete;
  stmt& operator=(const stmt&) = delete;

  bool ok() const { return s_ != nullptr; }

  stmt& bind(int i, int64_t x) {
    sqlite3_bind_int64(s_, i, x);
    return *this;
  }
  stmt& bind(int i, const std::string& x) {
    sqlite3_bind_text(s_, i, x.data(), static_cast<int>(x.size()),
                      SQLITE_TRANSIENT);
    return *this;
  }
  stmt& bind(int i, const char* x) { return bind(i, std::string{x}); }

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

  int64_t int_at(int i) { return sqlite3_column_int64(s_, i); }
  std::string text_at(int i) {
    auto p = sqlite3_column_text(s_, i);
    return p ? std::string{reinterpret_cast<const char*>(p),
                           static_cast<size_t>(sqlite3_column_bytes(s_, i))}
             : std::string{};
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
};

} // namespace

struct sqlite_store::statements {
  explicit statements(sqlite3* db)
      : insert_event(db, "INSERT INTO events (seq, at, kind, sku, order_id, "
                         "quantity, amount, payload) VALUES (?,?,?,?,?,?,?,?)"),
        upsert_price(db, "INSERT INTO skus (sku, unit_price, updated_at) "
                         "VALUES (?1, ?2, ?3) ON CONFLICT (sku) DO UPDATE SET "
                         "unit_price = excluded.unit_price, updated_at = "
                         "excluded.updated_at"),
        receive(db, "INSERT INTO skus (sku, unit_price, on_hand, "
                    "received_total, updated_at) VALUES (?3, 0, ?1, ?1, ?2) "
                    "ON CONFLICT (sku) DO UPDATE SET on_hand = on_hand + ?1, "
                    "received_total = received_total + ?1, updated_at = ?2"),
        adjust(db, "INSERT INTO skus (sku, unit_price, on_hand, "
                   "adjusted_total, updated_at) VALUES (?3, 0, ?1, ?1, ?2) "
                   "ON CONFLICT (sku) DO UPDATE SET on_hand = on_hand + ?1, "
                   "adjusted_total = adjusted_total + ?1, updated_at = ?2"),
        consume(db, "INSERT INTO skus (sku, unit_price, on_hand, "
                    "consumed_total, updated_at) VALUES (?3, 0, -?1, ?1, ?2) "
                    "ON CONFLICT (sku) DO UPDATE SET on_hand = on_hand - ?1, "
                    "consumed_total = consumed_total + ?1, updated_at = ?2"),
        touch_sku(db, "INSERT INTO skus (sku, unit_price, updated_at) VALUES "
                      "(?1, 0, ?2) ON CONFLICT (sku) DO UPDATE SET "
                      "updated_at = excluded.updated_at"),
        add_to_batch(
            db, "INSERT INTO batches (sku, lot, expires_at, received_at, "
                "on_hand, damaged, quarantined, expired, safety_stock) VALUES "
                "(?1,?2,?3,?4,?5,?6,?7,?8,?9) ON CONFLICT (sku, lot) DO UPDATE "
                "SET on_hand = on_hand + excluded.on_hand, damaged = damaged + "
                "excluded.damaged, quarantined = quarantined + "
                "excluded.quarantined, expired = expired + excluded.expired, "
                "safety_stock = safety_stock + excluded.safety_stock"),
        prune_batches(db, "DELETE FROM batches WHERE sku = ?1 AND on_hand = 0"),
        hold_reserve(db, "INSERT INTO holds (order_id, sku, quantity, kind, "
                         "lots) VALUES (?1, ?2, ?3, 'RESERVED', ?4) ON "
                         "CONFLICT DO UPDATE SET quantity = excluded.quantity, "
                         "kind = 'RESERVED', lots = excluded.lots"),
        hold_block(db, "UPDATE holds SET kind = 'BLOCKED' WHERE order_id = ?1 "
                       "AND sku = ?2"),
        hold_find(db, "SELECT quantity, lots FROM holds WHERE order_id = ?1 "
                      "AND sku = ?2"),
        hold_update(db, "UPDATE holds SET quantity = ?3, lots = ?4 WHERE "
                        "order_id = ?1 AND sku = ?2"),
        hold_delete(db, "DELETE FROM holds WHERE order_id = ?1 AND sku = ?2"),
        upsert_order(
            db,
            "INSERT INTO orders (id, customer, seller, status, total_amount, "
            "paid_amount, refunded_amount, created_at, updated_at, "
            "hold_expires_at, cancel_reason, live, record, ordinal) VALUES "
            "(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14) ON CONFLICT (id) "
            "DO "
            "UPDATE SET status = excluded.status, total_amount = "
            "excluded.total_amount, paid_amount = excluded.paid_amount, "
            "refunded_amount = excluded.refunded_amount, updated_at = "
            "excluded.updated_at, hold_expires_at = excluded.hold_expires_at, "
            "cancel_reason = excluded.cancel_reason, live = excluded.live, "
            "record = excluded.record"),
        upsert_line(db, "INSERT INTO order_lines (order_id, line_no, sku, "
                        "quantity, unit_price, cancelled_quantity, "
                        "shipped_quantity) VALUES (?1,?2,?3,?4,?5,?6,?7) ON "
                        "CONFLICT DO UPDATE SET cancelled_quantity = "
                        "excluded.cancelled_quantity, shipped_quantity = "
                        "excluded.shipped_quantity, unit_price = "
                        "excluded.unit_price"),
        insert_history(db, "INSERT OR IGNORE INTO order_history (order_id, "
                           "entry_no, at, from_status, to_status, reason, "
                           "amount) VALUES (?1,?2,?3,?4,?5,?6,?7)"),
        upsert_payment(db,
                       "INSERT INTO payments (gateway_key, order_id, kind, "
                       "amount, status, reference, reason, at, client_key, "
                       "fingerprint) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10) "
                       "ON CONFLICT (gateway_key) DO UPDATE SET status = "
                       "excluded.status, reference = excluded.reference, "
                       "reason = excluded.reason"),
        insert_key(db, "INSERT OR IGNORE INTO idempotency_keys (customer, key, "
                       "fingerprint, order_id, at, response) VALUES "
                       "(?1,?2,?3,?4,?5,?6)"),
        insert_customer(db, "INSERT INTO customers (id, name, token_hash, "
                            "created_at) VALUES (?1,?2,?3,?4)"),
        insert_inbox(db, "INSERT OR IGNORE INTO inbox (id, at) VALUES (?1, "
                         "?2)"),
        upsert_cursor(db, "INSERT INTO inbox_cursors (source, cursor, at) "
                          "VALUES (?1, ?2, ?3) ON CONFLICT (source) DO UPDATE "
                          "SET cursor = excluded.cursor, at = excluded.at"),
        upsert_delta(db, "INSERT INTO external_deltas (sku, wms_seq, "
                         "event_id, quantity, at) VALUES (?1,?2,?3,?4,?5) ON "
                         "CONFLICT (sku, wms_seq) DO UPDATE SET event_id = "
                         "excluded.event_id, quantity = excluded.quantity, "
                         "at = excluded.at"),
        upsert_wms(db, "INSERT INTO wms_reservations (order_id, sku, "
                       "quantity, state, wms_seq, at) VALUES "
                       "(?1,?2,?3,?4,?5,?6) ON CONFLICT (order_id, sku) DO "
                       "UPDATE SET quantity = excluded.quantity, state = "
                       "excluded.state, wms_seq = excluded.wms_seq, at = "
                       "excluded.at"),
        delete_wms(db, "DELETE FROM wms_reservations WHERE order_id = ?1 AND "
                       "sku = ?2"),
        find_order(db, "SELECT record FROM orders WHERE id = ?1"),
        list_orders(db,
                    "SELECT record FROM orders WHERE customer = ?1 ORDER BY "
                    "ordinal DESC LIMIT ?2 OFFSET ?3"),
        read_events(db,
                    "SELECT seq, at, kind, sku, order_id, quantity, amount, "
                    "payload FROM events WHERE seq >= ?1 ORDER BY seq "
                    "LIMIT ?2"),
        load_keys(db, "SELECT key, fingerprint, order_id, at, response FROM "
                      "idempotency_keys WHERE customer = ?1 AND at >= ?2"),
        begin(db, "BEGIN IMMEDIATE"),
        commit(db, "COMMIT"),
        rollback(db, "ROLLBACK") {}

  bool ok() const {
    for (auto* s :
         {&insert_event,   &upsert_price, &receive,         &adjust,
          &consume,        &touch_sku,    &add_to_batch,    &prune_batches,
          &hold_reserve,   &hold_block,   &hold_find,       &hold_update,
          &hold_delete,    &upsert_order, &upsert_line,     &insert_history,
          &upsert_payment, &insert_key,   &insert_customer, &insert_inbox,
          &upsert_cursor,  &upsert_delta, &upsert_wms,      &delete_wms,
          &find_order,     &list_orders,  &read_events,     &load_keys,
          &begin,          &commit,       &rollback})
      if (!s->ok())
        return false;
    return true;
  }

  stmt insert_event, upsert_price, receive, adjust, consume, touch_sku,
      add_to_batch, prune_batches, hold_reserve, hold_block, hold_find,
      hold_update, hold_delete, upsert_order, upsert_line, insert_history,
      upsert_payment, insert_key, insert_customer, insert_inbox, upsert_cursor,
      upsert_delta, upsert_wms, delete_wms, find_order, list_orders,
      read_events, load_keys, begin, commit, rollback;
};

sqlite_store::sqlite_store(std::string path, sqlite3* db)
    : path_(std::move(path)), db_(db) {}

sqlite_store::~sqlite_store() {
  stmts_.reset();
  sqlite3_close_v2(db_);
}

caf::error sqlite_store::fail(const std::string& what) const {
  return make_error(errc::store_failure,
                    path_ + ": " + what + ": " + sqlite3_errmsg(db_));
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
  auto exec = [&](const char* sql) -> std::string {
    char* err = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &err) == SQLITE_OK)
      return {};
    std::string msg = err ? err : sqlite3_errmsg(db);
    sqlite3_free(err);
    return msg;
  };
  auto pragma_int = [&](const char* sql, int64_t& out) -> std::string {
    stmt s{db, sql};
    if (!s.ok())
      return sqlite3_errmsg(db);
    auto rc = s.step();
    if (rc != SQLITE_ROW)
      return sqlite3_errmsg(db);
    out = s.int_at(0);
    return {};
  };
  // Reading the header tells a damaged or foreign file apart early.
  int64_t app_id = 0;
  int64_t version = 0;
  if (auto err = pragma_int("PRAGMA application_id", app_id); !err.empty())
    return failure("not a readable SQLite database (" + err + ")");
  if (auto err = pragma_int("PRAGMA user_version", version); !err.empty())
    return failure("is damaged: cannot read the schema version (" + err + ")");
  int64_t tables = 0;
  if (auto err = pragma_int("SELECT count(*) FROM sqlite_master", tables);
      !err.empty())
    return failure("is damaged: cannot read the schema (" + err + ")");
  if (tables > 0 && app_id != application_id)
    return failure("is a SQLite database but not an order store");
  if (version > schema_version)
    return failure("has schema version " + std::to_string(version) +
                   ", newer than this build's " +
                   std::to_string(schema_version) +
                   ": upgrade the software or restore a matching store");
  if (auto err = exec("PRAGMA journal_mode = WAL"); !err.empty())
    return failure("cannot switch to WAL mode: " + err);
  if (auto err = exec("PRAGMA synchronous = FULL"); !err.empty())
    return failure("cannot set full sync: " + err);
  // A damaged file stops the start instead of recovering half a state.
  {
    stmt check{db, "PRAGMA quick_check"};
    if (!check.ok() || check.step() != SQLITE_ROW)
      return failure("is damaged: " + std::string{sqlite3_errmsg(db)});
    auto verdict = check.text_at(0);
    if (verdict != "ok")
      return failure("is damaged: " + verdict);
  }
  // Explicit migrations, each in its own transaction.
  for (auto v = version; v < schema_version; ++v) {
    std::string sql = "BEGIN;";
    sql += migrations[v];
    sql += "PRAGMA user_version = " + std::to_string(v + 1) + ";";
    if (v == 0)
      sql += "PRAGMA application_id = " + std::to_string(application_id) + ";";
    sql += "COMMIT;";
    if (auto err = exec(sql.c_str()); !err.empty()) {
      exec("ROLLBACK");
      return failure("migration to schema version " + std::to_string(v + 1) +
                     " failed: " + err);
    }
  }
  store->stmts_ = std::make_unique<statements>(db);
  if (!store->stmts_->ok())
    return failure("schema does not match this build: " +
                   std::string{sqlite3_errmsg(db)});
  int64_t last = 0;
  if (auto err = pragma_int("SELECT COALESCE(MAX(seq), 0) FROM events", last);
      !err.empty())
    return failure("cannot read the event log: " + err);
  store->last_seq_ = static_cast<uint64_t>(last);
  return store;
}

caf::error sqlite_store::find_hold(const event& ev, bool& found,
                                   int64_t& quantity,
                                   std::vector<lot_allocation>& lots) {
  auto& s = stmts_->hold_find;
  s.bind(1, ev.order).bind(2, ev.sku);
  auto rc = s.step();
  found = rc == SQLITE_ROW;
  if (found) {
    quantity = s.int_at(0);
    if (!decode_allocations(s.text_at(1), lots)) {
      s.reset();
      return make_error(errc::store_failure,
                        path_ + ": undecodable batches of the hold of order " +
                            ev.order + " on " + ev.sku);
    }
  }
  s.reset();
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return fail("cannot read the hold of order " + ev.order);
  return caf::none;
}

caf::error sqlite_store::apply(const event& ev, uint64_t seq) {
  auto& s = *stmts_;
  auto done = [](int rc) {
    return rc == SQLITE_DONE;
  };
  auto payload = encode_payload(ev);
  if (!done(s.insert_event.bind(1, static_cast<int64_t>(seq))
                .bind(2, ev.at)
                .bind(3, to_string(ev.kind))
                .bind(4, ev.sku)
                .bind(5, ev.order)
                .bind(6, ev.quantity)
                .bind(7, ev.amount)
                .bind(8, payload)
                .run()))
    return fail("cannot append event");
  // Adds units to a batch of the SKU (on hand, or set aside by reason),
  // creating it as store_state's batch_of does.
  using set_aside = std::array<int64_t, unallocatable_reason_count>;
  auto add_to_batch = [&](const std::string& lot, timestamp_ms expires_at,
                          int64_t on_hand, const set_aside& aside) {
    s.add_to_batch.bind(1, ev.sku)
        .bind(2, lot)
        .bind(3, expires_at)
        .bind(4, ev.at)
        .bind(5, on_hand);
    for (size_t i = 0; i < aside.size(); ++i)
      s.add_to_batch.bind(static_cast<int>(6 + i), aside[i]);
    return done(s.add_to_batch.run());
  };
  bool ok = true;
  if (!ev.inbox_id.empty())
    ok = done(s.insert_inbox.bind(1, ev.inbox_id).bind(2, ev.at).run());
  if (ok && external_stock_event(ev)) {
    // The WMS owns the EXTERNAL seller's stock: only its feed changes that
    // a snapshot may not reflect yet are kept.
    if (ev.kind == event_kind::stock_received ||
        ev.kind == event_kind::stock_adjusted)
      ok = done(s.upsert_delta.bind(1, ev.sku)
                    .bind(2, ev.amount)
                    .bind(3, ev.inbox_id)
                    .bind(4, ev.quantity)
                    .bind(5, ev.at)
                    .run());
  } else if (ok) {
    switch (ev.kind) {
      case event_kind::sku_created:
      case event_kind::price_set:
        ok = done(s.upsert_price.bind(1, ev.sku)
                      .bind(2, ev.amount)
                      .bind(3, ev.at)
                      .run());
        break;
      case event_kind::stock_received:
        ok = done(s.receive.bind(1, ev.quantity)
                      .bind(2, ev.at)
                      .bind(3, ev.sku)
                      .run()) &&
             add_to_batch(ev.lot, ev.expires_at, ev.quantity, {});
        break;
      case event_kind::stock_adjusted:
        ok = done(s.adjust.bind(1, ev.quantity)
                      .bind(2, ev.at)
                      .bind(3, ev.sku)
                      .run()) &&
             add_to_batch(ev.lot, 0, ev.quantity, {}) &&
             done(s.prune_batches.bind(1, ev.sku).run());
        break;
      case event_kind::stock_moved: {
        ok = done(s.touch_sku.bind(1, ev.sku).bind(2, ev.at).run());
        unallocatable_reason reason;
        if (ok && parse_unallocatable_reason(ev.reason, reason)) {
          set_aside aside{};
          aside[static_cast<size_t>(reason)] = ev.quantity;
          ok = add_to_batch(ev.lot, 0, 0, aside);
        }
        break;
      }
      case event_kind::stock_reserved: {
        auto lots = ev.lots;
        if (lots.empty())
          lots.push_back(lot_allocation{{}, ev.quantity});
        ok = done(s.hold_reserve.bind(1, ev.order)
                      .bind(2, ev.sku)
                      .bind(3, ev.quantity)
                      .bind(4, encode_allocations(lots))
                      .run());
        break;
      }
      case event_kind::stock_blocked:
        ok = done(s.hold_block.bind(1, ev.order).bind(2, ev.sku).run());
        break;
      case event_kind::stock_released: {
        // A partial release gives back the last units of the hold first.
        bool found = false;
        int64_t held = 0;
        std::vector<lot_allocation> lots;
        if (auto err = find_hold(ev, found, held, lots))
          return err;
        if (!found)
          break;
        held -= ev.quantity;
        if (held <= 0)
          ok = done(s.hold_delete.bind(1, ev.order).bind(2, ev.sku).run());
        else
          ok = done(
              s.hold_update.bind(1, ev.order)
                  .bind(2, ev.sku)
                  .bind(3, held)
                  .bind(4, encode_allocations(take_allocations(lots, held)))
                  .run());
        break;
      }
      case event_kind::stock_consumed: {
        // The shipped units leave the batches the hold drew from.
        bool found = false;
        int64_t held = 0;
        std::vector<lot_allocation> lots;
        if (auto err = find_hold(ev, found, held, lots))
          return err;
        ok = done(s.hold_delete.bind(1, ev.order).bind(2, ev.sku).run()) &&
             done(s.consume.bind(1, ev.quantity)
                      .bind(2, ev.at)
                      .bind(3, ev.sku)
                      .run());
        // A hold journaled before batches existed drew from the batch "".
        if (ok && lots.empty())
          ok = add_to_batch({}, 0, -ev.quantity, {});
        for (auto& a : lots)
          ok = ok && add_to_batch(a.lot, 0, -a.quantity, {});
        ok = ok && done(s.prune_batches.bind(1, ev.sku).run());
        break;
      }
      case event_kind::order_created:
      case event_kind::order_changed: {
        auto& r = ev.snapshot;
        ok = done(s.upsert_order.bind(1, r.id)
                      .bind(2, r.customer)
                      .bind(3, to_string(r.seller))
                      .bind(4, to_string(r.status))
                      .bind(5, r.total_amount)
                      .bind(6, r.paid_amount)
                      .bind(7, r.refunded_amount)
                      .bind(8, r.created_at)
                      .bind(9, r.updated_at)
                      .bind(10, r.hold_expires_at)
                      .bind(11, r.cancel_reason)
                      .bind(12, int64_t{needs_actor(r) ? 1 : 0})
                      .bind(13, payload)
                      .bind(14, static_cast<int64_t>(seq))
                      .run());
        for (size_t i = 0; ok && i < r.lines.size(); ++i) {
          auto& l = r.lines[i];
          ok = done(s.upsert_line.bind(1, r.id)
                        .bind(2, static_cast<int64_t>(i))
                        .bind(3, l.sku)
                        .bind(4, l.quantity)
                        .bind(5, l.unit_price)
                        .bind(6, l.cancelled_quantity)
                        .bind(7, l.shipped_quantity)
                        .run());
        }
        for (size_t i = 0; ok && i < r.history.size(); ++i) {
          auto& h = r.history[i];
          ok = done(s.insert_history.bind(1, r.id)
                        .bind(2, static_cast<int64_t>(i))
                        .bind(3, h.at)
                        .bind(4, to_string(h.from))
                        .bind(5, to_string(h.to))
                        .bind(6, h.reason)
                        .bind(7, h.amount)
                        .run());
        }
        for (size_t i = 0; ok && i < r.payments.size(); ++i) {
          auto& p = r.payments[i];
          ok = done(s.upsert_payment.bind(1, p.gateway_key)
                        .bind(2, r.id)
                        .bind(3, to_string(p.kind))
                        .bind(4, p.amount)
                        .bind(5, to_string(p.status))
                        .bind(6, p.reference)
                        .bind(7, p.reason)
                        .bind(8, p.at)
                        .bind(9, p.client_key)
                        .bind(10, p.fingerprint)
                        .run());
        }
        for (auto& k : keys_of(ev)) {
          if (!ok)
            break;
          ok = done(s.insert_key.bind(1, k.customer)
                        .bind(2, k.key)
                        .bind(3, k.fingerprint)
                        .bind(4, k.order)
                        .bind(5, k.at)
                        .bind(6, payload)
                        .run());
        }
        break;
      }
      case event_kind::customer_created:
        ok = done(s.insert_customer.bind(1, ev.customer.id)
                      .bind(2, ev.customer.name)
                      .bind(3, ev.customer.token_hash)
                      .bind(4, ev.customer.created_at)
                      .run());
        break;
      case event_kind::batch_expired:
        // A record of what left sale: the batch's expiry says it already.
        break;
      case event_kind::inbox_cursor:
        if (!ev.reason.empty() && ev.inbox_id.empty())
          ok = done(s.upsert_cursor.bind(1, ev.reason)
                        .bind(2, ev.lot)
                        .bind(3, ev.at)
                        .run());
        break;
      case event_kind::wms_synced:
        if (wms_settled(ev.reason))
          ok = done(s.delete_wms.bind(1, ev.order).bind(2, ev.sku).run());
        else
          ok = done(s.upsert_wms.bind(1, ev.order)
                        .bind(2, ev.sku)
                        .bind(3, ev.quantity)
                        .bind(4, ev.reason)
                        .bind(5, ev.amount)
                        .bind(6, ev.at)
                        .run());
        break;
    }
  }
  if (!ok)
    return fail(std::string{"cannot apply "} + to_string(ev.kind));
  return caf::none;
}

caf::error sqlite_store::commit(const std::vector<event>& events) {
  auto& s = *stmts_;
  if (broken_)
    return make_error(errc::store_failure,
                      path_ + ": a failed transaction could not be rolled "
                              "back; restart to recover from the file");
  if (s.begin.run() != SQLITE_DONE)
    return fail("cannot begin a transaction");
  // Undo a failed batch; a transaction that stays open would make every
  // later batch fail in ways that hide the first error.
  auto undo = [&](caf::error err) {
    s.rollback.run();
    if (!sqlite3_get_autocommit(db_))
      broken_ = true;
    return err;
  };
  auto seq = last_seq_;
  for (auto& ev : events)
    if (auto err = apply(ev, ++seq))
      return undo(std::move(err));
  if (s.commit.run() != SQLITE_DONE)
    return undo(fail("cannot commit"));
  last_seq_ = seq;
  return caf::none;
}

caf::expected<std::vector<event>> sqlite_store::read(uint64_t from,
                                                     uint64_t max) const {
  auto& s = stmts_->read_events;
  s.bind(1, static_cast<int64_t>(from)).bind(2, static_cast<int64_t>(max));
  std::vector<event> result;
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) {
    event ev;
    ev.at = s.int_at(1);
    if (!parse_event_kind(s.text_at(2), ev.kind)) {
      auto seq = s.int_at(0);
      s.reset();
      return make_error(errc::store_failure,
                        path_ + ": unknown event kind at seq " +
                            std::to_string(seq));
    }
    ev.sku = s.text_at(3);
    ev.order = s.text_at(4);
    ev.quantity = s.int_at(5);
    ev.amount = s.int_at(6);
    if (!decode_payload(s.text_at(7), ev)) {
      auto seq = s.int_at(0);
      s.reset();
      return make_error(errc::store_failure,
                        path_ + ": undecodable payload of " +
                            to_string(ev.kind) + " at seq " +
                            std::to_string(seq) + " in the event log");
    }
    result.push_back(std::move(ev));
  }
  s.reset();
  if (rc != SQLITE_DONE)
    return fail("cannot read the event log");
  return result;
}

caf::expected<recovered_state> sqlite_store::load() {
  recovered_state result;
  result.last_seq = last_seq_;
  {
    stmt s{db_, "SELECT sku, unit_price, on_hand, received_total, "
                "consumed_total, adjusted_total, updated_at FROM skus ORDER BY "
                "sku"};
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
      sku_state sku;
      sku.sku = s.text_at(0);
      sku.unit_price = s.int_at(1);
      sku.on_hand = s.int_at(2);
      sku.received_total = s.int_at(3);
      sku.consumed_total = s.int_at(4);
      sku.adjusted_total = s.int_at(5);
      sku.updated_at = s.int_at(6);
      result.skus.push_back(std::move(sku));
    }
    if (rc != SQLITE_DONE)
      return fail("cannot read SKUs");
  }
  {
    // In the order they were created, as store_state keeps them.
    stmt s{db_, "SELECT sku, lot, expires_at, received_at, on_hand, damaged, "
                "quarantined, expired, safety_stock FROM batches ORDER BY sku, "
                "rowid"};
    auto sku = result.skus.begin();
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
      auto id = s.text_at(0);
      while (sku != result.skus.end() && sku->sku < id)
        ++sku;
      if (sku == result.skus.end() || sku->sku != id)
        return make_error(errc::store_failure,
                          path_ + ": a batch of unknown SKU " + id);
      batch_view b;
      b.lot = s.text_at(1);
      b.expires_at = s.int_at(2);
      b.received_at = s.int_at(3);
      b.on_hand = s.int_at(4);
      for (size_t i = 0; i < unallocatable_reason_count; ++i)
        b.unallocatable.push_back(s.int_at(static_cast<int>(5 + i)));
      sku->batches.push_back(std::move(b));
    }
    if (rc != SQLITE_DONE)
      return fail("cannot read batches");
  }
  {
    stmt s{db_, "SELECT order_id, sku, quantity, kind, lots FROM holds ORDER "
                "BY order_id, sku"};
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
      hold_state h{s.text_at(0),
                   s.text_at(1),
                   s.int_at(2),
                   s.text_at(3) == "BLOCKED" ? hold_kind::blocked
                                             : hold_kind::reserved,
                   {}};
      if (!decode_allocations(s.text_at(4), h.lots))
        return make_error(errc::store_failure,
                          path_ +
                              ": undecodable batches of the hold of order " +
                              h.order + " on " + h.sku);
      result.holds.push_back(std::move(h));
    }
    if (rc != SQLITE_DONE)
      return fail("cannot read holds");
  }
  {
    stmt s{db_, "SELECT id, record FROM orders WHERE live = 1 ORDER BY id"};
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
      order_record rec;
      if (!decode_record(s.text_at(1), rec))
        return make_error(errc::store_failure,
                          path_ + ": undecodable record of order " +
                              s.text_at(0));
      result.live_orders.push_back(std::move(rec));
    }
    if (rc != SQLITE_DONE)
      return fail("cannot read orders");
  }
  {
    stmt s{db_, "SELECT id, name, token_hash, created_at FROM customers ORDER "
                "BY id"};
    int rc;
    while ((rc = s.step()) == SQLITE_ROW)
      result.customers.push_back(customer_record{s.text_at(0), s.text_at(1),
                                                 s.text_at(2), s.int_at(3)});
    if (rc != SQLITE_DONE)
      return fail("cannot read customers");
  }
  {
    stmt s{db_, "SELECT id FROM inbox ORDER BY id"};
    int rc;
    while ((rc = s.step()) == SQLITE_ROW)
      result.inbox_ids.push_back(s.text_at(0));
    if (rc != SQLITE_DONE)
      return fail("cannot read the inbox");
  }
  {
    stmt s{db_, "SELECT source, cursor FROM inbox_cursors ORDER BY source"};
    int rc;
    while ((rc = s.step()) == SQLITE_ROW)
      result.cursors.emplace_back(s.text_at(0), s.text_at(1));
    if (rc != SQLITE_DONE)
      return fail("cannot read the feed cursors");
  }
  {
    stmt s{db_, "SELECT sku, event_id, wms_seq, quantity, at FROM "
                "external_deltas ORDER BY sku, wms_seq"};
    int rc;
    while ((rc = s.step()) == SQLITE_ROW)
      result.external_deltas.push_back(external_delta{
          s.text_at(0), s.text_at(1), s.int_at(2), s.int_at(3), s.int_at(4)});
    if (rc != SQLITE_DONE)
      return fail("cannot read the external feed changes");
  }
  {
    stmt s{db_, "SELECT order_id, sku, quantity, state, wms_seq, at FROM "
                "wms_reservations ORDER BY order_id, sku"};
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
      wms_reservation w{s.text_at(0), s.text_at(1), s.int_at(2),
                        {},           s.int_at(4),  s.int_at(5)};
      parse_wms_standing(s.text_at(3), w.state);
      result.wms_reservations.push_back(std::move(w));
    }
    if (rc != SQLITE_DONE)
      return fail("cannot read the WMS reservations");
  }
  {
    stmt s{db_, "SELECT count(*) FROM orders"};
    if (s.step() != SQLITE_ROW)
      return fail("cannot count orders");
    result.total_orders = static_cast<uint64_t>(s.int_at(0));
  }
  return result;
}

caf::expected<order_record> sqlite_store::find_order(const order_id& id) const {
  auto& s = stmts_->find_order;
  s.bind(1, id);
  auto rc = s.step();
  if (rc == SQLITE_DONE) {
    s.reset();
    return make_error(errc::order_not_found, "no order " + id);
  }
  if (rc != SQLITE_ROW) {
    s.reset();
    return fail("cannot read order " + id);
  }
  order_record rec;
  auto ok = decode_record(s.text_at(0), rec);
  s.reset();
  if (!ok)
    return make_error(errc::store_failure,
                      path_ + ": undecodable record of order " + id);
  return rec;
}

caf::expected<std::vector<order_record>>
sqlite_store::list_orders(const customer_id& customer, uint64_t offset,
                          uint64_t limit) const {
  auto& s = stmts_->list_orders;
  s.bind(1, customer)
      .bind(2, static_cast<int64_t>(limit))
      .bind(3, static_cast<int64_t>(offset));
  std::vector<order_record> result;
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) {
    order_record rec;
    if (!decode_record(s.text_at(0), rec)) {
      s.reset();
      return make_error(errc::store_failure,
                        path_ + ": undecodable order record");
    }
    result.push_back(std::move(rec));
  }
  s.reset();
  if (rc != SQLITE_DONE)
    return fail("cannot list orders");
  return result;
}

caf::expected<std::vector<key_state>>
sqlite_store::load_keys(const customer_id& customer, timestamp_ms since) const {
  auto& s = stmts_->load_keys;
  s.bind(1, customer).bind(2, since);
  std::vector<key_state> result;
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) {
    key_state k{customer,     s.text_at(0), s.text_at(1),
                s.text_at(2), s.int_at(3),  {}};
    if (!decode_record(s.text_at(4), k.response)) {
      s.reset();
      return make_error(errc::store_failure,
                        path_ + ": undecodable idempotency result for key " +
                            k.key);
    }
    result.push_back(std::move(k));
  }
  s.reset();
  if (rc != SQLITE_DONE)
    return fail("cannot read idempotency keys");
  return result;
}

} // namespace oms
