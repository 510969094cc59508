// omsd end to end: each case starts the real daemon and drives it over HTTP.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "tests/e2e/daemon.hpp"

using namespace oms;
using namespace oms::e2e;
using client::http_client;
using client::http_result;

namespace {

struct world {
  daemon d;
  http_client admin;

  explicit world(std::vector<std::string> args = {})
      : d(std::move(args)), admin(d.url(), d.admin_token()) {}

  void receive(const std::string& sku, int64_t qty, int64_t price = 0) {
    json body{{"quantity", qty}};
    if (price > 0)
      body["unitPrice"] = price;
    auto r = admin.post("/v1/inventory/" + sku + "/receipts", body.dump());
    REQUIRE_MESSAGE(r.status == 200, r.body);
  }

  json stock(const std::string& sku) {
    auto r = admin.get("/v1/inventory/" + sku);
    REQUIRE_MESSAGE(r.status == 200, r.body);
    return body_of(r);
  }

  // A new customer: (id, token).
  std::pair<std::string, std::string> customer(const std::string& name) {
    auto r = admin.post("/v1/customers", json{{"name", name}}.dump());
    REQUIRE_MESSAGE(r.status == 201, r.body);
    auto j = body_of(r);
    return {j["customerId"].get<std::string>(), j["token"].get<std::string>()};
  }

  static json order_body(const std::string& customer, const std::string& sku,
                         int64_t qty) {
    return json{{"customerId", customer},
                {"items", {{{"sku", sku}, {"quantity", qty}}}},
                {"address", ship_to}};
  }
};

int64_t available(world& w, const std::string& sku) {
  return w.stock(sku)["available"].get<int64_t>();
}

} // namespace

TEST_CASE("e2e: health, readiness and metrics need no token") {
  world w;
  http_client anon{w.d.url()};
  auto h = anon.get("/healthz");
  CHECK(h.status == 200);
  CHECK(body_of(h)["status"] == "ok");
  auto r = anon.get("/readyz");
  CHECK(r.status == 200);
  CHECK(body_of(r)["status"] == "ready");
  w.receive("M-1", 3, 100);
  auto m = anon.get("/metrics");
  REQUIRE(m.status == 200);
  CHECK(m.header("Content-Type").find("text/plain") == 0);
  for (auto* name :
       {"oms_http_requests_total{route=\"/v1/inventory/{sku}/receipts\","
        "method=\"POST\",status=\"200\"} 1",
        "oms_http_request_duration_seconds_bucket", "oms_orders_open",
        "oms_orders_holding_stock", "oms_journal_batch_events_bucket",
        "oms_journal_commit_seconds_bucket", "oms_journal_events_total"})
    CHECK_MESSAGE(m.body.find(name) != std::string::npos, name);
}

TEST_CASE("e2e: /readyz names the store to the admin only") {
  // Proves that the store's path is not shown without the admin token:
  // none, a customer's or a wrong one get readiness alone.
  world w;
  auto [id, token] = w.customer("Ready");
  for (std::string who : {"none", "customer", "wrong"}) {
    CAPTURE(who);
    std::string t = who == "customer" ? token
                    : who == "wrong"  ? "admin-secret-tokeX"
                                      : "";
    http_client c{w.d.url(), t};
    auto r = c.get("/readyz");
    CHECK(r.status == 200);
    auto j = body_of(r);
    CHECK(j["status"] == "ready");
    CHECK(j.contains("lastSeq"));
    CHECK_FALSE(j.contains("store"));
    CHECK(r.body.find(w.d.data_dir()) == std::string::npos);
  }
  auto r = w.admin.get("/readyz");
  CHECK(r.status == 200);
  CHECK(body_of(r)["store"] == "sqlite:" + w.d.data_dir() + "/data/oms.db");
}

