#include "system/store/projection.hpp"

#include <set>

namespace oms {

state_sink::~state_sink() = default;

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

namespace {

// Calls f(key, fingerprint) for each idempotency key `ev` records: its
// creation key, and the client key of the charge that moved it to PAID (the
// event in which that charge succeeded answered the pay request; later
// events keep the payment in the record but do not record its key again).
template <class F>
void visit_keys(const event& ev, F f) {
  auto& rec = ev.snapshot;
  if (ev.kind == event_kind::order_created && !rec.idempotency_key.empty())
    f(rec.idempotency_key, rec.request_fingerprint);
  if (ev.kind == event_kind::order_changed && !rec.history.empty() &&
      rec.history.back().to == order_status::paid &&
      rec.history.back().from != order_status::paid)
    for (auto& p : rec.payments)
      if (p.kind == payment_kind::charge &&
          p.status == payment_status::succeeded && !p.client_key.empty() &&
          p.reference == rec.payment_reference)
        f(p.client_key, p.fingerprint);
}

} // namespace

std::vector<key_state> keys_of(const event& ev) {
  std::vector<key_state> result;
  auto& rec = ev.snapshot;
  visit_keys(ev, [&](const std::string& key, const std::string& fingerprint) {
    result.push_back(
        key_state{rec.customer, key, fingerprint, rec.id, ev.at, rec});
  });
  return result;
}

bool records_key(const event& ev, const customer_id& customer,
                 const std::string& key) {
  if (ev.snapshot.customer != customer)
    return false;
  bool found = false;
  visit_keys(ev, [&](const std::string& k, const std::string&) {
    found = found || k == key;
  });
  return found;
}

namespace {

// True for an event about the EXTERNAL seller's stock that only its feed
// deltas keep (the WMS owns that stock); where its reservations stand at the
// WMS (wms_synced) is kept like any other event.
bool external_stock_event(const event& ev) {
  return ev.seller == seller::external && ev.kind != event_kind::wms_synced &&
         ev.kind != event_kind::order_created &&
         ev.kind != event_kind::order_changed;
}

// True if a WMS reservation journaled as `state` (wms_synced's reason) is
// settled: no row is kept for it.
bool wms_settled(const std::string& state) {
  return state == "RELEASED" || state == "SHIPPED" || state == "REFUSED";
}

// The EXTERNAL seller's stock lives in its WMS: only the feed changes that
// our snapshot may not reflect yet are kept.
void project_external(const event& ev, state_sink& to) {
  if (ev.kind == event_kind::stock_received ||
      ev.kind == event_kind::stock_adjusted)
    to.put_external_delta(
        external_delta{ev.sku, ev.inbox_id, ev.amount, ev.quantity, ev.at});
}

void project_stock(const event& ev, state_sink& to) {
  auto& sku = ev.sku;
  switch (ev.kind) {
    case event_kind::stock_received:
      to.add_stock(sku, stock_total::received, ev.quantity, ev.quantity, ev.at);
      to.add_to_batch(sku, {ev.lot, ev.expires_at, ev.at, ev.quantity, {}});
      break;
    case event_kind::stock_adjusted:
      to.add_stock(sku, stock_total::adjusted, ev.quantity, ev.quantity, ev.at);
      to.add_to_batch(sku, {ev.lot, 0, ev.at, ev.quantity, {}});
      to.prune_batches(sku);
      break;
    case event_kind::stock_returned: {
      // Counted as an adjustment; the batch comes back with its expiry if
      // it was gone.
      to.add_stock(sku, stock_total::adjusted, ev.quantity, ev.quantity, ev.at);
      batch_change change{ev.lot, ev.expires_at, ev.at, ev.quantity, {}};
      change.set_aside[static_cast<size_t>(unallocatable_reason::quarantined)] =
          ev.quantity;
      to.add_to_batch(sku, change);
      break;
    }
    case event_kind::stock_moved: {
      to.touch_sku(sku, ev.at);
      unallocatable_reason reason;
      if (parse_unallocatable_reason(ev.reason, reason)) {
        batch_change change{ev.lot, 0, ev.at, 0, {}};
        change.set_aside[static_cast<size_t>(reason)] = ev.quantity;
        to.add_to_batch(sku, change);
      }
      break;
    }
    case event_kind::stock_consumed: {
      // The shipped units leave the batches the hold drew from: those the
      // event names (the first units of the hold), or, in events journaled
      // before shipments named them, every unit of the hold.
      auto lots = ev.lots;
      auto hold = to.find_hold(ev.order, sku);
      auto left = hold ? hold->quantity - ev.quantity : 0;
      if (hold && !lots.empty() && left > 0)
        to.shrink_hold(ev.order, sku, left,
                       slice_allocations(hold->lots, ev.quantity, left));
      else
        to.delete_hold(ev.order, sku);
      if (lots.empty() && hold)
        lots = std::move(hold->lots);
      to.add_stock(sku, stock_total::consumed, -ev.quantity, ev.quantity,
                   ev.at);
      // A hold journaled before batches existed drew from the batch "".
      if (lots.empty())
        lots.push_back(lot_allocation{{}, ev.quantity});
      for (auto& a : lots)
        to.add_to_batch(sku, {a.lot, 0, ev.at, -a.quantity, {}});
      to.prune_batches(sku);
      break;
    }
    default:
      break;
  }
}

void project_hold(const event& ev, state_sink& to) {
  switch (ev.kind) {
    case event_kind::stock_reserved: {
      auto lots = ev.lots;
      if (lots.empty())
        lots.push_back(lot_allocation{{}, ev.quantity});
      to.put_hold(hold_state{ev.order, ev.sku, ev.quantity, hold_kind::reserved,
                             std::move(lots)});
      break;
    }
    case event_kind::stock_blocked:
      to.block_hold(ev.order, ev.sku);
      break;
    case event_kind::stock_released:
      // A partial release gives back the last units of the hold first.
      if (auto hold = to.find_hold(ev.order, ev.sku)) {
        auto held = hold->quantity - ev.quantity;
        if (held <= 0)
          to.delete_hold(ev.order, ev.sku);
        else
          to.shrink_hold(ev.order, ev.sku, held,
                         take_allocations(hold->lots, held));
      }
      break;
    default:
      break;
  }
}

void project_wms(const event& ev, state_sink& to) {
  if (wms_settled(ev.reason)) {
    to.delete_wms_reservation(ev.order, ev.sku);
    return;
  }
  wms_reservation row{ev.order, ev.sku, ev.quantity, {}, ev.amount, ev.at};
  // What is not a standing reads as far as it goes (known: NONE at worst).
  parse_wms_standing(ev.reason, row.state);
  to.put_wms_reservation(row);
}

} // namespace

void project(const event& ev, uint64_t seq, state_sink& to) {
  if (!ev.inbox_id.empty())
    to.add_inbox_id(ev.inbox_id, ev.at);
  if (external_stock_event(ev)) {
    project_external(ev, to);
    return;
  }
  switch (ev.kind) {
    case event_kind::sku_created:
    case event_kind::price_set:
      to.set_price(ev.sku, ev.amount, ev.at);
      break;
    case event_kind::stock_received:
    case event_kind::stock_adjusted:
    case event_kind::stock_moved:
    case event_kind::stock_consumed:
    case event_kind::stock_returned:
      project_stock(ev, to);
      break;
    case event_kind::stock_reserved:
    case event_kind::stock_blocked:
    case event_kind::stock_released:
      project_hold(ev, to);
      break;
    case event_kind::order_created:
    case event_kind::order_changed:
      to.put_order(ev.snapshot, seq, ev.kind == event_kind::order_created);
      for (auto& key : keys_of(ev))
        to.add_key(key);
      break;
    case event_kind::customer_created:
      to.add_customer(ev.customer);
      break;
    case event_kind::batch_expired:
      // A record of what left sale: the batch's expiry says it already (the
      // SKU's version counts it, below).
      break;
    case event_kind::inbox_cursor:
      if (!ev.reason.empty() && ev.inbox_id.empty())
        to.put_cursor(ev.reason, ev.lot, ev.at);
      break;
    case event_kind::wms_synced:
      project_wms(ev, to);
      break;
    case event_kind::inbox_forgotten:
      to.forget_inbox_ids(ev.amount);
      break;
  }
  if (versions_sku(ev.kind))
    to.set_sku_version(ev.sku, ev.version);
}

} // namespace oms
