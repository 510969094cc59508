#include "system/wms_sim/routes.hpp"

#include <optional>
#include <set>

#include "system/http/percent.hpp"
#include "system/http/route.hpp"
#include "system/wms_sim/body_reader.hpp"

namespace oms::wms_sim {

namespace {

constexpr int64_t delay_max_ms = 600'000;
constexpr int64_t rate_limit_max = 1'000'000;

using params = std::vector<std::string>;

outcome healthz(sim&, const request&, const params&) {
  return outcome{200, json{{"status", "ok"}}};
}

outcome get_inventory(sim& s, const request&, const params& p) {
  return s.inventory(p[0]);
}

outcome post_reservation(sim& s, const request& req, const params&) {
  body_reader r{req.body, {"id", "sku", "quantity"}};
  auto id = r.text("id", true);
  auto sku = r.text("sku", true);
  auto qty = r.integer("quantity", true);
  if (r.error())
    return *r.error();
  return s.reserve(id, sku, qty);
}

outcome get_reservation(sim& s, const request&, const params& p) {
  return s.reservation_state(p[0]);
}

outcome delete_reservation(sim& s, const request&, const params& p) {
  return s.release(p[0]);
}

outcome post_block(sim& s, const request&, const params& p) {
  return s.block(p[0]);
}

outcome post_ship(sim& s, const request&, const params& p) {
  return s.ship(p[0]);
}

outcome post_reduce(sim& s, const request& req, const params& p) {
  body_reader r{req.body, {"quantity"}};
  auto qty = r.integer("quantity", true);
  if (r.error())
    return *r.error();
  return s.reduce(p[0], qty);
}

outcome post_return(sim& s, const request& req, const params&) {
  body_reader r{req.body, {"id", "reservation", "quantity"}};
  auto id = r.text("id", true);
  auto reservation = r.text("reservation", true);
  auto qty = r.integer("quantity", true);
  if (r.error())
    return *r.error();
  return s.receive_return(id, reservation, qty);
}

outcome get_return(sim& s, const request&, const params& p) {
  return s.return_state(p[0]);
}

// POST /returns/{id}/inspect: restock, damaged or both (the one left out is
// the rest of the return).
outcome post_inspect(sim& s, const request& req, const params& p) {
  body_reader r{req.body, {"restock", "damaged"}};
  std::optional<int64_t> restock, damaged;
  if (r.has("restock"))
    restock = r.integer("restock", false);
  if (r.has("damaged"))
    damaged = r.integer("damaged", false);
  if (r.error())
    return *r.error();
  return s.inspect_return(p[0], restock, damaged);
}

// GET /events?after=CURSOR&limit=N: each at most once, nothing else.
outcome get_events(sim& s, const request& req, const params&) {
  std::string after;
  int64_t limit = page_limit_default;
  std::set<std::string> seen;
  for (auto& param : http::split_query(req.query, http::percent_mode::strict)) {
    if (!param)
      return invalid("query", "malformed query string");
    auto& [key, value] = *param;
    if (key != "after" && key != "limit")
      return invalid(key, "unknown query parameter " + key);
    if (!seen.insert(key).second)
      return invalid(key, key + " is given twice");
    if (key == "after") {
      if (value.empty())
        return invalid("after", "after is empty");
      after = value;
    } else {
      if (value.empty() || value.size() > 7 ||
          value.find_first_not_of("0123456789") != std::string::npos)
        return invalid("limit",
                       "limit must be in 1.." + std::to_string(page_limit_max));
      limit = std::stoll(value);
    }
  }
  return s.events(after, limit);
}

outcome post_sku(sim& s, const request& req, const params&) {
  body_reader r{req.body, {"sku", "onHand", "unitPrice", "reflectNow"}};
  auto sku = r.text("sku", true);
  auto on_hand = r.integer("onHand", true);
  auto price = r.integer("unitPrice", true);
  auto reflect = r.flag("reflectNow");
  if (r.error())
    return *r.error();
  return s.put_sku(sku, on_hand, price, reflect);
}

// The body of a receipt or an adjustment: sku, quantity, an optional
// non-empty lot and, for adjustments, a reason.
struct stock_body {
  std::string sku;
  int64_t quantity = 0;
  std::string reason;
  std::string lot;
};

std::optional<outcome>
read_stock_body(const request& req, std::initializer_list<const char*> allowed,
                bool with_reason, stock_body& out) {
  body_reader r{req.body, allowed};
  out.sku = r.text("sku", true);
  out.quantity = r.integer("quantity", true);
  if (with_reason)
    out.reason = r.text("reason", true);
  out.lot = r.text("lot", false);
  if (r.error())
    return r.error();
  if (r.has("lot") && out.lot.empty())
    return invalid("lot", "lot is empty");
  return std::nullopt;
}

outcome post_receipt(sim& s, const request& req, const params&) {
  stock_body b;
  if (auto bad = read_stock_body(req, {"sku", "quantity", "lot"}, false, b))
    return *bad;
  return s.receive(b.sku, b.quantity, b.lot);
}

outcome post_adjustment(sim& s, const request& req, const params&) {
  stock_body b;
  if (auto bad =
          read_stock_body(req, {"sku", "quantity", "reason", "lot"}, true, b))
    return *bad;
  return s.adjust(b.sku, b.quantity, b.reason, b.lot);
}

outcome post_batch(sim& s, const request&, const params&) {
  auto b = s.run_batch();
  return outcome{200, json{{"batch", b.batch},
                           {"asOf", b.as_of_ms},
                           {"reflects", b.reflects},
                           {"skus", b.skus},
                           {"changes", b.changes},
                           {"events", b.events}}};
}

outcome get_faults(sim& s, const request&, const params&) {
  return outcome{200, to_json(s.faults())};
}

// POST /admin/faults: any subset of the settings; all or nothing.
outcome post_faults(sim& s, const request& req, const params&) {
  body_reader r{req.body,
                {"failRate", "latencyMs", "hangRate", "hangForMs",
                 "duplicateRate", "rateLimit"}};
  auto next = s.faults();
  if (auto x = r.fraction("failRate"))
    next.fail_rate = *x;
  if (auto x = r.fraction("hangRate"))
    next.hang_rate = *x;
  if (auto x = r.fraction("duplicateRate"))
    next.duplicate_rate = *x;
  struct bounded {
    const char* name;
    int64_t& target;
    int64_t max;
  };
  for (auto b : {bounded{"latencyMs", next.latency_ms, delay_max_ms},
                 bounded{"hangForMs", next.hang_for_ms, delay_max_ms},
                 bounded{"rateLimit", next.rate_limit, rate_limit_max}}) {
    if (!r.has(b.name))
      continue;
    auto x = r.integer(b.name, false);
    if (r.error())
      break;
    if (x < 0 || x > b.max)
      return invalid(b.name, std::string{b.name} + " must be in 0.." +
                                 std::to_string(b.max));
    b.target = x;
  }
  if (r.error())
    return *r.error();
  s.set_faults(next);
  return outcome{200, to_json(next)};
}

outcome get_state(sim& s, const request&, const params&) {
  return outcome{200, s.state()};
}

struct route_row {
  const char* method;
  const char* pattern;
  outcome (*answer)(sim&, const request&, const params&);
};

// The contract's routes; rows of one pattern list its methods in the order
// a 405's Allow header names them.
const route_row routes[] = {
    {"GET", "/healthz", healthz},
    {"GET", "/inventory/{sku}", get_inventory},
    {"POST", "/reservations", post_reservation},
    {"GET", "/reservations/{id}", get_reservation},
    {"DELETE", "/reservations/{id}", delete_reservation},
    {"POST", "/reservations/{id}/block", post_block},
    {"POST", "/reservations/{id}/ship", post_ship},
    {"POST", "/reservations/{id}/reduce", post_reduce},
    {"POST", "/returns", post_return},
    {"GET", "/returns/{id}", get_return},
    {"POST", "/returns/{id}/inspect", post_inspect},
    {"GET", "/events", get_events},
    {"POST", "/admin/skus", post_sku},
    {"POST", "/admin/receipts", post_receipt},
    {"POST", "/admin/adjustments", post_adjustment},
    {"POST", "/admin/batch", post_batch},
    {"GET", "/admin/faults", get_faults},
    {"POST", "/admin/faults", post_faults},
    {"GET", "/admin/state", get_state},
};

response answer(outcome o) {
  response resp;
  resp.status = o.status;
  resp.body = std::move(o.body);
  return resp;
}

} // namespace

std::optional<std::vector<std::string>> decode_path(const std::string& path) {
  if (path.empty() || path[0] != '/')
    return std::nullopt;
  std::vector<std::string> seg;
  for (auto& part : http::split_path(path)) {
    auto x = http::percent_decode(part, http::percent_mode::strict);
    if (!x)
      return std::nullopt;
    seg.push_back(std::move(*x));
  }
  return seg;
}

bool is_public_path(const std::vector<std::string>& seg) {
  return !seg.empty() && (seg[0] == "inventory" || seg[0] == "reservations" ||
                          seg[0] == "returns" || seg[0] == "events");
}

std::string route_name(const std::string& method,
                       const std::vector<std::string>& seg) {
  auto m = http::match_route(routes, method, seg);
  return m.path_found() ? method + " " + m.pattern : "(no route)";
}

response no_route(const std::string& path) {
  return answer(fail(404, "NOT_FOUND", "no route " + path));
}

response route(sim& s, const request& req,
               const std::vector<std::string>& seg) {
  auto m = http::match_route(routes, req.method, seg);
  if (!m.path_found())
    return no_route(req.path);
  if (!m.found()) {
    auto resp = answer(fail(405, "METHOD_NOT_ALLOWED",
                            req.method + " is not allowed on " + m.pattern +
                                " (allowed: " + m.allow + ")"));
    resp.route = req.method + " " + m.pattern;
    resp.headers.emplace_back("Allow", m.allow);
    return resp;
  }
  auto resp = answer(routes[m.index].answer(s, req, m.params));
  resp.route = req.method + " " + m.pattern;
  return resp;
}

} // namespace oms::wms_sim
