// The EXTERNAL seller on a cluster (docs/cluster.md, "The EXTERNAL seller
// on a cluster"): two omsd nodes and the real wms-sim. The holder of the
// duty shard serves the EXTERNAL seller, the other node forwards to it,
// and when the holder dies the other takes the duty and goes on with its
// orders, the WMS in step and no unit sold twice.
#include <doctest/doctest.h>

#include <string>

#include "tests/e2e/cluster_fixture.hpp"
#include "tests/e2e/wms_process.hpp"

using namespace oms::e2e;

namespace {

json external_order(const std::string& customer, int64_t qty) {
  return json{{"customerId", customer},
              {"items",
               {{{"sku", "EXT-1"}, {"quantity", qty}, {"seller", "EXTERNAL"}}}},
              {"address", ship_to}};
}

// The status of reservation `id` at the WMS ("" if it has none).
std::string at_wms(wms& sim, const std::string& id) {
  oms::client::http_client c{sim.url()};
  auto r = c.get("/reservations/" + id);
  return r.status == 200 ? body_of(r)["status"].get<std::string>() : "";
}

// How many times the WMS was asked for a reservation.
int64_t reservations_asked(wms& sim) {
  auto by_route = sim.state()["requests"]["byRoute"];
  return by_route.value("POST /reservations", int64_t{0});
}

} // namespace

