// omsd end to end for inbound stock: batches with expiry taken first to
// expire first, units set aside and returned, adjustments, the INBOX's once
// per event id, strict bodies, and the WMS gateway's status route.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/daemon.hpp"

using namespace oms::e2e;
using oms::client::http_client;
using oms::client::http_result;

namespace {

const json ship_to = {{"line1", "1 MG Road"},
                      {"city", "Pune"},
                      {"postalCode", "411001"},
                      {"country", "IN"}};

// An RFC 3339 UTC timestamp `seconds` from now, whole seconds.
std::string from_now(int64_t seconds) {
  auto t = std::time(nullptr) + seconds;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

constexpr int64_t day_s = 24 * 3600;

// How omsd renders a whole-second timestamp: with milliseconds.
std::string rendered(const std::string& rfc3339) {
  return rfc3339.substr(0, rfc3339.size() - 1) + ".000Z";
}

struct stock_world {
  daemon d;
  http_client admin{d.url(), d.admin_token()};

  http_result change(const std::string& sku, const json& body) {
    return admin.post("/v1/inventory/" + sku + "/changes", body.dump());
  }

  http_result receipt(const std::string& sku, const json& body) {
    return admin.post("/v1/inventory/" + sku + "/receipts", body.dump());
  }

  json stock(const std::string& sku) {
    auto r = admin.get("/v1/inventory/" + sku);
    REQUIRE_MESSAGE(r.status == 200, r.body);
    return body_of(r);
  }

  std::string customer(const std::string& name) {
    auto r = admin.post("/v1/customers", json{{"name", name}}.dump());
    REQUIRE_MESSAGE(r.status == 201, r.body);
    return body_of(r)["customerId"].get<std::string>();
  }

  http_result order(const std::string& customer, const std::string& sku,
                    int64_t qty) {
    return admin.post("/v1/orders",
                      json{{"customerId", customer},
                           {"items", {{{"sku", sku}, {"quantity", qty}}}},
                           {"address", ship_to}}
                          .dump());
  }

  bool audit_clean() {
    auto r = admin.get("/v1/audit");
    return r.status == 200 && body_of(r)["violations"].empty();
  }
};

// The fields of a stock view a refused request must leave as they were.
json counters(const json& v) {
  return json{{"onHand", v["onHand"]},
              {"available", v["available"]},
              {"receivedTotal", v["receivedTotal"]},
              {"adjustedTotal", v["adjustedTotal"]},
              {"unallocatable", v["unallocatable"]},
              {"batches", v["batches"]}};
}

} // namespace

TEST_CASE("e2e: receipts into two lots with expiry, an order takes the "
          "first to expire first and its line names the lots") {
  // Proves lot and expiresAt reach the batches, the batches list first to
  // expire first, and a reservation spans them in that order.
  stock_world w;
  auto late = from_now(60 * day_s);
  auto early = from_now(30 * day_s);
  auto r1 = w.receipt("MILK-1", {{"quantity", 3},
                                 {"unitPrice", 5600},
                                 {"lot", "L-LATE"},
                                 {"expiresAt", late}});
  REQUIRE_MESSAGE(r1.status == 200, r1.body);
  auto a1 = body_of(r1);
  CHECK(a1["outcome"] == "APPLIED");
  CHECK_FALSE(a1.contains("eventId"));
  CHECK(a1["onHand"] == 3);
  REQUIRE(a1["batches"].size() == 1);
  CHECK(a1["batches"][0]["lot"] == "L-LATE");
  CHECK(a1["batches"][0]["expiresAt"] == rendered(late));
  auto r2 = w.receipt(
      "MILK-1", {{"quantity", 2}, {"lot", "L-EARLY"}, {"expiresAt", early}});
  REQUIRE_MESSAGE(r2.status == 200, r2.body);
  // A receipt naming no lot and no expiry: its own batch, sold last.
  REQUIRE(w.receipt("MILK-1", {{"quantity", 1}}).status == 200);

  auto v = w.stock("MILK-1");
  REQUIRE(v["batches"].size() == 3);
  CHECK(v["batches"][0]["lot"] == "L-EARLY");
  CHECK(v["batches"][0]["expiresAt"] == rendered(early));
  CHECK(v["batches"][0]["expired"] == false);
  CHECK(v["batches"][1]["lot"] == "L-LATE");
  CHECK(v["batches"][2]["lot"] == "");
  CHECK(v["batches"][2]["expiresAt"].is_null());
  CHECK(v["onHand"] == 6);
  CHECK(v["unallocatable"] == 0);
  CHECK(v["adjustedTotal"] == 0);
  for (auto* reason : {"DAMAGED", "QUARANTINED", "EXPIRED", "SAFETY_STOCK"})
    CHECK(v["unallocatableByReason"][reason] == 0);

  auto cid = w.customer("Kiran");
  auto created = w.order(cid, "MILK-1", 4);
  REQUIRE_MESSAGE(created.status == 201, created.body);
  auto order = body_of(created);
  auto lots = order["lines"][0]["lots"];
  REQUIRE(lots.size() == 2);
  CHECK(lots[0]["lot"] == "L-EARLY");
  CHECK(lots[0]["quantity"] == 2);
  CHECK(lots[1]["lot"] == "L-LATE");
  CHECK(lots[1]["quantity"] == 2);
  // Each allocation keeps its batch's expiry (returns come back into it).
  CHECK(lots[0]["expiresAt"] == v["batches"][0]["expiresAt"]);
  CHECK(lots[1]["expiresAt"] == v["batches"][1]["expiresAt"]);
  // The order as read back names the same lots.
  auto id = order["id"].get<std::string>();
  CHECK(body_of(w.admin.get("/v1/orders/" + id))["lines"][0]["lots"] == lots);

  v = w.stock("MILK-1");
  CHECK(v["available"] == 2);
  CHECK(v["batches"][0]["held"] == 2);
  CHECK(v["batches"][0]["available"] == 0);
  CHECK(v["batches"][1]["held"] == 2);
  CHECK(v["batches"][1]["available"] == 1);
  CHECK(v["batches"][2]["available"] == 1);

  // A batch keeps its expiry: another one for the same lot is refused.
  auto other = w.receipt("MILK-1", {{"quantity", 1},
                                    {"lot", "L-EARLY"},
                                    {"expiresAt", from_now(40 * day_s)}});
  CHECK(other.status == 400);
  CHECK(error_code(other) == "VALIDATION_FAILED");
  CHECK(w.stock("MILK-1")["onHand"] == 6);
  CHECK(w.audit_clean());
}

TEST_CASE("e2e: units set aside as DAMAGED leave sale and come back when "
          "returned") {
  // Proves SET_ASIDE and RETURN_ASIDE move units out of and into sale by
  // reason, per batch, and refuse to move more than there is.
  stock_world w;
  REQUIRE(w.receipt("TILE-1", {{"quantity", 10}, {"unitPrice", 900}}).status ==
          200);
  auto aside = w.change("TILE-1", {{"kind", "SET_ASIDE"},
                                   {"quantity", 3},
                                   {"reason", "DAMAGED"},
                                   {"note", "cracked in transit"}});
  REQUIRE_MESSAGE(aside.status == 200, aside.body);
  auto a = body_of(aside);
  CHECK(a["outcome"] == "APPLIED");
  CHECK(a["eventId"].is_null());
  CHECK(a["stock"]["onHand"] == 10);
  CHECK(a["stock"]["available"] == 7);
  CHECK(a["stock"]["unallocatable"] == 3);
  CHECK(a["stock"]["unallocatableByReason"]["DAMAGED"] == 3);
  CHECK(a["stock"]["batches"][0]["unallocatable"]["DAMAGED"] == 3);

  // Units set aside cannot be ordered.
  auto cid = w.customer("Noor");
  auto over = w.order(cid, "TILE-1", 8);
  CHECK(over.status == 409);
  CHECK(error_code(over) == "INSUFFICIENT_STOCK");

  auto back = w.change(
      "TILE-1",
      {{"kind", "RETURN_ASIDE"}, {"quantity", 2}, {"reason", "DAMAGED"}});
  REQUIRE_MESSAGE(back.status == 200, back.body);
  CHECK(body_of(back)["stock"]["available"] == 9);
  CHECK(body_of(back)["stock"]["unallocatableByReason"]["DAMAGED"] == 1);

  // Nothing QUARANTINED to return, and only 1 DAMAGED left.
  auto none = w.change(
      "TILE-1",
      {{"kind", "RETURN_ASIDE"}, {"quantity", 1}, {"reason", "QUARANTINED"}});
  CHECK(none.status == 409);
  CHECK(error_code(none) == "INSUFFICIENT_STOCK");
  auto too_many = w.change(
      "TILE-1",
      {{"kind", "RETURN_ASIDE"}, {"quantity", 5}, {"reason", "DAMAGED"}});
  CHECK(too_many.status == 409);
  // Held units cannot be set aside: 9 available, an order holds 9.
  REQUIRE(w.order(cid, "TILE-1", 9).status == 201);
  auto held = w.change(
      "TILE-1",
      {{"kind", "SET_ASIDE"}, {"quantity", 1}, {"reason", "SAFETY_STOCK"}});
  CHECK(held.status == 409);
  CHECK(error_code(held) == "INSUFFICIENT_STOCK");
  auto v = w.stock("TILE-1");
  CHECK(v["unallocatable"] == 1);
  CHECK(v["available"] == 0);
  CHECK(v["reserved"] == 9);

  // With two batches, a move must name one.
  REQUIRE(w.receipt("TILE-1", {{"quantity", 2}, {"lot", "B2"}}).status == 200);
  auto which = w.change(
      "TILE-1",
      {{"kind", "SET_ASIDE"}, {"quantity", 1}, {"reason", "QUARANTINED"}});
  CHECK(which.status == 400);
  CHECK(error_code(which) == "VALIDATION_FAILED");
  auto named = w.change("TILE-1", {{"kind", "SET_ASIDE"},
                                   {"quantity", 1},
                                   {"reason", "QUARANTINED"},
                                   {"lot", "B2"}});
  REQUIRE_MESSAGE(named.status == 200, named.body);
  CHECK(body_of(named)["stock"]["unallocatableByReason"]["QUARANTINED"] == 1);
  CHECK(w.audit_clean());
}

TEST_CASE("e2e: an adjustment corrects on-hand and counts in adjustedTotal") {
  // Proves ADJUSTMENT changes on-hand both ways, is kept apart from
  // receipts, and cannot take away held units or touch an unknown SKU.
  stock_world w;
  REQUIRE(w.receipt("BOLT-1", {{"quantity", 5}, {"unitPrice", 40}}).status ==
          200);
  auto down = w.change(
      "BOLT-1",
      {{"kind", "ADJUSTMENT"}, {"quantity", -2}, {"note", "cycle count"}});
  REQUIRE_MESSAGE(down.status == 200, down.body);
  auto s = body_of(down)["stock"];
  CHECK(s["onHand"] == 3);
  CHECK(s["available"] == 3);
  CHECK(s["adjustedTotal"] == -2);
  CHECK(s["receivedTotal"] == 5);
  auto up = w.change("BOLT-1", {{"kind", "ADJUSTMENT"}, {"quantity", 1}});
  REQUIRE(up.status == 200);
  CHECK(body_of(up)["stock"]["onHand"] == 4);
  CHECK(body_of(up)["stock"]["adjustedTotal"] == -1);

  auto cid = w.customer("Ola");
  REQUIRE(w.order(cid, "BOLT-1", 3).status == 201);
  auto held = w.change("BOLT-1", {{"kind", "ADJUSTMENT"}, {"quantity", -2}});
  CHECK(held.status == 409);
  CHECK(error_code(held) == "INSUFFICIENT_STOCK");
  auto unknown = w.change("NOPE-1", {{"kind", "ADJUSTMENT"}, {"quantity", 1}});
  CHECK(unknown.status == 404);
  CHECK(error_code(unknown) == "UNKNOWN_SKU");
  CHECK(w.admin.get("/v1/inventory/NOPE-1").status == 404);
  CHECK(w.stock("BOLT-1")["onHand"] == 4);
  CHECK(w.audit_clean());
}

TEST_CASE("e2e: an event id delivered three times is applied once") {
  // Proves the INBOX over HTTP: one APPLIED, then DUPLICATE with the stock
  // as it is, on both routes, and for deliveries racing each other.
  stock_world w;
  json grn{{"kind", "RECEIPT"},
           {"quantity", 5},
           {"unitPrice", 1200},
           {"eventId", "grn-1"}};
  auto first = w.change("SALT-1", grn);
  REQUIRE_MESSAGE(first.status == 201, first.body); // it created the SKU
  CHECK(body_of(first)["outcome"] == "APPLIED");
  CHECK(body_of(first)["eventId"] == "grn-1");
  CHECK(body_of(first)["stock"]["onHand"] == 5);
  for (int i = 0; i < 2; ++i) {
    auto again = w.change("SALT-1", grn);
    REQUIRE_MESSAGE(again.status == 200, again.body);
    auto a = body_of(again);
    CHECK(a["outcome"] == "DUPLICATE");
    CHECK(a["eventId"] == "grn-1");
    CHECK(a["stock"]["onHand"] == 5);
    CHECK_FALSE(a.contains("error"));
  }
  CHECK(w.stock("SALT-1")["receivedTotal"] == 5);

  // The receipts route: the same once-only, the StockView with the outcome.
  json receipt{{"quantity", 3}, {"eventId", "grn-2"}, {"lot", "S2"}};
  auto r1 = w.receipt("SALT-1", receipt);
  REQUIRE_MESSAGE(r1.status == 200, r1.body);
  CHECK(body_of(r1)["outcome"] == "APPLIED");
  CHECK(body_of(r1)["eventId"] == "grn-2");
  CHECK(body_of(r1)["onHand"] == 8);
  auto r2 = w.receipt("SALT-1", receipt);
  REQUIRE(r2.status == 200);
  CHECK(body_of(r2)["outcome"] == "DUPLICATE");
  CHECK(body_of(r2)["onHand"] == 8);

  // A receipt without an event id to an existing SKU: applied, 200.
  auto plain = w.change("SALT-1", {{"kind", "RECEIPT"}, {"quantity", 1}});
  CHECK(plain.status == 200);
  CHECK(body_of(plain)["outcome"] == "APPLIED");

  // Three deliveries at once: one applies, the others wait for it.
  std::atomic<int> applied{0};
  std::atomic<int> duplicates{0};
  std::vector<std::thread> senders;
  for (int i = 0; i < 3; ++i)
    senders.emplace_back([&] {
      http_client c{w.d.url(), w.d.admin_token()};
      auto r =
          c.post("/v1/inventory/SALT-1/changes", json{{"kind", "ADJUSTMENT"},
                                                      {"quantity", 4},
                                                      {"lot", "S2"},
                                                      {"eventId", "count-7"}}
                                                     .dump());
      auto outcome = body_of(r).value("outcome", "");
      applied += r.status == 200 && outcome == "APPLIED" ? 1 : 0;
      duplicates += r.status == 200 && outcome == "DUPLICATE" ? 1 : 0;
    });
  for (auto& t : senders)
    t.join();
  CHECK(applied == 1);
  CHECK(duplicates == 2);
  auto v = w.stock("SALT-1");
  CHECK(v["onHand"] == 13);
  CHECK(v["receivedTotal"] == 9);
  CHECK(v["adjustedTotal"] == 4);
  CHECK(w.audit_clean());
}

TEST_CASE("e2e: a rejected change answers 200 REJECTED and uses up its "
          "event id") {
  // Proves a change the stock refuses is recorded under its event id: the
  // answer says REJECTED with the error, nothing changes, and the id
  // answers DUPLICATE from then on; without an id the usual error answers.
  stock_world w;
  REQUIRE(w.receipt("JAM-1", {{"quantity", 2}, {"unitPrice", 300}}).status ==
          200);
  json too_many{{"kind", "SET_ASIDE"},
                {"quantity", 5},
                {"reason", "DAMAGED"},
                {"eventId", "qc-1"}};
  auto r = w.change("JAM-1", too_many);
  REQUIRE_MESSAGE(r.status == 200, r.body);
  auto a = body_of(r);
  CHECK(a["outcome"] == "REJECTED");
  CHECK(a["eventId"] == "qc-1");
  CHECK(a["error"]["code"] == "INSUFFICIENT_STOCK");
  CHECK_FALSE(a["error"]["message"].get<std::string>().empty());
  CHECK(a["stock"]["unallocatable"] == 0); // the stock as it is
  CHECK(a["stock"]["available"] == 2);
  // The id is used up: a fixed body with the same id changes nothing.
  auto fixed = too_many;
  fixed["quantity"] = 1;
  auto dup = w.change("JAM-1", fixed);
  CHECK(dup.status == 200);
  CHECK(body_of(dup)["outcome"] == "DUPLICATE");
  CHECK(w.stock("JAM-1")["unallocatable"] == 0);

  // An unknown SKU: REJECTED without a stock.
  auto unknown = w.change(
      "NOPE-2",
      {{"kind", "ADJUSTMENT"}, {"quantity", 1}, {"eventId", "count-9"}});
  REQUIRE(unknown.status == 200);
  CHECK(body_of(unknown)["outcome"] == "REJECTED");
  CHECK(body_of(unknown)["error"]["code"] == "UNKNOWN_SKU");
  CHECK_FALSE(body_of(unknown).contains("stock"));
  // A rejected receipt on the receipts route: the outcome and the error.
  auto no_price = w.receipt("NEW-1", {{"quantity", 1}, {"eventId", "grn-9"}});
  REQUIRE(no_price.status == 200);
  CHECK(body_of(no_price)["outcome"] == "REJECTED");
  CHECK(body_of(no_price)["error"]["code"] == "VALIDATION_FAILED");
  CHECK(w.admin.get("/v1/inventory/NEW-1").status == 404);

  // Without an event id the same change is an error answer.
  too_many.erase("eventId");
  auto plain = w.change("JAM-1", too_many);
  CHECK(plain.status == 409);
  CHECK(error_code(plain) == "INSUFFICIENT_STOCK");
}

TEST_CASE("e2e: bad stock change bodies answer 400 naming the field and "
          "change nothing") {
  // Proves the strict schemas of /changes and /receipts: each bad body is
  // refused before it reaches the stock or the INBOX, so the stock is as it
  // was and an event id sent with a bad body is still unused.
  stock_world w;
  REQUIRE(w.receipt("OIL-1", {{"quantity", 6}, {"unitPrice", 700}}).status ==
          200);
  auto before = counters(w.stock("OIL-1"));
  auto with_id = [](json body) {
    body["eventId"] = "probe-1";
    return body;
  };
  json good_receipt{{"kind", "RECEIPT"}, {"quantity", 1}};
  auto patched = [&](const char* key, json value) {
    auto j = with_id(good_receipt);
    j[key] = std::move(value);
    return j;
  };
  struct bad_case {
    std::string route; // "changes" or "receipts"
    json body;
    std::string field;
  };
  std::vector<bad_case> cases{
      {"changes", patched("color", "red"), "color"},
      {"changes",
       with_id({{"kind", "SET_ASIDE"}, {"quantity", 1}, {"reason", "EXPIRED"}}),
       "reason"},
      {"changes",
       with_id(
           {{"kind", "SET_ASIDE"}, {"quantity", -1}, {"reason", "DAMAGED"}}),
       "quantity"},
      {"changes", with_id({{"kind", "SET_ASIDE"}, {"quantity", 1}}), "reason"},
      {"changes",
       with_id({{"kind", "SET_ASIDE"}, {"quantity", 1}, {"reason", "LOST"}}),
       "reason"},
      {"changes",
       with_id(
           {{"kind", "RETURN_ASIDE"}, {"quantity", 0}, {"reason", "DAMAGED"}}),
       "quantity"},
      {"changes", with_id({{"kind", "ADJUSTMENT"}, {"quantity", 0}}),
       "quantity"},
      {"changes",
       with_id(
           {{"kind", "ADJUSTMENT"}, {"quantity", 1}, {"reason", "DAMAGED"}}),
       "reason"},
      {"changes",
       with_id({{"kind", "ADJUSTMENT"},
                {"quantity", 1},
                {"expiresAt", from_now(day_s)}}),
       "expiresAt"},
      {"changes",
       with_id({{"kind", "SET_ASIDE"},
                {"quantity", 1},
                {"reason", "DAMAGED"},
                {"unitPrice", 5}}),
       "unitPrice"},
      {"changes", patched("expiresAt", from_now(-day_s)), "expiresAt"},
      {"changes", patched("expiresAt", "tomorrow"), "expiresAt"},
      {"changes", patched("expiresAt", "2031-02-30T00:00:00Z"), "expiresAt"},
      {"changes", patched("expiresAt", "2031-01-01T00:00:00+05:30"),
       "expiresAt"},
      {"changes", patched("lot", std::string(65, 'L')), "lot"},
      {"changes", patched("lot", "a/b"), "lot"},
      {"changes", patched("lot", ""), "lot"},
      {"changes", patched("quantity", "1"), "quantity"},
      {"changes", patched("quantity", 1'000'001), "quantity"},
      {"changes", patched("unitPrice", 0), "unitPrice"},
      {"changes", patched("note", std::string(201, 'n')), "note"},
      {"changes", patched("kind", "TRANSFER"), "kind"},
      {"changes", with_id({{"quantity", 1}}), "kind"},
      {"changes",
       {{"kind", "RECEIPT"}, {"quantity", 1}, {"eventId", "a b"}},
       "eventId"},
      {"changes",
       {{"kind", "RECEIPT"},
        {"quantity", 1},
        {"eventId", std::string(129, 'e')}},
       "eventId"},
      {"changes",
       {{"kind", "RECEIPT"}, {"quantity", 1}, {"eventId", ""}},
       "eventId"},
      {"receipts", with_id({{"quantity", 1}, {"lot", std::string(65, 'L')}}),
       "lot"},
      {"receipts", with_id({{"quantity", 1}, {"expiresAt", from_now(-60)}}),
       "expiresAt"},
      {"receipts", {{"quantity", 1}, {"eventId", "bad id!"}}, "eventId"},
      {"receipts", with_id({{"quantity", 1}, {"batch", "B1"}}), "batch"},
      {"receipts", with_id({{"quantity", -1}}), "quantity"},
  };
  for (auto& bad : cases) {
    auto r = bad.route == "changes" ? w.change("OIL-1", bad.body)
                                    : w.receipt("OIL-1", bad.body);
    INFO(bad.route << " " << bad.body.dump() << " -> " << r.body);
    CHECK(r.status == 400);
    CHECK(error_code(r) == "VALIDATION_FAILED");
    CHECK(body_of(r)["error"]["details"]["field"] == bad.field);
  }
  CHECK(counters(w.stock("OIL-1")) == before);
  // The id sent with every bad body was never used.
  auto r = w.change("OIL-1", with_id(good_receipt));
  REQUIRE_MESSAGE(r.status == 200, r.body);
  CHECK(body_of(r)["outcome"] == "APPLIED");
  CHECK(body_of(r)["stock"]["onHand"] == 7);
}

TEST_CASE("e2e: stock changes and the WMS status are admin only, without a "
          "WMS the status answers 503 WMS_UNAVAILABLE") {
  // Proves the new routes sit behind the admin token and that omsd without
  // a WMS gateway says so instead of inventing counters.
  stock_world w;
  auto token = body_of(w.admin.post("/v1/customers",
                                    json{{"name", "Tara"}}.dump()))["token"]
                   .get<std::string>();
  http_client cust{w.d.url(), token};
  auto change = cust.post(
      "/v1/inventory/RICE-1/changes",
      json{{"kind", "RECEIPT"}, {"quantity", 1}, {"unitPrice", 10}}.dump());
  CHECK(change.status == 403);
  CHECK(error_code(change) == "FORBIDDEN");
  auto receipt =
      cust.post("/v1/inventory/RICE-1/receipts",
                json{{"quantity", 1}, {"unitPrice", 10}, {"lot", "R1"}}.dump());
  CHECK(receipt.status == 403);
  CHECK(w.admin.get("/v1/inventory/RICE-1").status == 404);
  auto wms_customer = cust.get("/v1/wms");
  CHECK(wms_customer.status == 403);

  auto wms = w.admin.get("/v1/wms");
  CHECK(wms.status == 503);
  CHECK(error_code(wms) == "WMS_UNAVAILABLE");
  CHECK(body_of(wms)["error"]["message"] == "no WMS configured");
  CHECK(w.admin.get("/v1/wms?verbose=1").status == 400);
  // Without a gateway, /metrics has no WMS series.
  auto metrics = http_client{w.d.url()}.get("/metrics");
  REQUIRE(metrics.status == 200);
  CHECK(metrics.body.find("oms_wms_") == std::string::npos);
  CHECK(metrics.body.find("route=\"/v1/inventory/{sku}/changes\"") !=
        std::string::npos);
}
