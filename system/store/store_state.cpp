#include "system/store/store_state.hpp"

#include <algorithm>
#include <set>

namespace oms {

bool needs_actor(const order_record& rec) {
  return !is_terminal(rec.status) ||
         pending_payment(rec, payment_kind::charge) != nullptr ||
         pending_payment(rec, payment_kind::refund) != nullptr;
}

std::string check_consistency(const recovered_state& state) {
  std::set<sku_id> skus;
  for (auto& s : state.skus)
    skus.insert(s.sku);
  for (auto& h : state.holds)
    if (skus.count(h.sku) == 0)
      return "a hold of order " + h.order + " is on unknown SKU " + h.sku;
  for (auto& rec : state.live_orders)
    for (auto& line : rec.lines)
      // EXTERNAL SKUs live in the seller's WMS, not in the store.
      if (rec.seller == seller::internal)
        if (skus.count(line.sku) == 0)
          return "live order " + rec.id + " has a line on unknown SKU " +
                 line.sku;
  return {};
}

std::vector<key_state> keys_of(const event& ev) {
  std::vector<key_state> result;
  auto& rec = ev.snapshot;
  if (ev.kind == event_kind::order_created && !rec.idempotency_key.empty())
    result.push_back(key_state{rec.customer, rec.idempotency_key,
                               rec.request_fingerprint, rec.id, ev.at, rec});
  // The first event that shows a charge succeeded is the one that answered
  // the pay request; stores keep the first key they see (insert or ignore).
  if (ev.kind == event_kind::order_changed)
    for (auto& p : rec.payments)
      if (p.kind == payment_kind::charge &&
          p.status == payment_status::succeeded && !p.client_key.empty())
        result.push_back(key_state{rec.customer, p.client_key, p.fingerprint,
                                   rec.id, ev.at, rec});
  return result;
}

bool external_stock_event(const event& ev) {
  return ev.seller == seller::external && ev.kind != event_kind::wms_synced &&
         ev.kind != event_kind::order_created &&
         ev.kind != event_kind::order_changed;
}

bool wms_settled(const std::string& state) {
  return state == "RELEASED" || state == "SHIPPED" || state == "REFUSED";
}

namespace {

batch_view& batch_of(std::vector<batch_view>& batches, const std::string& lot,
                     timestamp_ms expires_at, timestamp_ms at) {
  for (auto& b : batches)
    if (b.lot == lot)
      return b;
  batch_view b;
  b.lot = lot;
  b.expires_at = expires_at;
  b.received_at = at;
  b.unallocatable.assign(unallocatable_reason_count, 0);
  batches.push_back(std::move(b));
  return batches.back();
}

void drop_empty(std::vector<batch_view>& batches) {
  batches.erase(
      std::remove_if(batches.begin(), batches.end(),
                     [](const batch_view& b) { return b.on_hand == 0; }),
      batches.end());
}

} // namespace

void apply_to_batches(std::vector<batch_view>& batches, const event& ev,
                      const std::vector<lot_allocation>& hold_lots) {
  switch (ev.kind) {
    case event_kind::stock_received:
      batch_of(batches, ev.lot, ev.expires_at, ev.at).on_hand += ev.quantity;
      break;
    case event_kind::stock_adjusted:
      batch_of(batches, ev.lot, 0, ev.at).on_hand += ev.quantity;
      drop_empty(batches);
      break;
    case event_kind::stock_moved: {
      unallocatable_reason reason;
      if (!parse_unallocatable_reason(ev.reason, reason))
        break;
      auto& b = batch_of(batches, ev.lot, 0, ev.at);
      b.unallocatable.resize(unallocatable_reason_count);
      b.unallocatable[static_cast<size_t>(reason)] += ev.quantity;
      break;
    }
    case event_kind::stock_consumed:
      // A hold journaled before batches existed drew from the batch "".
      if (hold_lots.empty())
        batch_of(batches, {}, 0, ev.at).on_hand -= ev.quantity;
      for (auto& a : hold_lots)
        batch_of(batches, a.lot, 0, ev.at).on_hand -= a.quantity;
      drop_empty(batches);
      break;
    default:
      break;
  }
}

void store_state::apply(const event& ev) {
  ++last_seq_;
  if (!ev.inbox_id.empty())
    inbox_ids_.insert(ev.inbox_id);
  if (external_stock_event(ev)) {
    // The EXTERNAL seller's stock lives in its WMS: only what our snapshot
    // may not reflect yet is kept.
    if (ev.kind == event_kind::stock_received ||
        ev.kind == event_kind::stock_adjusted)
      external_deltas_[{ev.sku, ev.amount}] =
          external_delta{ev.sku, ev.inbox_id, ev.amount, ev.quantity, ev.at};
    return;
  }
  switch (ev.kind) {
    case event_kind::sku_created:
    case event_kind::price_set: {
      auto& s = skus_[ev.sku];
      s.sku = ev.sku;
      s.unit_price = ev.amount;
      s.updated_at = ev.at;
      break;
    }
    case event_kind::stock_received:
    case event_kind::stock_adjusted: {
      auto& s = skus_[ev.sku];
      s.sku = ev.sku;
      s.on_hand += ev.quantity;
      (ev.kind == event_kind::stock_received ? s.received_total
                                             : s.adjusted_total) += ev.quantity;
      s.updated_at = ev.at;
      apply_to_batches(s.batches, ev, {});
      break;
    }
    case event_kind::stock_moved: {
      auto& s = skus_[ev.sku];
      s.sku = ev.sku;
      s.updated_at = ev.at;
      apply_to_batches(s.batches, ev, {});
      break;
    }
    case event_kind::stock_reserved: {
      auto lots = ev.lots;
      if (lots.empty())
        lots.push_back(lot_allocation{{}, ev.quantity});
      holds_[{ev.order, ev.sku}] = hold_state{
          ev.order, ev.sku, ev.quantity, hold_kind::reserved, std::move(lots)};
      break;
    }
    case event_kind::stock_blocked:
      if (auto i = holds_.find({ev.order, ev.sku}); i != holds_.end())
        i->second.kind = hold_kind::blocked;
      break;
    case event_kind::stock_released:
      if (auto i = holds_.find({ev.order, ev.sku}); i != holds_.end()) {
        i->second.quantity -= ev.quantity;
        i->second.lots = take_allocations(i->second.lots, i->second.quantity);
        if (i->second.quantity <= 0)
          holds_.erase(i);
      }
      break;
    case event_kind::stock_consumed: {
      std::vector<lot_allocation> lots;
      if (auto i = holds_.find({ev.order, ev.sku}); i != holds_.end()) {
        lots = std::move(i->second.lots);
        holds_.erase(i);
      }
      auto& s = skus_[ev.sku];
      s.sku = ev.sku;
      s.on_hand -= ev.quantity;
      s.consumed_total += ev.quantity;
      s.updated_at = ev.at;
      apply_to_batches(s.batches, ev, lots);
      break;
    }
    case event_kind::order_created:
      by_customer_[ev.snapshot.customer].push_back(ev.snapshot.id);
      orders_[ev.snapshot.id] = ev.snapshot;
      break;
    case event_kind::order_changed:
      orders_[ev.snapshot.id] = ev.snapshot;
      break;
    case event_kind::customer_created:
      customers_.emplace(ev.customer.id, ev.customer);
      break;
    case event_kind::batch_expired:
      break;
    case event_kind::inbox_cursor:
      if (!ev.reason.empty() && ev.inbox_id.empty())
        cursors_[ev.reason] = ev.lot;
      break;
    case event_kind::wms_synced:
      if (wms_settled(ev.reason))
        wms_reservations_.erase({ev.order, ev.sku});
      else {
        wms_reservation row{ev.order, ev.sku,    ev.quantity,
                            {},       ev.amount, ev.at};
        // What is not a standing reads as far as it goes.
        parse_wms_standing(ev.reason, row.state);
        wms_reservations_[{ev.order, ev.sku}] = row;
      }
      break;
  }
  for (auto& k : keys_of(ev)) {
    auto id = std::make_pair(k.customer, k.key);
    keys_.emplace(std::move(id), std::move(k));
  }
}

recovered_state store_state::recover() const {
  recovered_state result;
  for (auto& kvp : skus_)
    result.skus.push_back(kvp.second);
  for (auto& kvp : holds_)
    result.holds.push_back(kvp.second);
  for (auto& kvp : orders_)
    if (needs_actor(kvp.second))
      result.live_orders.push_back(kvp.second);
  for (auto& kvp : customers_)
    result.customers.push_back(kvp.second);
  result.inbox_ids.assign(inbox_ids_.begin(), inbox_ids_.end());
  result.cursors.assign(cursors_.begin(), cursors_.end());
  for (auto& kvp : external_deltas_)
    result.external_deltas.push_back(kvp.second);
  for (auto& kvp : wms_reservations_)
    result.wms_reservations.push_back(kvp.second);
  result.last_seq = last_seq_;
  result.total_orders = orders_.size();
  return result;
}

std::vector<key_state> store_state::keys_for(const customer_id& customer,
                                             timestamp_ms since) const {
  std::vector<key_state> result;
  for (auto i = keys_.lower_bound({customer, std::string{}});
       i != keys_.end() && i->first.first == customer; ++i)
    if (i->second.at >= since)
      result.push_back(i->second);
  return result;
}

const order_record* store_state::find_order(const order_id& id) const {
  auto i = orders_.find(id);
  return i == orders_.end() ? nullptr : &i->second;
}

std::vector<order_record> store_state::list_orders(const customer_id& customer,
                                                   size_t offset,
                                                   size_t limit) const {
  std::vector<order_record> result;
  auto i = by_customer_.find(customer);
  if (i == by_customer_.end())
    return result;
  auto& ids = i->second;
  for (size_t n = offset; n < ids.size() && result.size() < limit; ++n)
    if (auto* rec = find_order(ids[ids.size() - 1 - n]))
      result.push_back(*rec);
  return result;
}

size_t store_state::count_orders(const customer_id& customer) const {
  auto i = by_customer_.find(customer);
  return i == by_customer_.end() ? 0 : i->second.size();
}

} // namespace oms
