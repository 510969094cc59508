// The simulated WMS on an injected clock: batch snapshots and staleness,
// idempotent calls, stock and state rules, the rate limiter, injected faults
// from a seeded random source, the event feed and request validation. Every
// case drives the HTTP contract through sim::handle, without a server.
#include <doctest/doctest.h>

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "system/wms_sim/config.hpp"
#include "system/wms_sim/sim.hpp"

using namespace oms::wms_sim;

namespace {

constexpr int64_t wms_sim_t0 = 1'700'000'000'000; // a whole second

struct wms {
  int64_t now = wms_sim_t0;
  sim s;

  explicit wms(options opts = quiet()) : s(opts, [this] { return now; }) {}

  // No rate limit, no faults, batches only on demand.
  static options quiet() {
    options o;
    o.batch_interval_ms = 0;
    o.faults.rate_limit = 0;
    return o;
  }

  response call(const std::string& method, const std::string& path,
                const json& body = nullptr) {
    request r;
    r.method = method;
    auto q = path.find('?');
    r.path = path.substr(0, q);
    if (q != std::string::npos)
      r.query = path.substr(q + 1);
    r.body = body.is_null() ? "" : body.dump();
    return s.handle(r);
  }

  response raw_post(const std::string& path, const std::string& body) {
    return s.handle(request{"POST", path, "", body});
  }

  void sku(const std::string& sku, int64_t on_hand, int64_t price = 49900,
           bool reflect = true) {
    auto r = call("POST", "/admin/skus",
                  {{"sku", sku},
                   {"onHand", on_hand},
                   {"unitPrice", price},
                   {"reflectNow", reflect}});
    REQUIRE_MESSAGE(r.status / 100 == 2, r.body.dump());
  }

  response reserve(const std::string& id, const std::string& sku, int64_t q) {
    return call("POST", "/reservations",
                {{"id", id}, {"sku", sku}, {"quantity", q}});
  }

  int64_t orderable(const std::string& sku) {
    auto r = call("GET", "/inventory/" + sku);
    REQUIRE_MESSAGE(r.status == 200, r.body.dump());
    return r.body["orderable"].get<int64_t>();
  }

  json admin_sku(const std::string& sku) {
    auto st = s.state();
    for (auto& x : st["skus"])
      if (x["sku"] == sku)
        return x;
    FAIL("no SKU " << sku);
    return {};
  }
};

std::string code_of(const response& r) {
  if (r.body.is_object() && r.body.contains("error"))
    return r.body["error"]["code"].get<std::string>();
  return {};
}

std::string field_of(const response& r) {
  if (r.body.is_object() && r.body.contains("error") &&
      r.body["error"].contains("field"))
    return r.body["error"]["field"].get<std::string>();
  return {};
}

std::string header_of(const response& r, const std::string& name) {
  for (auto& [k, v] : r.headers)
    if (k == name)
      return v;
  return {};
}

} // namespace

TEST_CASE("wms_sim: a reservation shows in orderable only after the next "
          "batch") {
  // Orderable is the last batch's snapshot: a reservation leaves it stale
  // until a batch runs, and the batch's reflects names the last seq included.
  wms w;
  w.sku("EXT-1", 10);
  auto before = w.call("GET", "/inventory/EXT-1");
  REQUIRE(before.status == 200);
  CHECK(before.body["orderable"] == 10);
  CHECK(before.body["unitPrice"] == 49900);
  CHECK(before.body["batch"] == 1);
  CHECK(before.body["reflects"] == 1);
  CHECK(before.body["asOf"] == wms_sim_t0);

  w.now += 5000;
  auto r = w.reserve("r-1", "EXT-1", 3);
  REQUIRE(r.status == 201);
  CHECK(r.body["seq"] == 2);
  auto stale = w.call("GET", "/inventory/EXT-1");
  CHECK(stale.body["orderable"] == 10);
  CHECK(stale.body["reflects"] == 1);
  CHECK(stale.body["asOf"] == wms_sim_t0);

  w.now += 5000;
  auto b = w.call("POST", "/admin/batch");
  REQUIRE(b.status == 200);
  CHECK(b.body["batch"] == 2);
  CHECK(b.body["reflects"] == 2);
  CHECK(b.body["asOf"] == wms_sim_t0 + 10000);
  auto fresh = w.call("GET", "/inventory/EXT-1");
  CHECK(fresh.body["orderable"] == 7);
  CHECK(fresh.body["batch"] == 2);
  CHECK(fresh.body["reflects"] == 2);
  CHECK(fresh.body["asOf"] == wms_sim_t0 + 10000);
}

TEST_CASE("wms_sim: a SKU is unknown to inventory until a batch includes it, "
          "but reservable at once") {
  // GET /inventory reads the snapshot; POST /reservations checks live stock.
  wms w;
  w.sku("NEW-1", 5, 1000, false);
  auto r = w.call("GET", "/inventory/NEW-1");
  CHECK(r.status == 404);
  CHECK(code_of(r) == "UNKNOWN_SKU");
  CHECK(w.reserve("r-1", "NEW-1", 2).status == 201);
  w.call("POST", "/admin/batch");
  CHECK(w.orderable("NEW-1") == 3);
  // A never-created SKU is unknown on both paths.
  CHECK(code_of(w.call("GET", "/inventory/NOPE")) == "UNKNOWN_SKU");
  auto nope = w.reserve("r-2", "NOPE", 1);
  CHECK(nope.status == 404);
  CHECK(code_of(nope) == "UNKNOWN_SKU");
}

TEST_CASE("wms_sim: replacing a SKU's price shows after the batch, "
          "reflectNow at once") {
  wms w;
  w.sku("EXT-1", 10, 100);
  w.sku("EXT-1", 12, 200, false);
  auto stale = w.call("GET", "/inventory/EXT-1");
  CHECK(stale.body["unitPrice"] == 100);
  CHECK(stale.body["orderable"] == 10);
  w.sku("EXT-1", 12, 300, true);
  auto fresh = w.call("GET", "/inventory/EXT-1");
  CHECK(fresh.body["unitPrice"] == 300);
  CHECK(fresh.body["orderable"] == 12);
  CHECK(fresh.body["reflects"] == 3);
}

