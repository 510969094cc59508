#include "actors/supervisor.hpp"

#include <chrono>
#include <memory>
#include <variant>

#include <nlohmann/json.hpp>

#include "actors/audit.hpp"
#include "actors/customer.hpp"
#include "actors/external_ledger.hpp"
#include "actors/ids.hpp"
#include "actors/inbox.hpp"
#include "actors/inventory.hpp"
#include "actors/order.hpp"
#include "actors/order_machine.hpp"
#include "actors/stock_ledger.hpp"
#include "actors/validation.hpp"
#include "messages/type_ids.hpp"
#include "system/log.hpp"

namespace oms {

namespace {

using supervisor_ptr = supervisor_actor::stateful_pointer<supervisor_state>;

// One audit's questions and answers. A collector of its own asks every SKU
// and every live order, a window at a time, without a timeout per request,
// and keeps one deadline for all. CAF 0.17 finds the handler of an answer,
// and the timeout of a request, by linear searches over the requester's
// pending requests: 200,000 requests in flight from one actor took minutes
// to answer. The supervisor stays free meanwhile.
using audit_collector_actor =
    caf::typed_actor<caf::replies_to<atom::audit>::with<audit_report>,
                     caf::reacts_to<atom::expire, uint64_t>>;

struct audit_collector_state {
  std::vector<std::pair<sku_id, inventory_actor>> skus;
  std::vector<order_actor> orders;
  caf::timespan deadline{};
  std::vector<char> sku_answered;
  size_t outstanding = 0;
  size_t in_flight = 0;
  size_t next_sku = 0;
  size_t next_order = 0;
  size_t orders_unanswered = 0;
  std::vector<stock_snapshot> snapshots;
  std::vector<order_record> live;
  std::vector<violation> failures;
  caf::typed_response_promise<audit_report> rp;
  bool finished = false;
};

using audit_collector_ptr =
    audit_collector_actor::stateful_pointer<audit_collector_state>;

void finish_audit(audit_collector_ptr self) {
  auto& st = self->state;
  if (st.finished)
    return;
  st.finished = true;
  auto report = audit_stock(st.snapshots, st.live);
  for (auto& v : st.failures)
    report.violations.push_back(std::move(v));
  auto waited = std::to_string(
      std::chrono::duration_cast<std::chrono::milliseconds>(st.deadline)
          .count());
  for (size_t i = 0; i < st.skus.size(); ++i)
    if (!st.sku_answered[i])
      report.violations.push_back(
          violation{st.skus[i].first,
                    "SKU actor did not answer within " + waited + " ms"});
  if (st.orders_unanswered > 0)
    report.violations.push_back(
        violation{{},
                  std::to_string(st.orders_unanswered) +
                      " live orders did not answer within " + waited +
                      " ms: their holds could not be checked"});
  st.rp.deliver(std::move(report));
  self->quit();
}

// At most this many questions in flight: CAF 0.17 finds the handler of an
// answer by a linear search over the actor's pending requests.
constexpr size_t audit_window = 128;

void ask_next(audit_collector_ptr self) {
  auto& st = self->state;
  auto arrive = [=] {
    --self->state.in_flight;
    if (--self->state.outstanding == 0)
      finish_audit(self);
    else
      ask_next(self);
  };
  while (st.in_flight < audit_window && st.next_sku < st.skus.size()) {
    auto i = st.next_sku++;
    ++st.in_flight;
    self->request(st.skus[i].second, caf::infinite, atom::holds_v)
        .then(
            [=](stock_snapshot& snap) {
              self->state.sku_answered[i] = 1;
              // A SKU whose first receipt never became durable is no SKU.
              if (snap.view.unit_price > 0)
                self->state.snapshots.push_back(std::move(snap));
              arrive();
            },
            [=](caf::error& err) {
              self->state.sku_answered[i] = 1;
              self->state.failures.push_back(
                  violation{self->state.skus[i].first,
                            "SKU actor did not answer: " + describe(err)});
              arrive();
            });
  }
  while (st.in_flight < audit_window && st.next_order < st.orders.size()) {
    auto& order = st.orders[st.next_order++];
    ++st.in_flight;
    self->request(order, caf::infinite, atom::get_v)
        .then(
            [=](order_record& rec) {
              --self->state.orders_unanswered;
              if (!is_terminal(rec.status))
                self->state.live.push_back(std::move(rec));
              arrive();
            },
            // An order that ended meanwhile holds nothing.
            [=](caf::error&) {
              --self->state.orders_unanswered;
              arrive();
            });
  }
}

audit_collector_actor::behavior_type
audit_collector(audit_collector_ptr self,
                std::vector<std::pair<sku_id, inventory_actor>> skus,
                std::vector<order_actor> orders, caf::timespan deadline) {
  auto& st = self->state;
  st.skus = std::move(skus);
  st.orders = std::move(orders);
  st.deadline = deadline;
  st.sku_answered.assign(st.skus.size(), 0);
  return {
      [=](atom::audit) -> caf::result<audit_report> {
        auto& st = self->state;
        st.rp = self->make_response_promise<audit_report>();
        st.outstanding = st.skus.size() + st.orders.size();
        st.orders_unanswered = st.orders.size();
        ask_next(self);
        self->delayed_send(self, st.deadline, atom::expire_v, uint64_t{0});
        return st.rp;
      },
      [=](atom::expire, uint64_t) { finish_audit(self); },
  };
}

caf::error no_wms() {
  return make_error(errc::wms_unavailable,
                    "no gateway to the EXTERNAL seller's WMS is configured");
}

caf::error order_not_found(const order_id& id) {
  nlohmann::json details{{"orderId", id}};
  return make_error(errc::order_not_found, "no order " + id, details.dump());
}

caf::error unknown_sku(const sku_id& sku) {
  nlohmann::json details{{"skus", {sku}}};
  return make_error(errc::unknown_sku, "unknown SKU " + sku, details.dump());
}

// The actor of an EXTERNAL SKU, spawned on first use.
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

// The SKU's actor for a change, spawning it for a receipt of a new SKU.
caf::expected<inventory_actor> actor_for_change(supervisor_ptr self,
                                                const stock_change& c) {
  auto& st = self->state;
  if (auto p = check_id("sku", c.sku, st.ctx->settings.limits))
    return to_error(*p);
  if (c.seller == seller::external) {
    if (!st.ctx->wms)
      return no_wms();
    return inventory_actor{external_actor(self, c.sku)};
  }
  if (auto i = st.skus.find(c.sku); i != st.skus.end())
    return i->second;
  if (c.kind != stock_change_kind::receipt)
    return unknown_sku(c.sku);
  // Refuse bad input before a new SKU actor exists.
  auto chk = stock_ledger{}.check_receive(c.quantity, c.unit_price);
  if (!chk.ok())
    return make_error(chk.error, chk.message);
  auto handle = self->spawn(inventory, c.sku, st.ctx);
  self->monitor(handle);
  st.skus.emplace(c.sku, handle);
  return handle;
}

void start_inbox(supervisor_ptr self, std::vector<std::string> done) {
  auto& st = self->state;
  st.inbox =
      self->spawn(oms::inbox, st.ctx, caf::actor_cast<supervisor_actor>(self),
                  std::move(done));
}

// Rebuilds the EXTERNAL SKUs' holds from the live orders and what the WMS
// acknowledged, and their feed changes not yet in a snapshot; each SKU's
// actor then brings the WMS in step (reserve, block, ship, release).
void restore_external(supervisor_ptr self, const recovered_state& recovered) {
  auto& st = self->state;
  std::map<sku_id, external_ledger> ledgers;
  auto ledger_of = [&](const sku_id& sku) -> external_ledger& {
    auto i = ledgers.find(sku);
    if (i == ledgers.end())
      i = ledgers
              .emplace(sku,
                       external_ledger{st.ctx->settings.external.safety_buffer})
              .first;
    return i->second;
  };
  for (auto& rec : recovered.live_orders) {
    if (rec.seller != seller::external)
      continue;
    for (auto& line : rec.lines) {
      auto qty = held_quantity(rec, line);
      if (qty <= 0)
        continue;
      external_hold h;
      h.order = rec.id;
      h.quantity = qty;
      h.wanted = rec.status == order_status::created ? wms_state::reserved
                                                     : wms_state::blocked;
      ledger_of(line.sku).restore_hold(std::move(h));
    }
  }
  for (auto& row : recovered.wms_reservations) {
    auto& ledger = ledger_of(row.sku);
    auto pos = row.state.find('>');
    wms_state known = wms_state::none;
    wms_state wanted = wms_state::released;
    parse_wms_state(row.state.substr(0, pos), known);
    bool intent = pos != std::string::npos &&
                  parse_wms_state(row.state.substr(pos + 1), wanted);
    external_hold h;
    if (auto* live = ledger.find(row.order)) {
      h = *live; // the live order says what it wants
    } else {
      h.order = row.order;
      h.quantity = row.quantity;
      // No live hold: the order ended; ship if that was asked, else release.
      h.wanted = intent && wanted == wms_state::shipped ? wms_state::shipped
                                                        : wms_state::released;
    }
    h.known = known;
    h.reserve_seq = row.wms_seq;
    h.requested = true;
    ledger.restore_hold(std::move(h));
  }
  for (auto& d : recovered.external_deltas)
    ledger_of(d.sku).restore_delta(d.wms_seq, d.quantity);
  if (!ledgers.empty() && !st.ctx->wms) {
    log::warn("supervisor.external_without_wms",
              {{"skus", uint64_t{ledgers.size()}}});
    return;
  }
  for (auto& [sku, ledger] : ledgers)
    external_actor(self, sku, std::move(ledger));
}

void start_feed(supervisor_ptr self, const recovered_state& recovered) {
  auto& st = self->state;
  if (!st.ctx->wms || st.ctx->settings.external.feed_interval.count() <= 0)
    return;
  std::string cursor;
  for (auto& [source, value] : recovered.cursors)
    if (source == "wms")
      cursor = value;
  st.feed = self->spawn(wms_feed, st.ctx,
                        caf::actor_cast<supervisor_actor>(self), cursor);
}

} // namespace

supervisor_actor::behavior_type supervisor(supervisor_ptr self,
                                           context_ptr ctx) {
  self->state.ctx = std::move(ctx);
  if (!self->state.inbox)
    start_inbox(self, {});
  self->set_down_handler([=](caf::down_msg& msg) {
    auto& st = self->state;
    if (auto i = st.order_of.find(msg.source); i != st.order_of.end()) {
      st.orders.erase(i->second);
      st.order_of.erase(i);
      return;
    }
    for (auto i = st.external.begin(); i != st.external.end(); ++i)
      if (i->second.address() == msg.source) {
        log::error("supervisor.external_sku_down",
                   {{"sku", i->first}, {"reason", to_string(msg.reason)}});
        st.external.erase(i);
        return;
      }
    for (auto i = st.skus.begin(); i != st.skus.end(); ++i)
      if (i->second.address() == msg.source) {
        // A SKU actor only dies through a bug; its units are in the journal.
        log::error("supervisor.sku_down",
                   {{"sku", i->first}, {"reason", to_string(msg.reason)}});
        st.skus.erase(i);
        return;
      }
  });
  self->set_exit_handler([=](caf::exit_msg& msg) {
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
  });
  return {
      [=](atom::receive, const sku_id& sku, seller from, int64_t quantity,
          money unit_price) -> caf::result<stock_view> {
        auto& st = self->state;
        if (from == seller::external)
          return make_error(
              errc::external_inventory_read_only,
              "the EXTERNAL seller's stock is managed in its WMS");
        if (auto p = check_id("sku", sku, st.ctx->settings.limits))
          return to_error(*p);
        auto i = st.skus.find(sku);
        if (i == st.skus.end()) {
          // Refuse bad input before a new SKU actor exists.
          auto chk = stock_ledger{}.check_receive(quantity, unit_price);
          if (!chk.ok())
            return make_error(chk.error, chk.message);
          auto handle = self->spawn(inventory, sku, st.ctx);
          self->monitor(handle);
          i = st.skus.emplace(sku, handle).first;
        }
        return self->delegate(i->second, atom::receive_v, quantity, unit_price);
      },
      [=](atom::apply, const stock_change& c) -> caf::result<inbox_result> {
        auto& st = self->state;
        if (!c.event_id.empty())
          return self->delegate(st.inbox, atom::apply_v, c);
        if (c.seller == seller::external)
          return make_error(
              errc::external_inventory_read_only,
              "the EXTERNAL seller's stock is managed in its WMS");
        auto handle = actor_for_change(self, c);
        if (!handle)
          return std::move(handle.error());
        auto rp = self->make_response_promise<inbox_result>();
        self->request(*handle, caf::infinite, atom::apply_v, c)
            .then(
                [rp](stock_view& v) mutable {
                  inbox_result res;
                  res.outcome = "APPLIED";
                  res.stock = std::move(v);
                  rp.deliver(std::move(res));
                },
                [rp](caf::error& err) mutable { rp.deliver(err); });
        return rp;
      },
      [=](atom::put, const stock_change& c) -> caf::result<stock_view> {
        auto handle = actor_for_change(self, c);
        if (!handle)
          return std::move(handle.error());
        return self->delegate(*handle, atom::apply_v, c);
      },
      [=](atom::get, const sku_id& sku,
          seller from) -> caf::result<stock_view> {
        auto& st = self->state;
        if (auto p = check_id("sku", sku, st.ctx->settings.limits))
          return to_error(*p);
        if (from == seller::external) {
          if (!st.ctx->wms)
            return no_wms();
          return self->delegate(external_actor(self, sku), atom::get_v);
        }
        auto i = st.skus.find(sku);
        if (i == st.skus.end())
          return unknown_sku(sku);
        return self->delegate(i->second, atom::get_v);
      },
      [=](atom::list, seller from, uint32_t limit,
          const sku_id& cursor) -> caf::result<inventory_page> {
        auto& st = self->state;
        if (limit < 1 || limit > 100)
          return make_error(errc::validation_failed,
                            "limit must be between 1 and 100");
        if (from == seller::external && !st.ctx->wms)
          return no_wms();
        // EXTERNAL: the SKUs this system has dealt with (the WMS lists none).
        std::vector<std::pair<sku_id, inventory_actor>> page;
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
        // Ask every SKU of the page at once; answer when all have replied.
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
          self->request(page[k].second, st.ctx->settings.request_timeout,
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
      },
      [=](atom::find_sku, const sku_id& sku) -> caf::result<inventory_actor> {
        auto& st = self->state;
        auto i = st.skus.find(sku);
        if (i == st.skus.end())
          return unknown_sku(sku);
        return i->second;
      },
      [=](atom::create,
          create_order_request& req) -> caf::result<created_order> {
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
            handles.push_back(inventory_actor{external_actor(self, item.sku)});
            continue;
          }
          auto i = st.skus.find(item.sku);
          if (i == st.skus.end())
            unknown.push_back(item.sku);
          else
            handles.push_back(i->second);
        }
        if (!unknown.empty()) {
          nlohmann::json details{{"skus", unknown}};
          return make_error(errc::unknown_sku,
                            "unknown SKU(s) for seller INTERNAL",
                            details.dump());
        }
        // Time-ordered: the store appends the order's rows instead of
        // scattering them over its indexes.
        auto id = time_ordered_id(
            "ord_", static_cast<uint64_t>(st.ctx->now(self->clock())));
        auto me = caf::actor_cast<supervisor_actor>(self);
        auto handle = self->spawn<caf::lazy_init>(order, id, st.ctx, me);
        self->monitor(handle);
        st.order_of.emplace(handle.address(), id);
        st.orders.emplace(id, handle);
        return self->delegate(handle, atom::create_v, std::move(req),
                              std::move(handles));
      },
      [=](atom::apply, const order_id& id,
          order_command& cmd) -> caf::result<order_record> {
        auto& st = self->state;
        if (auto i = st.orders.find(id); i != st.orders.end()) {
          auto msg = to_order_message(std::move(cmd));
          if (!msg)
            return std::move(msg.error());
          return std::visit(
              [&](auto& m) -> caf::result<order_record> {
                return self->delegate(i->second, std::move(m));
              },
              *msg);
        }
        // A terminal order: its final record is in the store, and the
        // transition table refuses every command on it.
        auto rp = self->make_response_promise<order_record>();
        self->request(st.ctx->journal, caf::infinite, atom::get_v, id)
            .then(
                [=](order_record& rec) mutable {
                  if (!cmd.customer.empty() && cmd.customer != rec.customer) {
                    rp.deliver(order_not_found(id));
                    return;
                  }
                  rp.deliver(to_error(transition_error(rec, cmd.kind)));
                },
                [=](caf::error& err) mutable { rp.deliver(err); });
        return rp;
      },
      [=](atom::get, const order_id& id) -> caf::result<order_record> {
        auto& st = self->state;
        if (auto i = st.orders.find(id); i != st.orders.end())
          return self->delegate(i->second, atom::get_v);
        return self->delegate(st.ctx->journal, atom::get_v, id);
      },
      [=](atom::find_order, const order_id& id) -> caf::result<order_actor> {
        auto& st = self->state;
        if (auto i = st.orders.find(id); i != st.orders.end())
          return i->second;
        return order_not_found(id);
      },
      [=](atom::customer,
          const customer_id& id) -> caf::result<customer_actor> {
        auto& st = self->state;
        if (auto p = check_id("customerId", id, st.ctx->settings.limits))
          return to_error(*p);
        auto i = st.customers.find(id);
        if (i == st.customers.end()) {
          auto me = caf::actor_cast<supervisor_actor>(self);
          auto handle = self->spawn(oms::customer, id, st.ctx, me);
          i = st.customers.emplace(id, handle).first;
        }
        return i->second;
      },
      [=](atom::archive, order_record& rec) {
        // The order is no longer live; its down message, which follows,
        // clears order_of. (Forgetting the address here made that down
        // message fall through to the scan over every SKU actor, once per
        // finished order.)
        self->state.orders.erase(rec.id);
      },
      [=](atom::audit) -> caf::result<audit_report> {
        auto& st = self->state;
        if (st.skus.empty() && st.orders.empty())
          return audit_stock({}, {});
        std::vector<std::pair<sku_id, inventory_actor>> skus(st.skus.begin(),
                                                             st.skus.end());
        std::vector<order_actor> orders;
        orders.reserve(st.orders.size());
        for (auto& kvp : st.orders)
          orders.push_back(kvp.second);
        auto collector =
            self->spawn(audit_collector, std::move(skus), std::move(orders),
                        caf::timespan{st.ctx->settings.request_timeout});
        return self->delegate(collector, atom::audit_v);
      },
  };
}

