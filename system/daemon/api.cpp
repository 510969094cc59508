#include "system/daemon/api.hpp"

#include <atomic>
#include <cctype>
#include <map>
#include <optional>
#include <set>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/sec.hpp>
#include <nlohmann/json.hpp>

#include "actors/ids.hpp"
#include "actors/inbox.hpp"
#include "actors/stock_ledger.hpp"
#include "actors/validation.hpp"
#include "messages/errors.hpp"
#include "messages/json.hpp"
#include "messages/type_ids.hpp"
#include "messages/wms_protocol.hpp"
#include "system/daemon/auth.hpp"
#include "system/daemon/metrics.hpp"
#include "system/http/percent.hpp"
#include "system/http/route.hpp"
#include "system/log.hpp"
#include "system/order_system.hpp"

namespace oms::daemon {

namespace {

using json = nlohmann::json;
using steady = std::chrono::steady_clock;

enum class rid {
  healthz,
  readyz,
  metrics,
  inventory_receipt,
  inventory_change,
  inventory_get,
  inventory_price,
  inventory_list,
  customer_create,
  customer_get,
  cart_get,
  cart_put,
  cart_delete,
  cart_checkout,
  customer_orders,
  order_create,
  order_get,
  order_patch,
  order_confirm,
  order_pay,
  order_ship,
  order_deliver,
  order_cancel,
  audit,
  wms_status,
};

struct route_def {
  rid id;
  const char* method;
  const char* pattern;
  bool authenticated;
  bool admin;
};

// Matched in order; every pattern is unique per method.
constexpr route_def route_table[] = {
    {rid::healthz, "GET", "/healthz", false, false},
    {rid::readyz, "GET", "/readyz", false, false},
    {rid::metrics, "GET", "/metrics", false, false},
    {rid::inventory_receipt, "POST", "/v1/inventory/{sku}/receipts", true,
     true},
    {rid::inventory_change, "POST", "/v1/inventory/{sku}/changes", true, true},
    {rid::inventory_get, "GET", "/v1/inventory/{sku}", true, false},
    {rid::inventory_price, "PATCH", "/v1/inventory/{sku}", true, true},
    {rid::inventory_list, "GET", "/v1/inventory", true, false},
    {rid::customer_create, "POST", "/v1/customers", true, true},
    {rid::customer_get, "GET", "/v1/customers/{id}", true, false},
    {rid::cart_get, "GET", "/v1/customers/{id}/cart", true, false},
    {rid::cart_put, "PUT", "/v1/customers/{id}/cart/items/{sku}", true, false},
    {rid::cart_delete, "DELETE", "/v1/customers/{id}/cart/items/{sku}", true,
     false},
    {rid::cart_checkout, "POST", "/v1/customers/{id}/cart/checkout", true,
     false},
    {rid::customer_orders, "GET", "/v1/customers/{id}/orders", true, false},
    {rid::order_create, "POST", "/v1/orders", true, false},
    {rid::order_get, "GET", "/v1/orders/{id}", true, false},
    {rid::order_patch, "PATCH", "/v1/orders/{id}", true, false},
    {rid::order_confirm, "POST", "/v1/orders/{id}/confirm", true, true},
    {rid::order_pay, "POST", "/v1/orders/{id}/pay", true, false},
    {rid::order_ship, "POST", "/v1/orders/{id}/ship", true, true},
    {rid::order_deliver, "POST", "/v1/orders/{id}/deliver", true, true},
    {rid::order_cancel, "POST", "/v1/orders/{id}/cancel", true, false},
    {rid::audit, "GET", "/v1/audit", true, true},
    {rid::wms_status, "GET", "/v1/wms", true, true},
};

int status_of(errc code) {
  switch (code) {
    case errc::none:
      return 200;
    case errc::validation_failed:
    case errc::mixed_sellers:
    case errc::cart_empty:
      return 400;
    case errc::unauthorized:
      return 401;
    case errc::payment_declined:
      return 402;
    case errc::forbidden:
      return 403;
    case errc::not_found:
    case errc::order_not_found:
    case errc::unknown_sku:
      return 404;
    case errc::method_not_allowed:
      return 405;
    case errc::insufficient_stock:
    case errc::invalid_transition:
    case errc::order_expired:
    case errc::external_inventory_read_only:
      return 409;
    case errc::payload_too_large:
      return 413;
    case errc::idempotency_key_reused:
    case errc::amount_mismatch:
      return 422;
    case errc::rate_limited:
      return 429;
    case errc::internal:
      return 500;
    case errc::wms_unavailable:
    case errc::store_failure:
    case errc::unavailable:
    case errc::payment_unavailable:
    case errc::not_ready:
      return 503;
  }
  return 500;
}

std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

/// Bad input found while reading a request: answered with `code`.
struct bad_input {
  errc code;
  std::string message;
  json details = json::object();
};

[[noreturn]] void invalid(const std::string& field, const std::string& what) {
  throw bad_input{errc::validation_failed, field + ": " + what,
                  json{{"field", field}}};
}

std::map<std::string, std::string>
parse_query(std::string_view query,
            std::initializer_list<const char*> allowed) {
  std::map<std::string, std::string> result;
  for (auto& param :
       http::split_query(query, http::percent_mode::lenient_form)) {
    auto& [key, value] = *param;
    bool known = false;
    for (auto* name : allowed)
      known = known || key == name;
    if (!known)
      throw bad_input{errc::validation_failed,
                      "unknown query parameter '" + key + "'",
                      json{{"field", key}}};
    result[key] = value;
  }
  return result;
}

// Deepest nesting of arrays and objects in a JSON text (strings skipped).
size_t json_depth(std::string_view text) {
  size_t depth = 0;
  size_t deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    auto c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      deepest = std::max(deepest, ++depth);
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

// -- reading JSON bodies ------------------------------------------------------

void only(const json& j, std::initializer_list<const char*> allowed,
          const std::string& where) {
  for (auto& [key, value] : j.items()) {
    bool known = false;
    for (auto* name : allowed)
      known = known || key == name;
    if (!known)
      throw bad_input{errc::validation_failed,
                      (where.empty() ? "" : where + ": ") + "unknown field '" +
                          key + "'",
                      json{{"field", where.empty() ? key : where + "." + key}}};
  }
}

std::string path_of(const std::string& where, const char* name) {
  return where.empty() ? name : where + "." + name;
}

std::optional<int64_t> get_int(const json& j, const char* name, bool required,
                               int64_t lo, int64_t hi,
                               const std::string& where = {}) {
  auto field = path_of(where, name);
  auto i = j.find(name);
  if (i == j.end() || i->is_null()) {
    if (required)
      invalid(field, "is required");
    return std::nullopt;
  }
  if (!i->is_number_integer())
    invalid(field, "must be an integer");
  int64_t x;
  if (i->is_number_unsigned()) {
    auto u = i->get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX))
      invalid(field, "must be between " + std::to_string(lo) + " and " +
                         std::to_string(hi));
    x = static_cast<int64_t>(u);
  } else {
    x = i->get<int64_t>();
  }
  if (x < lo || x > hi)
    invalid(field, "must be between " + std::to_string(lo) + " and " +
                       std::to_string(hi));
  return x;
}

std::optional<std::string> get_str(const json& j, const char* name,
                                   bool required, size_t max_len = 200,
                                   const std::string& where = {}) {
  auto field = path_of(where, name);
  auto i = j.find(name);
  if (i == j.end() || i->is_null()) {
    if (required)
      invalid(field, "is required");
    return std::nullopt;
  }
  if (!i->is_string())
    invalid(field, "must be a string");
  auto s = i->get<std::string>();
  if (s.size() > max_len)
    invalid(field, "must be at most " + std::to_string(max_len) + " bytes");
  return s;
}

seller parse_seller_field(const std::string& text, const std::string& field) {
  seller s;
  if (!parse_seller(text, s))
    invalid(field, "must be INTERNAL or EXTERNAL");
  return s;
}

address get_address(const json& j, const char* name, bool required) {
  auto i = j.find(name);
  if (i == j.end() || i->is_null()) {
    if (required)
      invalid(name, "is required");
    return {};
  }
  if (!i->is_object())
    invalid(name, "must be an object");
  only(*i, {"line1", "line2", "city", "postalCode", "country"}, name);
  address a;
  a.line1 = *get_str(*i, "line1", true, 200, name);
  a.line2 = get_str(*i, "line2", false, 200, name).value_or("");
  a.city = *get_str(*i, "city", true, 200, name);
  a.postal_code = *get_str(*i, "postalCode", true, 200, name);
  a.country = *get_str(*i, "country", true, 200, name);
  return a;
}

std::vector<order_item> get_lines(const json& j, const char* name,
                                  bool required, seller default_seller,
                                  size_t max_lines, int64_t max_quantity,
                                  bool allow_seller) {
  auto i = j.find(name);
  if (i == j.end() || i->is_null()) {
    if (required)
      invalid(name, "is required");
    return {};
  }
  if (!i->is_array())
    invalid(name, "must be an array");
  if (i->empty())
    invalid(name, "must have at least one line");
  if (i->size() > max_lines)
    invalid(name, "must have at most " + std::to_string(max_lines) + " lines");
  std::vector<order_item> result;
  for (size_t k = 0; k < i->size(); ++k) {
    auto where = std::string{name} + "[" + std::to_string(k) + "]";
    auto& line = (*i)[k];
    if (!line.is_object())
      invalid(where, "must be an object");
    if (allow_seller)
      only(line, {"sku", "quantity", "seller"}, where);
    else
      only(line, {"sku", "quantity"}, where);
    order_item item;
    item.sku = *get_str(line, "sku", true, 64, where);
    item.quantity = *get_int(line, "quantity", true, 1, max_quantity, where);
    item.seller = default_seller;
    if (auto s = get_str(line, "seller", false, 16, where))
      item.seller = parse_seller_field(*s, where + ".seller");
    result.push_back(std::move(item));
  }
  return result;
}

// -- inbound stock changes ----------------------------------------------------

// A batch name: 1 to 64 characters of [A-Za-z0-9._-].
std::optional<std::string> get_lot(const json& j) {
  auto lot = get_str(j, "lot", false, std::string::npos);
  if (!lot)
    return std::nullopt;
  auto ok = !lot->empty() && lot->size() <= 64;
  for (auto ch : *lot)
    ok = ok && (std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' ||
                ch == '_' || ch == '-');
  if (!ok)
    invalid("lot", "must be 1 to 64 characters of A-Z a-z 0-9 . _ -");
  return lot;
}

// The inbound event's id: 1 to 128 characters of [A-Za-z0-9._:-].
std::optional<std::string> get_event_id(const json& j) {
  auto id = get_str(j, "eventId", false, std::string::npos);
  if (id && !valid_event_id(*id))
    invalid("eventId", "must be 1 to 128 characters of A-Z a-z 0-9 . _ : -");
  return id;
}

// A batch's expiry: an RFC 3339 UTC timestamp after `now`; 0 if absent.
timestamp_ms get_expiry(const json& j, timestamp_ms now) {
  auto text = get_str(j, "expiresAt", false, std::string::npos);
  if (!text)
    return 0;
  timestamp_ms at = 0;
  if (!parse_timestamp(*text, at))
    invalid("expiresAt",
            "must be an RFC 3339 UTC timestamp, e.g. 2026-12-31T23:59:59Z");
  if (at <= now)
    invalid("expiresAt", "must be in the future");
  return at;
}

// Why units leave or rejoin sale; EXPIRED is the expiry timer's alone.
unallocatable_reason get_reason(const json& j) {
  auto text = *get_str(j, "reason", true, 32);
  unallocatable_reason reason;
  if (!parse_unallocatable_reason(text, reason))
    invalid("reason", "must be DAMAGED, QUARANTINED or SAFETY_STOCK");
  if (reason == unallocatable_reason::expired)
    invalid("reason", "EXPIRED is set by a batch's expiry, not by hand");
  return reason;
}

// The body of POST /v1/inventory/{sku}/changes as a change of `sku`.
stock_change read_change(const json& j, const sku_id& sku, int64_t max_quantity,
                         timestamp_ms now) {
  only(j,
       {"kind", "quantity", "eventId", "lot", "expiresAt", "unitPrice",
        "reason", "note"},
       "");
  stock_change c;
  c.sku = sku;
  c.source = "admin";
  if (!parse_stock_change_kind(*get_str(j, "kind", true, 32), c.kind))
    invalid("kind", "must be RECEIPT, ADJUSTMENT, SET_ASIDE or RETURN_ASIDE");
  auto receipt = c.kind == stock_change_kind::receipt;
  auto move = c.kind == stock_change_kind::set_aside ||
              c.kind == stock_change_kind::return_aside;
  if (c.kind == stock_change_kind::adjustment) {
    c.quantity = *get_int(j, "quantity", true, -max_quantity, max_quantity);
    if (c.quantity == 0)
      invalid("quantity", "must not be 0");
  } else {
    c.quantity = *get_int(j, "quantity", true, 1, max_quantity);
  }
  auto only_for = [&](const char* field, bool allowed, const char* kinds) {
    if (!allowed && j.contains(field) && !j[field].is_null())
      invalid(field, std::string{"is only for "} + kinds);
  };
  only_for("unitPrice", receipt, "RECEIPT");
  only_for("expiresAt", receipt, "RECEIPT");
  only_for("reason", move, "SET_ASIDE and RETURN_ASIDE");
  if (receipt) {
    c.unit_price =
        get_int(j, "unitPrice", false, 1, max_unit_price).value_or(0);
    c.expires_at = get_expiry(j, now);
  }
  if (move)
    c.reason = get_reason(j);
  c.lot = get_lot(j).value_or("");
  c.note = get_str(j, "note", false, 200).value_or("");
  c.event_id = get_event_id(j).value_or("");
  return c;
}

caf::error not_found(const std::string& what) {
  return make_error(errc::not_found, "no " + what);
}

caf::error order_missing(const order_id& id) {
  return make_error(errc::order_not_found, "no order " + id,
                    json{{"orderId", id}}.dump());
}

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch())
      .count();
}

} // namespace

