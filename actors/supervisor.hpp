// The SUPERVISOR: spawns SKU and order actors on demand, keeps the registry
// (SKU -> actor, live order -> actor, terminal order -> final record),
// monitors them, and hands out handles so that callers talk to the owners
// directly. It relays only what it must: receipts of new SKUs, order
// creation (spawn + delegate, no round trip back), and commands for orders
// whose handle the caller does not have.
#pragma once

#include <unordered_map>

#include <caf/actor_addr.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/context.hpp"
#include "messages/customer_protocol.hpp"
#include "messages/inventory_protocol.hpp"
#include "messages/order_protocol.hpp"
#include "messages/supervisor_protocol.hpp"

namespace oms {

/// State of the SUPERVISOR.
struct supervisor_state {
  context_ptr ctx;
  std::unordered_map<sku_id, inventory_actor> skus;
  /// Orders whose actor is alive.
  std::unordered_map<order_id, order_actor> orders;
  /// Monitored order actors, to find the order when one goes down.
  std::unordered_map<caf::actor_addr, order_id> order_of;
  /// CUSTOMER actors, spawned on first use.
  std::unordered_map<customer_id, customer_actor> customers;
  /// Final records of terminal orders; their actors are gone.
  std::unordered_map<order_id, order_record> archive;

  static inline const char* name = "supervisor";
};

/// Behaviour of the SUPERVISOR. An exit message (shutdown) takes every SKU
/// and order actor down with it.
supervisor_actor::behavior_type
supervisor(supervisor_actor::stateful_pointer<supervisor_state> self,
           context_ptr ctx);

} // namespace oms
