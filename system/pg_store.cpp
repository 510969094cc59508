#include "system/pg_store.hpp"

#include <algorithm>
#include <climits>

#include <pqxx/pqxx>

#include "messages/errors.hpp"
#include "system/codec.hpp"

namespace oms {

namespace {

// Migration i brings the schema from version i to version i + 1. Append new
// migrations; never edit a released one.
constexpr const char* migrations[] = {
    // 0 -> 1: the initial schema (the same logical schema as SQLite's).
    R"sql(
CREATE TABLE oms_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE events (
  seq BIGINT PRIMARY KEY, at BIGINT NOT NULL, kind TEXT NOT NULL, sku TEXT,
  order_id TEXT, quantity BIGINT NOT NULL DEFAULT 0,
  amount BIGINT NOT NULL DEFAULT 0, payload TEXT);
CREATE TABLE skus (
  sku TEXT PRIMARY KEY, seller TEXT NOT NULL DEFAULT 'INTERNAL',
  unit_price BIGINT NOT NULL, on_hand BIGINT NOT NULL DEFAULT 0,
  received_total BIGINT NOT NULL DEFAULT 0,
  consumed_total BIGINT NOT NULL DEFAULT 0, updated_at BIGINT NOT NULL);
CREATE TABLE holds (
  order_id TEXT NOT NULL, sku TEXT NOT NULL, quantity BIGINT NOT NULL,
  kind TEXT NOT NULL, PRIMARY KEY (order_id, sku));
CREATE INDEX holds_by_sku ON holds (sku);
CREATE TABLE orders (
  id TEXT PRIMARY KEY, ordinal BIGINT NOT NULL, customer TEXT NOT NULL,
  seller TEXT NOT NULL, status TEXT NOT NULL, total_amount BIGINT NOT NULL,
  paid_amount BIGINT NOT NULL, refunded_amount BIGINT NOT NULL,
  created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,
  hold_expires_at BIGINT NOT NULL, cancel_reason TEXT NOT NULL,
  live BIGINT NOT NULL, record TEXT NOT NULL);
CREATE INDEX orders_by_customer ON orders (customer, ordinal DESC);
CREATE INDEX orders_live ON orders (live) WHERE live = 1;
CREATE TABLE order_lines (
  order_id TEXT NOT NULL, line_no BIGINT NOT NULL, sku TEXT NOT NULL,
  quantity BIGINT NOT NULL, unit_price BIGINT NOT NULL,
  cancelled_quantity BIGINT NOT NULL, shipped_quantity BIGINT NOT NULL,
  PRIMARY KEY (order_id, line_no));
CREATE TABLE order_history (
  order_id TEXT NOT NULL, entry_no BIGINT NOT NULL, at BIGINT NOT NULL,
  from_status TEXT NOT NULL, to_status TEXT NOT NULL, reason TEXT NOT NULL,
  amount BIGINT NOT NULL, PRIMARY KEY (order_id, entry_no));
CREATE TABLE payments (
  gateway_key TEXT PRIMARY KEY, order_id TEXT NOT NULL, kind TEXT NOT NULL,
  amount BIGINT NOT NULL, status TEXT NOT NULL, reference TEXT NOT NULL,
  reason TEXT NOT NULL, at BIGINT NOT NULL, client_key TEXT NOT NULL,
  fingerprint TEXT NOT NULL);
CREATE INDEX payments_by_order ON payments (order_id);
CREATE TABLE idempotency_keys (
  customer TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT NOT NULL,
  order_id TEXT NOT NULL, at BIGINT NOT NULL, response TEXT NOT NULL,
  PRIMARY KEY (customer, key));
CREATE INDEX idempotency_keys_by_at ON idempotency_keys (at);
)sql",
    // 1 -> 2: customers of the HTTP API (token kept as a hash only).
    R"sql(
CREATE TABLE customers (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE,
  created_at BIGINT NOT NULL);
)sql",
};

constexpr int migration_count = sizeof(migrations) / sizeof(migrations[0]);
static_assert(migration_count == pg_store::schema_version);

