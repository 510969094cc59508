// The domain events the JOURNAL stores in order, and the counters it reports.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "messages/basics.hpp"
#include "messages/customers.hpp"
#include "messages/orders.hpp"
#include "messages/stock.hpp"

namespace oms {

/// What happened; the journal stores these in order. Stock events are deltas
/// (sku, order, quantity); order events carry the order's full state after the
/// change.
enum class event_kind : uint8_t {
  sku_created = 0,      // sku, amount = unit price
  price_set = 1,        // sku, amount = new unit price
  stock_received = 2,   // sku, quantity
  stock_reserved = 3,   // sku, order, quantity
  stock_blocked = 4,    // sku, order, quantity (reserved -> blocked)
  stock_released = 5,   // sku, order, quantity (back to available)
  stock_consumed = 6,   // sku, order, quantity (left on-hand on shipment)
  order_created = 7,    // order, snapshot
  order_changed = 8,    // order, snapshot (status, amounts or lines changed),
                        // quantity = status_before_code (0: not recorded)
  customer_created = 9, // customer
  stock_moved = 10,     // sku, lot, quantity (+ into / - out of
                        // unallocatable), reason
  stock_adjusted = 11,  // sku, lot, quantity (signed), reason
  batch_expired = 12,   // sku, lot, quantity (remainder now EXPIRED)
  inbox_cursor = 13,    // a feed's cursor: source (reason), cursor (lot);
                        // or an inbound event recorded without effect:
                        // inbox_id, reason = why it was rejected
  wms_synced = 14,      // sku, order, quantity, reason = WMS state,
                        // amount = WMS change sequence (0: intent)
  inbox_forgotten = 15, // inbound event ids recorded before amount (ms
                        // since the epoch) are forgotten (retention)
  stock_returned = 16,  // sku, order, lot, expires_at, quantity: units a
                        // customer returned are on hand again, set aside
                        // QUARANTINED (counted as an adjustment)
};

/// The highest event_kind code.
inline constexpr event_kind last_event_kind = event_kind::stock_returned;

/// "sku_created", "price_set", ...
const char* to_string(event_kind x);

/// Parses what to_string(event_kind) writes; false for anything else.
bool parse_event_kind(std::string_view str, event_kind& out);

/// Whether events of this kind carry an order's whole record (snapshot).
constexpr bool is_order_event(event_kind kind) {
  return kind == event_kind::order_created || kind == event_kind::order_changed;
}

/// Whether events of this kind change a SKU's version: the changes made to
/// the SKU itself (creation, price, receipts, adjustments, set-asides and
/// returns to sale, expiries). The holds of orders on it (reserved, blocked,
/// released, consumed) are the orders' changes and version the orders.
constexpr bool versions_sku(event_kind kind) {
  switch (kind) {
    case event_kind::sku_created:
    case event_kind::price_set:
    case event_kind::stock_received:
    case event_kind::stock_adjusted:
    case event_kind::stock_moved:
    case event_kind::batch_expired:
    case event_kind::stock_returned:
      return true;
    default:
      return false;
  }
}

/// What an order_changed event's quantity holds: 1 + the status the order
/// had before the change (0, in events stored before it was recorded, means
/// not known).
constexpr int64_t status_before_code(order_status before) {
  return static_cast<int64_t>(before) + 1;
}

/// One domain event.
struct event {
  event_kind kind = event_kind::stock_received;
  timestamp_ms at = 0;
  sku_id sku;
  order_id order;
  int64_t quantity = 0;
  money amount = 0;
  order_record snapshot;    // order events only
  customer_record customer; // customer_created only
  /// Stock events: the batch, its expiry (receipts), the reason (moves,
  /// adjustments), the batches of a hold (stock_reserved).
  std::string lot;
  timestamp_ms expires_at = 0;
  std::string reason;
  std::vector<lot_allocation> lots;
  /// The id of the inbound event this change applies (inbox), if any: the
  /// journal records it with the change, so a replay changes nothing.
  std::string inbox_id;
  oms::seller seller = oms::seller::internal;
  /// Events that version a SKU (versions_sku): the SKU's version after this
  /// change (0 in events journaled before SKUs had versions). 0 otherwise.
  uint64_t version = 0;
  /// A cluster node's change made from what one shard's actor holds in
  /// memory (a SKU's, or an order's on the shard of its first line): the
  /// lease epoch under which the node served that shard when the actor
  /// started, its writer's fencing token. A commit refuses the change
  /// unless the node still holds the shard under that very epoch, so an
  /// actor left from before the node lost the shard and took it again
  /// cannot write next to the one that replaced it. 0: the epoch of the
  /// moment (a change that rests on no shard's memory), or no cluster; -1:
  /// an actor that started while its shard was not served (refused).
  /// Never stored.
  int64_t fence = 0;
};

/// Stamps every event of `events` with the fencing token `epoch`
/// (event::fence) of the actor that made them.
inline std::vector<event> under_epoch(std::vector<event> events,
                                      int64_t epoch) {
  for (auto& ev : events)
    ev.fence = epoch;
  return events;
}

/// The status before the change that an order_changed event records, if it
/// records one.
std::optional<order_status> status_before(const event& ev);

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, event& x) {
  return f(caf::meta::type_name("event"), x.kind, x.at, x.sku, x.order,
           x.quantity, x.amount, x.snapshot, x.customer, x.lot, x.expires_at,
           x.reason, x.lots, x.inbox_id, x.seller, x.version, x.fence);
}

