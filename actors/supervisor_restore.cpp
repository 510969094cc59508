// The SUPERVISOR after a restart: the SKUs, the EXTERNAL seller's holds and
// the live orders rebuilt from what the store recovered.
#include <map>
#include <set>
#include <unordered_map>

#include "actors/inventory.hpp"
#include "actors/order.hpp"
#include "actors/stock_ledger.hpp"
#include "actors/supervisor_steps.hpp"
#include "messages/type_ids.hpp"
#include "system/log.hpp"

namespace oms {

using namespace supervisor_steps;

namespace {

// The EXTERNAL seller as the store recovered it.
void restore_external(supervisor_ptr self, const recovered_state& recovered) {
  std::string cursor;
  for (auto& [source, value] : recovered.cursors)
    if (source == wms_feed_source)
      cursor = value;
  start_external(self, recovered.live_orders, recovered.wms_reservations,
                 recovered.external_deltas, cursor);
}

// Spawns an INVENTORY actor per stored SKU, with its batches and holds.
void restore_skus(supervisor_ptr self, const recovered_state& recovered) {
  auto& st = self->state;
  auto now = st.ctx->now(self->clock());
  std::unordered_map<sku_id, std::vector<hold_state>> holds;
  for (auto& h : recovered.holds)
    holds[h.sku].push_back(h);
  for (auto& sku : recovered.skus)
    adopt_sku(self, sku.sku, ledger_from(st, sku, holds[sku.sku], now));
}

// Spawns an ORDER actor per live order, with the actors of its SKUs; one
// that may rest rests from the start (its hold armed here), unless resting
// is turned off.
void restore_orders(supervisor_ptr self, const recovered_state& recovered) {
  auto& st = self->state;
  auto now = st.ctx->now(self->clock());
  bool resting = st.ctx->settings.order_idle_timeout.count() > 0;
  for (auto& rec : recovered.live_orders) {
    if (!resting || !may_rest(rec, now)) {
      adopt_order(self, rec);
      continue;
    }
    enter_rest(self, rec.id, rec.status, rec.hold_expires_at);
  }
}

} // namespace

namespace supervisor_steps {

// Rebuilds the EXTERNAL SKUs' holds from the live orders and what the WMS
// acknowledged, and their feed changes not yet in a snapshot; each SKU's
// actor then brings the WMS in step (reserve, block, ship, release).
void start_external(supervisor_ptr self, const std::vector<order_record>& live,
                    const std::vector<wms_reservation>& reservations,
                    const std::vector<external_delta>& deltas,
                    const std::string& cursor) {
  auto& st = self->state;
  auto ledgers = external_ledgers(st.ctx->settings.external.safety_buffer, live,
                                  reservations, deltas);
  if (!st.ctx->wms) {
    if (!ledgers.empty())
      log::warn("supervisor.external_without_wms",
                {{"skus", uint64_t{ledgers.size()}}});
    return;
  }
  for (auto& [sku, ledger] : ledgers)
    external_actor(self, sku, std::move(ledger));
  if (st.ctx->settings.external.feed_interval.count() > 0 && !st.feed)
    st.feed =
        self->spawn(wms_feed, st.ctx, caf::actor_cast<supervisor_actor>(self),
                    cursor, external_epoch(st));
}

std::map<sku_id, external_ledger>
external_ledgers(int64_t safety_buffer, const std::vector<order_record>& orders,
                 const std::vector<wms_reservation>& reservations,
                 const std::vector<external_delta>& deltas,
                 const sku_id* only) {
  std::map<sku_id, external_ledger> ledgers;
  auto wanted = [only](const sku_id& sku) {
    return only == nullptr || *only == sku;
  };
  auto ledger_of = [&](const sku_id& sku) -> external_ledger& {
    auto i = ledgers.find(sku);
    if (i == ledgers.end())
      i = ledgers.emplace(sku, external_ledger{safety_buffer}).first;
    return i->second;
  };
  // Reservations of orders that shipped them, with the units that shipped:
  // the WMS ships them even if the order's SKU actor had not journaled so
  // before it stopped (a partial cancel it has not acknowledged is reduced
  // first).
  std::map<std::pair<order_id, sku_id>, int64_t> shipped;
  for (auto& rec : orders) {
    if (rec.seller != seller::external)
      continue;
    for (auto& line : rec.lines) {
      if (!wanted(line.sku))
        continue;
      if (rec.status == order_status::shipped ||
          rec.status == order_status::delivered) {
        if (line.quantity > line.cancelled_quantity)
          shipped.emplace(std::pair{rec.id, line.sku},
                          line.quantity - line.cancelled_quantity);
        continue;
      }
      auto qty = held_quantity(rec, line);
      if (qty <= 0)
        continue;
      external_hold h;
      h.order = rec.id;
      h.quantity = qty;
      h.wanted = rec.status == order_status::created ? wms_state::reserved
                                                     : wms_state::blocked;
      ledger_of(line.sku).restore_hold(std::move(h));
    }
  }
  for (auto& row : reservations) {
    if (!wanted(row.sku))
      continue;
    auto& ledger = ledger_of(row.sku);
    external_hold h;
    if (auto* live = ledger.find(row.order)) {
      h = *live; // the live order says what it wants
    } else {
      h.order = row.order;
      h.quantity = row.quantity;
      // No live hold: the order ended; ship if that was asked, else release.
      auto ship = shipped.find({row.order, row.sku});
      if (ship != shipped.end())
        h.quantity = std::min(row.quantity, ship->second);
      h.wanted = row.state.wanted == wms_state::shipped || ship != shipped.end()
                     ? wms_state::shipped
                     : wms_state::released;
    }
    h.known = row.state.known;
    h.reserve_seq = row.wms_seq;
    h.requested = true;
    // What the WMS may hold; above the live order's hold after a partial
    // cancel the WMS has not acknowledged yet.
    h.wms_quantity = row.quantity;
    ledger.restore_hold(std::move(h));
  }
  for (auto& d : deltas)
    if (wanted(d.sku))
      ledger_of(d.sku).restore_delta(d.wms_seq, d.quantity);
  return ledgers;
}

stock_ledger ledger_from(const supervisor_state& st, const sku_state& sku,
                         const std::vector<hold_state>& stored_holds,
                         timestamp_ms now) {
  std::vector<hold_view> holds;
  holds.reserve(stored_holds.size());
  for (auto& h : stored_holds)
    holds.push_back(hold_view{h.order, h.quantity, h.kind, h.lots});
  std::vector<lot_state> lots;
  for (auto& b : sku.batches) {
    lot_state l;
    l.lot = b.lot;
    l.expires_at = b.expires_at;
    l.received_at = b.received_at;
    l.on_hand = b.on_hand;
    for (size_t i = 0;
         i < b.unallocatable.size() && i < unallocatable_reason_count; ++i)
      l.unallocatable[i] = b.unallocatable[i];
    lots.push_back(std::move(l));
  }
  // A SKU stored before batches existed has its units in the batch "".
  int64_t in_lots = 0;
  for (auto& l : lots)
    in_lots += l.on_hand;
  if (sku.on_hand > in_lots) {
    lot_state l;
    l.on_hand = sku.on_hand - in_lots;
    lots.push_back(std::move(l));
  }
  stock_ledger ledger{st.ctx->settings.limits.unit_price_max};
  ledger.restore(sku.unit_price, sku.received_total, sku.consumed_total,
                 sku.adjusted_total, std::move(lots), holds, now);
  ledger.set_version(sku.version);
  return ledger;
}

inventory_actor adopt_sku(supervisor_ptr self, const sku_id& sku,
                          stock_ledger ledger) {
  auto& st = self->state;
  auto handle = self->spawn(restored_inventory, sku, st.ctx, std::move(ledger),
                            epoch_of(st, sku));
  self->monitor(handle);
  st.skus.insert_or_assign(sku, handle);
  return handle;
}

} // namespace supervisor_steps

supervisor_actor::behavior_type
restored_supervisor(supervisor_ptr self, context_ptr ctx,
                    std::shared_ptr<const recovered_state> recovered) {
  self->state.ctx = ctx;
  start_inbox(self, recovered->inbox_ids);
  auto behavior = supervisor(self, ctx);
  // A cluster node serves no shard before it has taken it (atom::adopt).
  if (!ctx->shards) {
    restore_skus(self, *recovered);
    restore_external(self, *recovered);
    restore_orders(self, *recovered);
  }
  log::info("supervisor.recovered",
            {{"skus", uint64_t{recovered->skus.size()}},
             {"live_orders", uint64_t{recovered->live_orders.size()}},
             {"orders", recovered->total_orders},
             {"last_seq", recovered->last_seq}});
  return behavior;
}

} // namespace oms
