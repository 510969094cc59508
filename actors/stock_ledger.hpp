// One SKU's stock as a pure value: on-hand units, price, and the holds of
// orders on them. The INVENTORY actor owns one ledger and only routes
// messages to it; everything here is unit-tested without actors.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "messages/domain.hpp"
#include "messages/errors.hpp"
#include "messages/money.hpp"

namespace oms {

/// Most units one receipt may add.
inline constexpr int64_t max_receipt_quantity = 1'000'000'000;
/// Most units a SKU may have on hand.
inline constexpr int64_t max_on_hand = 1'000'000'000'000;

/// The result of a ledger operation: an error with a message (and the field
/// to blame, if one is), or success with a quantity (units received,
/// blocked, released, consumed).
struct ledger_outcome {
  errc error = errc::none;
  std::string message;
  int64_t quantity = 0;
  /// The request's field to blame ("quantity", "lot"), or "".
  std::string field;

  bool ok() const { return error == errc::none; }

  /// The details for make_error: the field, if any (messages/errors.hpp).
  std::string details() const { return field_details(field); }

  static ledger_outcome success(int64_t quantity) {
    return {errc::none, {}, quantity, {}};
  }
  static ledger_outcome failure(errc code, std::string message,
                                std::string field = {}) {
    return {code, std::move(message), 0, std::move(field)};
  }
};

/// The counter of `kind`: `reserved` or `blocked`.
inline int64_t& counter_of(hold_kind kind, int64_t& reserved,
                           int64_t& blocked) {
  return kind == hold_kind::reserved ? reserved : blocked;
}

/// What every ledger's reserve checks first: VALIDATION_FAILED for an empty
/// order id or a quantity below 1; ok otherwise.
ledger_outcome check_reserve_request(const order_id& order, int64_t quantity);

/// VALIDATION_FAILED: a repeated reserve asked for another quantity than the
/// `held` units the order holds already.
ledger_outcome holds_other_quantity(int64_t held);

/// One batch (lot) inside a ledger.
struct lot_state {
  std::string lot;
  timestamp_ms expires_at = 0; // 0: never
  timestamp_ms received_at = 0;
  bool expired = false;
  int64_t on_hand = 0;
  int64_t held = 0;
  /// Moved out of sale by hand, per reason (EXPIRED is derived, see below).
  int64_t unallocatable[unallocatable_reason_count] = {0, 0, 0, 0};

  int64_t set_aside() const;
  /// Units for sale: nothing once expired.
  int64_t available() const;
  /// What expiry took out of sale: the unheld remainder of an expired lot.
  int64_t expired_units() const;
};

/// One SKU's units in batches, and the holds of orders on them.
///
/// Invariants, after every operation:
/// - per batch: on_hand = held + unallocatable + available, all >= 0
/// - available = on_hand - unallocatable - reserved - blocked >= 0
/// - reserved (blocked) = sum of the reserved (blocked) holds, and each
///   hold's batches add up to its quantity and to the batches' held units
/// - received_total + adjusted_total = on_hand + consumed_total
///
/// Holds draw from batches first-expiry-first-out (batches that never expire
/// last, older receipts first); an expired batch sells nothing, and whatever
/// it does not hold counts as unallocatable (EXPIRED) from its expiry on.
class stock_ledger {
 public:
  /// A ledger taking unit prices up to unit_price_max_default.
  stock_ledger() = default;

  /// A ledger taking unit prices up to `unit_price_max` (the settings'
  /// limits.unit_price_max, which keeps order totals in range).
  explicit stock_ledger(money unit_price_max)
      : unit_price_max_(unit_price_max) {}

  /// True once the SKU received stock with a price.
  bool defined() const { return unit_price_ > 0; }

  money unit_price() const { return unit_price_; }
  int64_t on_hand() const;
  int64_t reserved() const { return reserved_; }
  int64_t blocked() const { return blocked_; }
  int64_t unallocatable() const;
  int64_t available() const;
  int64_t received_total() const { return received_total_; }
  int64_t consumed_total() const { return consumed_total_; }
  int64_t adjusted_total() const { return adjusted_total_; }
  const std::vector<lot_state>& lots() const { return lots_; }

  /// The SKU's version: the changes made to the SKU itself so far (events
  /// that versions_sku names); the holds of orders do not change it. 0
  /// before its first. The INVENTORY actor numbers its events with it.
  uint64_t version() const { return version_; }
  void set_version(uint64_t version) { version_ = version; }

  /// Restores a ledger from stored state (recovery): counters, batches and
  /// holds (each hold's `lots` names its batches). Batches whose expiry is
  /// at or before `now` count as expired.
  void restore(money unit_price, int64_t received_total, int64_t consumed_total,
               int64_t adjusted_total, std::vector<lot_state> lots,
               const std::vector<hold_view>& holds, timestamp_ms now);

  /// Whether a receipt of `quantity` units into batch `lot` (expiring at
  /// `expires_at`, 0: never) at `unit_price` (0: keep the current price) is
  /// acceptable at time `now`. Changes nothing.
  ledger_outcome check_receive(int64_t quantity, money unit_price,
                               const std::string& lot, timestamp_ms expires_at,
                               timestamp_ms now) const;

  /// Applies a receipt that check_receive accepted.
  void receive(int64_t quantity, money unit_price, const std::string& lot,
               timestamp_ms expires_at, timestamp_ms now);

