// Who runs the webhook deliveries. On a single node, omsd's one dispatcher
// (webhooks.hpp) for as long as it runs. On a cluster, every node reads the
// whole shared log, so one node only delivers: the one that serves the
// duty shard (webhook_duty_shard, cluster_node.hpp). When it takes that
// shard it reads the subscriptions, cursors and dead letters the previous
// holder journaled and starts a dispatcher stamped with its lease's epoch,
// so that every change the dispatcher journals is fenced by that lease;
// when it loses the shard it stops the dispatcher. A request for the
// webhooks at another node is forwarded to the holder like one for any
// shard it serves (docs/cluster.md, "Webhooks on a cluster").
//
// Delivery stays at least once: a new holder starts from the cursors the
// previous one journaled, at most its cursor interval (200 ms) behind what
// it delivered, or the lease's time to live when it died.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "actors/shard_map.hpp"
#include "system/daemon/webhooks.hpp"

namespace oms::daemon {

class webhook_duty {
 public:
  using stored_values = std::vector<std::pair<std::string, std::string>>;
  /// Reads the named values of the shared store (each a name and a value):
  /// those of the webhooks at least. Throws when it cannot.
  using store_reader = std::function<stored_values()>;

  /// A single node: a dispatcher restored from `stored` runs until stop().
  webhook_duty(caf::actor_system& sys, journal_actor journal,
               webhook_settings cfg, const stored_values& stored);

  /// A cluster node: a dispatcher runs while the node serves `shard`
  /// (looked at every `poll`), restored from what `read` answers when the
  /// node takes it.
  webhook_duty(caf::actor_system& sys, journal_actor journal,
               webhook_settings cfg, std::shared_ptr<const shard_map> shards,
               uint32_t shard, store_reader read,
               std::chrono::milliseconds poll = std::chrono::milliseconds{50});

  /// Stops (see stop()).
  ~webhook_duty();

  webhook_duty(const webhook_duty&) = delete;
  webhook_duty& operator=(const webhook_duty&) = delete;

  /// The dispatcher running here; null on a cluster node that does not
  /// serve the duty shard now (or has not restored it yet), and once
  /// stopped.
  std::shared_ptr<webhook_dispatcher> here() const;

  /// How many times the watch of the duty shard found nothing to change
  /// (a test waits on it instead of the clock).
  uint64_t idle_looks() const;

  /// The duty shard on a cluster; none on a single node.
  std::optional<uint32_t> shard() const { return shard_; }

  const webhook_settings& settings() const { return cfg_; }

  /// Stops the dispatcher (its last cursors journaled, webhooks.hpp) and,
  /// on a cluster, the watch of the shard; idempotent.
  void stop();

  /// The node's lease keeper is about to hand `held` (shard -> epoch) back
  /// to the table: if the duty shard is among them under the running
  /// dispatcher's epoch, the dispatcher stops now, journaling its last
  /// cursors while the lease still lets it, and none starts again under
  /// that epoch.
  void handing_back(const std::map<uint32_t, int64_t>& held);

  /// The named values of the webhooks in `schema` of the PostgreSQL at
  /// `conninfo` (a reader for a cluster node).
  static store_reader postgres_reader(std::string conninfo, std::string schema);

 private:
  enum class taken { running, lost, unread };

  void watch();
  taken take(int64_t epoch);
  void drop();

  caf::actor_system& sys_;
  journal_actor journal_;
  webhook_settings cfg_;
  std::shared_ptr<const shard_map> shards_;
  std::optional<uint32_t> shard_;
  store_reader read_;
  std::chrono::milliseconds poll_{50};

  // Held over a take or a drop: the watch's and a hand-back's.
  std::mutex turn_;
  int64_t handed_back_ = 0;
  mutable std::mutex mtx_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::shared_ptr<webhook_dispatcher> current_;
  int64_t epoch_ = 0;
  uint64_t idle_looks_ = 0;
  std::thread watcher_;
};

} // namespace oms::daemon
