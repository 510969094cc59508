// The INVENTORY actor's behaviour: every change to one SKU's stock is
// checked by its ledger, journaled, then applied; holds change in memory
// only (the orders journal them).
#include "actors/inventory.hpp"

#include <caf/send.hpp>

#include "actors/inventory_steps.hpp"
#include "messages/type_ids.hpp"
#include "system/log.hpp"

namespace oms::inventory_steps {

caf::error to_error(const ledger_outcome& x) {
  return make_error(x.error, x.message, x.details());
}

timestamp_ms now(inventory_ptr self) {
  return self->state.ctx->now(self->clock());
}

stock_view view(inventory_ptr self) {
  return self->state.ledger.view(self->state.sku, now(self));
}

event stock_event(inventory_ptr self, event_kind kind, int64_t quantity,
                  money amount) {
  event ev;
  ev.kind = kind;
  ev.at = now(self);
  ev.sku = self->state.sku;
  ev.quantity = quantity;
  ev.amount = amount;
  return ev;
}

// After every change: the ledger's invariants (the cheap ones always, every
// one in builds with OMS_FULL_INVARIANTS: debug and sanitizer builds). A
// broken one means a bug: the error to answer, after which the actor stops
// (its SUPERVISOR marks the SKU unavailable) instead of selling from a ledger
// that no longer adds up. The journal is untouched by the broken change.
caf::error broken(inventory_ptr self) {
  auto& ledger = self->state.ledger;
  std::string why = ledger.first_broken_invariant();
#ifdef OMS_FULL_INVARIANTS
  if (why.empty())
    if (auto all = ledger.check_invariants(); !all.empty())
      why = all.front();
#endif
  if (why.empty())
    return {};
  log::error("inventory.invariant_broken",
             {{"sku", self->state.sku}, {"invariant", why}});
  auto err = make_error(errc::internal,
                        "SKU " + self->state.sku +
                            " stopped: its stock ledger broke an invariant");
  self->quit(err);
  return err;
}

} // namespace oms::inventory_steps