TEST_CASE("e2e: the store's files are checked in the background and by "
          "omsd --check, which reads a served store without harm") {
  world w;
  w.receive("CHK-1", 3, 100);
  // The start does not wait for the check; it ends soon on a small store.
  json check;
  REQUIRE(eventually(
      [&] {
        check = body_of(w.admin.get("/readyz"))["storeCheck"];
        return check["status"] == "ok";
      },
      std::chrono::seconds(60)));
  CHECK(check["seconds"].get<double>() >= 0);
  http_client anon{w.d.url()};
  // Others do not see it.
  CHECK_FALSE(body_of(anon.get("/readyz")).contains("storeCheck"));
  auto m = anon.get("/metrics");
  CHECK(m.body.find("oms_store_check{state=\"ok\"} 1") != std::string::npos);
  CHECK(m.body.find("oms_store_check{state=\"damaged\"} 0") !=
        std::string::npos);
  auto data = w.d.data_dir() + "/data";
  auto ok = run_process({OMSD_PATH, "--check", "--data-dir", data});
  CAPTURE(ok.out);
  CHECK(ok.exit_code == 0);
  CHECK(ok.out.find(data + "/oms.db: ok (integrity_check") !=
        std::string::npos);
  CHECK(ok.out.find(data + "/payments.db: ok") != std::string::npos);
  // The served store still takes writes.
  w.receive("CHK-1", 2, 100);
  CHECK(available(w, "CHK-1") == 5);
  auto missing =
      run_process({OMSD_PATH, "--check", "--data-dir", data + "/nothing"});
  CHECK(missing.exit_code == 2);
  CHECK(missing.out.find("/nothing/oms.db: no such file") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(data + "/nothing"));
  // A PostgreSQL store keeps only the payment ledger here; none yet.
  auto pg = run_process({OMSD_PATH, "--check", "--postgres", "host=127.0.0.1",
                         "--data-dir", data + "/nothing"});
  CHECK(pg.exit_code == 2);
  CHECK(pg.out.find("no SQLite file to check") != std::string::npos);
  auto memory = run_process({OMSD_PATH, "--check", "--store", "memory"});
  CHECK(memory.exit_code == 2);
  CHECK(memory.err.find("keeps nothing on disk") != std::string::npos);
}

TEST_CASE("e2e: tokens: none, unknown, customer on an admin route") {
  world w;
  http_client anon{w.d.url()};
  auto r = anon.get("/v1/inventory");
  CHECK(r.status == 401);
  CHECK(error_code(r) == "UNAUTHORIZED");
  CHECK(r.header("WWW-Authenticate") == "Bearer");
  http_client wrong{w.d.url(), "admin-secret-tokeX"};
  CHECK(wrong.get("/v1/inventory").status == 401);
  http_client basic{w.d.url()};
  CHECK(basic
            .request("GET", "/v1/inventory", {},
                     {"Authorization: Basic YWRtaW46eA=="})
            .status == 401);
  auto [id, token] = w.customer("Asha");
  http_client cust{w.d.url(), token};
  auto f = cust.post("/v1/inventory/X-1/receipts",
                     json{{"quantity", 1}, {"unitPrice", 5}}.dump());
  CHECK(f.status == 403);
  CHECK(error_code(f) == "FORBIDDEN");
  CHECK(w.admin.get("/v1/inventory/X-1").status == 404); // nothing created
  CHECK(cust.get("/v1/audit").status == 403);
  CHECK(cust.post("/v1/customers", R"({"name":"x"})").status == 403);
  // Read routes take any token.
  CHECK(cust.get("/v1/inventory").status == 200);
  // The token is never logged.
  CHECK(w.d.log().find(token) == std::string::npos);
}

TEST_CASE("e2e: inventory receipts, views, listing and errors") {
  world w;
  auto first =
      w.admin.post("/v1/inventory/BOOK-1/receipts", R"({"quantity": 5})");
  CHECK(first.status == 400); // the first receipt needs a price
  CHECK(error_code(first) == "VALIDATION_FAILED");
  CHECK(w.admin.get("/v1/inventory/BOOK-1").status == 404);
  w.receive("BOOK-1", 5, 49900);
  w.receive("BOOK-1", 2); // later receipts keep the price
  auto v = w.stock("BOOK-1");
  CHECK(v["sku"] == "BOOK-1");
  CHECK(v["seller"] == "INTERNAL");
  CHECK(v["unitPrice"] == 49900);
  CHECK(v["currency"] == "INR");
  CHECK(v["onHand"] == 7);
  CHECK(v["reserved"] == 0);
  CHECK(v["blocked"] == 0);
  CHECK(v["available"] == 7);
  CHECK(v["asOf"].is_string());
  auto ext = w.admin.post("/v1/inventory/BOOK-1/receipts",
                          R"({"quantity": 1, "seller": "EXTERNAL"})");
  CHECK(ext.status == 409);
  CHECK(error_code(ext) == "EXTERNAL_INVENTORY_READ_ONLY");
  auto unknown = w.admin.get("/v1/inventory/NOPE-1");
  CHECK(unknown.status == 404);
  CHECK(error_code(unknown) == "UNKNOWN_SKU");
  auto bad_seller = w.admin.get("/v1/inventory/BOOK-1?seller=ACME");
  CHECK(bad_seller.status == 400);
  CHECK(w.admin.get("/v1/inventory/BOOK-1?color=red").status == 400);
  // Price changes.
  auto p = w.admin.request("PATCH", "/v1/inventory/BOOK-1",
                           R"({"unitPrice": 45000})");
  CHECK(p.status == 200);
  CHECK(body_of(p)["unitPrice"] == 45000);
  // Listing in pages.
  w.receive("BOOK-2", 1, 100);
  w.receive("BOOK-3", 1, 100);
  auto page1 = body_of(w.admin.get("/v1/inventory?limit=2"));
  REQUIRE(page1["items"].size() == 2);
  CHECK(page1["items"][0]["sku"] == "BOOK-1");
  CHECK(page1["items"][1]["sku"] == "BOOK-2");
  REQUIRE(page1["nextCursor"].is_string());
  auto page2 = body_of(w.admin.get("/v1/inventory?limit=2&cursor=" +
                                   page1["nextCursor"].get<std::string>()));
  REQUIRE(page2["items"].size() == 1);
  CHECK(page2["items"][0]["sku"] == "BOOK-3");
  CHECK(page2["nextCursor"].is_null());
  CHECK(w.admin.get("/v1/inventory?limit=0").status == 400);
  CHECK(w.admin.get("/v1/inventory?limit=101").status == 400);
  CHECK(w.admin.get("/v1/inventory?seller=EXTERNAL").status == 503);
}

