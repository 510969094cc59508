// The WMS GATEWAY actor: calls queue by priority, go out within the send
// window and the in-flight bound, are retried or failed by their answers,
// and the circuit breaker follows the answers. Its pure policy is
// wms_gateway_policy.cpp.
#include "actors/wms_gateway.hpp"

#include <algorithm>

#include <caf/actor_system.hpp>
#include <nlohmann/json.hpp>

#include "messages/errors.hpp"
#include "messages/type_ids.hpp"
#include "system/log.hpp"

namespace oms {

namespace {

using gateway_ptr = wms_gateway_impl::stateful_pointer<wms_gateway_state>;
using time_point = wms_gateway_state::time_point;

bool is_failure(int32_t status) {
  return status == 0 || status >= 500;
}

std::string outcome_text(const wms_response& r) {
  if (r.status == 0)
    return "no answer (" + r.body + ")";
  return "status " + std::to_string(r.status);
}

caf::error unavailable(const wms_gateway_state::pending& p,
                       const std::string& why) {
  nlohmann::json details{{"op", to_string(p.call.op)},
                         {"attempts", p.attempts}};
  auto msg = "WMS " + std::string{to_string(p.call.op)} + ": " + why;
  if (!p.last.empty()) {
    msg += "; last " + p.last;
    details["last"] = p.last;
  }
  return make_error(errc::wms_unavailable, msg, details.dump());
}

// Answers every caller of call `id` with `err` and forgets the call (a send
// still out for it is answered into the void).
void fail(gateway_ptr self, uint64_t id, const std::string& why,
          uint64_t& counter) {
  auto& st = self->state;
  auto i = st.calls.find(id);
  if (i == st.calls.end())
    return;
  auto& p = i->second;
  auto err = unavailable(p, why);
  for (auto& rp : p.waiters)
    rp.deliver(err);
  counter += p.waiters.size();
  st.queued.erase({p.priority, id});
  if (!p.key.empty())
    st.by_key.erase(p.key);
  st.calls.erase(i);
}

void set_breaker(gateway_ptr self, wms_breaker_state to, time_point now) {
  auto& st = self->state;
  auto from = st.breaker;
  st.breaker = to;
  st.stats.breaker = to;
  if (to == wms_breaker_state::open) {
    st.open_until = now + st.cfg.breaker_open_for;
    ++st.stats.breaker_opened;
    // Waiting would only add load when the WMS comes back: fail them now.
    std::vector<uint64_t> ids;
    for (auto& q : st.queued)
      ids.push_back(q.second);
    for (auto id : ids)
      fail(self, id, "circuit open", st.stats.rejected_breaker_open);
  }
  log::warn("wms.breaker",
            {{"from", to_string(from)},
             {"to", to_string(to)},
             {"consecutive_failures", uint64_t{st.consecutive_failures}},
             {"open_for_ms", int64_t{st.cfg.breaker_open_for.count()}},
             {"opened", st.stats.breaker_opened}});
}

void schedule_wake(gateway_ptr self, time_point at, time_point now) {
  auto& st = self->state;
  // An earlier wake-up recomputes everything and schedules the next one.
  if (!st.wakes.empty() && *st.wakes.begin() <= at)
    return;
  st.wakes.insert(at);
  if (at <= now)
    self->send(self, atom::wake_v);
  else
    self->delayed_send(self, at - now, atom::wake_v);
}

void on_answer(gateway_ptr self, uint64_t id, bool probe, wms_response r);

void send_one(gateway_ptr self, uint64_t id, time_point now) {
  auto& st = self->state;
  auto& p = st.calls.at(id);
  st.queued.erase({p.priority, id});
  p.in_flight = true;
  ++p.attempts;
  ++st.in_flight;
  st.window.record(now);
  ++st.stats.calls_sent;
  if (p.attempts > 1)
    ++st.stats.retries;
  st.stats.sent_in_window_max = std::max<uint64_t>(
      st.stats.sent_in_window_max, st.window.in_last_second(now));
  bool probe = st.breaker == wms_breaker_state::half_open;
  if (probe)
    st.probe = id;
  self->request(st.transport, st.cfg.attempt_timeout, atom::call_v, p.call)
      .then([=](wms_response& r) { on_answer(self, id, probe, std::move(r)); },
            [=](caf::error& err) {
              wms_response r;
              r.status = 0;
              r.body = err == caf::sec::request_timeout
                           ? "no answer within attempt_timeout"
                           : self->system().render(err);
              on_answer(self, id, probe, std::move(r));
            });
}

// Fails calls past their deadline, moves the breaker from open to half-open
// when its time is up, sends what the window, the in-flight bound and the
// breaker allow, and schedules the next wake-up.
void pump(gateway_ptr self) {
  auto& st = self->state;
  auto now = self->clock().now();
  while (!st.calls.empty() && st.calls.begin()->second.deadline <= now)
    fail(self, st.calls.begin()->first, "call deadline passed",
         st.stats.failed_deadline);
  if (st.breaker == wms_breaker_state::open && now >= st.open_until)
    set_breaker(self, wms_breaker_state::half_open, now);
  auto can_send = [&] {
    return st.in_flight < st.cfg.max_in_flight &&
           st.breaker != wms_breaker_state::open &&
           !(st.breaker == wms_breaker_state::half_open && st.probe != 0);
  };
  // The first queued call by priority, then arrival, that may go now, and
  // the earliest time any queued call may go.
  auto next_ready = [&](time_point& earliest) -> uint64_t {
    earliest = time_point::max();
    for (auto& q : st.queued) {
      auto nb = st.calls.at(q.second).not_before;
      earliest = std::min(earliest, nb);
      if (nb <= now)
        return q.second;
    }
    return 0;
  };
  auto earliest = time_point::max();
  while (can_send() && st.window.allows(now)) {
    auto id = next_ready(earliest);
    if (id == 0)
      break;
    send_one(self, id, now);
  }
  auto wake = time_point::max();
  if (!st.calls.empty())
    wake = st.calls.begin()->second.deadline;
  if (st.breaker == wms_breaker_state::open)
    wake = std::min(wake, st.open_until);
  if (can_send() && !st.queued.empty()) {
    next_ready(earliest);
    wake = std::min(wake, std::max(earliest, st.window.next_free(now)));
  }
  if (wake != time_point::max())
    schedule_wake(self, wake, now);
  st.stats.queue_depth = st.queued.size();
  st.stats.in_flight = st.in_flight;
}

// Counts an answer by its class.
void count_answer(wms_gateway_stats& stats, int32_t status) {
  if (status == 0)
    ++stats.transport_errors;
  else if (status >= 500)
    ++stats.answered_5xx;
  else if (status == 429)
    ++stats.answered_429;
  else if (status >= 200 && status < 300)
    ++stats.answered_2xx;
  else
    ++stats.answered_4xx;
}

// The breaker counts 5xx and lost answers; any other answer shows the WMS
// is up (a 429 too: it is busy, not down).
void track_breaker(gateway_ptr self, uint64_t id, bool probe, int32_t status,
                   time_point now) {
  auto& st = self->state;
  if (probe && st.probe == id)
    st.probe = 0;
  if (is_failure(status)) {
    ++st.consecutive_failures;
    if (probe && st.breaker == wms_breaker_state::half_open)
      set_breaker(self, wms_breaker_state::open, now);
    else if (st.breaker == wms_breaker_state::closed &&
             st.consecutive_failures >= st.cfg.breaker_failures)
      set_breaker(self, wms_breaker_state::open, now);
  } else {
    st.consecutive_failures = 0;
    if (probe && st.breaker == wms_breaker_state::half_open)
      set_breaker(self, wms_breaker_state::closed, now);
  }
}

// A final answer (2xx, 404, 409, other 4xx) goes to every caller of call
// `id`, which interprets it; the call is done.
void complete(gateway_ptr self, uint64_t id, const wms_response& r) {
  auto& st = self->state;
  auto i = st.calls.find(id);
  auto& p = i->second;
  st.stats.completed += p.waiters.size();
  for (auto& rp : p.waiters)
    rp.deliver(r);
  if (!p.key.empty())
    st.by_key.erase(p.key);
  st.calls.erase(i);
}

// A retryable answer (429, 5xx, none): call `id` waits for its next send
// (the backoff, or the WMS's Retry-After), unless the breaker is open, its
// attempts are used up or the next one would pass its deadline.
void retry_or_fail(gateway_ptr self, uint64_t id, const wms_response& r,
                   time_point now) {
  auto& st = self->state;
  auto& p = st.calls.at(id);
  ++p.failures;
  p.last = outcome_text(r);
  auto wait = r.status == 429 && r.retry_after_ms > 0
                  ? std::chrono::milliseconds{r.retry_after_ms}
                  : wms_backoff(st.cfg, p.failures, st.rng);
  if (p.purged) {
    fail(self, id, "purged", st.stats.failed_attempts);
  } else if (st.breaker == wms_breaker_state::open) {
    fail(self, id, "circuit open", st.stats.rejected_breaker_open);
  } else if (p.attempts >= st.cfg.max_attempts) {
    fail(self, id, "gave up after " + std::to_string(p.attempts) + " attempts",
         st.stats.failed_attempts);
  } else if (now + wait >= p.deadline) {
    fail(self, id,
         "the next attempt (in " + std::to_string(wait.count()) +
             " ms) would pass the call deadline",
         st.stats.failed_attempts);
  } else {
    p.not_before = now + wait;
    st.queued.emplace(p.priority, id);
    st.stats.queue_depth_max =
        std::max<uint64_t>(st.stats.queue_depth_max, st.queued.size());
  }
}

void on_answer(gateway_ptr self, uint64_t id, bool probe, wms_response r) {
  auto& st = self->state;
  auto now = self->clock().now();
  --st.in_flight;
  count_answer(st.stats, r.status);
  track_breaker(self, id, probe, r.status, now);
  // A call failed meanwhile (deadline, breaker) has no caller left.
  if (auto i = st.calls.find(id); i != st.calls.end()) {
    i->second.in_flight = false;
    if (!is_failure(r.status) && r.status != 429)
      complete(self, id, r);
    else
      retry_or_fail(self, id, r, now);
  }
  pump(self);
}

// WMS_UNAVAILABLE for a call refused on arrival (`why`: "circuit open",
// "queue full").
caf::error refused(wms_op op, const char* why) {
  return make_error(errc::wms_unavailable,
                    "WMS " + std::string{to_string(op)} + ": " + why);
}

// Joins a read to the identical call `id` already queued or in flight.
// Bounded like the queue: one call serves at most queue_capacity callers.
caf::result<wms_response> join(gateway_ptr self, uint64_t id, wms_op op) {
  auto& st = self->state;
  auto& p = st.calls.at(id);
  if (p.waiters.size() >= st.cfg.queue_capacity) {
    ++st.stats.rejected_queue_full;
    return refused(op, "queue full");
  }
  auto rp = self->make_response_promise<wms_response>();
  p.waiters.push_back(rp);
  ++st.stats.coalesced;
  ++st.stats.calls_accepted;
  return rp;
}

// Queues a new call (coalescing key `key`, empty for writes) if the queue
// has room, and sends what may go now.
caf::result<wms_response> enqueue(gateway_ptr self, wms_call& call,
                                  std::string key, time_point now) {
  auto& st = self->state;
  if (st.calls.size() >= st.cfg.queue_capacity) {
    ++st.stats.rejected_queue_full;
    return refused(call.op, "queue full");
  }
  auto id = st.next_id++;
  auto& p = st.calls[id];
  p.call = std::move(call);
  p.priority = wms_priority(p.call.op);
  p.key = std::move(key);
  p.deadline = now + st.cfg.call_deadline;
  p.not_before = now;
  auto rp = self->make_response_promise<wms_response>();
  p.waiters.push_back(rp);
  if (!p.key.empty())
    st.by_key.emplace(p.key, id);
  st.queued.emplace(p.priority, id);
  ++st.stats.calls_accepted;
  st.stats.queue_depth_max =
      std::max<uint64_t>(st.stats.queue_depth_max, st.queued.size());
  pump(self);
  return rp;
}

// Refuses an invalid call, or any call while the breaker is open; joins a
// read to an identical one; else queues it.
caf::result<wms_response> accept(gateway_ptr self, wms_call& call) {
  auto& st = self->state;
  auto problem = wms_call_problem(call);
  if (!problem.empty()) {
    ++st.stats.rejected_invalid;
    return make_error(errc::validation_failed, problem);
  }
  auto now = self->clock().now();
  if (st.breaker == wms_breaker_state::open && now >= st.open_until)
    set_breaker(self, wms_breaker_state::half_open, now);
  if (st.breaker == wms_breaker_state::open) {
    ++st.stats.rejected_breaker_open;
    return refused(call.op, "circuit open");
  }
  auto key = wms_coalesce_key(call);
  if (!key.empty()) {
    if (auto i = st.by_key.find(key); i != st.by_key.end())
      return join(self, i->second, call.op);
  }
  return enqueue(self, call, std::move(key), now);
}

wms_gateway_stats stats_now(gateway_ptr self) {
  auto& st = self->state;
  st.stats.queue_depth = st.queued.size();
  st.stats.in_flight = st.in_flight;
  st.stats.breaker = st.breaker;
  return st.stats;
}

// Fails every call not in flight, and marks those in flight never to be
// retried (a node that no longer serves the EXTERNAL seller).
void purge(gateway_ptr self) {
  auto& st = self->state;
  std::vector<uint64_t> waiting;
  for (auto& [id, p] : st.calls) {
    if (p.in_flight)
      p.purged = true;
    else
      waiting.push_back(id);
  }
  for (auto id : waiting)
    fail(self, id, "purged", st.stats.failed_attempts);
  log::info("wms_gateway.purged", {{"calls", uint64_t{waiting.size()}}});
}

// The wake-up timer: forget the wake-ups due, then pump.
void wake(gateway_ptr self) {
  auto& st = self->state;
  auto now = self->clock().now();
  st.wakes.erase(st.wakes.begin(), st.wakes.upper_bound(now));
  pump(self);
}

} // namespace

wms_gateway_impl::behavior_type wms_gateway(gateway_ptr self,
                                            wms_gateway_config cfg,
                                            wms_transport_actor transport) {
  auto& st = self->state;
  cfg.rate_per_second = std::max<uint32_t>(cfg.rate_per_second, 1);
  cfg.queue_capacity = std::max<size_t>(cfg.queue_capacity, 1);
  cfg.max_in_flight = std::max<uint32_t>(cfg.max_in_flight, 1);
  cfg.max_attempts = std::max<uint32_t>(cfg.max_attempts, 1);
  cfg.breaker_failures = std::max<uint32_t>(cfg.breaker_failures, 1);
  st.cfg = cfg;
  st.transport = std::move(transport);
  st.rng.seed(cfg.jitter_seed);
  st.window = wms_send_window{cfg.rate_per_second};
  return {
      // Replies the WMS's final answer. Errors: WMS_UNAVAILABLE (circuit
      // open, queue full, retries used up, deadline passed),
      // VALIDATION_FAILED (the call lacks a field).
      [=](atom::call, wms_call& call) { return accept(self, call); },
      [=](atom::purge) { purge(self); },
      // Replies the gateway's counters. No errors.
      [=](atom::stats) { return stats_now(self); },
      // Timer: a wake-up scheduled by pump.
      [=](atom::wake) { wake(self); },
  };
}

wms_gateway_actor spawn_wms_gateway(caf::actor_system& sys,
                                    wms_gateway_config cfg,
                                    wms_transport_actor transport) {
  return sys.spawn(wms_gateway, std::move(cfg), std::move(transport));
}

} // namespace oms
