// What every actor of the order system shares: the settings it runs with,
// the JOURNAL it hands its events to, and the wall clock. Immutable once the
// system is started.
#pragma once

#include <chrono>
#include <memory>

#include <caf/actor_clock.hpp>

#include "actors/shard_map.hpp"
#include "actors/validation.hpp"
#include "messages/domain.hpp"
#include "messages/journal_protocol.hpp"
#include "messages/payment_protocol.hpp"
#include "messages/wms_protocol.hpp"

namespace oms {

/// How long a request waits for the actor system's answer unless configured
/// otherwise (omsd's --request-timeout).
inline constexpr std::chrono::milliseconds request_timeout_default =
    std::chrono::seconds(10);

/// How the EXTERNAL seller's stock is kept (see docs/external-inventory.md).
struct external_settings {
  /// Units per SKU never sold, whatever the WMS says.
  int64_t safety_buffer = 0;
  /// How often the WMS's batch job runs: a snapshot is read again once the
  /// next batch should have landed.
  std::chrono::milliseconds batch_interval = std::chrono::minutes(15);
  /// Never read one SKU's snapshot more often than this.
  std::chrono::milliseconds snapshot_min_interval = std::chrono::seconds(10);
  /// Waits between retries of WMS calls the gateway gave up on, doubling
  /// from retry_min to retry_max.
  std::chrono::milliseconds retry_min = std::chrono::seconds(1);
  std::chrono::milliseconds retry_max = std::chrono::minutes(1);
  /// How often the WMS's event feed is read, and how many events per page.
  std::chrono::milliseconds feed_interval = std::chrono::seconds(5);
  uint32_t feed_page = 100;
  /// A cluster node's: how long after it took the duty a reserve sent by
  /// the former holder may still reach the WMS (the gateway's call
  /// deadline and one attempt's timeout). A release the WMS did not know
  /// of a reservation never acknowledged is sent again after this long.
  std::chrono::milliseconds stale_call_grace = std::chrono::seconds(75);
};

/// Settings the actors run with; system/ fills them from config and flags.
struct settings {
  /// How long a CREATED order holds its units before it cancels itself.
  std::chrono::milliseconds hold_ttl = std::chrono::minutes(15);
  /// A cluster's order across shards (docs/cluster.md): how long after
  /// hold_ttl the owner of another shard's SKU keeps the units it reserved
  /// for the order before it gives them back by itself (the order's own
  /// node gives them back at its expiry; this is for an order that never
  /// came to be, its node gone before it was journaled).
  std::chrono::milliseconds foreign_hold_grace = std::chrono::minutes(1);
  /// How often that owner reads the records of such orders from the store
  /// the nodes share, to make a change whose message was lost.
  std::chrono::milliseconds off_shard_check_interval = std::chrono::seconds(30);
  /// How long after delivery a customer may ask to return units.
  std::chrono::milliseconds return_window = std::chrono::hours(24 * 30);
  /// How long an expired order waits before retrying its cancellation when
  /// the journal refused it.
  std::chrono::milliseconds expire_retry_interval = std::chrono::seconds(1);
  /// How long a refund the gateway did not answer waits before it is asked
  /// again, doubling each time up to refund_retry_interval_max.
  std::chrono::milliseconds refund_retry_interval = std::chrono::seconds(2);
  std::chrono::milliseconds refund_retry_interval_max = std::chrono::minutes(5);
  /// How long an open order's actor with nothing under way stays with no
  /// message before it ends and the order rests on its stored record (it
  /// ends within a quarter of one more); zero keeps every open
  /// order's actor.
  std::chrono::milliseconds order_idle_timeout = std::chrono::minutes(1);
  /// How long idempotency keys are remembered.
  std::chrono::milliseconds idempotency_window = std::chrono::hours(24);
  /// How long a customer's actor at rest stays with no request before it
  /// ends (checked once per this interval).
  std::chrono::milliseconds customer_idle_timeout = std::chrono::hours(1);
  /// How long the INBOX remembers an inbound event id (a delivery of an id
  /// older than this is applied as new), and how often it forgets older ones.
  std::chrono::milliseconds inbox_retention = std::chrono::hours(24 * 30);
  std::chrono::milliseconds inbox_purge_interval = std::chrono::hours(1);
  /// Most lines a cart may hold.
  size_t cart_lines_max = 100;
  /// How long a call (the HTTP front's or a blocking client's) waits for the
  /// actor system's answer.
  std::chrono::milliseconds request_timeout = request_timeout_default;
  /// Most events the journal commits in one batch (one transaction).
  size_t journal_batch_events_max = 4096;
  /// Bounds on requests.
  request_limits limits;
  /// The EXTERNAL seller.
  external_settings external;
};

/// Shared, read-only runtime context.
struct context {
  oms::settings settings;
  journal_actor journal;
  /// Where the reads that need no append committed first go (an inbound
  /// change's id, an idempotency key, a customer's orders, the admin
  /// search): the JOURNAL's reader when its store has one, so that they
  /// never wait behind a commit; else the JOURNAL itself.
  journal_reader_actor journal_reads;
  payment_actor payments;
  /// The gateway to the EXTERNAL seller's WMS; null when none is configured
  /// (EXTERNAL requests then fail with WMS_UNAVAILABLE).
  wms_gateway_actor wms;
  /// A cluster node's shards (docs/cluster.md): which it serves, under which
  /// lease epoch. Null on a single node, which serves every SKU.
  std::shared_ptr<shard_map> shards;
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
