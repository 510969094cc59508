// Webhooks on a cluster (docs/cluster.md, "Webhooks on a cluster"): the
// holder of the duty shard delivers every node's events, any node manages
// the subscriptions (forwarded to the holder), and the node that takes the
// shard next goes on from the cursors the last holder journaled.
#include <doctest/doctest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "tests/e2e/cluster_fixture.hpp"
#include "tests/e2e/webhook_receiver.hpp"

using namespace oms::e2e;

namespace {

// The ids of a receiver's log.
std::vector<std::string> logged_ids(const json& log) {
  std::vector<std::string> ids;
  for (auto& x : log)
    ids.push_back(x["id"].get<std::string>());
  return ids;
}

// The subject of each delivery of a receiver's log, each signed with the
// receiver's first secret.
std::vector<std::string> signed_subjects(const json& log) {
  std::vector<std::string> out;
  for (auto& x : log) {
    CHECK(x["valid"] == json::array({0}));
    out.push_back(json::parse(x["body"].get<std::string>())["subject"]);
  }
  return out;
}

// Receives `qty` units of `sku` at `d`, retried while its shard loads.
void receive_at(const node& d, const std::string& sku, int64_t qty) {
  http_client admin{d.url(), d.admin_token()};
  json receipt{{"quantity", qty}, {"unitPrice", 500}};
  oms::client::http_result last;
  bool done = eventually(
      [&] {
        last = admin.post("/v1/inventory/" + sku + "/receipts", receipt.dump());
        return last.status == 200;
      },
      std::chrono::seconds(30));
  REQUIRE_MESSAGE(done, last.status << " " << last.body);
}

// The ids of the stock events in the shared log, as `d`'s feed shows them.
std::vector<std::string> stock_feed(const node& d,
                                    const std::string& subject = "") {
  http_client admin{d.url(), d.admin_token()};
  auto path = "/v1/events?after=0&limit=1000&type=oms.stock.*";
  auto r =
      admin.get(subject.empty() ? std::string{path}
                                : path + std::string{"&subject="} + subject);
  REQUIRE_MESSAGE(r.status == 200, r.body);
  // (Kept: a range over a part of a temporary would dangle.)
  auto page = body_of(r);
  std::vector<std::string> ids;
  for (auto& e : page["events"])
    ids.push_back(e["id"].get<std::string>());
  return ids;
}

// The receiver's log once it holds every one of `want` (a delivery made
// again may come twice).
json delivered(webhook_receiver& rx, const std::vector<std::string>& want) {
  json log;
  bool came = eventually(
      [&] {
        log = rx.log();
        auto ids = logged_ids(log);
        return std::set<std::string>(ids.begin(), ids.end()) ==
               std::set<std::string>(want.begin(), want.end());
      },
      std::chrono::seconds(30));
  REQUIRE_MESSAGE(came, log.dump());
  return log;
}

// Each id once, where it first came.
std::vector<std::string> first_seen(const std::vector<std::string>& ids) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (auto& id : ids)
    if (seen.insert(id).second)
      out.push_back(id);
  return out;
}

// The cursor of subscription `id` as the shared store holds it ("" if
// none).
std::string journaled_cursor(const cluster_fixture& c, const std::string& id) {
  pqxx::connection conn{c.pg};
  pqxx::read_transaction tx{conn};
  auto rows = tx.exec(
      "SELECT cursor FROM " + tx.quote_name(c.schema + "_store") +
      ".inbox_cursors WHERE source = " + tx.quote("webhook-cursor:" + id));
  return rows.empty() ? std::string{} : rows[0][0].as<std::string>();
}

// The cursor of subscription `id` as a node shows it (0 if unread).
uint64_t cursor_of(http_client& admin, const std::string& id) {
  auto r = admin.get("/v1/webhooks/" + id);
  auto shown = body_of(r);
  if (r.status != 200 || !shown["cursor"].is_string())
    return 0;
  return std::stoull(shown["cursor"].get<std::string>());
}

} // namespace

