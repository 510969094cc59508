// What only the PostgreSQL store has to prove on its own: a schema written
// by an older build is migrated in place, and a schema has one store at a
// time. Runs when OMS_TEST_PG names a server (tools/with-postgres.sh starts
// one).
#include <doctest/doctest.h>

#include "tests/why.hpp"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <future>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include <unistd.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <pqxx/pqxx>

#include "actors/order_plan.hpp" // stock_event
#include "messages/type_ids.hpp"
#include "system/cluster/leases.hpp"
#include "system/order_system.hpp"
#include "system/simulated_gateway.hpp"
#include "system/store/pg_store.hpp"
#include "tests/backends.hpp"
#include "tests/eventually.hpp"
#include "tests/order_events.hpp"
#include "tests/pg_schema.hpp"
#include "tests/together.hpp"

using namespace oms;
using namespace oms::test;

namespace {

// The schema as released at version 2 (migrations 0 -> 1 and 1 -> 2 of
// system/store/pg_dialect.cpp, copied as they were).
constexpr const char* pg_store_schema_v2 = R"sql(
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

// The server OMS_TEST_PG names, or null (saying so: the test is skipped).
const char* test_server() {
  auto info = std::getenv("OMS_TEST_PG");
  if (info == nullptr)
    MESSAGE("OMS_TEST_PG is not set: no PostgreSQL to test against");
  return info;
}

// A fresh, empty schema name of this test run.
std::string fresh_schema(const char* info, const std::string& prefix) {
  auto schema = prefix + std::to_string(getpid());
  drop_schema(info, schema);
  return schema;
}

// Opens the store on `schema`, which must succeed.
std::unique_ptr<pg_store> pg_store_open_ok(const std::string& info,
                                           const std::string& schema) {
  auto s = pg_store::open(info, schema);
  REQUIRE_MESSAGE(s, why(s));
  return std::move(*s);
}

// A test's schema: a fresh one and a store on it holding one event.
struct schema_case {
  std::string info;
  std::string schema;
  std::unique_ptr<pg_store> store;
};

// The schema `prefix` and this process's pid; with `path_in_conninfo`, the
// store connects with the search path in its connection string, as any
// new session would then have it. Nothing without a server (the test is
// skipped then).
std::optional<schema_case> one_event_store(const std::string& prefix,
                                           bool path_in_conninfo = false) {
  auto server = test_server();
  if (server == nullptr)
    return std::nullopt;
  schema_case c{server, fresh_schema(server, prefix), nullptr};
  auto conninfo = c.info;
  if (path_in_conninfo)
    conninfo += " options='-c search_path=" + c.schema + "'";
  c.store = pg_store_open_ok(conninfo, c.schema);
  REQUIRE(!c.store->commit({receipt_event("A", 1)}));
  return c;
}

// Ends the server sessions this process opened (our stores' connections),
// as a lost network or a restarted server would, and waits until they are
// gone.
void cut_our_sessions(const std::string& info) {
  pqxx::connection conn{info};
  pqxx::nontransaction n{conn};
  auto cut = n.exec("SELECT count(pg_terminate_backend(pid, 5000)) FROM "
                    "pg_stat_activity WHERE pid <> pg_backend_pid() AND "
                    "application_name LIKE " +
                    n.quote("% pid=" + std::to_string(getpid()) + " %"));
  REQUIRE(cut[0][0].as<int>() >= 1);
}

} // namespace

TEST_CASE("a second PostgreSQL store on the same schema is refused, naming "
          "the holder, and opens once the first is closed") {
  // Proves the advisory lock: one store per schema (per database), the
  // holder named as pg_stat_activity shows it, the lock gone with the store.
  auto c = one_event_store("own");
  if (!c)
    return;
  auto& [info, schema, first] = *c;
  auto second = pg_store::open(info, schema);
  REQUIRE_FALSE(second);
  CHECK(code_of(second.error()) == errc::store_failure);
  auto message = message_of(second.error());
  INFO(message);
  CHECK(message.find("/" + schema + ": the schema " + schema +
                     " is in use by another omsd: \"oms_tests pid=" +
                     std::to_string(getpid()) + " host=") != std::string::npos);
  CHECK(message.find("(PostgreSQL backend pid ") != std::string::npos);
  // Another schema is another store.
  auto other = pg_store_open_ok(info, fresh_schema(info.c_str(), "own_other"));
  first.reset();
  auto again = pg_store_open_ok(info, schema);
  CHECK(again->last_seq() == 1);
  CHECK(!again->commit({receipt_event("A", 2)}));
}

