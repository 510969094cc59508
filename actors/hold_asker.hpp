// How an ORDER actor has the owner of another shard's SKU change its hold
// (docs/cluster.md, "Orders across shards"): a short-lived actor asks the
// node's SUPERVISOR, which makes the change here or sends it to the
// owner's region, and asks again while the answer says the route is not
// there yet (the shard moving, its owner's region not connected, no
// answer in time). Every hold change is idempotent, so asking again after
// an answer was lost is safe.
#pragma once

#include <chrono>

#include <caf/actor.hpp>
#include <caf/error.hpp>

#include "messages/supervisor_protocol.hpp"

namespace oms {

/// Whether a hold change refused with `err` may succeed when asked again
/// (NOT_OWNER, UNAVAILABLE, STORE_FAILURE, a lost or late answer): a route
/// or an owner may come meanwhile.
bool hold_retryable(const caf::error& err);

/// Spawns the asker of `change` on `sku`: it answers atom::get with the
/// hold_outcome, or with the last error once `patience` has passed or the
/// error is final. Each attempt waits `attempt_timeout` at most; attempts
/// are 100 ms apart.
caf::actor spawn_hold_asker(caf::actor_system& sys, supervisor_actor sup,
                            sku_id sku, hold_change change,
                            std::chrono::milliseconds patience,
                            std::chrono::milliseconds attempt_timeout);

} // namespace oms
