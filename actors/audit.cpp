// The stock conservation audit: each SKU's report is checked against itself,
// then against what the live orders say they hold.
#include "actors/audit.hpp"

#include <algorithm>
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <unordered_map>

#include "actors/order_machine.hpp"

namespace oms {

namespace {

// What the live orders say they hold: (sku, order) -> (quantity, kind).
using expected_holds = std::map<std::pair<sku_id, order_id>, hold_view>;

// Records one violation on `sku`.
using say_fn = std::function<void(const sku_id&, std::string)>;

expected_holds holds_of(const std::vector<order_record>& live_orders) {
  expected_holds expected;
  for (auto& rec : live_orders) {
    auto kind = held_as(rec.status);
    if (!kind)
      continue;
    for (auto& line : rec.lines) {
      auto qty = held_quantity(rec, line);
      if (qty > 0)
        expected[{line.sku, rec.id}] =
            hold_view{rec.id, qty, *kind,
                      slice_allocations(line.lots, line.shipped_quantity, qty)};
    }
  }
  return expected;
}

// The SKU's counters: none negative, holds within on-hand, and
// received + adjusted = on_hand + consumed.
void check_counters(const stock_view& v, const say_fn& say) {
  if (v.on_hand < 0)
    say(v.sku, "on_hand is negative: " + std::to_string(v.on_hand));
  if (v.reserved < 0 || v.blocked < 0)
    say(v.sku, "a hold counter is negative");
  if (v.available < 0)
    say(v.sku,
        "holds exceed on_hand: available = " + std::to_string(v.available));
  if (v.available != v.on_hand - v.unallocatable - v.reserved - v.blocked)
    say(v.sku, "available " + std::to_string(v.available) +
                   " != on_hand - unallocatable - reserved - blocked");
  // An EXTERNAL SKU's units are counted by its WMS: our count derives from
  // the WMS's snapshot (its own checks come as the snapshot's problems).
  if (v.seller == seller::internal &&
      v.received_total + v.adjusted_total != v.on_hand + v.consumed_total)
    say(v.sku, "received " + std::to_string(v.received_total) + " + adjusted " +
                   std::to_string(v.adjusted_total) + " != on_hand " +
                   std::to_string(v.on_hand) + " + consumed " +
                   std::to_string(v.consumed_total));
}

// Each batch: its units add up, and it holds what the holds take from it.
void check_batches(const stock_snapshot& snap, const say_fn& say) {
  auto& v = snap.view;
  std::map<std::string, int64_t> held_by_lot;
  for (auto& h : snap.holds)
    for (auto& a : h.lots)
      held_by_lot[a.lot] += a.quantity;
  for (auto& b : v.batches) {
    int64_t aside = 0;
    for (auto x : b.unallocatable)
      aside += x;
    if (b.on_hand != b.held + aside + b.available || b.available < 0)
      say(v.sku, "batch '" + b.lot + "': on_hand " + std::to_string(b.on_hand) +
                     " != held + unallocatable + available");
    if (b.held != held_by_lot[b.lot])
      say(v.sku, "batch '" + b.lot + "' holds " + std::to_string(b.held) +
                     " but its holds add up to " +
                     std::to_string(held_by_lot[b.lot]));
  }
}

// Each hold belongs to a live order that holds exactly that much of that
// kind, from the batches its lines record; the reserved and blocked counters
// are the sums of the holds. A hold found here leaves `expected`.
void check_holds(const stock_snapshot& snap, expected_holds& expected,
                 const say_fn& say) {
  auto& v = snap.view;
  int64_t reserved = 0;
  int64_t blocked = 0;
  for (auto& h : snap.holds) {
    (h.kind == hold_kind::reserved ? reserved : blocked) += h.quantity;
    auto i = expected.find({v.sku, h.order});
    if (i == expected.end()) {
      say(v.sku, "hold of " + std::to_string(h.quantity) + " units for order " +
                     h.order + " that is not live or holds nothing here");
      continue;
    }
    if (i->second.quantity != h.quantity || i->second.kind != h.kind)
      say(v.sku, "order " + h.order + " holds " +
                     std::to_string(i->second.quantity) + " " +
                     to_string(i->second.kind) + " but the SKU has " +
                     std::to_string(h.quantity) + " " + to_string(h.kind));
    else if (!i->second.lots.empty() && i->second.lots != h.lots)
      say(v.sku,
          "order " + h.order + " holds other batches than its lines record");
    expected.erase(i);
  }
  if (reserved != v.reserved)
    say(v.sku, "reserved " + std::to_string(v.reserved) +
                   " != sum of reserved holds " + std::to_string(reserved));
  if (blocked != v.blocked)
    say(v.sku, "blocked " + std::to_string(v.blocked) +
                   " != sum of blocked holds " + std::to_string(blocked));
}

// Holds that live orders claim but no SKU has (only for audited SKUs): what
// check_holds left in `expected`.
void check_claims(const std::vector<stock_snapshot>& skus,
                  const expected_holds& expected, const say_fn& say) {
  std::unordered_map<sku_id, bool> audited;
  for (auto& snap : skus)
    audited[snap.view.sku] = true;
  for (auto& [key, h] : expected)
    if (audited.count(key.first))
      say(key.first, "order " + key.second + " claims " +
                         std::to_string(h.quantity) +
                         " units the SKU does not hold for it");
}

// Each live order's amounts: its total is what its lines cost (computed
// without wrapping) and no amount is negative or refunded beyond what was
// paid. Reported on the order's first SKU.
void check_amounts(const std::vector<order_record>& live_orders,
                   const say_fn& say) {
  for (auto& rec : live_orders) {
    auto sku = rec.lines.empty() ? sku_id{} : rec.lines.front().sku;
    auto total = order_total(rec.lines);
    if (!total)
      say(sku,
          "order " + rec.id + ": its lines cost more than an amount holds");
    else if (*total != rec.total_amount)
      say(sku, "order " + rec.id + ": totalAmount " +
                   std::to_string(rec.total_amount) + " != its lines' " +
                   std::to_string(*total));
    if (rec.total_amount < 0 || rec.paid_amount < 0 ||
        rec.refunded_amount < 0 || rec.refunded_amount > rec.paid_amount)
      say(sku, "order " + rec.id + ": total " +
                   std::to_string(rec.total_amount) + ", paid " +
                   std::to_string(rec.paid_amount) + ", refunded " +
                   std::to_string(rec.refunded_amount) +
                   ": an amount is negative or refunds exceed payments");
  }
}

} // namespace

audit_report audit_stock(const std::vector<stock_snapshot>& skus,
                         const std::vector<order_record>& live_orders) {
  audit_report report;
  report.skus_checked = skus.size();
  report.live_orders = live_orders.size();
  say_fn say = [&](const sku_id& sku, std::string what) {
    report.violations.push_back(violation{sku, std::move(what)});
  };
  auto expected = holds_of(live_orders);
  auto add = [](int64_t& sum, int64_t x) {
    if (__builtin_add_overflow(sum, std::max<int64_t>(0, x), &sum))
      sum = std::numeric_limits<int64_t>::max();
  };
  for (auto& snap : skus) {
    add(report.units_reserved, snap.view.reserved);
    add(report.units_blocked, snap.view.blocked);
    check_counters(snap.view, say);
    for (auto& p : snap.problems)
      say(snap.view.sku, p);
    check_batches(snap, say);
    check_holds(snap, expected, say);
  }
  check_claims(skus, expected, say);
  check_amounts(live_orders, say);
  return report;
}

} // namespace oms