// -- the implementation -------------------------------------------------------

struct api::impl : std::enable_shared_from_this<api::impl> {
  caf::actor_system& sys;
  order_system& oms;
  token_registry& tokens;
  metrics& stats;
  api_options opts;
  rate_limiter limiter;
  std::atomic<bool> draining{false};

  impl(caf::actor_system& sys, order_system& oms, token_registry& tokens,
       metrics& stats, api_options opts)
      : sys(sys),
        oms(oms),
        tokens(tokens),
        stats(stats),
        opts(std::move(opts)),
        limiter(this->opts.rate_limit, this->opts.rate_burst) {}

  struct call {
    http_request req;
    responder done;
    std::string route = "unmatched";
    std::vector<std::string> params;
    principal who;
    steady::time_point started;
    std::atomic<bool> answered{false};
  };
  using call_ptr = std::shared_ptr<call>;

  // -- answering --------------------------------------------------------------

  void finish(const call_ptr& c, http_response resp) {
    if (c->answered.exchange(true))
      return;
    auto elapsed =
        std::chrono::duration<double>(steady::now() - c->started).count();
    if (draining)
      resp.close = true;
    stats.observe(c->route, c->req.method, resp.status, elapsed);
    auto level = resp.status >= 500 ? log::level::warn : log::level::info;
    log::write(
        level, "http.request",
        {{"method", c->req.method},
         {"path", c->req.path},
         {"route", c->route},
         {"status", resp.status},
         {"ms", elapsed * 1000.0},
         {"who", c->who.admin ? std::string{"admin"} : c->who.customer}});
    c->done(std::move(resp));
    stats.in_flight_add(-1);
  }

