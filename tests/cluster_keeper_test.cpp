// The lease keeper (system/cluster/lease_keeper.hpp) over a lease table in
// memory with a clock of the test's own: a start, a node's death and the
// survivors' takeover within TTL + one tick, a stopping node handing back
// at once, a paused node losing what it could not renew; and once over the
// real PostgreSQL table when OMS_TEST_PG names a server.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <set>
#include <stdexcept>

#include <unistd.h>

#include "system/cluster/lease_keeper.hpp"
#include "tests/pg_schema.hpp"

using namespace oms::cluster;
using namespace std::chrono_literals;

namespace {

// The lease table's rules (as leases.cpp writes them in SQL) on a clock the
// test moves.
struct memory_leases : lease_backend {
  int64_t now = 1'000'000;
  std::vector<lease> table;
  std::map<std::string, node_row> registered;

  explicit memory_leases(uint32_t shards) {
    for (uint32_t s = 0; s < shards; ++s)
      table.push_back(lease{s, "", 0, 0});
  }
  /// While set, the table cannot be reached: every call throws.
  bool down = false;
  /// Calls made (reached or not).
  size_t calls = 0;
  void reach() {
    ++calls;
    if (down)
      throw std::runtime_error("could not connect to server");
  }
  int64_t now_ms() override {
    reach();
    return now;
  }
  void heartbeat(const std::string& node, const std::string& address,
                 const std::string& http) override {
    reach();
    registered[node] = node_row{node, address, now, http};
  }
  std::vector<node_row> nodes() override {
    std::vector<node_row> result;
    for (auto& [id, n] : registered)
      result.push_back(n);
    return result;
  }
  void leave(const std::string& node) override {
    reach();
    registered.erase(node);
  }
  std::vector<lease> leases() override { return table; }
  /// The acquires after this many fail (a lock wait that ran out).
  int acquires_left = 1'000'000;

  std::optional<int64_t> acquire(uint32_t shard, const std::string& node,
                                 std::chrono::milliseconds ttl) override {
    reach();
    if (acquires_left-- <= 0)
      throw std::runtime_error("lock timeout");
    auto& l = table.at(shard);
    if (!l.owner.empty() && l.owner != node && l.expires_at_ms >= now)
      return std::nullopt;
    l.owner = node;
    ++l.epoch;
    l.expires_at_ms = now + ttl.count();
    return l.epoch;
  }
  bool renew(uint32_t shard, const std::string& node, int64_t epoch,
             std::chrono::milliseconds ttl) override {
    auto& l = table.at(shard);
    if (l.owner != node || l.epoch != epoch)
      return false;
    l.expires_at_ms = now + ttl.count();
    return true;
  }
  std::vector<uint32_t> renew_all(const std::string& node,
                                  const std::map<uint32_t, int64_t>& held,
                                  std::chrono::milliseconds ttl) override {
    reach();
    if (!held.empty()) // no statement for none
      now += call_ms;
    std::vector<uint32_t> result;
    for (auto& [shard, epoch] : held)
      if (renew(shard, node, epoch, ttl))
        result.push_back(shard);
    return result;
  }
  bool release(uint32_t shard, const std::string& node,
               int64_t epoch) override {
    auto& l = table.at(shard);
    if (l.owner != node || l.epoch != epoch)
      return false;
    l.owner.clear();
    l.expires_at_ms = 0;
    return true;
  }
  /// While set, acquire_all fails (a statement timeout): nothing is taken.
  bool acquire_all_fails = false;
  /// Shards whose row a fenced commit holds: acquire_all skips them.
  std::set<uint32_t> locked;
  /// How far the table's clock moves while a statement runs (a round
  /// trip): the keeper must count a lease from when it sent the statement.
  int64_t call_ms = 0;
  std::map<uint32_t, int64_t>
  acquire_all(const std::vector<uint32_t>& shards, const std::string& node,
              std::chrono::milliseconds ttl) override {
    reach();
    if (acquire_all_fails)
      throw std::runtime_error("canceling statement due to statement timeout");
    now += call_ms;
    std::map<uint32_t, int64_t> taken;
    for (auto shard : shards) {
      if (locked.count(shard))
        continue;
      auto& l = table.at(shard);
      if (!l.owner.empty() && l.owner != node && l.expires_at_ms >= now)
        continue;
      l.owner = node;
      ++l.epoch;
      l.expires_at_ms = now + ttl.count();
      taken[shard] = l.epoch;
    }
    return taken;
  }
  void release_all(const std::string& node,
                   const std::map<uint32_t, int64_t>& held) override {
    reach();
    for (auto& entry : held)
      release(entry.first, node, entry.second);
  }
  size_t held_by(const std::string& node) const {
    size_t n = 0;
    for (auto& l : table)
      n += l.owner == node && l.expires_at_ms > now ? 1 : 0;
    return n;
  }
};

keeper_config config_of(const std::string& node) {
  keeper_config c;
  c.node = node;
  c.address = "127.0.0.1:0";
  c.ttl = 3000ms;
  c.node_timeout = 3000ms;
  return c;
}

} // namespace