TEST_CASE("a PostgreSQL store that lost its session commits nothing while "
          "another store holds the schema, and nothing more once the log "
          "moved on without it") {
  // Proves that ownership is the session's: a reconnect takes the lock
  // again or fails naming the holder, and a store whose log was written by
  // another one meanwhile stops for good.
  auto c = one_event_store("lost");
  if (!c)
    return;
  auto& [info, schema, a] = *c;
  cut_our_sessions(info);
  auto b = pg_store_open_ok(info, schema);
  auto refused = a->commit({receipt_event("A", 2)});
  REQUIRE(refused);
  CHECK(code_of(refused) == errc::store_failure);
  CHECK_MESSAGE(
      message_of(refused).find("reconnecting failed: the schema " + schema +
                               " is in use by another omsd: "
                               "\"oms_tests pid=") != std::string::npos,
      message_of(refused));
  REQUIRE(!b->commit({receipt_event("B", 1)}));
  b.reset();
  // The schema is free again, but its log is no longer what `a` knows.
  for (int i = 0; i < 2; ++i) {
    auto stale = a->commit({receipt_event("A", 3)});
    REQUIRE(stale);
    CHECK_MESSAGE(message_of(stale).find("the event log moved on to seq 2 "
                                         "while this store was at seq 1: "
                                         "another store wrote") !=
                      std::string::npos,
                  message_of(stale));
  }
  a.reset();
  // A store that only lost its session takes the lock again and carries on:
  // the batch that met the broken connection fails, the next one lands.
  auto d = pg_store_open_ok(info, schema);
  cut_our_sessions(info);
  auto lost = d->commit({receipt_event("D", 1)});
  CHECK(lost);
  CHECK(!d->commit({receipt_event("D", 2)}));
  CHECK(d->last_seq() == 3);
  auto log = d->read(1, 10);
  REQUIRE_MESSAGE(log, why(log));
  REQUIRE(log->size() == 3);
  CHECK(log->back().quantity == 2);
}

TEST_CASE("a PostgreSQL store does not go on in a session it did not open "
          "and lock") {
  // Proves that a lost session is not replaced behind the store's back
  // (libpqxx 6 would reconnect on the next use, without the lock): the
  // connection string names the schema, so that such a session would
  // find the tables and commit.
  auto c = one_event_store("again", true);
  if (!c)
    return;
  auto& [info, schema, a] = *c;
  cut_our_sessions(info);
  for (int i = 0; i < 3; ++i) {
    CHECK_FALSE(a->read(1, 10));
    CHECK_FALSE(a->find_order("o1"));
  }
  auto b = pg_store_open_ok(info, schema);
  auto err = a->commit({receipt_event("A", 2)});
  CHECK(err);
  CHECK(b->last_seq() == 1);
}

TEST_CASE("a PostgreSQL store does not take another writer's events for its "
          "own batch") {
  // Proves that a commit that failed on a live session counts as landed
  // only if the log holds its own events: here a writer that takes no lock
  // (as omsd before the lock) wrote as many events at the same seq.
  auto c = one_event_store("other");
  if (!c)
    return;
  auto& [info, schema, store] = *c;
  {
    pqxx::connection conn{info};
    pqxx::work w{conn};
    w.exec("INSERT INTO " + w.quote_name(schema) +
           ".events (seq, at, kind, sku, order_id, quantity, amount) VALUES "
           "(2, 1, 'stock_received', 'Z', '', 7, 0)");
    w.commit();
  }
  auto err = store->commit({receipt_event("A", 2)});
  REQUIRE(err);
  CHECK_MESSAGE(message_of(err).find("the event log moved on to seq 2 while "
                                     "this store was at seq 1") !=
                    std::string::npos,
                message_of(err));
  CHECK(store->commit({receipt_event("A", 3)}));
}

TEST_CASE("a PostgreSQL store of schema version 2 is migrated: on-hand becomes "
          "the batch '' and each hold draws from it") {
  auto info = test_server();
  if (info == nullptr)
    return;
  auto schema = "m" + std::to_string(getpid());
  {
    pqxx::connection conn{info};
    pqxx::work w{conn};
    w.exec("DROP SCHEMA IF EXISTS " + w.quote_name(schema) + " CASCADE");
    w.exec("CREATE SCHEMA " + w.quote_name(schema));
    w.exec("SET search_path TO " + w.quote_name(schema));
    w.exec(pg_store_schema_v2);
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
    // Versions count the SKUs' own changes in the log, not the holds.
    CHECK(a.version == 2);
    CHECK(state->skus[1].version == 0);
    CHECK(state->skus[2].version == 2);
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
            .as<std::string>() == std::to_string(pg_store::schema_version));
  auto store = pg_store::open(info, schema);
  REQUIRE_MESSAGE(store, why(store));
  auto state = (*store)->load();
  REQUIRE_MESSAGE(state, why(state));
  REQUIRE(state->holds.size() == 1);
  CHECK(state->holds[0].quantity == 2);
  CHECK(state->holds[0].lots == std::vector<lot_allocation>{{"", 2}});
}

