// omsd end to end: shipping line by line over HTTP, its errors, and what
// the stock and the audit say about it.
#include <doctest/doctest.h>

#include "tests/e2e/daemon.hpp"

using namespace oms;
using namespace oms::e2e;
using client::http_client;

namespace {

struct shop {
  daemon d;
  http_client admin;
  std::string customer;
  std::string token;

  shop() : admin(d.url(), d.admin_token()) {
    for (auto [sku, qty, price] :
         {std::tuple{"BOOK", 10, 39900}, std::tuple{"PEN", 10, 2500}}) {
      json body{{"quantity", qty}, {"unitPrice", price}};
      auto r = admin.post(std::string{"/v1/inventory/"} + sku + "/receipts",
                          body.dump());
      REQUIRE_MESSAGE(r.status == 200, r.body);
    }
    auto r = admin.post("/v1/customers", R"({"name":"Asha"})");
    REQUIRE_MESSAGE(r.status == 201, r.body);
    customer = body_of(r)["customerId"].get<std::string>();
    token = body_of(r)["token"].get<std::string>();
  }

  // A PAID order of 3 BOOK and 2 PEN: its id.
  std::string paid_order() {
    http_client me{d.url(), token};
    json body{{"customerId", customer},
              {"items", json::array({{{"sku", "BOOK"}, {"quantity", 3}},
                                     {{"sku", "PEN"}, {"quantity", 2}}})},
              {"address", ship_to}};
    auto created = me.post("/v1/orders", body.dump());
    REQUIRE_MESSAGE(created.status == 201, created.body);
    auto order = body_of(created);
    auto id = order["id"].get<std::string>();
    auto paid = me.post("/v1/orders/" + id + "/pay",
                        json{{"amount", order["totalAmount"]}}.dump());
    REQUIRE_MESSAGE(paid.status == 200, paid.body);
    return id;
  }

  json stock(const std::string& sku) {
    auto r = admin.get("/v1/inventory/" + sku);
    REQUIRE_MESSAGE(r.status == 200, r.body);
    return body_of(r);
  }
};

} // namespace

TEST_CASE("e2e: shipments ship line by line, then the rest, with tracking") {
  shop s;
  auto id = s.paid_order();
  auto path = "/v1/orders/" + id + "/shipments";
  auto first = s.admin.post(
      path,
      R"({"lines":[{"sku":"BOOK","quantity":2}],"carrier":"BlueDart",)"
      R"("trackingNumber":"BD123456789IN"})",
      {"Idempotency-Key: shp-1"});
  REQUIRE_MESSAGE(first.status == 200, first.body);
  auto order = body_of(first);
  CHECK(order["status"] == "PARTIALLY_SHIPPED");
  REQUIRE(order["shipments"].size() == 1);
  CHECK(order["shipments"][0]["id"] == "shp_1");
  CHECK(order["shipments"][0]["carrier"] == "BlueDart");
  CHECK(order["shipments"][0]["trackingNumber"] == "BD123456789IN");
  CHECK(order["shipments"][0]["lines"][0]["quantity"] == 2);
  CHECK(order["lines"][0]["shippedQuantity"] == 2);
  CHECK(first.header("ETag") ==
        "\"" + std::to_string(order["version"].get<int64_t>()) + "\"");
  auto book = s.stock("BOOK");
  CHECK(book["onHand"] == 8);
  CHECK(book["blocked"] == 1);
  CHECK(book["available"] == 7);
  // The same request under the same key ships nothing more.
  auto again = s.admin.post(
      path,
      R"({"lines":[{"sku":"BOOK","quantity":2}],"carrier":"BlueDart",)"
      R"("trackingNumber":"BD123456789IN"})",
      {"Idempotency-Key: shp-1"});
  REQUIRE_MESSAGE(again.status == 200, again.body);
  CHECK(body_of(again)["shipments"].size() == 1);
  CHECK(s.stock("BOOK")["onHand"] == 8);
  // The key with another request is refused.
  auto reused = s.admin.post(path, R"({"lines":[{"sku":"PEN","quantity":1}]})",
                             {"Idempotency-Key: shp-1"});
  CHECK(reused.status == 422);
  CHECK(error_code(reused) == "IDEMPOTENCY_KEY_REUSED");
  // The order answers its new actions: ship the rest or cancel it.
  auto seen = body_of(s.admin.get("/v1/orders/" + id));
  CHECK(seen["actions"] == json::array({"ship", "cancel"}));
  // The rest ships as one more shipment; the order is SHIPPED.
  auto rest = s.admin.post(
      path,
      R"({"lines":[{"sku":"PEN","quantity":2},{"sku":"BOOK","quantity":1}]})");
  REQUIRE_MESSAGE(rest.status == 200, rest.body);
  CHECK(body_of(rest)["status"] == "SHIPPED");
  CHECK(body_of(rest)["shipments"].size() == 2);
  CHECK(body_of(rest)["shipments"][1]["carrier"].is_null());
  CHECK(s.stock("BOOK")["onHand"] == 7);
  CHECK(s.stock("PEN")["onHand"] == 8);
  auto search = body_of(s.admin.get("/v1/orders?status=SHIPPED"));
  REQUIRE(search["orders"].size() == 1);
  CHECK(body_of(s.admin.get("/v1/audit"))["violations"].empty());
}

