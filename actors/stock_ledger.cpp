#include "actors/stock_ledger.hpp"

namespace oms {

namespace {

int64_t& counter_of(hold_kind kind, int64_t& reserved, int64_t& blocked) {
  return kind == hold_kind::reserved ? reserved : blocked;
}

} // namespace

void stock_ledger::restore(money unit_price, int64_t on_hand,
                           int64_t received_total, int64_t consumed_total,
                           const std::vector<hold_view>& holds) {
  unit_price_ = unit_price;
  on_hand_ = on_hand;
  received_total_ = received_total;
  consumed_total_ = consumed_total;
  reserved_ = 0;
  blocked_ = 0;
  holds_.clear();
  for (auto& h : holds) {
    holds_.emplace(h.order, h);
    counter_of(h.kind, reserved_, blocked_) += h.quantity;
  }
}

ledger_outcome stock_ledger::check_receive(int64_t quantity,
                                           money unit_price) const {
  if (quantity < 1 || quantity > max_receipt_quantity)
    return ledger_outcome::failure(errc::validation_failed,
                                   "quantity must be between 1 and " +
                                       std::to_string(max_receipt_quantity));
  if (unit_price < 0 || unit_price > max_unit_price)
    return ledger_outcome::failure(errc::validation_failed,
                                   "unitPrice must be between 1 and " +
                                       std::to_string(max_unit_price));
  if (!defined() && unit_price == 0)
    return ledger_outcome::failure(errc::validation_failed,
                                   "unitPrice is required for a new SKU");
  if (on_hand_ + quantity > max_on_hand)
    return ledger_outcome::failure(errc::validation_failed,
                                   "quantity would raise on-hand above " +
                                       std::to_string(max_on_hand));
  return ledger_outcome::success(quantity);
}

void stock_ledger::receive(int64_t quantity, money unit_price) {
  if (unit_price > 0)
    unit_price_ = unit_price;
  on_hand_ += quantity;
  received_total_ += quantity;
}

ledger_outcome stock_ledger::check_price(money unit_price) const {
  if (!defined())
    return ledger_outcome::failure(errc::unknown_sku,
                                   "the SKU has never received stock");
  if (unit_price < 1 || unit_price > max_unit_price)
    return ledger_outcome::failure(errc::validation_failed,
                                   "unitPrice must be between 1 and " +
                                       std::to_string(max_unit_price));
  return ledger_outcome::success(0);
}

ledger_outcome stock_ledger::reserve(const order_id& order, int64_t quantity,
                                     reserve_reply& reply) {
  if (!defined())
    return ledger_outcome::failure(errc::unknown_sku,
                                   "the SKU has never received stock");
  if (order.empty())
    return ledger_outcome::failure(errc::validation_failed,
                                   "order id must not be empty");
  if (quantity < 1)
    return ledger_outcome::failure(errc::validation_failed,
                                   "quantity must be at least 1");
  if (auto i = holds_.find(order); i != holds_.end()) {
    if (i->second.quantity != quantity)
      return ledger_outcome::failure(errc::validation_failed,
                                     "order already holds " +
                                         std::to_string(i->second.quantity) +
                                         " units of this SKU");
    reply = reserve_reply{true, available(), unit_price_};
    return ledger_outcome::success(quantity);
  }
  auto avail = available();
  if (quantity > avail) {
    reply = reserve_reply{false, avail, unit_price_};
    return ledger_outcome::success(0);
  }
  holds_.emplace(order, hold_view{order, quantity, hold_kind::reserved});
  reserved_ += quantity;
  reply = reserve_reply{true, avail, unit_price_};
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
  auto released = held - remaining;
  counter_of(i->second.kind, reserved_, blocked_) -= released;
  if (remaining == 0)
    holds_.erase(i);
  else
    i->second.quantity = remaining;
  return ledger_outcome::success(released);
}

ledger_outcome stock_ledger::consume(const order_id& order) {
  auto i = holds_.find(order);
  if (i == holds_.end())
    return ledger_outcome::success(0);
  if (i->second.kind != hold_kind::blocked)
    return ledger_outcome::failure(errc::invalid_transition,
                                   "only blocked units can be shipped");
  auto quantity = i->second.quantity;
  blocked_ -= quantity;
  on_hand_ -= quantity;
  consumed_total_ += quantity;
  holds_.erase(i);
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

std::vector<std::string> stock_ledger::check_invariants() const {
  std::vector<std::string> result;
  auto say = [&](bool ok, std::string what) {
    if (!ok)
      result.push_back(std::move(what));
  };
  say(on_hand_ >= 0, "on_hand is negative: " + std::to_string(on_hand_));
  say(reserved_ >= 0, "reserved is negative: " + std::to_string(reserved_));
  say(blocked_ >= 0, "blocked is negative: " + std::to_string(blocked_));
  say(available() >= 0,
      "holds exceed on_hand: available = " + std::to_string(available()));
  say(received_total_ == on_hand_ + consumed_total_,
      "received_total " + std::to_string(received_total_) +
          " != on_hand + consumed " + std::to_string(on_hand_) + " + " +
          std::to_string(consumed_total_));
  int64_t sum_reserved = 0;
  int64_t sum_blocked = 0;
  for (auto& kvp : holds_) {
    auto& h = kvp.second;
    say(h.quantity > 0, "hold of order " + h.order + " is not positive");
    counter_of(h.kind, sum_reserved, sum_blocked) += h.quantity;
  }
  say(sum_reserved == reserved_,
      "reserved counter " + std::to_string(reserved_) +
          " != sum of reserved holds " + std::to_string(sum_reserved));
  say(sum_blocked == blocked_, "blocked counter " + std::to_string(blocked_) +
                                   " != sum of blocked holds " +
                                   std::to_string(sum_blocked));
  return result;
}

stock_view stock_ledger::view(const sku_id& sku, timestamp_ms now) const {
  stock_view result;
  result.sku = sku;
  result.seller = seller::internal;
  result.unit_price = unit_price_;
  result.on_hand = on_hand_;
  result.reserved = reserved_;
  result.blocked = blocked_;
  result.available = available();
  result.received_total = received_total_;
  result.consumed_total = consumed_total_;
  result.as_of = now;
  return result;
}

} // namespace oms