TEST_CASE("e2e: the order lifecycle through every route") {
  world w;
  w.receive("PEN-1", 10, 2500);
  auto [cid, token] = w.customer("Ravi");
  http_client me{w.d.url(), token};
  auto created =
      me.post("/v1/orders", world::order_body(cid, "PEN-1", 4).dump());
  REQUIRE_MESSAGE(created.status == 201, created.body);
  auto order = body_of(created);
  auto id = order["id"].get<std::string>();
  CHECK(id.rfind("ord_", 0) == 0);
  CHECK(id.size() >= 26);
  CHECK(order["status"] == "CREATED");
  CHECK(order["totalAmount"] == 10000);
  CHECK(order["currency"] == "INR");
  CHECK(order["holdExpiresAt"].is_string());
  CHECK(order["createdAt"].is_string());
  CHECK(order["updatedAt"].is_string());
  CHECK(order["lines"][0]["sku"] == "PEN-1");
  CHECK(available(w, "PEN-1") == 6);

  // The customer may not confirm, ship or deliver.
  CHECK(me.post("/v1/orders/" + id + "/confirm", "").status == 403);
  auto c = w.admin.post("/v1/orders/" + id + "/confirm", "");
  REQUIRE_MESSAGE(c.status == 200, c.body);
  CHECK(body_of(c)["status"] == "CONFIRMED");
  CHECK(body_of(c)["holdExpiresAt"].is_null());
  auto wrong = me.post("/v1/orders/" + id + "/pay", R"({"amount": 9999})");
  CHECK(wrong.status == 422);
  CHECK(error_code(wrong) == "AMOUNT_MISMATCH");
  auto declined =
      me.post("/v1/orders/" + id + "/pay",
              R"({"amount": 10000, "paymentToken": "tok_decline"})");
  CHECK(declined.status == 402);
  CHECK(error_code(declined) == "PAYMENT_DECLINED");
  auto paid = me.post("/v1/orders/" + id + "/pay", R"({"amount": 10000})",
                      {"Idempotency-Key: pay-1"});
  REQUIRE_MESSAGE(paid.status == 200, paid.body);
  CHECK(body_of(paid)["status"] == "PAID");
  CHECK(body_of(paid)["paidAmount"] == 10000);
  // A retry with the key answers the same; nothing is charged twice.
  auto again = me.post("/v1/orders/" + id + "/pay", R"({"amount": 10000})",
                       {"Idempotency-Key: pay-1"});
  CHECK(again.status == 200);
  CHECK(body_of(again)["paidAmount"] == 10000);
  CHECK(w.admin.post("/v1/orders/" + id + "/ship", "").status == 200);
  auto delivered = w.admin.post("/v1/orders/" + id + "/deliver", "");
  CHECK(body_of(delivered)["status"] == "DELIVERED");
  auto twice = w.admin.post("/v1/orders/" + id + "/deliver", "");
  CHECK(twice.status == 409);
  CHECK(error_code(twice) == "INVALID_TRANSITION");
  auto seen = body_of(me.get("/v1/orders/" + id));
  CHECK(seen["status"] == "DELIVERED");
  std::vector<std::string> steps;
  for (auto& h : seen["history"])
    steps.push_back(h["to"].get<std::string>());
  CHECK(std::count(steps.begin(), steps.end(), "PAID") == 1);
  CHECK(steps.back() == "DELIVERED");
  auto v = w.stock("PEN-1");
  CHECK(v["onHand"] == 6);
  CHECK(v["available"] == 6);
  // The customer's order list.
  auto list = body_of(me.get("/v1/customers/" + cid + "/orders?limit=5"));
  REQUIRE(list["orders"].size() == 1);
  CHECK(list["orders"][0]["id"] == id);
  // The audit finds nothing wrong.
  auto audit = body_of(w.admin.get("/v1/audit"));
  CHECK(audit["violations"].empty());
}

