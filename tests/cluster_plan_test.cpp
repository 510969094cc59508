// Which shards each node of a cluster takes and hands back
// (system/cluster/lease_plan.hpp): a start, a node's death, a node joining,
// and no churn at rest, simulated on the plan alone.
#include <doctest/doctest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "system/cluster/lease_plan.hpp"

using namespace oms::cluster;

namespace {

// A lease table the simulated nodes act on.
struct table {
  std::vector<lease_state> leases;

  explicit table(uint32_t shards) {
    for (uint32_t s = 0; s < shards; ++s)
      leases.push_back(lease_state{s, "", 0, false});
  }

  // Node `me` plans among the `live` nodes and acts; returns what it did.
  lease_plan step(const std::string& me, const std::vector<std::string>& live) {
    auto plan = plan_leases(leases, me, live);
    for (auto s : plan.take) {
      auto& l = leases.at(s);
      REQUIRE_FALSE(l.running); // only free shards are taken
      l.owner = me;
      l.running = true;
      ++l.epoch;
    }
    for (auto s : plan.give_back) {
      auto& l = leases.at(s);
      REQUIRE(l.owner == me);
      l.owner.clear();
      l.running = false;
    }
    return plan;
  }

  // Every node steps, `rounds` times.
  void rounds(const std::vector<std::string>& nodes, int n) {
    for (int r = 0; r < n; ++r)
      for (auto& me : nodes)
        step(me, nodes);
  }

  std::map<std::string, uint32_t> held() const {
    std::map<std::string, uint32_t> result;
    for (auto& l : leases)
      if (l.running)
        ++result[l.owner];
    return result;
  }

  void die(const std::string& node) {
    for (auto& l : leases)
      if (l.owner == node)
        l.running = false; // its leases expire
  }
};

} // namespace

TEST_CASE("cluster plan: each live node's target is the shards over the "
          "live nodes, one more for the first by id") {
  std::vector<std::string> three{"c", "a", "b", "a"};
  CHECK(target_share(256, three, "a") == 86);
  CHECK(target_share(256, three, "b") == 85);
  CHECK(target_share(256, three, "c") == 85);
  CHECK(target_share(256, three, "d") == 0);
  CHECK(target_share(256, {"a"}, "a") == 256);
  CHECK(target_share(4, {"a", "b", "c", "d", "e"}, "e") == 0);
  CHECK(target_share(4, {"a", "b", "c", "d", "e"}, "d") == 1);
}

TEST_CASE("cluster plan: nodes starting together share every shard, none "
          "above its share, and then nothing moves") {
  table t{256};
  std::vector<std::string> nodes{"node-1", "node-2", "node-3"};
  t.rounds(nodes, 2);
  auto held = t.held();
  uint32_t total = 0;
  for (auto& [node, n] : held) {
    CHECK(n == target_share(256, nodes, node));
    total += n;
  }
  CHECK(total == 256);
  // At rest: every plan is empty.
  for (auto& me : nodes) {
    auto plan = plan_leases(t.leases, me, nodes);
    CHECK(plan.take.empty());
    CHECK(plan.give_back.empty());
  }
}

TEST_CASE("cluster plan: a dead node's shards are taken by the survivors, "
          "each with a new epoch") {
  table t{256};
  std::vector<std::string> nodes{"node-1", "node-2", "node-3"};
  t.rounds(nodes, 2);
  std::set<uint32_t> orphaned;
  for (auto& l : t.leases)
    if (l.owner == "node-2")
      orphaned.insert(l.shard);
  REQUIRE_FALSE(orphaned.empty());
  t.die("node-2");
  std::vector<std::string> survivors{"node-1", "node-3"};
  t.rounds(survivors, 2);
  auto held = t.held();
  CHECK(held.count("node-2") == 0);
  CHECK(held["node-1"] + held["node-3"] == 256);
  CHECK(held["node-1"] == 128);
  CHECK(held["node-3"] == 128);
  for (auto s : orphaned)
    CHECK(t.leases[s].epoch == 2); // taken once before, once now
}

TEST_CASE("cluster plan: a node joining gets shards handed back to it, and "
          "the cluster settles") {
  table t{256};
  std::vector<std::string> two{"node-1", "node-2"};
  t.rounds(two, 2);
  CHECK(t.held()["node-1"] == 128);
  std::vector<std::string> three{"node-1", "node-2", "node-3"};
  t.rounds(three, 3);
  auto held = t.held();
  CHECK(held["node-1"] == 86);
  CHECK(held["node-2"] == 85);
  CHECK(held["node-3"] == 85);
  // Settled: more rounds move nothing.
  auto before = t.leases;
  t.rounds(three, 2);
  for (size_t i = 0; i < before.size(); ++i)
    CHECK(t.leases[i].epoch == before[i].epoch);
}

TEST_CASE("cluster plan: a node above its target hands back only what the "
          "short lack beyond the free shards") {
  table t{8};
  for (uint32_t s = 0; s < 6; ++s)
    t.leases[s] = lease_state{s, "a", 1, true};
  std::vector<std::string> ab{"a", "b"};
  // Targets 4 and 4: b lacks 4, shards 6 and 7 are free, so a hands back 2.
  auto plan = plan_leases(t.leases, "a", ab);
  CHECK(plan.give_back == std::vector<uint32_t>{4, 5});
  auto b = plan_leases(t.leases, "b", ab);
  CHECK(b.take == std::vector<uint32_t>{6, 7});
  // With b holding 6 and 7 and nothing free, a hands back the same 2.
  t.leases[6] = lease_state{6, "b", 1, true};
  t.leases[7] = lease_state{7, "b", 1, true};
  plan = plan_leases(t.leases, "a", ab);
  CHECK(plan.give_back == std::vector<uint32_t>{4, 5});
  // With shards 4 and 5 free, b takes them and a keeps its 4.
  t.leases[4] = lease_state{4, "", 1, false};
  t.leases[5] = lease_state{5, "", 1, false};
  CHECK(plan_leases(t.leases, "a", ab).give_back.empty());
  // Alone, a keeps all it holds and takes nothing held by a running lease.
  t.leases[4] = lease_state{4, "a", 1, true};
  t.leases[5] = lease_state{5, "a", 1, true};
  plan = plan_leases(t.leases, "a", {});
  CHECK(plan.give_back.empty());
  CHECK(plan.take.empty());
}

TEST_CASE("cluster plan: a seventeenth node joining sixteen that hold 16 "
          "shards each gets its share") {
  table t{256};
  std::vector<std::string> sixteen;
  for (int i = 10; i < 26; ++i)
    sixteen.push_back("node-" + std::to_string(i));
  t.rounds(sixteen, 2);
  for (auto& node : sixteen)
    REQUIRE(t.held()[node] == 16);
  auto all = sixteen;
  all.push_back("node-99");
  t.rounds(all, 3);
  auto held = t.held();
  uint32_t total = 0;
  for (auto& node : all) {
    CHECK(held[node] == target_share(256, all, node));
    total += held[node];
  }
  CHECK(total == 256);
  CHECK(held["node-99"] == 15);
}
