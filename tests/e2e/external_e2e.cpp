// The EXTERNAL seller end to end: the real omsd against the real wms-sim on
// loopback, with a short batch interval, a low rate limit and injected 5xx.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <sys/wait.h>

#include "tests/e2e/daemon.hpp"
#include "tests/e2e/wms_process.hpp"

using namespace oms;
using namespace oms::e2e;
using client::http_client;
using client::http_result;

namespace {

// The most requests omsd sent to the WMS in any sliding second, as its
// /metrics shows it (-1 if absent).
int64_t most_sent_in_a_second(const e2e::daemon& d) {
  auto text = http_client{d.url(), ""}.get("/metrics").body;
  const std::string name = "\noms_wms_sends_per_window_max ";
  auto at = text.find(name);
  if (at == std::string::npos)
    return -1;
  at += name.size();
  return std::stoll(text.substr(at, text.find('\n', at) - at));
}

} // namespace

TEST_CASE("e2e external: concurrent orders against a real wms-sim never "
          "oversell, keep under its rate limit and leave the WMS in step") {
  wms sim{
      json{{"skus", {{{"sku", "EXT-1"}, {"onHand", 20}, {"unitPrice", 1500}}}}},
      {"--batch-interval", "2s", "--rate-limit", "5", "--fail-rate", "0.1",
       "--seed", "7"}};
  e2e::daemon d({"--wms-url", sim.url(), "--wms-rate", "4", "--wms-timeout",
                 "2s", "--external-batch-interval", "2s",
                 "--external-snapshot-min-interval", "1s",
                 "--external-feed-interval", "1s"});
  http_client admin{d.url(), d.admin_token()};
  auto r = admin.post("/v1/customers", json{{"name", "Asha"}}.dump());
  REQUIRE_MESSAGE(r.status == 201, r.body);
  auto customer = body_of(r)["customerId"].get<std::string>();

  // 6 clients order 3 units each until refused.
  std::atomic<int64_t> granted_units{0};
  std::mutex mtx;
  std::vector<std::string> orders;
  std::atomic<int> unexpected{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 6; ++t)
    clients.emplace_back([&] {
      http_client c{d.url(), d.admin_token()};
      for (;;) {
        json body{
            {"customerId", customer},
            {"items",
             {{{"sku", "EXT-1"}, {"quantity", 3}, {"seller", "EXTERNAL"}}}},
            {"address", ship_to}};
        auto res = c.post("/v1/orders", body.dump());
        if (res.status == 201) {
          granted_units += 3;
          std::lock_guard<std::mutex> guard{mtx};
          orders.push_back(body_of(res)["id"].get<std::string>());
          continue;
        }
        if (res.status != 409 || error_code(res) != "INSUFFICIENT_STOCK")
          ++unexpected;
        return;
      }
    });
  for (auto& t : clients)
    t.join();
  CHECK(unexpected == 0);
  CHECK(granted_units <= 20);
  CHECK(granted_units == 18); // 6 orders of 3 fit, the 7th does not

  // Every granted order reaches the WMS despite its 5xx and rate limit.
  bool in_step = eventually(
      [&] {
        auto s = sku_state(sim.state(), "EXT-1");
        return s.value("reserved", int64_t{0}) == granted_units.load();
      },
      std::chrono::seconds(90));
  CHECK(in_step);
  auto state = sim.state();
  CHECK(sku_state(state, "EXT-1")["liveOrderable"] == 2);
  // omsd never sent more than its rate (4, under the WMS's 5) in any
  // sliding second. (What the WMS saw arrive in a second is not asserted:
  // a loaded machine can delay requests and hand them to it together, 6
  // in one second once; it is shown.)
  auto sent = most_sent_in_a_second(d);
  CHECK(sent >= 1);
  CHECK(sent <= 4);
  MESSAGE("most arrivals in a second at the WMS: "
          << state["maxRequestsInAnySecond"].get<int64_t>());

  // Cancel one order: the units go back at the WMS too.
  REQUIRE_FALSE(orders.empty());
  auto cancel = admin.post("/v1/orders/" + orders.front() + "/cancel",
                           json{{"reason", "changed my mind"}}.dump());
  REQUIRE_MESSAGE(cancel.status == 200, cancel.body);
  CHECK(eventually(
      [&] {
        return sku_state(sim.state(), "EXT-1").value("reserved", int64_t{0}) ==
               granted_units.load() - 3;
      },
      std::chrono::seconds(90)));

  // A receipt at the warehouse becomes sellable through the feed or the next
  // batch, once.
  sim.post("/admin/receipts", json{{"sku", "EXT-1"}, {"quantity", 10}});
  CHECK(eventually(
      [&] {
        auto v = admin.get("/v1/inventory/EXT-1?seller=EXTERNAL");
        return v.status == 200 && body_of(v)["available"] == 15;
      },
      std::chrono::seconds(90)));
  CHECK(most_sent_in_a_second(d) <= 4);
}

