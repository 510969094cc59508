// The SUPERVISOR: spawns SKU, order and customer actors on demand, keeps the
// registry (SKU -> actor, live order -> actor, customer -> actor), monitors
// them, and hands out handles so that callers talk to the owners directly.
// It relays only what it must: receipts of new SKUs, order creation (spawn +
// delegate, no round trip back), and commands for orders whose handle the
// caller does not have. Terminal orders have no actor: their records are
// read from the store through the JOURNAL.
#pragma once

#include <map>
#include <memory>
#include <unordered_map>
#include <vector>

#include <caf/actor_addr.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/context.hpp"
#include "actors/external_sku.hpp"
#include "actors/wms_feed.hpp"
#include "messages/customer_protocol.hpp"
#include "messages/inventory_protocol.hpp"
#include "messages/order_protocol.hpp"
#include "messages/recovered_state.hpp"
#include "messages/supervisor_protocol.hpp"

namespace oms {

/// State of the SUPERVISOR.
struct supervisor_state {
  context_ptr ctx;
  std::map<sku_id, inventory_actor> skus; // ordered: listed in pages
  /// Orders whose actor is alive.
  std::unordered_map<order_id, order_actor> orders;
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
  /// INTERNAL SKUs whose actor stopped on a failure: they answer
  /// UNAVAILABLE (never a fresh, empty actor) until omsd restarts.
  std::map<sku_id, sku_fault> failed;
  /// SKUs of the EXTERNAL seller seen so far (spawned on first use).
  std::map<sku_id, external_sku_actor> external;
  /// Reads the EXTERNAL seller's event feed (when a WMS is configured).
  wms_feed_actor feed;

  /// Restarts of one order's actor before it is left stopped.
  static constexpr uint32_t order_restarts_max = 3;

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