TEST_CASE("a fenced PostgreSQL store commits only while its node holds the "
          "shard's lease, and a refused commit writes nothing") {
  auto c = one_event_store("fenced");
  if (!c)
    return;
  auto cluster_schema = c->schema + "_cluster";
  drop_schema(c->info, cluster_schema);
  using namespace std::chrono_literals;
  cluster::lease_table leases{c->info, cluster_schema, 4, 1000ms};
  auto epoch = leases.acquire(0, "node-a", 3000ms);
  REQUIRE(epoch);
  c->store->set_fence(
      [cluster_schema, e = *epoch](
          pqxx::transaction_base& tx,
          const std::vector<event>&) -> std::optional<pg_store::fence_pass> {
        if (!cluster::lease_table::fenced(tx, cluster_schema, 0, "node-a", e))
          return std::nullopt;
        return pg_store::fence_pass{"node-a", {{0, e}}};
      },
      "node-a's lease on shard 0");
  CHECK_FALSE(c->store->commit({receipt_event("A", 2)}));
  CHECK(c->store->last_seq() == 2);
  // node-b takes the shard over (node-a paused past its TTL, say).
  {
    pqxx::connection conn{c->info};
    pqxx::work w{conn};
    w.exec("UPDATE " + w.quote_name(cluster_schema) +
           ".cluster_shards SET expires_at = '-infinity' WHERE shard = 0");
    w.commit();
  }
  cluster::lease_table other{c->info, cluster_schema, 4, 1000ms};
  REQUIRE(other.acquire(0, "node-b", 3000ms));
  auto refused = c->store->commit({receipt_event("A", 4)});
  REQUIRE(refused);
  CHECK(why(refused).find("no longer holds") != std::string::npos);
  CHECK(code_of(refused) == errc::not_owner);
  CHECK(c->store->last_seq() == 2);
  auto state = c->store->load();
  REQUIRE_MESSAGE(state, why(state));
  REQUIRE(state->skus.size() == 1);
  CHECK(state->skus[0].on_hand == 3);
}

namespace {

// A store opened as one of the shared writers of `schema`.
std::unique_ptr<pg_store> shared_ok(const std::string& info,
                                    const std::string& schema) {
  auto s = pg_store::open_shared(info, schema);
  REQUIRE_MESSAGE(s, why(s));
  return std::move(*s);
}

} // namespace

TEST_CASE("shared PostgreSQL stores: writers of one schema number their "
          "events in one sequence in commit order and read each other's, "
          "and no store opens alone beside them") {
  auto info = test_server();
  if (info == nullptr)
    return;
  auto schema = fresh_schema(info, "shared_");
  auto a = shared_ok(info, schema);
  auto b = shared_ok(info, schema);
  REQUIRE(!a->commit({receipt_event("A", 2)}));
  REQUIRE(!b->commit({receipt_event("B", 3), receipt_event("B", 1)}));
  REQUIRE(!a->commit({receipt_event("A", 1)}));
  CHECK(a->last_seq() == 4);
  CHECK(b->last_seq() == 3);
  // Where the log ends: the last event any writer committed.
  CHECK(b->shared_log());
  auto end = b->log_end();
  REQUIRE_MESSAGE(end, why(end));
  CHECK(*end == 4);
  auto log = b->read(1, 10);
  REQUIRE_MESSAGE(log, why(log));
  REQUIRE(log->size() == 4);
  CHECK(log->at(0).sku == "A");
  CHECK(log->at(1).sku == "B");
  CHECK(log->at(2).sku == "B");
  CHECK(log->at(3).sku == "A");
  auto state = b->load();
  REQUIRE_MESSAGE(state, why(state));
  REQUIRE(state->skus.size() == 2);
  for (auto& sku : state->skus)
    CHECK(sku.on_hand == (sku.sku == "A" ? 3 : 4));
  // A store that would own the schema alone is refused while they write.
  auto alone = pg_store::open(info, schema);
  REQUIRE_FALSE(alone);
  CHECK(why(alone).find("in use by another omsd") != std::string::npos);
  // Opened again later, a writer goes on after the last number.
  b.reset();
  auto c = shared_ok(info, schema);
  CHECK(c->last_seq() == 4);
  REQUIRE(!c->commit({receipt_event("C", 1)}));
  CHECK(c->last_seq() == 5);
}

TEST_CASE("shared PostgreSQL stores: writers opening a fresh schema at the "
          "same instant all open it, made and migrated once") {
  auto info = test_server();
  if (info == nullptr)
    return;
  // Four writers per schema, released together, on schemas no one made
  // yet: each must find the others' tables, however their steps interleave.
  for (int round = 0; round < 12; ++round) {
    auto schema = fresh_schema(info, "together_");
    constexpr int writers = 4;
    std::vector<std::string> failures(writers);
    std::vector<uint64_t> heads(writers, 0);
    oms::test::run_together(writers, [&](int i) {
      auto s = pg_store::open_shared(info, schema);
      if (!s)
        failures[i] = why(s);
      else
        heads[i] = (*s)->last_seq();
    });
    for (int i = 0; i < writers; ++i) {
      CAPTURE(round);
      CHECK_MESSAGE(failures[i].empty(), failures[i]);
      CHECK(heads[i] == 0);
    }
  }
}

