// The stock conservation audit as a pure function over what the SKU actors
// and the live orders report.
#pragma once

#include <vector>

#include "messages/domain.hpp"

namespace oms {

/// Checks, for every SKU: counters not negative, holds within on-hand,
/// received = on_hand + consumed, counters = sums of holds; and across
/// actors: every hold belongs to a live order that holds exactly that much
/// of that kind, and every live order's holds exist; and every live order's
/// total is what its lines cost (without wrapping), with no negative amount
/// and no more refunded than paid.
audit_report audit_stock(const std::vector<stock_snapshot>& skus,
                         const std::vector<order_record>& live_orders);

} // namespace oms
