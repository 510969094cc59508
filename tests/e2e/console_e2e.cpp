// The console's files as omsd serves them (content types, the security
// headers, revalidation, what is refused), and the two parts of the API the
// console needed: a SKU's holds and the actions an order takes now.
#include <doctest/doctest.h>

#include "tests/e2e/daemon.hpp"

using namespace oms;
using namespace oms::e2e;
using client::http_client;

namespace {

const char* const policy =
    "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

} // namespace

TEST_CASE("e2e console: the files come with their types, a strict policy "
          "and tags the browser revalidates") {
  e2e::daemon d;
  http_client anyone{d.url(), {}};
  auto index = anyone.get("/console/");
  REQUIRE(index.status == 200);
  CHECK(index.header("Content-Type") == "text/html; charset=utf-8");
  CHECK(index.header("Content-Security-Policy") == policy);
  CHECK(index.header("X-Content-Type-Options") == "nosniff");
  CHECK(index.header("X-Frame-Options") == "DENY");
  CHECK(index.header("Referrer-Policy") == "no-referrer");
  CHECK(index.header("Cache-Control") == "no-cache");
  CHECK(index.body.find("<script type=\"module\" src=\"app.js\">") !=
        std::string::npos);
  // No inline script: every <script> names its file.
  CHECK(index.body.find("<script>") == std::string::npos);
  CHECK(anyone.get("/console/index.html").body == index.body);
  for (const auto& file : std::vector<std::pair<std::string, std::string>>{
           {"/console/app.js", "text/javascript; charset=utf-8"},
           {"/console/pages/orders.js", "text/javascript; charset=utf-8"},
           {"/console/vendor/preact-htm.js", "text/javascript; charset=utf-8"},
           {"/console/vendor/uplot.js", "text/javascript; charset=utf-8"},
           {"/console/style.css", "text/css; charset=utf-8"},
           {"/console/favicon.svg", "image/svg+xml"}}) {
    const std::string& path = file.first;
    CAPTURE(path);
    auto r = anyone.get(path);
    CHECK(r.status == 200);
    CHECK(r.header("Content-Type") == file.second);
    CHECK_FALSE(r.body.empty());
  }
  // Unchanged: 304 without a body; changed (another tag): the file again.
  auto tag = anyone.get("/console/app.js").header("ETag");
  REQUIRE(tag.size() > 2);
  auto same = anyone.request("GET", "/console/app.js", "",
                             {"If-None-Match: W/" + tag + ", \"x\""});
  CHECK(same.status == 304);
  CHECK(same.body.empty());
  CHECK(same.header("ETag") == tag);
  auto other =
      anyone.request("GET", "/console/app.js", "", {"If-None-Match: \"x\""});
  CHECK(other.status == 200);
  CHECK_FALSE(other.body.empty());
  auto head = anyone.request("HEAD", "/console/style.css");
  CHECK(head.status == 200);
  CHECK(head.body.empty());
  // /console sends the browser to /console/.
  auto bare = raw_http(d.port(), "GET /console HTTP/1.1\r\nHost: x\r\n"
                                 "Connection: close\r\n\r\n");
  CHECK(bare.status == 301);
  CHECK(bare.header("Location") == "/console/");
}

TEST_CASE("e2e console: what is not a console file is refused, and the API "
          "keeps its own headers") {
  e2e::daemon d;
  http_client anyone{d.url(), {}};
  // Sent as they are (a client library would tidy some of them away).
  for (std::string path :
       {"/console/nope.js", "/console/../readyz", "/console/%2e%2e/readyz",
        "/console/vendor/", "/console//app.js", "/console/app.js/",
        "/console/./app.js", "/console/app.js%00"}) {
    CAPTURE(path);
    auto r = raw_http(d.port(), "GET " + path +
                                    " HTTP/1.1\r\nHost: x\r\nConnection: "
                                    "close\r\n\r\n");
    CHECK(r.status == 404);
    CHECK(error_code(r) == "NOT_FOUND");
  }
  auto post = anyone.post("/console/app.js", "{}");
  CHECK(post.status == 405);
  CHECK(post.header("Allow") == "GET, HEAD");
  auto api = anyone.get("/readyz");
  CHECK(api.header("Cache-Control") == "no-store");
  CHECK(api.header("Content-Security-Policy").empty());
}

TEST_CASE("e2e console: a SKU's holds by order, to the admin only, and an "
          "order's actions") {
  e2e::daemon d;
  http_client admin{d.url(), d.admin_token()};
  REQUIRE(admin
              .post("/v1/inventory/HC-1/receipts",
                    json{{"quantity", 9}, {"unitPrice", 100}}.dump())
              .status == 200);
  auto c = admin.post("/v1/customers", json{{"name", "Asha"}}.dump());
  REQUIRE(c.status == 201);
  auto cid = body_of(c)["customerId"].get<std::string>();
  auto token = body_of(c)["token"].get<std::string>();
  std::vector<std::string> ids;
  for (int qty : {2, 3}) {
    auto r = admin.post("/v1/orders",
                        json{{"customerId", cid},
                             {"items", {{{"sku", "HC-1"}, {"quantity", qty}}}},
                             {"address", ship_to}}
                            .dump());
    REQUIRE_MESSAGE(r.status == 201, r.body);
    CHECK(body_of(r)["actions"] == json::array({"confirm", "pay", "cancel"}));
    ids.push_back(body_of(r)["id"].get<std::string>());
  }
  auto confirmed = admin.post("/v1/orders/" + ids[1] + "/confirm", "{}");
  REQUIRE(confirmed.status == 200);
  CHECK(body_of(confirmed)["actions"] == json::array({"pay", "cancel"}));
  auto holds = admin.get("/v1/inventory/HC-1/holds");
  REQUIRE_MESSAGE(holds.status == 200, holds.body);
  auto list = body_of(holds)["holds"];
  REQUIRE(list.size() == 2);
  auto first = ids[0] < ids[1] ? 0 : 1;
  CHECK(list[first]["orderId"] == ids[0]);
  CHECK(list[first]["quantity"] == 2);
  CHECK(list[first]["kind"] == "RESERVED");
  CHECK(list[1 - first]["kind"] == "BLOCKED");
  CHECK(list[1 - first]["lots"] ==
        json::array({{{"lot", ""}, {"quantity", 3}}}));
  // A cancelled order takes nothing more; its units are no one's hold.
  auto cancelled = admin.post("/v1/orders/" + ids[0] + "/cancel", "{}");
  REQUIRE(cancelled.status == 200);
  CHECK(body_of(cancelled)["actions"].empty());
  CHECK(body_of(admin.get("/v1/inventory/HC-1/holds"))["holds"].size() == 1);
  CHECK(admin.get("/v1/inventory/NOPE/holds").status == 404);
  http_client customer{d.url(), token};
  CHECK(customer.get("/v1/inventory/HC-1/holds").status == 403);
  // The overview's units held: live, and the same after a restart.
  auto held = [&] {
    http_client anyone{d.url(), {}};
    auto text = anyone.get("/metrics").body;
    return std::pair<bool, bool>{
        text.find("\noms_units_held{kind=\"reserved\"} 0\n") !=
            std::string::npos,
        text.find("\noms_units_held{kind=\"blocked\"} 3\n") !=
            std::string::npos};
  };
  CHECK(held() == std::pair<bool, bool>{true, true});
  d.stop();
  d.restart();
  CHECK(held() == std::pair<bool, bool>{true, true});
}
