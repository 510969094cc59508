#include "actors/external_ledger.hpp"

#include <algorithm>

namespace oms {

int64_t units_at_wms(const external_hold& h) {
  return std::max(h.quantity, h.wms_quantity);
}

bool needs_reduction(const external_hold& h) {
  return h.wanted != wms_state::released &&
         (h.known == wms_state::reserved || h.known == wms_state::blocked) &&
         h.wms_quantity > h.quantity;
}

void external_ledger::apply_snapshot(int64_t orderable, int64_t reflects,
                                     timestamp_ms as_of, money unit_price,
                                     timestamp_ms read_at) {
  if (known_ && reflects < reflects_)
    return;
  known_ = true;
  orderable_ = std::max<int64_t>(0, orderable);
  reflects_ = reflects;
  as_of_ = as_of;
  read_at_ = read_at;
  if (unit_price > 0)
    unit_price_ = unit_price;
  deltas_.erase(deltas_.begin(), deltas_.upper_bound(reflects));
  drop_settled();
}

void external_ledger::apply_delta(int64_t wms_seq, int64_t quantity) {
  if (known_ && wms_seq <= reflects_)
    return;
  deltas_[wms_seq] = quantity;
}

int64_t external_ledger::subtracted(const external_hold& h) const {
  // Refused: nothing exists at the WMS, and the units are back here.
  if (h.refused)
    return 0;
  // The snapshot already excludes a reservation it reflects.
  if (h.reserve_seq > 0 && h.reserve_seq <= reflects_)
    return 0;
  // Released and acknowledged, or never sent: nothing at the WMS.
  if (h.wanted == wms_state::released &&
      (h.known == wms_state::released || !h.requested))
    return 0;
  // Units of a reduction the WMS has not acknowledged are still its.
  return units_at_wms(h);
}

int64_t external_ledger::available() const {
  if (!known_)
    return 0;
  auto result = orderable_ - safety_buffer_;
  for (auto& kvp : deltas_)
    result += kvp.second;
  for (auto& kvp : holds_)
    result -= subtracted(kvp.second);
  return std::max<int64_t>(0, result);
}

ledger_outcome external_ledger::reserve(const order_id& order, int64_t quantity,
                                        reserve_reply& reply) {
  if (!known_)
    return ledger_outcome::failure(errc::wms_unavailable,
                                   "no snapshot from the WMS yet");
  if (auto bad = check_reserve_request(order, quantity); !bad.ok())
    return bad;
  if (auto i = holds_.find(order); i != holds_.end()) {
    auto& h = i->second;
    if (h.wanted == wms_state::released)
      return ledger_outcome::failure(errc::invalid_transition,
                                     "the order's hold was released");
    if (h.refused) {
      reply = reserve_reply{false, available(), unit_price_, {}};
      return ledger_outcome::success(0);
    }
    if (h.quantity != quantity)
      return holds_other_quantity(h.quantity);
    reply = reserve_reply{true, available(), unit_price_, {}};
    return ledger_outcome::success(quantity);
  }
  auto avail = available();
  if (quantity > avail) {
    reply = reserve_reply{false, avail, unit_price_, {}};
    return ledger_outcome::success(0);
  }
  external_hold h;
  h.order = order;
  h.quantity = quantity;
  holds_.emplace(order, std::move(h));
  reply = reserve_reply{true, avail, unit_price_, {}};
  return ledger_outcome::success(quantity);
}

ledger_outcome external_ledger::block(const order_id& order) {
  auto i = holds_.find(order);
  if (i == holds_.end() || i->second.wanted == wms_state::released ||
      i->second.refused)
    return ledger_outcome::failure(errc::invalid_transition,
                                   "the order holds no units of this SKU");
  auto& h = i->second;
  if (h.wanted == wms_state::reserved)
    h.wanted = wms_state::blocked;
  return ledger_outcome::success(h.quantity);
}

ledger_outcome external_ledger::release(const order_id& order) {
  auto i = holds_.find(order);
  if (i == holds_.end())
    return ledger_outcome::success(0);
  auto& h = i->second;
  if (h.wanted == wms_state::released || h.wanted == wms_state::shipped)
    return ledger_outcome::success(0);
  h.wanted = wms_state::released;
  auto quantity = h.quantity;
  drop_settled();
  return ledger_outcome::success(quantity);
}

ledger_outcome external_ledger::reduce(const order_id& order,
                                       int64_t remaining) {
  auto i = holds_.find(order);
  auto live = i != holds_.end() && i->second.wanted != wms_state::released &&
              i->second.wanted != wms_state::shipped;
  auto held = live ? i->second.quantity : 0;
  if (remaining < 0 || remaining > held)
    return ledger_outcome::failure(errc::validation_failed,
                                   "remaining must be between 0 and the " +
                                       std::to_string(held) + " units held",
                                   "remaining");
  if (remaining == held)
    return ledger_outcome::success(0);
  if (remaining == 0)
    return release(order);
  i->second.quantity = remaining;
  return ledger_outcome::success(held - remaining);
}

ledger_outcome external_ledger::consume(const order_id& order) {
  auto i = holds_.find(order);
  if (i == holds_.end())
    return ledger_outcome::success(0);
  auto& h = i->second;
  if (h.wanted == wms_state::shipped || h.wanted == wms_state::released)
    return ledger_outcome::success(0);
  if (h.wanted != wms_state::blocked || h.refused)
    return ledger_outcome::failure(errc::invalid_transition,
                                   "only blocked units can be shipped");
  h.wanted = wms_state::shipped;
  return ledger_outcome::success(h.quantity);
}

void external_ledger::acknowledged(const order_id& order, wms_state state,
                                   int64_t seq) {
  auto i = holds_.find(order);
  if (i == holds_.end())
    return;
  auto& h = i->second;
  h.known = state;
  // A reserve asked again may be answered past RESERVED (blocked or
  // shipped on an earlier holder's call whose answer was lost): that
  // answer's sequence is a later one, which keeps the hold subtracted a
  // while longer than needed, never shorter.
  if (h.reserve_seq == 0 && seq > 0 && state != wms_state::none &&
      state != wms_state::released)
    h.reserve_seq = seq;
  if (state != wms_state::none && state != wms_state::released)
    h.requested = true;
  drop_settled();
}

void external_ledger::acknowledged_quantity(const order_id& order,
                                            int64_t quantity) {
  if (auto i = holds_.find(order); i != holds_.end())
    i->second.wms_quantity = quantity;
}

void external_ledger::refused(const order_id& order) {
  auto i = holds_.find(order);
  if (i == holds_.end())
    return;
  // Nothing exists at the WMS, as for a forgotten reservation.
  forgotten(order);
  i->second.refused = true;
  drop_settled();
}

void external_ledger::forgotten(const order_id& order) {
  auto i = holds_.find(order);
  if (i == holds_.end())
    return;
  auto& h = i->second;
  h.known = wms_state::none;
  h.reserve_seq = 0;
  h.wms_quantity = 0;
  h.requested = false;
}

void external_ledger::mark_requested(const order_id& order, int64_t quantity) {
  if (auto i = holds_.find(order); i != holds_.end()) {
    i->second.requested = true;
    if (i->second.wms_quantity == 0)
      i->second.wms_quantity = quantity;
  }
}

void external_ledger::drop_settled() {
  for (auto i = holds_.begin(); i != holds_.end();) {
    auto& h = i->second;
    bool released = h.wanted == wms_state::released &&
                    (h.known == wms_state::released || !h.requested);
    bool shipped = h.wanted == wms_state::shipped &&
                   h.known == wms_state::shipped && h.reserve_seq > 0 &&
                   h.reserve_seq <= reflects_;
    if (released || shipped)
      i = holds_.erase(i);
    else
      ++i;
  }
}

std::vector<order_id> external_ledger::out_of_sync() const {
  std::vector<order_id> result;
  for (auto& kvp : holds_)
    if (!kvp.second.refused &&
        (kvp.second.wanted != kvp.second.known || needs_reduction(kvp.second)))
      result.push_back(kvp.first);
  std::sort(result.begin(), result.end());
  return result;
}

const external_hold* external_ledger::find(const order_id& order) const {
  auto i = holds_.find(order);
  return i == holds_.end() ? nullptr : &i->second;
}

void external_ledger::restore_hold(external_hold h) {
  auto id = h.order;
  holds_[id] = std::move(h);
}

std::vector<hold_view> external_ledger::holds() const {
  std::vector<hold_view> result;
  for (auto& kvp : holds_) {
    auto& h = kvp.second;
    if (h.wanted == wms_state::reserved)
      result.push_back(hold_view{h.order, h.quantity, hold_kind::reserved, {}});
    else if (h.wanted == wms_state::blocked)
      result.push_back(hold_view{h.order, h.quantity, hold_kind::blocked, {}});
  }
  return result;
}

std::vector<std::string> external_ledger::check_invariants() const {
  std::vector<std::string> result;
  for (auto& kvp : holds_) {
    auto& h = kvp.second;
    if (h.quantity <= 0)
      result.push_back("hold of order " + h.order + " is not positive");
    if (h.known != wms_state::none && h.reserve_seq == 0 &&
        h.known != wms_state::released)
      result.push_back("hold of order " + h.order +
                       " is acknowledged without a WMS sequence");
    // The WMS acknowledged a state the order never asked for.
    auto ahead =
        (h.known == wms_state::shipped && h.wanted != wms_state::shipped) ||
        (h.known == wms_state::released && h.wanted != wms_state::released) ||
        (h.known == wms_state::blocked && h.wanted == wms_state::reserved);
    if (ahead)
      result.push_back("the WMS acknowledged " +
                       std::string{to_string(h.known)} + " for order " +
                       h.order + ", which wants " + to_string(h.wanted));
    if (h.requested && h.wms_quantity > 0 && h.wms_quantity < h.quantity &&
        h.wanted != wms_state::released)
      result.push_back("the WMS reserves " + std::to_string(h.wms_quantity) +
                       " units for order " + h.order + ", which holds " +
                       std::to_string(h.quantity));
  }
  if (available() < 0)
    result.push_back("available is negative");
  return result;
}

stock_view external_ledger::view(const sku_id& sku, timestamp_ms now) const {
  stock_view v;
  v.sku = sku;
  v.seller = seller::external;
  v.unit_price = unit_price_;
  v.as_of = now;
  for (auto& kvp : holds_) {
    auto& h = kvp.second;
    if (h.wanted == wms_state::reserved)
      v.reserved += h.quantity;
    else if (h.wanted == wms_state::blocked)
      v.blocked += h.quantity;
    if (!h.refused && (h.wanted != h.known || needs_reduction(h)))
      ++v.external.wms_pending;
    v.external.pending_holds += subtracted(h);
  }
  v.available = available();
  v.on_hand = v.available + v.reserved + v.blocked;
  v.external.known = known_;
  v.external.snapshot_orderable = orderable_;
  v.external.snapshot_as_of = as_of_;
  v.external.snapshot_reflects = reflects_;
  v.external.read_at = read_at_;
  for (auto& kvp : deltas_)
    v.external.feed_delta += kvp.second;
  v.external.safety_buffer = safety_buffer_;
  return v;
}

} // namespace oms
