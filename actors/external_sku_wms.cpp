// The EXTERNAL-SKU actor's work with the WMS, in the background of its
// replies: each hold's reservation is brought to the state the order wants
// one call at a time, an intent journaled before the call that acts on it,
// failed calls retried on a timer; and the SKU's snapshot is read again once
// the WMS's next batch should have run.
#include <algorithm>

#include "actors/external_sku_steps.hpp"
#include "actors/wms_answers.hpp"
#include "messages/type_ids.hpp"
#include "system/log.hpp"

namespace oms::external_sku_steps {

namespace {

// Journals where a reservation stands at the WMS: a standing, "KNOWN" or
// "KNOWN>WANTED" (an intent, written before the call; to_string(wms_standing)),
// or RELEASED / SHIPPED / REFUSED when it is settled, with the units the
// WMS may hold (units_at_wms: a reduction not acknowledged yet still
// counts). Stores keep one row per (order, SKU) until it settles.
void journal_wms(ext_ptr self, const order_id& order, int64_t quantity,
                 int64_t reserve_seq, std::string state,
                 std::function<void(caf::error)> then) {
  event ev;
  ev.kind = event_kind::wms_synced;
  ev.at = now(self);
  ev.sku = self->state.sku;
  ev.order = order;
  ev.quantity = quantity;
  ev.amount = reserve_seq;
  ev.reason = std::move(state);
  ev.seller = seller::external;
  ev.fence = self->state.fence;
  self->request(self->state.ctx->journal, caf::infinite, atom::append_v,
                std::vector<event>{std::move(ev)})
      .then([then](uint64_t) { then(caf::error{}); },
            [then](caf::error& err) { then(err); });
}

// Asks the supervisor to cancel an order the WMS refused.
void cancel_refused(ext_ptr self, const order_id& order,
                    const std::string& why) {
  order_command cmd;
  cmd.kind = command_kind::cancel;
  cmd.reason = "the seller's warehouse refused the reservation of " +
               self->state.sku + ": " + why;
  self->request(self->state.supervisor, caf::infinite, atom::apply_v, order,
                cmd)
      .then(
          [=](order_record&) {
            log::warn(
                "external.order_cancelled",
                {{"order", order}, {"sku", self->state.sku}, {"why", why}});
          },
          [=](caf::error& err) {
            log::error("external.cancel_failed", {{"order", order},
                                                  {"sku", self->state.sku},
                                                  {"error", describe(err)}});
          });
}

// The WMS acknowledged a call (200, 201): its state of the reservation (and
// for a reserve or a reduction, its units) is journaled, then the next step
// follows. An answer we cannot read is retried.
void on_acknowledged(ext_ptr self, const order_id& order, const wms_call& call,
                     const wms_response& resp) {
  auto& st = self->state;
  auto ack = read_wms_ack(resp.body);
  if (!ack) {
    log::error("external.bad_answer",
               {{"sku", st.sku}, {"order", order}, {"body", resp.body}});
    arm_retry(self);
    return;
  }
  auto state = ack->state;
  auto seq = ack->seq;
  st.rechecked.erase(order);
  st.ledger.acknowledged(order, state, seq);
  if (call.op == wms_op::reserve || call.op == wms_op::reduce)
    st.ledger.acknowledged_quantity(order, call.quantity);
  st.backoff = std::chrono::milliseconds{0};
  auto* after = st.ledger.find(order);
  auto reserve_seq = after ? after->reserve_seq : seq;
  auto quantity = after ? units_at_wms(*after) : call.quantity;
  wms_standing row{state, {}};
  if (after && after->wanted != state)
    row.wanted = after->wanted;
  journal_wms(
      self, order, quantity, reserve_seq, to_string(row), [=](caf::error err) {
        if (err)
          log::error("external.journal_failed",
                     {{"sku", self->state.sku}, {"error", describe(err)}});
        self->state.in_flight.erase(order);
        sync(self, order);
      });
}

// The WMS refused a reservation we granted (`code`: INSUFFICIENT_STOCK or
// UNKNOWN_SKU): it knew of less stock than its snapshot said, so the order
// goes.
void on_refused(ext_ptr self, const order_id& order, int64_t quantity,
                const std::string& code) {
  auto& st = self->state;
  st.ledger.refused(order);
  st.in_flight.erase(order);
  journal_wms(self, order, quantity, 0, "REFUSED", [](caf::error) {});
  cancel_refused(self, order,
                 code == "UNKNOWN_SKU" ? "the SKU is unknown there"
                                       : "not enough stock there");
}

// The WMS has no reservation for `order` (it never had one, or lost it):
// what it acknowledged no longer counts, and the units the order holds now
// are reserved afresh (the old sequence no longer says what a snapshot
// excludes).
void start_over(ext_ptr self, const order_id& order) {
  auto& st = self->state;
  st.in_flight.erase(order);
  st.ledger.forgotten(order);
  auto* h = st.ledger.find(order);
  journal_wms(self, order, h ? h->quantity : 0, 0,
              to_string(wms_standing{wms_state::none, {}}),
              [=](caf::error) { sync(self, order); });
}

// The WMS has no such reservation: a release is done; anything else starts
// over.
void on_unknown_reservation(ext_ptr self, const order_id& order, wms_op op,
                            int64_t quantity) {
  if (op != wms_op::release) {
    start_over(self, order);
    return;
  }
  auto& st = self->state;
  // On a cluster, a reservation never acknowledged may have been asked
  // by the duty's former holder, whose call can still reach the WMS after
  // this release. So the hold stays, its units still counted, and the
  // release is sent once more when that can no longer happen; only that
  // answer settles it (also after a restart or a move of the duty: until
  // then nothing says the release is done).
  auto* h = st.ledger.find(order);
  if (st.ctx->shards && h != nullptr && h->known == wms_state::none &&
      h->reserve_seq == 0 && st.rechecked.count(order) == 0) {
    self->delayed_send(self, st.ctx->settings.external.stale_call_grace,
                       atom::lookup_v, order);
    return; // still in flight: nothing else asks meanwhile
  }
  st.in_flight.erase(order);
  st.rechecked.erase(order);
  // acknowledged() drops the settled hold.
  st.ledger.acknowledged(order, wms_state::released, 0);
  journal_wms(self, order, quantity, 0,
              to_string(wms_standing{wms_state::released, {}}),
              [=](caf::error) { sync(self, order); });
}

// Interprets the WMS's final answer to `call` for `order`.
void on_answer(ext_ptr self, const order_id& order, const wms_call& call,
               const wms_response& resp) {
  auto& st = self->state;
  auto* h = st.ledger.find(order);
  if (h == nullptr)
    return;
  auto op = call.op;
  auto quantity = units_at_wms(*h);
  auto code = wms_error_code(resp.body);
  if (resp.status == 200 || resp.status == 201) {
    on_acknowledged(self, order, call, resp);
    return;
  }
  // The WMS holds fewer units than we still hold for the order: nothing
  // to reduce, and nothing a retry would change. Its figure is kept, for
  // the audit to report.
  if (op == wms_op::reduce && resp.status == 409 &&
      code == "QUANTITY_ABOVE_RESERVATION") {
    log::error("external.wms_holds_less", {{"sku", st.sku},
                                           {"order", order},
                                           {"holds", h->quantity},
                                           {"body", resp.body}});
    auto there = wms_error_figure(resp.body, "quantity");
    st.ledger.acknowledged_quantity(
        order,
        there && *there > 0 && *there < h->quantity ? *there : h->quantity);
    st.in_flight.erase(order);
    return;
  }
  // A reserve asked again after a partial cancel, for the units it first
  // asked for, that the WMS cannot grant: the WMS has no such reservation
  // (it answers a repeat of one it has as before), so it is asked for the
  // units the order holds now.
  if (op == wms_op::reserve && resp.status == 409 &&
      code == "INSUFFICIENT_STOCK" && call.quantity > h->quantity) {
    start_over(self, order);
    return;
  }
  if (op == wms_op::reserve &&
      ((resp.status == 409 && code == "INSUFFICIENT_STOCK") ||
       (resp.status == 404 && code == "UNKNOWN_SKU"))) {
    on_refused(self, order, quantity, code);
    return;
  }
  // (A reserve makes the reservation: its 404 is retried like any answer
  // we cannot use, not started over at once.)
  if (resp.status == 404 && code == "UNKNOWN_RESERVATION" &&
      op != wms_op::reserve) {
    on_unknown_reservation(self, order, op, quantity);
    return;
  }
  log::error("external.wms_refused_call", {{"sku", st.sku},
                                           {"order", order},
                                           {"op", to_string(op)},
                                           {"status", int64_t{resp.status}},
                                           {"body", resp.body}});
  st.in_flight.erase(order);
  arm_retry(self);
}

void send_call(ext_ptr self, const order_id& order, wms_call call) {
  auto op = call.op;
  self->request(self->state.gateway, caf::infinite, atom::call_v, call)
      .then([=](wms_response& resp) { on_answer(self, order, call, resp); },
            [=](caf::error& err) {
              log::warn("external.wms_unavailable", {{"sku", self->state.sku},
                                                     {"order", order},
                                                     {"op", to_string(op)},
                                                     {"error", describe(err)}});
              self->state.in_flight.erase(order);
              arm_retry(self);
            });
}

void arm_refresh(ext_ptr self) {
  auto& st = self->state;
  auto& cfg = st.ctx->settings.external;
  // Read again once the next batch should have run.
  auto due = st.ledger.snapshot_as_of() + cfg.batch_interval.count() + 1000;
  auto delay = std::chrono::milliseconds(std::clamp<int64_t>(
      due - now(self), cfg.snapshot_min_interval.count(),
      std::max(cfg.snapshot_min_interval, cfg.batch_interval).count()));
  self->delayed_send(self, delay, atom::read_v, ++st.read_generation);
}

void finish_waiting(ext_ptr self, const caf::error& err) {
  auto waiting = std::move(self->state.waiting);
  self->state.waiting.clear();
  for (auto& f : waiting)
    f(err);
}

// The WMS answered a snapshot read: 404 is UNKNOWN_SKU, an answer without
// the counts or with a unit price above the limit is WMS_UNAVAILABLE; else
// the snapshot replaces the last one.
void on_snapshot(ext_ptr self, const wms_response& resp) {
  auto& st = self->state;
  st.reading = false;
  if (resp.status == 404) {
    finish_waiting(
        self, make_error(errc::unknown_sku,
                         "unknown SKU " + st.sku + " at the EXTERNAL seller"));
    return;
  }
  wms_snapshot snap;
  auto reading =
      resp.status == 200
          ? read_wms_snapshot(resp.body, st.ctx->settings.limits.unit_price_max,
                              snap)
          : snapshot_reading::unreadable;
  if (reading == snapshot_reading::unreadable) {
    log::error("external.bad_snapshot", {{"sku", st.sku},
                                         {"status", int64_t{resp.status}},
                                         {"body", resp.body}});
    finish_waiting(
        self, make_error(errc::wms_unavailable,
                         "the WMS answered " + std::to_string(resp.status)));
    return;
  }
  // A price above the limit would break the bound that keeps order totals
  // in range (check_money_bounds): such a snapshot sells nothing.
  if (reading == snapshot_reading::bad_price) {
    log::error("external.bad_price", {{"sku", st.sku}, {"body", resp.body}});
    finish_waiting(self, make_error(errc::wms_unavailable,
                                    "the WMS priced " + st.sku +
                                        " outside 0 to the highest unit "
                                        "price (--max-unit-price)"));
    return;
  }
  st.ledger.apply_snapshot(snap.orderable, snap.reflects, snap.as_of,
                           snap.unit_price, now(self));
  arm_refresh(self);
  finish_waiting(self, caf::error{});
}

} // namespace

void arm_retry(ext_ptr self) {
  auto& st = self->state;
  if (st.retry_armed)
    return;
  auto& cfg = st.ctx->settings.external;
  st.backoff = st.backoff.count() == 0
                   ? cfg.retry_min
                   : std::min(cfg.retry_max, st.backoff * 2);
  st.retry_armed = true;
  self->delayed_send(self, st.backoff, atom::retry_v, ++st.retry_generation);
}

void sync_all(ext_ptr self) {
  for (auto& order : self->state.ledger.out_of_sync())
    sync(self, order);
}

void sync(ext_ptr self, const order_id& order) {
  auto& st = self->state;
  if (st.in_flight.count(order) > 0)
    return;
  auto* h = st.ledger.find(order);
  if (h == nullptr || h->refused ||
      (h->wanted == h->known && !needs_reduction(*h)))
    return;
  wms_call call;
  call.sku = st.sku;
  call.reservation = reservation_id(order, st.sku);
  call.quantity = h->quantity;
  bool intent = false;
  if (h->wanted == wms_state::released) {
    call.op = wms_op::release;
    intent = true;
  } else if (h->known == wms_state::none) {
    // A reserve asked for before is asked again as it was (the WMS takes
    // an id once, with one quantity); a reduction follows.
    // (Journaled every time, a reserve asked again too: the fence then
    // keeps a former holder of the duty from sending it.)
    call.op = wms_op::reserve;
    intent = true;
    if (h->requested)
      call.quantity = units_at_wms(*h);
  } else if (needs_reduction(*h)) {
    // Units go back: no intent is needed, and a repeat names the same
    // target.
    call.op = wms_op::reduce;
  } else if (h->known == wms_state::reserved) {
    call.op = wms_op::block;
  } else if (h->known == wms_state::blocked &&
             h->wanted == wms_state::shipped) {
    call.op = wms_op::ship;
    intent = true;
  } else {
    return;
  }
  st.in_flight.insert(order);
  if (!intent) {
    send_call(self, order, std::move(call));
    return;
  }
  // Write-ahead: the intent is durable before the WMS may act on it.
  journal_wms(self, order, std::max(units_at_wms(*h), call.quantity),
              h->reserve_seq, to_string(wms_standing{h->known, h->wanted}),
              [=](caf::error err) mutable {
                if (err) {
                  self->state.in_flight.erase(order);
                  arm_retry(self);
                  return;
                }
                self->state.ledger.mark_requested(order, call.quantity);
                send_call(self, order, std::move(call));
              });
}

void read_snapshot(ext_ptr self) {
  auto& st = self->state;
  if (st.reading)
    return;
  st.reading = true;
  wms_call call;
  call.op = wms_op::read_inventory;
  call.sku = st.sku;
  self->request(st.gateway, caf::infinite, atom::call_v, std::move(call))
      .then([=](wms_response& resp) { on_snapshot(self, resp); },
            [=](caf::error& err) {
              self->state.reading = false;
              finish_waiting(self, err);
            });
}

void with_snapshot(ext_ptr self, std::function<void(const caf::error&)> f) {
  if (self->state.ledger.known()) {
    f(caf::error{});
    return;
  }
  self->state.waiting.push_back(std::move(f));
  read_snapshot(self);
}

void release_again(ext_ptr self, const order_id& order) {
  auto& st = self->state;
  st.in_flight.erase(order);
  if (st.ledger.find(order) == nullptr)
    return;
  st.rechecked.insert(order);
  sync(self, order);
}

} // namespace oms::external_sku_steps
