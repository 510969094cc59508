// GET /v1/cluster: what this node knows of its cluster (its membership's
// last tick), and the cluster's figures for /metrics.
#include <algorithm>
#include <map>

#include "messages/json.hpp"
#include "system/cluster/membership.hpp"
#include "system/cluster/region.hpp"
#include "system/daemon/api_impl.hpp"
#include "system/daemon/cluster_node.hpp"

namespace oms::daemon {

namespace {

// Milliseconds since `at` on the steady clock (-1: never).
int64_t age_ms(const std::optional<std::chrono::steady_clock::time_point>& at) {
  if (!at)
    return -1;
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now() - *at)
      .count();
}

bool live(const cluster::membership_view& v, const cluster::node_row& n) {
  return v.table.now_ms - n.heartbeat_ms <= v.ttl.count();
}

// What a lease is, as of the table's clock `now`: held (by its owner, for
// expiresInMs more), expired (its owner did not renew it: another node may
// take it), or free (never held, or handed back).
const char* lease_state(const cluster::lease& l, int64_t now) {
  if (l.owner.empty())
    return "free";
  return l.expires_at_ms > now ? "held" : "expired";
}

} // namespace

cluster_counters cluster_metrics(const cluster::membership& m,
                                 const cluster::peer_table* peers,
                                 const request_forwarder* forwarder) {
  auto v = m.view();
  cluster_counters k;
  k.shards = v.shards;
  // Those the node may count on now.
  k.shards_owned = static_cast<uint64_t>(
      std::count_if(v.valid_for_ms.begin(), v.valid_for_ms.end(),
                    [](const std::pair<const uint32_t, int64_t>& s) {
                      return s.second > 0;
                    }));
  k.nodes_live = static_cast<uint64_t>(
      std::count_if(v.table.nodes.begin(), v.table.nodes.end(),
                    [&v](const cluster::node_row& n) { return live(v, n); }));
  k.gained_total = v.gained_total;
  k.lost_total = v.lost_total;
  k.ticks = v.ticks;
  k.ticks_failed = v.ticks_failed;
  auto age = age_ms(v.last_tick);
  k.last_tick_age_seconds = age < 0 ? -1.0 : static_cast<double>(age) / 1000;
  if (peers != nullptr)
    for (auto& entry : peers->snapshot()) {
      ++k.peers;
      k.peers_reachable += entry.second.reachable ? 1 : 0;
    }
  if (forwarder != nullptr) {
    auto f = forwarder->counts();
    k.forwarding = true;
    k.forwarded_answered = f.answered;
    k.forwarded_failed = f.failed;
    k.forwarded_unroutable = f.unroutable;
    k.forward_bounds_us.assign(std::begin(forward_bounds_us),
                               std::end(forward_bounds_us));
    k.forward_buckets = f.latency_buckets;
    k.forward_seconds_sum = static_cast<double>(f.latency_us_sum) / 1e6;
  }
  return k;
}

void add_owner_hint(const cluster::membership& m, json& details) {
  auto shard = details.find("shard");
  if (shard == details.end() || !shard->is_number_unsigned())
    return;
  auto h = m.holder_of(static_cast<uint32_t>(shard->get<uint64_t>()));
  if (!h)
    return;
  details["owner"] = h->node;
  details["epoch"] = h->epoch;
  if (!h->http.empty())
    details["ownerHttp"] = h->http;
}

std::pair<std::string, bool> holder_now(const cluster::membership& m,
                                        uint32_t shard) {
  auto h = m.holder_of(shard);
  if (!h)
    return {};
  return {h->node, h->node == m.config().node};
}

std::chrono::milliseconds lease_ttl(const cluster::membership& m) {
  return m.config().ttl;
}

