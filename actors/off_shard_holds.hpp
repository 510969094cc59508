// What the owner of a SKU does with a hold it keeps for an order placed on
// another shard (docs/cluster.md, "Orders across shards"), as a pure
// function: the order's own node tells it each change once journaled, and
// the owner also reads the order's record from the shared store now and
// then, so that a change whose message was lost (the order's node died
// between its commit and the owner's answer) is made all the same.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "messages/domain.hpp"

namespace oms {

struct off_shard_settlement {
  /// The changes to make, in order (each names its target: idempotent).
  std::vector<hold_change> changes;
  /// The record says units left the hold, but not which of them shipped
  /// and which went back (both happened, and the units this owner shipped
  /// are not known): nothing is changed, and the hold is reported.
  bool ambiguous = false;
};

/// What the hold `hold` on `sku` should become for the order `rec` as
/// stored. Only gives units back or ships them, never takes or blocks
/// (a hold ahead of the record is the order's own doing: it blocks here
/// before it journals). `consumed`: the units this owner shipped from the
/// hold, if it knows (it made the hold and has not restarted since).
off_shard_settlement settle_off_shard_hold(const order_record& rec,
                                           const sku_id& sku,
                                           const hold_view& hold,
                                           std::optional<int64_t> consumed);

} // namespace oms
