// The API's routes for customers, their carts and orders.
#include "actors/ids.hpp"
#include "messages/json.hpp"
#include "system/daemon/api_impl.hpp"
#include "system/log.hpp"

namespace oms::daemon {

void api::impl::customer_create(const call_ptr& c) {
  parse_query(c->req.query, {});
  auto j = body(c);
  only(j, {"name"}, "");
  auto name = *get_str(j, "name", true, 200);
  if (name.find_first_not_of(" \t\r\n") == std::string::npos)
    invalid("name", "must not be blank");
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

void api::impl::cart_get(const call_ptr& c) {
  parse_query(c->req.query, {});
  ask_customer<cart_view>(c, own_customer(c), 200, atom::get_v);
}

void api::impl::cart_put(const call_ptr& c) {
  parse_query(c->req.query, {});
  auto cid = own_customer(c);
  auto j = body(c);
  only(j, {"quantity"}, "");
  auto qty = *get_int(j, "quantity", true, 1, limits().line_quantity_max);
  auto sku = c->params[1];
  ask_customer<cart_view>(c, cid, 200, atom::put_v, sku, qty);
}

void api::impl::cart_delete(const call_ptr& c) {
  parse_query(c->req.query, {});
  auto cid = own_customer(c);
  auto sku = c->params[1];
  ask_customer<cart_view>(c, cid, 200, atom::remove_v, sku);
}

void api::impl::cart_checkout(const call_ptr& c) {
  parse_query(c->req.query, {});
  auto cid = own_customer(c);
  auto j = body(c);
  only(j, {"address", "skus"}, "");
  auto ship_to = get_address(j, "address", true);
  std::vector<sku_id> skus;
  if (auto i = j.find("skus"); i != j.end() && !i->is_null()) {
    if (!i->is_array())
      invalid("skus", "must be an array of SKUs");
    if (i->size() > limits().lines_per_order_max)
      invalid("skus", "must have at most " +
                          std::to_string(limits().lines_per_order_max) +
                          " SKUs");
    for (auto& s : *i) {
      if (!s.is_string())
        invalid("skus", "must be an array of SKUs");
      skus.push_back(s.get<std::string>());
    }
  }
  auto key = idempotency_key(c);
  ask_customer<order_record>(c, cid, 201, atom::checkout_v, ship_to, skus, key);
}

void api::impl::customer_orders(const call_ptr& c) {
  auto q = parse_query(c->req.query, {"limit", "cursor"});
  auto cid = own_customer(c);
  auto limit = limit_param(q);
  auto cursor = q["cursor"];
  ask_customer<order_page>(c, cid, 200, atom::list_v, limit, cursor);
}

void api::impl::order_create(const call_ptr& c) {
  parse_query(c->req.query, {});
  auto j = body(c);
  only(j, {"customerId", "seller", "items", "address"}, "");
  customer_id cid;
  // An empty id names no customer at all: bad input, not an unknown one.
  if (auto given = get_str(j, "customerId", false, 64); given && given->empty())
    invalid("customerId", "must not be empty");
  if (c->who.admin) {
    cid = *get_str(j, "customerId", true, 64);
  } else {
    cid = get_str(j, "customerId", false, 64).value_or(c->who.customer);
    // Another customer is answered as if it did not exist.
    if (cid != c->who.customer)
      throw bad_input{errc::not_found, "no customer " + cid,
                      json{{"customerId", cid}}};
  }
  if (!tokens.find(cid))
    throw bad_input{errc::not_found, "no customer " + cid,
                    json{{"customerId", cid}}};
  auto from = seller::internal;
  if (auto s = get_str(j, "seller", false, 16))
    from = parse_seller_field(*s, "seller");
  create_order_request req;
  req.customer = cid;
  req.items = get_lines(j, "items", true, from, limits().lines_per_order_max,
                        limits().line_quantity_max, true);
  req.ship_to = get_address(j, "address", true);
  auto key = idempotency_key(c);
  ask_customer<order_record>(c, cid, 201, atom::create_v, req, key);
}

void api::impl::order_get(const call_ptr& c) {
  parse_query(c->req.query, {});
  auto self_ptr = shared_from_this();
  with_order(c, c->params[0], [self_ptr, c](order_record& rec) {
    self_ptr->reply(c, 200, json(rec));
  });
}

void api::impl::order_patch(const call_ptr& c) {
  parse_query(c->req.query, {});
  auto j = body(c);
  only(j, {"status", "reason"}, "");
  auto status = *get_str(j, "status", true, 32);
  order_command cmd;
  cmd.reason = get_str(j, "reason", false, 200).value_or("");
  if (status == "CONFIRMED")
    cmd.kind = command_kind::confirm;
  else if (status == "SHIPPED")
    cmd.kind = command_kind::ship;
  else if (status == "FULFILLED" || status == "DELIVERED")
    cmd.kind = command_kind::deliver;
  else if (status == "CANCELLED")
    cmd.kind = command_kind::cancel;
  else if (status == "PAID")
    invalid("status", "PAID needs a payment: POST /v1/orders/{id}/pay");
  else
    invalid("status", "must be CONFIRMED, SHIPPED, FULFILLED (or DELIVERED) or "
                      "CANCELLED");
  if (cmd.kind != command_kind::cancel && !c->who.admin)
    throw bad_input{errc::forbidden, "only the admin may set status " + status};
  apply_command(c, c->params[0], std::move(cmd));
}

void api::impl::order_confirm(const call_ptr& c) {
  order_step(c, command_kind::confirm);
}

void api::impl::order_ship(const call_ptr& c) {
  order_step(c, command_kind::ship);
}

void api::impl::order_deliver(const call_ptr& c) {
  order_step(c, command_kind::deliver);
}

void api::impl::order_step(const call_ptr& c, command_kind kind) {
  parse_query(c->req.query, {});
  auto j = body(c, true);
  only(j, {"reason"}, "");
  order_command cmd;
  cmd.kind = kind;
  cmd.reason = get_str(j, "reason", false, 200).value_or("");
  apply_command(c, c->params[0], std::move(cmd));
}

void api::impl::order_cancel(const call_ptr& c) {
  parse_query(c->req.query, {});
  auto j = body(c, true);
  only(j, {"lines", "reason"}, "");
  order_command cmd;
  cmd.kind = command_kind::cancel;
  cmd.lines = get_lines(j, "lines", false, seller::internal,
                        limits().lines_per_order_max,
                        limits().line_quantity_max, false);
  cmd.reason = get_str(j, "reason", false, 200).value_or("");
  apply_command(c, c->params[0], std::move(cmd));
}

void api::impl::order_pay(const call_ptr& c) {
  parse_query(c->req.query, {});
  auto j = body(c);
  only(j, {"amount", "paymentToken"}, "");
  auto amount = *get_int(j, "amount", true, 0, INT64_MAX / 4);
  auto token = get_str(j, "paymentToken", false, 200).value_or("");
  auto key = idempotency_key(c);
  auto oid = c->params[0];
  if (key.empty()) {
    order_command cmd;
    cmd.kind = command_kind::pay;
    cmd.amount = amount;
    cmd.token = token;
    return apply_command(c, oid, std::move(cmd));
  }
  // Keys are scoped to the order's customer.
  auto self_ptr = shared_from_this();
  with_order(c, oid, [self_ptr, c, oid, amount, token, key](order_record& rec) {
    self_ptr->ask_customer<order_record>(c, rec.customer, 200, atom::pay_v, oid,
                                         amount, token, key);
  });
}

void api::impl::apply_command(const call_ptr& c, const order_id& id,
                              order_command cmd) {
  auto self_ptr = shared_from_this();
  with_order(c, id, [self_ptr, c, id, cmd](order_record&) {
    self_ptr->ask<order_record>(c, self_ptr->oms.supervisor(),
                                self_ptr->respond<order_record>(c, 200),
                                atom::apply_v, id, cmd);
  });
}

} // namespace oms::daemon
