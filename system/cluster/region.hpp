// A node's REGION and how it watches the other nodes' (docs/cluster.md).
// The region is published through CAF's middleman on --cluster-listen; the
// peer watcher connects to every other live node's region (asynchronously,
// through the middleman actor, with a timeout: a hung peer never blocks
// it), monitors it, and pings it every interval. What it finds is kept in
// a peer_table that other threads read (GET /v1/cluster, /metrics). A
// peer is reachable while it is connected and its last ping was answered
// within the timeout; a peer that dies is noticed by the monitor (its
// connection closes) or, when it hangs or the network drops its packets,
// by a ping that times out and by the middleman's heartbeat.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "messages/cluster_protocol.hpp"
#include "messages/supervisor_protocol.hpp"
#include "system/cluster/leases.hpp"

namespace oms::cluster {

/// What a node knows of one peer's region.
struct peer_state {
  std::string address;
  /// Connected, and its last ping answered within the timeout.
  bool reachable = false;
  bool connected = false;
  /// Of the last ping answered.
  double rtt_ms = -1;
  /// What the peer said it holds at its last answer.
  uint64_t shards_reported = 0;
  std::string last_error;
  uint64_t pings_answered = 0;
  uint64_t pings_failed = 0;
  uint64_t connects_failed = 0;
  /// Connections lost (the monitor's down messages).
  uint64_t downs = 0;
  /// Its region, while connected.
  region_actor region;
};

/// The peers as the watcher last found them, by node id; thread-safe.
class peer_table {
 public:
  std::map<std::string, peer_state> snapshot() const;
  /// Changes one peer's entry (made if missing) under the lock.
  void update(const std::string& node,
              const std::function<void(peer_state&)>& change);
  /// Keeps only the peers in `nodes`.
  void keep_only(const std::vector<std::string>& nodes);
  /// The region of `node` while connected; null otherwise.
  region_actor region_of(const std::string& node) const;

 private:
  mutable std::mutex mtx_;
  std::map<std::string, peer_state> peers_;
};

/// "host:port" split; nullopt unless host is not empty and port is 1..65535.
std::optional<std::pair<std::string, uint16_t>>
split_host_port(const std::string& address);

/// What a region does with a request a peer forwarded: answers it through
/// `done`, exactly once, from any thread.
using forward_server = std::function<void(
    forwarded_request, std::function<void(forwarded_response)>)>;

/// Where a region finds its node's API, once the API is up (until then, and
/// after clear, a forwarded request is answered 503 NOT_READY).
/// Thread-safe.
class forward_slot {
 public:
  void set(forward_server serve);
  void clear() {
    set({});
    set_holds({});
  }
  forward_server get() const;

  /// The SUPERVISOR that makes the hold changes of other nodes' orders
  /// across shards (none: answered UNAVAILABLE).
  void set_holds(supervisor_actor sup);
  supervisor_actor holds() const;

  /// The region a peer that dials this node offered (its node id), kept
  /// until its watcher takes it (peer_watch_config::tls).
  void offer(const std::string& node, region_actor region);
  region_actor take_offer(const std::string& node);
  /// Peers whose offers are kept at once, at most.
  static constexpr size_t offers_max = 1024;

 private:
  mutable std::mutex mtx_;
  forward_server serve_;
  supervisor_actor holds_;
  std::map<std::string, region_actor> offers_;
};

/// Spawns the node's region: it answers pings with `node` and `owned()`,
/// and requests forwarded to it through `slot`.
region_actor spawn_region(caf::actor_system& sys, std::string node,
                          std::function<uint64_t()> owned,
                          std::shared_ptr<forward_slot> slot = nullptr);

struct peer_watch_config {
  std::string node;
  /// How often each peer is pinged (and a lost one connected again).
  std::chrono::milliseconds interval{1000};
  /// How long a connect or a ping may take before it counts as failed.
  std::chrono::milliseconds timeout{1000};
  /// Dial through CAF's OpenSSL module (mutual TLS, the system configured
  /// with this node's certificate and the cluster's CA) instead of its
  /// plain middleman. Then only the node of the lower id of a pair dials,
  /// and offers `own_region` with every ping; the other takes the region
  /// its peer offered (through `offers`) instead of dialing back.
  bool tls = false;
  region_actor own_region;
  std::shared_ptr<forward_slot> offers;
  /// What a close must carry (close_peer_watcher); 0 refuses every close.
  uint64_t close_key = 0;
};

/// Spawns the peer watcher: every interval it reads the nodes from
/// `nodes()` (called on its own thread: it must be thread-safe) and keeps
/// `table` up to date. Stop it with close_peer_watcher, then an exit
/// message.
caf::actor spawn_peer_watcher(caf::actor_system& sys, peer_watch_config cfg,
                              std::function<std::vector<node_row>()> nodes,
                              std::shared_ptr<peer_table> table);

/// Stops the watcher dialing (`key`: its peer_watch_config::close_key),
/// and waits (at most `wait`) until the middleman answered every dial
/// under way: a connection it makes while the actor system ends is never
/// released. False if the wait ran out (or the key is wrong).
bool close_peer_watcher(const caf::actor& watcher, uint64_t key,
                        caf::timespan wait);

/// In a leak-checked (AddressSanitizer) build, keeps what only CAF's link
/// machinery holds out of the leak report at exit (region.cpp says why);
/// nothing otherwise. Call once the middleman runs.
void keep_links_out_of_leak_reports(caf::actor_system& sys);

/// Stops the watcher dialing, without waiting (close_peer_watcher later
/// waits for the dials under way).
void begin_closing_peer_watcher(const caf::actor& watcher, uint64_t key);

} // namespace oms::cluster
