// omsd end to end: shipping line by line over HTTP, its errors, and what
// the stock and the audit say about it.
#include <doctest/doctest.h>

#include <thread>

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

namespace {

// A DELIVERED order of 3 BOOK and 2 PEN in `s`: its id.
std::string delivered_order(shop& s) {
  auto id = s.paid_order();
  for (auto* step : {"/ship", "/deliver"}) {
    auto r = s.admin.post("/v1/orders/" + id + step, "");
    REQUIRE_MESSAGE(r.status == 200, r.body);
  }
  return id;
}

} // namespace

TEST_CASE("e2e: a return with one damaged unit: requested by the customer, "
          "received, inspected, refunded") {
  shop s;
  auto id = delivered_order(s);
  http_client me{s.d.url(), s.token};
  auto path = "/v1/orders/" + id + "/returns";
  auto body =
      R"({"lines":[{"sku":"BOOK","quantity":2,"reason":"torn cover"}]})";
  auto asked = me.post(path, body, {"Idempotency-Key: rma-1"});
  REQUIRE_MESSAGE(asked.status == 201, asked.body);
  auto ret = body_of(asked);
  CHECK(ret["id"] == "ret_1");
  CHECK(ret["status"] == "REQUESTED");
  CHECK(ret["orderId"] == id);
  CHECK(ret["lines"][0]["reason"] == "torn cover");
  CHECK(ret["order"]["status"] == "DELIVERED");
  // The same request under its key answers the same return.
  auto again = me.post(path, body, {"Idempotency-Key: rma-1"});
  REQUIRE_MESSAGE(again.status == 201, again.body);
  CHECK(body_of(again)["order"]["returns"].size() == 1);
  // Only the admin receives and inspects.
  auto rpath = path + "/ret_1";
  CHECK(me.post(rpath + "/receive", "").status == 403);
  auto got = s.admin.post(rpath + "/receive", "");
  REQUIRE_MESSAGE(got.status == 200, got.body);
  CHECK(body_of(got)["status"] == "RECEIVED");
  auto book = s.stock("BOOK");
  CHECK(book["onHand"] == 9);
  CHECK(book["available"] == 7);
  CHECK(book["unallocatableByReason"]["QUARANTINED"] == 2);
  auto done =
      s.admin.post(rpath + "/inspect",
                   R"({"lines":[{"sku":"BOOK","restock":1,"damaged":1}]})");
  REQUIRE_MESSAGE(done.status == 200, done.body);
  auto inspected = body_of(done);
  CHECK(inspected["status"] == "REFUNDED");
  CHECK(inspected["refundAmount"] == 2 * 39900);
  CHECK(inspected["lines"][0]["restocked"] == 1);
  CHECK(inspected["lines"][0]["damaged"] == 1);
  auto order = body_of(me.get("/v1/orders/" + id));
  CHECK(order["returnedAmount"] == 2 * 39900);
  CHECK(order["refundedAmount"] == 2 * 39900);
  CHECK(order["amountDue"] == 0);
  CHECK(order["history"].back()["reason"] == "return ret_1 inspected");
  book = s.stock("BOOK");
  CHECK(book["onHand"] == 9);
  CHECK(book["available"] == 8);
  CHECK(book["unallocatableByReason"]["QUARANTINED"] == 0);
  CHECK(book["unallocatableByReason"]["DAMAGED"] == 1);
  CHECK(body_of(s.admin.get("/v1/audit"))["violations"].empty());
  // Only one more BOOK can be returned.
  auto more = me.post(path, R"({"lines":[{"sku":"BOOK","quantity":2}]})");
  CHECK(more.status == 400);
  CHECK(body_of(more)["error"]["details"]["field"] == "lines[0].quantity");
}