TEST_CASE("e2e: PATCH applies only legal transitions, cancel releases") {
  world w;
  w.receive("CUP-1", 10, 300);
  auto [cid, token] = w.customer("Meera");
  http_client me{w.d.url(), token};
  auto id = body_of(me.post("/v1/orders",
                            world::order_body(cid, "CUP-1", 3).dump()))["id"]
                .get<std::string>();
  auto paid = me.request("PATCH", "/v1/orders/" + id, R"({"status": "PAID"})");
  CHECK(paid.status == 400);
  auto early = w.admin.request("PATCH", "/v1/orders/" + id,
                               R"({"status": "FULFILLED"})");
  CHECK(early.status == 409);
  CHECK(error_code(early) == "INVALID_TRANSITION");
  CHECK(me.request("PATCH", "/v1/orders/" + id, R"({"status": "CONFIRMED"})")
            .status == 403);
  auto partial = me.post("/v1/orders/" + id + "/cancel",
                         R"({"lines": [{"sku": "CUP-1", "quantity": 1}]})");
  REQUIRE_MESSAGE(partial.status == 200, partial.body);
  CHECK(body_of(partial)["totalAmount"] == 600);
  CHECK(available(w, "CUP-1") == 8);
  auto cancel =
      me.request("PATCH", "/v1/orders/" + id,
                 R"({"status": "CANCELLED", "reason": "changed mind"})");
  REQUIRE(cancel.status == 200);
  CHECK(body_of(cancel)["status"] == "CANCELLED");
  CHECK(available(w, "CUP-1") == 10);
  CHECK(
      w.admin.request("PATCH", "/v1/orders/" + id, R"({"status": "CONFIRMED"})")
          .status == 409);
}

TEST_CASE("e2e: a customer cannot see or touch another customer's orders") {
  world w;
  w.receive("LAMP-1", 5, 1000);
  auto [a, token_a] = w.customer("A");
  auto [b, token_b] = w.customer("B");
  http_client alice{w.d.url(), token_a};
  http_client bob{w.d.url(), token_b};
  auto id = body_of(alice.post("/v1/orders",
                               world::order_body(a, "LAMP-1", 1).dump()))["id"]
                .get<std::string>();
  auto peek = bob.get("/v1/orders/" + id);
  CHECK(peek.status == 404);
  CHECK(error_code(peek) == "ORDER_NOT_FOUND");
  // Exactly what a missing order answers.
  auto missing = bob.get("/v1/orders/ord_doesnotexist0000000000000");
  CHECK(missing.status == 404);
  CHECK(body_of(peek)["error"]["message"].get<std::string>().find(id) !=
        std::string::npos);
  CHECK(bob.post("/v1/orders/" + id + "/cancel", "").status == 404);
  CHECK(bob.post("/v1/orders/" + id + "/pay", R"({"amount": 1000})",
                 {"Idempotency-Key: steal"})
            .status == 404);
  CHECK(body_of(alice.get("/v1/orders/" + id))["status"] == "CREATED");
  CHECK(bob.get("/v1/customers/" + a + "/cart").status == 404);
  CHECK(bob.get("/v1/customers/" + a + "/orders").status == 404);
  CHECK(bob.get("/v1/customers/" + a).status == 404);
  auto for_a = bob.post("/v1/orders", world::order_body(a, "LAMP-1", 1).dump());
  CHECK(for_a.status == 404);
  CHECK(error_code(for_a) == "NOT_FOUND");
  CHECK(available(w, "LAMP-1") == 4);
  // The admin sees everything.
  CHECK(w.admin.get("/v1/orders/" + id).status == 200);
}