  void reply(const call_ptr& c, int status, const json& body) {
    http_response resp;
    resp.status = status;
    resp.body = dump(body);
    finish(c, std::move(resp));
  }

  void fail(const call_ptr& c, caf::error err,
            std::vector<std::pair<std::string, std::string>> headers = {}) {
    errc code;
    std::string message;
    json details = json::object();
    if (err == caf::sec::request_timeout) {
      code = errc::unavailable;
      message = "the order system did not answer in time; the change may "
                "still be applied: read before retrying, or retry with the "
                "same Idempotency-Key";
    } else if (err == caf::sec::request_receiver_down) {
      code = errc::unavailable;
      message = "the actor in charge went away; retry";
    } else {
      code = code_of(err);
      message = message_of(err);
      auto parsed = json::parse(details_of(err), nullptr, false);
      if (!parsed.is_discarded() && parsed.is_object())
        details = std::move(parsed);
    }
    if (code == errc::internal)
      log::error("http.internal_error",
                 {{"path", c->req.path}, {"error", describe(err)}});
    http_response resp;
    resp.status = status_of(code);
    resp.body = dump(json{{"error",
                           {{"code", to_code(code)},
                            {"message", message},
                            {"details", details}}}});
    resp.headers = std::move(headers);
    finish(c, std::move(resp));
  }

