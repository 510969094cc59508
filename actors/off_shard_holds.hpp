// What the owner of a SKU does with a hold it keeps for an order placed on
// another shard (docs/cluster.md, "Orders across shards"), as a pure
// function: the order's own node tells it each change once journaled, and
// the owner also reads the order's record from the shared store now and
// then, so that a change whose message was lost (the order's node died
// between its commit and the owner's answer) is made all the same.
#pragma once

#include <vector>

#include "messages/domain.hpp"

namespace oms {

/// The changes that make the hold `hold` on `sku` what the order `rec`, as
/// stored, holds there (in order; each names its target: idempotent).
/// Only ever gives units back: the order's node has the owner block and
/// ship units before it journals that they are (a hold at or ahead of the
/// record is left as it is), so units the record no longer holds and the
/// owner still does are units the order gave back.
std::vector<hold_change> settle_off_shard_hold(const order_record& rec,
                                               const sku_id& sku,
                                               const hold_view& hold);

} // namespace oms
