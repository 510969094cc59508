// Webhooks end to end: the real omsd delivering to a receiver process
// (tests/e2e/webhook_receiver.py) that checks every signature with its own
// code and answers 2xx, 5xx, 4xx, a redirect, hangs, or is killed.
#include <doctest/doctest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>
#include <sys/wait.h>

#include "tests/e2e/daemon.hpp"
#include "tests/e2e/webhook_receiver.hpp"

using namespace oms;
using namespace oms::e2e;
using client::http_client;

namespace {

const std::vector<std::string> fast_retries = {"--webhook-retry-base", "50ms",
                                               "--webhook-retry-max", "200ms"};

struct shop {
  e2e::daemon d;
  http_client admin;

  explicit shop(std::vector<std::string> args = fast_retries)
      : d(std::move(args)), admin(d.url(), d.admin_token()) {}

  void receive(const std::string& sku, int64_t qty) {
    auto r = admin.post("/v1/inventory/" + sku + "/receipts",
                        json{{"quantity", qty}, {"unitPrice", 150}}.dump());
    REQUIRE_MESSAGE(r.status == 200, r.body);
  }

  std::string order(const std::string& sku) {
    if (customer.empty()) {
      auto r = admin.post("/v1/customers", json{{"name", "Ravi"}}.dump());
      REQUIRE(r.status == 201);
      customer = body_of(r)["customerId"].get<std::string>();
    }
    json body{{"customerId", customer},
              {"items", {{{"sku", sku}, {"quantity", 1}}}},
              {"address", ship_to}};
    auto r = admin.post("/v1/orders", body.dump());
    REQUIRE_MESSAGE(r.status == 201, r.body);
    return body_of(r)["id"].get<std::string>();
  }

  // Subscribes `url` to `types`; answers the created subscription.
  json subscribe(const std::string& url, const json& types) {
    auto r =
        admin.post("/v1/webhooks", json{{"url", url}, {"types", types}}.dump());
    REQUIRE_MESSAGE(r.status == 201, r.body);
    return body_of(r);
  }

  json hook(const std::string& id) {
    auto r = admin.get("/v1/webhooks/" + id);
    REQUIRE_MESSAGE(r.status == 200, r.body);
    return body_of(r);
  }

  json deliveries(const std::string& id) {
    auto r = admin.get("/v1/webhooks/" + id + "/deliveries");
    REQUIRE_MESSAGE(r.status == 200, r.body);
    return body_of(r);
  }

  // The ids of the published events of `prefix` after `after`.
  std::vector<std::string> feed_ids(const std::string& type,
                                    const std::string& after = "0") {
    auto r =
        admin.get("/v1/events?limit=1000&type=" + type + "&after=" + after);
    REQUIRE(r.status == 200);
    std::vector<std::string> ids;
    auto page = body_of(r);
    for (auto& e : page["events"])
      ids.push_back(e["id"].get<std::string>());
    return ids;
  }

  std::string customer;
};

std::vector<std::string> ids_of(const json& log) {
  std::vector<std::string> ids;
  for (auto& x : log)
    ids.push_back(x["id"].get<std::string>());
  return ids;
}

// The ids in the order they first came, each once.
std::vector<std::string> first_seen(const json& log) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (auto& x : log)
    if (seen.insert(x["id"].get<std::string>()).second)
      out.push_back(x["id"].get<std::string>());
  return out;
}

} // namespace

