// Shard leases with fencing tokens in PostgreSQL (system/cluster/leases.hpp):
// who may take a shard and when, renewal, hand-back, a fixed number of
// shards, and the fence a commit takes, against a real server. Runs when
// OMS_TEST_PG names one (tools/with-postgres.sh starts one).
#include <doctest/doctest.h>

#include <thread>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>

#include <unistd.h>

#include <pqxx/pqxx>

#include "actors/shard_map.hpp"
#include "messages/wms_protocol.hpp"
#include "system/cluster/leases.hpp"
#include "system/daemon/cluster_node.hpp"
#include "system/daemon/webhooks.hpp"
#include "tests/pg_schema.hpp"
#include "tests/together.hpp"

using namespace oms::cluster;
using namespace std::chrono_literals;

namespace {

const char* lease_server() {
  auto info = std::getenv("OMS_TEST_PG");
  if (info == nullptr)
    MESSAGE("OMS_TEST_PG is not set: no PostgreSQL to test against");
  return info;
}

// A fresh, empty schema of this test run.
std::string lease_schema(const char* info, const std::string& name) {
  auto schema = "cl_" + name + "_" + std::to_string(getpid());
  oms::test::drop_schema(info, schema);
  return schema;
}

// Makes `shard`'s lease run out now, as time passing would (the test does
// not wait for a TTL).
void expire_now(const char* info, const std::string& schema, uint32_t shard) {
  pqxx::connection conn{info};
  pqxx::work w{conn};
  w.exec("UPDATE " + w.quote_name(schema) +
         ".cluster_shards SET expires_at = clock_timestamp() - interval '1 "
         "second' WHERE shard = " +
         std::to_string(shard));
  w.commit();
}

} // namespace