  void fail(const call_ptr& c, const bad_input& bad,
            std::vector<std::pair<std::string, std::string>> headers = {}) {
    fail(c, make_error(bad.code, bad.message, bad.details.dump()),
         std::move(headers));
  }

  // Runs `f`, turning bad input and exceptions into error answers.
  template <class F>
  void guarded(const call_ptr& c, F&& f) {
    try {
      f();
    } catch (const bad_input& bad) {
      fail(c, bad);
    } catch (const std::exception& e) {
      fail(c, make_error(errc::internal, e.what()));
    }
  }

  // -- asking actors without blocking -----------------------------------------

  // Sends a request from a short-lived actor; `ok` or `on_error` runs when
  // the reply arrives, on an actor thread.
  template <class T, class Handle, class F, class G, class... Ts>
  void ask_or(const call_ptr& c, const Handle& dest, F ok, G on_error,
              Ts... xs) {
    auto self_ptr = shared_from_this();
    auto timeout = opts.request_timeout;
    // CAF 0.17 dereferences an empty argument tuple when it starts a
    // function-based actor spawned without arguments (UBSan reports it), so
    // the actor takes a dummy argument.
    sys.spawn(
        [=](caf::event_based_actor* self, int) {
          self->request(dest, timeout, xs...)
              .then([=](T& x) { self_ptr->guarded(c, [&] { ok(x); }); },
                    [=](caf::error& err) {
                      self_ptr->guarded(c, [&] { on_error(err); });
                    });
        },
        0);
  }

  // The same, answering an error reply as the error it is.
  template <class T, class Handle, class F, class... Ts>
  void ask(const call_ptr& c, const Handle& dest, F ok, Ts... xs) {
    auto self_ptr = shared_from_this();
    ask_or<T>(
        c, dest, std::move(ok),
        [self_ptr, c](const caf::error& err) { self_ptr->fail(c, err); },
        std::move(xs)...);
  }

  template <class T>
  auto respond(const call_ptr& c, int status) {
    auto self_ptr = shared_from_this();
    return [self_ptr, c, status](T& x) {
      self_ptr->reply(c, status, json(x));
    };
  }

  // The CUSTOMER actor of `id`, then `k`.
  template <class F>
  void with_customer(const call_ptr& c, const customer_id& id, F k) {
    ask<customer_actor>(c, oms.supervisor(), k, atom::customer_v, id);
  }

  // The order, if the caller may see it (another customer's order answers
  // as if it did not exist).
  template <class F>
  void with_order(const call_ptr& c, const order_id& id, F k) {
    if (check_id("orderId", id, order_limits{}))
      return fail(c, order_missing(id));
    auto self_ptr = shared_from_this();
    ask<order_record>(
        c, oms.supervisor(),
        [self_ptr, c, id, k](order_record& rec) {
          if (!c->who.admin && rec.customer != c->who.customer)
            return self_ptr->fail(c, order_missing(id));
          k(rec);
        },
        atom::get_v, id);
  }

  void apply_command(const call_ptr& c, const order_id& id, order_command cmd) {
    auto self_ptr = shared_from_this();
    with_order(c, id, [self_ptr, c, id, cmd](order_record&) {
      self_ptr->ask<order_record>(c, self_ptr->oms.supervisor(),
                                  self_ptr->respond<order_record>(c, 200),
                                  atom::apply_v, id, cmd);
    });
  }

  // Applies an inbound stock change (through the INBOX if it has an event
  // id) and answers it: as the inbox_result on /changes, as the StockView
  // with the outcome on /receipts.
  void apply_change(const call_ptr& c, const stock_change& ch,
                    bool change_route) {
    auto self_ptr = shared_from_this();
    ask<inbox_result>(
        c, oms.supervisor(),
        [self_ptr, c, ch, change_route](inbox_result& res) {
          if (!res.stock.sku.empty())
            return self_ptr->answer_change(c, ch, std::move(res), change_route);
          // DUPLICATE and REJECTED carry no stock: show it as it is now (an
          // unknown SKU has none).
          auto first = std::move(res);
          self_ptr->ask_or<stock_view>(
              c, self_ptr->oms.supervisor(),
              [self_ptr, c, ch, first, change_route](stock_view& now) {
                auto with_stock = first;
                with_stock.stock = std::move(now);
                self_ptr->answer_change(c, ch, std::move(with_stock),
                                        change_route);
              },
              [self_ptr, c, ch, first, change_route](const caf::error&) {
                self_ptr->answer_change(c, ch, first, change_route);
              },
              atom::get_v, ch.sku, seller::internal);
        },
        atom::apply_v, ch);
  }