TEST_CASE("e2e webhooks: deliveries are signed, in order, of the subscribed "
          "types only and of changes after the subscription") {
  webhook_receiver rx;
  shop s;
  s.receive("WH-1", 10);
  auto before = s.order("WH-1"); // committed before the subscription
  auto hook = s.subscribe(rx.url(), {"oms.order.*"});
  auto secret = hook["secret"].get<std::string>();
  CHECK(secret.rfind("whsec_", 0) == 0);
  rx.secrets(json::array({secret}));
  auto created_after = s.feed_ids("oms.order.*").size();
  std::vector<std::string> orders;
  for (int i = 0; i < 4; ++i)
    orders.push_back(s.order("WH-1"));
  s.receive("WH-1", 1); // a stock event: not subscribed
  auto r = s.admin.post("/v1/orders/" + orders[0] + "/confirm", "{}");
  REQUIRE(r.status == 200);
  auto want = s.feed_ids("oms.order.*");
  want.erase(want.begin(), want.begin() + created_after);
  REQUIRE(want.size() == 5);
  auto log = rx.wait_for(5);
  CHECK(ids_of(log) == want);
  std::set<std::string> subjects;
  for (auto& x : log) {
    // The receiver's own HMAC over id.timestamp.body matched.
    CHECK(x["valid"] == json::array({0}));
    CHECK(x["fresh"] == true);
    CHECK(x["contentType"] == "application/cloudevents+json");
    CHECK(x["path"] == "/hook");
    auto ev = json::parse(x["body"].get<std::string>());
    CHECK(ev["id"] == x["id"]);
    CHECK(ev["specversion"] == "1.0");
    CHECK(ev["type"].get<std::string>().rfind("oms.order.", 0) == 0);
    subjects.insert(ev["subject"].get<std::string>());
  }
  CHECK(subjects.count(before) == 0);
  CHECK(subjects.size() == 4);
  // The subscription shows its cursor at the last one; no secret is shown
  // again.
  auto id = hook["id"].get<std::string>();
  CHECK(eventually([&] { return s.hook(id)["cursor"] != "0"; },
                   std::chrono::seconds(20)));
  auto shown = s.admin.get("/v1/webhooks/" + id);
  CHECK(shown.body.find("whsec_") == std::string::npos);
  CHECK(s.admin.get("/v1/webhooks").body.find("whsec_") == std::string::npos);
  auto d = s.deliveries(id);
  REQUIRE(d["deliveries"].size() == 5);
  CHECK(d["deliveries"][0]["id"] == want.back());
  CHECK(d["deliveries"][0]["status"] == "DELIVERED");
  CHECK(d["deliveries"][0]["attempts"] == 1);
  CHECK(d["deliveries"][0]["responseStatus"] == 200);
}

TEST_CASE("e2e webhooks: a 5xx is retried until acknowledged, a 4xx goes to "
          "the dead letters at once and is retried by hand") {
  webhook_receiver rx;
  shop s;
  auto hook = s.subscribe(rx.url(), {"oms.stock.received"});
  auto id = hook["id"].get<std::string>();
  rx.secrets(json::array({hook["secret"]}));
  rx.mode({{"status", 500}, {"count", 2}});
  s.receive("WH-2", 1);
  auto log = rx.wait_for(3);
  REQUIRE(log.size() == 3);
  // The same message each time (one id), signed afresh, then acknowledged.
  CHECK(log[0]["id"] == log[2]["id"]);
  CHECK(log[0]["status"] == 500);
  CHECK(log[2]["status"] == 200);
  CHECK(log[2]["valid"] == json::array({0}));
  auto first = log[0]["id"].get<std::string>();
  // A 404: dead at once, and the next event is delivered after it.
  rx.mode({{"status", 404}, {"count", 1}});
  s.receive("WH-2", 1);
  s.receive("WH-2", 1);
  log = rx.wait_for(5);
  auto dead = log[3]["id"].get<std::string>();
  CHECK(log[3]["status"] == 404);
  CHECK(log[4]["status"] == 200);
  CHECK(std::stoull(log[4]["id"].get<std::string>()) > std::stoull(dead));
  REQUIRE(eventually(
      [&] { return s.deliveries(id)["deadLetters"] == json::array({dead}); },
      std::chrono::seconds(20)));
  auto listed = s.deliveries(id);
  json entry;
  for (auto& x : listed["deliveries"])
    if (x["id"] == dead)
      entry = x;
  CHECK(entry["status"] == "DEAD");
  CHECK(entry["responseStatus"] == 404);
  CHECK(entry["attempts"] == 1);
  json retried;
  for (auto& x : listed["deliveries"])
    if (x["id"] == first)
      retried = x;
  CHECK(retried["attempts"] == 3);
  CHECK(retried["status"] == "DELIVERED");
  // Retried by hand: delivered, and no longer a dead letter.
  auto r =
      s.admin.post("/v1/webhooks/" + id + "/deliveries/" + dead + "/retry", "");
  REQUIRE_MESSAGE(r.status == 202, r.body);
  log = rx.wait_for(6);
  CHECK(log[5]["id"] == dead);
  CHECK(log[5]["status"] == 200);
  CHECK(eventually([&] { return s.deliveries(id)["deadLetters"].empty(); },
                   std::chrono::seconds(20)));
  // A delivery never recorded, and one that is no number.
  auto none =
      s.admin.post("/v1/webhooks/" + id + "/deliveries/999999/retry", "");
  CHECK(none.status == 404);
  auto bad = s.admin.post("/v1/webhooks/" + id + "/deliveries/x1/retry", "");
  CHECK(bad.status == 400);
  CHECK(body_of(bad)["error"]["details"]["field"] == "delivery");
}

