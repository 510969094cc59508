// Helpers of the cluster's end-to-end tests: omsd nodes sharing the shard
// leases of one PostgreSQL (OMS_TEST_PG, tools/with-postgres.sh), and what
// the tests read of them.
#pragma once

#include <map>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <pqxx/pqxx>

#include "messages/shards.hpp"
#include "tests/e2e/daemon.hpp"

namespace oms::e2e {

using client::http_client;
// An omsd process (<unistd.h> declares a function daemon()).
using node = daemon;

inline constexpr int shards = 12;

// The node's view of the cluster (null when it does not answer).
inline json cluster_of(const node& d) {
  http_client admin{d.url(), d.admin_token()};
  auto r = admin.get("/v1/cluster");
  return r.status == 200 ? body_of(r) : json{};
}

// shard -> {owner, epoch} of the leases a node's view shows held.
// The link from `from` to `to`'s region, as `from` shows it.
inline json link(const node& from, const std::string& to) {
  auto view = cluster_of(from);
  if (view.is_object())
    for (auto& n : view["nodes"])
      if (n["id"] == to)
        return n.value("link", json{});
  return json{};
}

inline bool reachable(const node& from, const std::string& to) {
  auto l = link(from, to);
  return l.is_object() && l["reachable"] == true;
}

inline std::map<int, std::pair<std::string, int64_t>> held(const json& view) {
  std::map<int, std::pair<std::string, int64_t>> out;
  if (!view.is_object())
    return out;
  for (auto& l : view["leases"])
    if (l["state"] == "held")
      out[l["shard"].get<int>()] = {l["owner"].get<std::string>(),
                                    l["epoch"].get<int64_t>()};
  return out;
}

// How many shards each node holds in `leases`.
inline std::map<std::string, int>
counts(const std::map<int, std::pair<std::string, int64_t>>& leases) {
  std::map<std::string, int> out;
  for (auto& entry : leases)
    ++out[entry.second.first];
  return out;
}

// The lease keeper's ticks so far on node `d`.
inline int64_t ticks_of(const node& d) {
  auto view = cluster_of(d);
  return view.is_object() ? view["keeper"]["ticks"].get<int64_t>() : -1;
}

// True once every shard is held and `expected` says who holds how many,
// as node `d` sees it after more than `after_ticks` ticks, with its own
// `owned` agreeing.
inline bool settled(const node& d, const std::map<std::string, int>& expected,
                    int64_t after_ticks = 0) {
  auto view = cluster_of(d);
  if (!view.is_object() ||
      view["keeper"]["ticks"].get<int64_t>() <= after_ticks)
    return false;
  auto leases = held(view);
  if (leases.size() != shards || counts(leases) != expected)
    return false;
  auto self = view["node"].get<std::string>();
  return view["owned"].size() == static_cast<size_t>(expected.at(self));
}

// Both nodes see n1 and n2 holding 6 shards each (of the fixture's 12).
inline void halves_settled(const node& n1, const node& n2) {
  for (auto* n : {&n1, &n2})
    REQUIRE(eventually(
        [&] {
          return settled(*n, {{"n1", 6}, {"n2", 6}});
        },
        std::chrono::seconds(30)));
}

struct cluster_fixture {
  std::string pg;
  std::string schema;
  std::vector<std::unique_ptr<node>> nodes;

  explicit cluster_fixture(const char* info)
      : pg(info),
        schema("e2e_cluster_" + std::to_string(std::random_device{}())) {}

  // `via`: another connection string to the same server (a proxy's).
  std::vector<std::string> args(const std::string& id,
                                const std::string& via) const {
    return {"--postgres-schema", schema + "_store",
            "--cluster",         via.empty() ? pg : via,
            "--node-id",         id,
            "--cluster-schema",  schema,
            "--cluster-shards",  std::to_string(shards),
            "--lease-ttl",       "1s"};
  }

  node& start(const std::string& id, const std::string& via = "",
              const std::vector<std::string>& extra = {}) {
    auto a = args(id, via);
    a.insert(a.end(), extra.begin(), extra.end());
    nodes.push_back(std::make_unique<node>(a));
    return *nodes.back();
  }

