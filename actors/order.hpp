// The ORDER actor: one per order, running the state machine of
// actors/order_machine.hpp. It asks the SKU actors of its lines to reserve,
// block, release or consume, charges and refunds through the PAYMENT actor,
// journals each change together with the stock events behind it, and
// answers only once the journal has acknowledged.
//
// Each command is decided by a pure planner (actors/order_plan.hpp); the
// actor only sends, awaits and replies, one file per flow:
//   order_create.cpp       reserve every line in parallel, all or nothing:
//                          any refused -> release what others granted,
//                          reply INSUFFICIENT_STOCK; all granted -> journal
//                          order_created + stock_reserved, reply, arm the
//                          hold timer (TTL from the settings)
//   order_transitions.cpp  confirm, ship, deliver (write-ahead: check the
//                          table, journal the change, then tell the SKU
//                          actors to block / consume, then reply)
//   order_payment.cpp      journal a PENDING charge with its gateway key
//                          (order id + attempt), charge, journal the outcome.
//                          A charge whose answer was lost stays PENDING; the
//                          next pay, confirm, cancel or expiry looks it up by
//                          key before anything else, so no charge is ever
//                          unknown to the order
//   order_cancel.cpp       cancel whole or some lines (release / reduce);
//                          refunds of a paid order: journal a PENDING refund,
//                          ask the gateway, journal the outcome; unanswered
//                          refunds are asked again on a timer until they
//                          settle
//   order.cpp              the behaviour and the shared steps
// Nothing else is handled while a step is in flight, so commands to one order
// never overlap. A terminal order with nothing pending hands its final record
// to the SUPERVISOR and quits. An open order that may rest (may_rest) and
// handled nothing for settings::order_idle_timeout tells it so when the
// SUPERVISOR's sweep asks, and quits too: its record is in the store, and the SUPERVISOR spawns its actor
// again from it when it is needed (see supervisor.hpp, "resting orders").
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include <caf/typed_event_based_actor.hpp>

#include "actors/context.hpp"
#include "messages/order_protocol.hpp"
#include "messages/supervisor_protocol.hpp"

namespace oms {

/// When an ORDER actor last handled a message other than the SUPERVISOR's
/// sweep (wall-clock ms). Written by the actor, read by the SUPERVISOR's
/// sweep, which asks only the orders idle for long enough.
struct order_activity {
  std::atomic<timestamp_ms> last{0};
};

/// State of an ORDER actor.
struct order_state {
  context_ptr ctx;
  supervisor_actor supervisor;
  order_record record;
  /// The SKU actor of each line, in line order (none for a line off the
  /// order's shard).
  std::vector<inventory_actor> skus;
  /// A cluster node's order: per line, whether its SKU is on another shard
  /// than the order's, held by that shard's owner (lines_off_shard).
  std::vector<bool> off_shard;
  /// Incremented whenever the hold timer is re-armed or disarmed; a timer
  /// message carrying an older generation is ignored.
  uint64_t generation = 0;
  /// The first error a SKU actor answered a reservation with, if any.
  caf::error reserve_error;
  /// Consecutive refund retries, for the backoff.
  uint32_t refund_retries = 0;
  bool refund_retry_scheduled = false;
  /// Shared with the SUPERVISOR's registry.
  std::shared_ptr<order_activity> activity;
  /// A cluster node's INTERNAL order: the lease epoch the order's shard was
  /// served under when this actor started, stamped on everything it
  /// journals (event::fence); 0 otherwise.
  int64_t fence = 0;

  static inline const char* name = "order";
};

/// Whether an open order's actor may end and leave the order to its stored
/// record at `now`: an INTERNAL order (an EXTERNAL one follows its WMS
/// reservations, and its SKU's restart reads them from its live actor),
/// created and not terminal, with no charge or refund awaiting an answer,
/// and, if CREATED, with its hold not yet expired (an expired one is
/// cancelling). The step in flight is not in the record: the caller knows
/// it has none.
bool may_rest(const order_record& rec, timestamp_ms now);

/// Behaviour of the ORDER actor for a new order with id `id`. `fence`:
/// order_state::fence.
order_actor::behavior_type
order(order_actor::stateful_pointer<order_state> self, order_id id,
      context_ptr ctx, supervisor_actor supervisor,
      std::shared_ptr<order_activity> activity, int64_t fence);

/// Behaviour of an ORDER actor restored from the store after a restart: the
/// hold timer is re-armed for the time left (an expired hold cancels the
/// order right away) and pending refunds are asked about again.
order_actor::behavior_type
restored_order(order_actor::stateful_pointer<order_state> self,
               order_record record, std::vector<inventory_actor> skus,
               context_ptr ctx, supervisor_actor supervisor,
               std::shared_ptr<order_activity> activity, int64_t fence);

} // namespace oms