namespace oms {

using namespace inventory_steps;

namespace {

// Numbers `events` with the SKU's next versions; answers the version the
// last one takes.
uint64_t number(inventory_ptr self, std::vector<event>& events) {
  auto version = self->state.ledger.version();
  for (auto& ev : events)
    if (versions_sku(ev.kind))
      ev.version = ++version;
  return version;
}

// PRECONDITION_FAILED if the client saw another version of the SKU, or
// asked for one that exists (If-Match: *) of a SKU that does not.
caf::error stale(inventory_ptr self, uint64_t if_version) {
  auto& ledger = self->state.ledger;
  if (if_version == if_version_exists)
    return ledger.defined() ? caf::error{}
                            : make_error(errc::precondition_failed,
                                         "SKU " + self->state.sku +
                                             " does not exist (If-Match: *)",
                                         "{\"version\":0}");
  return version_mismatch("SKU " + self->state.sku, ledger.version(),
                          if_version);
}

// Journals `events` (numbered with the SKU's next versions), then runs
// `apply` and replies the new view. Waits for the journal before handling
// anything else, so that changes apply in the order they were journaled and
// no other change takes their versions.
template <class Apply>
caf::result<stock_view>
journal_then_apply(inventory_ptr self, std::vector<event> events, Apply apply) {
  auto rp = self->make_response_promise<stock_view>();
  auto version = number(self, events);
  self->request(self->state.ctx->journal, caf::infinite, atom::append_v,
                under_epoch(std::move(events), self->state.fence))
      .await(
          [=](uint64_t) mutable {
            apply();
            self->state.ledger.set_version(version);
            if (auto err = broken(self)) {
              rp.deliver(err);
              return;
            }
            rp.deliver(view(self));
          },
          [=](caf::error& err) mutable {
            log::error("inventory.journal_failed",
                       {{"sku", self->state.sku}, {"error", describe(err)}});
            rp.deliver(make_error(errc::store_failure,
                                  "the change could not be made durable: " +
                                      message_of(err)));
          });
  return rp;
}

// Sets the expiry timer for the earliest batch still to expire, unless one is
// already set for that time.
void arm_expiry(inventory_ptr self) {
  auto& st = self->state;
  auto next = st.ledger.next_expiry();
  if (next == 0 || next == st.expiry_armed_for)
    return;
  st.expiry_armed_for = next;
  auto delay =
      std::chrono::milliseconds(std::max<timestamp_ms>(1, next - now(self)));
  self->delayed_send(self, delay, atom::expire_v, ++st.expiry_generation);
}

// The events that journal `change` (already checked) on this SKU.
std::vector<event> change_events(inventory_ptr self, const stock_change& c,
                                 const std::string& lot) {
  auto& ledger = self->state.ledger;
  std::vector<event> events;
  auto detail = [&](event ev) {
    ev.lot = lot;
    ev.inbox_id = c.event_id;
    return ev;
  };
  switch (c.kind) {
    case stock_change_kind::receipt: {
      if (!ledger.defined())
        events.push_back(
            stock_event(self, event_kind::sku_created, 0, c.unit_price));
      else if (c.unit_price > 0 && c.unit_price != ledger.unit_price())
        events.push_back(
            stock_event(self, event_kind::price_set, 0, c.unit_price));
      auto ev =
          detail(stock_event(self, event_kind::stock_received, c.quantity, 0));
      ev.expires_at = c.expires_at;
      ev.reason = c.note;
      events.push_back(std::move(ev));
      break;
    }
    case stock_change_kind::adjustment: {
      auto ev =
          detail(stock_event(self, event_kind::stock_adjusted, c.quantity, 0));
      ev.reason = c.note;
      events.push_back(std::move(ev));
      break;
    }
    case stock_change_kind::set_aside:
    case stock_change_kind::return_aside: {
      auto sign = c.kind == stock_change_kind::set_aside ? 1 : -1;
      auto ev = detail(
          stock_event(self, event_kind::stock_moved, sign * c.quantity, 0));
      ev.reason = to_string(c.reason);
      events.push_back(std::move(ev));
      break;
    }
    case stock_change_kind::customer_return: {
      auto ev =
          detail(stock_event(self, event_kind::stock_returned, c.quantity, 0));
      ev.expires_at = c.expires_at;
      ev.order = c.note;
      ev.reason = to_string(unallocatable_reason::quarantined);
      events.push_back(std::move(ev));
      break;
    }
    case stock_change_kind::reclassify: {
      // Out of QUARANTINED and into `reason`, in one append.
      auto out =
          detail(stock_event(self, event_kind::stock_moved, -c.quantity, 0));
      out.reason = to_string(unallocatable_reason::quarantined);
      events.push_back(std::move(out));
      auto in =
          detail(stock_event(self, event_kind::stock_moved, c.quantity, 0));
      in.reason = to_string(c.reason);
      in.inbox_id.clear(); // the change's id is recorded once
      events.push_back(std::move(in));
      break;
    }
  }
  return events;
}

caf::result<stock_view> apply_change(inventory_ptr self,
                                     const stock_change& c) {
  auto& ledger = self->state.ledger;
  if (auto err = expire_due(self))
    return err;
  auto t = now(self);
  std::string lot = c.lot;
  ledger_outcome chk;
  switch (c.kind) {
    case stock_change_kind::receipt:
      chk = ledger.check_receive(c.quantity, c.unit_price, c.lot, c.expires_at,
                                 t);
      break;
    case stock_change_kind::adjustment:
      chk = ledger.resolve_lot(c.lot, lot);
      if (chk.ok())
        chk = ledger.check_adjust(lot, c.quantity);
      break;
    case stock_change_kind::set_aside:
    case stock_change_kind::return_aside:
      if (c.quantity < 1) {
        chk = ledger_outcome::failure(
            errc::validation_failed, "quantity must be at least 1", "quantity");
        break;
      }
      // A return's change names its batch exactly, "" included.
      chk = c.source == return_source ? ledger_outcome::success(0)
                                      : ledger.resolve_lot(c.lot, lot);
      if (chk.ok())
        chk = ledger.check_move(
            lot,
            c.kind == stock_change_kind::set_aside ? c.quantity : -c.quantity,
            c.reason);
      break;
    case stock_change_kind::customer_return:
      // The batch is named by the order's record, and made again if gone.
      chk = ledger.check_take_back(c.quantity);
      break;
    case stock_change_kind::reclassify:
      chk = ledger.check_reclassify(c.lot, c.quantity, c.reason);
      break;
  }
  if (!chk.ok())
    return to_error(chk);
  if (auto err = stale(self, c.if_version))
    return err;
  auto events = change_events(self, c, lot);
  return journal_then_apply(self, std::move(events), [=] {
    auto& ledger = self->state.ledger;
    switch (c.kind) {
      case stock_change_kind::receipt:
        ledger.receive(c.quantity, c.unit_price, lot, c.expires_at, now(self));
        break;
      case stock_change_kind::adjustment:
        ledger.adjust(lot, c.quantity);
        break;
      case stock_change_kind::set_aside:
        ledger.move(lot, c.quantity, c.reason);
        break;
      case stock_change_kind::return_aside:
        ledger.move(lot, -c.quantity, c.reason);
        break;
      case stock_change_kind::customer_return:
        ledger.take_back(lot, c.expires_at, c.quantity, now(self));
        break;
      case stock_change_kind::reclassify:
        ledger.reclassify(lot, c.quantity, c.reason);
        break;
    }
    arm_expiry(self);
  });
}

// A receipt of `quantity` units at `unit_price` (0 keeps the price), as a
// stock change without a batch.
caf::result<stock_view> receive(inventory_ptr self, int64_t quantity,
                                money unit_price) {
  stock_change c;
  c.kind = stock_change_kind::receipt;
  c.sku = self->state.sku;
  c.quantity = quantity;
  c.unit_price = unit_price;
  return apply_change(self, c);
}

// The batches whose expiry is due leave sale now and are journaled as
// expired, each taking the SKU's next version (a failed append is logged:
// the ledger derives expiry from time). Every path that expires batches
// comes here, the timer and the changes that arrive before it alike, so
// that no expiry goes unrecorded or unversioned. The error if the ledger
// broke (the actor then stops).

// The expiry timer of `generation` fired: the batches due expire, and the
// timer is armed for the next one. A stale timer does nothing.
void expire_batches(inventory_ptr self, uint64_t generation) {
  auto& st = self->state;
  if (generation != st.expiry_generation)
    return;
  st.expiry_armed_for = 0;
  if (expire_due(self))
    return;
  arm_expiry(self);
}

caf::result<stock_view> set_price(inventory_ptr self, money unit_price,
                                  uint64_t if_version) {
  if (auto chk = self->state.ledger.check_price(unit_price); !chk.ok())
    return to_error(chk);
  if (auto err = stale(self, if_version))
    return err;
  std::vector<event> events{
      stock_event(self, event_kind::price_set, 0, unit_price)};
  return journal_then_apply(self, std::move(events),
                            [=] { self->state.ledger.set_price(unit_price); });
}

caf::result<stock_view> get_view(inventory_ptr self) {
  if (!self->state.ledger.defined())
    return make_error(errc::unknown_sku, "unknown SKU " + self->state.sku);
  return view(self);
}

caf::result<reserve_reply> reserve(inventory_ptr self, const order_id& order,
                                   int64_t quantity) {
  if (auto err = expire_due(self))
    return err;
  reserve_reply reply;
  auto res = self->state.ledger.reserve(order, quantity, reply, now(self));
  if (!res.ok())
    return to_error(res);
  if (auto err = broken(self))
    return err;
  return reply;
}

// INVALID_TRANSITION for the hold of an order on another shard, which only
// hold changes (atom::hold) change: journaled here, unlike the holds of the
// SKU's own orders, which their orders journal.
caf::error not_own(inventory_ptr self, const order_id& order) {
  if (self->state.off_shard.count(order) == 0)
    return {};
  return make_error(errc::invalid_transition,
                    "the hold of order " + order + " on SKU " +
                        self->state.sku +
                        " is of an order on another shard: only its hold "
                        "changes change it");
}

// The ledger's block, release, reduce and consume: the units it moved, or
// its error.
caf::result<int64_t> units_or_error(inventory_ptr self,
                                    const ledger_outcome& res) {
  if (!res.ok())
    return to_error(res);
  if (auto err = broken(self))
    return err;
  return res.quantity;
}

} // namespace

caf::error inventory_steps::expire_due(inventory_ptr self) {
  auto& st = self->state;
  auto expired = st.ledger.expire(now(self));
  if (!expired.empty()) {
    std::vector<event> events;
    for (auto& a : expired) {
      auto ev = stock_event(self, event_kind::batch_expired, a.quantity, 0);
      ev.lot = a.lot;
      events.push_back(std::move(ev));
      log::info("inventory.batch_expired",
                {{"sku", st.sku}, {"lot", a.lot}, {"units", a.quantity}});
    }
    if (auto err = broken(self))
      return err;
    // The batches left sale now, whether or not the record below becomes
    // durable: the SKU is at its next version at once.
    st.ledger.set_version(number(self, events));
    // A record of what left sale; the ledger derives it from time.
    self->request(st.ctx->journal, caf::infinite, atom::append_v,
                  under_epoch(std::move(events), st.fence))
        .then([](uint64_t) {},
              [=](caf::error& err) {
                log::error(
                    "inventory.journal_failed",
                    {{"sku", self->state.sku}, {"error", describe(err)}});
              });
  }
  return {};
}

inventory_actor::behavior_type inventory(inventory_ptr self, sku_id sku,
                                         context_ptr ctx, int64_t fence) {
  self->state.sku = std::move(sku);
  self->state.ctx = std::move(ctx);
  self->state.fence = fence;
  self->state.ledger =
      stock_ledger{self->state.ctx->settings.limits.unit_price_max};
  return {
      // Replies the view once the receipt is journaled. Errors:
      // VALIDATION_FAILED, STORE_FAILURE.
      [=](atom::receive, int64_t quantity, money unit_price) {
        return receive(self, quantity, unit_price);
      },
      // Replies the view once the change is journaled. Errors:
      // VALIDATION_FAILED, UNKNOWN_SKU, INSUFFICIENT_STOCK,
      // PRECONDITION_FAILED, STORE_FAILURE.
      [=](atom::apply, const stock_change& c) { return apply_change(self, c); },
      // Timer: batches whose expiry is due leave sale.
      [=](atom::expire, uint64_t generation) {
        expire_batches(self, generation);
      },
      // Replies the view once the price is journaled. Errors:
      // VALIDATION_FAILED, UNKNOWN_SKU, PRECONDITION_FAILED, STORE_FAILURE.
      [=](atom::price, money unit_price, uint64_t if_version) {
        return set_price(self, unit_price, if_version);
      },
      // Replies the counters now. Errors: UNKNOWN_SKU (never received).
      [=](atom::get) { return get_view(self); },
      // Replies the counters and every order's hold, for audits. No errors.
      [=](atom::holds) {
        // No problems of its own: the audit checks our ledger's counters.
        return stock_snapshot{view(self), self->state.ledger.holds(), {}};
      },
      // Replies whether the units are granted. Errors: VALIDATION_FAILED,
      // UNKNOWN_SKU.
      [=](atom::reserve, const order_id& order, int64_t quantity) {
        return reserve(self, order, quantity);
      },
      // Replies the units blocked. Errors: INVALID_TRANSITION.
      [=](atom::block, const order_id& order) -> caf::result<int64_t> {
        if (auto err = not_own(self, order))
          return err;
        return units_or_error(self, self->state.ledger.block(order));
      },
      // Replies the units released (0 if none). No errors.
      [=](atom::release, const order_id& order) -> caf::result<int64_t> {
        if (auto err = not_own(self, order))
          return err;
        return units_or_error(self, self->state.ledger.release(order));
      },
      // Replies the units released. Errors: VALIDATION_FAILED.
      [=](atom::reduce, const order_id& order,
          int64_t remaining) -> caf::result<int64_t> {
        if (auto err = not_own(self, order))
          return err;
        return units_or_error(self,
                              self->state.ledger.reduce(order, remaining));
      },
      // Replies the units shipped (0 if already). Errors:
      // INVALID_TRANSITION, VALIDATION_FAILED.
      [=](atom::consume, const order_id& order,
          int64_t remaining) -> caf::result<int64_t> {
        if (auto err = not_own(self, order))
          return err;
        return units_or_error(self,
                              self->state.ledger.consume(order, remaining));
      },
      // Replies what the change did, once journaled. Errors: as above, and
      // STORE_FAILURE.
      [=](atom::hold, const hold_change& c) { return change_hold(self, c); },
  };
}

inventory_actor::behavior_type restored_inventory(inventory_ptr self,
                                                  sku_id sku, context_ptr ctx,
                                                  stock_ledger ledger,
                                                  int64_t fence) {
  auto behavior = inventory(self, std::move(sku), std::move(ctx), fence);
  self->state.ledger = std::move(ledger);
  // A stored state that does not add up stops the SKU before it sells.
  if (broken(self))
    return behavior;
  arm_expiry(self);
  return behavior;
}

} // namespace oms