TEST_CASE("wms_sim: the batch timer runs once per interval on the clock") {
  // Nothing is reflected between batches; a late timer runs one batch and
  // keeps the schedule (missed periods are skipped, not replayed).
  options o = wms::quiet();
  o.batch_interval_ms = 900'000;
  wms w{o};
  REQUIRE(w.s.next_batch_at() == wms_sim_t0 + 900'000);
  w.sku("EXT-1", 10, 100, false);
  w.now = wms_sim_t0 + 899'999;
  CHECK_FALSE(w.s.run_due_batch());
  CHECK(w.call("GET", "/inventory/EXT-1").status == 404);
  w.now = wms_sim_t0 + 900'000;
  auto b = w.s.run_due_batch();
  REQUIRE(b);
  CHECK(b->batch == 1);
  CHECK(b->as_of_ms == wms_sim_t0 + 900'000);
  CHECK(b->skus == 1);
  CHECK(b->changes == 1);
  CHECK(w.orderable("EXT-1") == 10);
  CHECK(w.s.next_batch_at() == wms_sim_t0 + 1'800'000);
  CHECK_FALSE(w.s.run_due_batch());
  // The timer fires 2.5 periods late: one batch, next one on the grid.
  w.reserve("r-1", "EXT-1", 4);
  w.now = wms_sim_t0 + 1'800'000 + 2 * 900'000 + 450'000;
  b = w.s.run_due_batch();
  REQUIRE(b);
  CHECK(b->batch == 2);
  CHECK(w.s.next_batch_at() == wms_sim_t0 + 5 * 900'000);
  CHECK(w.orderable("EXT-1") == 6);
  // A batch on demand does not move the timer.
  w.call("POST", "/admin/batch");
  CHECK(w.s.next_batch_at() == wms_sim_t0 + 5 * 900'000);
  CHECK(w.s.batch() == 3);
}

TEST_CASE("wms_sim: every change takes the next value of one global seq") {
  wms w;
  w.sku("A", 10); // 1
  w.sku("B", 10); // 2
  auto rc = w.call("POST", "/admin/receipts",
                   {{"sku", "A"}, {"quantity", 5}, {"lot", "L-7"}}); // 3
  REQUIRE(rc.status == 200);
  CHECK(rc.body["seq"] == 3);
  CHECK(rc.body["event"]["seq"] == 3);
  CHECK(w.reserve("r-1", "B", 1).body["seq"] == 4);
  CHECK(w.call("POST", "/reservations/r-1/block").body["seq"] == 5);
  CHECK(w.call("POST", "/reservations/r-1/ship").body["seq"] == 6);
  auto adj = w.call("POST", "/admin/adjustments",
                    {{"sku", "A"}, {"quantity", 2}, {"reason", "DAMAGE"}});
  CHECK(adj.body["seq"] == 7);
  CHECK(w.reserve("r-2", "A", 1).body["seq"] == 8);
  CHECK(w.call("DELETE", "/reservations/r-2").body["seq"] == 9);
  CHECK(w.s.seq() == 9);
  // Repeats and reads change nothing.
  w.call("POST", "/reservations/r-1/ship");
  w.call("GET", "/reservations/r-1");
  w.call("POST", "/admin/batch");
  CHECK(w.s.seq() == 9);
}

TEST_CASE("wms_sim: reserving again with the same id, sku and quantity "
          "answers the reservation's current state") {
  // The retry of a reservation whose answer was lost is safe: 200, the
  // current status and the seq of its last change, and no second hold.
  wms w;
  w.sku("EXT-1", 10);
  auto first = w.reserve("ord-1:EXT-1", "EXT-1", 4);
  REQUIRE(first.status == 201);
  CHECK(first.body["status"] == "RESERVED");
  auto again = w.reserve("ord-1:EXT-1", "EXT-1", 4);
  CHECK(again.status == 200);
  CHECK(again.body == first.body);
  CHECK(w.admin_sku("EXT-1")["reserved"] == 4);
  auto blocked = w.call("POST", "/reservations/ord-1:EXT-1/block");
  auto after_block = w.reserve("ord-1:EXT-1", "EXT-1", 4);
  CHECK(after_block.status == 200);
  CHECK(after_block.body["status"] == "BLOCKED");
  CHECK(after_block.body["seq"] == blocked.body["seq"]);
  w.call("DELETE", "/reservations/ord-1:EXT-1");
  auto after_release = w.reserve("ord-1:EXT-1", "EXT-1", 4);
  CHECK(after_release.status == 200);
  CHECK(after_release.body["status"] == "RELEASED");
  CHECK(w.admin_sku("EXT-1")["reserved"] == 0);
  CHECK(w.admin_sku("EXT-1")["blocked"] == 0);
}

TEST_CASE("wms_sim: the same reservation id with another sku or quantity is "
          "IDEMPOTENCY_CONFLICT") {
  wms w;
  w.sku("A", 10);
  w.sku("B", 10);
  REQUIRE(w.reserve("r-1", "A", 2).status == 201);
  auto qty = w.reserve("r-1", "A", 3);
  CHECK(qty.status == 409);
  CHECK(code_of(qty) == "IDEMPOTENCY_CONFLICT");
  auto sku = w.reserve("r-1", "B", 2);
  CHECK(sku.status == 409);
  CHECK(code_of(sku) == "IDEMPOTENCY_CONFLICT");
  CHECK(w.admin_sku("A")["reserved"] == 2);
  CHECK(w.admin_sku("B")["reserved"] == 0);
}

TEST_CASE("wms_sim: a reservation above live orderable is INSUFFICIENT_STOCK "
          "and records nothing") {
  // The check uses live stock, not the stale snapshot: the snapshot still
  // says 10 while only 2 are free. A refused id may be used again later.
  wms w;
  w.sku("EXT-1", 10);
  REQUIRE(w.reserve("r-1", "EXT-1", 8).status == 201);
  CHECK(w.orderable("EXT-1") == 10);
  auto r = w.reserve("r-2", "EXT-1", 3);
  CHECK(r.status == 409);
  CHECK(code_of(r) == "INSUFFICIENT_STOCK");
  CHECK(r.body["error"]["available"] == 2);
  auto lookup = w.call("GET", "/reservations/r-2");
  CHECK(lookup.status == 404);
  CHECK(code_of(lookup) == "UNKNOWN_RESERVATION");
  auto seq = w.s.seq();
  // The last two units go, exactly.
  CHECK(w.reserve("r-3", "EXT-1", 2).status == 201);
  CHECK(w.reserve("r-4", "EXT-1", 1).body["error"]["available"] == 0);
  // Stock arrives and the refused id succeeds.
  w.call("POST", "/admin/receipts", {{"sku", "EXT-1"}, {"quantity", 3}});
  auto retry = w.reserve("r-2", "EXT-1", 3);
  CHECK(retry.status == 201);
  CHECK(retry.body["seq"] == seq + 3);
}

TEST_CASE("wms_sim: live orderable subtracts unallocatable, reserved and "
          "blocked units, the snapshot never goes below zero") {
  wms w;
  w.sku("EXT-1", 10);
  w.reserve("r-1", "EXT-1", 3);
  w.reserve("r-2", "EXT-1", 2);
  w.call("POST", "/reservations/r-2/block");
  w.call("POST", "/admin/adjustments",
         {{"sku", "EXT-1"}, {"quantity", 4}, {"reason", "QUARANTINE"}});
  auto s = w.admin_sku("EXT-1");
  CHECK(s["onHand"] == 10);
  CHECK(s["unallocatable"] == 4);
  CHECK(s["reserved"] == 3);
  CHECK(s["blocked"] == 2);
  CHECK(s["liveOrderable"] == 1);
  CHECK(w.reserve("r-3", "EXT-1", 2).body["error"]["available"] == 1);
  // Damage of units already promised: live goes negative, orderable is 0.
  w.call("POST", "/admin/adjustments",
         {{"sku", "EXT-1"}, {"quantity", 3}, {"reason", "DAMAGE"}});
  CHECK(w.admin_sku("EXT-1")["liveOrderable"] == -2);
  w.call("POST", "/admin/batch");
  CHECK(w.orderable("EXT-1") == 0);
  CHECK(w.reserve("r-3", "EXT-1", 1).body["error"]["available"] == 0);
}

TEST_CASE("wms_sim: block, ship and release follow the reservation state "
          "rules") {
  // RESERVED → BLOCKED → SHIPPED; RESERVED or BLOCKED → RELEASED; a
  // repeated transition answers the same state; the others are
  // INVALID_STATE and change nothing.
  wms w;
  w.sku("EXT-1", 100);
  auto status_after = [&](const std::string& method, const std::string& path) {
    auto r = w.call(method, path);
    return std::to_string(r.status) + " " +
           (r.status == 200 ? r.body["status"].get<std::string>() : code_of(r));
  };
  w.reserve("res", "EXT-1", 1);
  CHECK(status_after("POST", "/reservations/res/ship") == "409 INVALID_STATE");
  CHECK(status_after("POST", "/reservations/res/block") == "200 BLOCKED");
  CHECK(status_after("POST", "/reservations/res/block") == "200 BLOCKED");
  CHECK(status_after("POST", "/reservations/res/ship") == "200 SHIPPED");
  CHECK(status_after("POST", "/reservations/res/ship") == "200 SHIPPED");
  CHECK(status_after("POST", "/reservations/res/block") == "409 INVALID_STATE");
  CHECK(status_after("DELETE", "/reservations/res") == "409 INVALID_STATE");
  CHECK(w.call("GET", "/reservations/res").body["status"] == "SHIPPED");

  w.reserve("rel", "EXT-1", 1);
  CHECK(status_after("DELETE", "/reservations/rel") == "200 RELEASED");
  CHECK(status_after("DELETE", "/reservations/rel") == "200 RELEASED");
  CHECK(status_after("POST", "/reservations/rel/block") == "409 INVALID_STATE");
  CHECK(status_after("POST", "/reservations/rel/ship") == "409 INVALID_STATE");

  w.reserve("blk", "EXT-1", 1);
  w.call("POST", "/reservations/blk/block");
  CHECK(status_after("DELETE", "/reservations/blk") == "200 RELEASED");

  for (auto& [method, path] : std::vector<std::pair<std::string, std::string>>{
           {"GET", "/reservations/ghost"},
           {"DELETE", "/reservations/ghost"},
           {"POST", "/reservations/ghost/block"},
           {"POST", "/reservations/ghost/ship"}}) {
    const auto& case_path = path; // CAPTURE cannot name a binding
    CAPTURE(case_path);
    auto r = w.call(method, path);
    CHECK(r.status == 404);
    CHECK(code_of(r) == "UNKNOWN_RESERVATION");
  }
  auto s = w.admin_sku("EXT-1");
  CHECK(s["onHand"] == 99);
  CHECK(s["shipped"] == 1);
  CHECK(s["reserved"] == 0);
  CHECK(s["blocked"] == 0);
  CHECK(w.s.state()["reservations"] ==
        json{{"RESERVED", 0}, {"BLOCKED", 0}, {"SHIPPED", 1}, {"RELEASED", 2}});
}

TEST_CASE("wms_sim: a repeated block, ship or release answers the same seq") {
  wms w;
  w.sku("EXT-1", 10);
  w.reserve("r-1", "EXT-1", 2);
  auto b1 = w.call("POST", "/reservations/r-1/block");
  auto b2 = w.call("POST", "/reservations/r-1/block");
  CHECK(b1.body == b2.body);
  auto s1 = w.call("POST", "/reservations/r-1/ship");
  auto s2 = w.call("POST", "/reservations/r-1/ship");
  CHECK(s1.body == s2.body);
  CHECK(s1.body["seq"].get<int64_t>() == b1.body["seq"].get<int64_t>() + 1);
  // Shipping twice took the units out of onHand once.
  CHECK(w.admin_sku("EXT-1")["onHand"] == 8);
  w.reserve("r-2", "EXT-1", 1);
  auto d1 = w.call("DELETE", "/reservations/r-2");
  auto d2 = w.call("DELETE", "/reservations/r-2");
  CHECK(d1.body == d2.body);
  CHECK(w.admin_sku("EXT-1")["liveOrderable"] == 8);
}

TEST_CASE("wms_sim: shipping takes the units out of onHand without changing "
          "orderable") {
  wms w;
  w.sku("EXT-1", 10);
  w.reserve("r-1", "EXT-1", 4);
  w.call("POST", "/reservations/r-1/block");
  w.call("POST", "/admin/batch");
  CHECK(w.orderable("EXT-1") == 6);
  w.call("POST", "/reservations/r-1/ship");
  w.call("POST", "/admin/batch");
  CHECK(w.orderable("EXT-1") == 6);
  auto s = w.admin_sku("EXT-1");
  CHECK(s["onHand"] == 6);
  CHECK(s["blocked"] == 0);
  CHECK(s["shipped"] == 4);
}

TEST_CASE("wms_sim: reducing a RESERVED reservation frees the rest, in "
          "orderable after the next batch") {
  // The reservation keeps N units, the others go back to live stock at once
  // and to orderable with the next batch, as a release's do; no feed event.
  wms w;
  w.sku("EXT-1", 10);
  REQUIRE(w.reserve("r-1", "EXT-1", 5).status == 201);
  w.call("POST", "/admin/batch");
  CHECK(w.orderable("EXT-1") == 5);
  auto seq = w.s.seq();
  auto r = w.call("POST", "/reservations/r-1/reduce", {{"quantity", 3}});
  REQUIRE(r.status == 200);
  CHECK(r.body == json{{"id", "r-1"},
                       {"sku", "EXT-1"},
                       {"quantity", 3},
                       {"status", "RESERVED"},
                       {"seq", seq + 1}});
  CHECK(w.s.seq() == seq + 1);
  auto s = w.admin_sku("EXT-1");
  CHECK(s["reserved"] == 3);
  CHECK(s["onHand"] == 10);
  CHECK(s["liveOrderable"] == 7);
  CHECK(w.orderable("EXT-1") == 5);
  auto b = w.call("POST", "/admin/batch");
  CHECK(b.body["changes"] == 1);
  CHECK(b.body["events"] == 0);
  CHECK(w.orderable("EXT-1") == 7);
  CHECK(w.call("GET", "/inventory/EXT-1").body["reflects"] == seq + 1);
  CHECK(w.call("GET", "/events").body["events"].empty());
  CHECK(w.call("GET", "/reservations/r-1").body == r.body);
  // A repeat answers the same body and changes nothing.
  auto again = w.call("POST", "/reservations/r-1/reduce", {{"quantity", 3}});
  CHECK(again.status == 200);
  CHECK(again.body == r.body);
  CHECK(w.s.seq() == seq + 1);
  CHECK(w.admin_sku("EXT-1")["reserved"] == 3);
  // Above what it holds now: 409 naming that, nothing changes.
  auto above = w.call("POST", "/reservations/r-1/reduce", {{"quantity", 4}});
  CHECK(above.status == 409);
  CHECK(code_of(above) == "QUANTITY_ABOVE_RESERVATION");
  CHECK(above.body["error"]["quantity"] == 3);
  CHECK(w.admin_sku("EXT-1")["reserved"] == 3);
  CHECK(w.s.seq() == seq + 1);
  // A retry of the reservation as it was made still answers its current
  // state; the reduced quantity is not the one it was made with.
  auto retry = w.reserve("r-1", "EXT-1", 5);
  CHECK(retry.status == 200);
  CHECK(retry.body == r.body);
  auto other = w.reserve("r-1", "EXT-1", 3);
  CHECK(other.status == 409);
  CHECK(code_of(other) == "IDEMPOTENCY_CONFLICT");
  // It ships the units it kept.
  w.call("POST", "/reservations/r-1/block");
  CHECK(w.call("POST", "/reservations/r-1/ship").body["quantity"] == 3);
  s = w.admin_sku("EXT-1");
  CHECK(s["onHand"] == 7);
  CHECK(s["shipped"] == 3);
  CHECK(s["reserved"] == 0);
  CHECK(s["blocked"] == 0);
}

TEST_CASE("wms_sim: reducing a BLOCKED reservation lowers the SKU's blocked "
          "units") {
  wms w;
  w.sku("EXT-1", 10);
  w.reserve("r-1", "EXT-1", 6);
  w.reserve("r-2", "EXT-1", 1);
  w.call("POST", "/reservations/r-1/block");
  w.call("POST", "/admin/batch");
  CHECK(w.orderable("EXT-1") == 3);
  auto r = w.call("POST", "/reservations/r-1/reduce", {{"quantity", 2}});
  REQUIRE(r.status == 200);
  CHECK(r.body["status"] == "BLOCKED");
  CHECK(r.body["quantity"] == 2);
  auto s = w.admin_sku("EXT-1");
  CHECK(s["blocked"] == 2);
  CHECK(s["reserved"] == 1);
  CHECK(s["liveOrderable"] == 7);
  w.call("POST", "/admin/batch");
  CHECK(w.orderable("EXT-1") == 7);
  // Down to one unit, then a release gives back only what it still holds.
  CHECK(w.call("POST", "/reservations/r-1/reduce", {{"quantity", 1}})
            .body["quantity"] == 1);
  CHECK(w.call("DELETE", "/reservations/r-1").status == 200);
  s = w.admin_sku("EXT-1");
  CHECK(s["blocked"] == 0);
  CHECK(s["reserved"] == 1);
  CHECK(s["liveOrderable"] == 9);
}

TEST_CASE("wms_sim: a reduce is refused on SHIPPED, RELEASED and unknown "
          "reservations and on bad bodies, changing nothing") {
  wms w;
  w.sku("EXT-1", 10);
  w.reserve("shp", "EXT-1", 2);
  w.call("POST", "/reservations/shp/block");
  w.call("POST", "/reservations/shp/ship");
  w.reserve("rel", "EXT-1", 2);
  w.call("DELETE", "/reservations/rel");
  w.reserve("res", "EXT-1", 3);
  auto before = w.admin_sku("EXT-1");
  auto seq = w.s.seq();
  for (auto& [id, q] : std::vector<std::pair<std::string, int64_t>>{
           {"shp", 1}, {"shp", 2}, {"rel", 1}, {"rel", 2}}) {
    const auto& case_id = id; // CAPTURE cannot name a binding
    const auto case_q = q;
    CAPTURE(case_id);
    CAPTURE(case_q);
    auto r =
        w.call("POST", "/reservations/" + id + "/reduce", {{"quantity", q}});
    CHECK(r.status == 409);
    CHECK(code_of(r) == "INVALID_STATE");
    CHECK(r.body["error"]["message"].get<std::string>().find(
              "cannot be reduced") != std::string::npos);
  }
  auto ghost = w.call("POST", "/reservations/ghost/reduce", {{"quantity", 1}});
  CHECK(ghost.status == 404);
  CHECK(code_of(ghost) == "UNKNOWN_RESERVATION");
  auto long_id =
      w.call("POST", "/reservations/" + std::string(129, 'a') + "/reduce",
             {{"quantity", 1}});
  CHECK(long_id.status == 400);
  CHECK(field_of(long_id) == "id");
  for (auto& [body, field] : std::vector<std::pair<std::string, std::string>>{
           {"", "body"},
           {"[1]", "body"},
           {R"({})", "quantity"},
           {R"({"quantity":0})", "quantity"},
           {R"({"quantity":-1})", "quantity"},
           {R"({"quantity":1000001})", "quantity"},
           {R"({"quantity":1.5})", "quantity"},
           {R"({"quantity":"2"})", "quantity"},
           {R"({"quantity":null})", "quantity"},
           {R"({"quantity":2,"quantity":1})", "quantity"},
           {R"({"quantity":2,"note":"x"})", "note"}}) {
    const auto& case_body = body; // CAPTURE cannot name a binding
    CAPTURE(case_body);
    auto r = w.raw_post("/reservations/res/reduce", body);
    CHECK(r.status == 400);
    CHECK(code_of(r) == "VALIDATION_FAILED");
    CHECK(field_of(r) == field);
  }
  CHECK(w.admin_sku("EXT-1") == before);
  CHECK(w.s.seq() == seq);
  CHECK(w.call("GET", "/reservations/res").body["quantity"] == 3);
  CHECK(w.call("GET", "/reservations/shp").body["quantity"] == 2);
}

namespace {

// A SKU "EXT-1" of 10 units, reservation r-1 of 4 shipped, a batch.
void shipped_four(wms& w) {
  w.sku("EXT-1", 10);
  REQUIRE(w.reserve("r-1", "EXT-1", 4).status == 201);
  w.call("POST", "/reservations/r-1/block");
  REQUIRE(w.call("POST", "/reservations/r-1/ship").status == 200);
  w.call("POST", "/admin/batch");
  REQUIRE(w.orderable("EXT-1") == 6);
}

response post_return(wms& w, const std::string& id,
                     const std::string& reservation, int64_t q) {
  return w.call("POST", "/returns",
                {{"id", id}, {"reservation", reservation}, {"quantity", q}});
}

response inspect(wms& w, const std::string& id, const json& body) {
  return w.call("POST", "/returns/" + id + "/inspect", body);
}

} // namespace

TEST_CASE("wms_sim: a return of shipped units is on hand but unallocatable, "
          "idempotent by id and bounded by what shipped") {
  wms w;
  shipped_four(w);
  auto seq = w.s.seq();
  auto ret = post_return(w, "ret-1", "r-1", 3);
  REQUIRE(ret.status == 201);
  CHECK(ret.body == json{{"id", "ret-1"},
                         {"reservation", "r-1"},
                         {"sku", "EXT-1"},
                         {"quantity", 3},
                         {"status", "RECEIVED"},
                         {"restocked", 0},
                         {"damaged", 0},
                         {"seq", seq + 1}});
  auto s = w.admin_sku("EXT-1");
  CHECK(s["onHand"] == 9);
  CHECK(s["unallocatable"] == 3);
  CHECK(s["shipped"] == 4);
  CHECK(s["liveOrderable"] == 6);
  // Not for sale: no event, orderable unchanged by the next batch.
  CHECK(w.call("GET", "/events").body["events"].empty());
  w.call("POST", "/admin/batch");
  CHECK(w.orderable("EXT-1") == 6);
  CHECK(w.call("GET", "/returns/ret-1").body == ret.body);
  // The same return again: the stored one, nothing changes.
  auto again = post_return(w, "ret-1", "r-1", 3);
  CHECK(again.status == 200);
  CHECK(again.body == ret.body);
  CHECK(w.s.seq() == seq + 1);
  CHECK(w.admin_sku("EXT-1")["onHand"] == 9);
  // The same id with another quantity or reservation.
  for (auto& [res, q] : std::vector<std::pair<std::string, int64_t>>{
           {"r-1", 1}, {"r-1", 4}, {"r-2", 3}}) {
    const auto& case_res = res; // CAPTURE cannot name a binding
    const auto case_q = q;
    CAPTURE(case_res);
    CAPTURE(case_q);
    auto r = post_return(w, "ret-1", res, q);
    CHECK(r.status == 409);
    CHECK(code_of(r) == "IDEMPOTENCY_CONFLICT");
  }
  // Two more of four shipped, three returned: one is left.
  auto over = post_return(w, "ret-2", "r-1", 2);
  CHECK(over.status == 409);
  CHECK(code_of(over) == "RETURN_EXCEEDS_SHIPPED");
  CHECK(over.body["error"]["returnable"] == 1);
  CHECK(code_of(w.call("GET", "/returns/ret-2")) == "UNKNOWN_RETURN");
  CHECK(w.s.seq() == seq + 1);
  CHECK(w.admin_sku("EXT-1")["onHand"] == 9);
  CHECK(post_return(w, "ret-2", "r-1", 1).status == 201);
  auto none = post_return(w, "ret-3", "r-1", 1);
  CHECK(none.status == 409);
  CHECK(none.body["error"]["returnable"] == 0);
  s = w.admin_sku("EXT-1");
  CHECK(s["onHand"] == 10);
  CHECK(s["unallocatable"] == 4);
  CHECK(w.s.state()["returns"] == json{{"RECEIVED", 2}, {"INSPECTED", 0}});
}

TEST_CASE("wms_sim: only a SHIPPED reservation takes returns") {
  wms w;
  w.sku("EXT-1", 10);
  w.reserve("res", "EXT-1", 2);
  w.reserve("blk", "EXT-1", 2);
  w.call("POST", "/reservations/blk/block");
  w.reserve("rel", "EXT-1", 2);
  w.call("DELETE", "/reservations/rel");
  auto before = w.admin_sku("EXT-1");
  auto seq = w.s.seq();
  for (auto res : {"res", "blk", "rel"}) {
    CAPTURE(res);
    auto r = post_return(w, "ret-1", res, 1);
    CHECK(r.status == 409);
    CHECK(code_of(r) == "INVALID_STATE");
  }
  auto ghost = post_return(w, "ret-1", "ghost", 1);
  CHECK(ghost.status == 404);
  CHECK(code_of(ghost) == "UNKNOWN_RESERVATION");
  CHECK(w.admin_sku("EXT-1") == before);
  CHECK(w.s.seq() == seq);
  auto get = w.call("GET", "/returns/ret-1");
  CHECK(get.status == 404);
  CHECK(code_of(get) == "UNKNOWN_RETURN");
  CHECK(w.s.state()["returns"] == json{{"RECEIVED", 0}, {"INSPECTED", 0}});
}

TEST_CASE("wms_sim: an inspection restocks units with a RETURN event and "
          "leaves damaged ones unallocatable, and a repeat changes nothing") {
  wms w;
  shipped_four(w);
  REQUIRE(post_return(w, "ret-1", "r-1", 3).status == 201);
  auto seq = w.s.seq();
  auto ins = inspect(w, "ret-1", {{"restock", 2}});
  REQUIRE(ins.status == 200);
  CHECK(ins.body == json{{"id", "ret-1"},
                         {"reservation", "r-1"},
                         {"sku", "EXT-1"},
                         {"quantity", 3},
                         {"status", "INSPECTED"},
                         {"restocked", 2},
                         {"damaged", 1},
                         {"seq", seq + 1}});
  CHECK(w.s.seq() == seq + 1);
  auto s = w.admin_sku("EXT-1");
  CHECK(s["onHand"] == 9);
  CHECK(s["unallocatable"] == 1);
  CHECK(s["liveOrderable"] == 8);
  // In the feed at once (the inspection's seq), in orderable after a batch.
  auto feed = w.call("GET", "/events").body["events"];
  REQUIRE(feed.size() == 1);
  CHECK(feed[0]["type"] == "RETURN");
  CHECK(feed[0]["sku"] == "EXT-1");
  CHECK(feed[0]["quantity"] == 2);
  CHECK(feed[0]["lot"] == "");
  CHECK(feed[0]["seq"] == seq + 1);
  CHECK(w.orderable("EXT-1") == 6);
  auto b = w.call("POST", "/admin/batch");
  CHECK(b.body["events"] == 1);
  CHECK(w.orderable("EXT-1") == 8);
  // The same decision, however it is put: the stored return, no new event.
  for (auto& body : {json{{"restock", 2}}, json{{"damaged", 1}},
                     json{{"restock", 2}, {"damaged", 1}}}) {
    const std::string case_body = body.dump();
    CAPTURE(case_body);
    auto r = inspect(w, "ret-1", body);
    CHECK(r.status == 200);
    CHECK(r.body == ins.body);
  }
  // Another decision.
  for (auto& body : {json{{"restock", 1}}, json{{"damaged", 3}},
                     json{{"restock", 3}, {"damaged", 0}}}) {
    const std::string case_body = body.dump();
    CAPTURE(case_body);
    auto r = inspect(w, "ret-1", body);
    CHECK(r.status == 409);
    CHECK(code_of(r) == "IDEMPOTENCY_CONFLICT");
  }
  CHECK(w.call("GET", "/events").body["events"].size() == 1);
  CHECK(w.s.seq() == seq + 1);
  CHECK(w.admin_sku("EXT-1")["unallocatable"] == 1);
  CHECK(w.call("GET", "/returns/ret-1").body == ins.body);
  // A repeated return answers its current, inspected state.
  CHECK(post_return(w, "ret-1", "r-1", 3).body == ins.body);
  CHECK(w.s.state()["returns"] == json{{"RECEIVED", 0}, {"INSPECTED", 1}});
}

TEST_CASE("wms_sim: an all-damaged inspection has no event, and bad decisions "
          "are 400 and change nothing") {
  wms w;
  shipped_four(w);
  REQUIRE(post_return(w, "ret-1", "r-1", 3).status == 201);
  auto seq = w.s.seq();
  for (auto& [body, field] : std::vector<std::pair<std::string, std::string>>{
           {"", "body"},
           {R"({})", "restock"},
           {R"({"restock":null})", "restock"},
           {R"({"restock":-1})", "restock"},
           {R"({"restock":4})", "restock"},
           {R"({"damaged":-1})", "damaged"},
           {R"({"damaged":4})", "damaged"},
           {R"({"restock":2,"damaged":2})", "damaged"},
           {R"({"restock":1,"damaged":1})", "damaged"},
           {R"({"restock":1.5})", "restock"},
           {R"({"restock":"2"})", "restock"},
           {R"({"damaged":true})", "damaged"},
           {R"({"restock":2,"restock":3})", "restock"},
           {R"({"restock":2,"note":"x"})", "note"}}) {
    const auto& case_body = body; // CAPTURE cannot name a binding
    CAPTURE(case_body);
    auto r = w.raw_post("/returns/ret-1/inspect", body);
    CHECK(r.status == 400);
    CHECK(code_of(r) == "VALIDATION_FAILED");
    CHECK(field_of(r) == field);
  }
  auto ghost = inspect(w, "ghost", {{"restock", 1}});
  CHECK(ghost.status == 404);
  CHECK(code_of(ghost) == "UNKNOWN_RETURN");
  auto bad_id = w.call("GET", "/returns/" + std::string(129, 'a'));
  CHECK(bad_id.status == 400);
  CHECK(field_of(bad_id) == "id");
  CHECK(w.call("GET", "/returns/ret-1").body["status"] == "RECEIVED");
  CHECK(w.admin_sku("EXT-1")["unallocatable"] == 3);
  CHECK(w.s.seq() == seq);
  auto ins = inspect(w, "ret-1", {{"damaged", 3}});
  REQUIRE(ins.status == 200);
  CHECK(ins.body["status"] == "INSPECTED");
  CHECK(ins.body["restocked"] == 0);
  CHECK(ins.body["damaged"] == 3);
  CHECK(ins.body["seq"] == seq + 1);
  CHECK(w.call("GET", "/events").body["events"].empty());
  auto s = w.admin_sku("EXT-1");
  CHECK(s["onHand"] == 9);
  CHECK(s["unallocatable"] == 3);
  CHECK(s["liveOrderable"] == 6);
}

TEST_CASE("wms_sim: bad return bodies are 400 VALIDATION_FAILED naming the "
          "field and change nothing") {
  wms w;
  shipped_four(w);
  auto before = w.admin_sku("EXT-1");
  auto seq = w.s.seq();
  for (auto& [body, field] : std::vector<std::pair<std::string, std::string>>{
           {"", "body"},
           {"[1]", "body"},
           {R"({"reservation":"r-1","quantity":1})", "id"},
           {R"({"id":"ret-1","quantity":1})", "reservation"},
           {R"({"id":"ret-1","reservation":"r-1"})", "quantity"},
           {R"({"id":"a b","reservation":"r-1","quantity":1})", "id"},
           {R"({"id":7,"reservation":"r-1","quantity":1})", "id"},
           {R"({"id":"ret-1","reservation":"r/1","quantity":1})",
            "reservation"},
           {R"({"id":"ret-1","reservation":"","quantity":1})", "reservation"},
           {R"({"id":"ret-1","reservation":"r-1","quantity":0})", "quantity"},
           {R"({"id":"ret-1","reservation":"r-1","quantity":1000001})",
            "quantity"},
           {R"({"id":"ret-1","reservation":"r-1","quantity":1.5})", "quantity"},
           {R"({"id":"ret-1","reservation":"r-1","quantity":"1"})", "quantity"},
           {R"({"id":"ret-1","reservation":"r-1","quantity":1,"quantity":4})",
            "quantity"},
           {R"({"id":"ret-1","reservation":"r-1","quantity":1,"sku":"EXT-1"})",
            "sku"}}) {
    const auto& case_body = body; // CAPTURE cannot name a binding
    CAPTURE(case_body);
    auto r = w.raw_post("/returns", body);
    CHECK(r.status == 400);
    CHECK(code_of(r) == "VALIDATION_FAILED");
    CHECK(field_of(r) == field);
  }
  CHECK(w.admin_sku("EXT-1") == before);
  CHECK(w.s.seq() == seq);
  CHECK(w.s.state()["returns"] == json{{"RECEIVED", 0}, {"INSPECTED", 0}});
}

TEST_CASE("wms_sim: an inspection cannot restock units no longer "
          "unallocatable") {
  // An admin QUARANTINE_RELEASE took the returned units back to sale: the
  // inspection may not take them out of unallocatable a second time.
  wms w;
  shipped_four(w);
  post_return(w, "ret-1", "r-1", 3);
  w.call("POST", "/admin/adjustments",
         {{"sku", "EXT-1"}, {"quantity", 2}, {"reason", "QUARANTINE_RELEASE"}});
  auto seq = w.s.seq();
  auto r = inspect(w, "ret-1", {{"restock", 2}});
  CHECK(r.status == 409);
  CHECK(code_of(r) == "INVALID_STATE");
  CHECK(w.call("GET", "/returns/ret-1").body["status"] == "RECEIVED");
  CHECK(w.admin_sku("EXT-1")["unallocatable"] == 1);
  CHECK(w.s.seq() == seq);
  CHECK(inspect(w, "ret-1", {{"restock", 1}}).status == 200);
  CHECK(w.admin_sku("EXT-1")["unallocatable"] == 0);
}

TEST_CASE("wms_sim: returns and reduces are public routes: limited, faulted "
          "and counted") {
  wms w;
  shipped_four(w);
  w.reserve("r-2", "EXT-1", 2);
  CHECK(
      w.call("POST", "/reservations/r-2/reduce", {{"quantity", 1}}).is_public);
  CHECK(post_return(w, "ret-1", "r-1", 1).is_public);
  CHECK(inspect(w, "ret-1", {{"restock", 1}}).is_public);
  CHECK(w.call("GET", "/returns/ret-1").is_public);
  auto by_route = w.s.state()["requests"]["byRoute"];
  CHECK(by_route["POST /reservations/{id}/reduce"] == 1);
  CHECK(by_route["POST /returns"] == 1);
  CHECK(by_route["POST /returns/{id}/inspect"] == 1);
  CHECK(by_route["GET /returns/{id}"] == 1);
  // An injected fault has no effect.
  fault_settings f = w.s.faults();
  f.fail_rate = 1.0;
  w.s.set_faults(f);
  auto before = w.admin_sku("EXT-1");
  CHECK(post_return(w, "ret-2", "r-1", 1).status == 503);
  CHECK(w.call("POST", "/reservations/r-2/reduce", {{"quantity", 1}}).status ==
        503);
  CHECK(w.admin_sku("EXT-1") == before);
  f.fail_rate = 0.0;
  w.s.set_faults(f);
  CHECK(code_of(w.call("GET", "/returns/ret-2")) == "UNKNOWN_RETURN");
  // Wrong methods.
  for (auto& [method, path, allow] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"GET", "/returns", "POST"},
           {"DELETE", "/returns/x", "GET"},
           {"GET", "/returns/x/inspect", "POST"},
           {"GET", "/reservations/x/reduce", "POST"}}) {
    const auto& case_path = path; // CAPTURE cannot name a binding
    CAPTURE(case_path);
    auto r = w.call(method, path);
    CHECK(r.status == 405);
    CHECK(header_of(r, "Allow") == allow);
  }
}

TEST_CASE("wms_sim: returns are bounded: past them a return is 507 and a "
          "restock past the feed's bound changes nothing") {
  options o = wms::quiet();
  o.limits.returns_max = 1;
  o.limits.events_max = 0;
  wms w{o};
  shipped_four(w);
  CHECK(post_return(w, "ret-1", "r-1", 2).status == 201);
  auto full = post_return(w, "ret-2", "r-1", 1);
  CHECK(full.status == 507);
  CHECK(code_of(full) == "CAPACITY_EXCEEDED");
  CHECK(w.admin_sku("EXT-1")["onHand"] == 8);
  // The existing return still answers a repeat.
  CHECK(post_return(w, "ret-1", "r-1", 2).status == 200);
  auto seq = w.s.seq();
  auto no_feed = inspect(w, "ret-1", {{"restock", 1}});
  CHECK(no_feed.status == 507);
  CHECK(code_of(no_feed) == "CAPACITY_EXCEEDED");
  CHECK(w.call("GET", "/returns/ret-1").body["status"] == "RECEIVED");
  CHECK(w.admin_sku("EXT-1")["unallocatable"] == 2);
  CHECK(w.s.seq() == seq);
  // Nothing restocked, nothing in the feed: that one fits.
  CHECK(inspect(w, "ret-1", {{"damaged", 2}}).status == 200);
}

TEST_CASE("wms_sim: above the rate limit a request is 429 with Retry-After "
          "and has no effect") {
  // The limit counts public requests per wall-clock second window; the 11th
  // in the window is refused until the next window starts.
  options o = wms::quiet();
  o.faults.rate_limit = 10;
  wms w{o};
  w.sku("EXT-1", 100);
  w.now = wms_sim_t0 + 300;
  for (int i = 0; i < 10; ++i)
    REQUIRE(w.call("GET", "/inventory/EXT-1").status == 200);
  auto limited = w.reserve("r-1", "EXT-1", 1);
  CHECK(limited.status == 429);
  CHECK(code_of(limited) == "RATE_LIMITED");
  CHECK(limited.body["error"]["retryAfterMs"] == 700);
  CHECK(header_of(limited, "Retry-After") == "1");
  CHECK(w.s.find_reservation("r-1") == nullptr);
  CHECK(w.admin_sku("EXT-1")["reserved"] == 0);
  // Late in the window Retry-After still says at least one second.
  w.now = wms_sim_t0 + 999;
  auto late = w.call("GET", "/events");
  CHECK(late.status == 429);
  CHECK(late.body["error"]["retryAfterMs"] == 1);
  CHECK(header_of(late, "Retry-After") == "1");
  // The next window admits ten again.
  w.now = wms_sim_t0 + 1000;
  CHECK(w.reserve("r-1", "EXT-1", 1).status == 201);
  for (int i = 0; i < 9; ++i)
    CHECK(w.call("GET", "/reservations/r-1").status == 200);
  CHECK(w.call("GET", "/reservations/r-1").status == 429);
  auto st = w.s.state()["requests"];
  CHECK(st["total"] == 23);
  CHECK(st["rateLimited"] == 3);
  CHECK(st["byRoute"]["GET /inventory/{sku}"] == 10);
  CHECK(st["byRoute"]["POST /reservations"] == 2);
}

TEST_CASE("wms_sim: maxRequestsInAnySecond counts arrivals in a sliding "
          "second, 429s included") {
  // Six requests at the end of one window and six at the start of the next
  // pass a limit of 6, yet 12 arrived within 200 ms: the metric shows it.
  options o = wms::quiet();
  o.faults.rate_limit = 6;
  wms w{o};
  w.sku("EXT-1", 100);
  w.now = wms_sim_t0 + 900;
  for (int i = 0; i < 6; ++i)
    CHECK(w.call("GET", "/inventory/EXT-1").status == 200);
  w.now = wms_sim_t0 + 1100;
  for (int i = 0; i < 6; ++i)
    CHECK(w.call("GET", "/inventory/EXT-1").status == 200);
  CHECK(w.s.max_requests_in_any_second() == 12);
  // 1000 ms later the old arrivals have left the window; 429s count too.
  w.now = wms_sim_t0 + 3000;
  for (int i = 0; i < 8; ++i)
    w.call("GET", "/inventory/EXT-1");
  CHECK(w.s.stats().rate_limited == 2);
  CHECK(w.s.state()["maxRequestsInAnySecond"] == 12);
  w.now = wms_sim_t0 + 3999;
  for (int i = 0; i < 5; ++i)
    w.call("GET", "/inventory/EXT-1");
  CHECK(w.s.max_requests_in_any_second() == 13);
  // Admin requests are not arrivals.
  for (int i = 0; i < 50; ++i)
    w.call("GET", "/admin/state");
  CHECK(w.s.max_requests_in_any_second() == 13);
}

TEST_CASE("wms_sim: admin routes and healthz are neither limited nor faulted "
          "nor counted") {
  options o = wms::quiet();
  o.faults.rate_limit = 1;
  o.faults.fail_rate = 1.0;
  o.faults.latency_ms = 500;
  wms w{o};
  for (int i = 0; i < 5; ++i) {
    auto h = w.call("GET", "/healthz");
    CHECK(h.status == 200);
    CHECK(h.body["status"] == "ok");
    CHECK(h.delay_ms == 0);
    CHECK_FALSE(h.is_public);
    CHECK(w.call("POST", "/admin/skus",
                 {{"sku", "S" + std::to_string(i)},
                  {"onHand", 1},
                  {"unitPrice", 1}})
              .status == 201);
  }
  CHECK(w.call("GET", "/admin/state").status == 200);
  CHECK(w.s.stats().total == 0);
  auto pub = w.call("GET", "/inventory/S1");
  CHECK(pub.status == 503);
  CHECK(pub.is_public);
  CHECK(pub.delay_ms == 500);
  CHECK(w.s.stats().total == 1);
}

TEST_CASE("wms_sim: fail-rate 1 answers every public request 503 "
          "INJECTED_FAULT with no effect") {
  options o = wms::quiet();
  o.faults.fail_rate = 1.0;
  wms w{o};
  w.sku("EXT-1", 10);
  for (int i = 0; i < 20; ++i) {
    auto r = w.reserve("r-" + std::to_string(i), "EXT-1", 1);
    CHECK(r.status == 503);
    CHECK(code_of(r) == "INJECTED_FAULT");
  }
  CHECK(w.admin_sku("EXT-1")["reserved"] == 0);
  CHECK(w.s.state()["reservations"]["RESERVED"] == 0);
  CHECK(w.s.stats().faults == 20);
  // Rate limiting comes first: a limited request is a 429, not a fault.
  fault_settings f = w.s.faults();
  f.rate_limit = 2;
  w.s.set_faults(f);
  w.now += 1000;
  CHECK(w.call("GET", "/events").status == 503);
  CHECK(w.call("GET", "/events").status == 503);
  CHECK(w.call("GET", "/events").status == 429);
  CHECK(w.s.stats().faults == 22);
}

TEST_CASE("wms_sim: injected faults follow the seed") {
  // The same seed gives the same faults in the same order; about fail-rate
  // of the requests fail; another seed gives another pattern.
  auto pattern = [](uint64_t seed) {
    options o = wms::quiet();
    o.faults.fail_rate = 0.3;
    o.seed = seed;
    wms w{o};
    w.sku("EXT-1", 10);
    std::string result;
    for (int i = 0; i < 1000; ++i)
      result += w.call("GET", "/inventory/EXT-1").status == 503 ? 'F' : '.';
    return result;
  };
  auto a = pattern(7);
  CHECK(a == pattern(7));
  CHECK(a != pattern(8));
  auto failures = std::count(a.begin(), a.end(), 'F');
  CHECK(failures > 240);
  CHECK(failures < 360);
  // An injected random source decides instead of the seed.
  options o = wms::quiet();
  o.faults.fail_rate = 0.5;
  std::vector<double> draws{0.9, 0.1, 0.49, 0.5};
  size_t next = 0;
  int64_t now = wms_sim_t0;
  sim s{o, [&] { return now; },
        [&] {
          return draws[next++ % draws.size()];
        }};
  std::string seen;
  for (int i = 0; i < 4; ++i)
    seen +=
        s.handle(request{"GET", "/events", "", ""}).status == 503 ? 'F' : '.';
  CHECK(seen == ".FF.");
}

TEST_CASE("wms_sim: latency delays every public answer and a hang adds "
          "hang-for, while the change happens at once") {
  options o = wms::quiet();
  o.faults.latency_ms = 250;
  o.faults.hang_rate = 1.0;
  o.faults.hang_for_ms = 30'000;
  wms w{o};
  w.sku("EXT-1", 10);
  auto r = w.reserve("r-1", "EXT-1", 2);
  CHECK(r.status == 201);
  CHECK(r.delay_ms == 30'250);
  CHECK(w.admin_sku("EXT-1")["reserved"] == 2);
  CHECK(w.s.stats().hangs == 1);
  // The retry after the client gave up is answered from idempotency.
  auto retry = w.reserve("r-1", "EXT-1", 2);
  CHECK(retry.status == 200);
  CHECK(retry.body["seq"] == r.body["seq"]);
  // Latency alone; errors are late too.
  fault_settings f = w.s.faults();
  f.hang_rate = 0;
  w.s.set_faults(f);
  CHECK(w.call("GET", "/inventory/EXT-1").delay_ms == 250);
  CHECK(w.call("GET", "/inventory/NOPE").delay_ms == 250);
  CHECK(w.call("GET", "/admin/state").delay_ms == 0);
}

TEST_CASE("wms_sim: the event feed pages with cursors and never skips an "
          "event") {
  wms w;
  w.sku("EXT-1", 10);
  w.now += 1;
  w.call("POST", "/admin/receipts",
         {{"sku", "EXT-1"}, {"quantity", 25}, {"lot", "L-7"}});
  w.call("POST", "/admin/adjustments",
         {{"sku", "EXT-1"}, {"quantity", 2}, {"reason", "DAMAGE"}});
  w.call("POST", "/admin/adjustments",
         {{"sku", "EXT-1"}, {"quantity", 3}, {"reason", "QUARANTINE"}});
  w.call("POST", "/admin/adjustments",
         {{"sku", "EXT-1"}, {"quantity", 1}, {"reason", "QUARANTINE_RELEASE"}});
  w.call("POST", "/admin/adjustments",
         {{"sku", "EXT-1"}, {"quantity", -4}, {"reason", "CORRECTION"}});
  auto first = w.call("GET", "/events?limit=2");
  REQUIRE(first.status == 200);
  auto& evs = first.body["events"];
  REQUIRE(evs.size() == 2);
  CHECK(evs[0] == json{{"id", "EV-000001"},
                       {"seq", 2},
                       {"type", "RECEIPT"},
                       {"sku", "EXT-1"},
                       {"quantity", 25},
                       {"lot", "L-7"},
                       {"at", wms_sim_t0 + 1}});
  CHECK(evs[1]["type"] == "DAMAGE");
  CHECK(evs[1]["quantity"] == -2);
  auto second =
      w.call("GET", "/events?after=" + first.body["next"].get<std::string>() +
                        "&limit=2");
  REQUIRE(second.body["events"].size() == 2);
  CHECK(second.body["events"][0]["type"] == "QUARANTINE");
  CHECK(second.body["events"][0]["quantity"] == -3);
  CHECK(second.body["events"][1]["type"] == "QUARANTINE_RELEASE");
  CHECK(second.body["events"][1]["quantity"] == 1);
  auto third =
      w.call("GET", "/events?after=" + second.body["next"].get<std::string>());
  REQUIRE(third.body["events"].size() == 1);
  CHECK(third.body["events"][0]["type"] == "ADJUSTMENT");
  CHECK(third.body["events"][0]["quantity"] == -4);
  CHECK(third.body["events"][0]["seq"] == 6);
  // At the end: an empty page whose cursor stays usable for what comes next.
  auto tail = third.body["next"].get<std::string>();
  auto empty = w.call("GET", "/events?after=" + tail);
  CHECK(empty.body["events"].empty());
  CHECK(empty.body["next"] == tail);
  w.call("POST", "/admin/receipts", {{"sku", "EXT-1"}, {"quantity", 1}});
  auto more = w.call("GET", "/events?after=" + tail);
  REQUIRE(more.body["events"].size() == 1);
  CHECK(more.body["events"][0]["id"] == "EV-000006");
  CHECK(more.body["events"][0]["lot"] == "");
  // A cursor can be read again (the client retries a lost page).
  auto again =
      w.call("GET", "/events?after=" + first.body["next"].get<std::string>() +
                        "&limit=2");
  CHECK(again.body == second.body);
  // limit=1000 reads them all.
  CHECK(w.call("GET", "/events?limit=1000").body["events"].size() == 6);
}

TEST_CASE("wms_sim: events are in the feed at once but in orderable only "
          "after the batch") {
  wms w;
  w.sku("EXT-1", 10);
  w.call("POST", "/admin/receipts", {{"sku", "EXT-1"}, {"quantity", 5}});
  auto feed = w.call("GET", "/events");
  REQUIRE(feed.body["events"].size() == 1);
  CHECK(feed.body["events"][0]["quantity"] == 5);
  CHECK(w.orderable("EXT-1") == 10);
  CHECK(w.admin_sku("EXT-1")["snapshotOrderable"] == 10);
  CHECK(w.admin_sku("EXT-1")["liveOrderable"] == 15);
  auto b = w.call("POST", "/admin/batch");
  CHECK(b.body["events"] == 1);
  CHECK(b.body["changes"] == 1);
  CHECK(w.orderable("EXT-1") == 15);
  CHECK(w.call("GET", "/inventory/EXT-1").body["reflects"] ==
        feed.body["events"][0]["seq"]);
}

TEST_CASE("wms_sim: a bad cursor or limit is 400 VALIDATION_FAILED") {
  wms w;
  w.sku("EXT-1", 10);
  w.call("POST", "/admin/receipts", {{"sku", "EXT-1"}, {"quantity", 5}});
  auto next = w.call("GET", "/events").body["next"].get<std::string>();
  CHECK(w.call("GET", "/events?after=" + next).status == 200);
  for (auto& [query, field] : std::vector<std::pair<std::string, std::string>>{
           {"after=garbage", "after"},
           {"after=c1.2", "after"}, // past the end of the feed
           {"after=c1.01", "after"},
           {"after=c1.", "after"},
           {"after=", "after"},
           {"after=c1.-1", "after"},
           {"limit=0", "limit"},
           {"limit=1001", "limit"},
           {"limit=abc", "limit"},
           {"limit=-5", "limit"},
           {"limit=99999999999999999999", "limit"},
           {"limit=10&limit=20", "limit"},
           {"cursor=c1.0", "cursor"}}) {
    const auto& case_query = query; // CAPTURE cannot name a binding
    CAPTURE(case_query);
    auto r = w.call("GET", "/events?" + query);
    CHECK(r.status == 400);
    CHECK(code_of(r) == "VALIDATION_FAILED");
    CHECK(field_of(r) == field);
  }
}

TEST_CASE("wms_sim: duplicate-rate repeats an event from before the cursor "
          "and still delivers every event") {
  // At-least-once: with duplicate-rate 1 every page after the first repeats
  // one event the client already had; reading to the end still sees each
  // event, in order, and no event from after the cursor early.
  options o = wms::quiet();
  o.faults.duplicate_rate = 1.0;
  wms w{o};
  w.sku("EXT-1", 10);
  for (int i = 0; i < 7; ++i)
    w.call("POST", "/admin/receipts", {{"sku", "EXT-1"}, {"quantity", i + 1}});
  std::vector<std::string> fresh;
  std::set<std::string> seen;
  std::string cursor;
  int duplicates = 0;
  for (int page = 0; page < 10; ++page) {
    auto r = w.call("GET", "/events?limit=3" +
                               (cursor.empty() ? "" : "&after=" + cursor));
    REQUIRE(r.status == 200);
    for (auto& ev : r.body["events"]) {
      auto id = ev["id"].get<std::string>();
      if (seen.count(id)) {
        ++duplicates;
        continue;
      }
      // A new event is always the next one: nothing skipped.
      CHECK(id == "EV-00000" + std::to_string(fresh.size() + 1));
      fresh.push_back(id);
      seen.insert(id);
    }
    cursor = r.body["next"].get<std::string>();
  }
  CHECK(fresh.size() == 7);
  // Page 1 has no earlier event to repeat; pages 2..10 each repeat one.
  CHECK(duplicates == 9);
  CHECK(w.s.stats().duplicates == 9);
  // The first page from the start never holds a repeat.
  CHECK(w.call("GET", "/events?limit=3").body["events"].size() == 3);
}

TEST_CASE("wms_sim: adjustments change onHand or unallocatable and refuse "
          "impossible ones with INVALID_STATE") {
  wms w;
  w.sku("EXT-1", 10);
  auto adjust = [&](int64_t q, const std::string& reason) {
    return w.call("POST", "/admin/adjustments",
                  {{"sku", "EXT-1"}, {"quantity", q}, {"reason", reason}});
  };
  auto dmg = adjust(2, "DAMAGE");
  REQUIRE(dmg.status == 200);
  CHECK(dmg.body["unallocatable"] == 2);
  CHECK(dmg.body["liveOrderable"] == 8);
  CHECK(dmg.body["event"]["type"] == "DAMAGE");
  CHECK(adjust(3, "QUARANTINE").body["unallocatable"] == 5);
  auto rel = adjust(6, "QUARANTINE_RELEASE");
  CHECK(rel.status == 409);
  CHECK(code_of(rel) == "INVALID_STATE");
  CHECK(adjust(5, "QUARANTINE_RELEASE").body["unallocatable"] == 0);
  CHECK(adjust(11, "DAMAGE").status == 409);
  // A correction may not take onHand below what is reserved and blocked.
  w.reserve("r-1", "EXT-1", 4);
  w.reserve("r-2", "EXT-1", 3);
  w.call("POST", "/reservations/r-2/block");
  auto too_far = adjust(-4, "CORRECTION");
  CHECK(too_far.status == 409);
  CHECK(code_of(too_far) == "INVALID_STATE");
  auto ok = adjust(-3, "CORRECTION");
  CHECK(ok.status == 200);
  CHECK(ok.body["onHand"] == 7);
  CHECK(ok.body["event"]["type"] == "ADJUSTMENT");
  CHECK(ok.body["event"]["quantity"] == -3);
  CHECK(adjust(5, "CORRECTION").body["onHand"] == 12);
  // Refused adjustments appended no event.
  CHECK(w.call("GET", "/events").body["events"].size() == 5);
  // Bad reasons and quantities.
  CHECK(field_of(adjust(1, "THEFT")) == "reason");
  CHECK(field_of(adjust(0, "CORRECTION")) == "quantity");
  CHECK(field_of(adjust(-1, "DAMAGE")) == "quantity");
  CHECK(field_of(adjust(0, "QUARANTINE")) == "quantity");
  auto unknown =
      w.call("POST", "/admin/adjustments",
             {{"sku", "NOPE"}, {"quantity", 1}, {"reason", "DAMAGE"}});
  CHECK(unknown.status == 404);
  CHECK(code_of(unknown) == "UNKNOWN_SKU");
}

TEST_CASE("wms_sim: replacing a SKU below its reserved units is "
          "INVALID_STATE") {
  wms w;
  w.sku("EXT-1", 10);
  w.reserve("r-1", "EXT-1", 6);
  auto r = w.call("POST", "/admin/skus",
                  {{"sku", "EXT-1"}, {"onHand", 5}, {"unitPrice", 1}});
  CHECK(r.status == 409);
  CHECK(code_of(r) == "INVALID_STATE");
  auto ok = w.call("POST", "/admin/skus",
                   {{"sku", "EXT-1"}, {"onHand", 6}, {"unitPrice", 1}});
  CHECK(ok.status == 200);
  CHECK(ok.body["onHand"] == 6);
  CHECK(ok.body["reserved"] == 6);
  CHECK(ok.body["liveOrderable"] == 0);
}

TEST_CASE("wms_sim: bad reservation bodies are 400 VALIDATION_FAILED naming "
          "the field") {
  wms w;
  w.sku("EXT-1", 10);
  auto bad = [&](const std::string& body) {
    return w.raw_post("/reservations", body);
  };
  std::string long_id(129, 'a');
  for (auto& [body, field] : std::vector<std::pair<std::string, std::string>>{
           {"", "body"},
           {"not json", "body"},
           {"[1,2]", "body"},
           {R"({"sku":"EXT-1","quantity":1})", "id"},
           {R"({"id":"r1","quantity":1})", "sku"},
           {R"({"id":"r1","sku":"EXT-1"})", "quantity"},
           {R"({"id":"","sku":"EXT-1","quantity":1})", "id"},
           {R"({"id":")" + long_id + R"(","sku":"EXT-1","quantity":1})", "id"},
           {R"({"id":"a b","sku":"EXT-1","quantity":1})", "id"},
           {R"({"id":"r/1","sku":"EXT-1","quantity":1})", "id"},
           {R"({"id":7,"sku":"EXT-1","quantity":1})", "id"},
           {R"({"id":"r1","sku":"EX T","quantity":1})", "sku"},
           {R"({"id":"r1","sku":"EXT-1","quantity":0})", "quantity"},
           {R"({"id":"r1","sku":"EXT-1","quantity":-3})", "quantity"},
           {R"({"id":"r1","sku":"EXT-1","quantity":1000001})", "quantity"},
           {R"({"id":"r1","sku":"EXT-1","quantity":1.5})", "quantity"},
           {R"({"id":"r1","sku":"EXT-1","quantity":"2"})", "quantity"},
           {R"({"id":"r1","sku":"EXT-1","quantity":true})", "quantity"},
           {R"({"id":"r1","sku":"EXT-1","quantity":18446744073709551615})",
            "quantity"},
           {R"({"id":"r1","sku":"EXT-1","quantity":1,"note":"x"})", "note"}}) {
    const auto& case_body = body; // CAPTURE cannot name a binding
    CAPTURE(case_body);
    auto r = bad(body);
    CHECK(r.status == 400);
    CHECK(code_of(r) == "VALIDATION_FAILED");
    CHECK(field_of(r) == field);
  }
  CHECK(w.admin_sku("EXT-1")["reserved"] == 0);
  // The bounds themselves are accepted.
  std::string max_id(128, 'z');
  CHECK(w.reserve(max_id, "EXT-1", 1).status == 201);
  CHECK(w.reserve("A.b_c:d-9", "EXT-1", 1).status == 201);
  w.sku("BIG", 1'000'000);
  CHECK(w.reserve("big", "BIG", 1'000'000).status == 201);
  // A path id that cannot exist is a validation error too.
  auto path = w.call("GET", "/reservations/" + long_id);
  CHECK(path.status == 400);
  CHECK(field_of(path) == "id");
  // Escaped path segments are decoded.
  CHECK(w.call("GET", "/reservations/A.b_c%3Ad-9").status == 200);
}

TEST_CASE("wms_sim: bad admin bodies are 400 VALIDATION_FAILED naming the "
          "field") {
  wms w;
  w.sku("EXT-1", 10);
  for (auto& [path, body, field] :
       std::vector<std::tuple<std::string, json, std::string>>{
           {"/admin/skus", {{"onHand", 1}, {"unitPrice", 1}}, "sku"},
           {"/admin/skus", {{"sku", "A"}, {"unitPrice", 1}}, "onHand"},
           {"/admin/skus",
            {{"sku", "A"}, {"onHand", -1}, {"unitPrice", 1}},
            "onHand"},
           {"/admin/skus",
            {{"sku", "A"}, {"onHand", 1}, {"unitPrice", -1}},
            "unitPrice"},
           {"/admin/skus",
            {{"sku", "A"}, {"onHand", 1}, {"unitPrice", 9.99}},
            "unitPrice"},
           {"/admin/skus",
            {{"sku", "A"}, {"onHand", 1}, {"unitPrice", 1}, {"reflectNow", 1}},
            "reflectNow"},
           {"/admin/skus",
            {{"sku", "A"}, {"onHand", 1}, {"unitPrice", 1}, {"price", 1}},
            "price"},
           {"/admin/receipts", {{"sku", "EXT-1"}, {"quantity", 0}}, "quantity"},
           {"/admin/receipts", {{"sku", "EXT-1"}}, "quantity"},
           {"/admin/receipts",
            {{"sku", "EXT-1"}, {"quantity", 1}, {"lot", "bad lot"}},
            "lot"},
           {"/admin/receipts",
            {{"sku", "EXT-1"}, {"quantity", 1}, {"lot", ""}},
            "lot"},
           {"/admin/adjustments",
            {{"sku", "EXT-1"}, {"quantity", 1}},
            "reason"},
           {"/admin/faults", {{"failRate", 1.5}}, "failRate"},
           {"/admin/faults", {{"hangRate", -0.1}}, "hangRate"},
           {"/admin/faults", {{"duplicateRate", "0.5"}}, "duplicateRate"},
           {"/admin/faults", {{"latencyMs", -1}}, "latencyMs"},
           {"/admin/faults", {{"latencyMs", 600001}}, "latencyMs"},
           {"/admin/faults", {{"rateLimit", 2.5}}, "rateLimit"},
           {"/admin/faults", {{"slowness", 1}}, "slowness"}}) {
    const std::string case_path = path, case_body = body.dump();
    CAPTURE(case_path);
    CAPTURE(case_body);
    auto r = w.call("POST", path, body);
    CHECK(r.status == 400);
    CHECK(code_of(r) == "VALIDATION_FAILED");
    CHECK(field_of(r) == field);
  }
  // A receipt for an unknown SKU.
  auto r =
      w.call("POST", "/admin/receipts", {{"sku", "NOPE"}, {"quantity", 1}});
  CHECK(r.status == 404);
  CHECK(code_of(r) == "UNKNOWN_SKU");
  // Nothing above changed the faults.
  CHECK(w.call("GET", "/admin/faults").body["failRate"] == 0.0);
}

TEST_CASE("wms_sim: a body with a repeated key or a NUL byte is 400 "
          "VALIDATION_FAILED naming the field and changes nothing") {
  // Proves issue #16 item 8 for wms-sim's bodies: the last of two equal
  // keys won, and what followed a NUL byte was ignored.
  using namespace std::string_literals;
  wms w;
  w.sku("EXT-1", 10);
  for (auto& [path, body, field] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"/reservations",
            R"({"id":"r1","sku":"EXT-1","quantity":1,"quantity":9})",
            "quantity"},
           {"/admin/receipts",
            R"({"sku":"EXT-1","quantity":1,"quantity":1000000})", "quantity"},
           {"/admin/receipts",
            "{\"sku\":\"EXT-1\",\"quantity\":1}\0{\"quantity\":9}"s, "body"},
           {"/admin/adjustments",
            R"({"sku":"EXT-1","quantity":-1,"reason":"DAMAGE","sku":"X"})",
            "sku"},
           {"/admin/skus",
            R"({"sku":"EXT-1","onHand":1,"unitPrice":1,"onHand":99})",
            "onHand"},
           {"/admin/faults", R"({"failRate":0,"failRate":1})", "failRate"},
           {"/admin/faults", "{\"failRate\":0}\0"s, "body"}}) {
    const std::string case_path = path, case_body = json(body).dump();
    CAPTURE(case_path);
    CAPTURE(case_body);
    auto r = w.raw_post(path, body);
    CHECK(r.status == 400);
    CHECK(code_of(r) == "VALIDATION_FAILED");
    CHECK(field_of(r) == field);
  }
  auto sku = w.admin_sku("EXT-1");
  CHECK(sku["onHand"] == 10);
  CHECK(sku["reserved"] == 0);
  CHECK(w.s.faults().fail_rate == 0.0);
  CHECK(w.call("GET", "/reservations/r1").status == 404);
}

TEST_CASE("wms_sim: admin faults change the settings at run time, any "
          "subset") {
  wms w;
  w.sku("EXT-1", 10);
  auto r = w.call("POST", "/admin/faults", {{"failRate", 1.0}});
  REQUIRE(r.status == 200);
  CHECK(r.body["failRate"] == 1.0);
  CHECK(r.body["rateLimit"] == 0);
  CHECK(w.call("GET", "/inventory/EXT-1").status == 503);
  r = w.call("POST", "/admin/faults",
             {{"failRate", 0},
              {"latencyMs", 40},
              {"hangRate", 0.25},
              {"hangForMs", 5000},
              {"duplicateRate", 0.5},
              {"rateLimit", 3}});
  REQUIRE(r.status == 200);
  CHECK(r.body == json{{"rateLimit", 3},
                       {"failRate", 0.0},
                       {"latencyMs", 40},
                       {"hangRate", 0.25},
                       {"hangForMs", 5000},
                       {"duplicateRate", 0.5}});
  CHECK(w.s.faults().rate_limit == 3);
  // A bad value anywhere changes nothing.
  CHECK(w.call("POST", "/admin/faults", {{"failRate", 0.5}, {"rateLimit", -1}})
            .status == 400);
  CHECK(w.s.faults().fail_rate == 0.0);
  CHECK(w.s.faults().rate_limit == 3);
}

TEST_CASE("wms_sim: unknown routes are 404 NOT_FOUND and wrong methods 405 "
          "with Allow") {
  wms w;
  for (auto path : {"/", "/nope", "/inventory", "/inventory/", "/inventory/A/b",
                    "/reservations/x/cancel", "/admin", "/admin/nope",
                    "/events/1", "/bad%zz"}) {
    CAPTURE(path);
    auto r = w.call("GET", path);
    CHECK(r.status == 404);
    CHECK(code_of(r) == "NOT_FOUND");
  }
  for (auto& [method, path, allow] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"POST", "/inventory/A", "GET"},
           {"GET", "/reservations", "POST"},
           {"PUT", "/reservations/x", "GET, DELETE"},
           {"GET", "/reservations/x/block", "POST"},
           {"DELETE", "/events", "GET"},
           {"GET", "/admin/batch", "POST"},
           {"DELETE", "/admin/faults", "GET, POST"},
           {"POST", "/healthz", "GET"}}) {
    const auto& case_path = path; // CAPTURE cannot name a binding
    CAPTURE(case_path);
    auto r = w.call(method, path);
    CHECK(r.status == 405);
    CHECK(code_of(r) == "METHOD_NOT_ALLOWED");
    CHECK(header_of(r, "Allow") == allow);
  }
}

