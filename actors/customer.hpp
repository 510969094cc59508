// The CUSTOMER actor: one per customer. Owns the customer's cart (which holds
// no stock), the customer's idempotency keys with the results they guard,
// and the index of the customer's orders for listing.
#pragma once

#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/context.hpp"
#include "messages/customer_protocol.hpp"
#include "messages/inventory_protocol.hpp"
#include "messages/order_protocol.hpp"
#include "messages/recovered_state.hpp"
#include "messages/supervisor_protocol.hpp"

namespace oms {

/// One line of a cart: whose stock, which SKU, how many units.
struct cart_entry {
  oms::seller from = seller::internal;
  sku_id sku;
  int64_t quantity = 0;
};

/// A cart's lines, in the order they were added; a SKU is one line per
/// seller.
using cart_lines = std::vector<cart_entry>;

/// Which SKU actor: the seller and the SKU.
using sku_key = std::pair<seller, sku_id>;

/// An idempotency key of a customer whose request is in flight (being
/// looked up in the store, or running). A finished key is not kept here: the
/// journal stored it with the result it guards and the change the first
/// request made, and a repeat reads it there.
struct idempotency_entry {
  std::string fingerprint;
  /// Requests with this key waiting for the first one to finish.
  std::vector<caf::typed_response_promise<order_record>> waiting;
};

/// State of a CUSTOMER actor.
struct customer_state {
  customer_id id;
  context_ptr ctx;
  supervisor_actor supervisor;
  /// The cart: seller, SKU and quantity, in the order lines were added.
  cart_lines cart;
  /// How many times the cart was forgotten for its shard moving away
  /// (atom::disown): a checkout puts its lines back only into the cart it
  /// took them from.
  uint64_t carts_forgotten = 0;
  std::map<sku_key, stock_reader_actor> skus;
  /// Handles of this customer's live orders, as creation replied them; a
  /// handle goes when its actor ends (the actor is monitored), so finished
  /// orders hold no memory here.
  std::unordered_map<order_id, order_actor> handles;
  std::unordered_map<caf::actor_addr, order_id> order_of;
  /// Keys of requests in flight.
  std::unordered_map<std::string, idempotency_entry> keys;
  /// A request came since the last purge tick. A customer idle for a whole
  /// tick with an empty cart, no live order handle and no request under way
  /// ends; the SUPERVISOR spawns it again on next use (so customers seen
  /// once cost nothing after a while).
  bool active = true;

  static inline const char* name = "customer";
};

/// Behaviour of the CUSTOMER actor for `id`.
customer_actor::behavior_type
customer(customer_actor::stateful_pointer<customer_state> self, customer_id id,
         context_ptr ctx, supervisor_actor supervisor);

} // namespace oms
