// The SUPERVISOR's part in a cluster's orders across shards
// (docs/cluster.md, "Orders across shards"): a change of an order's hold on
// a SKU of another shard goes to that SKU's actor when this node serves
// the shard, else to the region of the node that holds it, whose
// SUPERVISOR makes it there (never routing it again).
#include <caf/send.hpp>

#include "actors/supervisor_steps.hpp"
#include "messages/type_ids.hpp"

namespace oms::supervisor_steps {

namespace {

// A change of a SKU of `from` on a shard the node does not serve: sent
// (if `route`) to the region of the node that holds it, whose answer
// within the request timeout is this one's; NOT_OWNER when there is no
// route.
template <class Result, class... Ts>
caf::result<Result> at_owner_region(supervisor_ptr self, seller from,
                                    const sku_id& sku, bool route, Ts&&... xs) {
  auto& st = self->state;
  auto& map = *st.ctx->shards;
  auto shard = map.shard_of(from, sku);
  auto region = route ? map.region_for(shard) : region_actor{};
  if (!region)
    return shard_map::not_owner(shard, "sku", sku);
  auto rp = self->make_response_promise<Result>();
  self->request(region, st.ctx->settings.request_timeout,
                std::forward<Ts>(xs)...)
      .then([rp](Result& res) mutable { rp.deliver(std::move(res)); },
            [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
  return rp;
}

} // namespace

caf::result<hold_outcome> hold_at_owner(supervisor_ptr self, const sku_id& sku,
                                        hold_change& change, bool route) {
  auto& st = self->state;
  if (change.op == hold_op::lapse || change.op == hold_op::watch ||
      change.op == hold_op::check)
    return make_error(errc::validation_failed,
                      "a SKU's own timers are not asked for");
  auto* map = st.ctx->shards.get();
  if (map == nullptr || map->serves(map->shard_of(sku))) {
    auto i = st.skus.find(sku);
    if (i == st.skus.end())
      return missing_sku(self, sku, seller::internal);
    return self->delegate(i->second, atom::hold_v, std::move(change));
  }
  return at_owner_region<hold_outcome>(self, seller::internal, sku, route,
                                       atom::hold_v, sku, std::move(change));
}

caf::result<inbox_result> change_at_owner(supervisor_ptr self, stock_change c,
                                          bool route) {
  auto& st = self->state;
  auto* map = st.ctx->shards.get();
  if (map == nullptr || c.event_id.empty() ||
      map->serves(map->shard_of(c.seller, c.sku)))
    return self->delegate(st.inbox, atom::apply_v, std::move(c));
  auto from = c.seller;
  auto sku = c.sku;
  return at_owner_region<inbox_result>(self, from, sku, route, atom::apply_v,
                                       std::move(c));
}

caf::result<stock_reader_actor>
sku_at_owner(supervisor_ptr self, const sku_id& sku, seller from, bool route) {
  auto* map = self->state.ctx->shards.get();
  if (map == nullptr || map->serves(map->shard_of(from, sku))) {
    // The SKU's actor here, as find_sku answers it (it may wait for a
    // restart): asked of this SUPERVISOR in turn.
    auto rp = self->make_response_promise<stock_reader_actor>();
    self->request(caf::actor_cast<supervisor_actor>(self), caf::infinite,
                  atom::find_sku_v, sku, from)
        .then(
            [rp](inventory_actor& sku_actor) mutable {
              rp.deliver(stock_reader_actor{sku_actor});
            },
            [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
    return rp;
  }
  return at_owner_region<stock_reader_actor>(self, from, sku, route,
                                             atom::find_sku_v, sku, from);
}

caf::result<created_order>
create_at_owner(supervisor_ptr self, create_order_request& req, bool route) {
  auto* map = self->state.ctx->shards.get();
  if (map == nullptr || req.items.empty() ||
      map->serves(
          map->shard_of(req.items.front().seller, req.items.front().sku)))
    return create_order(self, req);
  auto from = req.items.front().seller;
  auto first = req.items.front().sku;
  return at_owner_region<created_order>(self, from, first, route,
                                        atom::create_v, std::move(req));
}

void watch_off_shard_holds(supervisor_ptr self, const sku_id& sku,
                           const std::vector<hold_state>& holds) {
  auto& st = self->state;
  if (!st.ctx->shards)
    return;
  auto i = st.skus.find(sku);
  if (i == st.skus.end())
    return;
  auto shard = st.ctx->shards->shard_of(sku);
  for (auto& h : holds) {
    auto j = st.order_shard.find(h.order);
    if (j == st.order_shard.end() || j->second != shard)
      caf::anon_send(i->second, atom::hold_v,
                     hold_change{hold_op::watch, h.order, 0});
  }
}

} // namespace oms::supervisor_steps
