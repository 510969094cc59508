// The SUPERVISOR's behaviour: the registry of SKU and customer actors, what
// it relays to them, its down and exit handling, and the audit. Orders are in
// supervisor_orders.cpp, resting ones in supervisor_rest.cpp.
#include "actors/supervisor.hpp"

#include <memory>
#include <optional>

#include "actors/audit.hpp"
#include "actors/audit_collector.hpp"
#include "actors/customer.hpp"
#include "actors/external_ledger.hpp"
#include "actors/inbox.hpp"
#include "actors/inventory.hpp"
#include "actors/stock_ledger.hpp"
#include "actors/supervisor_steps.hpp"
#include "actors/validation.hpp"
#include "messages/type_ids.hpp"
#include "system/log.hpp"

namespace oms {

namespace supervisor_steps {

external_sku_actor external_actor(supervisor_ptr self, const sku_id& sku,
                                  external_ledger ledger) {
  auto& st = self->state;
  if (auto i = st.external.find(sku); i != st.external.end())
    return i->second;
  auto handle = self->spawn(external_sku, sku, st.ctx, st.ctx->wms,
                            caf::actor_cast<supervisor_actor>(self),
                            std::move(ledger), external_epoch(st));
  self->monitor(handle);
  st.external.emplace(sku, handle);
  return handle;
}

external_sku_actor external_actor(supervisor_ptr self, const sku_id& sku) {
  return external_actor(
      self, sku,
      external_ledger{self->state.ctx->settings.external.safety_buffer});
}

void start_inbox(supervisor_ptr self,
                 std::vector<std::pair<std::string, timestamp_ms>> done) {
  auto& st = self->state;
  st.inbox =
      self->spawn(oms::inbox, st.ctx, caf::actor_cast<supervisor_actor>(self),
                  std::move(done));
}

caf::error no_wms() {
  return make_error(errc::wms_unavailable,
                    "no gateway to the EXTERNAL seller's WMS is configured");
}

} // namespace supervisor_steps

using namespace supervisor_steps;

namespace {

// The SKU's actor for a change, spawning it for a receipt of a new SKU.
caf::expected<inventory_actor> actor_for_change(supervisor_ptr self,
                                                const stock_change& c) {
  auto& st = self->state;
  if (auto p = check_id("sku", c.sku, st.ctx->settings.limits))
    return to_error(*p);
  if (c.seller == seller::external) {
    // (Not served here: the duty shard's holder has a WMS, if any has.)
    if (auto err = sku_gate(st, c.seller, c.sku))
      return err;
    if (!st.ctx->wms)
      return no_wms();
    auto h = live_external(self, c.sku);
    if (!h)
      return std::move(h.error());
    return inventory_actor{*h};
  }
  if (auto err = sku_gate(st, c.sku))
    return err;
  if (auto i = st.skus.find(c.sku); i != st.skus.end())
    return i->second;
  if (c.kind != stock_change_kind::receipt ||
      sku_down(st, c.sku, seller::internal))
    return missing_sku(self, c.sku, seller::internal);
  // Refuse bad input before a new SKU actor exists.
  auto chk = stock_ledger{st.ctx->settings.limits.unit_price_max}.check_receive(
      c.quantity, c.unit_price);
  if (!chk.ok())
    return make_error(chk.error, chk.message, chk.details());
  auto handle = self->spawn(inventory, c.sku, st.ctx, epoch_of(st, c.sku));
  self->monitor(handle);
  st.skus.emplace(c.sku, handle);
  return handle;
}

caf::error external_read_only() {
  return make_error(errc::external_inventory_read_only,
                    "the EXTERNAL seller's stock is managed in its WMS");
}

// Forgets the SKU actor at `source` among `actors`, if it is one of them,
// and returns its SKU.
template <class Actors>
std::optional<sku_id> forget_sku(Actors& actors, const caf::down_msg& msg,
                                 const char* event) {
  for (auto i = actors.begin(); i != actors.end(); ++i)
    if (i->second.address() == msg.source) {
      log::error(event, {{"sku", i->first}, {"reason", to_string(msg.reason)}});
      auto sku = i->first;
      actors.erase(i);
      return sku;
    }
  return std::nullopt;
}

// Forgets an order, customer or SKU actor that went down. An order or an
// INTERNAL SKU that stopped on a failure is restarted.
void on_down(supervisor_ptr self, caf::down_msg& msg) {
  auto& st = self->state;
  if (auto i = st.order_of.find(msg.source); i != st.order_of.end()) {
    auto id = i->second;
    st.order_of.erase(i);
    // An archived or resting order is no longer in `orders` (it ended as it
    // should), or has a new actor there already (woken).
    auto j = st.orders.find(id);
    if (j == st.orders.end() || j->second.handle.address() != msg.source)
      return;
    st.orders.erase(j);
    if (msg.reason && msg.reason != caf::exit_reason::normal)
      restart_order(self, id, msg.reason);
    return;
  }
  if (auto i = st.customer_at.find(msg.source); i != st.customer_at.end()) {
    // An idle customer ends normally (see customer_state::active).
    if (msg.reason && msg.reason != caf::exit_reason::normal)
      log::error("supervisor.customer_down",
                 {{"customer", i->second}, {"reason", to_string(msg.reason)}});
    st.customers.erase(i->second);
    st.customer_at.erase(i);
    return;
  }
  if (auto sku = forget_sku(st.external, msg, "supervisor.external_sku_down")) {
    sku_failed(self, *sku, seller::external, msg.reason);
    return;
  }
  if (auto sku = forget_sku(st.skus, msg, "supervisor.sku_failed"))
    sku_failed(self, *sku, seller::internal, msg.reason);
}

// Takes every actor it spawned down with it.
void on_exit(supervisor_ptr self, caf::exit_msg& msg) {
  auto& st = self->state;
  for (auto& kvp : st.orders)
    self->send_exit(kvp.second.handle, msg.reason);
  for (auto& kvp : st.skus)
    self->send_exit(kvp.second, msg.reason);
  for (auto& kvp : st.customers)
    self->send_exit(kvp.second, msg.reason);
  if (st.inbox)
    self->send_exit(st.inbox, msg.reason);
  for (auto& kvp : st.external)
    self->send_exit(kvp.second, msg.reason);
  if (st.feed)
    self->send_exit(st.feed, msg.reason);
  self->quit(msg.reason);
}

caf::result<stock_view> receive_stock(supervisor_ptr self, const sku_id& sku,
                                      seller from, int64_t quantity,
                                      money unit_price) {
  auto& st = self->state;
  if (from == seller::external)
    return external_read_only();
  if (auto p = check_id("sku", sku, st.ctx->settings.limits))
    return to_error(*p);
  if (auto err = sku_gate(st, sku))
    return err;
  auto i = st.skus.find(sku);
  if (i == st.skus.end() && sku_down(st, sku, seller::internal))
    return missing_sku(self, sku, seller::internal);
  if (i == st.skus.end()) {
    // Refuse bad input before a new SKU actor exists.
    auto chk =
        stock_ledger{st.ctx->settings.limits.unit_price_max}.check_receive(
            quantity, unit_price);
    if (!chk.ok())
      return make_error(chk.error, chk.message, chk.details());
    auto handle = self->spawn(inventory, sku, st.ctx, epoch_of(st, sku));
    self->monitor(handle);
    i = st.skus.emplace(sku, handle).first;
  }
  return self->delegate(i->second, atom::receive_v, quantity, unit_price);
}

caf::result<inbox_result> apply_change(supervisor_ptr self,
                                       const stock_change& c) {
  auto& st = self->state;
  if (!c.event_id.empty())
    return self->delegate(st.inbox, atom::apply_v, c);
  if (c.seller == seller::external)
    return external_read_only();
  auto handle = actor_for_change(self, c);
  if (!handle)
    return std::move(handle.error());
  auto rp = self->make_response_promise<inbox_result>();
  self->request(*handle, caf::infinite, atom::apply_v, c)
      .then(
          [rp](stock_view& v) mutable {
            inbox_result res;
            res.outcome = inbox_outcome::applied;
            res.stock = std::move(v);
            rp.deliver(std::move(res));
          },
          [rp](caf::error& err) mutable { rp.deliver(err); });
  return rp;
}

caf::result<stock_view> get_stock(supervisor_ptr self, const sku_id& sku,
                                  seller from) {
  auto& st = self->state;
  if (auto p = check_id("sku", sku, st.ctx->settings.limits))
    return to_error(*p);
  if (from == seller::external) {
    if (auto err = sku_gate(st, from, sku))
      return err;
    if (!st.ctx->wms)
      return no_wms();
    auto h = live_external(self, sku);
    if (!h)
      return std::move(h.error());
    return self->delegate(*h, atom::get_v);
  }
  if (auto err = sku_gate(st, sku))
    return err;
  auto i = st.skus.find(sku);
  if (i == st.skus.end())
    return missing_sku(self, sku, seller::internal);
  return self->delegate(i->second, atom::get_v);
}

using sku_page = std::vector<std::pair<sku_id, inventory_actor>>;

// Asks every SKU of the page at once; answers when all have replied.
caf::result<inventory_page> ask_page(supervisor_ptr self, const sku_page& page,
                                     inventory_page result) {
  struct gather {
    inventory_page result;
    size_t pending = 0;
    bool failed = false;
  };
  auto g = std::make_shared<gather>();
  g->result = std::move(result);
  g->result.items.resize(page.size());
  g->pending = page.size();
  auto rp = self->make_response_promise<inventory_page>();
  for (size_t k = 0; k < page.size(); ++k)
    self->request(page[k].second, self->state.ctx->settings.request_timeout,
                  atom::get_v)
        .then(
            [g, rp, k](stock_view& v) mutable {
              if (g->failed)
                return;
              g->result.items[k] = std::move(v);
              if (--g->pending == 0)
                rp.deliver(std::move(g->result));
            },
            [g, rp](caf::error& err) mutable {
              if (g->failed)
                return;
              g->failed = true;
              rp.deliver(std::move(err));
            });
  return rp;
}

caf::result<inventory_page> list_skus(supervisor_ptr self, seller from,
                                      uint32_t limit, const sku_id& cursor) {
  auto& st = self->state;
  if (limit < 1 || limit > 100)
    return make_error(errc::validation_failed,
                      "limit must be between 1 and 100",
                      field_details("limit"));
  // (A cluster's EXTERNAL SKUs are listed by the duty shard's holder.)
  if (from == seller::external)
    if (auto err = sku_gate(st, from, sku_id{}))
      return err;
  if (from == seller::external && !st.ctx->wms)
    return no_wms();
  // EXTERNAL: the SKUs this system has dealt with (the WMS lists none).
  sku_page page;
  inventory_page result;
  auto collect = [&](auto& skus) {
    auto i = cursor.empty() ? skus.begin() : skus.upper_bound(cursor);
    for (; i != skus.end() && page.size() < limit; ++i)
      page.emplace_back(i->first, inventory_actor{i->second});
    if (i != skus.end() && !page.empty())
      result.next_cursor = page.back().first;
  };
  if (from == seller::external)
    collect(st.external);
  else
    collect(st.skus);
  if (page.empty())
    return result;
  return ask_page(self, page, std::move(result));
}

caf::result<customer_actor> customer_of(supervisor_ptr self,
                                        const customer_id& id) {
  auto& st = self->state;
  if (auto p = check_id("customerId", id, st.ctx->settings.limits))
    return to_error(*p);
  auto i = st.customers.find(id);
  if (i == st.customers.end()) {
    auto me = caf::actor_cast<supervisor_actor>(self);
    auto handle = self->spawn(oms::customer, id, st.ctx, me);
    self->monitor(handle);
    st.customer_at.emplace(handle.address(), id);
    i = st.customers.emplace(id, handle).first;
  }
  return i->second;
}

caf::result<audit_report> audit(supervisor_ptr self) {
  auto& st = self->state;
  if (st.skus.empty() && st.external.empty() && st.orders.empty() &&
      st.dormant.empty())
    return audit_stock({}, {});
  sku_page skus(st.skus.begin(), st.skus.end());
  // EXTERNAL SKUs too: our holds against the orders, and their own checks
  // of what the WMS acknowledged.
  for (auto& [sku, handle] : st.external)
    skus.emplace_back(sku, inventory_actor{handle});
  std::vector<std::pair<order_id, order_actor>> orders;
  orders.reserve(st.orders.size() + st.dormant.size());
  for (auto& kvp : st.orders)
    orders.emplace_back(kvp.first, kvp.second.handle);
  for (auto& id : st.dormant)
    orders.emplace_back(id, order_actor{});
  auto collector = self->spawn(audit_collector, std::move(skus),
                               std::move(orders), st.ctx->journal,
                               caf::timespan{st.ctx->settings.request_timeout});
  return self->delegate(collector, atom::audit_v);
}

} // namespace

supervisor_actor::behavior_type supervisor(supervisor_ptr self,
                                           context_ptr ctx) {
  self->state.ctx = std::move(ctx);
  if (self->state.ctx->shards)
    self->state.shard_generation.assign(self->state.ctx->shards->count(), 0);
  if (!self->state.inbox)
    start_inbox(self, {});
  self->set_down_handler([=](caf::down_msg& msg) { on_down(self, msg); });
  self->set_exit_handler([=](caf::exit_msg& msg) { on_exit(self, msg); });
  start_sweeps(self);
  return {
      [=](atom::receive, const sku_id& sku, seller from, int64_t quantity,
          money unit_price) {
        return receive_stock(self, sku, from, quantity, unit_price);
      },
      [=](atom::apply, const stock_change& c) { return apply_change(self, c); },
      [=](atom::apply, stock_change& c, bool route) {
        return change_at_owner(self, std::move(c), route);
      },
      [=](atom::put, const stock_change& c) -> caf::result<stock_view> {
        auto handle = actor_for_change(self, c);
        if (!handle)
          return std::move(handle.error());
        return self->delegate(*handle, atom::apply_v, c);
      },
      [=](atom::get, const sku_id& sku, seller from) {
        return get_stock(self, sku, from);
      },
      [=](atom::list, seller from, uint32_t limit, const sku_id& cursor) {
        return list_skus(self, from, limit, cursor);
      },
      [=](atom::find_sku, const sku_id& sku,
          seller from) -> caf::result<inventory_actor> {
        if (from == seller::internal)
          if (auto err = sku_gate(self->state, sku))
            return err;
        return find_sku(self, sku, from);
      },
      [=](atom::hold, const sku_id& sku, hold_change& change, bool route) {
        return hold_at_owner(self, sku, change, route);
      },
      [=](atom::create, create_order_request& req) {
        return create_order(self, req);
      },
      [=](atom::create, create_order_request& req, bool route) {
        return create_at_owner(self, req, route);
      },
      [=](atom::find_sku, const sku_id& sku, seller from, bool route) {
        return sku_at_owner(self, sku, from, route);
      },
      [=](atom::apply, const order_id& id, order_command& cmd) {
        return apply_command(self, id, cmd);
      },
      [=](atom::apply, const order_id& id, return_command& cmd) {
        return apply_return(self, id, std::move(cmd));
      },
      [=](atom::get, const order_id& id) { return get_order(self, id); },
      [=](atom::find_order, const order_id& id) {
        return find_order(self, id);
      },
      [=](atom::customer, const customer_id& id) {
        return customer_of(self, id);
      },
      [=](atom::archive, order_record& rec) {
        // The order is no longer live; its down message, which follows,
        // clears order_of. (Forgetting the address here made that down
        // message fall through to the scan over every SKU actor, once per
        // finished order.)
        self->state.orders.erase(rec.id);
        self->state.order_shard.erase(rec.id);
        forget_hold(self->state, rec.id);
      },
      [=](atom::audit) { return audit(self); },
      [=](atom::health) { return sku_health(self->state); },
      [=](atom::restart, const sku_id& sku, seller from) {
        restart_sku(self, sku, from);
      },
      [=](atom::arm, const order_id& id, uint64_t generation,
          timestamp_ms due) { arm_hold(self, id, generation, due); },
      [=](atom::tick, uint64_t tick) { expire_due_holds(self, tick); },
      [=](atom::dormant, const order_id& id, order_status status,
          timestamp_ms hold_due) { order_rests(self, id, status, hold_due); },
      [=](atom::purge, uint64_t cursor) { sweep_orders(self, cursor); },
      [=](atom::adopt, const shard_epochs& which) {
        adopt_shards(self, which);
      },
      [=](atom::disown, const shard_epochs& which) {
        disown_shards(self, which);
      },
  };
}

} // namespace oms