TEST_CASE("wms_sim: a seed loads all or nothing and runs a batch") {
  wms w;
  auto bad = w.s.load_seed(json::parse(
      R"({"skus":[{"sku":"A","onHand":1,"unitPrice":1},
                  {"sku":"B","onHand":-1,"unitPrice":1}]})"));
  CHECK(bad.status == 400);
  CHECK(w.s.find_sku("A") == nullptr);
  CHECK(w.s.batch() == 0);
  CHECK(w.s.load_seed(json::parse(R"({"skus":[{"sku":"A","onHand":1,
      "unitPrice":1},{"sku":"A","onHand":2,"unitPrice":1}]})"))
            .status == 400);
  CHECK(w.s.load_seed(json::parse(R"({"items":[]})")).status == 400);
  CHECK(w.s.load_seed(json::parse(
                          R"({"skus":[{"sku":"A","onHand":1,"unitPrice":1,
                              "color":"red"}]})"))
            .status == 400);
  auto ok = w.s.load_seed(json::parse(
      R"({"skus":[{"sku":"EXT-1","onHand":100,"unitPrice":49900},
                  {"sku":"EXT-2","onHand":5,"unitPrice":1250}]})"));
  REQUIRE(ok.status == 200);
  CHECK(ok.body["skus"] == 2);
  CHECK(ok.body["batch"] == 1);
  CHECK(w.orderable("EXT-1") == 100);
  CHECK(w.call("GET", "/inventory/EXT-2").body["unitPrice"] == 1250);
}