TEST_CASE("e2e: strict schemas and limits change nothing") {
  world w;
  w.receive("SOAP-1", 10, 100);
  auto [cid, token] = w.customer("Lee");
  http_client me{w.d.url(), token};
  auto expect_400 = [&](const std::string& body, const std::string& field) {
    auto r = me.post("/v1/orders", body);
    CHECK_MESSAGE(r.status == 400, body);
    CHECK(error_code(r) == "VALIDATION_FAILED");
    CHECK_MESSAGE(body_of(r)["error"]["message"].get<std::string>().find(
                      field) != std::string::npos,
                  r.body);
  };
  auto good = world::order_body(cid, "SOAP-1", 1);
  auto with = [&](const char* key, json value) {
    auto j = good;
    j[key] = std::move(value);
    return j.dump();
  };
  expect_400(with("status", "PAID"), "status");
  expect_400(with("totalAmount", 1), "totalAmount");
  auto priced = good;
  priced["items"][0]["unitPrice"] = 1;
  expect_400(priced.dump(), "unitPrice");
  auto zero = good;
  zero["items"][0]["quantity"] = 0;
  expect_400(zero.dump(), "quantity");
  auto huge = good;
  huge["items"][0]["quantity"] = 1'000'001;
  expect_400(huge.dump(), "quantity");
  auto fractional = good;
  fractional["items"][0]["quantity"] = 1.5;
  expect_400(fractional.dump(), "quantity");
  auto text = good;
  text["items"][0]["quantity"] = "1";
  expect_400(text.dump(), "quantity");
  auto many = good;
  many["items"] = json::array();
  for (int i = 0; i < 101; ++i)
    many["items"].push_back({{"sku", "SOAP-1"}, {"quantity", 1}});
  expect_400(many.dump(), "items");
  auto no_city = good;
  no_city["address"].erase("city");
  expect_400(no_city.dump(), "city");
  expect_400("{\"items\": [", "JSON");
  expect_400("[1, 2]", "object");
  std::string deep(40, '[');
  deep += std::string(40, ']');
  expect_400("{\"x\": " + deep + "}", "deeper");
  std::string big = R"({"customerId": ")" + std::string(70 * 1024, 'x') + "\"}";
  auto too_big = me.post("/v1/orders", big);
  CHECK(too_big.status == 413);
  CHECK(error_code(too_big) == "PAYLOAD_TOO_LARGE");
  auto bad_key = me.post("/v1/orders", good.dump(),
                         {"Idempotency-Key: " + std::string(256, 'k')});
  CHECK(bad_key.status == 400);
  // Nothing of it reserved anything.
  CHECK(available(w, "SOAP-1") == 10);
  CHECK(body_of(me.get("/v1/customers/" + cid + "/orders"))["orders"].empty());
  // Unknown routes and methods.
  auto nowhere = me.get("/v1/nowhere");
  CHECK(nowhere.status == 404);
  CHECK(error_code(nowhere) == "NOT_FOUND");
  auto method = me.request("DELETE", "/v1/orders");
  CHECK(method.status == 405);
  CHECK(method.header("Allow") == "POST, GET");
}

TEST_CASE("e2e: bytes that are not UTF-8 in a query or an order id are "
          "answered 400 in the error shape, and no request stays in flight") {
  // Proves issue #16 item 6 over HTTP: GET /healthz?%ff=1 closed the
  // connection with no answer and no log line and left
  // oms_http_requests_in_flight one higher for good; a 0xFF byte in an
  // order id answered 500 with nlohmann's exception text. A long drain
  // timeout makes a request left in flight show at the stop.
  world w{{"--drain-timeout", "60s"}};
  http_client anon{w.d.url()};
  // The gauge as /metrics shows it, its own request included.
  auto in_flight = [&] {
    auto text = anon.get("/metrics").body;
    std::string gauge = "\noms_http_requests_in_flight ";
    auto at = text.find(gauge);
    REQUIRE(at != std::string::npos);
    return std::stol(text.substr(at + gauge.size()));
  };
  auto before = in_flight();
  auto raw = [&](const std::string& request_line, const std::string& token) {
    std::string req = request_line + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    if (!token.empty())
      req += "Authorization: Bearer " + token + "\r\n";
    return raw_http(w.d.port(), req + "Content-Length: 0\r\n"
                                      "Connection: close\r\n\r\n");
  };
  auto health = raw("GET /healthz?%ff=1", "");
  CHECK_MESSAGE(health.status == 400, health.error);
  auto j = body_of(health);
  CHECK(j["error"]["code"] == "VALIDATION_FAILED");
  CHECK(j["error"]["details"]["field"] == "%FF");
  CHECK(in_flight() == before);
  for (std::string line :
       {"GET /v1/orders/\xFF", "POST /v1/orders/ord_\xFF/cancel"}) {
    CAPTURE(line);
    auto r = raw(line, w.d.admin_token());
    CHECK_MESSAGE(r.status == 400, r.error);
    auto e = body_of(r)["error"];
    CHECK(e["code"] == "VALIDATION_FAILED");
    CHECK(e["details"]["field"] == "orderId");
    CHECK(e["message"] == "orderId: must be valid UTF-8");
    CHECK(r.body.find("exception") == std::string::npos);
  }
  // omsd decodes no path: "%FF" is an id like any other, and unknown.
  auto escaped = raw("GET /v1/orders/%FF", w.d.admin_token());
  CHECK(escaped.status == 404);
  CHECK(error_code(escaped) == "ORDER_NOT_FOUND");
  CHECK(in_flight() == before);
  // Each was answered and counted (the log line beside the count is at
  // level info, below what the fixture's omsd writes).
  CHECK(anon.get("/metrics")
            .body.find(
                "oms_http_requests_total{route=\"/healthz\",method=\"GET\","
                "status=\"400\"} 1\n") != std::string::npos);
  // SIGTERM finds nothing to wait for, well within the drain timeout.
  auto t0 = std::chrono::steady_clock::now();
  CHECK(w.d.stop() == 0);
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(30));
}