TEST_CASE("cluster: a SKU's shard is the same for every caller and spreads "
          "SKUs evenly") {
  CHECK(shard_of("TEA-250", 256) == shard_of("TEA-250", 256));
  // FNV-1a, fixed for ever: where existing SKUs' stock lives.
  CHECK(shard_of("", 256) == 0xcbf29ce484222325ull % 256);
  CHECK(shard_of("a", 256) == 0xaf63dc4c8601ec8cull % 256);
  CHECK(shard_of("a", 1000) == 0xaf63dc4c8601ec8cull % 1000);
  CHECK(shard_of("a", 1) == 0);
  CHECK_THROWS(shard_of("a", 0));
  std::map<uint32_t, int> counts;
  for (int i = 0; i < 25'600; ++i)
    ++counts[shard_of("SKU-" + std::to_string(i), 256)];
  REQUIRE(counts.size() == 256);
  for (auto& [shard, n] : counts) {
    CHECK(n > 50); // 100 on average
    CHECK(n < 150);
  }
}

TEST_CASE("cluster: a shard is taken by one node at a time, its epoch one "
          "more at every takeover") {
  auto info = lease_server();
  if (!info)
    return;
  auto schema = lease_schema(info, "take");
  lease_table a{info, schema, 8, 1000ms};
  lease_table b{info, schema, 8, 1000ms};
  CHECK(a.leases().size() == 8);
  auto ea = a.acquire(3, "node-a", 3000ms);
  REQUIRE(ea);
  CHECK(*ea == 1);
  // While A's lease runs, B cannot take it, and cannot renew or hand back
  // what it does not hold.
  CHECK_FALSE(b.acquire(3, "node-b", 3000ms));
  CHECK_FALSE(b.renew(3, "node-b", *ea, 3000ms));
  CHECK_FALSE(b.release(3, "node-b", *ea));
  CHECK(a.renew(3, "node-a", *ea, 3000ms));
  CHECK_FALSE(a.renew(3, "node-a", *ea + 1, 3000ms)); // not its epoch
  // Expired but nobody took it: A renews it (the fence would let its
  // commits through all the same), and B cannot take it.
  expire_now(info, schema, 3);
  CHECK(a.renew(3, "node-a", *ea, 3000ms));
  CHECK_FALSE(b.acquire(3, "node-b", 3000ms));
  // Expired and taken: B has the next epoch; A's renewal is refused.
  expire_now(info, schema, 3);
  auto eb = b.acquire(3, "node-b", 3000ms);
  REQUIRE(eb);
  CHECK(*eb == 2);
  CHECK_FALSE(a.renew(3, "node-a", *ea, 3000ms));
  CHECK_FALSE(a.acquire(3, "node-a", 3000ms));
  auto all = a.leases();
  CHECK(all[3].owner == "node-b");
  CHECK(all[3].epoch == 2);
  CHECK(all[3].expires_at_ms > 0);
  CHECK(all[2].owner.empty());
  CHECK(all[2].epoch == 0);
  // Handed back: anyone takes it at once, with the next epoch.
  CHECK(b.release(3, "node-b", *eb));
  CHECK_FALSE(b.release(3, "node-b", *eb));
  auto again = a.acquire(3, "node-a", 3000ms);
  REQUIRE(again);
  CHECK(*again == 3);
  // Taken again by its owner, a shard gets a new epoch too.
  auto restart = a.acquire(3, "node-a", 3000ms);
  REQUIRE(restart);
  CHECK(*restart == 4);
}

TEST_CASE("cluster: the lease session's connection string gets timeouts "
          "and a name unless it has its own, in either of libpq's forms") {
  auto plain = lease_session_conninfo("host=127.0.0.1 port=5432 dbname=oms",
                                      "oms_cluster", 1000ms);
  CHECK(plain.find("host='127.0.0.1'") != std::string::npos);
  CHECK(plain.find("port='5432'") != std::string::npos);
  CHECK(plain.find("dbname='oms'") != std::string::npos);
  CHECK(plain.find("connect_timeout='4'") != std::string::npos);
  CHECK(plain.find("tcp_user_timeout='4000'") != std::string::npos);
  CHECK(plain.find("keepalives_idle='1'") != std::string::npos);
  CHECK(plain.find("fallback_application_name='oms-lease:oms_cluster'") !=
        std::string::npos);
  // A URI, with a setting of its own (kept) and a password that needs
  // quoting.
  auto uri = lease_session_conninfo(
      "postgresql://oms:it's%5Cme@127.0.0.1:6000/shop?connect_timeout=30", "c",
      100ms);
  CHECK(uri.find("connect_timeout='30'") != std::string::npos);
  CHECK(uri.find("password='it\\'s\\\\me'") != std::string::npos);
  CHECK(uri.find("port='6000'") != std::string::npos);
  CHECK(uri.find("dbname='shop'") != std::string::npos);
  CHECK(uri.find("connect_timeout='2'") == std::string::npos);
  CHECK(uri.find("tcp_user_timeout='400'") != std::string::npos);
  // What libpq cannot parse is refused, without repeating the string (its
  // words may be a password).
  CHECK_THROWS_WITH_AS(
      lease_session_conninfo("host=a password=s3cret nosuch=1", "c", 1000ms),
      "the cluster's connection string is not one libpq reads (key=value "
      "pairs or a postgres:// URI)",
      std::runtime_error);
  CHECK_THROWS_AS(lease_session_conninfo("host='unterminated", "c", 1000ms),
                  std::runtime_error);
}

TEST_CASE("cluster: the number of shards is fixed when the cluster is made") {
  auto info = lease_server();
  if (!info)
    return;
  auto schema = lease_schema(info, "fixed");
  lease_table first{info, schema, 16, 1000ms};
  CHECK_THROWS_AS(lease_table(info, schema, 32, 1000ms), std::runtime_error);
  CHECK_THROWS_AS(lease_table(info, schema, 0, 1000ms), std::runtime_error);
  CHECK_THROWS_AS(lease_table(info, schema + "x", max_shards + 1, 1000ms),
                  std::runtime_error);
  CHECK_THROWS_AS(first.acquire(0, "a", 0ms), std::invalid_argument);
  CHECK_THROWS_AS(first.acquire(0, "a", max_ttl + 1ms), std::invalid_argument);
  lease_table same{info, schema, 16, 1000ms};
  CHECK(same.leases().size() == 16);
}

TEST_CASE("cluster: nodes starting at the same instant on a fresh schema "
          "all open its lease table, made once") {
  auto info = lease_server();
  if (info == nullptr)
    return;
  for (int round = 0; round < 8; ++round) {
    auto schema = lease_schema(info, "together" + std::to_string(round));
    constexpr int nodes = 4;
    std::vector<std::string> failures(nodes);
    oms::test::run_together(nodes, [&](int i) {
      try {
        lease_table t{info, schema, 8, 1000ms};
      } catch (const std::exception& e) {
        failures[i] = e.what();
      }
    });
    for (auto& f : failures)
      CHECK_MESSAGE(f.empty(), f);
    pqxx::connection c{info};
    pqxx::work w{c};
    CHECK(w.exec1("SELECT count(*) FROM " + w.quote_name(schema) +
                  ".cluster_shards")[0]
              .as<int>() == 8);
  }
}

TEST_CASE("cluster: nodes register with their address and heartbeat") {
  auto info = lease_server();
  if (!info)
    return;
  auto schema = lease_schema(info, "nodes");
  lease_table t{info, schema, 4, 1000ms};
  t.heartbeat("node-b", "127.0.0.1:7001", "http://127.0.0.1:8001");
  t.heartbeat("node-a", "127.0.0.1:7000", "http://127.0.0.1:8000");
  auto first = t.nodes();
  REQUIRE(first.size() == 2);
  CHECK(first[0].id == "node-a");
  CHECK(first[1].address == "127.0.0.1:7001");
  CHECK(first[1].http == "http://127.0.0.1:8001");
  t.heartbeat("node-a", "127.0.0.1:7002", "http://127.0.0.1:8002");
  auto second = t.nodes();
  REQUIRE(second.size() == 2);
  CHECK(second[0].address == "127.0.0.1:7002");
  CHECK(second[0].http == "http://127.0.0.1:8002");
  CHECK(second[0].heartbeat_ms >= first[0].heartbeat_ms);
}

TEST_CASE("cluster: a node table made before nodes recorded their HTTP "
          "address gets the column") {
  auto info = lease_server();
  if (!info)
    return;
  auto schema = lease_schema(info, "old_nodes");
  {
    pqxx::connection conn{info};
    pqxx::work w{conn};
    w.exec("CREATE SCHEMA " + w.quote_name(schema));
    w.exec("CREATE TABLE " + w.quote_name(schema) +
           ".cluster_nodes (id TEXT PRIMARY KEY, address TEXT NOT NULL, "
           "heartbeat TIMESTAMPTZ NOT NULL)");
    w.exec("INSERT INTO " + w.quote_name(schema) +
           ".cluster_nodes VALUES ('old', '127.0.0.1:7000', now())");
    w.commit();
  }
  lease_table t{info, schema, 4, 1000ms};
  auto nodes = t.nodes();
  REQUIRE(nodes.size() == 1);
  CHECK(nodes[0].http.empty());
  t.heartbeat("old", "127.0.0.1:7000", "http://127.0.0.1:8000");
  CHECK(t.nodes()[0].http == "http://127.0.0.1:8000");
}

TEST_CASE("cluster: a commit under the fence makes a takeover wait for it, "
          "and a commit under a lost lease is refused") {
  auto info = lease_server();
  if (!info)
    return;
  auto schema = lease_schema(info, "fence");
  lease_table a{info, schema, 4, 1000ms};
  lease_table b{info, schema, 4, 1000ms};
  auto ea = a.acquire(1, "node-a", 3000ms);
  REQUIRE(ea);
  expire_now(info, schema, 1); // A is paused past its TTL, say
  {
    // A's commit began: the fence passes (nobody took the shard) and locks
    // the row until the commit ends.
    pqxx::connection conn{info};
    pqxx::work commit{conn};
    CHECK(lease_table::fenced(commit, schema, 1, "node-a", *ea));
    // B's takeover cannot happen meanwhile: acquire() waits for the row
    // until its lock wait runs out (proved by the lock timeout's SQLSTATE,
    // not by timing).
    std::string state;
    try {
      b.acquire(1, "node-b", 3000ms);
    } catch (const pqxx::sql_error& e) {
      state = e.sqlstate();
    }
    CHECK(state == "55P03");
    commit.commit();
  }
  // Once A's commit is done, B takes the shard (and would replay it).
  auto eb = b.acquire(1, "node-b", 3000ms);
  REQUIRE(eb);
  CHECK(*eb == *ea + 1);
  // A's next commit is refused: another owner, a newer epoch.
  pqxx::connection conn{info};
  pqxx::work late{conn};
  CHECK_FALSE(lease_table::fenced(late, schema, 1, "node-a", *ea));
  CHECK_FALSE(lease_table::fenced(late, schema, 1, "node-b", *ea));
  CHECK(lease_table::fenced(late, schema, 1, "node-b", *eb));
}

TEST_CASE("cluster: a batch's fence over several shards passes only if the "
          "node holds every one of them with its epoch, and locks them all") {
  auto info = lease_server();
  if (!info)
    return;
  auto schema = lease_schema(info, "fence_all");
  lease_table a{info, schema, 4, 1000ms};
  lease_table b{info, schema, 4, 1000ms};
  auto e1 = a.acquire(1, "node-a", 3000ms);
  auto e2 = a.acquire(2, "node-a", 3000ms);
  auto e3 = b.acquire(3, "node-b", 3000ms);
  REQUIRE((e1 && e2 && e3));
  pqxx::connection conn{info};
  {
    pqxx::work w{conn};
    CHECK(lease_table::fenced_all(w, schema, "node-a", {}));
    CHECK(lease_table::fenced_all(w, schema, "node-a", {{1, *e1}, {2, *e2}}));
    // One shard another node holds, one epoch off, one shard that does not
    // exist: each refuses the whole batch.
    CHECK_FALSE(
        lease_table::fenced_all(w, schema, "node-a", {{1, *e1}, {3, *e3}}));
    CHECK_FALSE(
        lease_table::fenced_all(w, schema, "node-a", {{1, *e1}, {2, *e2 + 1}}));
    CHECK_FALSE(
        lease_table::fenced_all(w, schema, "node-a", {{1, *e1}, {9, 1}}));
  }
  expire_now(info, schema, 2);
  {
    // The rows stay locked until the commit ends: a takeover of either
    // waits (the lock timeout's SQLSTATE, not timing).
    pqxx::work commit{conn};
    REQUIRE(lease_table::fenced_all(commit, schema, "node-a",
                                    {{1, *e1}, {2, *e2}}));
    std::string state;
    try {
      b.acquire(2, "node-b", 3000ms);
    } catch (const pqxx::sql_error& e) {
      state = e.sqlstate();
    }
    CHECK(state == "55P03");
    commit.commit();
  }
  REQUIRE(b.acquire(2, "node-b", 3000ms));
  pqxx::work late{conn};
  CHECK_FALSE(
      lease_table::fenced_all(late, schema, "node-a", {{1, *e1}, {2, *e2}}));
}

TEST_CASE("cluster: a renewal of many leases locks them in shard order, as "
          "a fence does: the two never deadlock") {
  auto info = lease_server();
  if (!info)
    return;
  auto schema = lease_schema(info, "order");
  lease_table keeper{info, schema, 4, 10000ms};
  std::map<uint32_t, int64_t> held;
  for (uint32_t s : {1u, 2u, 3u})
    held[s] = *keeper.acquire(s, "node-a", 60000ms);
  // Shards 1 and 2 renewed once more: their rows now lie after shard 3's
  // in the table, the order a plain UPDATE of the three would lock them.
  REQUIRE(keeper.renew(1, "node-a", held[1], 60000ms));
  REQUIRE(keeper.renew(2, "node-a", held[2], 60000ms));
  // A fenced commit holds shard 2 ...
  pqxx::connection conn{info};
  pqxx::work commit{conn};
  REQUIRE(lease_table::fenced_all(commit, schema, "node-a", {{2, held[2]}}));
  // ... while the keeper renews all three: it waits for shard 2, having
  // locked only what comes before it in shard order.
  std::vector<uint32_t> renewed;
  std::string failed;
  std::thread renewer{[&] {
    try {
      renewed = keeper.renew_all("node-a", held, 60000ms);
    } catch (const std::exception& e) {
      failed = e.what();
    }
  }};
  {
    pqxx::connection watch{info};
    bool waiting = false;
    for (int i = 0; i < 400 && !waiting; ++i) {
      pqxx::nontransaction n{watch};
      waiting = n.exec1("SELECT count(*) FROM pg_stat_activity WHERE "
                        "wait_event_type = 'Lock' AND query LIKE '%" +
                        schema + "%'")[0]
                    .as<int>() > 0;
      if (!waiting)
        std::this_thread::sleep_for(5ms);
    }
    CHECK(waiting);
  }
  // The commit goes on to lock shard 3 (a fence of a later batch in the
  // same transaction stands for a batch's fence locking in order): free,
  // since the keeper has not reached it. Locked the other way round, this
  // waited for the keeper and PostgreSQL broke the deadlock.
  CHECK(lease_table::fenced_all(commit, schema, "node-a", {{3, held[3]}}));
  commit.commit();
  renewer.join();
  CHECK(failed.empty());
  CHECK(renewed.size() == 3);
}

TEST_CASE("cluster: a node takes many shards in one statement, skipping one "
          "a commit holds the fence of (without waiting), and hands many "
          "back in one") {
  auto info = lease_server();
  if (!info)
    return;
  auto schema = lease_schema(info, "many");
  lease_table a{info, schema, 6, 1000ms};
  lease_table b{info, schema, 6, 1000ms};
  auto eb = b.acquire(5, "node-b", 3000ms);
  REQUIRE(eb);
  auto first = a.acquire(1, "node-a", 3000ms);
  REQUIRE(first);
  expire_now(info, schema, 1); // a paused past its TTL, say
  std::map<uint32_t, int64_t> taken;
  {
    // a's commit holds shard 1's fence: b's takes skip it at once (no
    // lock timeout), take the free ones, and leave 5 (b's own... here a
    // running lease of node-b) alone.
    pqxx::connection conn{info};
    pqxx::work commit{conn};
    REQUIRE(lease_table::fenced(commit, schema, 1, "node-a", *first));
    CHECK_NOTHROW(taken = b.acquire_all({0, 1, 2, 5}, "node-c", 3000ms));
    commit.commit();
  }
  CHECK(taken.size() == 2);
  CHECK(taken.count(0) == 1);
  CHECK(taken.count(2) == 1);
  CHECK(taken.at(0) == 1);
  // Once the commit is done, shard 1 is taken too, with the next epoch.
  auto again = b.acquire_all({1}, "node-c", 3000ms);
  REQUIRE(again.count(1) == 1);
  CHECK(again.at(1) == *first + 1);
  taken[1] = again.at(1);
  // Handed back in one statement: a stale epoch is not.
  auto stale = taken;
  stale[2] = taken[2] + 7;
  b.release_all("node-c", stale);
  int still = 0;
  for (auto& l : a.leases())
    if (l.owner == "node-c")
      ++still;
  CHECK(still == 1); // shard 2, whose epoch did not match
}

TEST_CASE("cluster: a takeover under way makes a commit's fence wait, then "
          "refuse") {
  auto info = lease_server();
  if (!info)
    return;
  auto schema = lease_schema(info, "fence2");
  lease_table a{info, schema, 4, 1000ms};
  auto ea = a.acquire(2, "node-a", 3000ms);
  REQUIRE(ea);
  expire_now(info, schema, 2);
  // B's takeover has begun (its row lock is taken) but not committed.
  pqxx::connection takeover_conn{info};
  pqxx::work takeover{takeover_conn};
  auto taken = takeover.exec(
      "UPDATE " + takeover.quote_name(schema) +
      ".cluster_shards SET owner = 'node-b', epoch = epoch + 1 WHERE shard = "
      "2 RETURNING epoch");
  REQUIRE(taken.size() == 1);
  {
    // A's commit waits for it (its lock wait runs out here).
    pqxx::connection conn{info};
    pqxx::work commit{conn};
    commit.exec("SET LOCAL lock_timeout = '200ms'");
    std::string state;
    try {
      lease_table::fenced(commit, schema, 2, "node-a", *ea);
    } catch (const pqxx::sql_error& e) {
      state = e.sqlstate();
    }
    CHECK(state == "55P03");
  }
  takeover.commit();
  // Once the takeover is in, A's fence refuses.
  pqxx::connection conn{info};
  pqxx::work commit{conn};
  CHECK_FALSE(lease_table::fenced(commit, schema, 2, "node-a", *ea));
}

namespace {

// A change of `sku` its writer stamped with `epoch` (event::fence).
oms::event stamped(const std::string& sku, int64_t epoch) {
  oms::event ev;
  ev.kind = oms::event_kind::stock_reserved;
  ev.sku = sku;
  ev.order = "ord_1";
  ev.quantity = 1;
  ev.fence = epoch;
  return ev;
}

// The first SKU S-N of shard `shard` among `count`.
std::string sku_of_shard(const oms::shard_map& map, uint32_t shard) {
  for (int n = 0;; ++n)
    if (map.shard_of("S-" + std::to_string(n)) == shard)
      return "S-" + std::to_string(n);
}

// What `fence` says of `batch`, in a transaction of its own on `conn`.
std::optional<oms::pg_store::fence_pass>
fenced(const oms::pg_store::fence_fn& fence, pqxx::connection& conn,
       const std::vector<oms::event>& batch) {
  pqxx::work w{conn};
  return fence(w, batch);
}

} // namespace

TEST_CASE("cluster: a node's fence refuses what an actor wrote under an "
          "epoch the node no longer serves its shard under, even once it "
          "took the shard again") {
  auto info = lease_server();
  if (!info)
    return;
  auto schema = lease_schema(info, "fence_stamp");
  lease_table a{info, schema, 4, 1000ms};
  auto map = std::make_shared<oms::shard_map>(4);
  auto sku = sku_of_shard(*map, 1);
  auto other = sku_of_shard(*map, 2);
  auto first = a.acquire(1, "node-a", 3000ms);
  auto e2 = a.acquire(2, "node-a", 3000ms);
  REQUIRE((first && e2));
  map->serve(1, *first);
  map->serve(2, *e2);
  auto fence = oms::daemon::shard_fence(map, "node-a", schema);
  pqxx::connection conn{info};
  auto passes = [&](const std::vector<oms::event>& batch) {
    return fenced(fence, conn, batch).has_value();
  };
  CHECK(passes({stamped(sku, *first)}));
  CHECK(passes({stamped(sku, 0)})); // no stamp: the epoch of the moment
  // The node loses the shard and takes it again (a new epoch): what an
  // actor of before still sends is refused; the new actors' changes pass.
  map->stop(1);
  CHECK_FALSE(passes({stamped(sku, *first)}));
  expire_now(info, schema, 1);
  auto again = a.acquire(1, "node-a", 3000ms);
  REQUIRE(again);
  REQUIRE(*again == *first + 1);
  map->serve(1, *again);
  CHECK_FALSE(passes({stamped(sku, *first)}));
  CHECK(passes({stamped(sku, *again)}));
  CHECK(passes({stamped(sku, 0)}));
  // One stale change refuses its whole batch, with the shard's other
  // changes and another shard's.
  CHECK_FALSE(passes({stamped(sku, *again), stamped(sku, *first)}));
  CHECK_FALSE(passes({stamped(other, *e2), stamped(sku, *first)}));
  CHECK(passes({stamped(other, *e2), stamped(sku, *again)}));
  // An order's record counts for its first line's shard.
  oms::event created;
  created.kind = oms::event_kind::order_created;
  created.snapshot.lines.push_back(oms::order_line{});
  created.snapshot.lines.back().sku = sku;
  created.fence = *first;
  CHECK_FALSE(passes({created}));
  created.fence = *again;
  CHECK(passes({created}));
  // The journal's look before a batch says the same of each append: a
  // stale one is refused alone (NOT_OWNER), without a commit.
  auto admit = oms::daemon::shard_admission(map);
  CHECK_FALSE(admit({stamped(sku, *again)}));
  CHECK_FALSE(admit({stamped(sku, 0)}));
  CHECK_FALSE(admit({oms::event{}})); // no shard: nothing to say
  auto stale = admit({stamped(sku, *first)});
  CHECK(oms::code_of(stale) == oms::errc::not_owner);
  CHECK(oms::code_of(admit({stamped(other, *e2), stamped(sku, *first)})) ==
        oms::errc::not_owner);
  map->stop(2);
  CHECK(oms::code_of(admit({stamped(other, 0)})) == oms::errc::not_owner);
  map->serve(2, *e2);
  // A stamp the map agrees with but PostgreSQL does not (the lease moved
  // on behind the node's back) is refused by the lease table.
  map->serve(1, *again + 5);
  CHECK_FALSE(passes({stamped(sku, *again + 5)}));
}

TEST_CASE("cluster: the webhooks' values are fenced by the duty shard's "
          "lease, and the other named values by none") {
  auto info = lease_server();
  if (!info)
    return;
  auto schema = lease_schema(info, "fence_duty");
  lease_table a{info, schema, 4, 1000ms};
  auto map = std::make_shared<oms::shard_map>(4);
  auto epoch = a.acquire(oms::daemon::webhook_duty_shard, "node-a", 3000ms);
  REQUIRE(epoch);
  map->serve(oms::daemon::webhook_duty_shard, *epoch);
  auto fence = oms::daemon::shard_fence(map, "node-a", schema);
  auto admit = oms::daemon::shard_admission(map);
  pqxx::connection conn{info};
  auto passes = [&](const std::vector<oms::event>& batch) {
    auto pass = fenced(fence, conn, batch);
    return pass.has_value() &&
           std::count(pass->shards.begin(), pass->shards.end(),
                      std::pair<uint32_t, int64_t>{
                          oms::daemon::webhook_duty_shard, *epoch}) ==
               (oms::daemon::is_webhook_value(batch.front().reason) ? 1 : 0);
  };
  auto commits = [&](const std::vector<oms::event>& batch) {
    return fenced(fence, conn, batch).has_value();
  };
  auto value = [](const std::string& name, int64_t stamp) {
    oms::event ev;
    ev.kind = oms::event_kind::inbox_cursor;
    ev.reason = name;
    ev.lot = "7";
    ev.fence = stamp;
    return ev;
  };
  for (auto name : {"webhook:wh_1", "webhook-cursor:wh_1", "webhook-dead:wh_1"})
    CHECK(passes({value(name, *epoch)}));
  // Stamped with another epoch than the one the shard is served under.
  CHECK_FALSE(passes({value("webhook-cursor:wh_1", *epoch + 1)}));
  CHECK(passes({value("wms-feed", 0)})); // another source: no shard
  CHECK_FALSE(admit({value("webhook-cursor:wh_1", *epoch)}));
  // Served no longer: the webhooks' values are refused, and said to be
  // the duty shard's, so a request for them goes to its holder; the other
  // named values pass as before.
  map->stop(oms::daemon::webhook_duty_shard);
  CHECK_FALSE(commits({value("webhook:wh_1", *epoch)}));
  CHECK_FALSE(commits({value("webhook:wh_1", 0)}));
  auto refused = admit({value("webhook-cursor:wh_1", *epoch)});
  CHECK(oms::code_of(refused) == oms::errc::not_owner);
  CHECK(oms::details_of(refused).find("\"shard\":0") != std::string::npos);
  CHECK(commits({value("wms-feed", 0)}));
  CHECK_FALSE(admit({value("wms-feed", 0)}));
}

TEST_CASE("cluster: the EXTERNAL seller's changes are fenced by the duty "
          "shard's lease, whatever shard their SKU's name falls on") {
  auto info = lease_server();
  if (!info)
    return;
  auto schema = lease_schema(info, "fence_external");
  lease_table a{info, schema, 4, 1000ms};
  auto map = std::make_shared<oms::shard_map>(4);
  auto epoch = a.acquire(oms::duty_shard, "node-a", 3000ms);
  REQUIRE(epoch);
  map->serve(oms::duty_shard, *epoch);
  auto fence = oms::daemon::shard_fence(map, "node-a", schema);
  auto admit = oms::daemon::shard_admission(map);
  pqxx::connection conn{info};
  // A name whose own shard this node does not serve.
  std::string sku = "EXT-0";
  for (int n = 1; oms::shard_of_sku(sku, 4) == oms::duty_shard; ++n)
    sku = "EXT-" + std::to_string(n);
  auto duty_only = [&](const std::vector<oms::event>& batch) {
    auto pass = fenced(fence, conn, batch);
    using shard_epoch = std::pair<uint32_t, int64_t>;
    return pass.has_value() &&
           pass->shards == std::vector<shard_epoch>{{oms::duty_shard, *epoch}};
  };
  auto commits = [&](const std::vector<oms::event>& batch) {
    return fenced(fence, conn, batch).has_value();
  };
  auto synced = [&](int64_t stamp) {
    oms::event ev;
    ev.kind = oms::event_kind::wms_synced;
    ev.sku = sku;
    ev.order = "ord_1";
    ev.quantity = 2;
    ev.reason = "NONE>RESERVED";
    ev.seller = oms::seller::external;
    ev.fence = stamp;
    return ev;
  };
  auto created = [&](int64_t stamp) {
    oms::event ev;
    ev.kind = oms::event_kind::order_created;
    ev.order = "ord_1";
    ev.seller = oms::seller::external;
    ev.snapshot.seller = oms::seller::external;
    ev.snapshot.lines.push_back(oms::order_line{});
    ev.snapshot.lines.back().sku = sku;
    ev.fence = stamp;
    return ev;
  };
  auto cursor = [&](int64_t stamp) {
    oms::event ev;
    ev.kind = oms::event_kind::inbox_cursor;
    ev.reason = std::string{oms::wms_feed_source};
    ev.lot = "42";
    ev.fence = stamp;
    return ev;
  };
  CHECK(duty_only({synced(*epoch)}));
  CHECK(duty_only({created(*epoch)}));
  CHECK(duty_only({cursor(*epoch)}));
  CHECK(duty_only({created(0), synced(*epoch), cursor(0)}));
  // Stamped with an epoch the duty is not served under: refused.
  CHECK_FALSE(commits({synced(*epoch + 1)}));
  CHECK_FALSE(commits({created(*epoch + 1)}));
  CHECK_FALSE(commits({cursor(*epoch + 1)}));
  // The same name under our own seller is its name's shard's, not served.
  auto internal = synced(0);
  internal.kind = oms::event_kind::stock_received;
  internal.seller = oms::seller::internal;
  CHECK_FALSE(commits({internal}));
  // The duty lost: every one refused, and said to be the duty shard's.
  map->stop(oms::duty_shard);
  CHECK_FALSE(commits({synced(*epoch)}));
  CHECK_FALSE(commits({created(0)}));
  CHECK_FALSE(commits({cursor(0)}));
  auto refused = admit({synced(*epoch)});
  CHECK(oms::code_of(refused) == oms::errc::not_owner);
  CHECK(oms::details_of(refused).find("\"shard\":0") != std::string::npos);
}
