#include "actors/external_sku.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "messages/type_ids.hpp"
#include "system/log.hpp"

namespace oms {

namespace {

using ext_ptr = external_sku_actor::stateful_pointer<external_sku_state>;
using json = nlohmann::json;

timestamp_ms now(ext_ptr self) {
  return self->state.ctx->now(self->clock());
}

stock_view view(ext_ptr self) {
  return self->state.ledger.view(self->state.sku, now(self));
}

// The WMS's error code in an answer body, or "".
std::string error_code(const wms_response& resp) {
  auto j = json::parse(resp.body, nullptr, false);
  if (j.is_object() && j.contains("error") && j["error"].is_object())
    return j["error"].value("code", std::string{});
  return {};
}

// Journals where a reservation stands at the WMS: a standing, "KNOWN" or
// "KNOWN>WANTED" (an intent, written before the call; to_string(wms_standing)),
// or RELEASED / SHIPPED / REFUSED when it is settled. Stores keep one row per
// (order, SKU) until it settles.
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
  self->request(self->state.ctx->journal, caf::infinite, atom::append_v,
                std::vector<event>{std::move(ev)})
      .then([then](uint64_t) { then(caf::error{}); },
            [then](caf::error& err) { then(err); });
}

void sync(ext_ptr self, const order_id& order);

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

void on_answer(ext_ptr self, const order_id& order, wms_op op,
               const wms_response& resp) {
  auto& st = self->state;
  auto* h = st.ledger.find(order);
  if (h == nullptr)
    return;
  auto quantity = h->quantity;
  auto code = error_code(resp);
  if (resp.status == 200 || resp.status == 201) {
    auto j = json::parse(resp.body, nullptr, false);
    wms_state state = wms_state::none;
    if (!j.is_object() ||
        !parse_wms_state(j.value("status", std::string{}), state)) {
      log::error("external.bad_answer",
                 {{"sku", st.sku}, {"order", order}, {"body", resp.body}});
      arm_retry(self);
      return;
    }
    auto seq = j.value("seq", int64_t{0});
    st.ledger.acknowledged(order, state, seq);
    st.backoff = std::chrono::milliseconds{0};
    auto* after = st.ledger.find(order);
    auto reserve_seq = after ? after->reserve_seq : seq;
    wms_standing row{state, {}};
    if (after && after->wanted != state)
      row.wanted = after->wanted;
    journal_wms(self, order, quantity, reserve_seq, to_string(row),
                [=](caf::error err) {
                  if (err)
                    log::error(
                        "external.journal_failed",
                        {{"sku", self->state.sku}, {"error", describe(err)}});
                  self->state.in_flight.erase(order);
                  sync(self, order);
                });
    return;
  }
  if (op == wms_op::reserve &&
      ((resp.status == 409 && code == "INSUFFICIENT_STOCK") ||
       (resp.status == 404 && code == "UNKNOWN_SKU"))) {
    // The WMS knew of less stock than its snapshot said: the order goes.
    st.ledger.refused(order);
    st.in_flight.erase(order);
    journal_wms(self, order, quantity, 0, "REFUSED", [](caf::error) {});
    cancel_refused(self, order,
                   code == "UNKNOWN_SKU" ? "the SKU is unknown there"
                                         : "not enough stock there");
    return;
  }
  if (resp.status == 404 && code == "UNKNOWN_RESERVATION") {
    // Nothing there: a release is done; anything else starts over.
    st.ledger.acknowledged(
        order, op == wms_op::release ? wms_state::released : wms_state::none,
        0);
    st.in_flight.erase(order);
    journal_wms(
        self, order, quantity, h->reserve_seq,
        to_string(wms_standing{
            op == wms_op::release ? wms_state::released : wms_state::none, {}}),
        [=](caf::error) { sync(self, order); });
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
  self->request(self->state.gateway, caf::infinite, atom::call_v,
                std::move(call))
      .then([=](wms_response& resp) { on_answer(self, order, op, resp); },
            [=](caf::error& err) {
              log::warn("external.wms_unavailable", {{"sku", self->state.sku},
                                                     {"order", order},
                                                     {"op", to_string(op)},
                                                     {"error", describe(err)}});
              self->state.in_flight.erase(order);
              arm_retry(self);
            });
}

// Brings the WMS one step closer to what the order wants.
void sync(ext_ptr self, const order_id& order) {
  auto& st = self->state;
  if (st.in_flight.count(order) > 0)
    return;
  auto* h = st.ledger.find(order);
  if (h == nullptr || h->wanted == h->known)
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
    call.op = wms_op::reserve;
    intent = !h->requested;
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
  journal_wms(self, order, h->quantity, h->reserve_seq,
              to_string(wms_standing{h->known, h->wanted}),
              [=](caf::error err) mutable {
                if (err) {
                  self->state.in_flight.erase(order);
                  arm_retry(self);
                  return;
                }
                self->state.ledger.mark_requested(order);
                send_call(self, order, std::move(call));
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

void read_snapshot(ext_ptr self) {
  auto& st = self->state;
  if (st.reading)
    return;
  st.reading = true;
  wms_call call;
  call.op = wms_op::read_inventory;
  call.sku = st.sku;
  self->request(st.gateway, caf::infinite, atom::call_v, std::move(call))
      .then(
          [=](wms_response& resp) {
            auto& st = self->state;
            st.reading = false;
            if (resp.status == 404) {
              finish_waiting(self, make_error(errc::unknown_sku,
                                              "unknown SKU " + st.sku +
                                                  " at the EXTERNAL seller"));
              return;
            }
            auto j = json::parse(resp.body, nullptr, false);
            if (resp.status != 200 || !j.is_object() ||
                !j.contains("orderable") || !j.contains("reflects")) {
              log::error("external.bad_snapshot",
                         {{"sku", st.sku},
                          {"status", int64_t{resp.status}},
                          {"body", resp.body}});
              finish_waiting(self, make_error(errc::wms_unavailable,
                                              "the WMS answered " +
                                                  std::to_string(resp.status)));
              return;
            }
            st.ledger.apply_snapshot(j.value("orderable", int64_t{0}),
                                     j.value("reflects", int64_t{0}),
                                     j.value("asOf", timestamp_ms{0}),
                                     j.value("unitPrice", money{0}), now(self));
            arm_refresh(self);
            finish_waiting(self, caf::error{});
          },
          [=](caf::error& err) {
            self->state.reading = false;
            finish_waiting(self, err);
          });
}

// Runs `f` once a snapshot is known (at once if it is).
void with_snapshot(ext_ptr self, std::function<void(const caf::error&)> f) {
  if (self->state.ledger.known()) {
    f(caf::error{});
    return;
  }
  self->state.waiting.push_back(std::move(f));
  read_snapshot(self);
}

caf::error read_only() {
  return make_error(errc::external_inventory_read_only,
                    "the EXTERNAL seller's stock is managed in its WMS");
}

} // namespace

std::string reservation_id(const order_id& order, const sku_id& sku) {
  return order + ":" + sku;
}

external_sku_actor::behavior_type external_sku(ext_ptr self, sku_id sku,
                                               context_ptr ctx,
                                               wms_gateway_actor gateway,
                                               supervisor_actor supervisor,
                                               external_ledger ledger) {
  auto& st = self->state;
  st.sku = std::move(sku);
  st.ctx = std::move(ctx);
  st.gateway = std::move(gateway);
  st.supervisor = std::move(supervisor);
  st.ledger = std::move(ledger);
  // Restored holds the WMS is behind on, and a first snapshot.
  if (!st.ledger.out_of_sync().empty())
    with_snapshot(self, [=](const caf::error&) { sync_all(self); });
  return {
      [=](atom::receive, int64_t, money) -> caf::result<stock_view> {
        return read_only();
      },
      [=](atom::price, money) -> caf::result<stock_view> {
        return read_only();
      },
      [=](atom::get) -> caf::result<stock_view> {
        auto rp = self->make_response_promise<stock_view>();
        with_snapshot(self, [=](const caf::error& err) mutable {
          if (err)
            rp.deliver(err);
          else
            rp.deliver(view(self));
        });
        return rp;
      },
      [=](atom::holds) {
        return stock_snapshot{view(self), self->state.ledger.holds()};
      },
      [=](atom::reserve, const order_id& order,
          int64_t quantity) -> caf::result<reserve_reply> {
        auto rp = self->make_response_promise<reserve_reply>();
        with_snapshot(self, [=](const caf::error& err) mutable {
          if (err) {
            rp.deliver(err);
            return;
          }
          reserve_reply reply;
          auto res = self->state.ledger.reserve(order, quantity, reply);
          if (!res.ok()) {
            rp.deliver(make_error(res.error, res.message));
            return;
          }
          rp.deliver(reply);
          if (reply.granted)
            sync(self, order);
        });
        return rp;
      },
      [=](atom::block, const order_id& order) -> caf::result<int64_t> {
        auto res = self->state.ledger.block(order);
        if (!res.ok())
          return make_error(res.error, res.message);
        sync(self, order);
        return res.quantity;
      },
      [=](atom::release, const order_id& order) -> caf::result<int64_t> {
        auto res = self->state.ledger.release(order);
        sync(self, order);
        return res.quantity;
      },
      [=](atom::reduce, const order_id& order,
          int64_t remaining) -> caf::result<int64_t> {
        auto* h = self->state.ledger.find(order);
        auto held = h == nullptr || h->wanted == wms_state::released ||
                            h->wanted == wms_state::shipped
                        ? 0
                        : h->quantity;
        if (remaining == held)
          return int64_t{0};
        if (remaining == 0) {
          auto res = self->state.ledger.release(order);
          sync(self, order);
          return res.quantity;
        }
        return make_error(errc::validation_failed,
                          "the EXTERNAL seller's reservations cannot be "
                          "reduced: cancel the whole line or order");
      },
      [=](atom::consume, const order_id& order) -> caf::result<int64_t> {
        auto res = self->state.ledger.consume(order);
        if (!res.ok())
          return make_error(res.error, res.message);
        sync(self, order);
        return res.quantity;
      },
      [=](atom::apply, const stock_change& c) -> caf::result<stock_view> {
        // A change from the WMS feed: journaled, then counted until a
        // snapshot reflects it.
        if (c.seller != seller::external || c.wms_seq <= 0)
          return read_only();
        event ev;
        ev.kind = c.kind == stock_change_kind::receipt
                      ? event_kind::stock_received
                      : event_kind::stock_adjusted;
        ev.at = now(self);
        ev.sku = self->state.sku;
        ev.quantity = c.quantity;
        ev.amount = c.wms_seq;
        ev.reason = c.note;
        ev.lot = c.lot;
        ev.inbox_id = c.event_id;
        ev.seller = seller::external;
        auto rp = self->make_response_promise<stock_view>();
        self->request(self->state.ctx->journal, caf::infinite, atom::append_v,
                      std::vector<event>{std::move(ev)})
            .then(
                [=](uint64_t) mutable {
                  self->state.ledger.apply_delta(c.wms_seq, c.quantity);
                  rp.deliver(view(self));
                },
                [=](caf::error& err) mutable {
                  rp.deliver(make_error(errc::store_failure,
                                        "the change could not be made "
                                        "durable: " +
                                            message_of(err)));
                });
        return rp;
      },
      [=](atom::expire, uint64_t) {
        // EXTERNAL stock has no batches of ours to expire.
      },
      [=](atom::retry, uint64_t generation) {
        auto& st = self->state;
        if (generation != st.retry_generation)
          return;
        st.retry_armed = false;
        sync_all(self);
      },
      [=](atom::read, uint64_t generation) {
        if (generation != self->state.read_generation)
          return;
        read_snapshot(self);
      },
  };
}

} // namespace oms