TEST_CASE("e2e: two customers race for the last unit: one wins") {
  world w;
  w.receive("LAST-1", 1, 999);
  auto [a, token_a] = w.customer("A");
  auto [b, token_b] = w.customer("B");
  for (int round = 0; round < 5; ++round) {
    if (round > 0)
      w.receive("LAST-1", 1);
    std::atomic<int> created{0};
    std::atomic<int> refused{0};
    auto buy = [&](std::string cid, std::string token) {
      http_client c{w.d.url(), token};
      auto r = c.post("/v1/orders", world::order_body(cid, "LAST-1", 1).dump());
      if (r.status == 201)
        ++created;
      else if (r.status == 409 && error_code(r) == "INSUFFICIENT_STOCK")
        ++refused;
    };
    std::thread t1{buy, a, token_a};
    std::thread t2{buy, b, token_b};
    t1.join();
    t2.join();
    CHECK(created == 1);
    CHECK(refused == 1);
    CHECK(available(w, "LAST-1") == 0);
  }
  CHECK(body_of(w.admin.get("/v1/audit"))["violations"].empty());
}

TEST_CASE("e2e: idempotent order creation over HTTP") {
  world w;
  w.receive("MUG-1", 10, 450);
  auto [cid, token] = w.customer("Ira");
  http_client me{w.d.url(), token};
  auto body = world::order_body(cid, "MUG-1", 2).dump();
  auto r1 = me.post("/v1/orders", body, {"Idempotency-Key: order-42"});
  auto r2 = me.post("/v1/orders", body, {"Idempotency-Key: order-42"});
  REQUIRE(r1.status == 201);
  CHECK(r2.status == 201);
  CHECK(body_of(r1)["id"] == body_of(r2)["id"]);
  CHECK(available(w, "MUG-1") == 8);
  auto other = me.post("/v1/orders", world::order_body(cid, "MUG-1", 3).dump(),
                       {"Idempotency-Key: order-42"});
  CHECK(other.status == 422);
  CHECK(error_code(other) == "IDEMPOTENCY_KEY_REUSED");
  CHECK(available(w, "MUG-1") == 8);
}

TEST_CASE("e2e: carts: set, remove, checkout with a key, empty cart") {
  world w;
  w.receive("TEA-1", 5, 200);
  w.receive("TEA-2", 5, 300);
  auto [cid, token] = w.customer("Zoya");
  http_client me{w.d.url(), token};
  auto base = "/v1/customers/" + cid + "/cart";
  auto put = me.request("PUT", base + "/items/TEA-1", R"({"quantity": 2})");
  REQUIRE_MESSAGE(put.status == 200, put.body);
  me.request("PUT", base + "/items/TEA-2", R"({"quantity": 1})");
  auto cart = body_of(me.get(base));
  CHECK(cart["lines"].size() == 2);
  CHECK(cart["totalAmount"] == 700);
  auto over = me.request("PUT", base + "/items/TEA-1", R"({"quantity": 6})");
  CHECK(over.status == 409);
  CHECK(error_code(over) == "INSUFFICIENT_STOCK");
  CHECK(me.request("DELETE", base + "/items/TEA-2").status == 200);
  CHECK(body_of(me.get(base))["lines"].size() == 1);
  auto checkout = json{{"address", ship_to}}.dump();
  auto o1 = me.post(base + "/checkout", checkout, {"Idempotency-Key: co-1"});
  REQUIRE_MESSAGE(o1.status == 201, o1.body);
  CHECK(body_of(o1)["totalAmount"] == 400);
  auto o2 = me.post(base + "/checkout", checkout, {"Idempotency-Key: co-1"});
  CHECK(o2.status == 201);
  CHECK(body_of(o1)["id"] == body_of(o2)["id"]);
  CHECK(body_of(me.get(base))["lines"].empty());
  auto empty = me.post(base + "/checkout", checkout);
  CHECK(empty.status == 400);
  CHECK(error_code(empty) == "CART_EMPTY");
  CHECK(available(w, "TEA-1") == 3);
}