TEST_CASE("wms_sim: admin state reports live and snapshot stock, "
          "reservations and requests") {
  wms w;
  w.sku("EXT-1", 10);
  w.now += 100;
  w.reserve("r-1", "EXT-1", 2);
  w.reserve("r-2", "EXT-1", 1);
  w.call("POST", "/reservations/r-2/block");
  w.call("GET", "/inventory/EXT-1");
  auto st = w.call("GET", "/admin/state");
  REQUIRE(st.status == 200);
  auto& j = st.body;
  CHECK(j["batch"] == 1);
  CHECK(j["lastBatchAt"] == wms_sim_t0);
  CHECK(j["seq"] == 4);
  CHECK(j["skus"] == json::array({{{"sku", "EXT-1"},
                                   {"onHand", 10},
                                   {"unallocatable", 0},
                                   {"reserved", 2},
                                   {"blocked", 1},
                                   {"shipped", 0},
                                   {"liveOrderable", 7},
                                   {"snapshotOrderable", 10},
                                   {"unitPrice", 49900}}}));
  CHECK(j["reservations"] ==
        json{{"RESERVED", 1}, {"BLOCKED", 1}, {"SHIPPED", 0}, {"RELEASED", 0}});
  CHECK(j["requests"]["total"] == 4);
  CHECK(j["requests"]["byRoute"] == json{{"GET /inventory/{sku}", 1},
                                         {"POST /reservations", 2},
                                         {"POST /reservations/{id}/block", 1}});
  CHECK(j["maxRequestsInAnySecond"] == 4);
  // Before any batch there is no lastBatchAt.
  wms fresh;
  CHECK(fresh.s.state()["lastBatchAt"].is_null());
}

