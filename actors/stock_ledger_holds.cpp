// The stock ledger's holds: what orders reserve, block, release, reduce and
// consume (the rest of the ledger is in stock_ledger.cpp).
#include "actors/stock_ledger.hpp"

#include <algorithm>

namespace oms {

ledger_outcome check_reserve_request(const order_id& order, int64_t quantity) {
  if (order.empty())
    return ledger_outcome::failure(errc::validation_failed,
                                   "order id must not be empty");
  if (quantity < 1)
    return ledger_outcome::failure(errc::validation_failed,
                                   "quantity must be at least 1");
  return ledger_outcome::success(quantity);
}

ledger_outcome holds_other_quantity(int64_t held) {
  return ledger_outcome::failure(errc::validation_failed,
                                 "order already holds " + std::to_string(held) +
                                     " units of this SKU");
}

ledger_outcome stock_ledger::reserve(const order_id& order, int64_t quantity,
                                     reserve_reply& reply, timestamp_ms now) {
  if (!defined())
    return ledger_outcome::failure(errc::unknown_sku,
                                   "the SKU has never received stock");
  if (auto bad = check_reserve_request(order, quantity); !bad.ok())
    return bad;
  if (now > 0)
    expire(now);
  if (auto i = holds_.find(order); i != holds_.end()) {
    if (i->second.quantity != quantity)
      return holds_other_quantity(i->second.quantity);
    reply = reserve_reply{true, available(), unit_price_, i->second.lots};
    return ledger_outcome::success(quantity);
  }
  auto avail = available();
  if (quantity > avail) {
    reply = reserve_reply{false, avail, unit_price_, {}};
    return ledger_outcome::success(0);
  }
  hold_view h{order, quantity, hold_kind::reserved, {}};
  auto wanted = quantity;
  for (auto& l : lots_) {
    auto n = std::min(l.available(), wanted);
    if (n <= 0)
      continue;
    l.held += n;
    h.lots.push_back(lot_allocation{l.lot, n, l.expires_at});
    wanted -= n;
    if (wanted == 0)
      break;
  }
  reply = reserve_reply{true, avail, unit_price_, h.lots};
  holds_.emplace(order, std::move(h));
  reserved_ += quantity;
  return ledger_outcome::success(quantity);
}

ledger_outcome stock_ledger::block(const order_id& order) {
  auto i = holds_.find(order);
  if (i == holds_.end())
    return ledger_outcome::failure(errc::invalid_transition,
                                   "the order holds no units of this SKU");
  auto& h = i->second;
  if (h.kind == hold_kind::reserved) {
    reserved_ -= h.quantity;
    blocked_ += h.quantity;
    h.kind = hold_kind::blocked;
  }
  return ledger_outcome::success(h.quantity);
}

ledger_outcome stock_ledger::release(const order_id& order) {
  auto i = holds_.find(order);
  if (i == holds_.end())
    return ledger_outcome::success(0);
  auto quantity = i->second.quantity;
  counter_of(i->second.kind, reserved_, blocked_) -= quantity;
  add_held(i->second.lots, -1);
  holds_.erase(i);
  return ledger_outcome::success(quantity);
}

ledger_outcome stock_ledger::reduce(const order_id& order, int64_t remaining) {
  auto i = holds_.find(order);
  auto held = i == holds_.end() ? 0 : i->second.quantity;
  if (remaining < 0 || remaining > held)
    return ledger_outcome::failure(errc::validation_failed,
                                   "remaining must be between 0 and the "
                                   "held quantity " +
                                       std::to_string(held));
  if (i == holds_.end() || remaining == held)
    return ledger_outcome::success(0);
  if (remaining == 0)
    return release(order);
  auto released = held - remaining;
  auto& h = i->second;
  counter_of(h.kind, reserved_, blocked_) -= released;
  add_held(h.lots, -1);
  h.lots = take_allocations(h.lots, remaining);
  add_held(h.lots, 1);
  h.quantity = remaining;
  return ledger_outcome::success(released);
}

ledger_outcome stock_ledger::consume(const order_id& order, int64_t remaining) {
  auto i = holds_.find(order);
  if (i == holds_.end())
    return ledger_outcome::success(0);
  auto& h = i->second;
  if (h.kind != hold_kind::blocked)
    return ledger_outcome::failure(errc::invalid_transition,
                                   "only blocked units can be shipped");
  if (remaining < 0 || remaining > h.quantity)
    return ledger_outcome::failure(errc::validation_failed,
                                   "remaining must be between 0 and the "
                                   "held quantity " +
                                       std::to_string(h.quantity));
  auto quantity = h.quantity - remaining;
  // The first units of the hold ship (first to expire first); the rest
  // stays blocked on its batches.
  for (auto& a : take_allocations(h.lots, quantity))
    if (auto* l = find_lot(a.lot)) {
      l->held -= a.quantity;
      l->on_hand -= a.quantity;
    }
  blocked_ -= quantity;
  consumed_total_ += quantity;
  if (remaining == 0) {
    holds_.erase(i);
  } else {
    h.lots = slice_allocations(h.lots, quantity, remaining);
    h.quantity = remaining;
  }
  drop_empty_lots();
  return ledger_outcome::success(quantity);
}

const hold_view* stock_ledger::find_hold(const order_id& order) const {
  auto i = holds_.find(order);
  return i == holds_.end() ? nullptr : &i->second;
}

std::vector<hold_view> stock_ledger::holds() const {
  std::vector<hold_view> result;
  result.reserve(holds_.size());
  for (auto& kvp : holds_)
    result.push_back(kvp.second);
  return result;
}

} // namespace oms