TEST_CASE("shared PostgreSQL stores: writers committing at once leave one "
          "log without a gap, each batch in one piece") {
  auto info = test_server();
  if (info == nullptr)
    return;
  auto schema = fresh_schema(info, "shared_race_");
  constexpr int batches = 60;
  constexpr int per_batch = 3;
  std::vector<std::unique_ptr<pg_store>> writers;
  for (int i = 0; i < 3; ++i)
    writers.push_back(shared_ok(info, schema));
  std::vector<std::thread> threads;
  std::atomic<int> failed{0};
  for (size_t w = 0; w < writers.size(); ++w)
    threads.emplace_back([&, w] {
      for (int n = 0; n < batches; ++n) {
        std::vector<event> batch;
        for (int k = 0; k < per_batch; ++k)
          batch.push_back(receipt_event("W" + std::to_string(w), 1));
        if (writers[w]->commit(batch))
          ++failed;
      }
    });
  for (auto& t : threads)
    t.join();
  REQUIRE(failed == 0);
  auto log = writers[0]->read(1, 10'000);
  REQUIRE_MESSAGE(log, why(log));
  REQUIRE(log->size() == writers.size() * batches * per_batch);
  // Each batch's events are consecutive: the log reads as runs of one
  // writer's SKU, of a multiple of the batch's length.
  size_t run = 0;
  for (size_t i = 0; i < log->size(); ++i) {
    ++run;
    bool ends = i + 1 == log->size() || log->at(i + 1).sku != log->at(i).sku;
    if (ends) {
      CHECK(run % per_batch == 0);
      run = 0;
    }
  }
  auto state = writers[1]->load();
  REQUIRE_MESSAGE(state, why(state));
  REQUIRE(state->skus.size() == writers.size());
  for (auto& sku : state->skus)
    CHECK(sku.on_hand == batches * per_batch);
}

TEST_CASE("shared PostgreSQL stores: writers creating orders at once give "
          "each order the number of the event that created it as its "
          "ordinal, whatever the order of their commits") {
  auto info = test_server();
  if (info == nullptr)
    return;
  auto schema = fresh_schema(info, "shared_ordinal_");
  std::vector<std::unique_ptr<pg_store>> writers;
  for (int i = 0; i < 3; ++i)
    writers.push_back(shared_ok(info, schema));
  REQUIRE(
      !writers[0]->commit({receipt_event("W0", 100), receipt_event("W1", 100),
                           receipt_event("W2", 100)}));
  constexpr int batches = 20;
  std::atomic<int> failed{0};
  // An order's record changed (confirmed): its row is written again, and
  // must keep the ordinal it was created with.
  auto changed = [](const event& created) {
    event ev = created;
    ev.kind = event_kind::order_changed;
    ev.at = 2;
    ev.snapshot.status = order_status::confirmed;
    ev.snapshot.updated_at = 2;
    return ev;
  };
  oms::test::run_together(3, [&](int w) {
    std::optional<event> last_round;
    for (int n = 0; n < batches; ++n) {
      // Each batch: the last batch's first order changed; two orders
      // created, the second changed again in the batch (its row written
      // twice before it is numbered); and a third order's creation as the
      // batch's last event (the top of the provisional numbers).
      std::vector<event> batch;
      auto sku = "W" + std::to_string(w);
      auto id = "ord_" + sku + "_" + std::to_string(n);
      if (last_round)
        batch.push_back(changed(*last_round));
      add_order_events(batch, id + "a", sku, "cus_" + sku, 1);
      last_round = batch[batch.size() - 2];
      add_order_events(batch, id + "b", sku, "cus_" + sku, 1);
      batch.push_back(changed(batch[batch.size() - 2]));
      std::vector<event> third;
      add_order_events(third, id + "c", sku, "cus_" + sku, 1);
      batch.push_back(third.front());
      if (writers[static_cast<size_t>(w)]->commit(batch))
        ++failed;
    }
  });
  REQUIRE(failed == 0);
  pqxx::connection c{info};
  pqxx::work tx{c};
  std::map<std::string, int64_t> created_at_seq;
  for (auto row : tx.exec("SELECT order_id, seq FROM " + tx.quote_name(schema) +
                          ".events WHERE kind = 'order_created'"))
    created_at_seq[row[0].as<std::string>()] = row[1].as<int64_t>();
  REQUIRE(created_at_seq.size() == 3 * batches * 3);
  size_t checked = 0;
  for (auto row : tx.exec("SELECT id, ordinal FROM " + tx.quote_name(schema) +
                          ".orders")) {
    auto id = row[0].as<std::string>();
    CAPTURE(id);
    REQUIRE(created_at_seq.count(id) == 1);
    CHECK(row[1].as<int64_t>() == created_at_seq[id]);
    ++checked;
  }
  CHECK(checked == created_at_seq.size());
  // The admin search lists them newest first by that number.
  auto hits = writers[1]->search_orders(order_query{});
  REQUIRE_MESSAGE(hits, why(hits));
  REQUIRE(!hits->orders.empty());
  auto newest = std::max_element(
      created_at_seq.begin(), created_at_seq.end(),
      [](const auto& x, const auto& y) { return x.second < y.second; });
  CHECK(hits->orders.front().id == newest->first);
}

namespace {

// Who waits for whom, by the server's own account (pg_blocking_pids): the
// sessions that `pid`'s session blocks.
std::vector<int> sessions_blocked_by(pqxx::connection& admin, int pid) {
  pqxx::nontransaction n{admin};
  std::vector<int> pids;
  for (auto row : n.exec("SELECT pid FROM pg_stat_activity WHERE " +
                         std::to_string(pid) + " = ANY(pg_blocking_pids(pid))"))
    pids.push_back(row[0].as<int>());
  return pids;
}

} // namespace

TEST_CASE("shared PostgreSQL stores: two writers whose commits meet in a "
          "deadlock on the same rows both commit, one of them tried again") {
  auto info = test_server();
  if (info == nullptr)
    return;
  auto schema = fresh_schema(info, "shared_deadlock_");
  auto a = shared_ok(info, schema);
  auto b = shared_ok(info, schema);
  REQUIRE(!a->commit(
      {receipt_event("X", 1), receipt_event("Y", 1), receipt_event("Z", 1)}));
  pqxx::connection admin{info};
  auto deadlocks = [&] {
    pqxx::nontransaction n{admin};
    return n
        .exec1("SELECT deadlocks FROM pg_stat_database WHERE datname = "
               "current_database()")[0]
        .as<int64_t>();
  };
  auto deadlocks_before = deadlocks();
  // A third session holds Z's row. A writes X, then waits for Z; B writes
  // Y, then waits for X (A's); once both wait (as the server says, not as
  // a clock guesses), Z is let go, A goes on to Y (B's): each waits for the
  // other, and the server rolls one back.
  pqxx::connection holder{info};
  pqxx::work hold{holder};
  hold.exec("SELECT on_hand FROM " + hold.quote_name(schema) +
            ".skus WHERE sku = 'Z' FOR UPDATE");
  auto committed_a = std::async(std::launch::async, [&] {
    return a->commit(
        {receipt_event("X", 1), receipt_event("Z", 1), receipt_event("Y", 1)});
  });
  auto blocked_by = [&](int pid) {
    return sessions_blocked_by(admin, pid);
  };
  auto holder_pid = hold.exec1("SELECT pg_backend_pid()")[0].as<int>();
  REQUIRE(eventually([&] { return blocked_by(holder_pid).size() == 1; },
                     std::chrono::seconds(30)));
  auto a_pid = blocked_by(holder_pid).front();
  auto committed_b = std::async(std::launch::async, [&] {
    return b->commit({receipt_event("Y", 1), receipt_event("X", 1)});
  });
  REQUIRE(eventually([&] { return blocked_by(a_pid).size() == 1; },
                     std::chrono::seconds(30)));
  hold.abort();
  auto err_a = committed_a.get();
  auto err_b = committed_b.get();
  CHECK_MESSAGE(!err_a, to_string(err_a));
  CHECK_MESSAGE(!err_b, to_string(err_b));
  // The server counts it once the losing session reports (PostgreSQL 15:
  // at most a second after its transaction, 10 s when idle).
  CHECK(eventually([&] { return deadlocks() > deadlocks_before; },
                   std::chrono::seconds(30), std::chrono::milliseconds(100)));
  // Both batches, each in one piece, and every unit counted once.
  auto log = a->read(1, 100);
  REQUIRE_MESSAGE(log, why(log));
  REQUIRE(log->size() == 8);
  auto state = b->load();
  REQUIRE_MESSAGE(state, why(state));
  for (auto& sku : state->skus)
    CHECK(sku.on_hand == (sku.sku == "Z" ? 2 : 3));
}

TEST_CASE("shared PostgreSQL stores: two writers releasing units of one "
          "hold at once both count, neither write lost") {
  auto info = test_server();
  if (info == nullptr)
    return;
  auto schema = fresh_schema(info, "shared_hold_");
  auto a = shared_ok(info, schema);
  auto b = shared_ok(info, schema);
  REQUIRE(!a->commit(
      {receipt_event("H", 10),
       stock_event(event_kind::stock_reserved, 1000, "H", "ord_H", 10)}));
  auto release = [](int64_t units) {
    return stock_event(event_kind::stock_released, 1000, "H", "ord_H", units);
  };
  // A third session holds the hold's row while both writers come to it, so
  // both have read it before either writes, unless reading it waits too.
  pqxx::connection admin{info};
  pqxx::connection holder{info};
  pqxx::work hold{holder};
  hold.exec("SELECT quantity FROM " + hold.quote_name(schema) +
            ".holds WHERE order_id = 'ord_H' FOR UPDATE");
  auto holder_pid = hold.exec1("SELECT pg_backend_pid()")[0].as<int>();
  auto released_a =
      std::async(std::launch::async, [&] { return a->commit({release(3)}); });
  REQUIRE(eventually(
      [&] { return sessions_blocked_by(admin, holder_pid).size() == 1; },
      std::chrono::seconds(30)));
  auto a_pid = sessions_blocked_by(admin, holder_pid).front();
  // B waits behind the holder, or behind A.
  auto released_b =
      std::async(std::launch::async, [&] { return b->commit({release(2)}); });
  auto b_waits = [&] {
    std::set<int> waiting;
    for (auto pid : {holder_pid, a_pid})
      for (auto w : sessions_blocked_by(admin, pid))
        if (w != a_pid)
          waiting.insert(w);
    return waiting.size() == 1;
  };
  REQUIRE(eventually(b_waits, std::chrono::seconds(30)));
  hold.abort();
  auto err_a = released_a.get();
  auto err_b = released_b.get();
  CHECK_MESSAGE(!err_a, to_string(err_a));
  CHECK_MESSAGE(!err_b, to_string(err_b));
  // The log says 10 - 3 - 2 units are held; so must the table.
  pqxx::work tx{admin};
  auto left = tx.exec("SELECT quantity FROM " + tx.quote_name(schema) +
                      ".holds WHERE order_id = 'ord_H'");
  REQUIRE(left.size() == 1);
  CHECK(left[0][0].as<int64_t>() == 5);
}

TEST_CASE("shared PostgreSQL stores: a commit is fenced by the leases of "
          "the shards its batch touches, and a refused one takes no number") {
  auto info = test_server();
  if (info == nullptr)
    return;
  auto schema = fresh_schema(info, "shared_fence_");
  auto cluster_schema = fresh_schema(info, "shared_fence_cl_");
  using namespace std::chrono_literals;
  constexpr uint32_t shards = 8;
  cluster::lease_table leases{info, cluster_schema, shards, 1000ms};
  auto a = shared_ok(info, schema);
  auto b = shared_ok(info, schema);
  // Each writer commits through the fence of every shard its batch
  // touches, with the epoch it took each with.
  auto fence_for = [&](const std::string& node,
                       std::shared_ptr<std::map<uint32_t, int64_t>> held) {
    return [node, held, cluster_schema](pqxx::transaction_base& tx,
                                        const std::vector<event>& batch)
               -> std::optional<pg_store::fence_pass> {
      std::set<uint32_t> touched;
      for (auto& ev : batch)
        touched.insert(cluster::shard_of(ev.sku, shards));
      pg_store::fence_pass pass{node, {}};
      for (auto shard : touched) {
        auto i = held->find(shard);
        if (i == held->end() || !cluster::lease_table::fenced(
                                    tx, cluster_schema, shard, node, i->second))
          return std::nullopt;
        pass.shards.emplace_back(shard, i->second);
      }
      return pass;
    };
  };
  auto held_a = std::make_shared<std::map<uint32_t, int64_t>>();
  auto held_b = std::make_shared<std::map<uint32_t, int64_t>>();
  auto shard_x = cluster::shard_of("X", shards);
  auto taken = leases.acquire(shard_x, "node-a", 3000ms);
  REQUIRE(taken);
  (*held_a)[shard_x] = *taken;
  a->set_fence(fence_for("node-a", held_a), "node-a's leases");
  b->set_fence(fence_for("node-b", held_b), "node-b's leases");
  REQUIRE(!a->commit({receipt_event("X", 5)}));
  // node-b holds no lease on X's shard: refused, nothing written.
  auto refused = b->commit({receipt_event("X", 7)});
  REQUIRE(refused);
  CHECK(why(refused).find("node-b's leases no longer holds") !=
        std::string::npos);
  // node-b takes the shard over (node-a paused past its TTL): now a's
  // commit is refused and b's goes through with the next number.
  {
    pqxx::connection conn{info};
    pqxx::work w{conn};
    w.exec("UPDATE " + w.quote_name(cluster_schema) +
           ".cluster_shards SET expires_at = '-infinity' WHERE shard = " +
           std::to_string(shard_x));
    w.commit();
  }
  auto took = leases.acquire(shard_x, "node-b", 3000ms);
  REQUIRE(took);
  (*held_b)[shard_x] = *took;
  CHECK(a->commit({receipt_event("X", 100)}));
  REQUIRE(!b->commit({receipt_event("X", 1)}));
  REQUIRE(!b->commit({receipt_event("X", 2), receipt_event("X", 3)}));
  CHECK(b->last_seq() == 4);
  auto state = b->load();
  REQUIRE_MESSAGE(state, why(state));
  REQUIRE(state->skus.size() == 1);
  CHECK(state->skus[0].on_hand == 11);
  // The log's epochs: each writer's, with the numbers it committed under
  // it, none of the refused commits'.
  pqxx::connection conn{info};
  pqxx::work w{conn};
  auto rows =
      w.exec("SELECT shard, epoch, node, first_seq, last_seq FROM " +
             w.quote_name(schema) + ".oms_log_epochs ORDER BY first_seq");
  REQUIRE(rows.size() == 2);
  CHECK(rows[0][0].as<uint32_t>() == shard_x);
  CHECK(rows[0][1].as<int64_t>() == *taken);
  CHECK(rows[0][2].as<std::string>() == "node-a");
  CHECK(rows[0][3].as<int64_t>() == 1);
  CHECK(rows[0][4].as<int64_t>() == 1);
  CHECK(rows[1][1].as<int64_t>() == *took);
  CHECK(rows[1][2].as<std::string>() == "node-b");
  CHECK(rows[1][3].as<int64_t>() == 2);
  CHECK(rows[1][4].as<int64_t>() == 4);
  w.commit();
  // Pruned with the log: the log keeps its newest event (4), so node-a's
  // epoch (events 1 to 1) goes, node-b's (2 to 4) stays.
  auto gone = b->prune(std::numeric_limits<timestamp_ms>::max(), 100);
  REQUIRE_MESSAGE(gone, why(gone));
  CHECK(*gone == 3);
  pqxx::work after{conn};
  auto left = after.exec("SELECT node, first_seq FROM " +
                         after.quote_name(schema) + ".oms_log_epochs");
  REQUIRE(left.size() == 1);
  CHECK(left[0][0].as<std::string>() == "node-b");
  CHECK(left[0][1].as<int64_t>() == 2);
}

TEST_CASE("shared PostgreSQL stores: a writer that lost its session opens a "
          "new one and goes on after the other writers' events") {
  auto info = test_server();
  if (info == nullptr)
    return;
  auto schema = fresh_schema(info, "shared_lost_");
  auto a = shared_ok(info, schema);
  REQUIRE(!a->commit({receipt_event("A", 1)}));
  cut_our_sessions(info);
  auto b = shared_ok(info, schema);
  REQUIRE(!b->commit({receipt_event("B", 1)}));
  // The batch that meets the broken connection fails (nothing of it
  // landed); the next one, on a new session, lands after b's.
  auto lost = a->commit({receipt_event("A", 2)});
  CHECK(lost);
  REQUIRE(!a->commit({receipt_event("A", 3)}));
  CHECK(a->last_seq() == 3);
  auto log = b->read(1, 10);
  REQUIRE_MESSAGE(log, why(log));
  REQUIRE(log->size() == 3);
  CHECK(log->at(2).sku == "A");
  CHECK(log->at(2).quantity == 3);
}

TEST_CASE("shared PostgreSQL stores: a writer whose session the server "
          "ended reads again on a new one (as after a restart of "
          "PostgreSQL), without a commit first") {
  auto info = test_server();
  if (info == nullptr)
    return;
  auto schema = fresh_schema(info, "shared_read_");
  auto a = shared_ok(info, schema);
  REQUIRE(!a->commit({receipt_event("A", 4)}));
  cut_our_sessions(info);
  // A node taking a shard reads first: that read must not fail for good.
  auto state = a->load();
  REQUIRE_MESSAGE(state, why(state));
  REQUIRE(state->skus.size() == 1);
  CHECK(state->skus[0].on_hand == 4);
  auto sku = a->load_sku("A");
  REQUIRE_MESSAGE(sku, why(sku));
  CHECK(sku->state.on_hand == 4);
  REQUIRE(!a->commit({receipt_event("A", 1)}));
  CHECK(a->last_seq() == 2);
}

TEST_CASE("shared PostgreSQL stores: a writer stalled in the middle of a "
          "commit holding the log head's lock loses its session, so the "
          "other writers go on, and its batch is answered as failed") {
  auto info = test_server();
  if (info == nullptr)
    return;
  auto schema = fresh_schema(info, "shared_stall_");
  auto a = shared_ok(info, schema);
  auto b = shared_ok(info, schema);
  REQUIRE(!a->commit({receipt_event("A", 1)}));
  // a's commit takes the head's lock (as its own numbering would), then
  // its client stops sending, as a frozen node's would: it waits until the
  // server has ended its session (at most a minute).
  std::atomic<bool> locked{false};
  std::atomic<bool> ended{false};
  a->set_fence(
      [&](pqxx::transaction_base& tx, const std::vector<event>&) {
        auto pid = tx.exec1("SELECT pg_backend_pid()")[0].as<int>();
        tx.exec("SELECT last FROM oms_log_head WHERE id = 1 FOR UPDATE");
        locked = true;
        pqxx::connection watch{info};
        auto deadline =
            std::chrono::steady_clock::now() + std::chrono::minutes(1);
        while (std::chrono::steady_clock::now() < deadline) {
          pqxx::nontransaction n{watch};
          if (n.exec1("SELECT count(*) FROM pg_stat_activity WHERE pid = " +
                      std::to_string(pid))[0]
                  .as<int64_t>() == 0) {
            ended = true;
            break;
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        return std::optional<pg_store::fence_pass>{pg_store::fence_pass{}};
      },
      "a stalling check");
  caf::error stalled;
  std::thread t{[&] {
    stalled = a->commit({receipt_event("A", 2)});
  }};
  // b's commit needs the head's lock: it gets it once a's session is gone.
  auto until = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  while (!locked && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  REQUIRE(locked);
  REQUIRE(!b->commit({receipt_event("B", 3)}));
  t.join();
  CHECK(ended);
  CHECK(stalled);
  auto log = b->read(1, 10);
  REQUIRE_MESSAGE(log, why(log));
  REQUIRE(log->size() == 2);
  CHECK(log->at(1).sku == "B");
}

TEST_CASE("the reads that need no commit first are answered from the "
          "journal's reader while a commit waits, and see what was "
          "committed") {
  auto c = one_event_store("reader");
  if (!c)
    return;
  using namespace std::chrono_literals;
  // A commit's check that waits, once armed, until it is let go: the
  // journal's thread stays inside that commit meanwhile.
  std::atomic<bool> armed{false};
  std::atomic<bool> inside{false};
  std::promise<void> let_go;
  auto released = let_go.get_future().share();
  c->store->set_fence(
      [&, released](pqxx::transaction_base&, const std::vector<event>&) {
        if (armed) {
          inside = true;
          released.wait_for(60s);
        }
        return std::optional<pg_store::fence_pass>{pg_store::fence_pass{}};
      },
      "a check that waits");
  caf::actor_system_config cfg;
  cfg.set("logger.console-verbosity", caf::atom("quiet"));
  register_types(cfg);
  caf::actor_system sys{cfg};
  settings s;
  s.request_timeout = 20s;
  order_system oms{sys, s, std::shared_ptr<journal_store>{std::move(c->store)},
                   std::make_shared<simulated_gateway>()};
  REQUIRE(oms.add_item_to_inventory("R-1", 10, 500));
  address to{"1 Main St", "", "Pune", "411001", "IN"};
  auto placed = oms.create_order("alice", {{"R-1", 2}}, to, "k-1");
  REQUIRE_MESSAGE(placed, why(placed));
  caf::scoped_actor self{sys};
  // An inbound change's id, recorded.
  auto recorded = receipt_event("R-2", 1);
  recorded.inbox_id = "in-1";
  bool appended = false;
  self->request(oms.journal(), 20s, atom::append_v,
                std::vector<event>{recorded})
      .receive([&](uint64_t) { appended = true; },
               [&](caf::error& err) { FAIL(describe(err)); });
  REQUIRE(appended);
  // A commit that waits: the journal's thread is inside it from now on.
  armed = true;
  auto waiting = receipt_event("R-3", 1);
  waiting.inbox_id = "in-2";
  self->send(oms.journal(), atom::append_v, std::vector<event>{waiting});
  REQUIRE(eventually([&] { return inside.load(); }, 20s));
  // Answered all the same, from what was committed: a customer's orders
  // (through the CUSTOMER actor), the admin search, an idempotency key
  // and an inbound change's id.
  auto page = oms.list_orders("alice");
  CHECK_MESSAGE(page, why(page));
  if (page) {
    REQUIRE(page->orders.size() == 1);
    CHECK(page->orders[0].id == placed->id);
  }
  std::optional<size_t> hits;
  self->request(oms.journal_reads(), 20s, atom::search_v, order_query{})
      .receive([&](order_hits& found) { hits = found.orders.size(); },
               [&](caf::error& err) { FAIL(describe(err)); });
  CHECK(hits == std::optional<size_t>{1});
  std::optional<size_t> keys;
  self->request(oms.journal_reads(), 20s, atom::lookup_v, customer_id{"alice"},
                std::string{"k-1"})
      .receive([&](std::vector<key_state>& found) { keys = found.size(); },
               [&](caf::error& err) { FAIL(describe(err)); });
  CHECK(keys == std::optional<size_t>{1});
  std::optional<bool> knows_1, knows_2;
  self->request(oms.journal_reads(), 20s, atom::lookup_v, std::string{"in-1"})
      .receive([&](bool known) { knows_1 = known; },
               [&](caf::error& err) { FAIL(describe(err)); });
  self->request(oms.journal_reads(), 20s, atom::lookup_v, std::string{"in-2"})
      .receive([&](bool known) { knows_2 = known; },
               [&](caf::error& err) { FAIL(describe(err)); });
  CHECK(knows_1 == std::optional<bool>{true});
  CHECK(knows_2 == std::optional<bool>{false});
  // All of it while the commit still waited.
  CHECK(released.wait_for(0s) == std::future_status::timeout);
  let_go.set_value();
  // Once committed, in-2 is known too.
  CHECK(eventually(
      [&] {
        bool known = false;
        self->request(oms.journal_reads(), 20s, atom::lookup_v,
                      std::string{"in-2"})
            .receive([&](bool k) { known = k; }, [](caf::error&) {});
        return known;
      },
      20s));
}
