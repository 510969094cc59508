// What makes omsd a cluster node's order system (docs/cluster.md): the
// bridge from the lease keeper's ticks to the SUPERVISOR (a shard lost is
// not served from that instant; a shard taken is loaded, then served), the
// fence every commit of the shared store makes, and the customers the
// other nodes registered.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <caf/actor_system.hpp>

#include "actors/shard_map.hpp"
#include "messages/cluster_protocol.hpp"
#include "messages/supervisor_protocol.hpp"
#include "system/cluster/lease_keeper.hpp"
#include "system/http/exchange.hpp"
#include "system/store/pg_store.hpp"

namespace oms::cluster {
class membership;
class peer_table;
} // namespace oms::cluster

namespace oms::daemon {

class token_registry;

/// The shard whose holder runs the cluster's webhook deliveries
/// (webhook_duty.hpp); its lease fences their subscriptions and cursors.
/// It is the duty shard, whose holder also serves the EXTERNAL seller.
inline constexpr uint32_t webhook_duty_shard = duty_shard;

/// Takes the lease keeper's changes (on its thread) to the SUPERVISOR.
class shard_bridge {
 public:
  explicit shard_bridge(std::shared_ptr<shard_map> shards);

  /// The membership's change handler: a shard lost stops being served at
  /// once (the fence refuses its commits from this instant) and its actors
  /// stop; a shard taken is handed to the SUPERVISOR to load and serve.
  void on_change(const cluster::keeper_changes& changes);

  /// From now on the changes go to `sup`; first, every shard `m` holds now.
  void attach(supervisor_actor sup, const cluster::membership& m);

  /// No SUPERVISOR any more (omsd stops); nothing is served from now on.
  void detach();

 private:
  std::mutex mtx_;
  std::shared_ptr<shard_map> shards_;
  supervisor_actor sup_;
};

/// The fence of a cluster node's store: every shard a batch touches (its
/// events' SKUs, and the lines of the orders they record) must be served
/// by this node, and PostgreSQL must say, in the commit's transaction and
/// under the rows' locks, that `node` holds each with the epoch it serves
/// it under (cluster::lease_table::fenced_all, `schema`: the lease table's).
pg_store::fence_fn shard_fence(std::shared_ptr<const shard_map> shards,
                               std::string node, std::string schema);

/// What the journal asks of each append of a cluster node before it joins
/// a batch (journal_store::admit): NOT_OWNER when a change is of a shard
/// the node does not serve now, or was stamped by its writer with another
/// epoch than the one it serves it under (event::fence): refused alone,
/// where the fence would refuse the whole batch it joined.
pg_store::admit_fn shard_admission(std::shared_ptr<const shard_map> shards);

/// Adds to `tokens`, every `interval`, the customers other nodes
/// registered in the shared store (`schema` on `conninfo`): a customer
/// created at one node can call any other within about that long.
class customer_follower {
 public:
  customer_follower(std::string conninfo, std::string schema,
                    token_registry& tokens, std::chrono::milliseconds interval);
  ~customer_follower();

  customer_follower(const customer_follower&) = delete;
  customer_follower& operator=(const customer_follower&) = delete;

 private:
  void run();
  /// One look: new customers added; false if the server could not be
  /// asked.
  bool poll();

  std::string conninfo_;
  std::string schema_;
  token_registry& tokens_;
  std::chrono::milliseconds interval_;
  std::mutex mtx_;
  std::condition_variable wake_;
  bool stopping_ = false;
  int64_t known_ = -1;                     // rows counted at the last look
  std::unique_ptr<pqxx::connection> conn_; // the follower's thread's only
  std::thread thread_;
};

/// What a forwarded request carries of an API request, and back.
forwarded_request to_forwarded(const std::string& from_node,
                               const http::request& req);
http::request from_forwarded(forwarded_request fr);
forwarded_response to_forwarded(const http::response& resp);
http::response from_forwarded(forwarded_response fr);

/// How many requests a node forwarded, and how long the owners took.
struct forward_counts {
  /// Answered by the owner (whatever the status).
  uint64_t answered = 0;
  /// Sent, but no answer came in time (or the link failed): the client
  /// got 503 UNAVAILABLE (the owner may have made the change).
  uint64_t failed = 0;
  /// Not sent: the owner's region was not connected.
  uint64_t unroutable = 0;
  /// Round trips of the answered ones: sum, and a count per bucket (up to
  /// each of forward_bounds_us, then +Inf).
  uint64_t latency_us_sum = 0;
  std::vector<uint64_t> latency_buckets;
};

/// Bounds of the forwarded requests' latency histogram, in microseconds.
inline constexpr uint64_t forward_bounds_us[] = {
    250, 500, 1000, 2500, 5000, 10000, 25000, 100000, 1000000};

/// Forwards requests for a shard another node owns to that node's region
/// (CAF's middleman), with a timeout. Thread-safe.
class request_forwarder {
 public:
  request_forwarder(caf::actor_system& sys, std::string node,
                    std::shared_ptr<const cluster::peer_table> peers,
                    std::chrono::milliseconds timeout);

  using answered = std::function<void(std::optional<http::response>)>;

  /// Sends `req` to `owner`'s region, with the customer this node
  /// authenticated it as (if any); `done` gets the owner's answer, or
  /// nothing if none came within the timeout. False, and `done` is not
  /// called, if the owner's region is not connected.
  bool forward(const std::string& owner, const http::request& req,
               std::optional<customer_record> caller, answered done);

  forward_counts counts() const;

  /// Whether `owner`'s region is connected now (forward() would send).
  bool routable(const std::string& owner) const;

 private:
  struct figures;
  caf::actor_system& sys_;
  std::string node_;
  std::shared_ptr<const cluster::peer_table> peers_;
  std::chrono::milliseconds timeout_;
  std::shared_ptr<figures> figures_;
};

} // namespace oms::daemon
