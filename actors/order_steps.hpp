// The steps of the ORDER actor's flows, shared by actors/order*.cpp and by
// nothing else. Each flow asks a planner (actors/order_plan.hpp) what to do,
// then only sends, awaits and replies: order.cpp (the behaviour and the
// shared steps), order_create.cpp, order_payment.cpp, order_cancel.cpp
// (cancellation and refunds) and order_transitions.cpp.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "actors/order.hpp"
#include "actors/order_plan.hpp"

namespace oms::order_flow {

using order_ptr = order_actor::stateful_pointer<order_state>;
/// Where a command's outcome goes: the order's record, or the error.
using record_callback = std::function<void(caf::expected<order_record>)>;
/// Continuation of a step: an empty error means it succeeded.
using step_done = std::function<void(caf::error)>;

// -- shared steps (order.cpp) -------------------------------------------------

/// Wall-clock milliseconds now, as the actors see it.
timestamp_ms now(order_ptr self);

/// The actor's own handle.
order_actor handle_of(order_ptr self);

/// Notes that the order is in use now (see order_activity).
void touch(order_ptr self);

/// STORE_FAILURE for a change the journal did not make durable.
caf::error durability_error(const caf::error& err);

/// Journals `plan` (its stock events and the next record as one append),
/// makes its record the order's, disarms the hold timer if the order left
/// its state, and has the SKU actors follow (failures are logged: the
/// journal is the truth). Handles nothing else until the journal answers.
void carry_out(order_ptr self, order_plan plan, step_done then);

/// carry_out without asking the owners of units on other shards first
/// (`owners_done`: they were asked, and are not told again).
void commit_and_follow(order_ptr self, order_plan plan, step_done then,
                       bool owners_done = false);

/// Has the owners of the units of `lines` held on other shards (the other
/// lines are skipped) do `op` as the record `next` says; `then` gets
/// UNAVAILABLE if an owner could not be reached in time, or an owner's
/// refusal.
void owners_first(order_ptr self, sku_op op, const order_record& next,
                  const std::vector<size_t>& lines, step_done then);

/// owners_first blocking, as the order's record says now.
void block_off_shard(order_ptr self, const std::vector<size_t>& lines,
                     step_done then);

/// A continuation that answers `done` with the error if the step failed and
/// runs `then` if it succeeded.
step_done or_fail(record_callback done, std::function<void()> then);

/// Whether line `i` is held by another shard's owner (see
/// order_state::off_shard).
bool off_shard(order_ptr self, size_t i);

/// Whether the order's line of `sku` is off the order's shard (off_shard).
bool off_shard_sku(order_ptr self, const sku_id& sku);

/// `events` without the stock events of the lines off the order's shard,
/// which their SKUs' owners journal themselves.
std::vector<event> own_shard_events(order_ptr self, std::vector<event> events);

/// Has the owner of line `i`'s SKU, on another shard, make `change`;
/// `done` gets what it did or why not (after asking again for a while when
/// no route is there, see actors/hold_asker.hpp).
void ask_owner(order_ptr self, size_t i, hold_change change,
               std::function<void(caf::expected<hold_outcome>)> done);

/// Tells the SKU actors of `lines` to follow the order's journaled record,
/// and waits for all of them.
void follow_at_skus(order_ptr self, sku_op op, std::vector<size_t> lines,
                    std::function<void()> then);

/// Arms the hold timer for the time the hold has left (now if none).
void arm_hold_timer(order_ptr self);

/// Ends the actor once its order is terminal and owes nothing (no pending
/// charge or refund): the SUPERVISOR keeps the record.
void finish_if_terminal(order_ptr self);

/// Answers `done` with the order's record, then finish_if_terminal.
void reply_record(order_ptr self, const record_callback& done);

// -- creation (order_create.cpp) ----------------------------------------------

/// Reserves every line, then journals the order or refuses it.
caf::result<created_order> start_create(order_ptr self,
                                        create_order_request& req,
                                        std::vector<inventory_actor>& skus);

// -- payment (order_payment.cpp) ----------------------------------------------

/// Charges the amount due (recovering a lost earlier charge first).
void pay(order_ptr self, pay_command cmd, record_callback done);

/// Settles a PENDING charge (one whose answer was lost) by asking the
/// gateway about its key; `then` learns whether the order now knows the
/// outcome of every charge.
void resolve_pending_charge(order_ptr self, std::function<void(bool)> then);

/// Settles a pending charge first; if its outcome cannot be known now, the
/// command is answered PAYMENT_UNAVAILABLE, else `then` goes on.
void settle_pending_charge_then(order_ptr self, record_callback done,
                                std::function<void()> then);

// -- cancellation and refunds (order_cancel.cpp) ------------------------------

/// Cancels the whole order: `cmd` cancel (for `reason`) or expire.
void cancel_all(order_ptr self, command_kind cmd, std::string reason,
                record_callback done);

/// Cancels some units of some lines; every remaining unit cancels the order.
void cancel_lines(order_ptr self, cancel_lines_command cmd,
                  record_callback done);

/// Asks the gateway for every PENDING refund and journals the outcomes;
/// unanswered refunds are asked again on a timer.
void process_refunds(order_ptr self, std::function<void()> then);

// -- returns (order_return.cpp) -----------------------------------------------

/// A step of a return: its stock changes, then the record, then a refund
/// owed by an inspection.
void run_return(order_ptr self, return_command cmd, record_callback done);

// -- transitions (order_transitions.cpp) --------------------------------------

/// confirm (after settling a lost charge), ship (every unit left, without
/// tracking) or deliver.
void transition(order_ptr self, command_kind cmd, record_callback done);

/// Ships the lines `cmd` names (none: every unit left) as one shipment; a
/// retry under the same client key answers the order as it is.
void ship(order_ptr self, ship_command cmd, record_callback done);

} // namespace oms::order_flow
