// The bodies of omsd's routes, read with the primitives of
// request_fields.cpp: each names the fields its route takes and refuses
// anything else.
#include "system/daemon/request_fields.hpp"

#include "messages/json.hpp"

namespace oms::daemon {

std::string read_new_customer(const json& j) {
  only(j, {"name"}, "");
  auto name = *get_str(j, "name", true, 200);
  if (name.find_first_not_of(" \t\r\n") == std::string::npos)
    invalid("name", "must not be blank");
  return name;
}

cart_line_fields read_cart_line(const json& j, const request_limits& limits) {
  only(j, {"quantity", "seller"}, "");
  cart_line_fields result;
  result.quantity = *get_int(j, "quantity", true, 1, limits.line_quantity_max);
  if (auto s = get_str(j, "seller", false, 16))
    result.from = parse_seller_field(*s, "seller");
  return result;
}

checkout_fields read_checkout(const json& j, const request_limits& limits) {
  only(j, {"address", "skus", "seller"}, "");
  checkout_fields result;
  result.ship_to = get_address(j, "address", true);
  if (auto s = get_str(j, "seller", false, 16)) {
    result.from = parse_seller_field(*s, "seller");
    result.seller_given = true;
  }
  if (auto i = j.find("skus"); i != j.end() && !i->is_null()) {
    if (!i->is_array())
      invalid("skus", "must be an array of SKUs");
    if (i->size() > limits.lines_per_order_max)
      invalid("skus", "must have at most " +
                          std::to_string(limits.lines_per_order_max) + " SKUs");
    for (auto& s : *i) {
      if (!s.is_string())
        invalid("skus", "must be an array of SKUs");
      result.skus.push_back(s.get<std::string>());
    }
  }
  return result;
}

std::optional<std::string> read_order_customer(const json& j) {
  only(j, {"customerId", "seller", "items", "address"}, "");
  // An empty id names no customer at all: bad input, not an unknown one.
  auto given = get_str(j, "customerId", false, 64);
  if (given && given->empty())
    invalid("customerId", "must not be empty");
  return given;
}

create_order_request read_new_order(const json& j,
                                    const request_limits& limits) {
  auto from = seller::internal;
  if (auto s = get_str(j, "seller", false, 16))
    from = parse_seller_field(*s, "seller");
  create_order_request req;
  req.items = get_lines(j, "items", true, from, limits.lines_per_order_max,
                        limits.line_quantity_max, true);
  req.ship_to = get_address(j, "address", true);
  return req;
}

order_command read_status_change(const json& j) {
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
  return cmd;
}

std::string read_reason(const json& j) {
  only(j, {"reason"}, "");
  return get_str(j, "reason", false, 200).value_or("");
}

order_command read_cancel(const json& j, const request_limits& limits) {
  only(j, {"lines", "reason"}, "");
  order_command cmd;
  cmd.kind = command_kind::cancel;
  cmd.lines =
      get_lines(j, "lines", false, seller::internal, limits.lines_per_order_max,
                limits.line_quantity_max, false);
  cmd.reason = get_str(j, "reason", false, 200).value_or("");
  return cmd;
}

order_command read_shipment(const json& j, const request_limits& limits) {
  only(j, {"lines", "carrier", "trackingNumber"}, "");
  order_command cmd;
  cmd.kind = command_kind::ship;
  cmd.lines =
      get_lines(j, "lines", true, seller::internal, limits.lines_per_order_max,
                limits.line_quantity_max, false);
  cmd.carrier = get_str(j, "carrier", false, 64).value_or("");
  cmd.tracking_number = get_str(j, "trackingNumber", false, 100).value_or("");
  return cmd;
}

namespace {

// A return's step with one item per object of the body's `lines` (nothing
// else in the body); `read` fills the item from the line, `where` naming it
// ("lines[k]").
template <class Read>
return_command
return_lines(const json& j, const request_limits& limits, return_step step,
             std::initializer_list<const char*> allowed, Read read) {
  only(j, {"lines"}, "");
  auto* i = line_array(j, "lines", true, limits.lines_per_order_max);
  return_command cmd;
  cmd.step = step;
  for (size_t k = 0; k < i->size(); ++k) {
    auto where = "lines[" + std::to_string(k) + "]";
    auto& line = (*i)[k];
    if (!line.is_object())
      invalid(where, "must be an object");
    only(line, allowed, where);
    return_item item;
    item.sku = *get_str(line, "sku", true, 64, where);
    read(line, where, item);
    cmd.lines.push_back(std::move(item));
  }
  return cmd;
}

} // namespace

return_command read_return_request(const json& j,
                                   const request_limits& limits) {
  return return_lines(
      j, limits, return_step::request, {"sku", "quantity", "reason"},
      [&](const json& line, const std::string& where, return_item& item) {
        item.quantity = *get_int(line, "quantity", true, 1,
                                 limits.line_quantity_max, where);
        item.reason = get_str(line, "reason", false, 200, where).value_or("");
      });
}

return_command read_return_inspection(const json& j,
                                      const request_limits& limits) {
  return return_lines(
      j, limits, return_step::inspect, {"sku", "restock", "damaged"},
      [&](const json& line, const std::string& where, return_item& item) {
        for (auto [name, target] : {std::pair{"restock", &item.restock},
                                    std::pair{"damaged", &item.damaged}})
          *target =
              get_int(line, name, false, 0, limits.line_quantity_max, where)
                  .value_or(0);
      });
}

std::string read_reject_reason(const json& j) {
  only(j, {"reason"}, "");
  return *get_str(j, "reason", true, 200);
}

payment_fields read_payment(const json& j) {
  only(j, {"amount", "paymentToken"}, "");
  payment_fields result;
  result.amount = *get_int(j, "amount", true, 0, INT64_MAX / 4);
  result.token = get_str(j, "paymentToken", false, 200).value_or("");
  return result;
}

receipt_fields read_receipt(const json& j, const sku_id& sku,
                            const request_limits& limits, timestamp_ms now) {
  only(j, {"quantity", "unitPrice", "seller", "lot", "expiresAt", "eventId"},
       "");
  receipt_fields result;
  auto& ch = result.change;
  ch.kind = stock_change_kind::receipt;
  ch.sku = sku;
  ch.source = "admin";
  ch.quantity = *get_int(j, "quantity", true, 1, limits.line_quantity_max);
  ch.unit_price =
      get_int(j, "unitPrice", false, 1, limits.unit_price_max).value_or(0);
  if (auto s = get_str(j, "seller", false, 16))
    result.from = parse_seller_field(*s, "seller");
  ch.lot = get_lot(j).value_or("");
  ch.expires_at = get_expiry(j, now);
  ch.event_id = get_event_id(j).value_or("");
  return result;
}

money read_unit_price(const json& j, const request_limits& limits) {
  only(j, {"unitPrice"}, "");
  return *get_int(j, "unitPrice", true, 1, limits.unit_price_max);
}

} // namespace oms::daemon