// Prepared statements, by name.
const std::pair<const char*, const char*> statements[] = {
    {"insert_event", "INSERT INTO events (seq, at, kind, sku, order_id, "
                     "quantity, amount, payload) VALUES ($1,$2,$3,$4,$5,$6,$7,"
                     "NULLIF($8, ''))"},
    {"upsert_price",
     "INSERT INTO skus (sku, unit_price, updated_at) VALUES "
     "($1, $2, $3) ON CONFLICT (sku) DO UPDATE SET unit_price = "
     "excluded.unit_price, updated_at = excluded.updated_at"},
    {"receive", "UPDATE skus SET on_hand = on_hand + $1, received_total = "
                "received_total + $1, updated_at = $2 WHERE sku = $3"},
    {"consume", "UPDATE skus SET on_hand = on_hand - $1, consumed_total = "
                "consumed_total + $1, updated_at = $2 WHERE sku = $3"},
    {"hold_reserve",
     "INSERT INTO holds (order_id, sku, quantity, kind) VALUES "
     "($1, $2, $3, 'RESERVED') ON CONFLICT (order_id, sku) DO "
     "UPDATE SET quantity = excluded.quantity, kind = 'RESERVED'"},
    {"hold_block", "UPDATE holds SET kind = 'BLOCKED' WHERE order_id = $1 AND "
                   "sku = $2"},
    {"hold_release", "UPDATE holds SET quantity = quantity - $3 WHERE order_id "
                     "= $1 AND sku = $2"},
    {"hold_prune", "DELETE FROM holds WHERE order_id = $1 AND sku = $2 AND "
                   "quantity <= 0"},
    {"hold_delete", "DELETE FROM holds WHERE order_id = $1 AND sku = $2"},
    {"upsert_order",
     "INSERT INTO orders (id, ordinal, customer, seller, status, total_amount, "
     "paid_amount, refunded_amount, created_at, updated_at, hold_expires_at, "
     "cancel_reason, live, record) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,"
     "$12,$13,$14) ON CONFLICT (id) DO UPDATE SET status = excluded.status, "
     "total_amount = excluded.total_amount, paid_amount = "
     "excluded.paid_amount, refunded_amount = excluded.refunded_amount, "
     "updated_at = excluded.updated_at, hold_expires_at = "
     "excluded.hold_expires_at, cancel_reason = excluded.cancel_reason, live = "
     "excluded.live, record = excluded.record"},
    {"upsert_line",
     "INSERT INTO order_lines (order_id, line_no, sku, quantity, "
     "unit_price, cancelled_quantity, shipped_quantity) VALUES "
     "($1,$2,$3,$4,$5,$6,$7) ON CONFLICT (order_id, line_no) DO "
     "UPDATE SET cancelled_quantity = excluded.cancelled_quantity,"
     " shipped_quantity = excluded.shipped_quantity, unit_price "
     "= excluded.unit_price"},
    {"insert_history", "INSERT INTO order_history (order_id, entry_no, at, "
                       "from_status, to_status, reason, amount) VALUES ($1,$2,"
                       "$3,$4,$5,$6,$7) ON CONFLICT DO NOTHING"},
    {"upsert_payment",
     "INSERT INTO payments (gateway_key, order_id, kind, "
     "amount, status, reference, reason, at, client_key, "
     "fingerprint) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) ON "
     "CONFLICT (gateway_key) DO UPDATE SET status = "
     "excluded.status, reference = excluded.reference, reason "
     "= excluded.reason"},
    {"insert_key", "INSERT INTO idempotency_keys (customer, key, fingerprint, "
                   "order_id, at, response) VALUES ($1,$2,$3,$4,$5,$6) ON "
                   "CONFLICT DO NOTHING"},
    {"insert_customer", "INSERT INTO customers (id, name, token_hash, "
                        "created_at) VALUES ($1,$2,$3,$4)"},
    {"find_order", "SELECT record FROM orders WHERE id = $1"},
    {"list_orders", "SELECT record FROM orders WHERE customer = $1 ORDER BY "
                    "ordinal DESC LIMIT $2 OFFSET $3"},
    {"read_events", "SELECT seq, at, kind, COALESCE(sku, ''), "
                    "COALESCE(order_id, ''), quantity, amount, "
                    "COALESCE(payload, '') FROM events WHERE seq >= $1 ORDER "
                    "BY seq LIMIT $2"},
    {"load_keys", "SELECT key, fingerprint, order_id, at, response FROM "
                  "idempotency_keys WHERE customer = $1 AND at >= $2"},
};

