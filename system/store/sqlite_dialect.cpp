// The SQLite dialect: the schema's migrations and the text of every
// statement (parameters as sql_store.hpp orders them).
#include <iterator>

#include "system/store/dialects.hpp"
#include "system/store/sqlite_store.hpp"

namespace oms {

namespace {

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
    // 3 -> 4: the current-state tables follow the event log, not in its
    // transaction: the last event whose effect they hold. Every event so far
    // was applied in the transaction that logged it.
    R"sql(
CREATE TABLE projection (
  id  INTEGER PRIMARY KEY CHECK (id = 1),
  seq INTEGER NOT NULL
);
INSERT INTO projection (id, seq) SELECT 1, coalesce(max(seq), 0) FROM events;
)sql",
    // 4 -> 5: the indexes of the admin order search (GET /v1/orders): by
    // status, by creation, and the orders of a SKU.
    R"sql(
CREATE INDEX orders_by_status ON orders (status, ordinal DESC);
CREATE INDEX orders_by_ordinal ON orders (ordinal DESC);
CREATE INDEX order_lines_by_sku ON order_lines (sku);
)sql",
    // 5 -> 6: the version of each SKU (ETag, If-Match): the changes made to
    // the SKU itself so far, counted in the events the tables hold. The
    // EXTERNAL seller's stock events (their payload names the seller) are
    // not its SKUs' rows.
    R"sql(
ALTER TABLE skus ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
UPDATE skus SET version = (
  SELECT count(*) FROM events e WHERE e.sku = skus.sku
    AND e.seq <= (SELECT seq FROM projection WHERE id = 1)
    AND e.kind IN ('sku_created', 'price_set', 'stock_received', 'stock_adjusted', 'stock_moved', 'batch_expired')
    AND coalesce(e.payload, '') NOT LIKE '%"seller":%');
)sql",
    // 6 -> 7: the shard of each SKU and order (docs/cluster.md), computed
    // only once a count of shards is set (oms_meta's shard_count): what a
    // cluster node reads of the shards it takes, without the rest.
    R"sql(
CREATE TABLE oms_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
ALTER TABLE skus ADD COLUMN shard INTEGER;
ALTER TABLE orders ADD COLUMN shard INTEGER;
CREATE INDEX skus_by_shard ON skus (shard);
DROP INDEX orders_live;
CREATE INDEX orders_live_by_shard ON orders (shard) WHERE live = 1;
)sql",
    // 7 -> 8: fewer b-trees written per order: its history and payments are
    // read from its record (views; they were tables, with a key each, written
    // again at every change of the order). Tables without a rowid for the
    // lines and holds were measured too and not kept: slower on orders
    // spread over many SKUs (docs/benchmarks.md).
    R"sql(
DROP TABLE order_history;
CREATE VIEW order_history AS
SELECT o.id AS order_id, CAST(h.key AS INTEGER) AS entry_no,
  json_extract(h.value, '$[0]') AS at,
  CASE json_extract(h.value, '$[1]') WHEN 0 THEN 'CREATED'
    WHEN 1 THEN 'CONFIRMED' WHEN 2 THEN 'PAID' WHEN 3 THEN 'SHIPPED'
    WHEN 4 THEN 'DELIVERED' WHEN 5 THEN 'CANCELLED'
    WHEN 6 THEN 'PARTIALLY_SHIPPED' END AS from_status,
  CASE json_extract(h.value, '$[2]') WHEN 0 THEN 'CREATED'
    WHEN 1 THEN 'CONFIRMED' WHEN 2 THEN 'PAID' WHEN 3 THEN 'SHIPPED'
    WHEN 4 THEN 'DELIVERED' WHEN 5 THEN 'CANCELLED'
    WHEN 6 THEN 'PARTIALLY_SHIPPED' END AS to_status,
  json_extract(h.value, '$[3]') AS reason,
  json_extract(h.value, '$[4]') AS amount
