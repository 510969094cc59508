// What the SUPERVISOR's behaviour (supervisor.cpp), its orders
// (supervisor_orders.cpp), its start from the journal
// (supervisor_restore.cpp), its hold timers (supervisor_holds.cpp), its
// resting orders (supervisor_rest.cpp) and its restarts of failed actors
// (supervisor_restart.cpp) share; used by nothing else.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "actors/external_ledger.hpp"
#include "actors/stock_ledger.hpp"
#include "actors/supervisor.hpp"

namespace oms::supervisor_steps {

using supervisor_ptr = supervisor_actor::stateful_pointer<supervisor_state>;

/// The actor of an EXTERNAL SKU, spawned (with `ledger`) on first use.
external_sku_actor external_actor(supervisor_ptr self, const sku_id& sku,
                                  external_ledger ledger);

/// The same with an empty ledger.
external_sku_actor external_actor(supervisor_ptr self, const sku_id& sku);

/// The EXTERNAL seller served from what the store holds: its SKUs' actors
/// with the holds of the EXTERNAL orders among `live` and of the unsettled
/// WMS `reservations` and the feed changes `deltas` not yet in a
/// snapshot, then the WMS feed read from after `cursor`. Nothing without a
/// WMS gateway. On a cluster, when the node takes the duty shard.
void start_external(supervisor_ptr self, const std::vector<order_record>& live,
                    const std::vector<wms_reservation>& reservations,
                    const std::vector<external_delta>& deltas,
                    const std::string& cursor);

/// Spawns the INBOX, which knows the inbound event ids `done` already.
void start_inbox(supervisor_ptr self,
                 std::vector<std::pair<std::string, timestamp_ms>> done);

/// The ledger of an INTERNAL SKU as stored, with the holds on it.
stock_ledger ledger_from(const supervisor_state& st, const sku_state& sku,
                         const std::vector<hold_state>& holds,
                         timestamp_ms now);

/// Spawns, monitors and registers the INVENTORY actor of a stored SKU.
inventory_actor adopt_sku(supervisor_ptr self, const sku_id& sku,
                          stock_ledger ledger);

/// The ledgers of EXTERNAL SKUs rebuilt from what the journal keeps: the
/// holds of live orders (`orders`; a SHIPPED order's reservations are to
/// ship), the reservations at the WMS not yet settled (one whose order holds
/// nothing more is to ship or release) and the feed changes no snapshot
/// reflects yet. Only `only`'s ledger if it is given.
std::map<sku_id, external_ledger>
external_ledgers(int64_t safety_buffer, const std::vector<order_record>& orders,
                 const std::vector<wms_reservation>& reservations,
                 const std::vector<external_delta>& deltas,
                 const sku_id* only = nullptr);

/// WMS_UNAVAILABLE: no gateway to the EXTERNAL seller's WMS is configured.
caf::error no_wms();

// -- orders (supervisor_orders.cpp) ------------------------------------------

/// Spawns and registers the actor of a live order restored from its record
/// (after a restart of omsd, or of the order's actor, or a wake), with its
/// SKUs' actors.
void adopt_order(supervisor_ptr self, order_record rec);

/// Monitors a new order actor and enters it in the registry.
void register_order(supervisor_ptr self, const order_id& id,
                    const order_actor& handle,
                    std::shared_ptr<order_activity> activity);

/// ORDER_NOT_FOUND for `id`.
caf::error order_not_found(const order_id& id);

/// createOrder: validates, resolves the SKUs, spawns the order's actor and
/// delegates the creation to it.
caf::result<created_order> create_order(supervisor_ptr self,
                                        create_order_request& req);

/// A command to an order: to its actor (woken if it rests), or refused from
/// its final record.
/// A step of a return: sent to the order's actor, which is started again
/// from its record if the order ended.
caf::result<order_record> apply_return(supervisor_ptr self, const order_id& id,
                                       return_command cmd);

caf::result<order_record> apply_command(supervisor_ptr self, const order_id& id,
                                        order_command& cmd);

/// An order's record: from its actor while it runs, else from the journal.
caf::result<order_record> get_order(supervisor_ptr self, const order_id& id);

/// A live order's actor, waking it if it rests.
caf::result<order_actor> find_order(supervisor_ptr self, const order_id& id);

// -- hold timers (supervisor_holds.cpp) ---------------------------------------

/// Arms the order's hold of `generation` for `due`, replacing its earlier
/// one.
void arm_hold(supervisor_ptr self, const order_id& id, uint64_t generation,
              timestamp_ms due);

/// The hold timer of generation `tick` fired: every live order whose hold is
/// due gets atom::expire (a stale timer does nothing).
void expire_due_holds(supervisor_ptr self, uint64_t tick);

/// The order ended: its hold is forgotten.
void forget_hold(supervisor_state& st, const order_id& id);

// -- restarts (supervisor_restart.cpp) ----------------------------------------

/// True while the seller's SKU has no actor because its actor stopped on a
/// failure (being restarted, or left stopped).
bool sku_down(const supervisor_state& st, const sku_id& sku, seller from);

/// Why a seller's SKU has no actor: UNAVAILABLE while it is down (see
/// sku_down), else UNKNOWN_SKU.
caf::error missing_sku(supervisor_ptr self, const sku_id& sku, seller from);

/// The SKU's actor (an EXTERNAL SKU's spawned on first use); while it is
/// being restarted and the journal is being read, the answer waits for the
/// new actor.
caf::result<inventory_actor> find_sku(supervisor_ptr self, const sku_id& sku,
                                      seller from);

/// The SKU's actor stopped on `reason`: restarts it after a backoff, or,
/// after too many failures in a window, leaves it stopped.
void sku_failed(supervisor_ptr self, const sku_id& sku, seller from,
                const caf::error& reason);

/// The next step of the SKU's restart (its timer, then the end of the wait
/// for the live orders' steps in flight).
void restart_sku(supervisor_ptr self, const sku_id& sku, seller from);

/// The actor of an EXTERNAL SKU (spawned on first use), or UNAVAILABLE
/// while its actor is down; on a cluster NOT_OWNER unless the node serves
/// the duty shard.
caf::expected<external_sku_actor> live_external(supervisor_ptr self,
                                                const sku_id& sku);

/// The SKUs restarting or left stopped.
std::vector<sku_fault> sku_health(const supervisor_state& st);

/// The order's actor stopped on a failure: a new one takes over from the
/// order's last durable record (as after a restart of omsd: its hold timer
/// re-armed, its refunds asked about again). Callers in flight got
/// request_receiver_down (503 UNAVAILABLE: retry). An order never made
/// durable (it stopped while being created) has its holds released at every
/// SKU, since no record will ever claim them.
void restart_order(supervisor_ptr self, const order_id& id,
                   const caf::error& reason);

// -- resting orders (supervisor_rest.cpp) ------------------------------------

/// What waits for a live order's actor: the actor, or why there is none.
using order_waiter = std::function<void(caf::expected<order_actor>)>;

/// Runs `then` with the actor of the live order `id`: at once if it runs,
/// after its record is read and its actor spawned if it rests (waking it),
/// and with ORDER_NOT_FOUND if neither.
/// Like with_live_order, for any order the journal has: one that ended
/// (terminal, no actor) gets its actor again, from its record, for a step
/// that changes it after the end (a return). The actor ends again once it
/// owes nothing.
void with_order_actor(supervisor_ptr self, const order_id& id,
                      order_waiter then);

void with_live_order(supervisor_ptr self, const order_id& id,
                     order_waiter then);

/// Whether the order is open but rests (or is being woken).
bool rests(const supervisor_state& st, const order_id& id);

/// The order's actor is about to end and leave it resting in `status` (if
/// CREATED, with its hold due at `hold_due`).
void order_rests(supervisor_ptr self, const order_id& id, order_status status,
                 timestamp_ms hold_due);

/// Enters an order with no actor among the resting ones: a CREATED one with
/// its hold armed for `hold_due`, any other without a hold.
void enter_rest(supervisor_ptr self, const order_id& id, order_status status,
                timestamp_ms hold_due);

/// Sends the sweep's question (atom::purge) to the live orders of a slice of
/// the registry from bucket `cursor`, and goes on with the next slice, or
/// arms the next sweep.
void sweep_orders(supervisor_ptr self, uint64_t cursor);

/// The hold of a resting order is due: wakes it (its actor then cancels it),
/// or, if it cannot be read, arms the hold again a little later.
void wake_for_expiry(supervisor_ptr self, const order_id& id);

/// Arms the first sweep, unless resting is turned off.
void start_sweeps(supervisor_ptr self);

// -- a cluster node's shards (supervisor_shards.cpp) --------------------------

/// atom::adopt: reads the shards taken, starts their actors, serves them.
void adopt_shards(supervisor_ptr self, const shard_epochs& which);

/// atom::disown: stops serving the shards lost and stops their actors.
void disown_shards(supervisor_ptr self, const shard_epochs& which);

/// atom::hold: a hold change of an order on another shard, at the SKU's
/// actor here or (if `route`) at the owner's region.
caf::result<hold_outcome> hold_at_owner(supervisor_ptr self, const sku_id& sku,
                                        hold_change& change, bool route);

/// An inbound change with an event id (a return's) made by this node's
/// INBOX when the node serves the SKU's shard (or is no cluster node),
/// else (if `route`) sent to the region of the node that holds it.
caf::result<inbox_result> change_at_owner(supervisor_ptr self, stock_change c,
                                          bool route);

/// atom::find_sku with a route: the SKU's actor here, as a stock reader,
/// or, for an INTERNAL SKU of a shard this node does not serve, (if
/// `route`) the reader the owner's region answers (a customer's cart on a
/// cluster: its lines' SKUs may be on any node).
caf::result<stock_reader_actor>
sku_at_owner(supervisor_ptr self, const sku_id& sku, seller from, bool route);

/// atom::create with a route: the order made here, or, when its first
/// line's shard is another node's, (if `route`) made by that node, whose
/// answer (without its actor's handle) is this one's (a customer's cart
/// checked out on a cluster).
caf::result<created_order>
create_at_owner(supervisor_ptr self, create_order_request& req, bool route);

/// A cluster node's SKU just started from the store: its holds for orders
/// on other shards (`holds`: the SKU's as stored) are settled against
/// their records from now on, and reserved ones go back by themselves once
/// their time is up, as at the node that made them (atom::hold's watch).
/// Call once the shard's orders are known.
void watch_off_shard_holds(supervisor_ptr self, const sku_id& sku,
                           const std::vector<hold_state>& holds);

/// NOT_OWNER unless the node serves the shard of the INTERNAL SKU `sku`
/// (none on a single node).
caf::error sku_gate(const supervisor_state& st, const sku_id& sku);

/// The same for a SKU of `from` (the EXTERNAL seller's are all on the duty
/// shard).
caf::error sku_gate(const supervisor_state& st, seller from, const sku_id& sku);

/// NOT_OWNER unless the node serves the shard of the order of `rec` (none
/// on a single node).
caf::error order_gate(const supervisor_state& st, const order_record& rec);

/// The lease epoch under which the node serves `shard` now, to stamp on an
/// actor of the shard that starts (inventory_state::fence): -1 when it does
/// not serve it (the shard was lost between a check and the start: all
/// such an actor journals is refused), 0 on a single node.
int64_t writer_epoch(const shard_map* shards, uint32_t shard);

/// writer_epoch of the INTERNAL SKU's shard.
int64_t epoch_of(const supervisor_state& st, const sku_id& sku);

/// writer_epoch of the duty shard, for the EXTERNAL seller's actors (its
/// SKUs' and the WMS feed reader's fence).
int64_t external_epoch(const supervisor_state& st);

/// The same for the shard of the order of `rec` (order_state::fence).
int64_t epoch_of(const supervisor_state& st, const order_record& rec);

} // namespace oms::supervisor_steps
