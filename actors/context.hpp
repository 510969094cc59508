// What every actor of the order system shares: the settings it runs with,
// the JOURNAL it hands its events to, and the wall clock. Immutable once the
// system is started.
#pragma once

#include <chrono>
#include <memory>

#include <caf/actor_clock.hpp>

#include "actors/validation.hpp"
#include "messages/domain.hpp"
#include "messages/journal_protocol.hpp"
#include "messages/payment_protocol.hpp"

namespace oms {

/// Settings the actors run with; system/ fills them from config and flags.
struct settings {
  /// How long a CREATED order holds its units before it cancels itself.
  std::chrono::milliseconds hold_ttl = std::chrono::minutes(15);
  /// How long an expired order waits before retrying its cancellation when
  /// the journal refused it.
  std::chrono::milliseconds expire_retry_interval = std::chrono::seconds(1);
  /// How long a refund the gateway did not answer waits before it is asked
  /// again, doubling each time up to refund_retry_interval_max.
  std::chrono::milliseconds refund_retry_interval = std::chrono::seconds(2);
  std::chrono::milliseconds refund_retry_interval_max = std::chrono::minutes(5);
  /// How long idempotency keys are remembered.
  std::chrono::milliseconds idempotency_window = std::chrono::hours(24);
  /// How often customers forget keys older than the window.
  std::chrono::milliseconds idempotency_purge_interval = std::chrono::hours(1);
  /// Most lines a cart may hold.
  size_t cart_lines_max = 100;
  /// How long a blocking client call waits for the actor system's answer.
  std::chrono::milliseconds request_timeout = std::chrono::seconds(30);
  /// Most events the journal commits in one batch (one transaction).
  size_t journal_batch_events_max = 4096;
  /// Bounds on requests.
  order_limits limits;
};

/// Shared, read-only runtime context.
struct context {
  oms::settings settings;
  journal_actor journal;
  payment_actor payments;
  /// Wall-clock time at `clock_anchor`, in ms since the epoch.
  timestamp_ms epoch_anchor_ms = 0;
  /// The actor clock's time when the system started.
  caf::actor_clock::time_point clock_anchor;

  /// Wall-clock milliseconds now, derived from the actor clock so that tests
  /// on virtual time see timestamps move with their timers.
  timestamp_ms now(const caf::actor_clock& clock) const {
    using namespace std::chrono;
    return epoch_anchor_ms +
           duration_cast<milliseconds>(clock.now() - clock_anchor).count();
  }
};

using context_ptr = std::shared_ptr<const context>;

} // namespace oms