int64_t clamp(uint64_t x) {
  return static_cast<int64_t>(std::min<uint64_t>(x, INT64_MAX));
}

// Applies one event inside `w`.
void apply(pqxx::work& w, const event& ev, uint64_t seq) {
  std::string payload;
  if (ev.kind == event_kind::order_created ||
      ev.kind == event_kind::order_changed)
    payload = encode_record(ev.snapshot);
  else if (ev.kind == event_kind::customer_created)
    payload = encode_customer(ev.customer);
  w.exec_prepared("insert_event", static_cast<int64_t>(seq), ev.at,
                  std::string{to_string(ev.kind)}, ev.sku, ev.order,
                  ev.quantity, ev.amount, payload);
  switch (ev.kind) {
    case event_kind::sku_created:
    case event_kind::price_set:
      w.exec_prepared("upsert_price", ev.sku, ev.amount, ev.at);
      break;
    case event_kind::stock_received:
      w.exec_prepared("receive", ev.quantity, ev.at, ev.sku);
      break;
    case event_kind::stock_reserved:
      w.exec_prepared("hold_reserve", ev.order, ev.sku, ev.quantity);
      break;
    case event_kind::stock_blocked:
      w.exec_prepared("hold_block", ev.order, ev.sku);
      break;
    case event_kind::stock_released:
      w.exec_prepared("hold_release", ev.order, ev.sku, ev.quantity);
      w.exec_prepared("hold_prune", ev.order, ev.sku);
      break;
    case event_kind::stock_consumed:
      w.exec_prepared("hold_delete", ev.order, ev.sku);
      w.exec_prepared("consume", ev.quantity, ev.at, ev.sku);
      break;
    case event_kind::order_created:
    case event_kind::order_changed: {
      auto& r = ev.snapshot;
      w.exec_prepared("upsert_order", r.id, static_cast<int64_t>(seq),
                      r.customer, std::string{to_string(r.seller)},
                      std::string{to_string(r.status)}, r.total_amount,
                      r.paid_amount, r.refunded_amount, r.created_at,
                      r.updated_at, r.hold_expires_at, r.cancel_reason,
                      int64_t{needs_actor(r) ? 1 : 0}, payload);
      for (size_t i = 0; i < r.lines.size(); ++i) {
        auto& l = r.lines[i];
        w.exec_prepared("upsert_line", r.id, static_cast<int64_t>(i), l.sku,
                        l.quantity, l.unit_price, l.cancelled_quantity,
                        l.shipped_quantity);
      }
      for (size_t i = 0; i < r.history.size(); ++i) {
        auto& h = r.history[i];
        w.exec_prepared("insert_history", r.id, static_cast<int64_t>(i), h.at,
                        std::string{to_string(h.from)},
                        std::string{to_string(h.to)}, h.reason, h.amount);
      }
      for (auto& p : r.payments)
        w.exec_prepared("upsert_payment", p.gateway_key, r.id,
                        std::string{to_string(p.kind)}, p.amount,
                        std::string{to_string(p.status)}, p.reference, p.reason,
                        p.at, p.client_key, p.fingerprint);
      for (auto& k : keys_of(ev))
        w.exec_prepared("insert_key", k.customer, k.key, k.fingerprint, k.order,
                        k.at, payload);
      break;
    }
    case event_kind::customer_created:
      w.exec_prepared("insert_customer", ev.customer.id, ev.customer.name,
                      ev.customer.token_hash, ev.customer.created_at);
      break;
  }
}

} // namespace

pg_store::pg_store(std::string name, std::unique_ptr<pqxx::connection> conn)
    : name_(std::move(name)), conn_(std::move(conn)) {}

pg_store::~pg_store() = default;

