// The JSON/HTTP API v1 over the actor system, independent of the HTTP
// library: a request comes in as plain strings and its answer goes out
// through a callback, called exactly once, from whichever thread the actors'
// reply arrives on. No thread waits for an actor.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "system/http/exchange.hpp"

namespace caf {
class actor_system;
} // namespace caf

namespace oms {
class order_system;
} // namespace oms

namespace oms::cluster {
class membership;
class peer_table;
} // namespace oms::cluster

namespace oms::daemon {

class token_registry;
class metrics;
class request_forwarder;
class store_check;
class webhook_duty;

using http_request = http::request;
using http_response = http::response;
using responder = http::respond;

/// One route of the API.
struct route_info {
  std::string method;
  /// "/v1/orders/{id}/pay": braces mark path parameters.
  std::string pattern;
  /// Needs a bearer token.
  bool authenticated = true;
  /// Needs the admin token.
  bool admin = false;
};

/// What the front adds to the order system's settings, whose request limits
/// and request timeout it applies.
struct api_options {
  double rate_limit = 0;
  double rate_burst = 0;
  /// Shown by /readyz.
  std::string store_description;
  /// The background integrity check of the store's files, if one runs
  /// (outlives the api): damage found turns /readyz to not ready.
  const store_check* check = nullptr;
  /// Who runs the webhooks' subscriptions and deliveries (outlives the
  /// api): on a cluster, the holder of the duty shard, to which another
  /// node forwards the webhook routes. Null: they answer 503.
  const webhook_duty* webhooks = nullptr;
  /// The node's membership of a cluster (outlives the api); null: omsd is
  /// not a cluster node (GET /v1/cluster answers 404).
  const cluster::membership* cluster = nullptr;
  /// What the node's watch over the other nodes' regions found (outlives
  /// the api); null without --cluster-listen.
  const cluster::peer_table* peers = nullptr;
  /// Forwards a request this node does not own to the owner of its shard
  /// (outlives the api); null: such a request is answered 421 NOT_OWNER.
  request_forwarder* forwarder = nullptr;
};

class api {
 public:
  api(caf::actor_system& sys, order_system& oms, token_registry& tokens,
      metrics& stats, api_options opts);
  ~api();

  api(const api&) = delete;
  api& operator=(const api&) = delete;

  /// Answers `req`, body included, through `done`, exactly once; never
  /// throws.
  void handle(http_request req, responder done);

  /// Takes a request whose body has not been read yet: answers at once
  /// what its request line and headers decide (no route, no or a bad token,
  /// rate limited, a declared body over the limit, stopping) and returns an
  /// empty function; otherwise returns the function that takes the body and
  /// answers through `done`. Either way `done` is called exactly once (if
  /// the returned function is).
  http::body_sink begin(http_request head, responder done);

  /// Every route served, in the order they are matched.
  static std::vector<route_info> routes();

  /// From now on, requests get 503 NOT_READY and /readyz fails.
  void drain();

  /// Requests received and not yet answered.
  int64_t in_flight() const;

 private:
  struct impl;
  std::shared_ptr<impl> d_;
};

} // namespace oms::daemon
