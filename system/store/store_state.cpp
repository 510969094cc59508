#include "system/store/store_state.hpp"

#include <algorithm>

namespace oms {

void store_state::apply(const event& ev) {
  project(ev, ++last_seq_, *this);
}

void store_state::add_inbox_id(const std::string& id, timestamp_ms at) {
  inbox_ids_.emplace(id, at); // the first record stands, as in the SQL stores
}

void store_state::forget_inbox_ids(timestamp_ms before) {
  for (auto i = inbox_ids_.begin(); i != inbox_ids_.end();)
    i = i->second < before ? inbox_ids_.erase(i) : std::next(i);
}

void store_state::put_cursor(const std::string& source,
                             const std::string& cursor, timestamp_ms) {
  cursors_[source] = cursor;
}

sku_state& store_state::sku_at(const sku_id& sku, timestamp_ms at) {
  auto& s = skus_[sku];
  s.sku = sku;
  s.updated_at = at;
  return s;
}

void store_state::set_price(const sku_id& sku, money price, timestamp_ms at) {
  sku_at(sku, at).unit_price = price;
}

void store_state::add_stock(const sku_id& sku, stock_total total,
                            int64_t on_hand, int64_t amount, timestamp_ms at) {
  auto& s = sku_at(sku, at);
  s.on_hand += on_hand;
  switch (total) {
    case stock_total::received:
      s.received_total += amount;
      break;
    case stock_total::adjusted:
      s.adjusted_total += amount;
      break;
    case stock_total::consumed:
      s.consumed_total += amount;
      break;
  }
}

void store_state::touch_sku(const sku_id& sku, timestamp_ms at) {
  sku_at(sku, at);
}

void store_state::set_sku_version(const sku_id& sku, uint64_t version) {
  if (auto i = skus_.find(sku); i != skus_.end())
    i->second.version = version != 0 ? version : i->second.version + 1;
}

void store_state::add_to_batch(const sku_id& sku, const batch_change& change) {
  auto& s = skus_[sku];
  s.sku = sku;
  auto i =
      std::find_if(s.batches.begin(), s.batches.end(),
                   [&](const batch_view& b) { return b.lot == change.lot; });
  if (i == s.batches.end()) {
    batch_view b;
    b.lot = change.lot;
    b.expires_at = change.expires_at;
    b.received_at = change.received_at;
    b.unallocatable.assign(unallocatable_reason_count, 0);
    i = s.batches.insert(s.batches.end(), std::move(b));
  }
  i->on_hand += change.on_hand;
  for (size_t r = 0; r < unallocatable_reason_count; ++r)
    i->unallocatable[r] += change.set_aside[r];
}

void store_state::prune_batches(const sku_id& sku) {
  if (auto i = skus_.find(sku); i != skus_.end()) {
    auto& batches = i->second.batches;
    batches.erase(
        std::remove_if(batches.begin(), batches.end(),
                       [](const batch_view& b) { return b.on_hand == 0; }),
        batches.end());
  }
}

std::optional<hold_state> store_state::find_hold(const order_id& order,
                                                 const sku_id& sku) {
  if (auto i = holds_.find({order, sku}); i != holds_.end())
    return i->second;
  return std::nullopt;
}

void store_state::put_hold(const hold_state& hold) {
  holds_[{hold.order, hold.sku}] = hold;
}

void store_state::block_hold(const order_id& order, const sku_id& sku) {
  if (auto i = holds_.find({order, sku}); i != holds_.end())
    i->second.kind = hold_kind::blocked;
}

void store_state::shrink_hold(const order_id& order, const sku_id& sku,
                              int64_t quantity,
                              const std::vector<lot_allocation>& lots) {
  if (auto i = holds_.find({order, sku}); i != holds_.end()) {
    i->second.quantity = quantity;
    i->second.lots = lots;
  }
}

void store_state::delete_hold(const order_id& order, const sku_id& sku) {
  holds_.erase({order, sku});
}

void store_state::put_order(const order_record& rec, uint64_t seq,
                            bool created) {
  if (created) {
    by_customer_[rec.customer].push_back(rec.id);
    by_ordinal_.emplace(seq, rec.id);
  }
  orders_[rec.id] = rec;
}

void store_state::add_key(const key_state& key) {
  // A key used again after the window (for another order, later) replaces
  // its old row.
  auto [i, added] = keys_.emplace(std::make_pair(key.customer, key.key), key);
  if (!added && key.order != i->second.order && key.at > i->second.at)
    i->second = key;
}

void store_state::add_customer(const customer_record& customer) {
  customers_.emplace(customer.id, customer);
}

void store_state::put_external_delta(const external_delta& delta) {
  external_deltas_[{delta.sku, delta.wms_seq}] = delta;
}

void store_state::put_wms_reservation(const wms_reservation& row) {
  wms_reservations_[{row.order, row.sku}] = row;
}

void store_state::delete_wms_reservation(const order_id& order,
                                         const sku_id& sku) {
  wms_reservations_.erase({order, sku});
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

std::vector<key_state> store_state::key_of(const customer_id& customer,
                                           const std::string& key) const {
  if (auto i = keys_.find({customer, key}); i != keys_.end())
    return {i->second};
  return {};
}

stored_sku store_state::sku_of(const sku_id& sku) const {
  stored_sku result;
  if (auto i = skus_.find(sku); i != skus_.end()) {
    result.found = true;
    result.state = i->second;
  }
  for (auto& kvp : holds_)
    if (kvp.first.second == sku)
      result.holds.push_back(kvp.second);
  return result;
}

stored_external store_state::external_of(const sku_id& sku) const {
  stored_external result;
  for (auto& kvp : wms_reservations_)
    if (kvp.first.second == sku)
      result.reservations.push_back(kvp.second);
  for (auto i = external_deltas_.lower_bound({sku, INT64_MIN});
       i != external_deltas_.end() && i->first.first == sku; ++i)
    result.deltas.push_back(i->second);
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

namespace {

bool matches(const order_query& q, const order_record& rec) {
  if (!q.status.empty() && q.status != to_string(rec.status))
    return false;
  if (!q.customer.empty() && q.customer != rec.customer)
    return false;
  if (!q.seller.empty() && q.seller != to_string(rec.seller))
    return false;
  if (rec.created_at < q.created_from || rec.created_at >= q.created_to)
    return false;
  if (q.sku.empty())
    return true;
  for (auto& line : rec.lines)
    if (line.sku == q.sku)
      return true;
  return false;
}

} // namespace

order_hits store_state::search_orders(const order_query& q) const {
  order_hits hits;
  auto end =
      q.before == 0 ? by_ordinal_.end() : by_ordinal_.lower_bound(q.before);
  uint64_t last = 0;
  for (auto i = std::make_reverse_iterator(end); i != by_ordinal_.rend(); ++i) {
    auto* rec = find_order(i->second);
    if (rec == nullptr || !matches(q, *rec))
      continue;
    if (hits.orders.size() == q.limit) {
      // One more matches: the next page starts after the last one given.
      hits.next = last;
      return hits;
    }
    hits.orders.push_back(*rec);
    last = i->first;
  }
  return hits;
}

} // namespace oms