caf::expected<std::unique_ptr<pg_store>>
pg_store::open(const std::string& conninfo, const std::string& schema) {
  std::string name = "postgres:" + schema;
  auto failure = [&](const std::string& what) {
    return make_error(errc::store_failure, name + ": " + what);
  };
  try {
    auto conn = std::make_unique<pqxx::connection>(conninfo);
    name = "postgres:" + std::string{conn->hostname() ? conn->hostname() : ""} +
           ":" + std::string{conn->port() ? conn->port() : ""} + "/" +
           std::string{conn->dbname()} + "/" + schema;
    {
      pqxx::work w{*conn};
      w.exec("CREATE SCHEMA IF NOT EXISTS " + w.quote_name(schema));
      w.commit();
    }
    {
      pqxx::nontransaction n{*conn};
      n.exec("SET search_path TO " + n.quote_name(schema));
      n.exec("SET synchronous_commit TO on");
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
      w.exec(migrations[v]);
      w.exec("INSERT INTO oms_meta (key, value) VALUES ('schema_version', '" +
             std::to_string(v + 1) +
             "') ON CONFLICT (key) DO UPDATE SET value = excluded.value");
      w.commit();
    }
    std::unique_ptr<pg_store> store{new pg_store(name, nullptr)};
    store->conninfo_ = conninfo;
    store->schema_ = schema;
    store->connect();
    pqxx::nontransaction n{*store->conn_};
    auto last = n.exec("SELECT COALESCE(MAX(seq), 0) FROM events");
    store->last_seq_ = last[0][0].as<uint64_t>();
    return store;
  } catch (const std::exception& e) {
    return failure(e.what());
  }
}

caf::error pg_store::commit(const std::vector<event>& events) {
  auto expected_seq = last_seq_ + events.size();
  try {
    pqxx::work w{*conn_};
    auto seq = last_seq_;
    for (auto& ev : events)
      apply(w, ev, ++seq);
    w.commit();
    last_seq_ = seq;
    return caf::none;
  } catch (const std::exception& e) {
    // The connection may be gone, and with a lost answer to COMMIT the
    // batch may have landed all the same: reconnect and ask the log.
    std::string what = e.what();
    try {
      connect();
      pqxx::nontransaction n{*conn_};
      auto last = n.exec("SELECT COALESCE(MAX(seq), 0) FROM events");
      last_seq_ = last[0][0].as<uint64_t>();
      if (last_seq_ == expected_seq)
        return caf::none; // committed; only the answer was lost
    } catch (const std::exception& again) {
      what += "; reconnecting failed: ";
      what += again.what();
    }
    return make_error(errc::store_failure, name_ + ": cannot commit: " + what);
  }
}

void pg_store::connect() {
  auto conn = std::make_unique<pqxx::connection>(conninfo_);
  {
    pqxx::nontransaction n{*conn};
    n.exec("SET search_path TO " + n.quote_name(schema_));
    n.exec("SET synchronous_commit TO on");
  }
  for (auto& [stmt_name, sql] : statements)
    conn->prepare(stmt_name, sql);
  conn_ = std::move(conn);
}

caf::expected<std::vector<event>> pg_store::read(uint64_t from,
                                                 uint64_t max) const {
  try {
    pqxx::nontransaction n{*conn_};
    auto rows = n.exec_prepared("read_events", clamp(from), clamp(max));
    std::vector<event> result;
    result.reserve(rows.size());
    for (auto row : rows) {
      event ev;
      ev.at = row[1].as<int64_t>();
      if (!parse_event_kind(row[2].as<std::string>(), ev.kind))
        return make_error(errc::store_failure,
                          name_ + ": unknown event kind at seq " +
                              row[0].as<std::string>());
      ev.sku = row[3].as<std::string>();
      ev.order = row[4].as<std::string>();
      ev.quantity = row[5].as<int64_t>();
      ev.amount = row[6].as<int64_t>();
      auto payload = row[7].as<std::string>();
      bool decoded = ev.kind == event_kind::customer_created
                         ? decode_customer(payload, ev.customer)
                         : decode_record(payload, ev.snapshot);
      if (!payload.empty() && !decoded)
        return make_error(errc::store_failure,
                          name_ + ": undecodable payload in the log");
      result.push_back(std::move(ev));
    }
    return result;
  } catch (const std::exception& e) {
    return make_error(errc::store_failure,
                      name_ + ": cannot read the event log: " + e.what());
  }
}

