// The API's routes for customers, their carts and orders.
#include "actors/ids.hpp"
#include "actors/shard_map.hpp"
#include "messages/json.hpp"
#include "system/daemon/api_impl.hpp"
#include "system/log.hpp"

namespace oms::daemon {

void api::impl::customer_create(const call_ptr& c) {
  parse_query(c->req.query, {});
  auto name = read_new_customer(body(c));
  auto token = new_token();
  customer_record rec{random_id("cus_"), name, sha256_hex(token), now_ms()};
  event ev;
  ev.kind = event_kind::customer_created;
  ev.at = rec.created_at;
  ev.customer = rec;
  auto self_ptr = shared_from_this();
  ask<uint64_t>(
      c, oms.journal(),
      [self_ptr, c, rec, token](uint64_t) {
        self_ptr->tokens.add(rec);
        log::info("customer.created", {{"customer", rec.id}});
        self_ptr->reply(c, 201,
                        json{{"customerId", rec.id},
                             {"name", rec.name},
                             {"token", token},
                             {"createdAt", format_timestamp(rec.created_at)}});
      },
      atom::append_v, std::vector<event>{ev});
}

void api::impl::customer_get(const call_ptr& c) {
  parse_query(c->req.query, {});
  auto cid = own_customer(c);
  auto rec = tokens.find(cid);
  reply(c, 200,
        json{{"customerId", rec->id},
             {"name", rec->name},
             {"createdAt", format_timestamp(rec->created_at)}});
}

bool api::impl::at_cart_home(const call_ptr& c, const customer_id& cid) {
  auto& shards = oms.ctx()->shards;
  if (!shards || opts.cluster == nullptr)
    return true;
  auto s = shards->shard_of(cid);
  if (shards->serves(s))
    return true;
  fail(c, shard_map::not_owner(s, "customerId", cid));
  return false;
}

void api::impl::cart_get(const call_ptr& c) {
  parse_query(c->req.query, {});
  auto cid = own_customer(c);
  if (at_cart_home(c, cid))
    ask_customer<cart_view>(c, cid, 200, atom::get_v);
}

void api::impl::cart_put(const call_ptr& c) {
  parse_query(c->req.query, {});
  auto cid = own_customer(c);
  auto line = read_cart_line(body(c), limits());
  auto sku = c->params[1];
  if (at_cart_home(c, cid))
    ask_customer<cart_view>(c, cid, 200, atom::put_v, sku, line.quantity,
                            line.from);
}

void api::impl::cart_delete(const call_ptr& c) {
  auto q = parse_query(c->req.query, {"seller"});
  auto cid = own_customer(c);
  auto sku = c->params[1];
  auto from = seller::internal;
  if (auto i = q.find("seller"); i != q.end())
    from = parse_seller_field(i->second, "seller");
  if (at_cart_home(c, cid))
    ask_customer<cart_view>(c, cid, 200, atom::remove_v, sku, from);
}

void api::impl::cart_checkout(const call_ptr& c) {
  parse_query(c->req.query, {});
  auto cid = own_customer(c);
  auto fields = read_checkout(body(c), limits());
  auto key = idempotency_key(c);
  if (at_cart_home(c, cid))
    ask_customer<order_record>(c, cid, 201, atom::checkout_v, fields.ship_to,
                               fields.skus, key, fields.from,
                               fields.seller_given);
}

void api::impl::customer_orders(const call_ptr& c) {
  auto q = parse_query(c->req.query, {"limit", "cursor"});
  auto cid = own_customer(c);
  auto limit = read_limit(q);
  auto cursor = q["cursor"];
  ask_customer<order_page>(c, cid, 200, atom::list_v, limit, cursor);
}

void api::impl::order_create(const call_ptr& c) {
  parse_query(c->req.query, {});
  auto j = body(c);
  auto given = read_order_customer(j);
  customer_id cid;
  if (c->who.admin) {
    if (!given)
      invalid("customerId", "is required");
    cid = *given;
  } else {
    cid = given.value_or(c->who.customer);
    // Another customer is answered as if it did not exist.
    if (cid != c->who.customer)
      throw bad_input{errc::not_found, "no customer " + cid,
                      json{{"customerId", cid}}};
  }
  if (!tokens.find(cid))
    throw bad_input{errc::not_found, "no customer " + cid,
                    json{{"customerId", cid}}};
  auto req = read_new_order(j, limits());
  req.customer = cid;
  auto key = idempotency_key(c);
  ask_customer<order_record>(c, cid, 201, atom::create_v, req, key);
}

void api::impl::order_search(const call_ptr& c) {
  auto q = parse_query(c->req.query,
                       {"status", "sku", "customerId", "seller", "createdFrom",
                        "createdTo", "limit", "cursor"});
  auto query = read_order_query(q, limits());
  auto self_ptr = shared_from_this();
  ask<order_hits>(
      c, oms.journal_reads(),
      [self_ptr, c](order_hits& hits) {
        order_page page;
        page.orders = std::move(hits.orders);
        if (hits.next > 0)
          page.next_cursor = std::to_string(hits.next);
        self_ptr->reply(c, 200, json(page));
      },
      atom::search_v, query);
}

void api::impl::order_get(const call_ptr& c) {
  parse_query(c->req.query, {});
  auto self_ptr = shared_from_this();
  with_order(c, c->params[0], [self_ptr, c](order_record& rec) {
    self_ptr->respond<order_record>(c, 200)(rec);
  });
}

void api::impl::order_patch(const call_ptr& c) {
  parse_query(c->req.query, {});
  auto j = body(c);
  auto cmd = read_status_change(j);
  if (cmd.kind != command_kind::cancel && !c->who.admin)
    throw bad_input{errc::forbidden, "only the admin may set status " +
                                         j["status"].get<std::string>()};
  apply_command(c, c->params[0], std::move(cmd));
}

void api::impl::order_confirm(const call_ptr& c) {
  order_step(c, command_kind::confirm);
}

void api::impl::order_ship(const call_ptr& c) {
  order_step(c, command_kind::ship);
}

void api::impl::order_shipment(const call_ptr& c) {
  parse_query(c->req.query, {});
  auto cmd = read_shipment(body(c), limits());
  cmd.client_key = idempotency_key(c);
  apply_command(c, c->params[0], std::move(cmd));
}

void api::impl::order_deliver(const call_ptr& c) {
  order_step(c, command_kind::deliver);
}

void api::impl::order_step(const call_ptr& c, command_kind kind) {
  parse_query(c->req.query, {});
  order_command cmd;
  cmd.kind = kind;
  cmd.reason = read_reason(body(c, true));
  apply_command(c, c->params[0], std::move(cmd));
}

void api::impl::order_cancel(const call_ptr& c) {
  parse_query(c->req.query, {});
  auto cmd = read_cancel(body(c, true), limits());
  apply_command(c, c->params[0], std::move(cmd));
}

void api::impl::order_pay(const call_ptr& c) {
  parse_query(c->req.query, {});
  auto offer = read_payment(body(c));
  auto amount = offer.amount;
  auto token = offer.token;
  auto key = idempotency_key(c);
  auto oid = c->params[0];
  if (key.empty()) {
    order_command cmd;
    cmd.kind = command_kind::pay;
    cmd.amount = amount;
    cmd.token = token;
    return apply_command(c, oid, std::move(cmd));
  }
  // Keys are scoped to the order's customer. The version is checked with
  // the first request of a key only: a repeat answers what that one did.
  auto if_version = read_if_match(c->req.if_match);
  auto self_ptr = shared_from_this();
  with_order(
      c, oid,
      [self_ptr, c, oid, amount, token, key, if_version](order_record& rec) {
        self_ptr->ask_customer<order_record>(c, rec.customer, 200, atom::pay_v,
                                             oid, amount, token, key,
                                             if_version);
      });
}

void api::impl::return_step_to(const call_ptr& c, const order_id& id,
                               return_command cmd, int status) {
  cmd.if_version = read_if_match(c->req.if_match);
  if (!c->who.admin)
    cmd.customer = c->who.customer;
  auto self_ptr = shared_from_this();
  with_order(c, id, [self_ptr, c, id, cmd, status](order_record&) {
    self_ptr->ask<order_record>(
        c, self_ptr->oms.supervisor(),
        [self_ptr, c, cmd, status](order_record& rec) {
          const order_return* found = nullptr;
          for (auto& r : rec.returns)
            if (cmd.step == return_step::request
                    ? (!cmd.client_key.empty() &&
                       r.client_key == cmd.client_key)
                    : r.id == cmd.return_id)
              found = &r;
          if (!found && !rec.returns.empty())
            found = &rec.returns.back();
          if (!found)
            return self_ptr->fail(
                c, make_error(errc::internal, "the return is not recorded"));
          json body = *found;
          body["orderId"] = rec.id;
          body["order"] = order_json(rec);
          self_ptr->reply(
              c, status, body,
              {{"ETag", "\"" + std::to_string(rec.version) + "\""}});
        },
        atom::apply_v, id, cmd);
  });
}

void api::impl::return_request(const call_ptr& c) {
  parse_query(c->req.query, {});
  auto cmd = read_return_request(body(c), limits());
  cmd.client_key = idempotency_key(c);
  return_step_to(c, c->params[0], std::move(cmd), 201);
}

void api::impl::return_receive(const call_ptr& c) {
  parse_query(c->req.query, {});
  if (auto j = body(c, true); !j.is_null())
    only(j, {}, "");
  return_command cmd;
  cmd.step = return_step::receive;
  cmd.return_id = c->params[1];
  return_step_to(c, c->params[0], std::move(cmd), 200);
}

void api::impl::return_inspect(const call_ptr& c) {
  parse_query(c->req.query, {});
  auto cmd = read_return_inspection(body(c), limits());
  cmd.return_id = c->params[1];
  return_step_to(c, c->params[0], std::move(cmd), 200);
}

void api::impl::return_reject(const call_ptr& c) {
  parse_query(c->req.query, {});
  return_command cmd;
  cmd.step = return_step::reject;
  cmd.reason = read_reject_reason(body(c));
  cmd.return_id = c->params[1];
  return_step_to(c, c->params[0], std::move(cmd), 200);
}

void api::impl::apply_command(const call_ptr& c, const order_id& id,
                              order_command cmd) {
  // Checked by the order's actor itself, so no change comes in between.
  cmd.if_version = read_if_match(c->req.if_match);
  auto self_ptr = shared_from_this();
  with_order(c, id, [self_ptr, c, id, cmd](order_record&) {
    self_ptr->ask<order_record>(c, self_ptr->oms.supervisor(),
                                self_ptr->respond<order_record>(c, 200),
                                atom::apply_v, id, cmd);
  });
}

} // namespace oms::daemon
