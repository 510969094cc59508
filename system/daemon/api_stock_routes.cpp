// The API's routes for health, metrics, stock, the audit and the WMS.
#include <algorithm>

#include <caf/actor_registry.hpp>

#include "actors/inbox.hpp"
#include "actors/stock_ledger.hpp"
#include "messages/json.hpp"
#include "messages/wms_protocol.hpp"

#include "system/daemon/api_impl.hpp"
#include "system/daemon/store_check.hpp"
#include "system/daemon/webhook_duty.hpp"
#include "system/log.hpp"

namespace oms::daemon {

void api::impl::healthz(const call_ptr& c) {
  parse_query(c->req.query, {});
  reply(c, 200, json{{"status", "ok"}});
}

void api::impl::readyz(const call_ptr& c) {
  parse_query(c->req.query, {});
  // No token needed; with the admin's, the answer names the store. A wrong
  // token is throttled as on any route, so that this one is no faster way to
  // guess.
  std::optional<principal> who;
  if (auto token = bearer_token(c->req.authorization))
    who = tokens.authenticate(*token);
  if (!c->req.authorization.empty() && !who &&
      over_limit(c, "unauthenticated", "too many unauthenticated requests"))
    return;
  bool admin = who && who->admin;
  if (who)
    c->who = std::move(*who);
  if (draining)
    return fail(c, make_error(errc::not_ready, "omsd is stopping"));
  auto check = opts.check != nullptr ? opts.check->view() : store_check_view{};
  if (check.status == store_check_view::state::damaged) {
    // Which file and what SQLite found, to the admin only.
    json details{{"storeCheck", to_string(check.status)}};
    if (admin) {
      details["file"] = check.file;
      details["problems"] = check.problems;
    }
    return fail(c, make_error(errc::not_ready,
                              "the store failed its integrity check: stop "
                              "omsd, run omsd --check and restore the store "
                              "from a backup",
                              details.dump()));
  }
  auto self_ptr = shared_from_this();
  auto store = admin ? opts.store_description : std::string{};
  json store_check_json{{"status", to_string(check.status)}};
  if (check.status != store_check_view::state::off &&
      check.status != store_check_view::state::running)
    store_check_json["seconds"] = check.seconds;
  if (check.status == store_check_view::state::failed)
    store_check_json["error"] = check.problems.front();
  ask<journal_stats>(
      c, oms.journal(),
      [self_ptr, c, store, admin, store_check_json](journal_stats& js) {
        if (js.failing) {
          // Why, to the admin only: the error names the store.
          json details{{"failingSince", js.failing_since}};
          std::string why = "the journal's last commit failed; writes "
                            "answer STORE_FAILURE until one succeeds";
          if (admin) {
            details["lastError"] = js.last_error;
            why += ": " + js.last_error;
          }
          return self_ptr->fail(
              c, make_error(errc::not_ready, why, details.dump()));
        }
        json ready{{"status", "ready"}, {"lastSeq", js.last_seq}};
        if (admin) {
          ready["store"] = store;
          ready["storeCheck"] = store_check_json;
        }
        // Still ready (every other SKU sells), but the SKUs whose actor
        // stopped on a failure are named, with why.
        self_ptr->ask<std::vector<sku_fault>>(
            c, self_ptr->oms.supervisor(),
            [self_ptr, c, ready](std::vector<sku_fault>& faults) {
              auto answer = ready;
              if (!faults.empty()) {
                auto& list = answer["unavailableSkus"] = json::array();
                for (auto& f : faults)
                  list.push_back({{"sku", f.sku},
                                  {"reason", f.reason},
                                  {"since", format_timestamp(f.since)},
                                  {"seller", to_string(f.from)},
                                  {"restarting", f.restarting},
                                  {"failures", f.failures}});
              }
              self_ptr->reply(c, 200, answer);
            },
            atom::health_v);
      },
      atom::stats_v);
}

void api::impl::metrics_text(const call_ptr& c) {
  parse_query(c->req.query, {});
  auto self_ptr = shared_from_this();
  ask<journal_stats>(
      c, oms.journal(),
      [self_ptr, c](journal_stats& js) {
        auto& gateway = self_ptr->oms.ctx()->wms;
        if (!gateway)
          return self_ptr->send_metrics(c, js, nullptr);
        // The gateway's counters when it answers; the rest regardless.
        self_ptr->ask_or<wms_gateway_stats>(
            c, gateway,
            [self_ptr, c, js](wms_gateway_stats& ws) {
              self_ptr->send_metrics(c, js, &ws);
            },
            [self_ptr, c, js](const caf::error&) {
              self_ptr->send_metrics(c, js, nullptr);
            },
            atom::stats_v);
      },
      atom::stats_v);
}

void api::impl::send_metrics(const call_ptr& c, const journal_stats& js,
                             const wms_gateway_stats* wms) {
  auto self_ptr = shared_from_this();
  std::optional<wms_gateway_stats> ws;
  if (wms != nullptr)
    ws = *wms;
  auto render = [self_ptr, c, js, ws](uint64_t unavailable) {
    metrics::process_view pv;
    pv.ready = !self_ptr->draining;
    pv.customers = self_ptr->tokens.customers();
    pv.start_time_seconds = self_ptr->start_time;
    pv.skus_unavailable = unavailable;
    pv.actors = self_ptr->sys.registry().running();
    pv.event_streams =
        static_cast<uint64_t>(std::max(0, self_ptr->feed_streams.load()));
    pv.event_polls =
        static_cast<uint64_t>(std::max(0, self_ptr->feed_polls.load()));
    if (self_ptr->opts.webhooks != nullptr)
      if (auto here = self_ptr->opts.webhooks->here())
        pv.webhooks = here->counters(js.last_seq);
    if (self_ptr->opts.check != nullptr)
      pv.store_check = to_string(self_ptr->opts.check->view().status);
    if (self_ptr->opts.cluster != nullptr)
      pv.cluster =
          cluster_metrics(*self_ptr->opts.cluster, self_ptr->opts.peers,
                          self_ptr->opts.forwarder);
    http_response resp;
    resp.content_type = "text/plain; version=0.0.4; charset=utf-8";
    resp.body = self_ptr->stats.render(&js, pv, ws ? &*ws : nullptr);
    self_ptr->finish(c, std::move(resp));
  };
  ask_or<std::vector<sku_fault>>(
      c, oms.supervisor(),
      [render](std::vector<sku_fault>& faults) { render(faults.size()); },
      [render](const caf::error&) { render(0); }, atom::health_v);
}

void api::impl::inventory_receipt(const call_ptr& c) {
  parse_query(c->req.query, {});
  auto receipt = read_receipt(body(c), c->params[0], limits(), now_ms());
  auto& ch = receipt.change;
  ch.if_version = read_sku_if_match(c->req.if_match);
  auto from = receipt.from;
  // The EXTERNAL seller's stock is its WMS's: refused as before.
  if (from == seller::external)
    return ask<stock_view>(c, oms.supervisor(), respond<stock_view>(c, 200),
                           atom::receive_v, ch.sku, from, ch.quantity,
                           ch.unit_price);
  apply_change(c, ch, false);
}

void api::impl::inventory_change(const call_ptr& c) {
  parse_query(c->req.query, {});
  auto ch = read_change(body(c), c->params[0], limits().line_quantity_max,
                        limits().unit_price_max, now_ms());
  ch.if_version = read_sku_if_match(c->req.if_match);
  apply_change(c, ch, true);
}

void api::impl::inventory_get(const call_ptr& c) {
  auto q = parse_query(c->req.query, {"seller"});
  auto from = seller::internal;
  if (auto i = q.find("seller"); i != q.end())
    from = parse_seller_field(i->second, "seller");
  ask<stock_view>(c, oms.supervisor(), respond<stock_view>(c, 200), atom::get_v,
                  c->params[0], from);
}

void api::impl::inventory_holds(const call_ptr& c) {
  auto q = parse_query(c->req.query, {"seller"});
  auto from = seller::internal;
  if (auto i = q.find("seller"); i != q.end())
    from = parse_seller_field(i->second, "seller");
  auto self_ptr = shared_from_this();
  ask<inventory_actor>(
      c, oms.supervisor(),
      [self_ptr, c](inventory_actor& sku) {
        self_ptr->ask<stock_snapshot>(
            c, sku,
            [self_ptr, c](stock_snapshot& snap) {
              std::sort(snap.holds.begin(), snap.holds.end(),
                        [](const hold_view& x, const hold_view& y) {
                          return x.order < y.order;
                        });
              json holds = json::array();
              for (auto& h : snap.holds)
                holds.push_back({{"orderId", h.order},
                                 {"quantity", h.quantity},
                                 {"kind", to_string(h.kind)},
                                 {"lots", h.lots}});
              self_ptr->reply(c, 200,
                              json{{"sku", snap.view.sku},
                                   {"seller", to_string(snap.view.seller)},
                                   {"holds", std::move(holds)}});
            },
            atom::holds_v);
      },
      atom::find_sku_v, c->params[0], from);
}

void api::impl::inventory_price(const call_ptr& c) {
  parse_query(c->req.query, {});
  auto price = read_unit_price(body(c), limits());
  auto if_version = read_sku_if_match(c->req.if_match);
  auto self_ptr = shared_from_this();
  ask<inventory_actor>(
      c, oms.supervisor(),
      [self_ptr, c, price, if_version](inventory_actor& sku) {
        self_ptr->ask<stock_view>(c, sku, self_ptr->respond<stock_view>(c, 200),
                                  atom::price_v, price, if_version);
      },
      atom::find_sku_v, c->params[0], seller::internal);
}

void api::impl::inventory_list(const call_ptr& c) {
  auto q = parse_query(c->req.query, {"seller", "limit", "cursor"});
  auto from = seller::internal;
  if (auto i = q.find("seller"); i != q.end())
    from = parse_seller_field(i->second, "seller");
  auto limit = read_limit(q);
  ask<inventory_page>(c, oms.supervisor(), respond<inventory_page>(c, 200),
                      atom::list_v, from, limit, sku_id{q["cursor"]});
}

void api::impl::apply_change(const call_ptr& c, const stock_change& ch,
                             bool change_route) {
  auto self_ptr = shared_from_this();
  ask<inbox_result>(
      c, oms.supervisor(),
      [self_ptr, c, ch, change_route](inbox_result& res) {
        if (!res.stock.sku.empty())
          return self_ptr->answer_change(c, ch, std::move(res), change_route);
        // DUPLICATE and REJECTED carry no stock: show it as it is now (an
        // unknown SKU has none).
        auto first = std::move(res);
        self_ptr->ask_or<stock_view>(
            c, self_ptr->oms.supervisor(),
            [self_ptr, c, ch, first, change_route](stock_view& now) {
              auto with_stock = first;
              with_stock.stock = std::move(now);
              self_ptr->answer_change(c, ch, std::move(with_stock),
                                      change_route);
            },
            [self_ptr, c, ch, first, change_route](const caf::error&) {
              self_ptr->answer_change(c, ch, first, change_route);
            },
            atom::get_v, ch.sku, seller::internal);
      },
      atom::apply_v, ch);
}

void api::impl::answer_change(const call_ptr& c, const stock_change& ch,
                              inbox_result res, bool change_route) {
  if (res.outcome == inbox_outcome::applied)
    log::info("inventory.changed", {{"sku", ch.sku},
                                    {"kind", to_string(ch.kind)},
                                    {"quantity", ch.quantity},
                                    {"lot", ch.lot},
                                    {"event", ch.event_id}});
  if (change_route) {
    // A receipt that created the SKU: the only receipt it has had.
    auto created = res.outcome == inbox_outcome::applied &&
                   ch.kind == stock_change_kind::receipt &&
                   res.stock.received_total == ch.quantity;
    return reply(c, created ? 201 : 200, json(res),
                 {{"ETag", etag_of(res.stock.version)}});
  }
  auto j = res.stock.sku.empty() ? json::object() : json(res.stock);
  j["outcome"] = to_string(res.outcome);
  if (!res.event_id.empty())
    j["eventId"] = res.event_id;
  if (res.error_code != errc::none)
    j["error"] = {{"code", to_code(res.error_code)}, {"message", res.error}};
  reply(c, 200, j, {{"ETag", etag_of(res.stock.version)}});
}

void api::impl::audit(const call_ptr& c) {
  parse_query(c->req.query, {});
  ask<audit_report>(c, oms.supervisor(), respond<audit_report>(c, 200),
                    atom::audit_v);
}

void api::impl::wms_status(const call_ptr& c) {
  parse_query(c->req.query, {});
  auto& gateway = oms.ctx()->wms;
  if (!gateway)
    return fail(c, make_error(errc::wms_unavailable, "no WMS configured"));
  ask<wms_gateway_stats>(c, gateway, respond<wms_gateway_stats>(c, 200),
                         atom::stats_v);
}

} // namespace oms::daemon
