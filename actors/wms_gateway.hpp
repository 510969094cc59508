// The WMS GATEWAY actor: every call to the external seller's WMS goes through
// it. It keeps the calls under the WMS's rate limit (a sliding 1-second
// window), sends writes before reads, joins identical reads, retries 429, 5xx
// and lost answers with capped, jittered backoff, and opens a circuit breaker
// when the WMS keeps failing, so that callers fail fast instead of queueing.
//
//              5xx/no answer x breaker_failures
//   +--------+ ------------------------------> +------+
//   | closed |                                 | open | calls fail at once
//   +--------+ <--+                            +------+
//                 | probe answered             |  ^  breaker_open_for
//                 | (not 5xx)                  v  |  probe failed
//               +-----------+ <----------------+  |
//               | half_open | --------------------+
//               +-----------+  one probe call goes, the rest wait
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/actor_clock.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "messages/wms_protocol.hpp"

namespace caf {
class actor_system;
} // namespace caf

namespace oms {

/// Settings of the WMS GATEWAY (defaults suit a WMS that allows 10
/// requests/s).
struct wms_gateway_config {
  /// At most this many sends in any sliding 1-second window (retries too).
  uint32_t rate_per_second = 8;
  /// At most this many calls queued or in flight; more fail at once.
  size_t queue_capacity = 1024;
  /// At most this many sends waiting for the transport's answer.
  uint32_t max_in_flight = 4;
  /// Backoff before the n-th retry of a 5xx or lost answer: a uniform draw
  /// in [0, min(backoff_max, backoff_base * 2^(n-1))] ("full jitter").
  std::chrono::milliseconds backoff_base{200};
  std::chrono::milliseconds backoff_max{10'000};
  /// Sends per call, the first included.
  uint32_t max_attempts = 8;
  /// A call not finished this long after it arrived fails with
  /// WMS_UNAVAILABLE, whatever the transport does.
  std::chrono::milliseconds call_deadline{60'000};
  /// A send the transport has not answered by then counts as no answer
  /// (keep it above the transport's own timeout).
  std::chrono::milliseconds attempt_timeout{15'000};
  /// Consecutive 5xx or lost answers that open the breaker.
  uint32_t breaker_failures = 5;
  /// How long the breaker stays open before a probe.
  std::chrono::milliseconds breaker_open_for{15'000};
  /// Seed of the jitter's random numbers (fixed in tests).
  uint64_t jitter_seed = 0x5eed;
};

// -- pure parts ---------------------------------------------------------------

/// 0 for release, block and ship (they free or settle stock), 1 for reserve,
/// 2 for reads. Lower goes first.
uint8_t wms_priority(wms_op op);

/// What makes two reads the same call ("inv/<sku>", "ev/<limit>/<cursor>");
/// empty for writes, which are never joined.
std::string wms_coalesce_key(const wms_call& x);

/// Why a call cannot be sent (e.g. "reserve needs a positive quantity"), or
/// empty if it can.
std::string wms_call_problem(const wms_call& x);

/// The upper bound of the backoff after `failures` retryable failures
/// (1 = after the first): min(backoff_max, backoff_base * 2^(failures-1)).
std::chrono::milliseconds wms_backoff_cap(const wms_gateway_config& cfg,
                                          uint32_t failures);

/// A full-jitter backoff: uniform in [0, wms_backoff_cap(cfg, failures)].
std::chrono::milliseconds wms_backoff(const wms_gateway_config& cfg,
                                      uint32_t failures, std::mt19937_64& rng);

/// The sliding 1-second send window: a send may go at `now` if fewer than
/// `per_second` sends happened in (now - 1 s, now], i.e. if the
/// per_second-th previous send is at least 1 s old.
class wms_send_window {
 public:
  using time_point = caf::actor_clock::time_point;

  explicit wms_send_window(uint32_t per_second);

  /// True if a send at `now` keeps every 1-second window within the rate.
  bool allows(time_point now) const;

  /// The earliest time at or after `now` a send may go.
  time_point next_free(time_point now) const;

  /// Records a send at `now` (times never go back).
  void record(time_point now);

  /// Sends recorded in (now - 1 s, now].
  size_t in_last_second(time_point now) const;

 private:
  uint32_t per_second_;
  // The last per_second + 1 sends, oldest first (one more than the rule
  // needs, so that in_last_second would show a breach).
  std::deque<time_point> recent_;
};

// -- the actor ----------------------------------------------------------------

/// The gateway's handle with its internal timer message.
using wms_gateway_impl = wms_gateway_actor::extend<caf::reacts_to<atom::wake>>;

/// State of the WMS GATEWAY actor.
struct wms_gateway_state {
  using time_point = caf::actor_clock::time_point;

  /// One call as the gateway tracks it, from arrival to its last answer.
  struct pending {
    wms_call call;
    uint8_t priority = 2;
    std::string key; // coalescing key, empty for writes
    std::vector<caf::typed_response_promise<wms_response>> waiters;
    time_point deadline;
    time_point not_before; // earliest next send (backoff, Retry-After)
    uint32_t attempts = 0; // sends so far
    uint32_t failures = 0; // 429, 5xx and lost answers so far
    bool in_flight = false;
    /// Purged while in flight: its answer is final, never retried.
    bool purged = false;
    std::string last; // the last retryable outcome, for the final error
  };

  wms_gateway_config cfg;
  wms_transport_actor transport;
  std::mt19937_64 rng;
  /// Calls queued or in flight, by arrival number. Every call has the same
  /// deadline after its arrival, so this is also deadline order.
  std::map<uint64_t, pending> calls;
  /// Calls waiting to be sent: (priority, arrival number).
  std::set<std::pair<uint8_t, uint64_t>> queued;
  /// Reads queued or in flight by coalescing key.
  std::unordered_map<std::string, uint64_t> by_key;
  uint64_t next_id = 1;
  wms_send_window window{8};
  /// Sends without an answer yet, including those of calls already failed.
  uint32_t in_flight = 0;
  wms_breaker_state breaker = wms_breaker_state::closed;
  uint32_t consecutive_failures = 0;
  time_point open_until;
  /// The arrival number of the half-open probe's call, 0 if none is out.
  uint64_t probe = 0;
  /// Wake-ups already scheduled.
  std::set<time_point> wakes;
  wms_gateway_stats stats;

  static inline const char* name = "wms_gateway";
};

/// Behaviour of the WMS GATEWAY actor over `transport`.
wms_gateway_impl::behavior_type
wms_gateway(wms_gateway_impl::stateful_pointer<wms_gateway_state> self,
            wms_gateway_config cfg, wms_transport_actor transport);

/// Spawns the WMS GATEWAY.
wms_gateway_actor spawn_wms_gateway(caf::actor_system& sys,
                                    wms_gateway_config cfg,
                                    wms_transport_actor transport);

} // namespace oms
