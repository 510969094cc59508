#include "actors/off_shard_holds.hpp"

#include <algorithm>

namespace oms {

off_shard_settlement settle_off_shard_hold(const order_record& rec,
                                           const sku_id& sku,
                                           const hold_view& hold,
                                           std::optional<int64_t> consumed) {
  off_shard_settlement out;
  auto line = std::find_if(rec.lines.begin(), rec.lines.end(),
                           [&](const order_line& l) { return l.sku == sku; });
  if (line == rec.lines.end()) {
    // Not a line of the order: nothing of it is the order's.
    out.changes.push_back({hold_op::release, rec.id, 0});
    return out;
  }
  auto target = held_quantity(rec, *line);
  if (hold.quantity <= target)
    return out;
  auto excess = hold.quantity - target;
  // What the record says left the hold: units shipped, and units given
  // back (cancelled in part, or with the whole order).
  auto shipped = line->shipped_quantity;
  auto given_back = line->quantity - shipped - target;
  // Reserved units never shipped: they only go back.
  int64_t ship = 0;
  if (hold.kind == hold_kind::blocked) {
    if (consumed)
      ship = shipped - *consumed;
    else if (given_back == 0)
      ship = excess;
    else if (shipped == 0)
      ship = 0;
    else {
      out.ambiguous = true;
      return out;
    }
    ship = std::clamp<int64_t>(ship, 0, excess);
  }
  if (ship > 0)
    out.changes.push_back({hold_op::consume, rec.id, hold.quantity - ship});
  if (ship < excess)
    out.changes.push_back(target == 0
                              ? hold_change{hold_op::release, rec.id, 0}
                              : hold_change{hold_op::reduce, rec.id, target});
  return out;
}

} // namespace oms
