// The WMS GATEWAY's protocol: the one way from the order system to the
// external seller's warehouse system (WMS). A call names one WMS operation;
// the reply is the WMS's final HTTP answer, which the caller interprets. The
// gateway keeps under the WMS's rate limit, retries what may be retried and
// fails fast with WMS_UNAVAILABLE when the WMS is down.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "messages/atoms.hpp"
#include "messages/domain.hpp"

namespace oms {

/// The WMS feed's source name: its cursor is journaled under it
/// (event_kind::inbox_cursor), its events' ids start with it.
inline constexpr std::string_view wms_feed_source = "wms";

/// The WMS operations of its HTTP contract.
enum class wms_op : uint8_t {
  /// GET /inventory/{sku}
  read_inventory = 0,
  /// POST /reservations {"id","sku","quantity"}; idempotent by id.
  reserve = 1,
  /// POST /reservations/{id}/block
  block = 2,
  /// POST /reservations/{id}/ship
  ship = 3,
  /// DELETE /reservations/{id}
  release = 4,
  /// GET /events?after=CURSOR&limit=N
  read_events = 5,
  /// POST /reservations/{id}/reduce {"quantity"}: the reservation keeps
  /// `quantity` units; idempotent (it names the target).
  reduce = 6,
  /// POST /returns {"id","reservation","quantity"}: shipped units came
  /// back (on hand, not for sale); idempotent by id.
  return_receive = 7,
  /// POST /returns/{id}/inspect {"restock"}: `quantity` of the returned
  /// units go back to sale (the rest are damaged); idempotent.
  return_restock = 8,
  /// POST /returns/{id}/inspect {"damaged"}: `quantity` of the returned
  /// units are damaged (the rest go back to sale); idempotent.
  return_damaged = 9,
};

/// "read_inventory", "reserve", "block", "ship", "release", "read_events",
/// "reduce", "return_receive", "return_restock", "return_damaged".
const char* to_string(wms_op x);

/// One WMS call. Which fields count depends on the operation: `sku` for
/// read_inventory; `reservation`, `sku` and `quantity` for reserve;
/// `reservation` for block, ship and release, and `quantity` for reduce;
/// `return_id`, `reservation` and `quantity` for return_receive;
/// `return_id` and `quantity` for return_restock and return_damaged;
/// `cursor` (empty: from the start) and `limit` for read_events.
struct wms_call {
  wms_op op = wms_op::read_inventory;
  std::string reservation;
  sku_id sku;
  int64_t quantity = 0;
  std::string cursor;
  uint32_t limit = 0;
  std::string return_id;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, wms_call& x) {
  return f(caf::meta::type_name("wms_call"), x.op, x.reservation, x.sku,
           x.quantity, x.cursor, x.limit, x.return_id);
}

/// The WMS's final HTTP answer to a call: its status and raw JSON body.
/// Status 0 means no answer (connection error or timeout); the body then
/// says why. A 429 carries how long the WMS asked us to wait.
struct wms_response {
  int32_t status = 0;
  std::string body;
  int64_t retry_after_ms = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, wms_response& x) {
  return f(caf::meta::type_name("wms_response"), x.status, x.body,
           x.retry_after_ms);
}

/// The gateway's circuit breaker.
enum class wms_breaker_state : uint8_t {
  /// Calls go to the WMS.
  closed = 0,
  /// The WMS failed too often: calls fail at once.
  open = 1,
  /// The open time is over: one probe call decides.
  half_open = 2,
};

/// "closed", "open", "half_open".
const char* to_string(wms_breaker_state x);

/// The gateway's counters since it started. "Calls" are what callers asked
/// for; "sends" are requests handed to the transport (retries included).
struct wms_gateway_stats {
  /// Calls accepted (queued or joined to an identical read).
  uint64_t calls_accepted = 0;
  /// Requests handed to the transport, first tries and retries.
  uint64_t calls_sent = 0;
  /// Answers by class, per send.
  uint64_t answered_2xx = 0;
  uint64_t answered_4xx = 0; // 4xx other than 429, and any other status
  uint64_t answered_429 = 0;
  uint64_t answered_5xx = 0;
  uint64_t transport_errors = 0; // status 0: no answer, attempt timeout
  /// Sends that repeated an earlier send of the same call.
  uint64_t retries = 0;
  /// Reads answered by another caller's identical call.
  uint64_t coalesced = 0;
  /// Calls answered with the WMS's response.
  uint64_t completed = 0;
  /// Calls refused or failed with WMS_UNAVAILABLE, by reason.
  uint64_t rejected_queue_full = 0;
  uint64_t rejected_breaker_open = 0; // new and queued calls
  uint64_t failed_deadline = 0;
  uint64_t failed_attempts = 0; // retries used up (or past the deadline)
  /// Calls refused with VALIDATION_FAILED.
  uint64_t rejected_invalid = 0;
  wms_breaker_state breaker = wms_breaker_state::closed;
  uint64_t breaker_opened = 0;
  /// Calls waiting to be sent (first try or retry).
  uint64_t queue_depth = 0;
  uint64_t queue_depth_max = 0;
  /// The most sends in any sliding 1-second window.
  uint64_t sent_in_window_max = 0;
  /// Sends the transport has not answered yet.
  uint64_t in_flight = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, wms_gateway_stats& x) {
  return f(caf::meta::type_name("wms_gateway_stats"), x.calls_accepted,
           x.calls_sent, x.answered_2xx, x.answered_4xx, x.answered_429,
           x.answered_5xx, x.transport_errors, x.retries, x.coalesced,
           x.completed, x.rejected_queue_full, x.rejected_breaker_open,
           x.failed_deadline, x.failed_attempts, x.rejected_invalid, x.breaker,
           x.breaker_opened, x.queue_depth, x.queue_depth_max,
           x.sent_in_window_max, x.in_flight);
}

/// Interface of a WMS transport: sends one call to the WMS once, no retry.
using wms_transport_actor = caf::typed_actor<
    // Replies the WMS's answer; status 0 if none came (the body says why).
    caf::replies_to<atom::call, wms_call>::with<wms_response>>;

/// Interface of the WMS GATEWAY.
using wms_gateway_actor = caf::typed_actor<
    // Replies the WMS's final answer: 2xx, 404, 409 and other 4xx as they
    // came (not retried). 429, 5xx and no answer are retried with backoff.
    // Errors: WMS_UNAVAILABLE (queue full, circuit open, retries used up or
    // call deadline passed; the message says which and the last status),
    // VALIDATION_FAILED (the call lacks a field its operation needs).
    // Reserve is idempotent by reservation id at the WMS, so a retry after a
    // lost answer does not reserve twice.
    caf::replies_to<atom::call, wms_call>::with<wms_response>,
    // Fails every call not being sent now (WMS_UNAVAILABLE), and lets none
    // that is be sent again: the callers are gone (a cluster node that no
    // longer serves the EXTERNAL seller), so the WMS hears nothing more of
    // them from this node.
    caf::reacts_to<atom::purge>,
    // Replies the gateway's counters.
    caf::replies_to<atom::stats>::with<wms_gateway_stats>>;

} // namespace oms
