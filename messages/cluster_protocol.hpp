// What the nodes of a cluster say to each other through CAF's middleman
// (docs/cluster.md): each node publishes its REGION on --cluster-listen and
// the others reach it there. Connected nodes trust each other completely:
// a region listens on the cluster's own network only, never for clients.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <caf/meta/type_name.hpp>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "messages/atoms.hpp"
#include "messages/customers.hpp"
#include "messages/order_protocol.hpp"
#include "messages/stock.hpp"
#include "messages/stock_change.hpp"

namespace oms {

/// An HTTP request a node forwards to the owner of its shard: the fields of
/// the API's request (system/http/exchange.hpp) that decide the answer,
/// and the node that forwards it.
struct forwarded_request {
  std::string from_node;
  std::string method;
  bool head = false;
  std::string path;
  std::string query;
  std::string authorization;
  std::string idempotency_key;
  std::string accept;
  std::string last_event_id;
  std::string if_match;
  std::string if_none_match;
  std::string body;
  /// The customer whose token the forwarding node authenticated (none for
  /// the admin): the owner learns it at once, not a second later from the
  /// store, and authenticates the request itself.
  std::vector<customer_record> caller;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, forwarded_request& x) {
  return f(caf::meta::type_name("forwarded_request"), x.from_node, x.method,
           x.head, x.path, x.query, x.authorization, x.idempotency_key,
           x.accept, x.last_event_id, x.if_match, x.if_none_match, x.body,
           x.caller);
}

/// The owner's answer to a forwarded request.
struct forwarded_response {
  uint16_t status = 200;
  std::string content_type;
  std::string cache_control;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, forwarded_response& x) {
  return f(caf::meta::type_name("forwarded_response"), x.status, x.content_type,
           x.cache_control, x.headers, x.body);
}

/// Interface of a node's REGION.
using region_actor = caf::typed_actor<
    // A peer (its node id) asks whether this node is there: answers this
    // node's id and how many shards it holds now.
    caf::replies_to<atom::ping, std::string>::with<std::string, uint64_t>,
    // Over mutual TLS only the peer of the lower id dials (two links
    // between one pair of nodes, one dialed by each, keep dropping each
    // other in CAF 0.17's OpenSSL module): it offers its own region (its
    // node id, the region), through which this node reaches it on the
    // same link.
    caf::reacts_to<atom::offer, std::string, caf::actor>,
    // A peer forwards a request for a shard this node owns: answers what
    // this node's API answers it (which never forwards it again: a shard
    // that moved meanwhile answers 421 NOT_OWNER).
    caf::replies_to<atom::forward, forwarded_request>::with<forwarded_response>,
    // A peer's order across shards changes its hold on a SKU of a shard
    // this node serves (docs/cluster.md, "Orders across shards"): answers
    // what the SKU's actor did. Errors: NOT_OWNER (the shard is not served
    // here), UNAVAILABLE (this node is not serving now), and those of the
    // SKU's change.
    caf::replies_to<atom::hold, sku_id, hold_change>::with<hold_outcome>,
    // A peer's order takes back units of a SKU of a shard this node serves
    // (a return's stock change, with its event id): answers what this
    // node's INBOX did. Errors: NOT_OWNER, UNAVAILABLE, and the INBOX's.
    caf::replies_to<atom::apply, stock_change>::with<inbox_result>,
    // A peer's customer's cart: a reader of the stock and price of a SKU of
    // a shard this node serves, a proxy that asks the SKU's actor atom::get
    // and nothing else (one per SKU, ending with the SKU's actor), so that
    // a peer never holds the SKU actor's own handle. Errors: NOT_OWNER,
    // UNAVAILABLE, UNKNOWN_SKU.
    caf::replies_to<atom::find_sku, sku_id, seller>::with<stock_reader_actor>,
    // A peer's customer checks out a cart whose first line's shard this
    // node serves: the order is made here (its other lines held as any
    // order's across shards), answered without its actor's handle. Errors:
    // NOT_OWNER, UNAVAILABLE, and those of the SUPERVISOR's atom::create.
    caf::replies_to<atom::create, create_order_request>::with<created_order>>;

} // namespace oms
