// The production WMS transport: sends one wms_call to the WMS's JSON/HTTP API
// and replies its answer, no retry (the WMS GATEWAY retries). A front actor
// spreads calls over detached workers, each owning one keep-alive libcurl
// connection and blocking in its own thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include <caf/fwd.hpp>

#include "actors/wms_answers.hpp"
#include "messages/wms_protocol.hpp"
#include "system/client/http_client.hpp"

namespace oms {

/// One HTTP request to the WMS.
struct wms_http_request {
  std::string method;
  /// Path with query, path segments and query values percent-encoded.
  std::string path;
  /// JSON body, empty for none.
  std::string body;
};

/// Maps a call to its request: GET /inventory/{sku}, POST /reservations,
/// POST /reservations/{id}/block|ship, DELETE /reservations/{id},
/// GET /events?after=CURSOR&limit=N (no `after` for an empty cursor).
wms_http_request wms_request_of(const wms_call& x);

/// Maps an HTTP result to the gateway's response: status and body as they
/// came, the wait of a Retry-After (wms_retry_after_ms); status 0 with the reason as body when
/// no answer came.
wms_response wms_response_of(const client::http_result& x);

/// Spawns the transport: a front actor over `connections` detached workers
/// (at least 1) that each talk to `base_url` (e.g. "http://127.0.0.1:8080")
/// with `timeout` per request. A call goes to the worker with the fewest
/// calls outstanding (round-robin among equals). The workers stop with the
/// front.
wms_transport_actor spawn_wms_http_transport(caf::actor_system& sys,
                                             std::string base_url,
                                             std::chrono::milliseconds timeout,
                                             size_t connections);

} // namespace oms
