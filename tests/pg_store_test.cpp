// What only the PostgreSQL store has to prove on its own: a schema written
// by an older build is migrated in place. Runs when OMS_TEST_PG names a
// server (tools/with-postgres.sh starts one).
#include <doctest/doctest.h>

#include "tests/why.hpp"

#include <cstdlib>

#include <unistd.h>

#include <pqxx/pqxx>

#include "system/store/pg_store.hpp"

using namespace oms;
using namespace oms::test;

namespace {

// The schema as released at version 2 (migrations 0 -> 1 and 1 -> 2 of
// system/store/pg_dialect.cpp, copied as they were).
constexpr const char* schema_v2 = R"sql(
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

CREATE TABLE customers (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE,
  created_at BIGINT NOT NULL);
)sql";

} // namespace

TEST_CASE("a PostgreSQL store of schema version 2 is migrated: on-hand becomes "
          "the batch '' and each hold draws from it") {
  auto info = std::getenv("OMS_TEST_PG");
  if (info == nullptr) {
    MESSAGE("OMS_TEST_PG is not set: no PostgreSQL to test against");
    return;
  }
  auto schema = "m" + std::to_string(getpid());
  {
    pqxx::connection conn{info};
    pqxx::work w{conn};
    w.exec("DROP SCHEMA IF EXISTS " + w.quote_name(schema) + " CASCADE");
    w.exec("CREATE SCHEMA " + w.quote_name(schema));
    w.exec("SET search_path TO " + w.quote_name(schema));
    w.exec(schema_v2);
    w.exec(R"sql(
INSERT INTO oms_meta (key, value) VALUES ('schema_version', '2');
INSERT INTO events (seq, at, kind, sku, order_id, quantity, amount, payload)
  VALUES (1, 100, 'sku_created', 'b', '', 0, 1000, NULL),
         (2, 200, 'stock_received', 'b', '', 10, 0, NULL),
         (3, 300, 'stock_reserved', 'b', 'o1', 3, 0, NULL),
         (4, 400, 'sku_created', 'A', '', 0, 250, NULL),
         (5, 500, 'stock_received', 'A', '', 2, 0, NULL);
INSERT INTO skus (sku, unit_price, on_hand, received_total, consumed_total,
                  updated_at)
  VALUES ('b', 1000, 10, 10, 0, 200), ('A', 250, 2, 2, 0, 500),
         ('C', 10, 0, 0, 0, 600);
INSERT INTO holds (order_id, sku, quantity, kind) VALUES ('o1', 'b', 3,
  'RESERVED');
)sql");
    w.commit();
  }
  {
    auto store = pg_store::open(info, schema);
    REQUIRE_MESSAGE(store, why(store));
    CHECK((*store)->last_seq() == 5);
    auto state = (*store)->load();
    REQUIRE_MESSAGE(state, why(state));
    // In byte order, as the memory state sorts them: "A" < "C" < "b".
    REQUIRE(state->skus.size() == 3);
    auto& a = state->skus[0];
    CHECK(a.sku == "A");
    CHECK(a.updated_at == 500);
    CHECK(a.adjusted_total == 0);
    REQUIRE(a.batches.size() == 1);
    CHECK(a.batches[0].lot == "");
    CHECK(a.batches[0].on_hand == 2);
    CHECK(a.batches[0].unallocatable == std::vector<int64_t>{0, 0, 0, 0});
    CHECK(state->skus[1].sku == "C");
    CHECK(state->skus[1].batches.empty());
    auto& b = state->skus[2];
    CHECK(b.sku == "b");
    REQUIRE(b.batches.size() == 1);
    CHECK(b.batches[0].on_hand == 10);
    REQUIRE(state->holds.size() == 1);
    CHECK(state->holds[0].lots == std::vector<lot_allocation>{{"", 3}});
    // Releasing part of the old hold shrinks its batch allocation.
    event release;
    release.kind = event_kind::stock_released;
    release.at = 700;
    release.sku = "b";
    release.order = "o1";
    release.quantity = 1;
    REQUIRE(!(*store)->commit({release}));
  }
  pqxx::connection conn{info};
  pqxx::work w{conn};
  w.exec("SET search_path TO " + w.quote_name(schema));
  CHECK(w.exec("SELECT value FROM oms_meta WHERE key = 'schema_version'")[0][0]
            .as<std::string>() == "3");
  auto store = pg_store::open(info, schema);
  REQUIRE_MESSAGE(store, why(store));
  auto state = (*store)->load();
  REQUIRE_MESSAGE(state, why(state));
  REQUIRE(state->holds.size() == 1);
  CHECK(state->holds[0].quantity == 2);
  CHECK(state->holds[0].lots == std::vector<lot_allocation>{{"", 2}});
}