TEST_CASE("e2e cluster: the duty shard's holder serves the EXTERNAL seller "
          "for every node, and the next holder goes on with its orders") {
  auto info = lease_server();
  if (info == nullptr)
    return;
  wms sim{
      json{{"skus", {{{"sku", "EXT-1"}, {"onHand", 10}, {"unitPrice", 700}}}}},
      {"--batch-interval", "1h"}};
  cluster_fixture c{info};
  auto two = two_linked(c, {"--wms-url", sim.url(), "--external-feed-interval",
                            "500ms", "--external-snapshot-min-interval", "1s"});
  node& holder = *two.holder;
  node& other = *two.other;
  CAPTURE(two.duty);
  const auto limit = std::chrono::seconds(30);
  http_client at_holder{holder.url(), holder.admin_token()};
  http_client at_other{other.url(), other.admin_token()};

  // The stock, read at the node without the duty: answered by the holder
  // (once it has loaded the shard).
  oms::client::http_result stock;
  REQUIRE(eventually(
      [&] {
        stock = at_other.get("/v1/inventory/EXT-1?seller=EXTERNAL");
        return stock.status == 200;
      },
      limit));
  CHECK(body_of(stock)["available"] == 10);
  // Each node says who serves the EXTERNAL seller.
  auto duty_here = cluster_of(holder)["duty"];
  CHECK(duty_here["holder"] == two.duty);
  CHECK(duty_here["servedHere"] == true);
  auto duty_there = cluster_of(other)["duty"];
  CHECK(duty_there["holder"] == two.duty);
  CHECK(duty_there["servedHere"] == false);
  // And omsctl shows it.
  auto shown = run_process({OMSCTL_PATH, "--url", other.url(), "--token",
                            other.admin_token(), "cluster"});
  CHECK_MESSAGE(shown.exit_code == 0, shown.err);
  CHECK(shown.out.find("duty shard") != std::string::npos);
  CHECK(shown.out.find("held by " + two.duty) != std::string::npos);
  auto as_json = run_process({OMSCTL_PATH, "--url", other.url(), "--token",
                              other.admin_token(), "cluster", "-o", "json"});
  REQUIRE_MESSAGE(as_json.exit_code == 0, as_json.err);
  CHECK(json::parse(as_json.out)["duty"]["holder"] == two.duty);
  CHECK(stock.header("Oms-Forwarded-To") == two.duty);

  // An order placed at the other node, of a customer registered there.
  auto made = at_other.post("/v1/customers", json{{"name", "Ida"}}.dump());
  REQUIRE_MESSAGE(made.status == 201, made.body);
  auto cid = body_of(made)["customerId"].get<std::string>();
  oms::client::http_result placed;
  REQUIRE(eventually(
      [&] {
        // (Under a key: a retry of an attempt that made the order
        // answers that order.)
        placed = at_other.post("/v1/orders", external_order(cid, 3).dump(),
                               {"Idempotency-Key: ext-first"});
        return placed.status == 201;
      },
      limit));
  auto order = body_of(placed);
  CHECK(order["seller"] == "EXTERNAL");
  auto id = order["id"].get<std::string>();
  auto reservation = id + ":EXT-1";
  REQUIRE(eventually([&] { return at_wms(sim, reservation) == "RESERVED"; },
                     limit));
  auto confirmed = at_other.post("/v1/orders/" + id + "/confirm", "{}");
  REQUIRE_MESSAGE(confirmed.status == 200, confirmed.body);
  REQUIRE(
      eventually([&] { return at_wms(sim, reservation) == "BLOCKED"; }, limit));
  CHECK(body_of(at_holder.get(
            "/v1/inventory/EXT-1?seller=EXTERNAL"))["available"] == 7);

  // The customer's cart, called at the other node: an EXTERNAL line
  // checked against the holder's count, and checked out there.
  http_client me{other.url(), body_of(made)["token"].get<std::string>()};
  auto cart = "/v1/customers/" + cid + "/cart";
  auto much = me.request("PUT", cart + "/items/EXT-1",
                         json{{"quantity", 8}, {"seller", "EXTERNAL"}}.dump());
  CHECK(much.status == 409);
  auto line = me.request("PUT", cart + "/items/EXT-1",
                         json{{"quantity", 1}, {"seller", "EXTERNAL"}}.dump());
  REQUIRE_MESSAGE(line.status == 200, line.body);
  CHECK(body_of(line)["lines"][0]["unitPrice"] == 700);
  auto out = me.post(cart + "/checkout",
                     json{{"address", ship_to}, {"seller", "EXTERNAL"}}.dump());
  REQUIRE_MESSAGE(out.status == 201, out.body);
  CHECK(body_of(out)["seller"] == "EXTERNAL");
  CHECK(body_of(at_other.get(
            "/v1/inventory/EXT-1?seller=EXTERNAL"))["available"] == 6);

  // A receipt at the WMS comes through the holder's feed reader, once.
  sim.post("/admin/receipts",
           json{{"sku", "EXT-1"}, {"quantity", 5}, {"lot", "L-1"}});
  REQUIRE(eventually(
      [&] {
        auto r = at_other.get("/v1/inventory/EXT-1?seller=EXTERNAL");
        return r.status == 200 && body_of(r)["available"] == 11;
      },
      limit));

  // Two reservations asked of the WMS so far, one per order.
  REQUIRE(eventually([&] { return reservations_asked(sim) == 2; }, limit));

  // The holder dies: the other node takes the duty shard and goes on with
  // the order: paid and shipped there, the WMS's reservation shipped, the
  // units it holds not sold again.
  holder.kill9();
  REQUIRE(eventually(
      [&] {
        auto now = held(cluster_of(other));
        auto i = now.find(0);
        return i != now.end() && i->second.first == two.other_id;
      },
      limit));
  oms::client::http_result moved;
  REQUIRE(eventually(
      [&] {
        moved = at_other.get("/v1/inventory/EXT-1?seller=EXTERNAL");
        return moved.status == 200;
      },
      limit));
  CHECK(body_of(moved)["available"] == 11);
  CHECK(cluster_of(other)["duty"]["servedHere"] == true);
  CHECK(moved.header("Oms-Forwarded-To").empty());
  auto paid = at_other.post("/v1/orders/" + id + "/pay",
                            json{{"amount", 3 * 700}}.dump());
  REQUIRE_MESSAGE(paid.status == 200, paid.body);
  auto shipped = at_other.post("/v1/orders/" + id + "/ship", "{}");
  REQUIRE_MESSAGE(shipped.status == 200, shipped.body);
  REQUIRE(
      eventually([&] { return at_wms(sim, reservation) == "SHIPPED"; }, limit));
  auto too_many = at_other.post("/v1/orders", external_order(cid, 12).dump());
  CHECK(too_many.status == 409);
  CHECK(body_of(too_many)["error"]["code"] == "INSUFFICIENT_STOCK");
  auto rest = at_other.post("/v1/orders", external_order(cid, 11).dump());
  CHECK_MESSAGE(rest.status == 201, rest.body);
  // The WMS was asked one reservation per order: the next holder did not
  // ask again for those the first one had made.
  CHECK(sim.state()["reservations"]["SHIPPED"] == 1);
  CHECK(eventually([&] { return reservations_asked(sim) == 3; }, limit));
  CHECK(sim.state()["reservations"]["RESERVED"] == 2);
}