/// Bucket bounds of the journal's histograms (cumulative counts, the last
/// bucket is +Inf).
inline constexpr uint64_t journal_batch_bounds[] = {
    1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096};
inline constexpr uint64_t journal_commit_us_bounds[] = {
    100,   250,   500,   1000,   2500,   5000,
    10000, 25000, 50000, 100000, 250000, 1000000};

/// Counters a JOURNAL reports about itself.
struct journal_stats {
  uint64_t events = 0;    // events made durable since start
  uint64_t batches = 0;   // commits (one transaction, one sync each)
  uint64_t appends = 0;   // append requests acknowledged
  uint64_t max_batch = 0; // most events in one commit
  uint64_t failures = 0;  // commits that failed
  uint64_t last_seq = 0;  // sequence number of the last durable event
  /// Commits by events per commit: count per bucket of journal_batch_bounds,
  /// plus one for larger batches (not cumulative).
  std::vector<uint64_t> batch_sizes;
  /// Commits by duration in microseconds, per bucket of
  /// journal_commit_us_bounds plus one for longer (not cumulative).
  std::vector<uint64_t> commit_us;
  uint64_t commit_us_sum = 0;
  /// Orders not yet terminal, by status (index: order_status).
  std::vector<uint64_t> open_orders;
  /// Orders that entered each status since start (index: order_status).
  std::vector<uint64_t> entered;
  /// True while the last commit failed: appends are not made durable (they
  /// answer STORE_FAILURE). The next commit that succeeds clears it.
  bool failing = false;
  /// When the failing began: wall clock, ms since the epoch (0 if not).
  timestamp_ms failing_since = 0;
  /// The error of the last failed commit ("" if not failing).
  std::string last_error;
  /// Durable events whose effect the store has not yet applied to its
  /// current-state tables (journal_store::unapplied), and the transactions
  /// that applied such events since start.
  uint64_t unapplied = 0;
  uint64_t applies = 0;
  /// Units the open orders hold, reserved (CREATED) and blocked (CONFIRMED,
  /// PAID), as their records say.
  int64_t units_reserved = 0;
  int64_t units_blocked = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, journal_stats& x) {
  return f(caf::meta::type_name("journal_stats"), x.events, x.batches,
           x.appends, x.max_batch, x.failures, x.last_seq, x.batch_sizes,
           x.commit_us, x.commit_us_sum, x.open_orders, x.entered, x.failing,
           x.failing_since, x.last_error, x.unapplied, x.applies,
           x.units_reserved, x.units_blocked);
}

} // namespace oms
