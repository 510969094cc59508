// The EXTERNAL-SKU actor's behaviour: orders are answered from our count of
// the SKU at once; the WMS follows in the background (external_sku_wms.cpp).
#include "actors/external_sku.hpp"

#include <nlohmann/json.hpp>

#include "actors/external_sku_steps.hpp"
#include "actors/wms_answers.hpp"
#include "messages/type_ids.hpp"
#include "system/log.hpp"

namespace oms {

namespace external_sku_steps {

timestamp_ms now(ext_ptr self) {
  return self->state.ctx->now(self->clock());
}

stock_view view(ext_ptr self) {
  return self->state.ledger.view(self->state.sku, now(self));
}

} // namespace external_sku_steps

using namespace external_sku_steps;

namespace {

caf::error read_only() {
  return make_error(errc::external_inventory_read_only,
                    "the EXTERNAL seller's stock is managed in its WMS");
}

caf::result<stock_view> get_view(ext_ptr self) {
  auto rp = self->make_response_promise<stock_view>();
  with_snapshot(self, [=](const caf::error& err) mutable {
    if (err)
      rp.deliver(err);
    else
      rp.deliver(view(self));
  });
  return rp;
}

caf::result<reserve_reply> reserve(ext_ptr self, const order_id& order,
                                   int64_t quantity) {
  auto rp = self->make_response_promise<reserve_reply>();
  with_snapshot(self, [=](const caf::error& err) mutable {
    if (err) {
      rp.deliver(err);
      return;
    }
    reserve_reply reply;
    auto res = self->state.ledger.reserve(order, quantity, reply);
    if (!res.ok()) {
      rp.deliver(make_error(res.error, res.message, res.details()));
      return;
    }
    rp.deliver(reply);
    if (reply.granted)
      sync(self, order);
  });
  return rp;
}

// The ledger's answer to block or consume for `order`: its error, or the
// units it moved once the WMS is on its way to follow.
caf::result<int64_t> follow(ext_ptr self, const order_id& order,
                            const ledger_outcome& res) {
  if (!res.ok())
    return make_error(res.error, res.message, res.details());
  sync(self, order);
  return res.quantity;
}

caf::result<int64_t> release(ext_ptr self, const order_id& order) {
  auto res = self->state.ledger.release(order);
  sync(self, order);
  return res.quantity;
}

caf::result<int64_t> reduce(ext_ptr self, const order_id& order,
                            int64_t remaining) {
  auto res = self->state.ledger.reduce(order, remaining);
  if (!res.ok())
    return make_error(res.error, res.message, res.details());
  sync(self, order);
  return res.quantity;
}

// A step of an order's return, reported to the WMS (each step names its
// outcome, so a repeat changes nothing there): units received, restocked or
// found damaged. Our count does not change: restocked units come back
// through the WMS's feed, once. Replies when the WMS acknowledged; the
// return's step is asked again if it did not.
caf::result<stock_view> report_return(ext_ptr self, const stock_change& c) {
  wms_call call;
  call.sku = self->state.sku;
  call.reservation = reservation_id(c.note, self->state.sku);
  call.return_id = call.reservation + ":" + c.return_id;
  call.quantity = c.quantity;
  switch (c.kind) {
    case stock_change_kind::customer_return:
      call.op = wms_op::return_receive;
      break;
    case stock_change_kind::return_aside:
      call.op = wms_op::return_restock;
      break;
    case stock_change_kind::reclassify:
      call.op = wms_op::return_damaged;
      break;
    default:
      return read_only();
  }
  if (c.note.empty() || c.return_id.empty())
    return make_error(errc::validation_failed,
                      "a return's change names its order and return");
  auto rp = self->make_response_promise<stock_view>();
  self->request(self->state.gateway, caf::infinite, atom::call_v, call)
      .then(
          [=](wms_response& resp) mutable {
            if (resp.status == 200 || resp.status == 201) {
              rp.deliver(view(self));
              return;
            }
            log::warn("external.return_refused",
                      {{"sku", self->state.sku},
                       {"return", call.return_id},
                       {"op", to_string(call.op)},
                       {"status", int64_t{resp.status}},
                       {"body", resp.body}});
            auto code = wms_error_code(resp.body);
            auto what = std::string{to_string(call.op)} + " of " +
                        call.return_id + ": " + std::to_string(resp.status) +
                        " " + code;
            nlohmann::json details{{"wmsStatus", resp.status},
                                   {"wmsCode", code}};
            // The WMS has not shipped the reservation yet (our ship call
            // is still being retried): the step is asked again later.
            if (resp.status == 409 && code == "INVALID_STATE") {
              rp.deliver(make_error(
                  errc::wms_unavailable,
                  "the seller's warehouse has not shipped the units yet (" +
                      what + "): ask again once it has",
                  details.dump()));
              return;
            }
            rp.deliver(make_error(
                errc::conflict,
                "the seller's warehouse refused the return's " + what,
                details.dump()));
          },
          [=](caf::error& err) mutable { rp.deliver(err); });
  return rp;
}

// A change from the WMS feed: journaled, then counted until a snapshot
// reflects it.
caf::result<stock_view> apply_feed_change(ext_ptr self, const stock_change& c) {
  if (c.source == return_source && c.seller == seller::external)
    return report_return(self, c);
  if (c.seller != seller::external || c.wms_seq <= 0)
    return read_only();
  event ev;
  ev.kind = c.kind == stock_change_kind::receipt ? event_kind::stock_received
                                                 : event_kind::stock_adjusted;
  ev.at = now(self);
  ev.sku = self->state.sku;
  ev.quantity = c.quantity;
  ev.amount = c.wms_seq;
  ev.reason = c.note;
  ev.lot = c.lot;
  ev.inbox_id = c.event_id;
  ev.seller = seller::external;
  ev.fence = self->state.fence;
  auto rp = self->make_response_promise<stock_view>();
  self->request(self->state.ctx->journal, caf::infinite, atom::append_v,
                std::vector<event>{std::move(ev)})
      .then(
          [=](uint64_t) mutable {
            self->state.ledger.apply_delta(c.wms_seq, c.quantity);
            rp.deliver(view(self));
          },
          [=](caf::error& err) mutable {
            rp.deliver(
                make_error(errc::store_failure, "the change could not be made "
                                                "durable: " +
                                                    message_of(err)));
          });
  return rp;
}

// The retry timer of `generation` fired: every hold the WMS is behind on
// gets its next call (a stale timer does nothing).
void retry(ext_ptr self, uint64_t generation) {
  auto& st = self->state;
  if (generation != st.retry_generation)
    return;
  st.retry_armed = false;
  sync_all(self);
}

// The refresh timer of `generation` fired: read a new snapshot (a stale
// timer does nothing).
void refresh(ext_ptr self, uint64_t generation) {
  if (generation != self->state.read_generation)
    return;
  read_snapshot(self);
}

} // namespace

std::string reservation_id(const order_id& order, const sku_id& sku) {
  return order + ":" + sku;
}

external_sku_actor::behavior_type
external_sku(ext_ptr self, sku_id sku, context_ptr ctx,
             wms_gateway_actor gateway, supervisor_actor supervisor,
             external_ledger ledger, int64_t fence) {
  auto& st = self->state;
  st.sku = std::move(sku);
  st.ctx = std::move(ctx);
  st.gateway = std::move(gateway);
  st.supervisor = std::move(supervisor);
  st.ledger = std::move(ledger);
  st.fence = fence;
  // Restored holds the WMS is behind on, and a first snapshot.
  if (!st.ledger.out_of_sync().empty())
    with_snapshot(self, [=](const caf::error&) { sync_all(self); });
  return {
      // Always the error EXTERNAL_INVENTORY_READ_ONLY: the WMS owns the
      // stock.
      [=](atom::receive, int64_t, money) -> caf::result<stock_view> {
        return read_only();
      },
      // Likewise EXTERNAL_INVENTORY_READ_ONLY.
      [=](atom::price, money, uint64_t) -> caf::result<stock_view> {
        return read_only();
      },
      // Replies the counters once a snapshot is known. Errors: UNKNOWN_SKU
      // (the WMS does not know it), WMS_UNAVAILABLE.
      [=](atom::get) { return get_view(self); },
      // Replies the counters, the holds and what the ledger's checks find
      // wrong, as far as a snapshot is known.
      [=](atom::holds) {
        auto& ledger = self->state.ledger;
        return stock_snapshot{view(self), ledger.holds(),
                              ledger.check_invariants()};
      },
      // Replies whether our count grants the units (after a first snapshot);
      // a granted hold is then reserved at the WMS in the background.
      // Errors: VALIDATION_FAILED, INVALID_TRANSITION (hold released),
      // UNKNOWN_SKU, WMS_UNAVAILABLE (no snapshot).
      [=](atom::reserve, const order_id& order, int64_t quantity) {
        return reserve(self, order, quantity);
      },
      // Replies the units blocked; the WMS follows. Errors:
      // INVALID_TRANSITION (the order holds nothing here).
      [=](atom::block, const order_id& order) {
        return follow(self, order, self->state.ledger.block(order));
      },
      // Replies the units released (0 if none); the WMS follows. No errors.
      [=](atom::release, const order_id& order) {
        return release(self, order);
      },
      // Shrinks the hold to `remaining` (0 releases it) and replies the
      // units given back; the WMS's reservation is reduced in the
      // background. Errors: VALIDATION_FAILED (remaining < 0 or above the
      // hold).
      [=](atom::reduce, const order_id& order, int64_t remaining) {
        return reduce(self, order, remaining);
      },
      // Replies the units shipped (0 if already); the WMS follows. Errors:
      // INVALID_TRANSITION (the hold is only reserved).
      [=](atom::consume, const order_id& order, int64_t remaining) {
        if (remaining != 0)
          return caf::result<int64_t>{make_error(
              errc::validation_failed,
              "an EXTERNAL hold ships whole: the seller's warehouse ships a "
              "reservation whole",
              field_details("remaining"))};
        return follow(self, order, self->state.ledger.consume(order));
      },
      // Orders across shards are INTERNAL only (the EXTERNAL seller is not
      // served by a cluster). Errors: VALIDATION_FAILED.
      [=](atom::hold, const hold_change&) -> caf::result<hold_outcome> {
        return make_error(errc::validation_failed,
                          "an EXTERNAL SKU's holds follow its orders only");
      },
      // Replies the counters once the feed's change is journaled, or once
      // the WMS acknowledged a step of an order's return. Errors:
      // EXTERNAL_INVENTORY_READ_ONLY (neither), STORE_FAILURE,
      // WMS_UNAVAILABLE, CONFLICT (the WMS refused the return's step).
      [=](atom::apply, const stock_change& c) {
        return apply_feed_change(self, c);
      },
      // Timer: EXTERNAL stock has no batches of ours to expire.
      [=](atom::expire, uint64_t) {},
      // Timer: retry the WMS calls that are behind.
      [=](atom::retry, uint64_t generation) { retry(self, generation); },
      // Timer: read a fresh snapshot.
      [=](atom::read, uint64_t generation) { refresh(self, generation); },
      // Timer: a release the WMS did not know, sent again.
      [=](atom::lookup, const order_id& order) { release_again(self, order); },
  };
}

} // namespace oms