caf::expected<recovered_state> pg_store::load() {
  try {
    recovered_state result;
    result.last_seq = last_seq_;
    pqxx::work w{*conn_};
    for (auto row : w.exec("SELECT sku, unit_price, on_hand, received_total, "
                           "consumed_total, updated_at FROM skus ORDER BY sku"))
      result.skus.push_back(sku_state{
          row[0].as<std::string>(), row[1].as<int64_t>(), row[2].as<int64_t>(),
          row[3].as<int64_t>(), row[4].as<int64_t>(), row[5].as<int64_t>()});
    for (auto row : w.exec("SELECT order_id, sku, quantity, kind FROM holds"))
      result.holds.push_back(hold_state{
          row[0].as<std::string>(), row[1].as<std::string>(),
          row[2].as<int64_t>(),
          row[3].as<std::string>() == "BLOCKED" ? hold_kind::blocked
                                                : hold_kind::reserved});
    for (auto row : w.exec("SELECT id, record FROM orders WHERE live = 1")) {
      order_record rec;
      if (!decode_record(row[1].as<std::string>(), rec))
        return make_error(errc::store_failure,
                          name_ + ": undecodable record of order " +
                              row[0].as<std::string>());
      result.live_orders.push_back(std::move(rec));
    }
    for (auto row :
         w.exec("SELECT id, name, token_hash, created_at FROM customers"))
      result.customers.push_back(
          customer_record{row[0].as<std::string>(), row[1].as<std::string>(),
                          row[2].as<std::string>(), row[3].as<int64_t>()});
    result.total_orders =
        w.exec("SELECT count(*) FROM orders")[0][0].as<uint64_t>();
    w.commit();
    return result;
  } catch (const std::exception& e) {
    return make_error(errc::store_failure,
                      name_ + ": cannot load the state: " + e.what());
  }
}

caf::expected<std::vector<key_state>>
pg_store::load_keys(const customer_id& customer, timestamp_ms since) const {
  try {
    pqxx::nontransaction n{*conn_};
    std::vector<key_state> result;
    for (auto row : n.exec_prepared("load_keys", customer, since)) {
      key_state k{customer,
                  row[0].as<std::string>(),
                  row[1].as<std::string>(),
                  row[2].as<std::string>(),
                  row[3].as<int64_t>(),
                  {}};
      if (!decode_record(row[4].as<std::string>(), k.response))
        return make_error(errc::store_failure,
                          name_ + ": undecodable idempotency result");
      result.push_back(std::move(k));
    }
    return result;
  } catch (const std::exception& e) {
    return make_error(errc::store_failure,
                      name_ + ": cannot read idempotency keys: " + e.what());
  }
}

caf::expected<order_record> pg_store::find_order(const order_id& id) const {
  try {
    pqxx::nontransaction n{*conn_};
    auto rows = n.exec_prepared("find_order", id);
    if (rows.empty())
      return make_error(errc::order_not_found, "no order " + id);
    order_record rec;
    if (!decode_record(rows[0][0].as<std::string>(), rec))
      return make_error(errc::store_failure,
                        name_ + ": undecodable record of order " + id);
    return rec;
  } catch (const std::exception& e) {
    return make_error(errc::store_failure,
                      name_ + ": cannot read order " + id + ": " + e.what());
  }
}

caf::expected<std::vector<order_record>>
pg_store::list_orders(const customer_id& customer, uint64_t offset,
                      uint64_t limit) const {
  try {
    pqxx::nontransaction n{*conn_};
    std::vector<order_record> result;
    for (auto row : n.exec_prepared("list_orders", customer, clamp(limit),
                                    clamp(offset))) {
      order_record rec;
      if (!decode_record(row[0].as<std::string>(), rec))
        return make_error(errc::store_failure,
                          name_ + ": undecodable order record");
      result.push_back(std::move(rec));
    }
    return result;
  } catch (const std::exception& e) {
    return make_error(errc::store_failure,
                      name_ + ": cannot list orders: " + e.what());
  }
}

} // namespace oms
