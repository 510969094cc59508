// A SKU's stock: its counters, batches (lots), units kept from sale, holds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <caf/error.hpp>
#include <caf/meta/load_callback.hpp>
#include <caf/meta/type_name.hpp>

#include "messages/basics.hpp"

namespace oms {

/// Why units that are physically present are not for sale.
enum class unallocatable_reason : uint8_t {
  damaged = 0,
  quarantined = 1,
  expired = 2,      // set by the batch's expiry timer, never by hand
  safety_stock = 3, // kept back on purpose
};

/// Number of unallocatable reasons.
inline constexpr size_t unallocatable_reason_count = 4;

/// "DAMAGED", "QUARANTINED", "EXPIRED", "SAFETY_STOCK".
const char* to_string(unallocatable_reason x);

/// Parses what to_string writes; false otherwise.
bool parse_unallocatable_reason(std::string_view str,
                                unallocatable_reason& out);

/// Units of one batch (lot) given to one order line.
struct lot_allocation {
  std::string lot;
  int64_t quantity = 0;
  /// When the batch expires (0: never, or not recorded): kept with the
  /// allocation so that units returned after the batch sold out come back
  /// into a batch with the same expiry.
  timestamp_ms expires_at = 0;
};

/// The same units of the same batch (the expiry is the batch's, recorded
/// with the allocation where known).
inline bool operator==(const lot_allocation& x, const lot_allocation& y) {
  return x.lot == y.lot && x.quantity == y.quantity;
}

inline bool operator!=(const lot_allocation& x, const lot_allocation& y) {
  return !(x == y);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, lot_allocation& x) {
  return f(caf::meta::type_name("lot_allocation"), x.lot, x.quantity,
           x.expires_at);
}

/// The first `quantity` units of `lots` (in their order): what remains of an
/// allocation after a partial release, which gives back the last units first.
std::vector<lot_allocation>
take_allocations(const std::vector<lot_allocation>& lots, int64_t quantity);

/// The `quantity` units of `lots` that follow its first `skip` units (in
/// their order): e.g. the units a shipment takes from an order line's
/// allocation after those shipped before.
std::vector<lot_allocation>
slice_allocations(const std::vector<lot_allocation>& lots, int64_t skip,
                  int64_t quantity);

/// One batch (lot) of a SKU. The lot "" is the batch of receipts that named
/// none. Invariant: on_hand = held + unallocatable + available.
struct batch_view {
  std::string lot;
  timestamp_ms expires_at = 0; // 0: never expires
  bool expired = false;
  int64_t on_hand = 0;
  int64_t held = 0; // reserved or blocked by orders
  int64_t available = 0;
  /// Per unallocatable_reason (index).
  std::vector<int64_t> unallocatable;
  timestamp_ms received_at = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, batch_view& x) {
  return f(caf::meta::type_name("batch_view"), x.lot, x.expires_at, x.expired,
           x.on_hand, x.held, x.available, x.unallocatable, x.received_at);
}

/// How an EXTERNAL SKU's availability is derived: the WMS's last batch
/// snapshot, corrected by what we know happened since.
///   available = snapshot_orderable + feed_delta - pending_holds - buffer
struct external_view {
  bool known = false;             // a snapshot was read
  int64_t snapshot_orderable = 0; // as the WMS reported it
  timestamp_ms snapshot_as_of = 0;
  int64_t snapshot_reflects = 0; // last WMS change the snapshot includes
  timestamp_ms read_at = 0;      // when we read the snapshot
  int64_t feed_delta = 0;    // receipts/adjustments from the feed since then
  int64_t pending_holds = 0; // our holds the snapshot does not reflect yet
  int64_t safety_buffer = 0;
  int64_t wms_pending = 0; // WMS calls not yet acknowledged
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, external_view& x) {
  return f(caf::meta::type_name("external_view"), x.known, x.snapshot_orderable,
           x.snapshot_as_of, x.snapshot_reflects, x.read_at, x.feed_delta,
           x.pending_holds, x.safety_buffer, x.wms_pending);
}

/// getAvailableInventory: one SKU's counters as its owner sees them now.
/// Invariants: available = on_hand - unallocatable - reserved - blocked >= 0
/// and received_total + adjusted_total = on_hand + consumed_total.
struct stock_view {
  sku_id sku;
  oms::seller seller = oms::seller::internal;
  money unit_price = 0;
  int64_t on_hand = 0;
  int64_t reserved = 0;
  int64_t blocked = 0;
  int64_t available = 0;
  int64_t received_total = 0;
  int64_t consumed_total = 0;
  timestamp_ms as_of = 0;
  /// Units present but not for sale, in total and per unallocatable_reason.
  int64_t unallocatable = 0;
  std::vector<int64_t> unallocatable_by_reason;
  /// Net corrections of on-hand (stock counts, write-offs).
  int64_t adjusted_total = 0;
  /// INTERNAL: the batches, first to expire first.
  std::vector<batch_view> batches;
  /// EXTERNAL: what the WMS last reported and how our count derives from it.
  external_view external;
  /// INTERNAL: the SKU's version (stock_ledger::version), its ETag; 0 for
  /// the EXTERNAL seller's SKUs (their stock is the WMS's).
  uint64_t version = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stock_view& x) {
  return f(caf::meta::type_name("stock_view"), x.sku, x.seller, x.unit_price,
           x.on_hand, x.reserved, x.blocked, x.available, x.received_total,
           x.consumed_total, x.as_of, x.unallocatable,
           x.unallocatable_by_reason, x.adjusted_total, x.batches, x.external,
           x.version);
}

/// One page of the SKUs of a seller, by SKU name; next_cursor is empty on the
/// last page.
struct inventory_page {
  std::vector<stock_view> items;
  std::string next_cursor;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, inventory_page& x) {
  return f(caf::meta::type_name("inventory_page"), x.items, x.next_cursor);
}

/// How units are held for an order: provisionally (order CREATED) or firmly
/// (order CONFIRMED or PAID).
enum class hold_kind : uint8_t { reserved = 0, blocked = 1 };

/// "RESERVED" or "BLOCKED".
const char* to_string(hold_kind x);

/// Where one of our holds on an EXTERNAL SKU stands at the seller's WMS.
enum class wms_state : uint8_t {
  none = 0,     // nothing there (or unknown: never acknowledged)
  reserved = 1, // reservation acknowledged
  blocked = 2,
  shipped = 3,
  released = 4,
};

/// "NONE", "RESERVED", "BLOCKED", "SHIPPED", "RELEASED".
const char* to_string(wms_state x);

/// Parses what to_string writes; false otherwise.
bool parse_wms_state(std::string_view str, wms_state& out);

/// Where a reservation stands at the WMS as the journal keeps it: what the
/// WMS acknowledged last and, while a call that changes it is on its way,
/// what the call asks for (journaled before the call).
struct wms_standing {
  wms_state known = wms_state::none;
  std::optional<wms_state> wanted;
};

bool operator==(const wms_standing& x, const wms_standing& y);

/// "KNOWN" or "KNOWN>WANTED" (e.g. "NONE>RESERVED"): the text journaled and
/// stored for a standing.
std::string to_string(const wms_standing& x);

/// Parses what to_string(wms_standing) writes. Returns false for anything
/// else, leaving in `out` what it could read: the known state (none if
/// unreadable) and the wanted one only if readable.
bool parse_wms_standing(std::string_view str, wms_standing& out);

/// Travels as the text the journal keeps (CAF 0.17 has no std::optional).
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, wms_standing& x) {
  auto text = to_string(x);
  auto parse = [&]() -> caf::error {
    parse_wms_standing(text, x);
    return caf::none;
  };
  return f(caf::meta::type_name("wms_standing"), text,
           caf::meta::load_callback(parse));
}

