// What the EXTERNAL-SKU actor's behaviour (external_sku.cpp) and its work
// with the WMS (external_sku_wms.cpp) share; used by nothing else.
#pragma once

#include <functional>

#include "actors/external_sku.hpp"

namespace oms::external_sku_steps {

using ext_ptr = external_sku_actor::stateful_pointer<external_sku_state>;

// -- external_sku.cpp ---------------------------------------------------------

/// Wall-clock milliseconds now, as the actors see it.
timestamp_ms now(ext_ptr self);

/// The SKU's counters now, from our count.
stock_view view(ext_ptr self);

// -- external_sku_wms.cpp -----------------------------------------------------

/// Brings the WMS one step closer to what the order wants (one call at a
/// time per order; an intent is journaled before the call that acts on it).
void sync(ext_ptr self, const order_id& order);

/// sync for every hold the WMS is behind on.
void sync_all(ext_ptr self);

/// Arms the retry timer with a doubling backoff, unless it is armed.
void arm_retry(ext_ptr self);

/// The grace of `order`'s release is over: sent once more, and settled by
/// its answer (see on_unknown_reservation).
void release_again(ext_ptr self, const order_id& order);

/// Reads a snapshot of the SKU at the WMS (unless a read is under way) and
/// answers whoever waits for one.
void read_snapshot(ext_ptr self);

/// Runs `f` once a snapshot is known (at once if it is), with the error if
/// the read failed.
void with_snapshot(ext_ptr self, std::function<void(const caf::error&)> f);

} // namespace oms::external_sku_steps
