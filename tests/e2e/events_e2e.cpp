// The change feed end to end: GET /v1/events as pages, long polls and
// Server-Sent Events on the real omsd, across a restart and a stop.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <future>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/e2e/daemon.hpp"

using namespace oms;
using namespace oms::e2e;
using client::http_client;
using client::http_result;

namespace {

struct shop {
  e2e::daemon d;
  http_client admin;

  explicit shop(std::vector<std::string> args = {})
      : d(std::move(args)), admin(d.url(), d.admin_token()) {}

  void receive(const std::string& sku, int64_t qty) {
    auto r = admin.post("/v1/inventory/" + sku + "/receipts",
                        json{{"quantity", qty}, {"unitPrice", 150}}.dump());
    REQUIRE_MESSAGE(r.status == 200, r.body);
  }

  std::pair<std::string, std::string> customer() {
    auto r = admin.post("/v1/customers", json{{"name", "Asha"}}.dump());
    REQUIRE_MESSAGE(r.status == 201, r.body);
    auto j = body_of(r);
    return {j["customerId"].get<std::string>(), j["token"].get<std::string>()};
  }

  std::string order(const std::string& cid, const std::string& sku,
                    int64_t qty) {
    json body{{"customerId", cid},
              {"items", {{{"sku", sku}, {"quantity", qty}}}},
              {"address", ship_to}};
    auto r = admin.post("/v1/orders", body.dump());
    REQUIRE_MESSAGE(r.status == 201, r.body);
    return body_of(r)["id"].get<std::string>();
  }

  void step(const std::string& id, const std::string& what) {
    auto r = admin.post("/v1/orders/" + id + "/" + what, "{}");
    REQUIRE_MESSAGE(r.status == 200, r.body);
  }

  json page(const std::string& query) {
    auto r = admin.get("/v1/events" + query);
    REQUIRE_MESSAGE(r.status == 200, r.body);
    return body_of(r);
  }

  // Every event from the start, page by page.
  json all_events() {
    json all = json::array();
    std::string after = "0";
    for (;;) {
      auto p = page("?limit=7&after=" + after);
      for (auto& e : p["events"])
        all.push_back(e);
      if (p["events"].empty())
        return all;
      after = p["next"].get<std::string>();
    }
  }
};

std::vector<std::string> ids_of(const json& events) {
  std::vector<std::string> ids;
  for (auto& e : events)
    ids.push_back(e["id"].get<std::string>());
  return ids;
}

std::vector<std::string> types_of(const json& events) {
  std::vector<std::string> types;
  for (auto& e : events)
    types.push_back(e["type"].get<std::string>());
  return types;
}

// A client of a Server-Sent Events stream over a plain socket.
class sse_client {
 public:
  sse_client(int port, const std::string& token, const std::string& query,
             const std::string& last_event_id = {}) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tick{0, 200'000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tick, sizeof(tick));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) ==
            0);
    std::string req = "GET /v1/events" + query +
                      " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: "
                      "text/event-stream\r\nAuthorization: Bearer " +
                      token + "\r\n";
    if (!last_event_id.empty())
      req += "Last-Event-ID: " + last_event_id + "\r\n";
    req += "\r\n";
    REQUIRE(::send(fd_, req.data(), req.size(), MSG_NOSIGNAL) ==
            static_cast<ssize_t>(req.size()));
  }

  ~sse_client() { close(); }

  void close() {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = -1;
  }

  // Reads until `n` events came, the server closed, or `limit` passed.
  void read_events(size_t n, std::chrono::seconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (events.size() < n && !closed &&
           std::chrono::steady_clock::now() < deadline)
      read_some();
  }

  // Reads until `n` comment lines came, or `limit` passed.
  void read_comments(size_t n, std::chrono::seconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (comments < n && !closed &&
           std::chrono::steady_clock::now() < deadline)
      read_some();
  }

  // Reads until the status line and header fields are in, or `limit` passed.
  void read_head(std::chrono::seconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (head.empty() && !closed &&
           std::chrono::steady_clock::now() < deadline)
      read_some();
  }