/// One order's hold on one SKU.
struct hold_view {
  order_id order;
  int64_t quantity = 0;
  hold_kind kind = hold_kind::reserved;
  /// The batches the units come from, first to expire first.
  std::vector<lot_allocation> lots;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, hold_view& x) {
  return f(caf::meta::type_name("hold_view"), x.order, x.quantity, x.kind,
           x.lots);
}

/// A SKU's counters and every hold on it, taken at one moment (for audits).
struct stock_snapshot {
  stock_view view;
  std::vector<hold_view> holds;
  /// EXTERNAL: what the SKU's own checks find wrong (our count, our holds
  /// and what the WMS acknowledged for them); empty when all agree.
  std::vector<std::string> problems;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stock_snapshot& x) {
  return f(caf::meta::type_name("stock_snapshot"), x.view, x.holds, x.problems);
}

/// A SKU whose actor stopped on a failure (a broken ledger invariant, an
/// exception): it answers UNAVAILABLE while its SUPERVISOR restarts it from
/// the journal, or, once it kept failing, until omsd restarts.
struct sku_fault {
  sku_id sku;
  /// Why it stopped last, as the actor's exit reason says it.
  std::string reason;
  timestamp_ms since = 0;
  /// True while a restart is under way; false once it is left stopped.
  bool restarting = false;
  /// How often it stopped within the current window.
  uint32_t failures = 0;
  seller from = seller::internal;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, sku_fault& x) {
  return f(caf::meta::type_name("sku_fault"), x.sku, x.reason, x.since,
           x.restarting, x.failures, x.from);
}

/// The answer of a SKU to a reservation. Running short is a value, not an
/// error: the order needs to know what was available to report it.
struct reserve_reply {
  bool granted = false;
  int64_t available = 0; // what was available when the request was decided
  money unit_price = 0;  // the price the units were granted at
  /// The batches the units were taken from (first to expire first).
  std::vector<lot_allocation> lots;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, reserve_reply& x) {
  return f(caf::meta::type_name("reserve_reply"), x.granted, x.available,
           x.unit_price, x.lots);
}

/// A change of one order's hold on a SKU of another shard than the
/// order's own (a cluster's order across shards, docs/cluster.md): made by
/// the SKU's owner, which journals it under its own lease.
enum class hold_op : uint8_t {
  reserve = 0, // `quantity` units, all or nothing (idempotent per order)
  block = 1,   // the reserved units become blocked
  release = 2, // the whole hold goes back
  reduce = 3,  // the hold shrinks to `quantity` units
  consume = 4, // blocked units ship until `quantity` are left
  lapse = 5,   // (the owner's own timer) a reserved hold whose time is up
               // goes back
  watch = 6,   // (the owner's own, after a load) a hold of an order on
               // another shard: settled against the order's record, and
               // if reserved, given back once its time is up
  check = 7,   // (the owner's own timer) the holds of orders on other
               // shards are settled against their records as stored
};

/// "reserve", "block", ...
const char* to_string(hold_op x);

struct hold_change {
  hold_op op = hold_op::reserve;
  order_id order;
  /// reserve: the units; reduce and consume: the units left afterwards.
  int64_t quantity = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, hold_change& x) {
  return f(caf::meta::type_name("hold_change"), x.op, x.order, x.quantity);
}

/// What a hold change did: for reserve, the grant (or the refusal, with
/// what was available); otherwise the units it moved.
struct hold_outcome {
  reserve_reply reserved;
  int64_t units = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, hold_outcome& x) {
  return f(caf::meta::type_name("hold_outcome"), x.reserved, x.units);
}

} // namespace oms