TEST_CASE("e2e webhooks: failures in a row pause a subscription, and PATCH "
          "resumes it without losing an event") {
  auto args = fast_retries;
  args.insert(args.end(), {"--webhook-failures-max", "3"});
  shop s{args};
  auto rx = std::make_unique<webhook_receiver>();
  auto hook = s.subscribe(rx->url(), {"oms.stock.*"});
  auto id = hook["id"].get<std::string>();
  rx->kill(); // connection refused from now on
  s.receive("WH-3", 1);
  s.receive("WH-3", 2);
  REQUIRE(eventually([&] { return s.hook(id)["paused"] == true; },
                     std::chrono::seconds(30)));
  auto paused = s.hook(id);
  CHECK(paused["pauseReason"].get<std::string>().find("3 failures") !=
        std::string::npos);
  auto metrics = http_client{s.d.url()}.get("/metrics").body;
  CHECK(metrics.find("oms_webhooks{state=\"paused\"} 1") != std::string::npos);
  CHECK(metrics.find("oms_webhook_deliveries_total{outcome=\"failed\"} 3") !=
        std::string::npos);
  // Paused: another change waits too.
  s.receive("WH-3", 3);
  rx = std::make_unique<webhook_receiver>();
  rx->secrets(json::array({hook["secret"]}));
  auto r = s.admin.request("PATCH", "/v1/webhooks/" + id,
                           json{{"url", rx->url()}, {"paused", false}}.dump());
  REQUIRE_MESSAGE(r.status == 200, r.body);
  CHECK(body_of(r)["paused"] == false);
  auto want = s.feed_ids("oms.stock.*");
  // Created before the subscription: the SKU is new, its creation and
  // receipts all come after it.
  auto log = rx->wait_for(want.size());
  CHECK(ids_of(log) == want);
  for (auto& x : log)
    CHECK(x["valid"] == json::array({0}));
  CHECK(s.hook(id)["failuresInARow"] == 0);
}

TEST_CASE("e2e webhooks: kill -9 during a delivery loses no committed event "
          "and delivers none that was not committed") {
  webhook_receiver rx;
  shop s;
  s.receive("WH-4", 50);
  auto hook = s.subscribe(rx.url(), {"oms.order.created"});
  rx.secrets(json::array({hook["secret"]}));
  // The first delivery hangs: omsd dies while it is under way.
  rx.mode({{"hang", 60}, {"count", 1}});
  for (int i = 0; i < 5; ++i)
    s.order("WH-4");
  rx.wait_for(1);
  s.d.kill9();
  s.d.restart();
  for (int i = 0; i < 3; ++i)
    s.order("WH-4");
  auto want = s.feed_ids("oms.order.created");
  REQUIRE(want.size() == 8);
  auto log = rx.wait_for(want.size() + 1);
  // At least once, in order: the hanging one came again after the restart.
  CHECK(first_seen(log) == want);
  std::set<std::string> committed(want.begin(), want.end());
  for (auto& x : log) {
    CHECK(committed.count(x["id"].get<std::string>()) == 1);
    CHECK(x["valid"] == json::array({0}));
  }
  // Once through, the cursor holds across a restart: nothing again.
  // (It may be past the last one: events of other types move it too.)
  REQUIRE(eventually(
      [&] {
        auto at = s.hook(hook["id"])["cursor"].get<std::string>();
        return std::stoull(at) >= std::stoull(want.back());
      },
      std::chrono::seconds(20)));
  auto seen = rx.log().size();
  s.d.restart();
  s.order("WH-4");
  log = rx.wait_for(seen + 1);
  CHECK(log.size() == seen + 1);
  CHECK(log.back()["id"] != want.back());
}

