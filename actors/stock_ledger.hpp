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

namespace oms {

/// Most units one receipt may add.
inline constexpr int64_t max_receipt_quantity = 1'000'000'000;
/// Most units a SKU may have on hand.
inline constexpr int64_t max_on_hand = 1'000'000'000'000;
/// Highest unit price in minor units (10 crore rupees).
inline constexpr money max_unit_price = 10'000'000'000;

/// The result of a ledger operation: an error with a message, or success
/// with a quantity (units received, blocked, released, consumed).
struct ledger_outcome {
  errc error = errc::none;
  std::string message;
  int64_t quantity = 0;

  bool ok() const { return error == errc::none; }

  static ledger_outcome success(int64_t quantity) {
    return {errc::none, {}, quantity};
  }
  static ledger_outcome failure(errc code, std::string message) {
    return {code, std::move(message), 0};
  }
};

/// One SKU's units and the holds of orders on them.
///
/// Invariants, after every operation:
/// - available = on_hand - reserved - blocked >= 0
/// - reserved (blocked) = sum of the reserved (blocked) holds
/// - received_total = on_hand + consumed_total
class stock_ledger {
 public:
  /// True once the SKU received stock with a price.
  bool defined() const { return unit_price_ > 0; }

  money unit_price() const { return unit_price_; }
  int64_t on_hand() const { return on_hand_; }
  int64_t reserved() const { return reserved_; }
  int64_t blocked() const { return blocked_; }
  int64_t available() const { return on_hand_ - reserved_ - blocked_; }
  int64_t received_total() const { return received_total_; }
  int64_t consumed_total() const { return consumed_total_; }

  /// Restores a ledger from stored state (recovery): counters and holds.
  void restore(money unit_price, int64_t on_hand, int64_t received_total,
               int64_t consumed_total, const std::vector<hold_view>& holds);

  /// Whether a receipt of `quantity` units at `unit_price` (0: keep the
  /// current price) is acceptable. Changes nothing.
  ledger_outcome check_receive(int64_t quantity, money unit_price) const;

  /// Applies a receipt that check_receive accepted.
  void receive(int64_t quantity, money unit_price);

  /// Whether `unit_price` is acceptable as the new price. Changes nothing.
  ledger_outcome check_price(money unit_price) const;

  /// Applies a price that check_price accepted.
  void set_price(money unit_price) { unit_price_ = unit_price; }

  /// Reserves `quantity` units for `order`, all or nothing. On success,
  /// `reply` says whether the units were granted (a refusal for lack of stock
  /// is not an error). Idempotent: the same order and quantity again grant
  /// the existing hold.
  ledger_outcome reserve(const order_id& order, int64_t quantity,
                         reserve_reply& reply);

  /// Turns the order's reserved units into blocked units. Idempotent.
  ledger_outcome block(const order_id& order);

  /// Releases the order's hold, whatever its kind. Idempotent: releasing an
  /// order that holds nothing releases 0 units.
  ledger_outcome release(const order_id& order);

  /// Shrinks the order's hold to `remaining` units. Idempotent.
  ledger_outcome reduce(const order_id& order, int64_t remaining);

  /// Removes the order's blocked units from on-hand (shipment). Idempotent:
  /// consuming an order that holds nothing consumes 0 units.
  ledger_outcome consume(const order_id& order);

  /// The hold of `order`, if any.
  const hold_view* find_hold(const order_id& order) const;

  /// All holds, in no particular order.
  std::vector<hold_view> holds() const;

  /// Number of orders holding units here.
  size_t hold_count() const { return holds_.size(); }

  /// Describes every broken invariant; empty when all hold.
  std::vector<std::string> check_invariants() const;

  /// The counters as a view for `sku` at time `now`.
  stock_view view(const sku_id& sku, timestamp_ms now) const;

 private:
  money unit_price_ = 0;
  int64_t on_hand_ = 0;
  int64_t reserved_ = 0;
  int64_t blocked_ = 0;
  int64_t received_total_ = 0;
  int64_t consumed_total_ = 0;
  std::unordered_map<order_id, hold_view> holds_;
};

} // namespace oms