FROM orders o, json_each(o.record, '$.history') h;
DROP TABLE payments;
CREATE VIEW payments AS
SELECT json_extract(p.value, '$[1]') AS gateway_key, o.id AS order_id,
  CASE json_extract(p.value, '$[0]') WHEN 0 THEN 'CHARGE'
    WHEN 1 THEN 'REFUND' END AS kind,
  json_extract(p.value, '$[2]') AS amount,
  CASE json_extract(p.value, '$[3]') WHEN 0 THEN 'PENDING'
    WHEN 1 THEN 'SUCCEEDED' WHEN 2 THEN 'FAILED' END AS status,
  json_extract(p.value, '$[4]') AS reference,
  json_extract(p.value, '$[5]') AS reason,
  json_extract(p.value, '$[6]') AS at,
  json_extract(p.value, '$[7]') AS client_key,
  json_extract(p.value, '$[8]') AS fingerprint
FROM orders o, json_each(o.record, '$.payments') p;
)sql",
};

static_assert(std::size(migrations) == sqlite_store::schema_version);

} // namespace

const sql_dialect& sqlite_dialect() {
  static const sql_dialect dialect{
      migrations, std::size(migrations),
      make_sql_texts({
          {sql::insert_event,
           "INSERT INTO events (seq, at, kind, sku, order_id, "
           "quantity, amount, payload) VALUES (?,?,?,?,?,?,?,?)"},
          // A SKU's shard is set when its row is made (index_shards sets
          // those made before): an update leaves it, and skus_by_shard is
          // not written again.
          {sql::upsert_price,
           "INSERT INTO skus (sku, unit_price, updated_at, shard) "
           "VALUES (?1, ?2, ?3, NULLIF(?4, -1)) ON CONFLICT (sku) DO UPDATE "
           "SET unit_price = excluded.unit_price, updated_at = "
           "excluded.updated_at"},
          {sql::receive,
           "INSERT INTO skus (sku, unit_price, on_hand, "
           "received_total, updated_at, shard) VALUES (?1, 0, ?2, ?3, ?4, "
           "NULLIF(?5, -1)) ON CONFLICT (sku) DO UPDATE SET on_hand = "
           "on_hand + ?2, received_total = received_total + ?3, updated_at "
           "= ?4"},
          {sql::adjust,
           "INSERT INTO skus (sku, unit_price, on_hand, "
           "adjusted_total, updated_at, shard) VALUES (?1, 0, ?2, ?3, ?4, "
           "NULLIF(?5, -1)) ON CONFLICT (sku) DO UPDATE SET on_hand = "
           "on_hand + ?2, adjusted_total = adjusted_total + ?3, updated_at "
           "= ?4"},
          {sql::consume,
           "INSERT INTO skus (sku, unit_price, on_hand, "
           "consumed_total, updated_at, shard) VALUES (?1, 0, ?2, ?3, ?4, "
           "NULLIF(?5, -1)) ON CONFLICT (sku) DO UPDATE SET on_hand = "
           "on_hand + ?2, consumed_total = consumed_total + ?3, updated_at "
           "= ?4"},
          {sql::touch_sku,
           "INSERT INTO skus (sku, unit_price, updated_at, shard) VALUES "
           "(?1, 0, ?2, NULLIF(?3, -1)) ON CONFLICT (sku) DO UPDATE SET "
           "updated_at = excluded.updated_at"},
          {sql::sku_version,
           "UPDATE skus SET version = CASE WHEN ?2 > 0 THEN ?2 ELSE "
           "version + 1 END WHERE sku = ?1"},
          {sql::add_to_batch,
           "INSERT INTO batches (sku, lot, expires_at, received_at, on_hand, "
           "damaged, quarantined, expired, safety_stock) VALUES "
           "(?1,?2,?3,?4,?5,?6,?7,?8,?9) ON CONFLICT (sku, lot) DO UPDATE SET "
           "on_hand = on_hand + excluded.on_hand, damaged = damaged + "
           "excluded.damaged, quarantined = quarantined + "
           "excluded.quarantined, "
           "expired = expired + excluded.expired, safety_stock = safety_stock "
           "+ "
           "excluded.safety_stock"},
          {sql::prune_batches,
           "DELETE FROM batches WHERE sku = ?1 AND on_hand = 0"},
          {sql::hold_reserve,
           "INSERT INTO holds (order_id, sku, quantity, kind, "
           "lots) VALUES (?1, ?2, ?3, 'RESERVED', ?4) ON "
           "CONFLICT DO UPDATE SET quantity = excluded.quantity, "
           "kind = 'RESERVED', lots = excluded.lots"},
          {sql::hold_block,
           "UPDATE holds SET kind = 'BLOCKED' WHERE order_id = ?1 "
           "AND sku = ?2"},
          {sql::hold_find,
           "SELECT quantity, lots, kind FROM holds WHERE order_id "
           "= ?1 AND sku = ?2"},
          {sql::hold_update, "UPDATE holds SET quantity = ?3, lots = ?4 WHERE "
                             "order_id = ?1 AND sku = ?2"},
          {sql::hold_delete,
           "DELETE FROM holds WHERE order_id = ?1 AND sku = ?2"},
          {sql::upsert_order,
           "INSERT INTO orders (id, customer, seller, status, total_amount, "
           "paid_amount, refunded_amount, created_at, updated_at, "
           "hold_expires_at, cancel_reason, live, record, ordinal, shard) "
           "VALUES (?1,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?2,"
           "NULLIF(?15, -1)) ON CONFLICT (id) DO "
           "UPDATE SET status = excluded.status, total_amount = "
           "excluded.total_amount, paid_amount = excluded.paid_amount, "
           "refunded_amount = excluded.refunded_amount, updated_at = "
           "excluded.updated_at, hold_expires_at = excluded.hold_expires_at, "
           "cancel_reason = excluded.cancel_reason, live = excluded.live, "
           "record = excluded.record, shard = coalesce(excluded.shard, "
           "shard)"},
          {sql::upsert_line,
           "INSERT INTO order_lines (order_id, line_no, sku, "
           "quantity, unit_price, cancelled_quantity, "
           "shipped_quantity) VALUES (?1,?2,?3,?4,?5,?6,?7) ON "
           "CONFLICT DO UPDATE SET cancelled_quantity = "
           "excluded.cancelled_quantity, shipped_quantity = "
           "excluded.shipped_quantity, unit_price = "
           "excluded.unit_price WHERE cancelled_quantity <> "
           "excluded.cancelled_quantity OR shipped_quantity <> "
           "excluded.shipped_quantity OR unit_price <> excluded.unit_price"},
          {sql::insert_key,
           // A key used again after the window (for another order, later)
           // replaces its old row.
           "INSERT INTO idempotency_keys (customer, key, fingerprint, "
           "order_id, at, response) VALUES (?1,?2,?3,?4,?5,?6) ON CONFLICT "
           "(customer, key) DO UPDATE SET fingerprint = excluded.fingerprint, "
           "order_id = excluded.order_id, at = excluded.at, response = "
           "excluded.response WHERE excluded.order_id <> "
           "idempotency_keys.order_id AND excluded.at > idempotency_keys.at"},
          {sql::insert_customer, "INSERT INTO customers (id, name, token_hash, "
                                 "created_at) VALUES (?1,?2,?3,?4)"},
          {sql::insert_inbox,
           "INSERT OR IGNORE INTO inbox (id, at) VALUES (?1, "
           "?2)"},
          {sql::forget_inbox, "DELETE FROM inbox WHERE at < ?1"},
          {sql::upsert_cursor, "INSERT INTO inbox_cursors (source, cursor, at) "
                               "VALUES (?1, ?2, ?3) ON CONFLICT (source) DO "
                               "UPDATE SET cursor = excluded.cursor, at = "
                               "excluded.at"},
          {sql::upsert_delta,
           "INSERT INTO external_deltas (sku, wms_seq, "
           "event_id, quantity, at) VALUES (?1,?2,?3,?4,?5) ON "
           "CONFLICT (sku, wms_seq) DO UPDATE SET event_id = "
           "excluded.event_id, quantity = excluded.quantity, "
           "at = excluded.at"},
          {sql::upsert_wms,
           "INSERT INTO wms_reservations (order_id, sku, "
           "quantity, state, wms_seq, at) VALUES "
           "(?1,?2,?3,?4,?5,?6) ON CONFLICT (order_id, sku) DO "
           "UPDATE SET quantity = excluded.quantity, state = "
           "excluded.state, wms_seq = excluded.wms_seq, at = "
           "excluded.at"},
          {sql::delete_wms,
           "DELETE FROM wms_reservations WHERE order_id = ?1 AND "
           "sku = ?2"},
          {sql::find_order, "SELECT record FROM orders WHERE id = ?1"},
          {sql::list_orders,
           "SELECT record FROM orders WHERE customer = ?1 ORDER "
           "BY ordinal DESC LIMIT ?2 OFFSET ?3"},
          {sql::search_by_sku,
           "SELECT o.record, o.ordinal FROM orders o WHERE o.id IN "
           "(SELECT order_id FROM order_lines WHERE sku = ?7) AND "
           "o.ordinal < ?2 AND o.created_at >= ?5 AND o.created_at < ?6 "
           "AND (?1 = '' OR o.status = ?1) AND (?3 = '' OR o.customer = "
           "?3) AND (?4 = '' OR o.seller = ?4) ORDER BY o.ordinal DESC "
           "LIMIT ?8"},
          {sql::search_by_customer,
           "SELECT o.record, o.ordinal FROM orders o WHERE o.customer = "
           "?3 AND o.ordinal < ?2 AND o.created_at >= ?5 AND "
           "o.created_at < ?6 AND (?1 = '' OR o.status = ?1) AND (?4 = "
           "'' OR o.seller = ?4) AND (?7 = '' OR EXISTS (SELECT 1 FROM "
           "order_lines l WHERE l.order_id = o.id AND l.sku = ?7)) ORDER "
           "BY o.ordinal DESC LIMIT ?8"},
          {sql::search_by_status,
           "SELECT o.record, o.ordinal FROM orders o WHERE o.status = ?1 "
           "AND o.ordinal < ?2 AND o.created_at >= ?5 AND o.created_at < "
           "?6 AND (?3 = '' OR o.customer = ?3) AND (?4 = '' OR o.seller "
           "= ?4) AND (?7 = '' OR EXISTS (SELECT 1 FROM order_lines l "
           "WHERE l.order_id = o.id AND l.sku = ?7)) ORDER BY o.ordinal "
           "DESC LIMIT ?8"},
          {sql::search_all,
           "SELECT o.record, o.ordinal FROM orders o WHERE o.ordinal < "
           "?2 AND o.created_at >= ?5 AND o.created_at < ?6 AND (?1 = '' "
           "OR o.status = ?1) AND (?3 = '' OR o.customer = ?3) AND (?4 = "
           "'' OR o.seller = ?4) AND (?7 = '' OR EXISTS (SELECT 1 FROM "
           "order_lines l WHERE l.order_id = o.id AND l.sku = ?7)) ORDER "
           "BY o.ordinal DESC LIMIT ?8"},
          {sql::read_events,
           "SELECT seq, at, kind, sku, order_id, quantity, "
           "amount, payload FROM events WHERE seq >= ?1 ORDER "
           "BY seq LIMIT ?2"},
          {sql::last_seq, "SELECT COALESCE(MAX(seq), 0) FROM events"},
          {sql::first_seq, "SELECT COALESCE(MIN(seq), 0) FROM events"},
          {sql::prune_scan, "SELECT seq, at FROM events WHERE seq >= ?1 "
                            "ORDER BY seq LIMIT ?2"},
          {sql::prune_events, "DELETE FROM events WHERE seq <= ?1"},
          {sql::load_skus,
           "SELECT sku, unit_price, on_hand, received_total, "
           "consumed_total, adjusted_total, updated_at, version FROM skus "
           "ORDER BY sku"},
          // In the order they were created, as store_state keeps them.
          {sql::load_batches,
           "SELECT sku, lot, expires_at, received_at, on_hand, "
           "damaged, quarantined, expired, safety_stock FROM "
           "batches ORDER BY sku, rowid"},
          {sql::load_holds, "SELECT order_id, sku, quantity, kind, lots FROM "
                            "holds ORDER BY order_id, sku"},
          {sql::load_live,
           "SELECT id, record FROM orders WHERE live = 1 ORDER BY "
           "id"},
          {sql::load_customers, "SELECT id, name, token_hash, created_at FROM "
                                "customers ORDER BY id"},
          {sql::load_inbox, "SELECT id, at FROM inbox ORDER BY id"},
          {sql::load_cursors,
           "SELECT source, cursor FROM inbox_cursors ORDER BY "
           "source"},
          {sql::load_deltas, "SELECT sku, event_id, wms_seq, quantity, at FROM "
                             "external_deltas ORDER BY sku, wms_seq"},
          {sql::load_wms, "SELECT order_id, sku, quantity, state, wms_seq, at "
                          "FROM wms_reservations ORDER BY order_id, sku"},
          {sql::count_orders, "SELECT count(*) FROM orders"},
          {sql::load_key,
           "SELECT key, fingerprint, order_id, at, response FROM "
           "idempotency_keys WHERE customer = ?1 AND key = ?2"},
          {sql::one_inbox_id, "SELECT 1 FROM inbox WHERE id = ?1"},
          {sql::one_sku,
           "SELECT sku, unit_price, on_hand, received_total, "
           "consumed_total, adjusted_total, updated_at, version FROM skus "
           "WHERE sku = ?1"},
          {sql::one_sku_batches,
           "SELECT sku, lot, expires_at, received_at, on_hand, "
           "damaged, quarantined, expired, safety_stock FROM "
           "batches WHERE sku = ?1 ORDER BY rowid"},
          {sql::one_sku_holds, "SELECT order_id, sku, quantity, kind, lots "
                               "FROM holds WHERE sku = ?1 ORDER BY order_id"},
          {sql::one_external_deltas,
           "SELECT sku, event_id, wms_seq, quantity, at FROM "
           "external_deltas WHERE sku = ?1 ORDER BY wms_seq"},
          {sql::one_external_wms,
           "SELECT order_id, sku, quantity, state, wms_seq, at "
           "FROM wms_reservations WHERE sku = ?1 ORDER BY order_id"},
          {sql::shard_count_read, "SELECT CAST(value AS INTEGER) FROM "
                                  "oms_meta WHERE key = 'shard_count'"},
          {sql::shard_count_write,
           "INSERT INTO oms_meta (key, value) VALUES ('shard_count', "
           "CAST(?1 AS TEXT)) ON CONFLICT (key) DO UPDATE SET value = "
           "excluded.value"},
          {sql::shard_all_skus, "SELECT sku FROM skus ORDER BY sku"},
          {sql::set_sku_shard,
           "UPDATE skus SET shard = NULLIF(?2, -1) WHERE sku = ?1 AND shard "
           "IS NOT NULLIF(?2, -1)"},
          // An order's shard is its first line's SKU's (the SKUs' set
          // first), the duty shard's for the EXTERNAL seller's.
          {sql::set_order_shards,
           "UPDATE orders SET shard = CASE WHEN seller = 'EXTERNAL' THEN ?1 "
           "ELSE (SELECT s.shard FROM order_lines l JOIN skus s ON s.sku = "
           "l.sku WHERE l.order_id = orders.id AND l.line_no = 0) END WHERE "
           "shard IS NOT (CASE WHEN seller = 'EXTERNAL' THEN ?1 ELSE (SELECT "
           "s.shard FROM order_lines l JOIN skus s ON s.sku = l.sku WHERE "
           "l.order_id = orders.id AND l.line_no = 0) END)"},
          // A row whose shard is not computed (NULL) is read whatever its
          // shard: the caller keeps only its shards' part.
          {sql::shard_skus,
           "SELECT sku, unit_price, on_hand, received_total, "
           "consumed_total, adjusted_total, updated_at, version FROM skus "
           "WHERE shard IN (SELECT value FROM json_each('[' || ?1 || ']')) "
           "OR shard IS NULL ORDER BY sku"},
          {sql::shard_batches,
           "SELECT sku, lot, expires_at, received_at, on_hand, damaged, "
           "quarantined, expired, safety_stock FROM batches WHERE sku IN "
           "(SELECT sku FROM skus WHERE shard IN (SELECT value FROM "
           "json_each('[' || ?1 || ']')) OR shard IS NULL) ORDER BY sku, "
           "rowid"},
          {sql::shard_holds,
           "SELECT order_id, sku, quantity, kind, lots FROM holds WHERE sku "
           "IN (SELECT sku FROM skus WHERE shard IN (SELECT value FROM "
           "json_each('[' || ?1 || ']')) OR shard IS NULL) ORDER BY "
           "order_id, sku"},
          {sql::shard_live,
           "SELECT id, record FROM orders WHERE live = 1 AND (shard IN "
           "(SELECT value FROM json_each('[' || ?1 || ']')) OR shard IS "
           "NULL) ORDER BY id"},
      })};
  return dialect;
}

} // namespace oms