TEST_CASE("cluster keeper: three nodes share the shards, a dead one's are "
          "taken within the TTL and a tick, each with a new epoch") {
  memory_leases db{64};
  lease_keeper a{db, config_of("a")};
  lease_keeper b{db, config_of("b")};
  lease_keeper c{db, config_of("c")};
  // Ticks every second (a third of the TTL).
  auto tick_all = [&](std::vector<lease_keeper*> ks) {
    for (auto* k : ks)
      k->tick();
    db.now += 1000;
  };
  for (int i = 0; i < 4; ++i)
    tick_all({&a, &b, &c});
  CHECK(a.owned().size() + b.owned().size() + c.owned().size() == 64);
  CHECK(a.owned().size() <= 22);
  CHECK(b.owned().size() <= 22);
  CHECK(c.owned().size() <= 22);
  auto orphans = b.owned();
  // b dies: it ticks no more. Within TTL + one tick its shards are the
  // survivors', with new epochs.
  int64_t died = db.now;
  while (db.held_by("b") > 0 || db.held_by("a") + db.held_by("c") < 64) {
    tick_all({&a, &c});
    REQUIRE(db.now - died <= 3000 + 2000);
  }
  CHECK(a.owned().size() + c.owned().size() == 64);
  for (auto& [shard, epoch] : orphans) {
    auto mine = a.owned().count(shard) ? a.owned() : c.owned();
    CHECK(mine.at(shard) == epoch + 1);
  }
}

TEST_CASE("cluster keeper: a stopping node hands back at once, and a paused "
          "one loses what it could not renew") {
  memory_leases db{8};
  lease_keeper a{db, config_of("a")};
  lease_keeper b{db, config_of("b")};
  a.tick();
  CHECK(a.owned().size() == 8); // alone
  // It read the table before it beat, but shows itself in it all the same.
  REQUIRE(a.seen().nodes.size() == 1);
  CHECK(a.seen().nodes[0].id == "a");
  CHECK(a.seen().nodes[0].heartbeat_ms == db.now);
  db.now += 1000;
  b.tick(); // two live: nothing free for b yet
  CHECK(b.owned().empty());
  auto gave = a.tick(); // a hands back what b is short of
  CHECK(gave.lost.size() == 4);
  // What a shows of the table has its own hand-backs written in: the
  // shards it gave back expire at the tick's now, the rest it holds.
  CHECK(a.seen().now_ms == db.now);
  CHECK(a.seen().nodes.size() == 2);
  REQUIRE(a.seen().leases.size() == 8);
  for (auto& l : a.seen().leases) {
    INFO("shard " << l.shard);
    bool given = std::count(gave.lost.begin(), gave.lost.end(), l.shard) > 0;
    CHECK(l.owner == "a");
    CHECK((l.expires_at_ms > db.now) == !given);
  }
  auto got = b.tick();
  CHECK(got.gained.size() == 4);
  // And b's has its takes: owner, new epoch and expiry, as the table.
  for (auto& [shard, epoch] : got.gained) {
    auto& l = b.seen().leases.at(shard);
    CHECK(l.owner == "b");
    CHECK(l.epoch == epoch);
    CHECK(l.expires_at_ms == db.table.at(shard).expires_at_ms);
  }
  // a stops: its leases are free at once, no TTL to wait for.
  auto stopped = a.stop();
  CHECK(stopped.lost.size() == 4);
  CHECK(a.owned().empty());
  got = b.tick();
  CHECK(got.gained.size() == 4);
  CHECK(b.owned().size() == 8);
  // b pauses past its TTL; a comes back and takes everything; b, resumed,
  // finds its leases lost and reports them.
  db.now += 10'000;
  lease_keeper a2{db, config_of("a")};
  a2.tick();
  CHECK(a2.owned().size() == 8);
  auto resumed = b.tick();
  CHECK(resumed.lost.size() == 8);
  CHECK(b.owned().empty());
}