TEST_CASE("e2e webhooks: only allowlisted hosts are called, and a redirect "
          "is not followed") {
  webhook_receiver rx;
  webhook_receiver elsewhere;
  shop s;
  for (auto url : {"http://10.0.0.1/h", "http://169.254.169.254/latest",
                   "http://127.0.0.1.nip.io/h", "ftp://127.0.0.1/h",
                   "http://user:pw@127.0.0.1/h", "file:///etc/passwd",
                   "http://[::ffff:10.0.0.1]/h"}) {
    auto r = s.admin.post(
        "/v1/webhooks", json{{"url", url}, {"types", {"oms.order.*"}}}.dump());
    CHECK_MESSAGE(r.status == 400, url);
    CHECK(body_of(r)["error"]["details"]["field"] == "url");
  }
  CHECK(body_of(s.admin.get("/v1/webhooks"))["webhooks"].empty());
  // A receiver that redirects: the redirect is a refusal (dead letter), and
  // nothing reaches where it points.
  auto hook = s.subscribe(rx.url(), {"oms.stock.received"});
  rx.mode({{"redirect", elsewhere.url()}, {"count", 1}});
  s.receive("WH-5", 1);
  auto log = rx.wait_for(1);
  CHECK(log[0]["status"] == 302);
  REQUIRE(eventually(
      [&] { return s.deliveries(hook["id"])["deadLetters"].size() == 1; },
      std::chrono::seconds(20)));
  CHECK(elsewhere.log().empty());
  // Only omsd's own allowlist counts: a PATCH to another host is refused.
  auto r =
      s.admin.request("PATCH", "/v1/webhooks/" + hook["id"].get<std::string>(),
                      json{{"url", "http://192.168.1.1/h"}}.dump());
  CHECK(r.status == 400);
  CHECK(s.hook(hook["id"])["url"] == rx.url());
}

TEST_CASE("e2e webhooks: a rotated secret signs beside the old one for its "
          "grace, then alone") {
  webhook_receiver rx;
  shop s;
  auto hook = s.subscribe(rx.url(), {"oms.stock.received"});
  auto id = hook["id"].get<std::string>();
  auto old_secret = hook["secret"].get<std::string>();
  auto r = s.admin.post("/v1/webhooks/" + id + "/rotate", "{}");
  REQUIRE_MESSAGE(r.status == 200, r.body);
  auto new_secret = body_of(r)["secret"].get<std::string>();
  CHECK(new_secret != old_secret);
  CHECK(body_of(r).contains("previousSecretUntil"));
  rx.secrets(json::array({old_secret, new_secret}));
  s.receive("WH-6", 1);
  auto log = rx.wait_for(1);
  CHECK(log[0]["valid"] == json::array({0, 1}));
  // No grace: the old secret signs no more.
  r = s.admin.post("/v1/webhooks/" + id + "/rotate",
                   json{{"graceSeconds", 0}}.dump());
  REQUIRE(r.status == 200);
  auto newest = body_of(r)["secret"].get<std::string>();
  rx.secrets(json::array({old_secret, new_secret, newest}));
  s.receive("WH-6", 1);
  log = rx.wait_for(2);
  CHECK(log[1]["valid"] == json::array({2}));
  // Both survive a restart.
  s.d.restart();
  s.receive("WH-6", 1);
  log = rx.wait_for(3);
  CHECK(log[2]["valid"] == json::array({2}));
}

TEST_CASE("e2e webhooks: a receiver that hangs never holds up orders") {
  webhook_receiver rx;
  shop s;
  s.receive("WH-7", 100);
  auto hook = s.subscribe(rx.url(), {"oms.order.created"});
  rx.mode({{"hang", 120}, {"count", 1}});
  s.order("WH-7");
  rx.wait_for(1);
  // While the one delivery in flight hangs, orders go on being taken.
  for (int i = 0; i < 20; ++i)
    s.order("WH-7");
  CHECK(rx.log().size() == 1);
  auto m = http_client{s.d.url()}.get("/metrics").body;
  CHECK(m.find("oms_webhook_lag_events 0\n") == std::string::npos);
  // omsd stops promptly even so (the delivery is abandoned, not awaited).
  CHECK(s.d.stop() == 0);
}