TEST_CASE("e2e: a shipment that cannot be made is refused and changes "
          "nothing") {
  shop s;
  auto id = s.paid_order();
  auto path = "/v1/orders/" + id + "/shipments";
  auto before = body_of(s.admin.get("/v1/orders/" + id));
  struct refusal {
    std::string body;
    int status;
    std::string code;
    std::string field;
  };
  for (
      auto& r : std::vector<refusal>{
          {R"({"lines":[{"sku":"MUG","quantity":1}]})", 400,
           "VALIDATION_FAILED", "lines[0].sku"},
          {R"({"lines":[{"sku":"BOOK","quantity":4}]})", 400,
           "VALIDATION_FAILED", "lines[0].quantity"},
          {R"({"lines":[{"sku":"BOOK","quantity":0}]})", 400,
           "VALIDATION_FAILED", "lines[0].quantity"},
          {R"({"lines":[{"sku":"BOOK","quantity":1},{"sku":"BOOK","quantity":1}]})",
           400, "VALIDATION_FAILED", "lines[1].sku"},
          {R"({"lines":[]})", 400, "VALIDATION_FAILED", "lines"},
          {R"({})", 400, "VALIDATION_FAILED", "lines"},
          {R"({"lines":[{"sku":"BOOK","quantity":1}],"weight":3})", 400,
           "VALIDATION_FAILED", "weight"},
          {R"({"lines":[{"sku":"BOOK","quantity":9223372036854775808}]})", 400,
           "VALIDATION_FAILED", "lines[0].quantity"},
      }) {
    CAPTURE(r.body);
    auto res = s.admin.post(path, r.body);
    CHECK(res.status == r.status);
    CHECK(error_code(res) == r.code);
    CHECK(body_of(res)["error"]["details"]["field"] == r.field);
  }
  // Not the admin: 403; no such order: 404; a stale version: 412.
  http_client me{s.d.url(), s.token};
  CHECK(me.post(path, R"({"lines":[{"sku":"BOOK","quantity":1}]})").status ==
        403);
  CHECK(s.admin
            .post("/v1/orders/ord_nosuch/shipments",
                  R"({"lines":[{"sku":"BOOK","quantity":1}]})")
            .status == 404);
  auto stale = s.admin.post(path, R"({"lines":[{"sku":"BOOK","quantity":1}]})",
                            {"If-Match: \"1\""});
  CHECK(stale.status == 412);
  auto after = body_of(s.admin.get("/v1/orders/" + id));
  CHECK(after["version"] == before["version"]);
  CHECK(after["status"] == "PAID");
  CHECK(s.stock("BOOK")["blocked"] == 3);
  // An order not paid yet does not ship.
  http_client customer{s.d.url(), s.token};
  json body{{"customerId", s.customer},
            {"items", json::array({{{"sku", "PEN"}, {"quantity", 1}}})},
            {"address", ship_to}};
  auto unpaid = body_of(customer.post("/v1/orders", body.dump()));
  auto early = s.admin.post("/v1/orders/" + unpaid["id"].get<std::string>() +
                                "/shipments",
                            R"({"lines":[{"sku":"PEN","quantity":1}]})");
  CHECK(early.status == 409);
  CHECK(error_code(early) == "INVALID_TRANSITION");
}

TEST_CASE("e2e: the customer cancels what has not shipped and is refunded "
          "its value") {
  shop s;
  auto id = s.paid_order();
  REQUIRE(s.admin
              .post("/v1/orders/" + id + "/shipments",
                    R"({"lines":[{"sku":"PEN","quantity":2}]})")
              .status == 200);
  http_client me{s.d.url(), s.token};
  auto cancel = me.post("/v1/orders/" + id + "/cancel", "");
  REQUIRE_MESSAGE(cancel.status == 200, cancel.body);
  auto order = body_of(cancel);
  CHECK(order["status"] == "SHIPPED");
  CHECK(order["totalAmount"] == 5000);
  CHECK(order["refundedAmount"] == 3 * 39900);
  CHECK(order["lines"][0]["cancelledQuantity"] == 3);
  CHECK(s.stock("BOOK")["available"] == 10);
  CHECK(s.stock("BOOK")["blocked"] == 0);
  CHECK(body_of(s.admin.get("/v1/audit"))["violations"].empty());
}