  // Reads until the server closes the stream, or `limit` passed.
  void read_to_end(std::chrono::seconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!closed && std::chrono::steady_clock::now() < deadline)
      read_some();
  }

  std::string head; // status line and header fields
  json events = json::array();
  size_t comments = 0;
  bool closed = false;

 private:
  void read_some() {
    char buf[4096];
    auto got = ::recv(fd_, buf, sizeof(buf), 0);
    if (got == 0) {
      closed = true;
      return;
    }
    if (got < 0)
      return; // the tick passed
    text_.append(buf, static_cast<size_t>(got));
    if (head.empty()) {
      auto end = text_.find("\r\n\r\n");
      if (end == std::string::npos)
        return;
      head = text_.substr(0, end);
      text_.erase(0, end + 4);
    }
    for (auto end = text_.find("\n\n"); end != std::string::npos;
         end = text_.find("\n\n")) {
      auto frame = text_.substr(0, end);
      text_.erase(0, end + 2);
      parse(frame);
    }
  }

  void parse(const std::string& frame) {
    std::string id, type, data;
    size_t start = 0;
    while (start < frame.size()) {
      auto eol = frame.find('\n', start);
      auto line = frame.substr(
          start, eol == std::string::npos ? std::string::npos : eol - start);
      start = eol == std::string::npos ? frame.size() : eol + 1;
      if (line.rfind(":", 0) == 0)
        ++comments;
      else if (line.rfind("id: ", 0) == 0)
        id = line.substr(4);
      else if (line.rfind("event: ", 0) == 0)
        type = line.substr(7);
      else if (line.rfind("data: ", 0) == 0)
        data = line.substr(6);
    }
    if (data.empty())
      return;
    auto e = json::parse(data);
    CHECK(e["id"] == id);
    CHECK(e["type"] == type);
    events.push_back(e);
  }

  int fd_ = -1;
  std::string text_;
};

} // namespace

TEST_CASE("e2e events: the feed pages committed events in order, by type and "
          "subject") {
  shop s;
  s.receive("EV-1", 5);
  auto [cid, token] = s.customer();
  auto id = s.order(cid, "EV-1", 2);
  s.step(id, "confirm");

  auto all = s.all_events();
  CHECK(types_of(all) ==
        std::vector<std::string>{"oms.sku.created", "oms.stock.received",
                                 "oms.customer.created", "oms.order.created",
                                 "oms.stock.reserved", "oms.stock.blocked",
                                 "oms.order.confirmed"});
  // Ids rise in commit order; every envelope is complete.
  auto ids = ids_of(all);
  for (size_t i = 1; i < ids.size(); ++i)
    CHECK(std::stoull(ids[i]) > std::stoull(ids[i - 1]));
  for (auto& e : all) {
    CHECK(e["specversion"] == "1.0");
    CHECK(e["source"] == "/omsd");
    CHECK(e["datacontenttype"] == "application/json");
    CHECK(e["time"].get<std::string>().size() == 24);
  }
  auto& confirmed = all[6];
  CHECK(confirmed["subject"] == id);
  CHECK(confirmed["subjectseq"] == 2);
  CHECK(confirmed["data"]["previousStatus"] == "CREATED");
  CHECK(confirmed["data"]["status"] == "CONFIRMED");
  CHECK(all[3]["subjectseq"] == 1);
  CHECK(all[4]["data"]["orderId"] == id);
  CHECK(all[4]["data"]["quantity"] == 2);
  // The order itself shows the same version.
  auto order = body_of(s.admin.get("/v1/orders/" + id));
  CHECK(order["version"] == 2);

  // Filters: a prefix, an exact type, a subject.
  auto orders = s.page("?type=oms.order.*");
  CHECK(types_of(orders["events"]) ==
        std::vector<std::string>{"oms.order.created", "oms.order.confirmed"});
  CHECK(orders["next"] == ids.back());
  auto sku_events = s.page("?subject=EV-1&type=oms.stock.reserved,"
                           "oms.stock.blocked");
  CHECK(types_of(sku_events["events"]) ==
        std::vector<std::string>{"oms.stock.reserved", "oms.stock.blocked"});
  // A page that ends at its limit hands on the cursor of its last event,
  // and the next page goes on from there without a gap.
  auto first = s.page("?limit=3");
  CHECK(ids_of(first["events"]) ==
        std::vector<std::string>(ids.begin(), ids.begin() + 3));
  CHECK(first["next"] == ids[2]);
  auto rest = s.page("?after=" + first["next"].get<std::string>());
  CHECK(ids_of(rest["events"]) ==
        std::vector<std::string>(ids.begin() + 3, ids.end()));
  // Past the end: an empty page that keeps the cursor.
  auto none = s.page("?after=" + ids.back());
  CHECK(none["events"].empty());
  CHECK(none["next"] == ids.back());

  auto types = body_of(s.admin.get("/v1/events/types"));
  CHECK(types["types"].size() == 21);
}

