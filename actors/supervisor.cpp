// The SUPERVISOR's behaviour: the registry of SKU, order and customer
// actors, what it relays to them, and the audit.
#include "actors/supervisor.hpp"

#include <memory>
#include <optional>
#include <variant>

#include <nlohmann/json.hpp>

#include "actors/audit.hpp"
#include "actors/audit_collector.hpp"
#include "actors/customer.hpp"
#include "actors/external_ledger.hpp"
#include "actors/ids.hpp"
#include "actors/inbox.hpp"
#include "actors/inventory.hpp"
#include "actors/order.hpp"
#include "actors/order_machine.hpp"
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
  auto handle =
      self->spawn(external_sku, sku, st.ctx, st.ctx->wms,
                  caf::actor_cast<supervisor_actor>(self), std::move(ledger));
  self->monitor(handle);
  st.external.emplace(sku, handle);
  return handle;
}

external_sku_actor external_actor(supervisor_ptr self, const sku_id& sku) {
  return external_actor(
      self, sku,
      external_ledger{self->state.ctx->settings.external.safety_buffer});
}

void adopt_order(supervisor_ptr self, order_record rec) {
  auto& st = self->state;
  std::vector<inventory_actor> handles;
  for (auto& line : rec.lines) {
    if (rec.seller == seller::external) {
      auto i = st.external.find(line.sku);
      handles.push_back(i == st.external.end() ? inventory_actor{}
                                               : inventory_actor{i->second});
      continue;
    }
    auto i = st.skus.find(line.sku);
    handles.push_back(i == st.skus.end() ? inventory_actor{} : i->second);
  }
  auto id = rec.id;
  auto me = caf::actor_cast<supervisor_actor>(self);
  auto activity = std::make_shared<order_activity>();
  auto handle = self->spawn(restored_order, std::move(rec), std::move(handles),
                            st.ctx, me, activity);
  self->monitor(handle);
  st.order_of.emplace(handle.address(), id);
  st.orders.emplace(id, handle);
  st.activity.emplace(id, std::move(activity));
}

void start_inbox(supervisor_ptr self,
                 std::vector<std::pair<std::string, timestamp_ms>> done) {
  auto& st = self->state;
  st.inbox =
      self->spawn(oms::inbox, st.ctx, caf::actor_cast<supervisor_actor>(self),
                  std::move(done));
}

caf::error order_not_found(const order_id& id) {
  nlohmann::json details{{"orderId", id}};
  return make_error(errc::order_not_found, "no order " + id, details.dump());
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
    if (!st.ctx->wms)
      return no_wms();
    auto h = live_external(self, c.sku);
    if (!h)
      return std::move(h.error());
    return inventory_actor{*h};
  }
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
  auto handle = self->spawn(inventory, c.sku, st.ctx);
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
    if (j == st.orders.end() || j->second.address() != msg.source)
      return;
    st.orders.erase(j);
    st.activity.erase(id);
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
    self->send_exit(kvp.second, msg.reason);
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
    auto handle = self->spawn(inventory, sku, st.ctx);
    self->monitor(handle);
    i = st.skus.emplace(sku, handle).first;
  }
  return self->delegate(i->second, atom::receive_v, quantity, unit_price);
}

// An order's record: from its actor while it lives, else from the journal.
// The actor may end (archive, quit) before it reads the request; its final
// record is durable by then, so the journal answers instead of a
// request_receiver_down the caller could only retry.
caf::result<order_record> get_order(supervisor_ptr self, const order_id& id) {
  auto& st = self->state;
  auto i = st.orders.find(id);
  if (i == st.orders.end())
    return self->delegate(st.ctx->journal, atom::get_v, id);
  auto rp = self->make_response_promise<order_record>();
  self->request(i->second, caf::infinite, atom::get_v)
      .then([rp](order_record& rec) mutable { rp.deliver(std::move(rec)); },
            [self, rp, id](caf::error& err) mutable {
              if (err != caf::sec::request_receiver_down) {
                rp.deliver(std::move(err));
                return;
              }
              self->request(self->state.ctx->journal, caf::infinite,
                            atom::get_v, id)
                  .then(
                      [rp](order_record& rec) mutable {
                        rp.deliver(std::move(rec));
                      },
                      [rp](caf::error& err) mutable { rp.deliver(err); });
            });
  return rp;
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
    if (!st.ctx->wms)
      return no_wms();
    auto h = live_external(self, sku);
    if (!h)
      return std::move(h.error());
    return self->delegate(*h, atom::get_v);
  }
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

caf::result<created_order> create_order(supervisor_ptr self,
                                        create_order_request& req) {
  auto& st = self->state;
  if (auto p = check_create_order(req, st.ctx->settings.limits))
    return to_error(*p);
  std::vector<inventory_actor> handles;
  handles.reserve(req.items.size());
  std::vector<sku_id> unknown;
  auto from = req.items.front().seller;
  if (from == seller::external && !st.ctx->wms)
    return no_wms();
  for (auto& item : req.items) {
    if (from == seller::external) {
      // Unknown at the WMS shows when the SKU's actor reads it.
      auto h = live_external(self, item.sku);
      if (!h)
        return std::move(h.error());
      handles.push_back(inventory_actor{*h});
      continue;
    }
    auto i = st.skus.find(item.sku);
    if (i != st.skus.end())
      handles.push_back(i->second);
    else if (sku_down(st, item.sku, seller::internal))
      return missing_sku(self, item.sku, seller::internal);
    else
      unknown.push_back(item.sku);
  }
  if (!unknown.empty()) {
    nlohmann::json details{{"skus", unknown}};
    return make_error(errc::unknown_sku, "unknown SKU(s) for seller INTERNAL",
                      details.dump());
  }
  // Time-ordered: the store appends the order's rows instead of scattering
  // them over its indexes.
  auto id = time_ordered_id("ord_",
                            static_cast<uint64_t>(st.ctx->now(self->clock())));
  auto me = caf::actor_cast<supervisor_actor>(self);
  auto activity = std::make_shared<order_activity>();
  auto handle = self->spawn<caf::lazy_init>(order, id, st.ctx, me, activity);
  self->monitor(handle);
  st.order_of.emplace(handle.address(), id);
  st.orders.emplace(id, handle);
  st.activity.emplace(id, std::move(activity));
  return self->delegate(handle, atom::create_v, std::move(req),
                        std::move(handles));
}