TEST_CASE("e2e external: without a WMS, EXTERNAL requests answer "
          "WMS_UNAVAILABLE") {
  e2e::daemon d;
  http_client admin{d.url(), d.admin_token()};
  auto r = admin.get("/v1/inventory/EXT-1?seller=EXTERNAL");
  CHECK(r.status == 503);
  CHECK(error_code(r) == "WMS_UNAVAILABLE");
}

TEST_CASE("e2e external: a cart holds EXTERNAL lines next to ours, checked "
          "against our safe count, and checks out one seller at a time") {
  wms sim{
      json{{"skus", {{{"sku", "EXT-TV"}, {"onHand", 5}, {"unitPrice", 4000}}}}},
      {"--batch-interval", "0s", "--rate-limit", "0"}};
  e2e::daemon d({"--wms-url", sim.url(), "--external-snapshot-min-interval",
                 "1s", "--external-feed-interval", "1s"});
  http_client admin{d.url(), d.admin_token()};
  REQUIRE(admin
              .post("/v1/inventory/TEA/receipts",
                    json{{"quantity", 9}, {"unitPrice", 250}}.dump())
              .status == 200);
  auto c = admin.post("/v1/customers", json{{"name", "Asha"}}.dump());
  REQUIRE(c.status == 201);
  auto cid = body_of(c)["customerId"].get<std::string>();
  http_client me{d.url(), body_of(c)["token"].get<std::string>()};
  auto base = "/v1/customers/" + cid + "/cart";
  auto put = [&](const std::string& sku, const json& body) {
    return me.request("PUT", base + "/items/" + sku, body.dump());
  };
  // Our count of EXT-TV: 5 in the snapshot (no buffer configured).
  auto ext = put("EXT-TV", {{"quantity", 2}, {"seller", "EXTERNAL"}});
  REQUIRE_MESSAGE(ext.status == 200, ext.body);
  auto tea = put("TEA", {{"quantity", 3}});
  REQUIRE_MESSAGE(tea.status == 200, tea.body);
  auto lines = body_of(tea)["lines"];
  REQUIRE(lines.size() == 2);
  CHECK(lines[0]["seller"] == "EXTERNAL");
  CHECK(lines[0]["unitPrice"] == 4000);
  CHECK(lines[1]["seller"] == "INTERNAL");
  CHECK(body_of(tea)["totalAmount"] == 2 * 4000 + 3 * 250);
  // More than our safe count: refused, the line unchanged.
  auto much = put("EXT-TV", {{"quantity", 6}, {"seller", "EXTERNAL"}});
  CHECK(much.status == 409);
  CHECK(error_code(much) == "INSUFFICIENT_STOCK");
  CHECK(body_of(me.get(base))["lines"][0]["quantity"] == 2);
  // The same name is another line under our seller (and unknown there).
  CHECK(put("EXT-TV", {{"quantity", 1}}).status == 404);
  CHECK(put("TEA", {{"quantity", 1}, {"seller", "NOBODY"}}).status == 400);
  // Both sellers in the cart: a checkout must name one.
  auto both = me.post(base + "/checkout", json{{"address", ship_to}}.dump());
  CHECK(both.status == 400);
  CHECK(body_of(both)["error"]["details"]["field"] == "seller");
  auto order =
      me.post(base + "/checkout",
              json{{"address", ship_to}, {"seller", "EXTERNAL"}}.dump());
  REQUIRE_MESSAGE(order.status == 201, order.body);
  CHECK(body_of(order)["seller"] == "EXTERNAL");
  REQUIRE(body_of(order)["lines"].size() == 1);
  CHECK(body_of(order)["lines"][0]["sku"] == "EXT-TV");
  CHECK(body_of(order)["totalAmount"] == 8000);
  // Only our line is left; removing it names its seller.
  auto left = body_of(me.get(base))["lines"];
  REQUIRE(left.size() == 1);
  CHECK(left[0]["sku"] == "TEA");
  CHECK(me.request("DELETE", base + "/items/TEA?seller=EXTERNAL").status ==
        400);
  CHECK(me.request("DELETE", base + "/items/TEA").status == 200);
  // The EXTERNAL order holds its units: our count went down by 2.
  auto view = body_of(admin.get("/v1/inventory/EXT-TV?seller=EXTERNAL"));
  CHECK(view["available"] == 3);
}

