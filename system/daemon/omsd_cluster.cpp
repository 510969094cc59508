// omsd as a cluster node (docs/cluster.md): its membership of the cluster,
// with what each tick of its lease keeper changed logged and handed to the
// SUPERVISOR, and its region, published for the other nodes.
#include "system/daemon/omsd_cluster.hpp"

#include <map>
#include <random>
#include <string>
#include <vector>

#include <caf/io/middleman.hpp>
#include <caf/openssl/publish.hpp>
#include <caf/send.hpp>

#include "system/log.hpp"

namespace oms::daemon {

namespace {

// "3,4,7" (at most 32 shards, then "... (N in all)").
std::string shard_list(const std::vector<uint32_t>& shards) {
  std::string out;
  size_t shown = 0;
  for (auto s : shards) {
    if (shown++ == 32) {
      out += ",... (" + std::to_string(shards.size()) + " in all)";
      break;
    }
    out += (out.empty() ? "" : ",") + std::to_string(s);
  }
  return out;
}

// Logs what each tick of the node's lease keeper changed; a failing tick
// once when it starts failing and once when the keeper is clean again.
cluster::membership::change_handler log_lease_changes() {
  auto failing = std::make_shared<bool>(false);
  return [failing](const cluster::keeper_changes& changes) {
    if (!changes.lost.empty())
      log::info("cluster.shards_lost",
                {{"shards", shard_list(changes.lost)},
                 {"count", uint64_t{changes.lost.size()}}});
    if (!changes.gained.empty()) {
      std::vector<uint32_t> gained;
      for (auto& entry : changes.gained)
        gained.push_back(entry.first);
      log::info("cluster.shards_gained", {{"shards", shard_list(gained)},
                                          {"count", uint64_t{gained.size()}}});
    }
    if (!changes.errors.empty() && !*failing)
      log::warn("cluster.tick_failed", {{"error", changes.errors.front()}});
    else if (changes.errors.empty() && *failing)
      log::info("cluster.tick_clean", {});
    *failing = !changes.errors.empty();
  };
}

} // namespace

// The node's membership of the cluster, holding its share of the leases,
// if omsd is a cluster node.
caf::expected<std::shared_ptr<cluster::membership>> join_cluster(
    const daemon_config& cfg, std::shared_ptr<shard_bridge> bridge,
    std::function<void(const std::map<uint32_t, int64_t>&)> handing_back) {
  if (cfg.cluster.empty())
    return std::shared_ptr<cluster::membership>{};
  cluster::membership_config mc;
  mc.conninfo = cfg.cluster;
  mc.schema = cfg.cluster_schema;
  mc.shards = cfg.cluster_shards;
  mc.node = cfg.node_id;
  mc.http = "http://" + cfg.listen + ":" + std::to_string(cfg.port);
  mc.address = cfg.cluster_advertise.empty() ? cfg.cluster_listen
                                             : cfg.cluster_advertise;
  mc.ttl = cfg.lease_ttl;
  // Written before the table is asked: a record of when this node stopped
  // counting on each shard, even if it dies right after.
  mc.on_handback = [handing_back = std::move(handing_back)](
                       const std::map<uint32_t, int64_t>& held, int64_t at) {
    std::string shards;
    for (auto& [shard, epoch] : held)
      shards += (shards.empty() ? "" : ",") + std::to_string(shard) + ":" +
                std::to_string(epoch);
    log::info("cluster.handing_back", {{"shards", shards},
                                       {"count", uint64_t{held.size()}},
                                       {"at_monotonic_ms", at}});
    if (handing_back)
      handing_back(held);
  };
  try {
    auto logged = log_lease_changes();
    auto m = std::make_shared<cluster::membership>(
        mc, [logged, bridge](const cluster::keeper_changes& changes) {
          logged(changes);
          bridge->on_change(changes);
        });
    m->start();
    auto v = m->view();
    log::info("cluster.joined",
              {{"node", cfg.node_id},
               {"schema", cfg.cluster_schema},
               {"shards", uint64_t{cfg.cluster_shards}},
               {"owned", uint64_t{v.owned.size()}},
               {"lease_ttl", format_duration(cfg.lease_ttl)}});
    return m;
  } catch (const std::exception& e) {
    return make_error(errc::store_failure, e.what());
  }
}

void region_link::begin_stop() {
  if (watcher)
    cluster::begin_closing_peer_watcher(watcher, close_key);
  if (region)
    caf::anon_send_exit(region, caf::exit_reason::user_shutdown);
  region = nullptr;
}

void region_link::finish_stop() {
  if (!watcher)
    return;
  if (!cluster::close_peer_watcher(watcher, close_key, dials_wait))
    log::warn(
        "cluster.dials_unanswered",
        {{"wait",
          format_duration(std::chrono::duration_cast<std::chrono::milliseconds>(
              dials_wait))}});
  caf::anon_send_exit(watcher, caf::exit_reason::user_shutdown);
  watcher = nullptr;
}

// The region's and the watcher's functions keep `m` alive: the actors may
// run them after omsd let go of it.
caf::expected<region_link>
open_region(caf::actor_system& sys, const daemon_config& cfg,
            std::shared_ptr<const cluster::membership> m) {
  region_link link;
  if (cfg.cluster_listen.empty())
    return link;
  auto hp = cluster::split_host_port(cfg.cluster_listen);
  if (!hp)
    return make_error(errc::validation_failed,
                      "--cluster-listen: not IP:PORT: " + cfg.cluster_listen);
  auto owned = [m] {
    uint64_t valid = 0;
    for (auto& entry : m->view().valid_for_ms)
      valid += entry.second > 0 ? 1 : 0;
    return valid;
  };
  cluster::keep_links_out_of_leak_reports(sys);
  link.slot = std::make_shared<cluster::forward_slot>();
  link.region = cluster::spawn_region(sys, cfg.node_id, owned, link.slot);
  // reuse: a node started again at once (after a kill) binds its port
  // while the other nodes' connections to its earlier life linger.
  auto port = cfg.cluster_tls()
                  ? caf::openssl::publish(link.region, hp->second,
                                          hp->first.c_str(), true)
                  : sys.middleman().publish(link.region, hp->second,
                                            hp->first.c_str(), true);
  if (!port) {
    caf::anon_send_exit(link.region, caf::exit_reason::user_shutdown);
    return make_error(errc::store_failure, "cannot listen on " +
                                               cfg.cluster_listen + ": " +
                                               sys.render(port.error()));
  }
  link.peers = std::make_shared<cluster::peer_table>();
  cluster::peer_watch_config pw;
  pw.node = cfg.node_id;
  pw.interval = cfg.lease_ttl / 3;
  pw.timeout = cfg.lease_ttl / 3;
  pw.tls = cfg.cluster_tls();
  pw.own_region = link.region;
  pw.offers = link.slot;
  std::random_device random;
  while (pw.close_key == 0)
    pw.close_key = (uint64_t{random()} << 32) | random();
  link.close_key = pw.close_key;
  // The nodes registered, as the lease keeper's last tick read them, that
  // heartbeat within the last ten TTLs: one that died shows unreachable
  // for a while, then is watched no more (a node that died stays in the
  // table until it starts again).
  auto registered = [m] {
    auto v = m->view();
    std::vector<cluster::node_row> recent;
    for (auto& n : v.table.nodes)
      if (v.table.now_ms - n.heartbeat_ms <= 10 * v.ttl.count())
        recent.push_back(n);
    return recent;
  };
  link.watcher = cluster::spawn_peer_watcher(sys, pw, registered, link.peers);
  link.dials_wait = caf::timespan{2 * pw.timeout};
  log::info("cluster.region", {{"listen", cfg.cluster_listen},
                               {"advertise", cfg.cluster_advertise.empty()
                                                 ? cfg.cluster_listen
                                                 : cfg.cluster_advertise}});
  return link;
}

} // namespace oms::daemon