supervisor_actor::behavior_type
restored_supervisor(supervisor_ptr self, context_ptr ctx,
                    std::shared_ptr<const recovered_state> recovered) {
  self->state.ctx = ctx;
  start_inbox(self, recovered->inbox_ids);
  auto behavior = supervisor(self, ctx);
  auto& st = self->state;
  auto now = st.ctx->now(self->clock());
  std::unordered_map<sku_id, std::vector<hold_view>> holds;
  for (auto& h : recovered->holds)
    holds[h.sku].push_back(hold_view{h.order, h.quantity, h.kind, h.lots});
  for (auto& sku : recovered->skus) {
    std::vector<lot_state> lots;
    for (auto& b : sku.batches) {
      lot_state l;
      l.lot = b.lot;
      l.expires_at = b.expires_at;
      l.received_at = b.received_at;
      l.on_hand = b.on_hand;
      for (size_t i = 0;
           i < b.unallocatable.size() && i < unallocatable_reason_count; ++i)
        l.unallocatable[i] = b.unallocatable[i];
      lots.push_back(std::move(l));
    }
    // A SKU stored before batches existed has its units in the batch "".
    int64_t in_lots = 0;
    for (auto& l : lots)
      in_lots += l.on_hand;
    if (sku.on_hand > in_lots) {
      lot_state l;
      l.on_hand = sku.on_hand - in_lots;
      lots.push_back(std::move(l));
    }
    stock_ledger ledger;
    ledger.restore(sku.unit_price, sku.received_total, sku.consumed_total,
                   sku.adjusted_total, std::move(lots), holds[sku.sku], now);
    auto handle =
        self->spawn(restored_inventory, sku.sku, st.ctx, std::move(ledger));
    self->monitor(handle);
    st.skus.emplace(sku.sku, handle);
  }
  restore_external(self, *recovered);
  start_feed(self, *recovered);
  auto me = caf::actor_cast<supervisor_actor>(self);
  for (auto& rec : recovered->live_orders) {
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
    auto handle =
        self->spawn(restored_order, rec, std::move(handles), st.ctx, me);
    self->monitor(handle);
    st.order_of.emplace(handle.address(), id);
    st.orders.emplace(id, handle);
  }
  log::info("supervisor.recovered",
            {{"skus", uint64_t{recovered->skus.size()}},
             {"live_orders", uint64_t{recovered->live_orders.size()}},
             {"orders", recovered->total_orders},
             {"last_seq", recovered->last_seq}});
  return behavior;
}

} // namespace oms
