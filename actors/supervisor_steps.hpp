// What the SUPERVISOR's behaviour (supervisor.cpp) and its restart
// (supervisor_restore.cpp) share; used by nothing else.
#pragma once

#include <string>
#include <vector>

#include "actors/external_ledger.hpp"
#include "actors/supervisor.hpp"

namespace oms::supervisor_steps {

using supervisor_ptr = supervisor_actor::stateful_pointer<supervisor_state>;

/// The actor of an EXTERNAL SKU, spawned (with `ledger`) on first use.
external_sku_actor external_actor(supervisor_ptr self, const sku_id& sku,
                                  external_ledger ledger);

/// The same with an empty ledger.
external_sku_actor external_actor(supervisor_ptr self, const sku_id& sku);

/// Spawns and registers the actor of a live order restored from its record
/// (after a restart of omsd, or of the order's actor), with its SKUs' actors.
void adopt_order(supervisor_ptr self, order_record rec);

/// Spawns the INBOX, which knows the inbound event ids `done` already.
void start_inbox(supervisor_ptr self,
                 std::vector<std::pair<std::string, timestamp_ms>> done);

} // namespace oms::supervisor_steps