TEST_CASE("wms_sim: tables are bounded: past them a change is 507 "
          "CAPACITY_EXCEEDED") {
  options o = wms::quiet();
  o.limits.reservations_max = 2;
  o.limits.events_max = 1;
  o.limits.skus_max = 1;
  wms w{o};
  w.sku("EXT-1", 10);
  auto sku = w.call("POST", "/admin/skus",
                    {{"sku", "EXT-2"}, {"onHand", 1}, {"unitPrice", 1}});
  CHECK(sku.status == 507);
  CHECK(code_of(sku) == "CAPACITY_EXCEEDED");
  CHECK(w.reserve("r-1", "EXT-1", 1).status == 201);
  CHECK(w.reserve("r-2", "EXT-1", 1).status == 201);
  auto third = w.reserve("r-3", "EXT-1", 1);
  CHECK(third.status == 507);
  CHECK(code_of(third) == "CAPACITY_EXCEEDED");
  CHECK(w.admin_sku("EXT-1")["reserved"] == 2);
  // Existing reservations still answer.
  CHECK(w.reserve("r-1", "EXT-1", 1).status == 200);
  CHECK(w.call("POST", "/admin/receipts", {{"sku", "EXT-1"}, {"quantity", 1}})
            .status == 200);
  CHECK(w.call("POST", "/admin/receipts", {{"sku", "EXT-1"}, {"quantity", 1}})
            .status == 507);
  CHECK(w.admin_sku("EXT-1")["onHand"] == 11);
}