TEST_CASE("cluster keeper: a node cut from the table counts on its leases "
          "until nine tenths of the TTL from its last renewal sent, then "
          "loses them") {
  memory_leases db{6};
  // Each statement takes 40 ms of the table's clock: the lease runs from
  // when PostgreSQL ran it, the node counts from when it sent it.
  db.call_ms = 40;
  auto cfg = config_of("a");
  // The node's own clock: here the test's, running with the table's.
  cfg.local_clock = [&db] {
    return db.now;
  };
  lease_keeper a{db, cfg};
  int64_t sent = db.now;
  a.tick();
  REQUIRE(a.owned().size() == 6);
  for (auto& entry : a.valid_until())
    CHECK(entry.second == sent + 2700);
  for (auto& l : db.table)
    CHECK(l.expires_at_ms == sent + 40 + 3000);
  // Renewed: counted from the renewal sent.
  db.now = sent + 1000;
  a.tick();
  for (auto& entry : a.valid_until())
    CHECK(entry.second == sent + 1000 + 2700);
  // Cut off: a tick cannot renew, but until then the leases still run at
  // the table, so nothing is lost yet.
  int64_t renewed = sent + 1000;
  db.down = true;
  db.now = renewed + 1000;
  auto cut = a.tick();
  CHECK_FALSE(cut.errors.empty());
  CHECK(cut.lost.empty());
  CHECK(a.owned().size() == 6);
  db.now = renewed + 2699; // 1 ms short
  CHECK(a.tick().lost.empty());
  // Past it they may soon be taken: lost, all of them, and counted on no
  // longer (while the table's leases still run: the node lets go first).
  db.now = renewed + 2700;
  auto gone = a.tick();
  CHECK(gone.lost.size() == 6);
  CHECK(a.owned().empty());
  CHECK(a.valid_until().empty());
  CHECK(db.held_by("a") == 6);
  // Meanwhile b took them once they ran out; once a reaches the table
  // again it takes none (b's leases run) until b hands some back.
  db.down = false;
  db.now = renewed + 40 + 3000 + 1;
  lease_keeper b{db, config_of("b")};
  CHECK(b.tick().gained.size() == 6);
  auto back = a.tick();
  CHECK(back.errors.empty());
  CHECK(back.gained.empty());
}

TEST_CASE("cluster keeper: a node whose last tick could not reach the table "
          "stops without waiting on it, and its leases run out") {
  memory_leases db{4};
  lease_keeper a{db, config_of("a")};
  a.tick();
  REQUIRE(a.owned().size() == 4);
  db.down = true;
  db.now += 1000;
  a.tick();
  size_t calls_before = db.calls;
  auto stopped = a.stop();
  CHECK(stopped.lost.size() == 4);
  CHECK(stopped.errors.empty());
  CHECK(db.calls == calls_before); // nothing asked of the table
  db.down = false;
  CHECK(db.held_by("a") == 4); // still, until the TTL
  db.now += 3000;
  CHECK(db.held_by("a") == 0);
}

TEST_CASE("cluster keeper: a tick that fails half way reports what it did, "
          "and a bad configuration is refused") {
  memory_leases db{8};
  lease_keeper a{db, config_of("a")};
  // The takes fail (one statement: none is made); the tick reports it and
  // still heartbeats.
  db.acquire_all_fails = true;
  auto first = a.tick();
  CHECK(first.gained.empty());
  CHECK_FALSE(first.errors.empty());
  CHECK(a.owned().empty());
  CHECK(db.registered.count("a") == 1);
  // A shard whose row a fenced commit holds is skipped, taken next tick.
  db.acquire_all_fails = false;
  db.locked = {2};
  db.now += 1000;
  auto second = a.tick();
  CHECK(second.errors.empty());
  CHECK(second.gained.size() == 7);
  CHECK(second.gained.count(2) == 0);
  db.locked.clear();
  db.now += 1000;
  auto third = a.tick();
  CHECK(third.gained.size() == 1);
  CHECK(third.gained.count(2) == 1);
  CHECK(a.owned().size() == 8);
  // A lease that ran out but nobody took is renewed: the fence would have
  // let its commits through all the same.
  db.now += 60'000;
  auto late = a.tick();
  CHECK(late.lost.empty());
  CHECK(late.gained.empty());
  CHECK(a.owned().size() == 8);
  auto bad = config_of("");
  CHECK_THROWS_AS(lease_keeper(db, bad), std::invalid_argument);
  bad = config_of("b");
  bad.ttl = 0ms;
  CHECK_THROWS_AS(lease_keeper(db, bad), std::invalid_argument);
  bad.ttl = max_ttl + 1ms;
  CHECK_THROWS_AS(lease_keeper(db, bad), std::invalid_argument);
}

TEST_CASE("cluster keeper: two keepers over the PostgreSQL lease table share "
          "its shards, and one stopping hands its half back") {
  auto info = std::getenv("OMS_TEST_PG");
  if (info == nullptr) {
    MESSAGE("OMS_TEST_PG is not set: no PostgreSQL to test against");
    return;
  }
  auto schema = "cl_keeper_" + std::to_string(getpid());
  oms::test::drop_schema(info, schema);
  lease_table ta{info, schema, 8, 1000ms};
  lease_table tb{info, schema, 8, 1000ms};
  lease_keeper a{ta, config_of("a")};
  lease_keeper b{tb, config_of("b")};
  CHECK(a.tick().gained.size() == 8);
  CHECK(b.tick().gained.empty());
  CHECK(a.tick().lost.size() == 4);
  CHECK(b.tick().gained.size() == 4);
  for (auto& l : ta.leases())
    CHECK((l.owner == "a" || l.owner == "b"));
  CHECK(a.stop().lost.size() == 4);
  CHECK(b.tick().gained.size() == 4);
  for (auto& l : tb.leases())
    CHECK(l.owner == "b");
}
