// The INVENTORY actor's changes of the holds of orders on other shards
// (hold_change): a reservation taken in memory at once and answered once
// durable, other changes applied once durable, the lapse of reserved holds
// whose order never came, and the check of those holds against their
// orders' records.
#include <caf/send.hpp>

#include "actors/inventory_steps.hpp"
#include "actors/off_shard_holds.hpp"
#include "messages/type_ids.hpp"
#include "system/log.hpp"

namespace oms::inventory_steps {

namespace {

// A stock event of `order` on this SKU.
event hold_event(inventory_ptr self, event_kind kind, const order_id& order,
                 int64_t quantity) {
  auto ev = stock_event(self, kind, quantity, 0);
  ev.order = order;
  return ev;
}

// Sends the lapse timer `delay` from now. Anonymous: its answer goes
// nowhere. It carries the timer's generation (a timer set before this one
// does nothing).
void send_lapse(inventory_ptr self, caf::timespan delay) {
  caf::delayed_anon_send(
      caf::actor_cast<inventory_actor>(self), delay, atom::hold_v,
      hold_change{hold_op::lapse,
                  {},
                  static_cast<int64_t>(++self->state.lapse_generation)});
}

// Sets the lapse timer for the earliest reserved hold of an order on
// another shard, unless one is set for that time already.
void arm_lapse(inventory_ptr self) {
  auto& st = self->state;
  timestamp_ms next = 0;
  // A hold whose change is on its way: armed again once that is durable.
  for (auto& [order, at] : st.lapses)
    if ((next == 0 || at < next) && st.hold_pending.count(order) == 0)
      next = at;
  if (next == 0 || next == st.lapse_armed_for)
    return;
  st.lapse_armed_for = next;
  send_lapse(self, std::chrono::milliseconds(
                       std::max<timestamp_ms>(1, next - now(self))));
}

// When a reserved hold made now for an order on another shard goes back.
timestamp_ms lapse_time(inventory_ptr self) {
  auto& s = self->state.ctx->settings;
  return now(self) + (s.hold_ttl + s.foreign_hold_grace).count();
}

// Journals `events`, the changes of the holds of `orders`, then runs
// `apply` and replies `out`. Nothing applies if the journal refuses: `undo`
// runs instead (for a change already made in memory), and STORE_FAILURE
// says that `what` could not be made durable. Other messages are handled
// meanwhile (the journal commits many SKUs' and orders' changes at once)
// and see the holds as they were, still held: a change that gives units
// back or ships them applies once durable, a reservation is taken in
// memory before (no other order gets its units meanwhile). Until the
// journal answers, `orders` are pending (inventory_state::hold_pending).
template <class Apply, class Undo = void (*)()>
caf::result<hold_outcome> journal_hold(
    inventory_ptr self, std::vector<event> events, hold_outcome out,
    std::vector<order_id> orders, Apply apply, Undo undo = [] {},
    const char* what = "the change") {
  auto rp = self->make_response_promise<hold_outcome>();
  for (auto& order : orders)
    self->state.hold_pending.insert(order);
  auto settled = [self, orders] {
    for (auto& order : orders)
      self->state.hold_pending.erase(order);
  };
  self->request(self->state.ctx->journal, caf::infinite, atom::append_v,
                under_epoch(std::move(events), self->state.fence))
      .then(
          [=](uint64_t) mutable {
            settled();
            apply();
            if (auto err = broken(self)) {
              rp.deliver(err);
              return;
            }
            arm_lapse(self);
            rp.deliver(out);
          },
          [=](caf::error& err) mutable {
            settled();
            undo();
            log::error("inventory.journal_failed",
                       {{"sku", self->state.sku}, {"error", describe(err)}});
            // Holds whose time is up wait for the next try, a second on.
            if (!self->state.lapses.empty()) {
              self->state.lapse_armed_for = 0;
              send_lapse(self, std::chrono::seconds(1));
            }
            rp.deliver(make_error(
                errc::store_failure,
                std::string{what} +
                    " could not be made durable: " + message_of(err)));
          });
  return rp;
}

// The reserved holds whose time is up go back, in one append. A timer of
// another generation than the last one set does nothing.
caf::result<hold_outcome> lapse_due(inventory_ptr self, uint64_t generation) {
  auto& st = self->state;
  if (generation != st.lapse_generation)
    return hold_outcome{};
  st.lapse_armed_for = 0;
  auto t = now(self);
  std::vector<event> events;
  std::vector<order_id> due;
  for (auto i = st.lapses.begin(); i != st.lapses.end();) {
    auto* h = st.ledger.find_hold(i->first);
    if (h == nullptr || h->kind != hold_kind::reserved) {
      i = st.lapses.erase(i); // blocked or gone: nothing lapses
      continue;
    }
    // A change on its way is looked at again once durable.
    if (i->second <= t && st.hold_pending.count(i->first) == 0) {
      events.push_back(
          hold_event(self, event_kind::stock_released, h->order, h->quantity));
      due.push_back(i->first);
    }
    ++i;
  }
  if (events.empty()) {
    arm_lapse(self);
    return hold_outcome{};
  }
  log::info("inventory.foreign_holds_lapsed",
            {{"sku", st.sku}, {"orders", uint64_t{due.size()}}});
  auto units = int64_t{0};
  for (auto& ev : events)
    units += ev.quantity;
  return journal_hold(self, std::move(events), hold_outcome{{}, units}, due,
                      [self, due] {
                        for (auto& order : due) {
                          self->state.ledger.release(order);
                          self->state.lapses.erase(order);
                          self->state.off_shard.erase(order);
                        }
                      });
}

// Sets the timer that settles the holds of orders on other shards against
// their records, unless it is set or there are none.
void arm_check(inventory_ptr self) {
  auto& st = self->state;
  if (st.check_armed || st.off_shard.empty())
    return;
  st.check_armed = true;
  caf::delayed_anon_send(caf::actor_cast<inventory_actor>(self),
                         st.ctx->settings.off_shard_check_interval,
                         atom::hold_v, hold_change{hold_op::check, {}, 0});
}

// Reads the record of every order on another shard that holds units here
// and gives back what it says was given back, if that change's own message
// was lost: each change as a message of its own.
caf::result<hold_outcome> check_off_shard(inventory_ptr self) {
  auto& st = self->state;
  st.check_armed = false;
  for (auto i = st.off_shard.begin(); i != st.off_shard.end();) {
    if (st.ledger.find_hold(*i) == nullptr) {
      i = st.off_shard.erase(i);
      continue;
    }
    auto order = *i;
    ++i;
    self->request(st.ctx->journal, st.ctx->settings.request_timeout,
                  atom::get_v, order)
        .then(
            [self, order](order_record& rec) {
              auto& st = self->state;
              auto* h = st.ledger.find_hold(order);
              if (h == nullptr || st.off_shard.count(order) == 0 ||
                  st.hold_pending.count(order) > 0)
                return; // gone, or a change on its way: the next check
              for (auto& c : settle_off_shard_hold(rec, st.sku, *h)) {
                log::info("inventory.off_shard_hold_settled",
                          {{"sku", st.sku},
                           {"order", order},
                           {"change", to_string(c.op)},
                           {"quantity", c.quantity}});
                caf::anon_send(caf::actor_cast<inventory_actor>(self),
                               atom::hold_v, c);
              }
            },
            // Not journaled (yet): a reservation lapses by itself.
            [](caf::error&) {});
  }
  arm_check(self);
  return hold_outcome{};
}

} // namespace

caf::result<hold_outcome> change_hold(inventory_ptr self,
                                      const hold_change& c) {
  auto& st = self->state;
  auto& ledger = st.ledger;
  if (c.op == hold_op::lapse)
    return lapse_due(self, static_cast<uint64_t>(c.quantity));
  if (c.op == hold_op::check)
    return check_off_shard(self);
  const hold_view* h = ledger.find_hold(c.order);
  if (c.op == hold_op::watch) {
    if (h == nullptr)
      return hold_outcome{};
    st.off_shard.insert(c.order);
    arm_check(self);
    if (h->kind == hold_kind::reserved && st.lapses.count(c.order) == 0) {
      st.lapses.emplace(c.order, lapse_time(self));
      arm_lapse(self);
    }
    return hold_outcome{};
  }
  if (st.hold_pending.count(c.order) > 0)
    return make_error(errc::unavailable,
                      "a change of the hold of order " + c.order + " on SKU " +
                          st.sku + " is being made durable: ask again");
  if (auto err = expire_due(self))
    return err;
  hold_outcome out;
  switch (c.op) {
    case hold_op::reserve: {
      const bool held_before = h != nullptr;
      auto res = ledger.reserve(c.order, c.quantity, out.reserved, now(self));
      if (!res.ok())
        return to_error(res);
      if (held_before) {
        // Granted before: the same grant again (or the ledger's refusal
        // of another quantity, above).
        out.units = res.quantity;
        return out;
      }
      if (!out.reserved.granted)
        return out;
      // Taken in memory now, answered once durable, given back if the
      // journal refuses. An order on another shard's from now on: the
      // SKU's own orders' messages leave it alone.
      out.units = c.quantity;
      auto ev =
          hold_event(self, event_kind::stock_reserved, c.order, c.quantity);
      ev.lots = out.reserved.lots;
      auto order = c.order;
      st.off_shard.insert(order);
      return journal_hold(
          self, {std::move(ev)}, out, {order},
          [self, order] {
            self->state.lapses[order] = lapse_time(self);
            arm_check(self);
          },
          [self, order] {
            self->state.ledger.release(order);
            self->state.off_shard.erase(order);
          },
          "the reservation");
    }
    case hold_op::block: {
      if (h == nullptr)
        return to_error(ledger.block(c.order)); // INVALID_TRANSITION
      out.units = h->quantity;
      if (h->kind == hold_kind::blocked)
        return out;
      auto order = c.order;
      return journal_hold(
          self,
          {hold_event(self, event_kind::stock_blocked, order, h->quantity)},
          out, {order}, [self, order] {
            self->state.ledger.block(order);
            self->state.lapses.erase(order);
          });
    }
    case hold_op::release: {
      if (h == nullptr)
        return out;
      out.units = h->quantity;
      auto order = c.order;
      return journal_hold(
          self,
          {hold_event(self, event_kind::stock_released, order, h->quantity)},
          out, {order}, [self, order] {
            self->state.ledger.release(order);
            self->state.lapses.erase(order);
            self->state.off_shard.erase(order);
          });
    }
    case hold_op::reduce: {
      auto held = h == nullptr ? 0 : h->quantity;
      if (c.quantity < 0 || c.quantity > held)
        return to_error(ledger.reduce(c.order, c.quantity)); // its message
      if (c.quantity == held)
        return out;
      out.units = held - c.quantity;
      auto order = c.order;
      auto remaining = c.quantity;
      return journal_hold(
          self,
          {hold_event(self, event_kind::stock_released, order, out.units)}, out,
          {order}, [self, order, remaining] {
            self->state.ledger.reduce(order, remaining);
            if (remaining == 0) {
              self->state.lapses.erase(order);
              self->state.off_shard.erase(order);
            }
          });
    }
    case hold_op::consume: {
      if (h == nullptr)
        return out;
      if (h->kind != hold_kind::blocked || c.quantity < 0 ||
          c.quantity > h->quantity)
        return to_error(ledger.consume(c.order, c.quantity)); // its error
      if (c.quantity == h->quantity)
        return out;
      out.units = h->quantity - c.quantity;
      auto ev =
          hold_event(self, event_kind::stock_consumed, c.order, out.units);
      // The first units of the hold ship, as the order's own shipments
      // record them.
      ev.lots = take_allocations(h->lots, out.units);
      auto order = c.order;
      auto remaining = c.quantity;
      return journal_hold(self, {std::move(ev)}, out, {order},
                          [self, order, remaining] {
                            self->state.ledger.consume(order, remaining);
                            if (remaining == 0)
                              self->state.off_shard.erase(order);
                          });
    }
    default:
      return make_error(errc::validation_failed,
                        std::string{"unknown hold change "} + to_string(c.op));
  }
}

} // namespace oms::inventory_steps