TEST_CASE("e2e events: bad requests are refused with their field and change "
          "nothing") {
  shop s;
  s.receive("EV-2", 1);
  auto before = s.all_events();
  auto [cid, token] = s.customer();
  http_client customer{s.d.url(), token};
  auto forbidden = customer.get("/v1/events");
  CHECK(forbidden.status == 403);
  CHECK(error_code(forbidden) == "FORBIDDEN");
  CHECK(http_client{s.d.url()}.get("/v1/events").status == 401);

  auto field_of = [&](const std::string& query) {
    auto r = s.admin.get("/v1/events" + query);
    CHECK_MESSAGE(r.status == 400, query);
    CHECK_MESSAGE(error_code(r) == "VALIDATION_FAILED", query);
    return body_of(r)["error"]["details"]["field"].get<std::string>();
  };
  CHECK(field_of("?after=-1") == "after");
  CHECK(field_of("?after=abc") == "after");
  CHECK(field_of("?after=99999999999999999999") == "after");
  CHECK(field_of("?after=1000") == "after"); // past the newest event
  // Refused at once, not after the wait it asked for.
  auto waiting = std::async(std::launch::async,
                            [&] { return field_of("?after=1000&wait=60"); });
  REQUIRE(waiting.wait_for(std::chrono::seconds(40)) ==
          std::future_status::ready);
  CHECK(waiting.get() == "after");
  CHECK(field_of("?limit=0") == "limit");
  CHECK(field_of("?limit=1001") == "limit");
  CHECK(field_of("?wait=61") == "wait");
  CHECK(field_of("?wait=-1") == "wait");
  CHECK(field_of("?type=oms.order.payed") == "type");
  CHECK(field_of("?type=") == "type");
  CHECK(field_of("?subject=" + std::string(129, 'x')) == "subject");
  CHECK(field_of("?subject=%FF") == "subject");
  CHECK(field_of("?colour=red") == "colour");
  // The feed did not move (the customer's creation is the only change).
  auto after = s.all_events();
  REQUIRE(after.size() == before.size() + 1);
  CHECK(after.back()["type"] == "oms.customer.created");
}

TEST_CASE("e2e events: a long poll answers as soon as a matching event is "
          "committed") {
  shop s;
  s.receive("EV-3", 5);
  auto last = s.page("")["next"].get<std::string>();
  // Waits for an order event; a stock receipt meanwhile does not end it.
  auto waiting = std::async(std::launch::async, [&] {
    http_client c{s.d.url(), s.d.admin_token()};
    return c.get("/v1/events?wait=60&type=oms.order.*&after=" + last);
  });
  s.receive("EV-3", 1);
  auto [cid, token] = s.customer();
  auto id = s.order(cid, "EV-3", 1);
  // Answered well before its minute, with the order: a wait that ran out
  // would answer an empty page.
  REQUIRE(waiting.wait_for(std::chrono::seconds(50)) ==
          std::future_status::ready);
  auto r = waiting.get();
  REQUIRE(r.status == 200);
  auto page = body_of(r);
  REQUIRE(page["events"].size() == 1);
  CHECK(page["events"][0]["type"] == "oms.order.created");
  CHECK(page["events"][0]["subject"] == id);
}

