#include "actors/inventory.hpp"

#include "messages/type_ids.hpp"
#include "system/log.hpp"

namespace oms {

namespace {

using inventory_ptr = inventory_actor::stateful_pointer<inventory_state>;

caf::error to_error(const ledger_outcome& x) {
  return make_error(x.error, x.message);
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

// Journals `events`, then runs `apply` and replies the new view. Waits for
// the journal before handling anything else, so that changes apply in the
// order they were journaled.
template <class Apply>
caf::result<stock_view>
journal_then_apply(inventory_ptr self, std::vector<event> events, Apply apply) {
  auto rp = self->make_response_promise<stock_view>();
  self->request(self->state.ctx->journal, caf::infinite, atom::append_v,
                std::move(events))
      .await(
          [=](uint64_t) mutable {
            apply();
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

} // namespace

inventory_actor::behavior_type inventory(inventory_ptr self, sku_id sku,
                                         context_ptr ctx) {
  self->state.sku = std::move(sku);
  self->state.ctx = std::move(ctx);
  return {
      [=](atom::receive, int64_t quantity,
          money unit_price) -> caf::result<stock_view> {
        auto& ledger = self->state.ledger;
        if (auto chk = ledger.check_receive(quantity, unit_price); !chk.ok())
          return to_error(chk);
        std::vector<event> events;
        if (!ledger.defined())
          events.push_back(
              stock_event(self, event_kind::sku_created, 0, unit_price));
        else if (unit_price > 0 && unit_price != ledger.unit_price())
          events.push_back(
              stock_event(self, event_kind::price_set, 0, unit_price));
        events.push_back(
            stock_event(self, event_kind::stock_received, quantity, 0));
        return journal_then_apply(self, std::move(events), [=] {
          self->state.ledger.receive(quantity, unit_price);
        });
      },
      [=](atom::price, money unit_price) -> caf::result<stock_view> {
        if (auto chk = self->state.ledger.check_price(unit_price); !chk.ok())
          return to_error(chk);
        std::vector<event> events{
            stock_event(self, event_kind::price_set, 0, unit_price)};
        return journal_then_apply(self, std::move(events), [=] {
          self->state.ledger.set_price(unit_price);
        });
      },
      [=](atom::get) -> caf::result<stock_view> {
        if (!self->state.ledger.defined())
          return make_error(errc::unknown_sku,
                            "unknown SKU " + self->state.sku);
        return view(self);
      },
      [=](atom::holds) {
        return stock_snapshot{view(self), self->state.ledger.holds()};
      },
      [=](atom::reserve, const order_id& order,
          int64_t quantity) -> caf::result<reserve_reply> {
        reserve_reply reply;
        auto res = self->state.ledger.reserve(order, quantity, reply);
        if (!res.ok())
          return to_error(res);
        return reply;
      },
      [=](atom::block, const order_id& order) -> caf::result<int64_t> {
        auto res = self->state.ledger.block(order);
        if (!res.ok())
          return to_error(res);
        return res.quantity;
      },
      [=](atom::release, const order_id& order) -> caf::result<int64_t> {
        return self->state.ledger.release(order).quantity;
      },
      [=](atom::reduce, const order_id& order,
          int64_t remaining) -> caf::result<int64_t> {
        auto res = self->state.ledger.reduce(order, remaining);
        if (!res.ok())
          return to_error(res);
        return res.quantity;
      },
      [=](atom::consume, const order_id& order) -> caf::result<int64_t> {
        auto res = self->state.ledger.consume(order);
        if (!res.ok())
          return to_error(res);
        return res.quantity;
      },
  };
}

inventory_actor::behavior_type restored_inventory(inventory_ptr self,
                                                  sku_id sku, context_ptr ctx,
                                                  stock_ledger ledger) {
  self->state.ledger = std::move(ledger);
  return inventory(self, std::move(sku), std::move(ctx));
}

} // namespace oms