  void answer_change(const call_ptr& c, const stock_change& ch,
                     inbox_result res, bool change_route) {
    if (res.outcome == "APPLIED")
      log::info("inventory.changed", {{"sku", ch.sku},
                                      {"kind", to_string(ch.kind)},
                                      {"quantity", ch.quantity},
                                      {"lot", ch.lot},
                                      {"event", ch.event_id}});
    if (change_route) {
      // A receipt that created the SKU: the only receipt it has had.
      auto created = res.outcome == "APPLIED" &&
                     ch.kind == stock_change_kind::receipt &&
                     res.stock.received_total == ch.quantity;
      return reply(c, created ? 201 : 200, json(res));
    }
    auto j = res.stock.sku.empty() ? json::object() : json(res.stock);
    j["outcome"] = res.outcome;
    if (!res.event_id.empty())
      j["eventId"] = res.event_id;
    if (!res.error_code.empty())
      j["error"] = {{"code", res.error_code}, {"message", res.error}};
    reply(c, 200, j);
  }

  void send_metrics(const call_ptr& c, const journal_stats& js,
                    const wms_gateway_stats* wms) {
    metrics::process_view pv;
    pv.ready = !draining;
    pv.customers = tokens.customers();
    pv.start_time_seconds = start_time;
    http_response resp;
    resp.content_type = "text/plain; version=0.0.4; charset=utf-8";
    resp.body = stats.render(&js, pv, wms);
    finish(c, std::move(resp));
  }

  // -- request helpers --------------------------------------------------------

  json body(const call_ptr& c, bool allow_empty = false) {
    auto& text = c->req.body;
    if (text.empty() ||
        text.find_first_not_of(" \t\r\n") == std::string::npos) {
      if (allow_empty)
        return json::object();
      throw bad_input{errc::validation_failed, "a JSON object body is required",
                      json{{"field", "body"}}};
    }
    if (json_depth(text) > opts.max_json_depth)
      throw bad_input{errc::validation_failed,
                      "JSON nested deeper than " +
                          std::to_string(opts.max_json_depth),
                      json{{"field", "body"}}};
    auto j = json::parse(text, nullptr, false);
    if (j.is_discarded())
      throw bad_input{errc::validation_failed,
                      "the body is not valid JSON (UTF-8)",
                      json{{"field", "body"}}};
    if (!j.is_object())
      throw bad_input{errc::validation_failed, "the body must be a JSON object",
                      json{{"field", "body"}}};
    return j;
  }

  std::string idempotency_key(const call_ptr& c) {
    auto& key = c->req.idempotency_key;
    if (key.size() > 255)
      invalid("Idempotency-Key", "must be at most 255 bytes");
    for (auto ch : key)
      if (ch < 0x21 || ch > 0x7e)
        invalid("Idempotency-Key", "must be printable ASCII without spaces");
    return key;
  }

  // The customer of a /v1/customers/{id}/... route, if the caller may act on
  // it: its own, or any existing one for the admin.
  customer_id own_customer(const call_ptr& c) {
    auto& id = c->params[0];
    if (c->who.admin ? !tokens.find(id).has_value() : id != c->who.customer)
      throw bad_input{errc::not_found, "no customer " + id,
                      json{{"customerId", id}}};
    return id;
  }

  uint32_t limit_param(const std::map<std::string, std::string>& q) {
    auto i = q.find("limit");
    if (i == q.end())
      return 20;
    auto& text = i->second;
    if (text.empty() || text.size() > 3 ||
        text.find_first_not_of("0123456789") != std::string::npos)
      invalid("limit", "must be an integer between 1 and 100");
    auto n = std::stoi(text);
    if (n < 1 || n > 100)
      invalid("limit", "must be an integer between 1 and 100");
    return static_cast<uint32_t>(n);
  }

  // -- the routes -------------------------------------------------------------