TEST_CASE("wms_sim: durations take ms, s, m, h or bare seconds") {
  CHECK(parse_duration_ms("500ms") == 500);
  CHECK(parse_duration_ms("2s") == 2000);
  CHECK(parse_duration_ms("15m") == 900'000);
  CHECK(parse_duration_ms("1h") == 3'600'000);
  CHECK(parse_duration_ms("900") == 900'000);
  CHECK(parse_duration_ms("0") == 0);
  CHECK_FALSE(parse_duration_ms(""));
  CHECK_FALSE(parse_duration_ms("s"));
  CHECK_FALSE(parse_duration_ms("-1s"));
  CHECK_FALSE(parse_duration_ms("1.5s"));
  CHECK_FALSE(parse_duration_ms("10 s"));
  CHECK_FALSE(parse_duration_ms("3d"));
  CHECK_FALSE(parse_duration_ms("99999999999999999999"));
  CHECK(format_duration_ms(900'000) == "15m");
  CHECK(format_duration_ms(1500) == "1500ms");
  CHECK(format_duration_ms(0) == "0ms");
}

TEST_CASE("wms_sim: every batch is reported with what ran it") {
  // wms-sim logs a wms.batch line from this report, whatever ran the batch.
  options o = wms::quiet();
  o.batch_interval_ms = 1000;
  wms w{o};
  std::vector<std::string> triggers;
  int64_t last_changes = -1;
  w.s.on_batch([&](const batch_result& b) {
    triggers.push_back(b.trigger);
    last_changes = b.changes;
  });
  w.s.load_seed(
      json::parse(R"({"skus":[{"sku":"A","onHand":1,"unitPrice":1}]})"));
  w.sku("B", 2, 1, true);
  w.call("POST", "/admin/batch");
  w.now += 1000;
  w.s.run_due_batch();
  CHECK(triggers ==
        std::vector<std::string>{"seed", "reflectNow", "admin", "timer"});
  CHECK(last_changes == 0);
}

TEST_CASE("wms_sim: a fraction flag takes a number in 0..1, never nan") {
  // Proves what tests/fuzz/wms_sim_config_fuzz.cpp found with "nan": CLI11's
  // range check compares false both ways, so --fail-rate nan was taken (and
  // injected no fault at all).
  auto parse = [](std::vector<std::string> args) {
    args.insert(args.begin(), "wms-sim");
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    return oms::wms_sim::parse_args(static_cast<int>(argv.size()), argv.data());
  };
  auto ok = parse({"--fail-rate", "0.25", "--hang-rate", "1"});
  REQUIRE(ok.config);
  CHECK(ok.config->sim.faults.fail_rate == 0.25);
  for (auto* flag : {"--fail-rate", "--hang-rate", "--duplicate-rate"})
    for (auto* bad : {"nan", "NaN", "-0.5", "1.5", "inf", "x"}) {
      CAPTURE(flag);
      CAPTURE(bad);
      auto res = parse({flag, bad});
      CHECK_FALSE(res.config);
      CHECK(res.exit_code == 2);
      CHECK(res.output.find(flag) != std::string::npos);
    }
}

TEST_CASE("wms_sim: the seed file and bodies are read strictly: a repeated "
          "key, a NUL byte or nesting deeper than 64 is refused") {
  // Proves what moving wms-sim's seed file onto parse_strict changed: it
  // was read by nlohmann's own parser, the last of two equal keys winning
  // and any depth read (300,000 arrays deep overflowed the stack, found
  // through tests/fuzz/wms_sim_config_fuzz.cpp; e2e checks that one). A
  // body is read with the same depth limit.
  using namespace std::string_literals;
  char tmpl[] = "/tmp/oms-wms-seed-XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  std::string dir = tmpl;
  auto seed_file = [&dir](const std::string& name, const std::string& text) {
    auto path = dir + "/" + name;
    std::ofstream{path, std::ios::binary} << text;
    return path;
  };
  auto nested = [](size_t depth) {
    return std::string(depth, '[') + std::string(depth, ']');
  };
  wms w;
  for (auto& [name, text, says] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"repeated.json",
            R"({"skus":[{"sku":"A","onHand":1,"unitPrice":1,"onHand":9}]})",
            "skus[0].onHand is given more than once"},
           {"nul.json",
            "{\"skus\":[{\"sku\":\"A\",\"onHand\":1,\"unitPrice\":1}]}\0"s,
            "the file holds a NUL byte"},
           {"deep.json", R"({"skus":[],"x":)" + nested(64) + "}",
            "the file is nested deeper than 64"}}) {
    const auto& case_name = name; // CAPTURE cannot name a binding
    CAPTURE(case_name);
    auto loaded = load_seed_file(w.s, seed_file(name, text));
    CHECK(loaded.status == 400);
    auto message = loaded.body["error"]["message"].get<std::string>();
    CHECK_MESSAGE(message.find(says) != std::string::npos, message);
  }
  CHECK(w.s.find_sku("A") == nullptr);
  CHECK(w.s.batch() == 0);
  // Just within the limit, the file loads (no SKU in it).
  auto within = load_seed_file(
      w.s, seed_file("within.json", R"({"skus":[],"x":)" + nested(63) + "}"));
  CHECK_MESSAGE(within.ok(), within.body.dump());
  auto ok = load_seed_file(w.s, seed_file("ok.json",
                                          R"({"skus":[{"sku":"A","onHand":3,)"
                                          R"("unitPrice":10}]})"));
  CHECK(ok.status == 200);
  CHECK(w.orderable("A") == 3);

  auto r =
      w.raw_post("/reservations", R"({"id":"r1","sku":"A","quantity":1,"x":)" +
                                      nested(64) + "}");
  CHECK(r.status == 400);
  CHECK(field_of(r) == "body");
  CHECK(r.body["error"]["message"] == "the body is nested deeper than 64");
  CHECK(w.call("GET", "/reservations/r1").status == 404);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}
