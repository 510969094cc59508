// The SUPERVISOR: spawns SKU, order and customer actors on demand, keeps the
// registry (SKU -> actor, live order -> actor, customer -> actor), monitors
// them, and hands out handles so that callers talk to the owners directly.
// It relays only what it must: receipts of new SKUs, order creation (spawn +
// delegate, no round trip back), and commands for orders whose handle the
// caller does not have. Terminal orders have no actor: their records are
// read from the store through the JOURNAL.
//
// Resting orders: an open order whose actor handled nothing for a while
// (settings::order_idle_timeout; a sweep of the live orders' activity asks
// those idle that long) and has nothing under way ends its actor and rests
// (`dormant`); its record is
// in the store. A command, a request for its actor, or its hold's expiry
// reads the record through the JOURNAL and spawns its actor again, as a
// restart of omsd does; what comes meanwhile waits for that actor. A start
// of omsd restores the orders that may rest as resting. So memory follows
// the orders in use, not every open order (supervisor_rest.cpp).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <caf/actor_addr.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/context.hpp"
#include "actors/external_sku.hpp"
#include "actors/order.hpp"
#include "actors/wms_feed.hpp"
#include "messages/customer_protocol.hpp"
#include "messages/inventory_protocol.hpp"
#include "messages/order_protocol.hpp"
#include "messages/recovered_state.hpp"
#include "messages/supervisor_protocol.hpp"

namespace oms {

/// A restart of a SKU's actor under way: a backoff, then a wait until every
/// live order has finished the step it is in (so that each reservation the
/// old actor granted is journaled or given up), then the SKU read from the
/// journal into a new actor (an EXTERNAL SKU's holds from the records of its
/// orders, its WMS reservations and its feed changes).
struct sku_restart {
  enum class phase { backoff, settling, reading };
  phase now = phase::backoff;
  /// Which restart this is (a SKU restarted again has a new one): an answer
  /// for an earlier one is dropped.
  uint64_t attempt = 0;
  sku_fault fault;
  /// find_sku requests that came while the journal was being read.
  std::vector<caf::typed_response_promise<inventory_actor>> waiting;
};

/// The SKUs of one seller whose actor stopped on a failure.
struct sku_outages {
  /// Being restarted from the journal: they answer UNAVAILABLE meanwhile
  /// (never a fresh, empty actor).
  std::map<sku_id, sku_restart> restarting;
  /// Kept failing: they answer UNAVAILABLE until omsd restarts.
  std::map<sku_id, sku_fault> failed;
  /// Failures of each SKU's actor: when the current window began, and how
  /// many in it.
  std::map<sku_id, std::pair<timestamp_ms, uint32_t>> failures;
};

/// An order's hold timer: the order, and the generation its actor armed.
struct hold_due {
  order_id order;
  uint64_t generation = 0;
};

/// A live order in the SUPERVISOR's registry: its actor, and when the actor
/// was last in use (the sweep reads it, see order_activity).
struct live_order {
  order_actor handle;
  std::shared_ptr<order_activity> activity;
};

/// State of the SUPERVISOR.
struct supervisor_state {
  context_ptr ctx;
  std::map<sku_id, inventory_actor> skus; // ordered: listed in pages
  /// Orders whose actor is alive.
  std::unordered_map<order_id, live_order> orders;
  /// Open orders resting: no actor, their record in the store.
  std::unordered_set<order_id> dormant;
  /// Resting orders being read to be woken, and what waits for their actor.
  std::unordered_map<
      order_id, std::vector<std::function<void(caf::expected<order_actor>)>>>
      waking;
  /// Monitored order actors, to find the order when one goes down.
  std::unordered_map<caf::actor_addr, order_id> order_of;
  /// CUSTOMER actors, spawned on first use, and monitored: one that stops
  /// is spawned again on next use (its keys reload from the journal).
  std::unordered_map<customer_id, customer_actor> customers;
  std::unordered_map<caf::actor_addr, customer_id> customer_at;
  /// Orders whose actor stopped on a failure and was restarted from the
  /// journal, and how often (at most order_restarts_max each).
  std::unordered_map<order_id, uint32_t> order_restarts;
  /// Deduplicates inbound stock changes.
  inbox_actor inbox;
  /// SKUs whose actor stopped on a failure, by seller (the two sellers'
  /// SKU names are apart).
  sku_outages internal_down;
  sku_outages external_down;
  /// The holds of unconfirmed orders by due time, each order's among them,
  /// and the one timer armed for the earliest (hold_tick_at, 0 if none;
  /// a timer of an older generation is stale). See supervisor_holds.cpp.
  std::multimap<timestamp_ms, hold_due> holds_due;
  std::unordered_map<order_id, std::multimap<timestamp_ms, hold_due>::iterator>
      hold_of;
  timestamp_ms hold_tick_at = 0;
  uint64_t hold_tick_generation = 0;
  /// SKUs of the EXTERNAL seller seen so far (spawned on first use).
  std::map<sku_id, external_sku_actor> external;
  /// Reads the EXTERNAL seller's event feed (when a WMS is configured).
  wms_feed_actor feed;
  /// A cluster node (ctx->shards set): the shard of each order with an
  /// actor or resting, and a count per shard of the node's losses of it
  /// (a load of a shard that lost it meanwhile is thrown away). See
  /// supervisor_shards.cpp.
  std::unordered_map<order_id, uint32_t> order_shard;
  std::vector<uint64_t> shard_generation;
  /// How many times the node stopped the actors of shards (it lost them,
  /// or took them again under a newer lease): a record read before the
  /// count moved may be older than its shard's state (order_epoch).
  uint64_t shard_stops = 0;
  /// Loads of shards taken that failed, to try again at the next retry
  /// tick (an empty atom::adopt), each with the generations its shards had
  /// when first asked: a shard lost since is left out.
  std::vector<std::pair<shard_epochs, std::vector<uint64_t>>> adopt_retries;

  /// Restarts of one order's actor before it is left stopped.
  static constexpr uint32_t order_restarts_max = 3;
  /// Restarts of one SKU's actor within sku_failure_window before it is
  /// left stopped; the n-th waits sku_restart_backoff * 5^(n-1) first.
  static constexpr uint32_t sku_restarts_max = 3;
  static constexpr int64_t sku_failure_window_ms = 10 * 60 * 1000;
  static constexpr std::chrono::milliseconds sku_restart_backoff{200};

  /// The restarts of SKUs begun so far (sku_restart::attempt).
  uint64_t sku_restarts = 0;
  sku_outages& down(seller from) {
    return from == seller::external ? external_down : internal_down;
  }
  const sku_outages& down(seller from) const {
    return from == seller::external ? external_down : internal_down;
  }

  static inline const char* name = "supervisor";
};

/// Behaviour of the SUPERVISOR. An exit message (shutdown) takes every SKU
/// and order actor down with it.
supervisor_actor::behavior_type
supervisor(supervisor_actor::stateful_pointer<supervisor_state> self,
           context_ptr ctx);

/// Behaviour of the SUPERVISOR after a restart: spawns an INVENTORY actor per
/// stored SKU (with its holds) and an ORDER actor per live order, and keeps
/// nothing else: customers' actors load their keys when they start.
supervisor_actor::behavior_type
restored_supervisor(supervisor_actor::stateful_pointer<supervisor_state> self,
                    context_ptr ctx,
                    std::shared_ptr<const recovered_state> recovered);

} // namespace oms
