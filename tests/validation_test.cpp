// Request validation: every bad field is named, good requests pass.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "actors/validation.hpp"

using namespace oms;

namespace {

create_order_request good_request() {
  create_order_request req;
  req.customer = "cust-1";
  req.items = {{"SKU-1", 2, seller::internal}, {"SKU-2", 1, seller::internal}};
  req.ship_to = {"12 MG Road", "", "Bengaluru", "560001", "IN"};
  return req;
}

// Refused with `code`, naming `field` in the message and as details.field
// (which the HTTP API answers as error.details.field).
void require_refused(const create_order_request& req, errc code,
                     const std::string& field) {
  auto p = check_create_order(req, request_limits{});
  REQUIRE(p.has_value());
  CHECK(p->code == code);
  CHECK_MESSAGE(p->message.find(field) != std::string::npos, p->message);
  auto details = nlohmann::json::parse(p->details_json);
  auto named = nlohmann::json{{"field", field}};
  CHECK_MESSAGE(details == named, p->details_json);
}

} // namespace

TEST_CASE("a well-formed order request passes") {
  CHECK_FALSE(check_create_order(good_request(), request_limits{}).has_value());
}

TEST_CASE("an order request without customer is refused naming customerId") {
  auto req = good_request();
  req.customer.clear();
  require_refused(req, errc::validation_failed, "customerId");
  req.customer = "has space";
  require_refused(req, errc::validation_failed, "customerId");
  req.customer = std::string(65, 'c');
  require_refused(req, errc::validation_failed, "customerId");
}

TEST_CASE("an order request without items is refused") {
  auto req = good_request();
  req.items.clear();
  require_refused(req, errc::validation_failed, "items");
}

TEST_CASE("too many lines are refused") {
  auto req = good_request();
  req.items.clear();
  for (int i = 0; i < 101; ++i)
    req.items.push_back({"SKU-" + std::to_string(i), 1, seller::internal});
  require_refused(req, errc::validation_failed, "items");
  req.items.pop_back();
  CHECK_FALSE(check_create_order(req, request_limits{}).has_value());
}

TEST_CASE("quantities outside 1..1,000,000 are refused naming the line") {
  auto req = good_request();
  req.items[1].quantity = 0;
  require_refused(req, errc::validation_failed, "items[1].quantity");
  req.items[1].quantity = -4;
  require_refused(req, errc::validation_failed, "items[1].quantity");
  req.items[1].quantity = 1'000'001;
  require_refused(req, errc::validation_failed, "items[1].quantity");
  req.items[1].quantity = 1'000'000;
  CHECK_FALSE(check_create_order(req, request_limits{}).has_value());
}

TEST_CASE("duplicate SKU lines are refused") {
  auto req = good_request();
  req.items[1].sku = "SKU-1";
  require_refused(req, errc::validation_failed, "items[1].sku");
}

TEST_CASE("bad SKU ids are refused naming the line") {
  auto req = good_request();
  req.items[0].sku = "";
  require_refused(req, errc::validation_failed, "items[0].sku");
  req.items[0].sku = "a/b";
  require_refused(req, errc::validation_failed, "items[0].sku");
}

TEST_CASE("items from two sellers are refused with MIXED_SELLERS") {
  auto req = good_request();
  req.items[1].seller = seller::external;
  auto p = check_create_order(req, request_limits{});
  REQUIRE(p.has_value());
  CHECK(p->code == errc::mixed_sellers);
  CHECK(p->details_json.find("EXTERNAL") != std::string::npos);
}

TEST_CASE("an incomplete address is refused naming the field") {
  auto req = good_request();
  req.ship_to.city.clear();
  require_refused(req, errc::validation_failed, "address.city");
  req = good_request();
  req.ship_to.postal_code.clear();
  require_refused(req, errc::validation_failed, "address.postalCode");
  req = good_request();
  req.ship_to.line1 = "line\nbreak";
  require_refused(req, errc::validation_failed, "address.line1");
  req = good_request();
  req.ship_to.country = std::string(201, 'x');
  require_refused(req, errc::validation_failed, "address.country");
}

TEST_CASE("an unknown seller value is refused") {
  auto req = good_request();
  req.items[0].seller = static_cast<seller>(7);
  req.items[1].seller = static_cast<seller>(7);
  require_refused(req, errc::validation_failed, "items[0].seller");
  seller parsed = seller::internal;
  CHECK_FALSE(parse_seller("internal", parsed));
  CHECK(parse_seller("EXTERNAL", parsed));
  CHECK(parsed == seller::external);
}