TEST_CASE("e2e events: a stream resumes after a disconnect without a gap or "
          "a repeat") {
  shop s;
  s.receive("EV-4", 10);
  auto [cid, token] = s.customer();
  sse_client first{s.d.port(), s.d.admin_token(), ""};
  first.read_events(3, std::chrono::seconds(20));
  CHECK(first.head.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(first.head.find("Content-Type: text/event-stream") !=
        std::string::npos);
  CHECK(first.head.find("Content-Length") == std::string::npos);
  REQUIRE(first.events.size() == 3); // sku, receipt, customer
  // The stream shows in the metrics while it is open.
  CHECK(http_client{s.d.url()}
            .get("/metrics")
            .body.find("oms_event_streams_open 1\n") != std::string::npos);
  // Live: an order made while the stream is open arrives on it.
  auto id1 = s.order(cid, "EV-4", 1);
  first.read_events(5, std::chrono::seconds(20));
  REQUIRE(first.events.size() == 5);
  CHECK(first.events[3]["subject"] == id1);
  auto seen = first.events.back()["id"].get<std::string>();
  first.close();

  // Changes while nobody listens, then a reconnect from the last id seen.
  auto id2 = s.order(cid, "EV-4", 2);
  s.step(id2, "confirm");
  sse_client again{s.d.port(), s.d.admin_token(), "?after=0", seen};
  again.read_events(4, std::chrono::seconds(20));
  REQUIRE(again.events.size() == 4);
  json joined = first.events;
  for (auto& e : again.events)
    joined.push_back(e);
  // Exactly the feed, in order: nothing missed, nothing twice.
  CHECK(ids_of(joined) == ids_of(s.all_events()));
  CHECK(again.events[3]["type"] == "oms.order.confirmed");

  // A filtered stream and a malformed Last-Event-ID.
  sse_client orders{s.d.port(), s.d.admin_token(), "?type=oms.order.*"};
  orders.read_events(3, std::chrono::seconds(20));
  CHECK(types_of(orders.events) ==
        std::vector<std::string>{"oms.order.created", "oms.order.created",
                                 "oms.order.confirmed"});
  sse_client bad{s.d.port(), s.d.admin_token(), "", "x1"};
  bad.read_head(std::chrono::seconds(20));
  CHECK(bad.head.rfind("HTTP/1.1 400", 0) == 0);
}

TEST_CASE("e2e events: ids and cursors hold across a restart, and a stop "
          "ends streams and long polls") {
  shop s;
  s.receive("EV-5", 3);
  auto [cid, token] = s.customer();
  s.order(cid, "EV-5", 1);
  auto before = s.all_events();
  s.d.stop();
  s.d.restart();
  CHECK(s.all_events() == before);
  auto cursor = before.back()["id"].get<std::string>();
  s.receive("EV-5", 1);
  auto next = s.page("?after=" + cursor);
  REQUIRE(next["events"].size() == 1);
  CHECK(std::stoull(next["events"][0]["id"].get<std::string>()) >
        std::stoull(cursor));

  // A stream and a long poll are open when omsd is told to stop: both end
  // (the poll with an empty page) and omsd exits cleanly.
  sse_client open{s.d.port(), s.d.admin_token(),
                  "?after=" + next["next"].get<std::string>()};
  open.read_events(0, std::chrono::seconds(1));
  auto last = next["next"].get<std::string>();
  auto polling = std::async(std::launch::async, [&] {
    http_client c{s.d.url(), s.d.admin_token()};
    return c.get("/v1/events?wait=60&after=" + last);
  });
  // The poll is in and waiting before the stop (a poll merely in flight
  // may still be refused NOT_READY by the stop, and rightly).
  REQUIRE(eventually(
      [&] {
        auto m = http_client{s.d.url()}.get("/metrics").body;
        return m.find("oms_event_polls_waiting 1\n") != std::string::npos;
      },
      std::chrono::seconds(20)));
  CHECK(s.d.stop() == 0);
  REQUIRE(polling.wait_for(std::chrono::seconds(30)) ==
          std::future_status::ready);
  auto r = polling.get();
  CHECK(r.status == 200);
  CHECK(body_of(r)["events"].empty());
  open.read_to_end(std::chrono::seconds(20));
  CHECK(open.closed);
}

TEST_CASE("e2e events: orders answer their version as an ETag and If-Match "
          "guards a change") {
  shop s;
  s.receive("ET-1", 5);
  auto [cid, token] = s.customer();
  auto id = s.order(cid, "ET-1", 2);
  auto read = s.admin.get("/v1/orders/" + id);
  REQUIRE(read.status == 200);
  CHECK(read.header("ETag") == "\"1\"");
  auto confirm =
      s.admin.post("/v1/orders/" + id + "/confirm", "{}", {"If-Match: \"1\""});
  REQUIRE_MESSAGE(confirm.status == 200, confirm.body);
  CHECK(confirm.header("ETag") == "\"2\"");
  // Stale: refused, nothing changed.
  auto feed_before = s.all_events().size();
  auto stale =
      s.admin.post("/v1/orders/" + id + "/cancel", "{}", {"If-Match: \"1\""});
  CHECK(stale.status == 412);
  CHECK(error_code(stale) == "PRECONDITION_FAILED");
  CHECK(body_of(stale)["error"]["details"]["version"] == 2);
  CHECK(body_of(s.admin.get("/v1/orders/" + id))["status"] == "CONFIRMED");
  CHECK(s.all_events().size() == feed_before);
  // A weak tag never matches; a malformed one is a 400 naming the header.
  auto weak =
      s.admin.post("/v1/orders/" + id + "/cancel", "{}", {"If-Match: W/\"2\""});
  CHECK(weak.status == 412);
  auto list = s.admin.post("/v1/orders/" + id + "/cancel", "{}",
                           {"If-Match: \"2\", \"3\""});
  CHECK(list.status == 400);
  CHECK(body_of(list)["error"]["details"]["field"] == "If-Match");
  // A route that checks no version refuses the header rather than make the
  // change unguarded.
  auto hook = s.admin.post(
      "/v1/webhooks",
      json{{"url", "http://127.0.0.1:9/x"}, {"types", {"oms.order.paid"}}}
          .dump(),
      {"If-Match: \"1\""});
  CHECK(hook.status == 400);
  CHECK(body_of(hook)["error"]["details"]["field"] == "If-Match");
  CHECK(body_of(s.admin.get("/v1/webhooks"))["webhooks"].empty());
  // The customer's own cancel at the current version goes through.
  http_client customer{s.d.url(), token};
  auto patch = customer.request("PATCH", "/v1/orders/" + id,
                                json{{"status", "CANCELLED"}}.dump(),
                                {"If-Match: \"2\""});
  REQUIRE_MESSAGE(patch.status == 200, patch.body);
  CHECK(body_of(patch)["status"] == "CANCELLED");
  CHECK(patch.header("ETag") == "\"3\"");
}

TEST_CASE("e2e events: SKUs answer their version as an ETag and If-Match "
          "guards their changes, across a restart") {
  shop s;
  s.receive("EV-1", 10); // sku_created (1) and stock_received (2)
  auto read = s.admin.get("/v1/inventory/EV-1");
  REQUIRE(read.status == 200);
  CHECK(read.header("ETag") == "\"2\"");
  CHECK(body_of(read)["version"] == 2);
  auto price = [&](int64_t unit_price, const std::string& tag) {
    return s.admin.request("PATCH", "/v1/inventory/EV-1",
                           json{{"unitPrice", unit_price}}.dump(),
                           {"If-Match: " + tag});
  };
  auto priced = price(175, "\"2\"");
  REQUIRE_MESSAGE(priced.status == 200, priced.body);
  CHECK(priced.header("ETag") == "\"3\"");
  // Stale: refused with the version it is at, nothing changed.
  auto events_before = s.all_events().size();
  auto stale = price(999, "\"2\"");
  CHECK(stale.status == 412);
  CHECK(error_code(stale) == "PRECONDITION_FAILED");
  CHECK(body_of(stale)["error"]["details"]["version"] == 3);
  CHECK(body_of(s.admin.get("/v1/inventory/EV-1"))["unitPrice"] == 175);
  CHECK(price(999, "W/\"3\"").status == 412);
  CHECK(price(999, "\"3\", \"4\"").status == 400);
  // A stale change with an event id is not recorded as processed: sent
  // again at the current version, it applies.
  json aside{{"kind", "SET_ASIDE"},
             {"quantity", 2},
             {"reason", "DAMAGED"},
             {"eventId", "ev-aside-1"}};
  auto refused = s.admin.post("/v1/inventory/EV-1/changes", aside.dump(),
                              {"If-Match: \"2\""});
  CHECK(refused.status == 412);
  CHECK(s.all_events().size() == events_before);
  auto applied = s.admin.post("/v1/inventory/EV-1/changes", aside.dump(),
                              {"If-Match: \"3\""});
  REQUIRE_MESSAGE(applied.status == 200, applied.body);
  CHECK(body_of(applied)["outcome"] == "APPLIED");
  CHECK(applied.header("ETag") == "\"4\"");
  CHECK(body_of(applied)["stock"]["version"] == 4);
  // The holds of orders are the orders' changes: the SKU keeps its version.
  auto [cid, token] = s.customer();
  auto id = s.order(cid, "EV-1", 3);
  s.step(id, "confirm");
  auto held = s.admin.get("/v1/inventory/EV-1");
  CHECK(body_of(held)["reserved"].get<int64_t>() +
            body_of(held)["blocked"].get<int64_t>() ==
        3);
  CHECK(held.header("ETag") == "\"4\"");
  // A receipt guarded by a version of a SKU that does not exist creates
  // nothing.
  auto ghost = s.admin.post("/v1/inventory/EV-GHOST/receipts",
                            json{{"quantity", 1}, {"unitPrice", 100}}.dump(),
                            {"If-Match: \"1\""});
  CHECK(ghost.status == 412);
  CHECK(s.admin.get("/v1/inventory/EV-GHOST").status == 404);
  // If-Match: * asks for a SKU that exists, at any version.
  auto any_ghost = s.admin.post(
      "/v1/inventory/EV-GHOST/receipts",
      json{{"quantity", 1}, {"unitPrice", 100}}.dump(), {"If-Match: *"});
  CHECK(any_ghost.status == 412);
  CHECK(body_of(any_ghost)["error"]["details"]["version"] == 0);
  CHECK(s.admin.get("/v1/inventory/EV-GHOST").status == 404);
  // The feed numbers the SKU's own changes 1, 2, ...: its subjectseq.
  std::vector<std::pair<std::string, int>> seen;
  for (auto& e : s.all_events())
    if (e["subject"] == "EV-1")
      seen.emplace_back(e["type"].get<std::string>(),
                        e.contains("subjectseq") ? e["subjectseq"].get<int>()
                                                 : 0);
  std::vector<std::pair<std::string, int>> expected{
      {"oms.sku.created", 1},       {"oms.stock.received", 2},
      {"oms.sku.price_changed", 3}, {"oms.stock.set_aside", 4},
      {"oms.stock.reserved", 0},    {"oms.stock.blocked", 0}};
  CHECK(seen == expected);
  // A restart keeps the version: the tag read before still guards.
  s.d.stop();
  s.d.restart();
  auto again = s.admin.get("/v1/inventory/EV-1");
  REQUIRE(again.status == 200);
  CHECK(again.header("ETag") == "\"4\"");
  CHECK(price(180, "\"3\"").status == 412);
  auto after = price(180, "\"4\"");
  REQUIRE_MESSAGE(after.status == 200, after.body);
  CHECK(after.header("ETag") == "\"5\"");
}

TEST_CASE("e2e events: streams a client closed stop counting against the "
          "cap at once") {
  shop s;
  s.receive("EV-6", 1);
  // More streams than may be open at once, each closed by its client once
  // the stream waits for events (its first piece is in).
  for (int i = 0; i < 300; ++i) {
    sse_client c{s.d.port(), s.d.admin_token(), "?after=2"};
    c.read_comments(1, std::chrono::seconds(20));
    REQUIRE_MESSAGE(c.head.rfind("HTTP/1.1 200", 0) == 0, i, c.head);
  }
  sse_client last{s.d.port(), s.d.admin_token(), ""};
  last.read_events(2, std::chrono::seconds(20));
  CHECK(last.events.size() == 2);
}

TEST_CASE("e2e events: the admin searches orders by filters in pages, and "
          "bad searches are refused") {
  shop s;
  s.receive("SR-1", 50);
  s.receive("SR-2", 50);
  auto [alice, alice_token] = s.customer();
  auto [bob, bob_token] = s.customer();
  auto a1 = s.order(alice, "SR-1", 1);
  auto b1 = s.order(bob, "SR-2", 1);
  auto a2 = s.order(alice, "SR-2", 2);
  s.step(b1, "confirm");
  auto ids = [&](const std::string& query) {
    auto r = s.admin.get("/v1/orders" + query);
    REQUIRE_MESSAGE(r.status == 200, r.body);
    std::vector<std::string> got;
    auto page = body_of(r);
    for (auto& o : page["orders"])
      got.push_back(o["id"].get<std::string>());
    return got;
  };
  CHECK(ids("") == std::vector<std::string>{a2, b1, a1});
  CHECK(ids("?sku=SR-2") == std::vector<std::string>{a2, b1});
  CHECK(ids("?customerId=" + alice) == std::vector<std::string>{a2, a1});
  CHECK(ids("?status=CONFIRMED") == std::vector<std::string>{b1});
  CHECK(ids("?status=CREATED&sku=SR-2&seller=INTERNAL") ==
        std::vector<std::string>{a2});
  CHECK(ids("?createdTo=2000-01-01T00:00:00Z&createdFrom=1999-01-01T00:00:00Z")
            .empty());
  // Pages.
  auto first = body_of(s.admin.get("/v1/orders?limit=2"));
  REQUIRE(first["nextCursor"].is_string());
  CHECK(ids("?limit=2&cursor=" + first["nextCursor"].get<std::string>()) ==
        std::vector<std::string>{a1});
  // Admin only; bad input names its parameter.
  http_client customer{s.d.url(), alice_token};
  CHECK(customer.get("/v1/orders").status == 403);
  auto field_of = [&](const std::string& query) {
    auto r = s.admin.get("/v1/orders" + query);
    CHECK_MESSAGE(r.status == 400, query);
    return body_of(r)["error"]["details"]["field"].get<std::string>();
  };
  CHECK(field_of("?status=SHIPPING") == "status");
  CHECK(field_of("?sku=bad%20sku") == "sku");
  CHECK(field_of("?seller=OTHER") == "seller");
  CHECK(field_of("?createdFrom=yesterday") == "createdFrom");
  CHECK(field_of("?createdFrom=2026-01-02T00:00:00Z&createdTo=2026-01-01T00:"
                 "00:00Z") == "createdTo");
  CHECK(field_of("?cursor=abc") == "cursor");
  CHECK(field_of("?cursor=0") == "cursor");
  CHECK(field_of("?limit=101") == "limit");
  CHECK(field_of("?customer=x") == "customer");
}

TEST_CASE("e2e events: events older than the retention are pruned, and a "
          "cursor before them answers 410 EVENTS_EXPIRED") {
  shop s{{"--event-retention", "1s"}};
  s.receive("RT-1", 1);
  s.receive("RT-1", 1);
  s.receive("RT-1", 1);
  // Pruned within seconds: all but the newest event, which carries the
  // sequence on.
  REQUIRE(eventually(
      [&] { return s.admin.get("/v1/events?after=1").status == 410; },
      std::chrono::seconds(30)));
  auto gone = s.admin.get("/v1/events?after=1");
  CHECK(error_code(gone) == "EVENTS_EXPIRED");
  auto first = body_of(gone)["error"]["details"]["first"].get<std::string>();
  CHECK(first == "4");
  // From the start is from the oldest event kept; a cursor right before it
  // loses nothing and is served.
  auto page = s.page("?after=0");
  REQUIRE(page["events"].size() == 1);
  CHECK(page["events"][0]["id"] == "4");
  CHECK(s.page("?after=3")["events"].size() == 1);
  // A stream resuming before them is refused before it opens.
  sse_client late{s.d.port(), s.d.admin_token(), "", "1"};
  late.read_head(std::chrono::seconds(20));
  CHECK(late.head.rfind("HTTP/1.1 410", 0) == 0);
  // The state does not depend on the events: a restart keeps stock and
  // the log's bounds.
  s.d.restart({"--event-retention", "1s"});
  CHECK(s.admin.get("/v1/events?after=1").status == 410);
  auto sku = body_of(s.admin.get("/v1/inventory/RT-1"));
  CHECK(sku["onHand"] == 3);
  s.receive("RT-1", 1);
  CHECK(s.page("?after=4")["events"][0]["id"] == "5");
}