  void dispatch(const call_ptr& c, rid id) {
    auto self_ptr = shared_from_this();
    auto& sup = oms.supervisor();
    auto& p = c->params;
    switch (id) {
      case rid::healthz:
        parse_query(c->req.query, {});
        return reply(c, 200, json{{"status", "ok"}});
      case rid::readyz: {
        parse_query(c->req.query, {});
        if (draining)
          return fail(c, make_error(errc::not_ready, "omsd is stopping"));
        auto store = opts.store_description;
        return ask<journal_stats>(
            c, oms.journal(),
            [self_ptr, c, store](journal_stats& js) {
              self_ptr->reply(c, 200,
                              json{{"status", "ready"},
                                   {"store", store},
                                   {"lastSeq", js.last_seq}});
            },
            atom::stats_v);
      }
      case rid::metrics: {
        parse_query(c->req.query, {});
        return ask<journal_stats>(
            c, oms.journal(),
            [self_ptr, c](journal_stats& js) {
              auto& gateway = self_ptr->oms.ctx()->wms;
              if (!gateway)
                return self_ptr->send_metrics(c, js, nullptr);
              // The gateway's counters when it answers; the rest regardless.
              self_ptr->ask_or<wms_gateway_stats>(
                  c, gateway,
                  [self_ptr, c, js](wms_gateway_stats& ws) {
                    self_ptr->send_metrics(c, js, &ws);
                  },
                  [self_ptr, c, js](const caf::error&) {
                    self_ptr->send_metrics(c, js, nullptr);
                  },
                  atom::stats_v);
            },
            atom::stats_v);
      }
      case rid::inventory_receipt: {
        parse_query(c->req.query, {});
        auto j = body(c);
        only(j,
             {"quantity", "unitPrice", "seller", "lot", "expiresAt", "eventId"},
             "");
        stock_change ch;
        ch.kind = stock_change_kind::receipt;
        ch.sku = p[0];
        ch.source = "admin";
        ch.quantity = *get_int(j, "quantity", true, 1, opts.max_quantity);
        ch.unit_price =
            get_int(j, "unitPrice", false, 1, max_unit_price).value_or(0);
        auto from = seller::internal;
        if (auto s = get_str(j, "seller", false, 16))
          from = parse_seller_field(*s, "seller");
        ch.lot = get_lot(j).value_or("");
        ch.expires_at = get_expiry(j, now_ms());
        ch.event_id = get_event_id(j).value_or("");
        // The EXTERNAL seller's stock is its WMS's: refused as before.
        if (from == seller::external)
          return ask<stock_view>(c, sup, respond<stock_view>(c, 200),
                                 atom::receive_v, ch.sku, from, ch.quantity,
                                 ch.unit_price);
        return apply_change(c, ch, false);
      }
      case rid::inventory_change: {
        parse_query(c->req.query, {});
        auto ch = read_change(body(c), p[0], opts.max_quantity, now_ms());
        return apply_change(c, ch, true);
      }
      case rid::inventory_get: {
        auto q = parse_query(c->req.query, {"seller"});
        auto from = seller::internal;
        if (auto i = q.find("seller"); i != q.end())
          from = parse_seller_field(i->second, "seller");
        return ask<stock_view>(c, sup, respond<stock_view>(c, 200), atom::get_v,
                               p[0], from);
      }
      case rid::inventory_price: {
        parse_query(c->req.query, {});
        auto j = body(c);
        only(j, {"unitPrice"}, "");
        auto price = *get_int(j, "unitPrice", true, 1, INT64_MAX / 4);
        return ask<inventory_actor>(
            c, sup,
            [self_ptr, c, price](inventory_actor& sku) {
              self_ptr->ask<stock_view>(c, sku,
                                        self_ptr->respond<stock_view>(c, 200),
                                        atom::price_v, price);
            },
            atom::find_sku_v, p[0]);
      }
      case rid::inventory_list: {
        auto q = parse_query(c->req.query, {"seller", "limit", "cursor"});
        auto from = seller::internal;
        if (auto i = q.find("seller"); i != q.end())
          from = parse_seller_field(i->second, "seller");
        auto limit = limit_param(q);
        return ask<inventory_page>(c, sup, respond<inventory_page>(c, 200),
                                   atom::list_v, from, limit,
                                   sku_id{q["cursor"]});
      }
      case rid::customer_create: {
        parse_query(c->req.query, {});
        auto j = body(c);
        only(j, {"name"}, "");
        auto name = *get_str(j, "name", true, 200);
        if (name.find_first_not_of(" \t\r\n") == std::string::npos)
          invalid("name", "must not be blank");
        auto token = new_token();
        customer_record rec{random_id("cus_"), name, sha256_hex(token),
                            now_ms()};
        event ev;
        ev.kind = event_kind::customer_created;
        ev.at = rec.created_at;
        ev.customer = rec;
        return ask<uint64_t>(
            c, oms.journal(),
            [self_ptr, c, rec, token](uint64_t) {
              self_ptr->tokens.add(rec);
              log::info("customer.created", {{"customer", rec.id}});
              self_ptr->reply(
                  c, 201,
                  json{{"customerId", rec.id},
                       {"name", rec.name},
                       {"token", token},
                       {"createdAt", format_timestamp(rec.created_at)}});
            },
            atom::append_v, std::vector<event>{ev});
      }
      case rid::customer_get: {
        parse_query(c->req.query, {});
        auto cid = own_customer(c);
        auto rec = tokens.find(cid);
        return reply(c, 200,
                     json{{"customerId", rec->id},
                          {"name", rec->name},
                          {"createdAt", format_timestamp(rec->created_at)}});
      }
      case rid::cart_get: {
        parse_query(c->req.query, {});
        return with_customer(
            c, own_customer(c), [self_ptr, c](customer_actor& cust) {
              self_ptr->ask<cart_view>(
                  c, cust, self_ptr->respond<cart_view>(c, 200), atom::get_v);
            });
      }
      case rid::cart_put: {
        parse_query(c->req.query, {});
        auto cid = own_customer(c);
        auto j = body(c);
        only(j, {"quantity"}, "");
        auto qty = *get_int(j, "quantity", true, 1, opts.max_quantity);
        auto sku = p[1];
        return with_customer(
            c, cid, [self_ptr, c, sku, qty](customer_actor& cust) {
              self_ptr->ask<cart_view>(c, cust,
                                       self_ptr->respond<cart_view>(c, 200),
                                       atom::put_v, sku, qty);
            });
      }
      case rid::cart_delete: {
        parse_query(c->req.query, {});
        auto cid = own_customer(c);
        auto sku = p[1];
        return with_customer(c, cid, [self_ptr, c, sku](customer_actor& cust) {
          self_ptr->ask<cart_view>(c, cust,
                                   self_ptr->respond<cart_view>(c, 200),
                                   atom::remove_v, sku);
        });
      }
      case rid::cart_checkout: {
        parse_query(c->req.query, {});
        auto cid = own_customer(c);
        auto j = body(c);
        only(j, {"address", "skus"}, "");
        auto ship_to = get_address(j, "address", true);
        std::vector<sku_id> skus;
        if (auto i = j.find("skus"); i != j.end() && !i->is_null()) {
          if (!i->is_array())
            invalid("skus", "must be an array of SKUs");
          if (i->size() > opts.max_lines)
            invalid("skus", "must have at most " +
                                std::to_string(opts.max_lines) + " SKUs");
          for (auto& s : *i) {
            if (!s.is_string())
              invalid("skus", "must be an array of SKUs");
            skus.push_back(s.get<std::string>());
          }
        }
        auto key = idempotency_key(c);
        return with_customer(
            c, cid, [self_ptr, c, ship_to, skus, key](customer_actor& cust) {
              self_ptr->ask<order_record>(
                  c, cust, self_ptr->respond<order_record>(c, 201),
                  atom::checkout_v, ship_to, skus, key);
            });
      }
      case rid::customer_orders: {
        auto q = parse_query(c->req.query, {"limit", "cursor"});
        auto cid = own_customer(c);
        auto limit = limit_param(q);
        auto cursor = q["cursor"];
        return with_customer(
            c, cid, [self_ptr, c, limit, cursor](customer_actor& cust) {
              self_ptr->ask<order_page>(c, cust,
                                        self_ptr->respond<order_page>(c, 200),
                                        atom::list_v, limit, cursor);
            });
      }
      case rid::order_create: {
        parse_query(c->req.query, {});
        auto j = body(c);
        only(j, {"customerId", "seller", "items", "address"}, "");
        customer_id cid;
        if (c->who.admin) {
          cid = *get_str(j, "customerId", true, 64);
        } else {
          cid = get_str(j, "customerId", false, 64).value_or(c->who.customer);
          // Another customer is answered as if it did not exist.
          if (cid != c->who.customer)
            throw bad_input{errc::not_found, "no customer " + cid,
                            json{{"customerId", cid}}};
        }
        if (!tokens.find(cid))
          throw bad_input{errc::not_found, "no customer " + cid,
                          json{{"customerId", cid}}};
        auto from = seller::internal;
        if (auto s = get_str(j, "seller", false, 16))
          from = parse_seller_field(*s, "seller");
        create_order_request req;
        req.customer = cid;
        req.items = get_lines(j, "items", true, from, opts.max_lines,
                              opts.max_quantity, true);
        req.ship_to = get_address(j, "address", true);
        auto key = idempotency_key(c);
        return with_customer(
            c, cid, [self_ptr, c, req, key](customer_actor& cust) {
              self_ptr->ask<order_record>(
                  c, cust, self_ptr->respond<order_record>(c, 201),
                  atom::create_v, req, key);
            });
      }
      case rid::order_get: {
        parse_query(c->req.query, {});
        return with_order(c, p[0], [self_ptr, c](order_record& rec) {
          self_ptr->reply(c, 200, json(rec));
        });
      }
      case rid::order_patch: {
        parse_query(c->req.query, {});
        auto j = body(c);
        only(j, {"status", "reason"}, "");
        auto status = *get_str(j, "status", true, 32);
        order_command cmd;
        cmd.reason = get_str(j, "reason", false, 200).value_or("");
        if (status == "CONFIRMED")
          cmd.kind = command_kind::confirm;
        else if (status == "SHIPPED")
          cmd.kind = command_kind::ship;
        else if (status == "FULFILLED" || status == "DELIVERED")
          cmd.kind = command_kind::deliver;
        else if (status == "CANCELLED")
          cmd.kind = command_kind::cancel;
        else if (status == "PAID")
          invalid("status", "PAID needs a payment: POST /v1/orders/{id}/pay");
        else
          invalid("status",
                  "must be CONFIRMED, SHIPPED, FULFILLED (or DELIVERED) or "
                  "CANCELLED");
        if (cmd.kind != command_kind::cancel && !c->who.admin)
          throw bad_input{errc::forbidden,
                          "only the admin may set status " + status};
        return apply_command(c, p[0], std::move(cmd));
      }
      case rid::order_confirm:
      case rid::order_ship:
      case rid::order_deliver: {
        parse_query(c->req.query, {});
        auto j = body(c, true);
        only(j, {"reason"}, "");
        order_command cmd;
        cmd.kind = id == rid::order_confirm ? command_kind::confirm
                   : id == rid::order_ship  ? command_kind::ship
                                            : command_kind::deliver;
        cmd.reason = get_str(j, "reason", false, 200).value_or("");
        return apply_command(c, p[0], std::move(cmd));
      }
      case rid::order_cancel: {
        parse_query(c->req.query, {});
        auto j = body(c, true);
        only(j, {"lines", "reason"}, "");
        order_command cmd;
        cmd.kind = command_kind::cancel;
        cmd.lines = get_lines(j, "lines", false, seller::internal,
                              opts.max_lines, opts.max_quantity, false);
        cmd.reason = get_str(j, "reason", false, 200).value_or("");
        return apply_command(c, p[0], std::move(cmd));
      }
      case rid::order_pay: {
        parse_query(c->req.query, {});
        auto j = body(c);
        only(j, {"amount", "paymentToken"}, "");
        auto amount = *get_int(j, "amount", true, 0, INT64_MAX / 4);
        auto token = get_str(j, "paymentToken", false, 200).value_or("");
        auto key = idempotency_key(c);
        auto oid = p[0];
        if (key.empty()) {
          order_command cmd;
          cmd.kind = command_kind::pay;
          cmd.amount = amount;
          cmd.token = token;
          return apply_command(c, oid, std::move(cmd));
        }
        // Keys are scoped to the order's customer.
        return with_order(
            c, oid, [self_ptr, c, oid, amount, token, key](order_record& rec) {
              self_ptr->with_customer(
                  c, rec.customer,
                  [self_ptr, c, oid, amount, token, key](customer_actor& cust) {
                    self_ptr->ask<order_record>(
                        c, cust, self_ptr->respond<order_record>(c, 200),
                        atom::pay_v, oid, amount, token, key);
                  });
            });
      }
      case rid::audit:
        parse_query(c->req.query, {});
        return ask<audit_report>(c, sup, respond<audit_report>(c, 200),
                                 atom::audit_v);
      case rid::wms_status: {
        parse_query(c->req.query, {});
        auto& gateway = oms.ctx()->wms;
        if (!gateway)
          return fail(c,
                      make_error(errc::wms_unavailable, "no WMS configured"));
        return ask<wms_gateway_stats>(
            c, gateway, respond<wms_gateway_stats>(c, 200), atom::stats_v);
      }
    }
  }