void api::impl::cluster_status(const call_ptr& c) {
  auto q = parse_query(c->req.query, {"leases"});
  bool with_leases = true;
  if (auto i = q.find("leases"); i != q.end()) {
    if (i->second != "all" && i->second != "none")
      invalid("leases", "must be all or none");
    with_leases = i->second == "all";
  }
  if (opts.cluster == nullptr)
    return fail(c, make_error(errc::not_found,
                              "this omsd is not a cluster node (start it "
                              "with --cluster and --node-id)"));
  auto v = opts.cluster->view();
  auto now = v.table.now_ms;
  std::map<std::string, uint64_t> held_by;
  for (auto& l : v.table.leases)
    if (std::string_view{lease_state(l, now)} == "held")
      ++held_by[l.owner];
  json owned = json::array();
  for (auto& [shard, epoch] : v.owned)
    owned.push_back(
        {{"shard", shard},
         {"epoch", epoch},
         {"validForMs", v.valid_for_ms[shard]},
         {"heldSinceMonotonicMs", v.hold_monotonic_ms[shard].first},
         {"validUntilMonotonicMs", v.hold_monotonic_ms[shard].second}});
  std::map<std::string, cluster::peer_state> peers;
  if (opts.peers != nullptr)
    peers = opts.peers->snapshot();
  json nodes = json::array();
  for (auto& n : v.table.nodes) {
    json one{{"id", n.id},
             {"http", n.http},
             {"region", n.address},
             {"heartbeatAgeMs", now - n.heartbeat_ms},
             {"live", live(v, n)},
             {"shardsHeld", held_by[n.id]},
             {"self", n.id == v.node}};
    // How this node reaches its region (through CAF's middleman).
    if (auto p = peers.find(n.id); p != peers.end()) {
      auto& ps = p->second;
      json link{{"reachable", ps.reachable},
                {"connected", ps.connected},
                {"pingsAnswered", ps.pings_answered},
                {"pingsFailed", ps.pings_failed},
                {"connectsFailed", ps.connects_failed},
                {"connectionsLost", ps.downs}};
      if (ps.rtt_ms >= 0)
        link["rttMs"] = ps.rtt_ms;
      if (!ps.last_error.empty())
        link["lastError"] = ps.last_error;
      one["link"] = std::move(link);
    }
    nodes.push_back(std::move(one));
  }
  // Held and loaded: what the node answers for now.
  json served = json::array();
  if (auto& shards = oms.ctx()->shards)
    for (auto& [shard, epoch] : shards->served())
      served.push_back({{"shard", shard}, {"epoch", epoch}});
  json forwarded = nullptr;
  if (opts.forwarder != nullptr) {
    auto f = opts.forwarder->counts();
    forwarded = {{"answered", f.answered},
                 {"failed", f.failed},
                 {"unroutable", f.unroutable}};
    if (f.answered > 0)
      forwarded["meanMs"] = static_cast<double>(f.latency_us_sum) /
                            static_cast<double>(f.answered) / 1000.0;
  }
  json handed_back = json::array();
  for (auto& h : v.handbacks)
    handed_back.push_back(
        {{"shard", h.shard}, {"epoch", h.epoch}, {"atMonotonicMs", h.at}});
  // Who serves what is one for the whole cluster (the duty shard's holder,
  // by the table the keeper last read): where the WMS calls come from.
  json duty{{"shard", duty_shard},
            {"holder", nullptr},
            {"servedHere", static_cast<bool>(oms.ctx()->shards) &&
                               oms.ctx()->shards->serves(duty_shard)},
            {"runs", {"webhook deliveries", "the EXTERNAL seller"}}};
  for (auto& l : v.table.leases)
    if (l.shard == duty_shard &&
        std::string_view{lease_state(l, now)} == "held")
      duty["holder"] = l.owner;
  json answer{
      {"node", v.node},
      {"duty", std::move(duty)},
      {"shards", v.shards},
      {"leaseTtlMs", v.ttl.count()},
      {"routing",
       opts.forwarder != nullptr
           ? "forward: a request for another node's shard goes to its "
             "owner's region and the owner's answer comes back (421 "
             "NOT_OWNER naming the owner when no route to it came within "
             "the wait)"
           : "owner only: a request for another node's shard is answered "
             "421 NOT_OWNER naming the owner (no --cluster-listen)"},
      {"served", std::move(served)},
      {"forwarded", std::move(forwarded)},
      {"owned", std::move(owned)},
      {"nodes", std::move(nodes)},
      {"keeper",
       {{"ticks", v.ticks},
        {"ticksFailed", v.ticks_failed},
        {"lastTickAgeMs", age_ms(v.last_tick)},
        {"lastTickClean", v.last_tick_clean},
        {"lastErrors", v.errors},
        {"shardsGained", v.gained_total},
        {"shardsLost", v.lost_total},
        {"stopped", v.stopped}}},
      {"handedBack", std::move(handed_back)},
  };
  if (now > 0)
    answer["tableReadAt"] = format_timestamp(now);
  if (with_leases) {
    json leases = json::array();
    for (auto& l : v.table.leases) {
      json one{{"shard", l.shard},
               {"epoch", l.epoch},
               {"state", lease_state(l, now)}};
      if (!l.owner.empty())
        one["owner"] = l.owner;
      if (std::string_view{lease_state(l, now)} == "held")
        one["expiresInMs"] = l.expires_at_ms - now;
      leases.push_back(std::move(one));
    }
    answer["leases"] = std::move(leases);
  }
  reply(c, 200, answer);
}

} // namespace oms::daemon