TEST_CASE("e2e: an unconfirmed order cancels itself after the TTL in the "
          "config file") {
  char tmpl[] = "/tmp/oms-conf-XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  std::string conf = std::string{tmpl} + "/omsd.conf";
  {
    std::ofstream out{conf};
    out << "# test config\nhold-ttl = \"1s\"\nlog-level = \"warn\"\n";
  }
  world w{{"--config", conf}};
  w.receive("FAN-1", 2, 1500);
  auto [cid, token] = w.customer("Om");
  http_client me{w.d.url(), token};
  auto sent = std::chrono::steady_clock::now();
  auto order =
      body_of(me.post("/v1/orders", world::order_body(cid, "FAN-1", 2).dump()));
  auto id = order["id"].get<std::string>();
  auto held = available(w, "FAN-1");
  // The hold is asserted only when the answer came well inside the second
  // the order holds its stock (a slow run may see it expired already).
  if (std::chrono::steady_clock::now() - sent < std::chrono::milliseconds(800))
    CHECK(held == 0);
  json seen;
  eventually(
      [&] {
        seen = body_of(me.get("/v1/orders/" + id));
        return seen["status"] == "CANCELLED";
      },
      std::chrono::seconds(60));
  CHECK(seen["status"] == "CANCELLED");
  CHECK(available(w, "FAN-1") == 2);
  auto late = w.admin.post("/v1/orders/" + id + "/confirm", "");
  CHECK(late.status == 409);
  CHECK((error_code(late) == "ORDER_EXPIRED" ||
         error_code(late) == "INVALID_TRANSITION"));
  std::filesystem::remove_all(tmpl);
}

TEST_CASE("e2e: the per-token rate limit answers 429 with Retry-After") {
  world w{{"--rate-limit", "1", "--rate-burst", "3"}};
  auto [cid, token] = w.customer("Raj");
  http_client me{w.d.url(), token};
  int ok = 0;
  http_result limited;
  for (int i = 0; i < 6; ++i) {
    auto r = me.get("/v1/inventory");
    if (r.status == 200)
      ++ok;
    else
      limited = r;
  }
  CHECK(ok >= 3);
  CHECK(ok < 6);
  CHECK(limited.status == 429);
  CHECK(error_code(limited) == "RATE_LIMITED");
  CHECK(std::stoi(limited.header("Retry-After")) >= 1);
  // Another token has its own bucket.
  auto [cid2, token2] = w.customer("Ria");
  http_client other{w.d.url(), token2};
  CHECK(other.get("/v1/inventory").status == 200);
  // Guessing tokens is throttled too.
  http_client guess{w.d.url(), "not-a-token"};
  int unauthorized = 0;
  int throttled = 0;
  for (int i = 0; i < 6; ++i) {
    auto r = guess.get("/v1/inventory");
    unauthorized += r.status == 401 ? 1 : 0;
    throttled += r.status == 429 ? 1 : 0;
  }
  CHECK(unauthorized >= 3);
  CHECK(throttled >= 1);
}

