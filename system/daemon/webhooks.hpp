// Webhooks: the subscriptions and their delivery, a transactional outbox read
// from the journal. Each subscription has a courier thread
// (webhook_courier.cpp) that reads the committed events past its cursor and
// posts those its types select one at a time, signed (webhook_wire.hpp); its
// cursor moves only once the receiver acknowledged (2xx), and the control
// thread journals the cursors that moved every 200 ms: delivery is at least
// once, in order, never of an uncommitted change and never lost across a
// crash. A receiver that fails is retried with a capped backoff; one that
// refuses an event (4xx) sends it to the dead letters; too many failures in
// a row pause the subscription. Changes to the subscriptions go through the
// same control thread, which journals them in turn, so an API thread never
// waits for the journal (webhooks.cpp; webhooks_impl.hpp is the state both
// halves share).
//
// Stored as named values of the journal (inbox_cursor events, reason =
// name): "webhook:ID" the subscription (webhook_config, stored_json; ""
// once deleted), "webhook-cursor:ID" the last event acknowledged,
// "webhook-dead:ID" its dead letters (a JSON array, the latest 100).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <caf/expected.hpp>
#include <caf/fwd.hpp>
#include <nlohmann/json.hpp>

#include "messages/journal_protocol.hpp"

namespace oms::daemon {

struct webhook_settings {
  /// Hosts a destination may name (read_allowed_hosts).
  std::vector<std::string> allowed_hosts = {"127.0.0.1", "localhost", "::1"};
  /// Longest wait for one delivery's answer.
  std::chrono::milliseconds timeout = std::chrono::seconds(10);
  /// Backoff after the first failure, doubled per failure up to retry_max.
  std::chrono::milliseconds retry_base = std::chrono::seconds(2);
  std::chrono::milliseconds retry_max = std::chrono::minutes(10);
  /// Failures in a row (retried or dead) that pause a subscription.
  uint32_t failures_max = 12;
  /// How long a rotated-out secret still signs, unless the rotation says.
  std::chrono::milliseconds rotation_grace = std::chrono::hours(24);
  /// Subscriptions at most.
  size_t webhooks_max = 64;
  /// On a cluster, the duty shard (webhook_duty.hpp) and the epoch of the
  /// lease under which this dispatcher runs: stamped on every change it
  /// journals, which the fence then lets through only while the node still
  /// serves that shard under that epoch; a change asked after stop() is
  /// refused NOT_OWNER of that shard. 0 on a single node.
  uint32_t duty_shard = 0;
  int64_t fence = 0;
  /// On a cluster, whether the node still serves the duty shard under
  /// `fence`: asked before every read and delivery, so that a holder that
  /// lost the shard (frozen past its lease, then woken) stops sending as
  /// soon as its lease keeper has seen the loss. Empty: always.
  std::function<bool()> may_deliver;
};

/// Whether a named value of the journal is one of the webhooks' (a
/// subscription, its cursor or its dead letters).
bool is_webhook_value(std::string_view name);

/// Fields of a subscription to set; those not set stay (create needs url
/// and types).
struct webhook_change {
  std::optional<std::string> url;
  std::optional<std::vector<std::string>> types;
  std::optional<std::string> description;
  std::optional<bool> paused;
};

/// Counters for /metrics.
struct webhook_counters {
  uint64_t delivered = 0;
  /// Attempts that failed and are retried.
  uint64_t failed = 0;
  uint64_t dead = 0;
  /// Events pruned by the retention before a subscription read them.
  uint64_t expired = 0;
  uint64_t active = 0;
  uint64_t paused = 0;
  /// Events past each subscription's cursor, summed (against `last_seq`).
  uint64_t lag_events = 0;
  /// Age of the oldest event a subscription is trying to deliver (0: none).
  double oldest_undelivered_s = 0;
};

class webhook_dispatcher {
 public:
  using answer = std::function<void(caf::expected<nlohmann::json>)>;

  /// Restores the subscriptions from the journal's named values `stored`
  /// (order_system::cursors_at_start) and starts their couriers.
  webhook_dispatcher(
      caf::actor_system& sys, journal_actor journal, webhook_settings cfg,
      const std::vector<std::pair<std::string, std::string>>& stored);
  /// Stops (see stop()).
  ~webhook_dispatcher();

  webhook_dispatcher(const webhook_dispatcher&) = delete;
  webhook_dispatcher& operator=(const webhook_dispatcher&) = delete;

  const webhook_settings& settings() const;

  // Changes: journaled by the control thread, then `done` runs there with
  // the subscription as shown (or the error).

  /// A new subscription; its answer also holds the secret, shown once. It
  /// receives the events committed after it.
  void create(webhook_change fields, answer done);
  void update(const std::string& id, webhook_change fields, answer done);
  void remove(const std::string& id, answer done);
  /// A new secret (shown once); the old one still signs for `grace`.
  void rotate(const std::string& id, std::chrono::milliseconds grace,
              answer done);

  // Reads, at once.

  caf::expected<nlohmann::json> list() const;
  caf::expected<nlohmann::json> get(const std::string& id) const;
  /// The latest deliveries, newest first, and the dead letters.
  caf::expected<nlohmann::json> deliveries(const std::string& id) const;
  /// Delivers the event of a recorded delivery again (a dead letter, a
  /// delivered one, or the one waiting for its next try: at once), one at a
  /// time with the others; answers the delivery as it stands.
  caf::expected<nlohmann::json> retry(const std::string& id, uint64_t event);

  webhook_counters counters(uint64_t last_seq) const;

  /// Stops the couriers (a delivery under way is abandoned, to be made
  /// again after the restart) and the control thread; idempotent.
  void stop();

 private:
  struct impl;
  std::unique_ptr<impl> d_;
};

} // namespace oms::daemon