TEST_CASE("e2e: returns that cannot be taken are refused and change "
          "nothing") {
  shop s;
  auto id = delivered_order(s);
  http_client me{s.d.url(), s.token};
  auto path = "/v1/orders/" + id + "/returns";
  for (auto& bad : std::vector<std::pair<std::string, std::string>>{
           {R"({"lines":[{"sku":"BOOK","quantity":4}]})", "lines[0].quantity"},
           {R"({"lines":[{"sku":"MUG","quantity":1}]})", "lines[0].sku"},
           {R"({"lines":[]})", "lines"},
           {R"({"lines":[{"sku":"BOOK","quantity":1,"colour":"red"}]})",
            "lines[0].colour"},
           {R"({"lines":[{"sku":"BOOK","quantity":1,"reason":7}]})",
            "lines[0].reason"},
       }) {
    // No structured binding: clang refuses one inside a doctest macro.
    const auto& body = bad.first;
    const auto& field = bad.second;
    CAPTURE(body);
    auto r = me.post(path, body);
    CHECK(r.status == 400);
    CHECK(error_code(r) == "VALIDATION_FAILED");
    CHECK(body_of(r)["error"]["details"]["field"] == field);
  }
  // Another customer: as if the order did not exist.
  auto other = s.admin.post("/v1/customers", R"({"name":"Bela"})");
  http_client bela{s.d.url(), body_of(other)["token"].get<std::string>()};
  CHECK(bela.post(path, R"({"lines":[{"sku":"BOOK","quantity":1}]})").status ==
        404);
  // An order not delivered yet.
  auto paid = s.paid_order();
  auto early = me.post("/v1/orders/" + paid + "/returns",
                       R"({"lines":[{"sku":"BOOK","quantity":1}]})");
  CHECK(early.status == 409);
  CHECK(error_code(early) == "INVALID_TRANSITION");
  // Steps of a return that does not exist, or in the wrong state.
  CHECK(s.admin.post(path + "/ret_9/receive", "").status == 404);
  REQUIRE(me.post(path, R"({"lines":[{"sku":"PEN","quantity":1}]})").status ==
          201);
  auto inspect_early = s.admin.post(path + "/ret_1/inspect",
                                    R"({"lines":[{"sku":"PEN","restock":1}]})");
  CHECK(inspect_early.status == 409);
  CHECK(error_code(inspect_early) == "INVALID_TRANSITION");
  CHECK(s.admin.post(path + "/ret_1/reject", "{}").status == 400);
  auto rejected =
      s.admin.post(path + "/ret_1/reject", R"({"reason":"not eligible"})");
  REQUIRE_MESSAGE(rejected.status == 200, rejected.body);
  CHECK(body_of(rejected)["status"] == "REJECTED");
  CHECK(body_of(rejected)["rejectReason"] == "not eligible");
  CHECK(s.stock("PEN")["onHand"] == 8);
  auto order = body_of(me.get("/v1/orders/" + id));
  CHECK(order["returns"].size() == 1);
  CHECK(order["refundedAmount"] == 0);
}

TEST_CASE("e2e: a return after the window is refused with "
          "RETURN_WINDOW_CLOSED") {
  daemon d{{"--return-window", "1ms"}};
  http_client admin{d.url(), d.admin_token()};
  REQUIRE(admin
              .post("/v1/inventory/CUP/receipts",
                    R"({"quantity":3,"unitPrice":500})")
              .status == 200);
  auto cust = body_of(admin.post("/v1/customers", R"({"name":"Dev"})"));
  json body{{"customerId", cust["customerId"]},
            {"items", json::array({{{"sku", "CUP"}, {"quantity", 1}}})},
            {"address", ship_to}};
  auto id =
      body_of(admin.post("/v1/orders", body.dump()))["id"].get<std::string>();
  REQUIRE(admin.post("/v1/orders/" + id + "/pay", R"({"amount":500})").status ==
          200);
  REQUIRE(admin.post("/v1/orders/" + id + "/ship", "").status == 200);
  REQUIRE(admin.post("/v1/orders/" + id + "/deliver", "").status == 200);
  // The window is 1 ms: it has closed once 10 ms have passed.
  std::this_thread::sleep_for(std::chrono::milliseconds(10));
  auto late = admin.post("/v1/orders/" + id + "/returns",
                         R"({"lines":[{"sku":"CUP","quantity":1}]})");
  CHECK(late.status == 409);
  CHECK(error_code(late) == "RETURN_WINDOW_CLOSED");
  CHECK(body_of(late)["error"]["details"].contains("closedAt"));
}
