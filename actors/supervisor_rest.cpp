// The SUPERVISOR's resting orders (see supervisor.hpp): the sweep that asks
// the live orders idle for long enough to rest, the registry of those that
// rest, and their waking.
#include <algorithm>
#include <utility>

#include <caf/send.hpp>

#include "actors/order.hpp"
#include "actors/supervisor_steps.hpp"
#include "messages/type_ids.hpp"
#include "system/log.hpp"

namespace oms::supervisor_steps {

namespace {

// One slice of the sweep covers at most this many buckets of the registry,
// and asks at most this many orders; other work runs between slices.
constexpr uint64_t sweep_buckets = 4096;
constexpr size_t sweep_asks = 256;

// How often the sweep runs: four times per idle timeout, so an order rests
// between one and one and a quarter timeouts after its last use, and each
// sweep asks about a quarter of a timeout's worth of orders.
std::chrono::milliseconds sweep_interval(const settings& s) {
  return std::max(std::chrono::milliseconds{1}, s.order_idle_timeout / 4);
}

// Runs what waited for the order's actor, and forgets the wait.
void end_wait(supervisor_ptr self, const order_id& id,
              const caf::expected<order_actor>& outcome) {
  auto& st = self->state;
  auto i = st.waking.find(id);
  if (i == st.waking.end())
    return;
  auto waiters = std::move(i->second);
  st.waking.erase(i);
  for (auto& then : waiters)
    then(outcome);
}

void wake(supervisor_ptr self, const order_id& id, order_waiter then,
          bool any_state);

// The record of resting order `id`, read when the node had stopped shards
// `stops` times (supervisor_state::shard_stops), arrived: its actor is
// spawned from it.
void woken(supervisor_ptr self, const order_id& id, order_record rec,
           bool any_state, uint64_t stops) {
  auto& st = self->state;
  if (st.shard_stops != stops) {
    // The node lost shards meanwhile, and maybe took them again (a load
    // registered their orders afresh): the record may be older than its
    // shard's. Not served: NOT_OWNER; served: read again.
    auto i = st.waking.find(id);
    if (i == st.waking.end())
      return;
    auto waiters = std::move(i->second);
    st.waking.erase(i);
    auto gate = order_gate(st, rec);
    for (auto& then : waiters)
      if (gate)
        then(gate);
      else
        wake(self, id, std::move(then), any_state);
    return;
  }
  st.dormant.erase(id);
  if (auto gate = order_gate(st, rec)) {
    // A cluster node's order on a shard it does not serve (any more).
    st.order_shard.erase(id);
    forget_hold(st, id);
    end_wait(self, id, gate);
    return;
  }
  if (is_terminal(rec.status) && !any_state) {
    // A resting order changes only through its actor: the store was changed
    // behind omsd's back. It holds nothing any more.
    log::error("supervisor.resting_order_ended",
               {{"order", id}, {"status", to_string(rec.status)}});
    forget_hold(st, id);
    st.order_shard.erase(id);
    end_wait(self, id, order_not_found(id));
    return;
  }
  // An actor started meanwhile (a restart after a failure) is the one.
  if (auto i = st.orders.find(id); i != st.orders.end()) {
    end_wait(self, id, i->second.handle);
    return;
  }
  rec.id = id;
  if (st.ctx->shards && !rec.lines.empty())
    st.order_shard[id] = st.ctx->shards->shard_of(rec);
  adopt_order(self, std::move(rec));
  end_wait(self, id, st.orders.at(id).handle);
}

} // namespace

bool rests(const supervisor_state& st, const order_id& id) {
  return st.dormant.count(id) > 0;
}

namespace {

void wake(supervisor_ptr self, const order_id& id, order_waiter then,
          bool any_state) {
  auto& st = self->state;
  if (auto i = st.orders.find(id); i != st.orders.end()) {
    then(i->second.handle);
    return;
  }
  if (!rests(st, id) && !any_state) {
    then(order_not_found(id));
    return;
  }
  auto& waiters = st.waking[id];
  waiters.push_back(std::move(then));
  if (waiters.size() > 1)
    return; // being read already
  // The journal answers after its own pending appends: the record is the
  // one the actor last made durable.
  auto stops = st.shard_stops;
  self->request(st.ctx->journal, caf::infinite, atom::get_v, id)
      .then(
          [self, id, any_state, stops](order_record& rec) {
            woken(self, id, std::move(rec), any_state, stops);
          },
          [self, id](caf::error& err) {
            log::error("supervisor.order_wake_failed",
                       {{"order", id}, {"error", describe(err)}});
            if (code_of(err) == errc::order_not_found) {
              // The store does not have it (changed behind omsd's back):
              // nothing to wake, now or later.
              self->state.dormant.erase(id);
              forget_hold(self->state, id);
            } // else it stays resting: the next need reads it again
            end_wait(self, id, err);
          });
}

} // namespace

void with_live_order(supervisor_ptr self, const order_id& id,
                     order_waiter then) {
  wake(self, id, std::move(then), false);
}

void with_order_actor(supervisor_ptr self, const order_id& id,
                      order_waiter then) {
  wake(self, id, std::move(then), true);
}

void order_rests(supervisor_ptr self, const order_id& id, order_status status,
                 timestamp_ms hold_due) {
  // Its down message follows and clears order_of.
  if (self->state.orders.erase(id) == 0)
    return;
  enter_rest(self, id, status, hold_due);
}

void enter_rest(supervisor_ptr self, const order_id& id, order_status status,
                timestamp_ms hold_due) {
  auto& st = self->state;
  st.dormant.insert(id);
  if (status == order_status::created)
    // Armed again: a hold timer that fired between the actor's decision to
    // rest and this message sent atom::expire to the ended actor, and forgot
    // the hold.
    arm_hold(self, id, 0, hold_due);
  else
    // A hold armed while it was CREATED would wake it for nothing when due.
    forget_hold(st, id);
}

void sweep_orders(supervisor_ptr self, uint64_t cursor) {
  auto& st = self->state;
  auto me = caf::actor_cast<supervisor_actor>(self);
  auto idle = st.ctx->settings.order_idle_timeout.count();
  auto now = st.ctx->now(self->clock());
  // Buckets, not iterators: a slice may run after the registry grew and
  // rehashed; an order then missed is asked at the next sweep. Only orders
  // idle for the whole timeout are asked (one message each, instead of one
  // per live order per sweep); the actor checks again, and may not rest.
  uint64_t buckets = st.orders.bucket_count();
  auto end = std::min(cursor + sweep_buckets, buckets);
  size_t asked = 0;
  for (auto b = cursor; b < end && asked < sweep_asks; ++b) {
    for (auto i = st.orders.begin(b); i != st.orders.end(b); ++i) {
      auto& live = i->second;
      if (now - live.activity->last.load(std::memory_order_relaxed) < idle)
        continue;
      // Sent anonymously, so that the idle actor is scheduled on the
      // workers in turn. A send of its own put each woken actor at the head
      // of this worker's queue, taking both of that queue's locks, while the
      // idle workers held them trying to steal from it (CAF 0.17's work
      // stealing, 4 workers on 2 cores): the SUPERVISOR crawled and order
      // creation stopped for minutes.
      caf::anon_send(live.handle, atom::purge_v);
      ++asked;
    }
    if (asked >= sweep_asks)
      end = b + 1;
  }
  if (end < buckets)
    self->send(me, atom::purge_v, end);
  else
    self->delayed_send(me, sweep_interval(st.ctx->settings), atom::purge_v,
                       uint64_t{0});
}

void start_sweeps(supervisor_ptr self) {
  auto& s = self->state.ctx->settings;
  if (s.order_idle_timeout.count() > 0)
    self->delayed_send(caf::actor_cast<supervisor_actor>(self),
                       sweep_interval(s), atom::purge_v, uint64_t{0});
}

void wake_for_expiry(supervisor_ptr self, const order_id& id) {
  with_live_order(self, id, [self, id](caf::expected<order_actor> handle) {
    // Woken, its actor finds the hold expired and cancels the order. If it
    // could not be read, its hold is due again shortly.
    if (handle || !rests(self->state, id))
      return;
    auto& st = self->state;
    arm_hold(self, id, 0,
             st.ctx->now(self->clock()) +
                 st.ctx->settings.expire_retry_interval.count());
  });
}

} // namespace oms::supervisor_steps