TEST_CASE("e2e webhooks: bad requests are refused with their field and "
          "change nothing") {
  webhook_receiver rx;
  shop s;
  auto field_of = [&](const std::string& verb, const std::string& path,
                      const std::string& body) {
    auto r = s.admin.request(verb, path, body);
    std::string what = verb + " " + path + " " + body;
    CHECK_MESSAGE(r.status == 400, what);
    return body_of(r)["error"]["details"]["field"];
  };
  auto url = rx.url();
  CHECK(field_of("POST", "/v1/webhooks",
                 json{{"types", {"oms.order.*"}}}.dump()) == "url");
  CHECK(field_of("POST", "/v1/webhooks", json{{"url", url}}.dump()) == "types");
  CHECK(field_of("POST", "/v1/webhooks",
                 json{{"url", url}, {"types", json::array()}}.dump()) ==
        "types");
  CHECK(field_of("POST", "/v1/webhooks",
                 json{{"url", url}, {"types", {"oms.nothing"}}}.dump()) ==
        "types");
  CHECK(field_of("POST", "/v1/webhooks",
                 json{{"url", url}, {"types", {"oms.order.paid,x"}}}.dump()) ==
        "types");
  CHECK(field_of("POST", "/v1/webhooks",
                 json{{"url", url}, {"types", {7}}}.dump()) == "types");
  CHECK(field_of("POST", "/v1/webhooks",
                 json{{"url", url},
                      {"types", {"oms.order.*"}},
                      {"secret", "whsec_mine"}}
                     .dump()) == "secret");
  CHECK(field_of("POST", "/v1/webhooks",
                 json{{"url", 5}, {"types", {"oms.order.*"}}}.dump()) == "url");
  CHECK(
      field_of("POST", "/v1/webhooks",
               json{{"url", url}, {"types", {"oms.order.*"}}, {"paused", "no"}}
                   .dump()) == "paused");
  CHECK(body_of(s.admin.get("/v1/webhooks"))["webhooks"].empty());
  auto hook = s.subscribe(url, {"oms.order.*"});
  auto id = hook["id"].get<std::string>();
  CHECK(field_of("POST", "/v1/webhooks/" + id + "/rotate",
                 json{{"graceSeconds", -1}}.dump()) == "graceSeconds");
  CHECK(field_of("PATCH", "/v1/webhooks/" + id,
                 json{{"types", {"nope"}}}.dump()) == "types");
  CHECK(s.hook(id)["types"] == json::array({"oms.order.*"}));
  // Unknown ids: 404 on every route.
  for (auto& route : std::vector<std::pair<std::string, std::string>>{
           {"GET", "/v1/webhooks/wh_0000000000000000"},
           {"PATCH", "/v1/webhooks/wh_0000000000000000"},
           {"DELETE", "/v1/webhooks/wh_0000000000000000"},
           {"POST", "/v1/webhooks/wh_0000000000000000/rotate"},
           {"GET", "/v1/webhooks/wh_0000000000000000/deliveries"},
           {"POST", "/v1/webhooks/wh_0000000000000000/deliveries/1/retry"}}) {
    auto r = s.admin.request(route.first, route.second,
                             route.first == "GET" ? "" : "{}");
    std::string what = route.first + " " + route.second;
    CHECK_MESSAGE(r.status == 404, what);
    CHECK(error_code(r) == "NOT_FOUND");
  }
  // A customer may not see or change webhooks.
  auto c = s.admin.post("/v1/customers", json{{"name", "Mo"}}.dump());
  http_client customer{s.d.url(), body_of(c)["token"].get<std::string>()};
  CHECK(customer.get("/v1/webhooks").status == 403);
  CHECK(customer.request("DELETE", "/v1/webhooks/" + id).status == 403);
  // Deleted: gone, and gone after a restart.
  auto del = s.admin.request("DELETE", "/v1/webhooks/" + id);
  CHECK(del.status == 204);
  CHECK(s.admin.get("/v1/webhooks/" + id).status == 404);
  s.d.restart();
  CHECK(body_of(s.admin.get("/v1/webhooks"))["webhooks"].empty());
}
