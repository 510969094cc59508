// Fuzzes the reading of omsd's request bodies
// (system/daemon/request_fields.hpp): the text through read_body, then the
// fields of one route, as the route does before it asks any actor. The
// first byte picks the route, the rest is the body: 'a' POST /v1/customers,
// 'b' PUT .../cart/items/{sku}, 'c' checkout, 'd' POST /v1/orders, 'e' PATCH
// /v1/orders/{id}, 'f' confirm|ship|deliver, 'g' cancel, 'h' pay, 'i'
// receipts, 'j' changes, 'k' PATCH /v1/inventory/{sku}. Whatever the bytes:
// the only exception is bad_input, VALIDATION_FAILED naming a field (in
// UTF-8, so the answer can carry it) with a message, and its answer
// encodes; what is accepted is within the limits, and rendered back as a
// body it reads again to the same value.
#include <string>

#include <nlohmann/json.hpp>

#include "messages/json.hpp"
#include "system/daemon/request_fields.hpp"
#include "system/http/utf8.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {

using namespace oms;
using namespace oms::daemon;

// The clock of expiries: 2026-01-01T00:00:00Z.
constexpr timestamp_ms now = 1'767'225'600'000;

const request_limits limits{};

// The depth omsd reads bodies to by default (--max-json-depth).
json body_of(std::string_view text, bool allow_empty = false) {
  return read_body(text, allow_empty, limits.json_depth_max);
}

bool short_utf8(const std::string& s, size_t max_bytes) {
  return s.size() <= max_bytes && http::valid_utf8(s);
}

json lines_json(const std::vector<order_item>& items, bool with_seller) {
  json result = json::array();
  for (auto& i : items) {
    json line = i;
    if (!with_seller)
      line.erase("seller");
    result.push_back(line);
  }
  return result;
}

void check_lines(const std::vector<order_item>& items) {
  FUZZ_CHECK(items.size() <= limits.lines_per_order_max, "at most max lines");
  for (auto& i : items) {
    FUZZ_CHECK(short_utf8(i.sku, 64), "a line's SKU is at most 64 bytes");
    FUZZ_CHECK(i.quantity >= 1 && i.quantity <= limits.line_quantity_max,
               "a line's quantity is within the limit");
  }
}

void check_address(const address& a) {
  for (auto* s : {&a.line1, &a.line2, &a.city, &a.postal_code, &a.country})
    FUZZ_CHECK(short_utf8(*s, 200), "an address field is at most 200 bytes");
}

// Renders what a route read as the body it reads from; reading that again
// must render the same.
template <class Read, class Render>
void round_trip(const json& first, Read read, Render render) {
  auto text = first.dump();
  auto again = render(read(body_of(text)));
  FUZZ_CHECK(again == first, "what was read renders to a body read the same");
}

json change_json(const stock_change& c, bool with_kind) {
  json j = {{"quantity", c.quantity}};
  if (with_kind)
    j["kind"] = to_string(c.kind);
  if (c.unit_price != 0)
    j["unitPrice"] = c.unit_price;
  if (!c.lot.empty())
    j["lot"] = c.lot;
  if (c.expires_at != 0)
    j["expiresAt"] = format_timestamp(c.expires_at);
  if (!c.event_id.empty())
    j["eventId"] = c.event_id;
  if (c.kind == stock_change_kind::set_aside ||
      c.kind == stock_change_kind::return_aside)
    j["reason"] = to_string(c.reason);
  if (!c.note.empty())
    j["note"] = c.note;
  return j;
}

void check_change(const stock_change& c) {
  FUZZ_CHECK(c.sku == "SKU-1" && c.source == "admin",
             "the change is the SKU's");
  auto adjustment = c.kind == stock_change_kind::adjustment;
  FUZZ_CHECK(adjustment
                 ? c.quantity != 0 && c.quantity >= -limits.line_quantity_max &&
                       c.quantity <= limits.line_quantity_max
                 : c.quantity >= 1 && c.quantity <= limits.line_quantity_max,
             "a change's quantity is within the limit");
  FUZZ_CHECK(c.unit_price >= 0 && c.unit_price <= limits.unit_price_max,
             "a unit price is within the limit");
  FUZZ_CHECK(c.expires_at == 0 || c.expires_at > now,
             "an expiry is in the future");
  FUZZ_CHECK(c.lot.size() <= 64 && c.event_id.size() <= 128 &&
                 short_utf8(c.note, 200),
             "a change's texts are within their bounds");
  FUZZ_CHECK(c.event_id.empty() || valid_event_id(c.event_id),
             "an event id is well-formed");
}

