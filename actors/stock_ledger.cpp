#include "actors/stock_ledger.hpp"

#include <algorithm>
#include <climits>
#include <cstdint>

namespace oms {

/// Most batches one SKU may have at once.
constexpr size_t max_lots = 1000;

int64_t lot_state::set_aside() const {
  int64_t sum = 0;
  for (auto x : unallocatable)
    sum += x;
  return sum;
}

int64_t lot_state::available() const {
  return expired ? 0 : on_hand - held - set_aside();
}

int64_t lot_state::expired_units() const {
  return expired ? on_hand - held - set_aside() : 0;
}

bool fefo_before(const lot_state& x, const lot_state& y) {
  auto xe = x.expires_at == 0 ? INT64_MAX : x.expires_at;
  auto ye = y.expires_at == 0 ? INT64_MAX : y.expires_at;
  if (xe != ye)
    return xe < ye;
  if (x.received_at != y.received_at)
    return x.received_at < y.received_at;
  return x.lot < y.lot;
}

int64_t stock_ledger::on_hand() const {
  int64_t sum = 0;
  for (auto& l : lots_)
    sum += l.on_hand;
  return sum;
}

int64_t stock_ledger::unallocatable() const {
  int64_t sum = 0;
  for (auto& l : lots_)
    sum += l.set_aside() + l.expired_units();
  return sum;
}

int64_t stock_ledger::available() const {
  int64_t sum = 0;
  for (auto& l : lots_)
    sum += l.available();
  return sum;
}

lot_state* stock_ledger::find_lot(const std::string& lot) {
  for (auto& l : lots_)
    if (l.lot == lot)
      return &l;
  return nullptr;
}

const lot_state* stock_ledger::find_lot(const std::string& lot) const {
  for (auto& l : lots_)
    if (l.lot == lot)
      return &l;
  return nullptr;
}

void stock_ledger::add_held(const std::vector<lot_allocation>& lots,
                            int64_t sign) {
  for (auto& a : lots)
    if (auto* l = find_lot(a.lot))
      l->held += sign * a.quantity;
}

void stock_ledger::drop_empty_lots() {
  lots_.erase(std::remove_if(lots_.begin(), lots_.end(),
                             [](const lot_state& l) {
                               return l.on_hand == 0 && l.held == 0;
                             }),
              lots_.end());
}

void stock_ledger::restore(money unit_price, int64_t received_total,
                           int64_t consumed_total, int64_t adjusted_total,
                           std::vector<lot_state> lots,
                           const std::vector<hold_view>& holds,
                           timestamp_ms now) {
  unit_price_ = unit_price;
  received_total_ = received_total;
  consumed_total_ = consumed_total;
  adjusted_total_ = adjusted_total;
  lots_ = std::move(lots);
  for (auto& l : lots_) {
    l.held = 0;
    l.expired = l.expires_at != 0 && l.expires_at <= now;
  }
  std::sort(lots_.begin(), lots_.end(), fefo_before);
  reserved_ = 0;
  blocked_ = 0;
  holds_.clear();
  for (auto& h : holds) {
    auto& stored = holds_.emplace(h.order, h).first->second;
    counter_of(h.kind, reserved_, blocked_) += h.quantity;
    // A hold journaled before batches existed draws from the batch "".
    if (stored.lots.empty())
      stored.lots.push_back(lot_allocation{{}, h.quantity});
    add_held(stored.lots, 1);
  }
}

ledger_outcome stock_ledger::check_receive(int64_t quantity, money unit_price,
                                           const std::string& lot,
                                           timestamp_ms expires_at,
                                           timestamp_ms now) const {
  if (quantity < 1 || quantity > max_receipt_quantity)
    return ledger_outcome::failure(errc::validation_failed,
                                   "quantity must be between 1 and " +
                                       std::to_string(max_receipt_quantity),
                                   "quantity");
  if (unit_price < 0 || unit_price > unit_price_max_)
    return ledger_outcome::failure(errc::validation_failed,
                                   "unitPrice must be between 1 and " +
                                       std::to_string(unit_price_max_),
                                   "unitPrice");
  if (!defined() && unit_price == 0)
    return ledger_outcome::failure(errc::validation_failed,
                                   "unitPrice is required for a new SKU",
                                   "unitPrice");
  if (on_hand() + quantity > max_on_hand)
    return ledger_outcome::failure(errc::validation_failed,
                                   "quantity would raise on-hand above " +
                                       std::to_string(max_on_hand),
                                   "quantity");
  if (expires_at < 0)
    return ledger_outcome::failure(
        errc::validation_failed, "expiresAt must not be negative", "expiresAt");
  if (expires_at != 0 && expires_at <= now)
    return ledger_outcome::failure(
        errc::validation_failed, "the batch has already expired", "expiresAt");
  if (auto* l = find_lot(lot)) {
    if (l->expires_at != expires_at)
      return ledger_outcome::failure(errc::validation_failed,
                                     "batch '" + lot +
                                         "' already exists with another expiry",
                                     "expiresAt");
  } else if (lots_.size() >= max_lots) {
    return ledger_outcome::failure(
        errc::validation_failed,
        "the SKU has " + std::to_string(max_lots) + " batches already", "lot");
  }
  return ledger_outcome::success(quantity);
}

void stock_ledger::receive(int64_t quantity, money unit_price,
                           const std::string& lot, timestamp_ms expires_at,
                           timestamp_ms now) {
  if (unit_price > 0)
    unit_price_ = unit_price;
  received_total_ += quantity;
  if (auto* l = find_lot(lot)) {
    l->on_hand += quantity;
    return;
  }
  lot_state l;
  l.lot = lot;
  l.expires_at = expires_at;
  l.received_at = now;
  l.on_hand = quantity;
  lots_.insert(std::upper_bound(lots_.begin(), lots_.end(), l, fefo_before),
               std::move(l));
}

ledger_outcome stock_ledger::check_price(money unit_price) const {
  if (!defined())
    return ledger_outcome::failure(errc::unknown_sku,
                                   "the SKU has never received stock");
  if (unit_price < 1 || unit_price > unit_price_max_)
    return ledger_outcome::failure(errc::validation_failed,
                                   "unitPrice must be between 1 and " +
                                       std::to_string(unit_price_max_),
                                   "unitPrice");
  return ledger_outcome::success(0);
}

ledger_outcome stock_ledger::resolve_lot(const std::string& lot,
                                         std::string& out) const {
  if (!defined())
    return ledger_outcome::failure(errc::unknown_sku,
                                   "the SKU has never received stock");
  if (!lot.empty() || lots_.size() <= 1) {
    if (find_lot(lot) == nullptr && !(lot.empty() && lots_.size() == 1))
      return ledger_outcome::failure(
          errc::validation_failed, "the SKU has no batch '" + lot + "'", "lot");
    out = lot.empty() ? lots_.front().lot : lot;
    return ledger_outcome::success(0);
  }
  return ledger_outcome::failure(errc::validation_failed,
                                 "lot is required: the SKU has " +
                                     std::to_string(lots_.size()) + " batches",
                                 "lot");
}

ledger_outcome stock_ledger::check_move(const std::string& lot,
                                        int64_t quantity,
                                        unallocatable_reason reason) const {
  if (reason == unallocatable_reason::expired)
    return ledger_outcome::failure(errc::validation_failed,
                                   "EXPIRED is set by the batch's expiry, "
                                   "not by hand",
                                   "reason");
  if (quantity == 0 || quantity > max_receipt_quantity ||
      quantity < -max_receipt_quantity)
    return ledger_outcome::failure(errc::validation_failed,
                                   "quantity must be between 1 and " +
                                       std::to_string(max_receipt_quantity),
                                   "quantity");
  auto* l = find_lot(lot);
  if (l == nullptr)
    return ledger_outcome::failure(errc::validation_failed,
                                   "the SKU has no batch '" + lot + "'", "lot");
  auto idx = static_cast<size_t>(reason);
  if (quantity > 0 && quantity > l->on_hand - l->held - l->set_aside())
    return ledger_outcome::failure(
        errc::insufficient_stock,
        "batch '" + lot + "' has only " +
            std::to_string(l->on_hand - l->held - l->set_aside()) +
            " units that are neither held nor set aside");
  if (quantity < 0 && -quantity > l->unallocatable[idx])
    return ledger_outcome::failure(errc::insufficient_stock,
                                   "batch '" + lot + "' has only " +
                                       std::to_string(l->unallocatable[idx]) +
                                       " units " + to_string(reason));
  return ledger_outcome::success(quantity);
}

void stock_ledger::move(const std::string& lot, int64_t quantity,
                        unallocatable_reason reason) {
  if (auto* l = find_lot(lot))
    l->unallocatable[static_cast<size_t>(reason)] += quantity;
}

ledger_outcome stock_ledger::check_adjust(const std::string& lot,
                                          int64_t quantity) const {
  if (quantity == 0 || quantity > max_receipt_quantity ||
      quantity < -max_receipt_quantity)
    return ledger_outcome::failure(
        errc::validation_failed,
        "quantity must be a non-zero change of at most " +
            std::to_string(max_receipt_quantity),
        "quantity");
  auto* l = find_lot(lot);
  if (l == nullptr)
    return ledger_outcome::failure(errc::validation_failed,
                                   "the SKU has no batch '" + lot + "'", "lot");
  auto free = l->on_hand - l->held - l->set_aside();
  if (quantity < 0 && -quantity > free)
    return ledger_outcome::failure(
        errc::insufficient_stock,
        "batch '" + lot + "' has only " + std::to_string(free) +
            " units that are neither held nor set aside");
  if (quantity > 0 && on_hand() + quantity > max_on_hand)
    return ledger_outcome::failure(errc::validation_failed,
                                   "quantity would raise on-hand above " +
                                       std::to_string(max_on_hand),
                                   "quantity");
  return ledger_outcome::success(quantity);
}

ledger_outcome stock_ledger::check_take_back(int64_t quantity) const {
  if (!defined())
    return ledger_outcome::failure(errc::unknown_sku,
                                   "the SKU has never received stock");
  if (quantity < 1 || quantity > max_receipt_quantity)
    return ledger_outcome::failure(errc::validation_failed,
                                   "quantity must be between 1 and " +
                                       std::to_string(max_receipt_quantity),
                                   "quantity");
  if (on_hand() > max_on_hand - quantity)
    return ledger_outcome::failure(
        errc::validation_failed,
        "on-hand would exceed " + std::to_string(max_on_hand), "quantity");
  return ledger_outcome::success(quantity);
}

void stock_ledger::take_back(const std::string& lot, timestamp_ms expires_at,
                             int64_t quantity, timestamp_ms now) {
  adjusted_total_ += quantity;
  auto* l = find_lot(lot);
  if (l == nullptr) {
    lot_state fresh;
    fresh.lot = lot;
    fresh.expires_at = expires_at;
    fresh.received_at = now;
    fresh.expired = expires_at != 0 && expires_at <= now;
    l = &*lots_.insert(
        std::upper_bound(lots_.begin(), lots_.end(), fresh, fefo_before),
        std::move(fresh));
  }
  l->on_hand += quantity;
  l->unallocatable[static_cast<size_t>(unallocatable_reason::quarantined)] +=
      quantity;
}

ledger_outcome stock_ledger::check_reclassify(const std::string& lot,
                                              int64_t quantity,
                                              unallocatable_reason to) const {
  if (to == unallocatable_reason::quarantined)
    return ledger_outcome::failure(
        errc::validation_failed, "the units are QUARANTINED already", "reason");
  if (auto chk = check_move(lot, -quantity, unallocatable_reason::quarantined);
      !chk.ok())
    return chk;
  // `to` is checked as a move would be (EXPIRED is refused); the units are
  // on hand, so it fits once they left QUARANTINED.
  if (to == unallocatable_reason::expired)
    return check_move(lot, quantity, to);
  return ledger_outcome::success(quantity);
}

void stock_ledger::reclassify(const std::string& lot, int64_t quantity,
                              unallocatable_reason to) {
  move(lot, -quantity, unallocatable_reason::quarantined);
  move(lot, quantity, to);
}

void stock_ledger::adjust(const std::string& lot, int64_t quantity) {
  if (auto* l = find_lot(lot)) {
    l->on_hand += quantity;
    adjusted_total_ += quantity;
    drop_empty_lots();
  }
}

std::vector<lot_allocation> stock_ledger::expire(timestamp_ms now) {
  std::vector<lot_allocation> result;
  for (auto& l : lots_)
    if (!l.expired && l.expires_at != 0 && l.expires_at <= now) {
      l.expired = true;
      result.push_back(lot_allocation{l.lot, l.expired_units()});
    }
  return result;
}

timestamp_ms stock_ledger::next_expiry() const {
  timestamp_ms result = 0;
  for (auto& l : lots_)
    if (!l.expired && l.expires_at != 0 &&
        (result == 0 || l.expires_at < result))
      result = l.expires_at;
  return result;
}

std::vector<std::string> stock_ledger::check_invariants() const {
  std::vector<std::string> result;
  auto say = [&](bool ok, std::string what) {
    if (!ok)
      result.push_back(std::move(what));
  };
  auto on_hand = this->on_hand();
  say(on_hand >= 0, "on_hand is negative: " + std::to_string(on_hand));
  say(reserved_ >= 0, "reserved is negative: " + std::to_string(reserved_));
  say(blocked_ >= 0, "blocked is negative: " + std::to_string(blocked_));
  say(available() >= 0,
      "holds exceed on_hand: available = " + std::to_string(available()));
  say(on_hand - unallocatable() - reserved_ - blocked_ == available(),
      "available " + std::to_string(available()) +
          " != on_hand - unallocatable - reserved - blocked");
  say(received_total_ + adjusted_total_ == on_hand + consumed_total_,
      "received_total + adjusted_total " +
          std::to_string(received_total_ + adjusted_total_) +
          " != on_hand + consumed " + std::to_string(on_hand) + " + " +
          std::to_string(consumed_total_));
  std::unordered_map<std::string, int64_t> held_by_lot;
  int64_t sum_reserved = 0;
  int64_t sum_blocked = 0;
  for (auto& kvp : holds_) {
    auto& h = kvp.second;
    say(h.quantity > 0, "hold of order " + h.order + " is not positive");
    counter_of(h.kind, sum_reserved, sum_blocked) += h.quantity;
    int64_t in_lots = 0;
    for (auto& a : h.lots) {
      in_lots += a.quantity;
      held_by_lot[a.lot] += a.quantity;
      say(find_lot(a.lot) != nullptr,
          "hold of order " + h.order + " names unknown batch '" + a.lot + "'");
    }
    say(in_lots == h.quantity, "hold of order " + h.order +
                                   ": batches add up to " +
                                   std::to_string(in_lots));
  }
  for (auto& l : lots_) {
    say(l.held == held_by_lot[l.lot],
        "batch '" + l.lot + "' holds " + std::to_string(l.held) +
            " but its holds add up to " + std::to_string(held_by_lot[l.lot]));
    say(l.held >= 0 && l.on_hand - l.held - l.set_aside() >= 0,
        "batch '" + l.lot + "' has more held or set aside than on hand");
    for (auto x : l.unallocatable)
      say(x >= 0, "batch '" + l.lot + "' has a negative unallocatable count");
  }
  say(sum_reserved == reserved_,
      "reserved counter " + std::to_string(reserved_) +
          " != sum of reserved holds " + std::to_string(sum_reserved));
  say(sum_blocked == blocked_, "blocked counter " + std::to_string(blocked_) +
                                   " != sum of blocked holds " +
                                   std::to_string(sum_blocked));
  return result;
}

std::string stock_ledger::first_broken_invariant() const {
  if (reserved_ < 0 || blocked_ < 0)
    return "a hold counter is negative: reserved " + std::to_string(reserved_) +
           ", blocked " + std::to_string(blocked_);
  int64_t on_hand = 0;
  int64_t held = 0;
  for (auto& l : lots_) {
    if (l.on_hand < 0 || l.held < 0 || l.on_hand - l.held - l.set_aside() < 0)
      return "batch '" + l.lot + "' holds or sets aside more than its " +
             std::to_string(l.on_hand) + " units on hand";
    for (auto x : l.unallocatable)
      if (x < 0)
        return "batch '" + l.lot + "' has a negative unallocatable count";
    on_hand += l.on_hand;
    held += l.held;
  }
  if (held != reserved_ + blocked_)
    return "the batches hold " + std::to_string(held) +
           " units, the counters " + std::to_string(reserved_ + blocked_);
  if (received_total_ + adjusted_total_ != on_hand + consumed_total_)
    return "received + adjusted " +
           std::to_string(received_total_ + adjusted_total_) +
           " != on hand + consumed " + std::to_string(on_hand) + " + " +
           std::to_string(consumed_total_);
  return {};
}

stock_view stock_ledger::view(const sku_id& sku, timestamp_ms now) const {
  stock_view result;
  result.sku = sku;
  result.seller = seller::internal;
  result.unit_price = unit_price_;
  result.on_hand = on_hand();
  result.reserved = reserved_;
  result.blocked = blocked_;
  result.available = available();
  result.received_total = received_total_;
  result.consumed_total = consumed_total_;
  result.adjusted_total = adjusted_total_;
  result.version = version_;
  result.as_of = now;
  result.unallocatable_by_reason.assign(unallocatable_reason_count, 0);
  for (auto& l : lots_) {
    batch_view b;
    b.lot = l.lot;
    b.expires_at = l.expires_at;
    b.expired = l.expired;
    b.on_hand = l.on_hand;
    b.held = l.held;
    b.available = l.available();
    b.received_at = l.received_at;
    b.unallocatable.assign(std::begin(l.unallocatable),
                           std::end(l.unallocatable));
    b.unallocatable[static_cast<size_t>(unallocatable_reason::expired)] +=
        l.expired_units();
    for (size_t i = 0; i < unallocatable_reason_count; ++i) {
      result.unallocatable_by_reason[i] += b.unallocatable[i];
      result.unallocatable += b.unallocatable[i];
    }
    result.batches.push_back(std::move(b));
  }
  return result;
}

} // namespace oms