TEST_CASE("e2e: SIGTERM under traffic exits 0 and loses no acknowledged "
          "order") {
  world w;
  w.receive("HOT-1", 1'000'000, 10);
  // Not a structured binding: the clients' lambdas capture both.
  const auto load = w.customer("Load");
  const std::string& cid = load.first;
  const std::string& token = load.second;
  std::mutex mtx;
  std::set<std::string> acked;
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t)
    clients.emplace_back([&] {
      http_client c{w.d.url(), token, std::chrono::seconds(5)};
      while (!stop) {
        auto r =
            c.post("/v1/orders", world::order_body(cid, "HOT-1", 1).dump());
        if (r.status == 201) {
          std::lock_guard<std::mutex> guard{mtx};
          acked.insert(body_of(r)["id"].get<std::string>());
        } else if (r.status == 0) {
          return; // the daemon is gone
        }
      }
    });
  // Stop once traffic is flowing: a condition, not a fixed sleep.
  {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    for (;;) {
      {
        std::lock_guard<std::mutex> guard{mtx};
        if (acked.size() >= 200)
          break;
      }
      if (std::chrono::steady_clock::now() >= deadline)
        FAIL("fewer than 200 orders acknowledged in 30 s");
      std::this_thread::yield();
    }
  }
  auto code = w.d.stop();
  stop = true;
  for (auto& t : clients)
    t.join();
  CHECK(code == 0);
  REQUIRE(acked.size() > 0);
  w.d.restart();
  http_client me{w.d.url(), token};
  size_t found = 0;
  for (auto& id : acked)
    found += me.get("/v1/orders/" + id).status == 200 ? 1 : 0;
  CHECK(found == acked.size());
  auto v = w.stock("HOT-1");
  CHECK(v["reserved"].get<int64_t>() >= static_cast<int64_t>(acked.size()));
  CHECK(body_of(w.admin.get("/v1/audit"))["violations"].empty());
  MESSAGE("acknowledged orders before SIGTERM: " << acked.size());
}

TEST_CASE("e2e: refuses to start on a taken port or an unusable store") {
  world w;
  auto taken = run_process({OMSD_PATH, "--port", std::to_string(w.d.port()),
                            "--data-dir", w.d.data_dir() + "/other",
                            "--admin-token", "admin-secret-token"});
  CHECK(taken.exit_code == 2);
  CHECK(taken.err.find("cannot listen on 127.0.0.1:" +
                       std::to_string(w.d.port())) != std::string::npos);
  char tmpl[] = "/tmp/oms-bad-XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  std::string dir = tmpl;
  {
    std::ofstream junk{dir + "/oms.db"};
    junk << std::string(8192, 'J');
  }
  auto bad =
      run_process({OMSD_PATH, "--port", std::to_string(free_port()),
                   "--data-dir", dir, "--admin-token", "admin-secret-token"});
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find(dir + "/oms.db") != std::string::npos);
  auto flag = run_process({OMSD_PATH, "--hold-ttl", "15 minutes"});
  CHECK(flag.exit_code == 2);
  CHECK(flag.err.find("hold-ttl") != std::string::npos);
  auto help = run_process({OMSD_PATH, "--help"});
  CHECK(help.exit_code == 0);
  for (auto* opt :
       {"--port", "--data-dir", "--store", "--hold-ttl", "--idempotency-window",
        "--admin-token", "--rate-limit", "--log-level", "--config"})
    CHECK_MESSAGE(help.out.find(opt) != std::string::npos, opt);
  std::filesystem::remove_all(dir);
}

TEST_CASE("e2e: customers and the generated admin token survive a restart") {
  daemon d{{}, false};
  auto token_file = d.data_dir() + "/data/admin.token";
  REQUIRE(std::filesystem::exists(token_file));
  auto perms = std::filesystem::status(token_file).permissions();
  CHECK((perms & std::filesystem::perms::group_read) ==
        std::filesystem::perms::none);
  CHECK((perms & std::filesystem::perms::others_read) ==
        std::filesystem::perms::none);
  std::string admin_token;
  std::ifstream{token_file} >> admin_token;
  CHECK(admin_token.size() >= 32);
  http_client admin{d.url(), admin_token};
  auto created = admin.post("/v1/customers", R"({"name": "Dev"})");
  REQUIRE_MESSAGE(created.status == 201, created.body);
  auto cid = body_of(created)["customerId"].get<std::string>();
  auto token = body_of(created)["token"].get<std::string>();
  d.restart();
  // The same generated admin token and the customer's token still work.
  CHECK(admin.get("/v1/audit").status == 200);
  http_client me{d.url(), token};
  auto r = me.get("/v1/customers/" + cid);
  CHECK(r.status == 200);
  CHECK(body_of(r)["name"] == "Dev");
  CHECK(body_of(r).count("token") == 0);
  // The store keeps only the token's hash.
  std::ifstream db{d.data_dir() + "/data/oms.db", std::ios::binary};
  std::string bytes{std::istreambuf_iterator<char>(db), {}};
  CHECK(bytes.find(token) == std::string::npos);
  CHECK(d.log().find(token) == std::string::npos);
}