TEST_CASE("e2e cluster: the duty shard's holder delivers every node's events "
          "to the webhooks, any node manages them, and the next holder goes "
          "on from the cursor") {
  auto info = lease_server();
  if (info == nullptr)
    return;
  webhook_receiver rx;
  cluster_fixture c{info};
  auto two = two_linked(c);
  auto* n1 = two.n1;
  auto* n2 = two.n2;
  auto& view = two.view;
  auto& duty = two.duty;
  CAPTURE(duty);
  node& holder = *two.holder;
  node& other = *two.other;
  auto& other_id = two.other_id;
  const auto limit = std::chrono::seconds(30);
  http_client at_holder{holder.url(), holder.admin_token()};
  http_client at_other{other.url(), other.admin_token()};
  auto a = sku_held_by(view, "n1", "HOOK").first;
  auto b = sku_held_by(view, "n2", "HOOK").first;

  // Refused with its field at a node that does not run them, as at the
  // holder; nothing is made.
  for (auto* admin : {&at_other, &at_holder}) {
    auto bad =
        admin->post("/v1/webhooks", json{{"url", "http://203.0.113.9/hook"},
                                         {"types", {"oms.stock.*"}}}
                                        .dump());
    CHECK(bad.status == 400);
    CHECK(body_of(bad)["error"]["code"] == "VALIDATION_FAILED");
    CHECK(body_of(bad)["error"]["details"]["field"] == "url");
  }
  auto none = at_holder.get("/v1/webhooks");
  REQUIRE_MESSAGE(none.status == 200, none.body);
  CHECK(body_of(none)["webhooks"].empty());

  // Subscribed at the other node: made by the holder.
  auto made =
      at_other.post("/v1/webhooks",
                    json{{"url", rx.url()}, {"types", {"oms.stock.*"}}}.dump());
  REQUIRE_MESSAGE(made.status == 201, made.body);
  CHECK(made.header("Oms-Forwarded-To") == duty);
  auto hook = body_of(made);
  rx.secrets(json::array({hook["secret"]}));
  auto id = hook["id"].get<std::string>();
  for (auto* admin : {&at_holder, &at_other}) {
    auto list = admin->get("/v1/webhooks");
    REQUIRE_MESSAGE(list.status == 200, list.body);
    auto listed = body_of(list)["webhooks"];
    REQUIRE(listed.size() == 1);
    CHECK(listed[0]["id"] == id);
    // The secret is shown once, at its making, wherever it is read.
    CHECK(listed.dump().find("whsec_") == std::string::npos);
  }

  // Each node's commits reach the receiver, from the one holder.
  receive_at(*n1, a, 3);
  receive_at(*n2, b, 4);
  auto want = stock_feed(other);
  REQUIRE(want.size() >= 2);
  auto log = delivered(rx, want);
  auto subjects = signed_subjects(log);
  CHECK(std::set<std::string>(subjects.begin(), subjects.end()) ==
        std::set<std::string>{a, b});
  auto first = logged_ids(log);
  CHECK(first == want);

  // Acknowledged, not only received: no delivery is under way.
  REQUIRE(eventually(
      [&] { return cursor_of(at_holder, id) >= std::stoull(want.back()); },
      limit));
  // The holder stops: it journals its cursors, then hands its leases back.
  // The other node takes the duty shard and goes on from that cursor, so
  // nothing delivered comes again and nothing committed is missed.
  CHECK(holder.stop() == 0);
  REQUIRE(eventually(
      [&] {
        auto now = held(cluster_of(other));
        auto i = now.find(0);
        return i != now.end() && i->second.first == other_id;
      },
      limit));
  receive_at(other, a, 5);
  want = stock_feed(other);
  REQUIRE(want.size() > first.size());
  auto after = delivered(rx, want);
  auto ids = logged_ids(after);
  CHECK_MESSAGE(ids == want, after.dump());
  CHECK(signed_subjects(after).back() == a);
  auto shown = at_other.get("/v1/webhooks/" + id);
  REQUIRE_MESSAGE(shown.status == 200, shown.body);
  CHECK(shown.header("Oms-Forwarded-To").empty());
  CHECK(eventually(
      [&] { return cursor_of(at_other, id) >= std::stoull(ids.back()); },
      limit));
}

TEST_CASE("e2e cluster: a webhook holder killed loses no committed event, "
          "and the next holder starts from the cursor it journaled") {
  auto info = lease_server();
  if (info == nullptr)
    return;
  webhook_receiver rx;
  cluster_fixture c{info};
  auto two = two_linked(c);
  auto& view = two.view;
  CAPTURE(two.duty);
  node& holder = *two.holder;
  node& other = *two.other;
  auto& other_id = two.other_id;
  const auto limit = std::chrono::seconds(30);
  auto mine = sku_held_by(view, other_id, "KILL").first;
  http_client at_holder{holder.url(), holder.admin_token()};
  auto made = at_holder.post(
      "/v1/webhooks",
      json{{"url", rx.url()}, {"types", {"oms.stock.*"}}}.dump());
  REQUIRE_MESSAGE(made.status == 201, made.body);
  CHECK(made.header("Oms-Forwarded-To").empty());
  rx.secrets(json::array({body_of(made)["secret"]}));
  auto id = body_of(made)["id"].get<std::string>();

  // Receipts at the node that stays, some delivered before the kill, some
  // committed around it.
  for (int i = 1; i <= 3; ++i)
    receive_at(other, mine, i);
  auto before = stock_feed(other, mine);
  delivered(rx, before);
  // The holder journaled its cursor past them: the next holder starts
  // there, and delivers none of them again.
  REQUIRE(eventually(
      [&] {
        auto at = journaled_cursor(c, id);
        return !at.empty() && std::stoull(at) >= std::stoull(before.back());
      },
      limit));
  holder.kill9();
  for (int i = 4; i <= 6; ++i)
    receive_at(other, mine, i);
  REQUIRE(eventually(
      [&] {
        auto now = held(cluster_of(other));
        auto i = now.find(0);
        return i != now.end() && i->second.first == other_id;
      },
      limit));
  // Every one of the six, at least once, the first of each in the log's
  // order (an event delivered again comes before those after it).
  auto want = stock_feed(other, mine);
  REQUIRE(want.size() >= 6);
  auto log = delivered(rx, want);
  CHECK(first_seen(logged_ids(log)) == want);
  // Made again, if at all: only what the holder delivered after it last
  // journaled its cursor, that is after the first three.
  std::map<std::string, int> times;
  for (auto& got : logged_ids(log))
    ++times[got];
  for (auto& was : before)
    CHECK_MESSAGE(times[was] == 1, was);
}
