#include "actors/off_shard_holds.hpp"

#include <algorithm>

namespace oms {

std::vector<hold_change> settle_off_shard_hold(const order_record& rec,
                                               const sku_id& sku,
                                               const hold_view& hold) {
  auto line = std::find_if(rec.lines.begin(), rec.lines.end(),
                           [&](const order_line& l) { return l.sku == sku; });
  // Not a line of the order: nothing of it is the order's.
  auto target = line == rec.lines.end() ? 0 : held_quantity(rec, *line);
  if (hold.quantity <= target)
    return {};
  if (target == 0)
    return {hold_change{hold_op::release, rec.id, 0}};
  return {hold_change{hold_op::reduce, rec.id, target}};
}

} // namespace oms