  /// Shorthand for a receipt into the batch "" that never expires.
  ledger_outcome check_receive(int64_t quantity, money unit_price) const {
    return check_receive(quantity, unit_price, {}, 0, 0);
  }
  void receive(int64_t quantity, money unit_price) {
    receive(quantity, unit_price, {}, 0, 0);
  }

  /// Whether `unit_price` is acceptable as the new price. Changes nothing.
  ledger_outcome check_price(money unit_price) const;

  /// Applies a price that check_price accepted.
  void set_price(money unit_price) { unit_price_ = unit_price; }

  /// Which batch a move or adjustment applies to: `lot` if given (it must
  /// exist), else the only batch. Fails if there are several.
  ledger_outcome resolve_lot(const std::string& lot, std::string& out) const;

  /// Whether `quantity` units of batch `lot` may move out of sale (quantity
  /// > 0) or back into it (quantity < 0) for `reason` (not EXPIRED).
  ledger_outcome check_move(const std::string& lot, int64_t quantity,
                            unallocatable_reason reason) const;

  /// Applies a move that check_move accepted.
  void move(const std::string& lot, int64_t quantity,
            unallocatable_reason reason);

  /// Whether on-hand of batch `lot` may change by `quantity` (a stock count
  /// correction or a write-off; never below what is held or set aside).
  ledger_outcome check_adjust(const std::string& lot, int64_t quantity) const;

  /// Applies an adjustment that check_adjust accepted.
  void adjust(const std::string& lot, int64_t quantity);

  /// Whether `quantity` units a customer returned may come back into batch
  /// `lot`. Changes nothing.
  ledger_outcome check_take_back(int64_t quantity) const;

  /// Applies a return that check_take_back accepted: the units are on hand
  /// in batch `lot` (made again, expiring at `expires_at`, if it is gone),
  /// set aside QUARANTINED, and count as an adjustment.
  void take_back(const std::string& lot, timestamp_ms expires_at,
                 int64_t quantity, timestamp_ms now);

  /// Whether `quantity` units of batch `lot` set aside QUARANTINED may be
  /// set aside as `to` instead (not EXPIRED or QUARANTINED).
  ledger_outcome check_reclassify(const std::string& lot, int64_t quantity,
                                  unallocatable_reason to) const;

  /// Applies what check_reclassify accepted.
  void reclassify(const std::string& lot, int64_t quantity,
                  unallocatable_reason to);

  /// Marks the batches whose expiry is at or before `now` as expired and
  /// returns them with the units that left sale. Idempotent.
  std::vector<lot_allocation> expire(timestamp_ms now);

  /// The earliest expiry of a batch not yet expired (0: none).
  timestamp_ms next_expiry() const;

  /// Reserves `quantity` units for `order`, all or nothing, from batches
  /// first-expiry-first-out (after expiring what is due at `now`). On
  /// success, `reply` says whether the units were granted (a refusal for
  /// lack of stock is not an error) and from which batches. Idempotent: the
  /// same order and quantity again grant the existing hold.
  ledger_outcome reserve(const order_id& order, int64_t quantity,
                         reserve_reply& reply, timestamp_ms now = 0);

  /// Turns the order's reserved units into blocked units. Idempotent.
  ledger_outcome block(const order_id& order);

  /// Releases the order's hold, whatever its kind. Idempotent: releasing an
  /// order that holds nothing releases 0 units.
  ledger_outcome release(const order_id& order);

  /// Shrinks the order's hold to `remaining` units, giving back the units of
  /// the last batches first. Idempotent.
  ledger_outcome reduce(const order_id& order, int64_t remaining);

  /// Removes the order's blocked units from on-hand (shipment) until it
  /// holds `remaining` (0: all of them ship), the first units of the hold
  /// first. Idempotent: consuming an order that holds `remaining` or nothing
  /// consumes 0 units.
  ledger_outcome consume(const order_id& order, int64_t remaining = 0);

  /// The hold of `order`, if any.
  const hold_view* find_hold(const order_id& order) const;

  /// All holds, in no particular order.
  std::vector<hold_view> holds() const;

  /// Number of orders holding units here.
  size_t hold_count() const { return holds_.size(); }

  /// Describes every broken invariant; empty when all hold. Walks every
  /// hold and batch, and allocates.
  std::vector<std::string> check_invariants() const;

  /// The invariants that cost one pass over the batches and no allocation
  /// (counters non-negative, no batch holding or setting aside more than it
  /// has, the batches' held units adding up to the counters, and the
  /// conservation law): the first one broken, or "" when they hold. Run
  /// after every change (the INVENTORY actor stops on a broken one).
  std::string first_broken_invariant() const;

  /// The counters and batches as a view for `sku` at time `now`.
  stock_view view(const sku_id& sku, timestamp_ms now) const;

 private:
  lot_state* find_lot(const std::string& lot);
  const lot_state* find_lot(const std::string& lot) const;
  void add_held(const std::vector<lot_allocation>& lots, int64_t sign);
  void drop_empty_lots();

  money unit_price_max_ = unit_price_max_default;
  money unit_price_ = 0;
  int64_t reserved_ = 0;
  int64_t blocked_ = 0;
  int64_t received_total_ = 0;
  int64_t consumed_total_ = 0;
  int64_t adjusted_total_ = 0;
  uint64_t version_ = 0;
  /// First to expire first.
  std::vector<lot_state> lots_;
  std::unordered_map<order_id, hold_view> holds_;
};

/// Orders batches first-expiry-first-out: earliest expiry first, batches
/// that never expire last, then by receipt time and name.
bool fefo_before(const lot_state& x, const lot_state& y);

} // namespace oms
