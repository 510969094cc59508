// The SUPERVISOR's hold timers: one timer of its own for every unconfirmed
// order's hold, instead of one delayed message per order. An order arms its
// hold (atom::arm) when it is created or restored; the SUPERVISOR keeps the
// due times in order, fires its timer at the earliest, passes atom::expire
// to each order then due, and forgets an order's hold as soon as the order
// ends. A delayed message cannot be taken back in CAF 0.17: one per order
// stayed in memory (about 170 B) for the whole hold, 15 minutes by default,
// after the order was long confirmed, cancelled or delivered; at a flash
// sale's rate that was hundreds of megabytes of timers for nothing. A resting
// order's hold stays here: when it is due, the order is woken, and its actor
// cancels it.
#include <algorithm>

#include "actors/supervisor_steps.hpp"
#include "messages/type_ids.hpp"

namespace oms::supervisor_steps {

namespace {

// Arms the timer for the earliest hold, unless one is armed for it already.
void arm_tick(supervisor_ptr self) {
  auto& st = self->state;
  if (st.holds_due.empty())
    return;
  auto first = st.holds_due.begin()->first;
  if (st.hold_tick_at != 0 && st.hold_tick_at <= first)
    return;
  st.hold_tick_at = first;
  auto wait = std::max<int64_t>(0, first - st.ctx->now(self->clock()));
  self->delayed_send(caf::actor_cast<supervisor_actor>(self),
                     std::chrono::milliseconds{wait}, atom::tick_v,
                     ++st.hold_tick_generation);
}

} // namespace

void forget_hold(supervisor_state& st, const order_id& id) {
  auto i = st.hold_of.find(id);
  if (i == st.hold_of.end())
    return;
  st.holds_due.erase(i->second);
  st.hold_of.erase(i);
}

void arm_hold(supervisor_ptr self, const order_id& id, uint64_t generation,
              timestamp_ms due) {
  auto& st = self->state;
  forget_hold(st, id);
  st.hold_of.emplace(id, st.holds_due.emplace(due, hold_due{id, generation}));
  arm_tick(self);
}

void expire_due_holds(supervisor_ptr self, uint64_t tick) {
  auto& st = self->state;
  if (tick != st.hold_tick_generation)
    return; // a timer armed for a later hold before an earlier one came
  st.hold_tick_at = 0;
  auto now = st.ctx->now(self->clock());
  while (!st.holds_due.empty() && st.holds_due.begin()->first <= now) {
    auto due = std::move(st.holds_due.begin()->second);
    st.hold_of.erase(due.order);
    st.holds_due.erase(st.holds_due.begin());
    if (auto i = st.orders.find(due.order); i != st.orders.end())
      self->send(i->second.handle, atom::expire_v, due.generation);
    else if (rests(st, due.order))
      wake_for_expiry(self, due.order);
  }
  arm_tick(self);
}

} // namespace oms::supervisor_steps