  // A node whose region listens on a free loopback port.
  // Its requests wait 8 s at most (an unanswered forward among them).
  node* start_with_region(const std::string& id,
                          const std::string& request_timeout = "8s",
                          const std::string& lease_ttl = "1s",
                          const std::vector<std::string>& extra = {}) {
    auto a = args(id, "");
    a.back() = lease_ttl; // --lease-ttl's value
    a.push_back("--cluster-listen");
    a.push_back("127.0.0.1:" + std::to_string(free_port()));
    a.push_back("--request-timeout");
    a.push_back(request_timeout);
    a.insert(a.end(), extra.begin(), extra.end());
    nodes.push_back(std::make_unique<node>(a));
    return nodes.back().get();
  }

  // Leases held in the table now, by PostgreSQL's clock.
  int64_t held_in_table(const std::string& owner) {
    pqxx::connection conn{pg};
    pqxx::work w{conn};
    return w
        .exec1("SELECT count(*) FROM " + w.quote_name(schema) +
               ".cluster_shards WHERE owner = " + w.quote(owner) +
               " AND expires_at > clock_timestamp()")[0]
        .as<int64_t>();
  }

  bool registered(const std::string& id) {
    pqxx::connection conn{pg};
    pqxx::work w{conn};
    return w.exec1("SELECT count(*) FROM " + w.quote_name(schema) +
                   ".cluster_nodes WHERE id = " + w.quote(id))[0]
               .as<int64_t>() == 1;
  }
};

// The PostgreSQL that OMS_TEST_PG names for the leases, or null (saying so:
// the test is skipped).
inline const char* lease_server() {
  auto info = std::getenv("OMS_TEST_PG");
  if (info == nullptr)
    MESSAGE("OMS_TEST_PG is not set: no PostgreSQL for the leases (run "
            "under tools/with-postgres.sh)");
  return info;
}

// A series of omsd's /metrics ("" if absent).
inline std::string metric(const node& d, const std::string& name) {
  auto text = http_client{d.url(), ""}.get("/metrics").body;
  auto at = text.find("\n" + name + " ");
  if (at == std::string::npos)
    return "";
  at += name.size() + 2;
  return text.substr(at, text.find('\n', at) - at);
}

// The first SKU named PREFIX-N on a shard `owner` holds in `view`, and
// its shard.
inline std::pair<std::string, uint32_t>
sku_held_by(const json& view, const std::string& owner,
            const std::string& prefix, uint32_t not_shard = shards) {
  auto leases = held(view);
  for (int n = 0; n < 1000; ++n) {
    auto sku = prefix + "-" + std::to_string(n);
    auto s = oms::shard_of_sku(sku, shards);
    auto i = leases.find(static_cast<int>(s));
    if (s != not_shard && i != leases.end() && i->second.first == owner)
      return {sku, s};
  }
  FAIL("no SKU on a shard of " << owner);
  return {};
}

inline json
order_for(const std::string& customer,
          const std::vector<std::pair<std::string, int64_t>>& lines) {
  json items = json::array();
  for (auto& [sku, qty] : lines)
    items.push_back({{"sku", sku}, {"quantity", qty}});
  return json{{"customerId", customer}, {"items", items}, {"address", ship_to}};
}

// Two nodes with regions (each started with `extra` flags), each holding
// half the shards and linked both ways: which of them holds the duty shard,
// and which does not.
struct two_nodes {
  node* n1;
  node* n2;
  json view;
  std::string duty;
  node* holder;
  node* other;
  std::string other_id;
};

inline two_nodes two_linked(cluster_fixture& c,
                            const std::vector<std::string>& extra = {}) {
  auto* n1 = c.start_with_region("n1", "8s", "1s", extra);
  auto* n2 = c.start_with_region("n2", "8s", "1s", extra);
  halves_settled(*n1, *n2);
  const auto limit = std::chrono::seconds(30);
  REQUIRE(eventually([&] { return reachable(*n1, "n2"); }, limit));
  REQUIRE(eventually([&] { return reachable(*n2, "n1"); }, limit));
  auto view = cluster_of(*n1);
  auto duty = held(view).at(0).first;
  bool first = duty == "n1";
  return {n1,
          n2,
          view,
          duty,
          first ? n1 : n2,
          first ? n2 : n1,
          first ? "n2" : "n1"};
}

} // namespace oms::e2e
