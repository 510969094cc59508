// omsd as a cluster node (docs/cluster.md): joining the cluster and
// opening the node's region (system/daemon/omsd_cluster.cpp).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/expected.hpp>
#include <caf/send.hpp>

#include "messages/cluster_protocol.hpp"
#include "system/cluster/membership.hpp"
#include "system/cluster/region.hpp"
#include "system/daemon/cluster_node.hpp"
#include "system/daemon/config.hpp"

namespace oms::daemon {

/// The node's membership of the cluster, holding its share of the leases,
/// its lease keeper's changes logged and handed to `bridge`; null if omsd
/// is not a cluster node. `handing_back` is called with the leases the
/// keeper is about to hand back (shard -> epoch), before it does.
caf::expected<std::shared_ptr<cluster::membership>> join_cluster(
    const daemon_config& cfg, std::shared_ptr<shard_bridge> bridge,
    std::function<void(const std::map<uint32_t, int64_t>&)> handing_back = {});

/// The node's region published on --cluster-listen, and its watch over the
/// other nodes' regions; none without --cluster-listen.
struct region_link {
  region_actor region;
  /// Where the region finds the API to answer forwarded requests.
  std::shared_ptr<cluster::forward_slot> slot;
  caf::actor watcher;
  std::shared_ptr<cluster::peer_table> peers;
  /// What closes the watcher (peer_watch_config::close_key).
  uint64_t close_key = 0;
  /// How long finish_stop() waits for the watcher's dials under way.
  caf::timespan dials_wait{};

  /// The region stops, and the watcher stops dialing. No unpublish: it
  /// waits for the middleman, which may be stuck in a connect to a host
  /// that drops packets; the port closes when the actor system ends.
  void begin_stop();
  /// Waits (at most dials_wait) until the middleman answered the watcher's
  /// dials under way, so that none completes as the actor system ends,
  /// then ends the watcher.
  void finish_stop();
  /// Both.
  void stop() {
    begin_stop();
    finish_stop();
  }
};

/// The node's region on --cluster-listen and its watch over the other
/// nodes' regions (`m` kept alive by their functions); none without
/// --cluster-listen.
caf::expected<region_link>
open_region(caf::actor_system& sys, const daemon_config& cfg,
            std::shared_ptr<const cluster::membership> m);

} // namespace oms::daemon