TEST_CASE("e2e external: a partial cancel reduces the reservation at the real "
          "wms-sim, and a return with a damaged unit is reported there and "
          "restocked through its feed, once") {
  wms sim{
      json{{"skus", {{{"sku", "EXT-R"}, {"onHand", 10}, {"unitPrice", 1000}}}}},
      {"--batch-interval", "0s", "--rate-limit", "0"}};
  e2e::daemon d({"--wms-url", sim.url(), "--external-batch-interval", "1s",
                 "--external-snapshot-min-interval", "1s",
                 "--external-feed-interval", "1s"});
  http_client admin{d.url(), d.admin_token()};
  auto c = admin.post("/v1/customers", json{{"name", "Asha"}}.dump());
  REQUIRE(c.status == 201);
  auto cid = body_of(c)["customerId"].get<std::string>();
  http_client me{d.url(), body_of(c)["token"].get<std::string>()};
  auto made = me.post(
      "/v1/orders",
      json{{"customerId", cid},
           {"items",
            {{{"sku", "EXT-R"}, {"quantity", 5}, {"seller", "EXTERNAL"}}}},
           {"address", ship_to}}
          .dump());
  REQUIRE_MESSAGE(made.status == 201, made.body);
  auto id = body_of(made)["id"].get<std::string>();
  auto at_wms = [&](const std::string& path) {
    http_client w{sim.url()};
    return w.get(path);
  };
  auto reservation = "/reservations/" + id + ":EXT-R";
  // Cancel 2 of 5: the WMS's reservation keeps 3.
  auto cut =
      me.post("/v1/orders/" + id + "/cancel",
              json{{"lines", {{{"sku", "EXT-R"}, {"quantity", 2}}}}}.dump());
  REQUIRE_MESSAGE(cut.status == 200, cut.body);
  CHECK(body_of(cut)["status"] == "CREATED");
  CHECK(body_of(cut)["totalAmount"] == 3000);
  CHECK(eventually(
      [&] {
        auto r = at_wms(reservation);
        return r.status == 200 && body_of(r)["quantity"] == 3;
      },
      std::chrono::seconds(60)));
  CHECK(sku_state(sim.state(), "EXT-R")["reserved"] == 3);
  // Paid, shipped, delivered: the WMS ships the 3.
  auto paid =
      me.post("/v1/orders/" + id + "/pay", json{{"amount", 3000}}.dump());
  REQUIRE_MESSAGE(paid.status == 200, paid.body);
  REQUIRE(admin.post("/v1/orders/" + id + "/ship", "{}").status == 200);
  REQUIRE(admin.post("/v1/orders/" + id + "/deliver", "{}").status == 200);
  CHECK(eventually(
      [&] {
        auto r = at_wms(reservation);
        return r.status == 200 && body_of(r)["status"] == "SHIPPED";
      },
      std::chrono::seconds(60)));
  auto available = [&] {
    auto v = admin.get("/v1/inventory/EXT-R?seller=EXTERNAL");
    REQUIRE_MESSAGE(v.status == 200, v.body);
    return body_of(v)["available"].get<int64_t>();
  };
  auto before = available();
  // More than was delivered: refused, nothing recorded.
  auto much =
      me.post("/v1/orders/" + id + "/returns",
              json{{"lines", {{{"sku", "EXT-R"}, {"quantity", 4}}}}}.dump());
  CHECK(much.status == 400);
  CHECK(error_code(much) == "VALIDATION_FAILED");
  auto asked = me.post("/v1/orders/" + id + "/returns",
                       json{{"lines",
                             {{{"sku", "EXT-R"},
                               {"quantity", 2},
                               {"reason", "one arrived broken"}}}}}
                           .dump());
  REQUIRE_MESSAGE(asked.status == 201, asked.body);
  auto rid = body_of(asked)["id"].get<std::string>();
  auto base = "/v1/orders/" + id + "/returns/" + rid;
  auto got = admin.post(base + "/receive", "{}");
  REQUIRE_MESSAGE(got.status == 200, got.body);
  CHECK(body_of(got)["status"] == "RECEIVED");
  auto wms_return = "/returns/" + id + ":EXT-R:" + rid;
  auto r = at_wms(wms_return);
  REQUIRE_MESSAGE(r.status == 200, r.body);
  CHECK(body_of(r)["status"] == "RECEIVED");
  CHECK(body_of(r)["quantity"] == 2);
  CHECK(sku_state(sim.state(), "EXT-R")["unallocatable"] == 2);
  auto done = admin.post(
      base + "/inspect",
      json{{"lines", {{{"sku", "EXT-R"}, {"restock", 1}, {"damaged", 1}}}}}
          .dump());
  REQUIRE_MESSAGE(done.status == 200, done.body);
  CHECK(body_of(done)["status"] == "REFUNDED");
  CHECK(body_of(done)["order"]["refundedAmount"] == 2000);
  r = at_wms(wms_return);
  CHECK(body_of(r)["status"] == "INSPECTED");
  CHECK(body_of(r)["restocked"] == 1);
  CHECK(body_of(r)["damaged"] == 1);
  CHECK(sku_state(sim.state(), "EXT-R")["unallocatable"] == 1);
  // The restocked unit comes back through the feed; a batch at the WMS
  // then shows it in the snapshot instead, still once.
  CHECK(eventually([&] { return available() == before + 1; },
                   std::chrono::seconds(60)));
  http_client w{sim.url()};
  auto batch = w.post("/admin/batch", "{}");
  REQUIRE(batch.status == 200);
  auto reflects = body_of(batch)["reflects"].get<int64_t>();
  json ext;
  CHECK(eventually(
      [&] {
        auto v = admin.get("/v1/inventory/EXT-R?seller=EXTERNAL");
        ext = body_of(v)["external"];
        return v.status == 200 &&
               ext["snapshotReflects"].get<int64_t>() >= reflects;
      },
      std::chrono::seconds(60)));
  CHECK(ext["feedDelta"] == 0);
  CHECK(available() == before + 1);
  auto audit = admin.get("/v1/audit");
  REQUIRE(audit.status == 200);
  CHECK(body_of(audit)["violations"].empty());
}