  void handle(http_request req, responder done) {
    auto c = std::make_shared<call>();
    c->started = steady::now();
    c->req = std::move(req);
    c->done = std::move(done);
    stats.in_flight_add(1);
    guarded(c, [&] { route(c); });
  }

  // Takes a request from `key`'s bucket; answers 429 with Retry-After and
  // returns true when the bucket is empty.
  bool over_limit(const call_ptr& c, const std::string& key,
                  const std::string& what) {
    auto wait = limiter.acquire(key, steady::now());
    if (wait == 0)
      return false;
    fail(c,
         make_error(errc::rate_limited,
                    what + "; retry in " + std::to_string(wait) + " s",
                    json{{"retryAfterSeconds", wait}}.dump()),
         {{"Retry-After", std::to_string(wait)}});
    return true;
  }

  void route(const call_ptr& c) {
    auto m = http::match_route(route_table, c->req.method,
                               http::split_path(c->req.path));
    const route_def* found = m.found() ? &route_table[m.index] : nullptr;
    if (found) {
      c->params = std::move(m.params);
      c->route = found->pattern;
    }
    auto& allow = m.allow;
    // While stopping, liveness and metrics still answer.
    if (draining && (found == nullptr || found->authenticated))
      return fail(c, make_error(errc::not_ready, "omsd is stopping"));
    if (found == nullptr) {
      if (!allow.empty())
        return fail(
            c,
            make_error(errc::method_not_allowed,
                       c->req.method + " is not allowed here; use " + allow),
            {{"Allow", allow}});
      return fail(c, not_found("route " + c->req.path));
    }
    if (found->authenticated) {
      auto& auth = c->req.authorization;
      constexpr std::string_view scheme = "Bearer ";
      std::optional<principal> who;
      if (auth.size() > scheme.size() &&
          std::equal(scheme.begin(), scheme.end(), auth.begin(),
                     [](char a, char b) {
                       return std::tolower(static_cast<unsigned char>(a)) ==
                              std::tolower(static_cast<unsigned char>(b));
                     }))
        who = tokens.authenticate(std::string_view{auth}.substr(scheme.size()));

      // Failed attempts share one bucket, so guessing tokens is throttled
      // as much as one token's traffic.
      if (!who &&
          over_limit(c, "unauthenticated", "too many unauthenticated requests"))
        return;
      if (!who)
        return fail(c,
                    make_error(errc::unauthorized,
                               auth.empty() ? "send Authorization: Bearer TOKEN"
                                            : "unknown or malformed token"),
                    {{"WWW-Authenticate", "Bearer"}});
      c->who = std::move(*who);

      if (over_limit(c, c->who.key, "too many requests for this token"))
        return;
      if (found->admin && !c->who.admin)
        return fail(
            c, make_error(errc::forbidden, "this route needs the admin token"));
    }
    if (c->req.body.size() > opts.max_body_bytes)
      return fail(c,
                  make_error(errc::payload_too_large,
                             "the body is larger than " +
                                 std::to_string(opts.max_body_bytes) + " bytes",
                             json{{"limit", opts.max_body_bytes}}.dump()));
    dispatch(c, found->id);
  }

  double start_time = std::chrono::duration<double>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
};

api::api(caf::actor_system& sys, order_system& oms, token_registry& tokens,
         metrics& stats, api_options opts)
    : d_(std::make_shared<impl>(sys, oms, tokens, stats, std::move(opts))) {}

api::~api() = default;

void api::handle(http_request req, responder done) {
  d_->handle(std::move(req), std::move(done));
}

std::vector<route_info> api::routes() {
  std::vector<route_info> result;
  for (auto& r : route_table)
    result.push_back({r.method, r.pattern, r.authenticated, r.admin});
  return result;
}

void api::drain() {
  d_->draining = true;
}

int64_t api::in_flight() const {
  return d_->stats.in_flight();
}

} // namespace oms::daemon