void read_route(uint8_t route, std::string_view text) {
  switch (oms::fuzz::pick(route, 14)) {
    case 0: { // POST /v1/customers
      auto name = read_new_customer(body_of(text));
      FUZZ_CHECK(short_utf8(name, 200), "a name is at most 200 bytes");
      round_trip(json{{"name", name}}, read_new_customer,
                 [](const std::string& n) {
                   return json{{"name", n}};
                 });
      break;
    }
    case 1: { // PUT /v1/customers/{id}/cart/items/{sku}
      auto line = read_cart_line(body_of(text), limits);
      FUZZ_CHECK(line.quantity >= 1 &&
                     line.quantity <= limits.line_quantity_max,
                 "a cart quantity is within the limit");
      FUZZ_CHECK(line.from == seller::internal || line.from == seller::external,
                 "a cart line's seller is one of the two");
      break;
    }
    case 2: { // POST /v1/customers/{id}/cart/checkout
      auto read = [](const json& j) {
        return read_checkout(j, limits);
      };
      auto render = [](const checkout_fields& f) {
        json j = {{"address", f.ship_to}};
        if (!f.skus.empty())
          j["skus"] = f.skus;
        if (f.seller_given)
          j["seller"] = to_string(f.from);
        return j;
      };
      auto f = read(body_of(text));
      check_address(f.ship_to);
      FUZZ_CHECK(f.skus.size() <= limits.lines_per_order_max,
                 "at most max SKUs");
      round_trip(render(f), read, render);
      break;
    }
    case 3: { // POST /v1/orders
      auto read = [](const json& j) {
        auto customer = read_order_customer(j);
        auto req = read_new_order(j, limits);
        req.customer = customer.value_or("");
        return req;
      };
      auto render = [](const create_order_request& r) {
        json j = {{"items", lines_json(r.items, true)}, {"address", r.ship_to}};
        if (!r.customer.empty())
          j["customerId"] = r.customer;
        return j;
      };
      auto req = read(body_of(text));
      FUZZ_CHECK(short_utf8(req.customer, 64), "a customer id is short");
      FUZZ_CHECK(!req.items.empty(), "an order has a line");
      check_lines(req.items);
      check_address(req.ship_to);
      round_trip(render(req), read, render);
      break;
    }
    case 4: { // PATCH /v1/orders/{id}
      auto cmd = read_status_change(body_of(text));
      FUZZ_CHECK(cmd.kind == command_kind::confirm ||
                     cmd.kind == command_kind::ship ||
                     cmd.kind == command_kind::deliver ||
                     cmd.kind == command_kind::cancel,
                 "a status change is confirm, ship, deliver or cancel");
      FUZZ_CHECK(short_utf8(cmd.reason, 200), "a reason is short");
      break;
    }
    case 5: { // POST /v1/orders/{id}/confirm|ship|deliver
      auto reason = read_reason(body_of(text, true));
      FUZZ_CHECK(short_utf8(reason, 200), "a reason is short");
      break;
    }
    case 6: { // POST /v1/orders/{id}/cancel
      auto read = [](const json& j) {
        return read_cancel(j, limits);
      };
      auto render = [](const order_command& c) {
        json j = json::object();
        if (!c.lines.empty())
          j["lines"] = lines_json(c.lines, false);
        if (!c.reason.empty())
          j["reason"] = c.reason;
        return j;
      };
      auto cmd = read(body_of(text, true));
      FUZZ_CHECK(cmd.kind == command_kind::cancel, "a cancel cancels");
      check_lines(cmd.lines);
      round_trip(render(cmd), read, render);
      break;
    }
    case 7: { // POST /v1/orders/{id}/pay
      auto offer = read_payment(body_of(text));
      FUZZ_CHECK(offer.amount >= 0 && offer.amount <= INT64_MAX / 4,
                 "an amount is within its bound");
      FUZZ_CHECK(short_utf8(offer.token, 200), "a token is short");
      break;
    }
    case 8: { // POST /v1/inventory/{sku}/receipts
      auto read = [](const json& j) {
        return read_receipt(j, "SKU-1", limits, now);
      };
      auto render = [](const receipt_fields& r) {
        auto j = change_json(r.change, false);
        if (r.from != seller::internal)
          j["seller"] = to_string(r.from);
        return j;
      };
      auto r = read(body_of(text));
      FUZZ_CHECK(r.change.kind == stock_change_kind::receipt,
                 "a receipt is a receipt");
      check_change(r.change);
      round_trip(render(r), read, render);
      break;
    }
    case 9: { // POST /v1/inventory/{sku}/changes
      auto read = [](const json& j) {
        return read_change(j, "SKU-1", limits.line_quantity_max,
                           limits.unit_price_max, now);
      };
      auto render = [](const stock_change& c) {
        return change_json(c, true);
      };
      auto c = read(body_of(text));
      check_change(c);
      round_trip(render(c), read, render);
      break;
    }
    case 10: { // POST /v1/orders/{id}/shipments
      auto read = [](const json& j) {
        return read_shipment(j, limits);
      };
      auto render = [](const order_command& c) {
        json j{{"lines", lines_json(c.lines, false)}};
        if (!c.carrier.empty())
          j["carrier"] = c.carrier;
        if (!c.tracking_number.empty())
          j["trackingNumber"] = c.tracking_number;
        return j;
      };
      auto cmd = read(body_of(text));
      FUZZ_CHECK(cmd.kind == command_kind::ship && !cmd.lines.empty(),
                 "a shipment ships some lines");
      check_lines(cmd.lines);
      FUZZ_CHECK(short_utf8(cmd.carrier, 64) &&
                     short_utf8(cmd.tracking_number, 100),
                 "a carrier and a tracking number are short");
      round_trip(render(cmd), read, render);
      break;
    }
    case 11: { // POST /v1/orders/{id}/returns
      auto read = [](const json& j) {
        return read_return_request(j, limits);
      };
      auto render = [](const return_command& c) {
        json lines = json::array();
        for (auto& l : c.lines) {
          json line{{"sku", l.sku}, {"quantity", l.quantity}};
          if (!l.reason.empty())
            line["reason"] = l.reason;
          lines.push_back(std::move(line));
        }
        return json{{"lines", lines}};
      };
      auto cmd = read(body_of(text));
      FUZZ_CHECK(!cmd.lines.empty() &&
                     cmd.lines.size() <= limits.lines_per_order_max,
                 "a return has 1 to max lines");
      for (auto& l : cmd.lines)
        FUZZ_CHECK(short_utf8(l.sku, 64) && short_utf8(l.reason, 200) &&
                       l.quantity >= 1 &&
                       l.quantity <= limits.line_quantity_max,
                   "a returned line is within its bounds");
      round_trip(render(cmd), read, render);
      break;
    }
    case 12: { // POST /v1/orders/{id}/returns/{rid}/inspect
      auto read = [](const json& j) {
        return read_return_inspection(j, limits);
      };
      auto render = [](const return_command& c) {
        json lines = json::array();
        for (auto& l : c.lines)
          lines.push_back(
              {{"sku", l.sku}, {"restock", l.restock}, {"damaged", l.damaged}});
        return json{{"lines", lines}};
      };
      auto cmd = read(body_of(text));
      for (auto& l : cmd.lines)
        FUZZ_CHECK(l.restock >= 0 && l.damaged >= 0 &&
                       l.restock <= limits.line_quantity_max &&
                       l.damaged <= limits.line_quantity_max,
                   "inspected counts are within their bounds");
      round_trip(render(cmd), read, render);
      break;
    }
    default: { // PATCH /v1/inventory/{sku}
      auto price = read_unit_price(body_of(text), limits);
      FUZZ_CHECK(price >= 1 && price <= limits.unit_price_max,
                 "a unit price is within the limit");
      break;
    }
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  auto text = oms::fuzz::text_of(data + 1, size - 1);
  try {
    read_route(data[0], text);
  } catch (const bad_input& bad) {
    FUZZ_CHECK(bad.code == errc::validation_failed,
               "a body is refused as VALIDATION_FAILED");
    FUZZ_CHECK(!bad.message.empty(), "a refusal says why");
    FUZZ_CHECK(bad.details.is_object() && bad.details.contains("field") &&
                   bad.details["field"].is_string(),
               "a refusal names a field");
    auto field = bad.details["field"].get<std::string>();
    // An unknown member named "" is named as it is.
    FUZZ_CHECK((!field.empty() || bad.message == "unknown field ''") &&
                   http::valid_utf8(field),
               "the field is named in UTF-8");
    // The answer as the API renders it.
    json answer = {{"error",
                    {{"code", to_code(bad.code)},
                     {"message", bad.message},
                     {"details", bad.details}}}};
    FUZZ_CHECK(
        !answer.dump(-1, ' ', false, json::error_handler_t::strict).empty(),
        "the refusal encodes");
  }
  return 0;
}