// A live order's actor gets the command as its own message. A terminal
// order's final record is in the store, and the transition table refuses
// every command on it.
// Answers a command from the order's durable record: a terminal order
// refuses every command (INVALID_TRANSITION), another customer's order does
// not exist for the caller. A live record means the order's actor is being
// restarted: with `ended`, request_receiver_down (retry) is the answer.
void answer_from_record(supervisor_ptr self,
                        caf::typed_response_promise<order_record> rp,
                        const order_id& id, const customer_id& customer,
                        command_kind kind, bool ended) {
  self->request(self->state.ctx->journal, caf::infinite, atom::get_v, id)
      .then(
          [=](order_record& rec) mutable {
            if (!customer.empty() && customer != rec.customer)
              rp.deliver(order_not_found(id));
            else if (!is_terminal(rec.status) && ended)
              rp.deliver(caf::make_error(caf::sec::request_receiver_down));
            else
              rp.deliver(to_error(transition_error(rec, kind)));
          },
          [=](caf::error& err) mutable { rp.deliver(err); });
}

// Sends the command to the order's actor, waking it if it rests. An actor
// that ended as the command reached it either rested (then it is woken and
// asked again, a few times at most) or ended the order (then its final
// record answers).
void send_command(supervisor_ptr self,
                  caf::typed_response_promise<order_record> rp,
                  const order_id& id, const customer_id& customer,
                  command_kind kind, order_message msg, int attempt) {
  with_live_order(self, id, [=](caf::expected<order_actor> handle) mutable {
    if (!handle) {
      // Woken, it had ended (or was gone): its record answers.
      if (code_of(handle.error()) == errc::order_not_found)
        answer_from_record(self, rp, id, customer, kind, false);
      else
        rp.deliver(handle.error());
      return;
    }
    request_order(self, *handle, caf::infinite, msg)
        .then([rp](order_record& rec) mutable { rp.deliver(std::move(rec)); },
              [=](caf::error& err) mutable {
                if (err != caf::sec::request_receiver_down) {
                  rp.deliver(std::move(err));
                  return;
                }
                // It rested (and may have been woken again meanwhile: the
                // bounce can come after the new actor's start).
                auto& st = self->state;
                if ((rests(st, id) || st.orders.count(id) > 0) && attempt < 3) {
                  send_command(self, rp, id, customer, kind, std::move(msg),
                               attempt + 1);
                  return;
                }
                answer_from_record(self, rp, id, customer, kind, true);
              });
  });
}

// A live order's actor gets the command as its own message. A terminal
// order's final record is in the store, and the transition table refuses
// every command on it; so is the record of an order whose actor ended just
// as the command reached it.
caf::result<order_record> apply_command(supervisor_ptr self, const order_id& id,
                                        order_command& cmd) {
  auto& st = self->state;
  if (st.orders.count(id) == 0 && !rests(st, id)) {
    auto rp = self->make_response_promise<order_record>();
    answer_from_record(self, rp, id, cmd.customer, cmd.kind, false);
    return rp;
  }
  auto customer = cmd.customer;
  auto kind = cmd.kind;
  // Refused before a promise exists: once one is made, CAF drops the error
  // returned instead of delivering it.
  auto msg = to_order_message(std::move(cmd));
  if (!msg)
    return std::move(msg.error());
  auto rp = self->make_response_promise<order_record>();
  send_command(self, rp, id, customer, kind, std::move(*msg), 0);
  return rp;
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
  if (st.skus.empty() && st.orders.empty() && st.dormant.empty())
    return audit_stock({}, {});
  sku_page skus(st.skus.begin(), st.skus.end());
  std::vector<std::pair<order_id, order_actor>> orders;
  orders.reserve(st.orders.size() + st.dormant.size());
  for (auto& kvp : st.orders)
    orders.emplace_back(kvp.first, kvp.second);
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
      [=](atom::find_sku, const sku_id& sku, seller from) {
        return find_sku(self, sku, from);
      },
      [=](atom::create, create_order_request& req) {
        return create_order(self, req);
      },
      [=](atom::apply, const order_id& id, order_command& cmd) {
        return apply_command(self, id, cmd);
      },
      [=](atom::get, const order_id& id) { return get_order(self, id); },
      [=](atom::find_order, const order_id& id) -> caf::result<order_actor> {
        auto& st = self->state;
        if (auto i = st.orders.find(id); i != st.orders.end())
          return i->second;
        if (!rests(st, id))
          return order_not_found(id);
        auto rp = self->make_response_promise<order_actor>();
        with_live_order(self, id,
                        [rp](caf::expected<order_actor> handle) mutable {
                          if (handle)
                            rp.deliver(std::move(*handle));
                          else
                            rp.deliver(handle.error());
                        });
        return rp;
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
        self->state.activity.erase(rec.id);
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
  };
}

} // namespace oms
