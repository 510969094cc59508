#include "system/daemon/api.hpp"

#include <algorithm>
#include <cctype>
#include <optional>

#include <caf/sec.hpp>

#include "actors/order_machine.hpp"
#include "messages/json.hpp"
#include "system/daemon/api_impl.hpp"
#include "system/daemon/cluster_node.hpp"
#include "system/http/route.hpp"
#include "system/http/utf8.hpp"
#include "system/log.hpp"

namespace oms::daemon {

namespace {

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
    case errc::conflict:
    case errc::return_window_closed:
      return 409;
    case errc::events_expired:
      return 410;
    case errc::precondition_failed:
      return 412;
    case errc::payload_too_large:
      return 413;
    case errc::not_owner:
      return 421;
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

// The name parameter `index` of `pattern` goes by in details.field: as in
// bodies, "{id}" after "/orders" is orderId, after "/customers" customerId;
// any other keeps its name ("{sku}": sku).
std::string param_field(std::string_view pattern, size_t index) {
  auto parts = http::split_path(pattern);
  size_t seen = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    auto& part = parts[i];
    if (part.size() < 2 || part.front() != '{' || seen++ != index)
      continue;
    auto name = part.substr(1, part.size() - 2);
    if (name != "id" || i == 0)
      return name;
    auto owner = parts[i - 1];
    if (!owner.empty() && owner.back() == 's')
      owner.pop_back();
    return owner + "Id";
  }
  return "path";
}

// The routes whose change checks If-Match (the order's or the SKU's actor
// does).
bool takes_if_match(std::string_view pattern) {
  return pattern.rfind("/v1/orders/{id}", 0) == 0 ||
         pattern.rfind("/v1/inventory/{sku}", 0) == 0;
}

} // namespace

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch())
      .count();
}

json order_json(const order_record& rec) {
  json j;
  to_json(j, rec);
  auto& actions = j["actions"] = json::array();
  for (auto cmd : {command_kind::confirm, command_kind::pay, command_kind::ship,
                   command_kind::deliver, command_kind::cancel})
    if (check_command(rec, cmd) == errc::none)
      actions.push_back(to_string(cmd));
  return j;
}

caf::error order_missing(const order_id& id) {
  return make_error(errc::order_not_found, "no order " + id,
                    dump(json{{"orderId", id}}));
}

const std::vector<api::impl::route_def>& api::impl::routes() {
  using i = impl;
  static const std::vector<route_def> table = {
      {"GET", "/healthz", false, false, &i::healthz},
      {"GET", "/readyz", false, false, &i::readyz},
      {"GET", "/metrics", false, false, &i::metrics_text},
      {"POST", "/v1/inventory/{sku}/receipts", true, true,
       &i::inventory_receipt},
      {"POST", "/v1/inventory/{sku}/changes", true, true, &i::inventory_change},
      {"GET", "/v1/inventory/{sku}", true, false, &i::inventory_get},
      {"GET", "/v1/inventory/{sku}/holds", true, true, &i::inventory_holds},
      {"PATCH", "/v1/inventory/{sku}", true, true, &i::inventory_price},
      {"GET", "/v1/inventory", true, false, &i::inventory_list},
      {"POST", "/v1/customers", true, true, &i::customer_create},
      {"GET", "/v1/customers/{id}", true, false, &i::customer_get},
      {"GET", "/v1/customers/{id}/cart", true, false, &i::cart_get},
      {"PUT", "/v1/customers/{id}/cart/items/{sku}", true, false, &i::cart_put},
      {"DELETE", "/v1/customers/{id}/cart/items/{sku}", true, false,
       &i::cart_delete},
      {"POST", "/v1/customers/{id}/cart/checkout", true, false,
       &i::cart_checkout},
      {"GET", "/v1/customers/{id}/orders", true, false, &i::customer_orders},
      {"POST", "/v1/orders", true, false, &i::order_create},
      {"GET", "/v1/orders", true, true, &i::order_search},
      {"GET", "/v1/orders/{id}", true, false, &i::order_get},
      {"PATCH", "/v1/orders/{id}", true, false, &i::order_patch},
      {"POST", "/v1/orders/{id}/confirm", true, true, &i::order_confirm},
      {"POST", "/v1/orders/{id}/pay", true, false, &i::order_pay},
      {"POST", "/v1/orders/{id}/ship", true, true, &i::order_ship},
      {"POST", "/v1/orders/{id}/shipments", true, true, &i::order_shipment},
      {"POST", "/v1/orders/{id}/returns", true, false, &i::return_request},
      {"POST", "/v1/orders/{id}/returns/{rid}/receive", true, true,
       &i::return_receive},
      {"POST", "/v1/orders/{id}/returns/{rid}/inspect", true, true,
       &i::return_inspect},
      {"POST", "/v1/orders/{id}/returns/{rid}/reject", true, true,
       &i::return_reject},
      {"POST", "/v1/orders/{id}/deliver", true, true, &i::order_deliver},
      {"POST", "/v1/orders/{id}/cancel", true, false, &i::order_cancel},
      {"GET", "/v1/audit", true, true, &i::audit},
      {"GET", "/v1/wms", true, true, &i::wms_status},
      {"GET", "/v1/cluster", true, true, &i::cluster_status},
      {"GET", "/v1/events", true, true, &i::events_list},
      {"GET", "/v1/events/types", true, true, &i::event_types},
      {"POST", "/v1/webhooks", true, true, &i::webhook_create},
      {"GET", "/v1/webhooks", true, true, &i::webhook_list},
      {"GET", "/v1/webhooks/{id}", true, true, &i::webhook_get},
      {"PATCH", "/v1/webhooks/{id}", true, true, &i::webhook_patch},
      {"DELETE", "/v1/webhooks/{id}", true, true, &i::webhook_delete},
      {"POST", "/v1/webhooks/{id}/rotate", true, true, &i::webhook_rotate},
      {"GET", "/v1/webhooks/{id}/deliveries", true, true,
       &i::webhook_deliveries},
      {"POST", "/v1/webhooks/{id}/deliveries/{delivery}/retry", true, true,
       &i::webhook_retry},
  };
  return table;
}

api::impl::impl(caf::actor_system& sys, order_system& oms,
                token_registry& tokens, metrics& stats, api_options opts)
    : sys(sys),
      oms(oms),
      tokens(tokens),
      stats(stats),
      opts(std::move(opts)),
      limiter(this->opts.rate_limit, this->opts.rate_burst) {}

// -- answering ---------------------------------------------------------------

void api::impl::finish(const call_ptr& c, http_response resp) {
  if (c->answered.exchange(true))
    return;
  auto elapsed =
      std::chrono::duration<double>(steady::now() - c->started).count();
  if (draining)
    resp.close = true;
  stats.observe(c->route, c->req.method, resp.status, elapsed);
  auto level = resp.status >= 500 ? log::level::warn : log::level::info;
  log::write(level, "http.request",
             {{"method", c->req.method},
              {"path", c->req.path},
              {"route", c->route},
              {"status", resp.status},
              {"ms", elapsed * 1000.0},
              {"who", c->who.admin ? std::string{"admin"} : c->who.customer}});
  // Counted out before the answer goes, so that whoever has the answer
  // (a client, a test, the drain at SIGTERM) never sees it still in flight.
  stats.in_flight_add(-1);
  try {
    c->done(std::move(resp));
  } catch (...) {
    // The answer did not go out, so the request is still unanswered: the
    // handler of the exception (guarded) answers it 500 INTERNAL.
    stats.in_flight_add(1);
    c->answered = false;
    throw;
  }
}

void api::impl::internal_failure(const call_ptr& c, const char* what) noexcept {
  log::error("http.exception", {{"method", c->req.method},
                                {"path", c->req.path},
                                {"route", c->route},
                                {"error", what}});
  http_response resp;
  resp.status = 500;
  resp.body = R"({"error":{"code":"INTERNAL","message":"internal error: )"
              R"(the request failed inside omsd; its log has the )"
              R"(details","details":{}}})";
  try {
    finish(c, std::move(resp));
  } catch (...) {
    // Not even this answer went out: the connection is past helping, and
    // the request leaves the in-flight count all the same.
    log::error("http.answer_failed",
               {{"method", c->req.method}, {"path", c->req.path}});
    if (!c->answered.exchange(true))
      stats.in_flight_add(-1);
  }
}

void api::impl::reply(const call_ptr& c, int status, const json& body,
                      headers extra) {
  http_response resp;
  resp.status = status;
  resp.body = dump(body);
  for (auto& field : extra)
    if (!field.second.empty())
      resp.headers.push_back(std::move(field));
  finish(c, std::move(resp));
}

void api::impl::fail(const call_ptr& c, caf::error err, headers extra) {
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
  if (code == errc::not_owner && c->unanswered) {
    // A NOT_OWNER after a forward that got no answer: that forward may
    // have made the change.
    code = errc::unavailable;
    message = "the request was forwarded to its shard's owner and no answer "
              "came in time; the change may still be made: read before "
              "retrying, or retry with the same Idempotency-Key";
  }
  if (code == errc::not_owner && opts.cluster != nullptr)
    add_owner_hint(*opts.cluster, details);
  if (code == errc::internal)
    log::error("http.internal_error",
               {{"path", c->req.path}, {"error", describe(err)}});
  http_response resp;
  resp.status = status_of(code);
  resp.body = dump(json{
      {"error",
       {{"code", to_code(code)}, {"message", message}, {"details", details}}}});
  resp.headers = std::move(extra);
  // A client's request for another node's shard goes to that node, whose
  // answer is this one's; one that cannot be sent yet waits for a route.
  std::optional<uint32_t> shard;
  if (details.contains("shard") && details["shard"].is_number_unsigned())
    shard = details["shard"].get<uint32_t>();
  if (code == errc::not_owner && shard && opts.cluster != nullptr &&
      !draining) {
    auto self = shared_from_this();
    auto refusal = std::make_shared<http_response>(std::move(resp));
    auto refuse = [self, c, refusal] {
      self->finish(c, std::move(*refusal));
    };
    if (!c->req.forwarded_from.empty()) {
      // Forwarded here by a node that took this one for the holder: if it
      // is (still loading the shard), the request waits here (it is never
      // forwarded again).
      if (holder_now(*opts.cluster, *shard).second) {
        await_route(c, *shard, "", refuse);
        return;
      }
    } else if (opts.forwarder != nullptr && c->forwards < forwarded_limit) {
      if (details.contains("owner") && details["owner"].is_string() &&
          forward_to_owner(c, details["owner"].get<std::string>(), shard))
        return;
      // Not sent (no holder known, or its region not connected): nothing
      // was done. The 421 if no route comes.
      await_route(c, *shard, "", refuse);
      return;
    }
    refuse();
    return;
  }
  finish(c, std::move(resp));
}

void api::impl::fail(const call_ptr& c, const bad_input& bad, headers extra) {
  fail(c, make_error(bad.code, bad.message, dump(bad.details)),
       std::move(extra));
}

// -- request helpers ---------------------------------------------------------

json api::impl::body(const call_ptr& c, bool allow_empty) {
  return read_body(c->req.body, allow_empty, limits().json_depth_max);
}

std::string api::impl::idempotency_key(const call_ptr& c) {
  auto& key = c->req.idempotency_key;
  if (key.size() > 255)
    invalid("Idempotency-Key", "must be at most 255 bytes");
  for (auto ch : key)
    if (ch < 0x21 || ch > 0x7e)
      invalid("Idempotency-Key", "must be printable ASCII without spaces");
  return key;
}

customer_id api::impl::own_customer(const call_ptr& c) {
  auto& id = c->params[0];
  if (c->who.admin ? !tokens.find(id).has_value() : id != c->who.customer)
    throw bad_input{errc::not_found, "no customer " + id,
                    json{{"customerId", id}}};
  return id;
}

// -- routing -----------------------------------------------------------------

http::body_sink api::impl::begin(http_request head, responder done) {
  auto c = std::make_shared<call>();
  c->started = steady::now();
  c->req = std::move(head);
  c->done = std::move(done);
  stats.in_flight_add(1);
  bool admitted = false;
  guarded(c, [&] { admitted = admit(c); });
  if (!admitted)
    return {};
  return [self = shared_from_this(), c](std::string body,
                                        http::body_outcome outcome) {
    c->req.body = std::move(body);
    self->guarded(c, [&] { self->dispatch(c, outcome); });
  };
}

bool api::impl::over_limit(const call_ptr& c, const std::string& key,
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

bool api::impl::authenticate(const call_ptr& c, const route_def& found) {
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

  // Failed attempts share one bucket, so guessing tokens is throttled as
  // much as one token's traffic.
  if (!who &&
      over_limit(c, "unauthenticated", "too many unauthenticated requests"))
    return false;
  if (!who) {
    fail(c,
         make_error(errc::unauthorized, auth.empty()
                                            ? "send Authorization: Bearer TOKEN"
                                            : "unknown or malformed token"),
         {{"WWW-Authenticate", "Bearer"}});
    return false;
  }
  c->who = std::move(*who);

  if (over_limit(c, c->who.key, "too many requests for this token"))
    return false;
  if (found.admin && !c->who.admin) {
    fail(c, make_error(errc::forbidden, "this route needs the admin token"));
    return false;
  }
  return true;
}

bool api::impl::admit(const call_ptr& c) {
  if (serve_console(c))
    return false;
  auto m =
      http::match_route(routes(), c->req.method, http::split_path(c->req.path));
  const route_def* found = m.found() ? &routes()[m.index] : nullptr;
  if (found) {
    c->params = std::move(m.params);
    c->route = found->pattern;
  }
  // While stopping, liveness and metrics still answer.
  if (draining && (found == nullptr || found->authenticated)) {
    fail(c, make_error(errc::not_ready, "omsd is stopping"));
    return false;
  }
  if (found == nullptr) {
    if (!m.allow.empty())
      fail(c,
           make_error(errc::method_not_allowed,
                      c->req.method + " is not allowed here; use " + m.allow),
           {{"Allow", m.allow}});
    else
      fail(c, make_error(errc::not_found, "no route " + c->req.path));
    return false;
  }
  if (found->authenticated && !authenticate(c, *found))
    return false;
  if (c->req.content_length &&
      *c->req.content_length > limits().body_bytes_max) {
    too_large(c);
    return false;
  }
  c->found = found;
  return true;
}

void api::impl::too_large(const call_ptr& c) {
  auto max_body = limits().body_bytes_max;
  fail(c, make_error(errc::payload_too_large,
                     "the body is larger than " + std::to_string(max_body) +
                         " bytes",
                     json{{"limit", max_body}}.dump()));
}

void api::impl::dispatch(const call_ptr& c, http::body_outcome outcome) {
  switch (outcome) {
    case http::body_outcome::read:
      break;
    case http::body_outcome::too_large:
      return too_large(c);
    case http::body_outcome::no_memory:
      return fail(c,
                  make_error(errc::unavailable,
                             "omsd is reading too many request bodies at "
                             "once; retry in 1 s"),
                  {{"Retry-After", "1"}});
    case http::body_outcome::incomplete:
      invalid("body", "ended early or was malformed (chunked encoding)");
  }
  if (c->req.body.size() > limits().body_bytes_max)
    return too_large(c);
  // The parameters are bytes of the request line as sent: bytes that are
  // not UTF-8 can be no id, nor be named back in an answer.
  for (size_t i = 0; i < c->params.size(); ++i)
    if (!http::valid_utf8(c->params[i]))
      invalid(param_field(c->found->pattern, i), "must be valid UTF-8");
  // A change guarded by If-Match where nothing checks it would be made
  // unguarded: refused instead.
  if (!c->req.if_match.empty() && c->req.method != "GET" &&
      !takes_if_match(c->found->pattern))
    invalid("If-Match", "this route does not take If-Match: only the "
                        "changes of an order or a SKU do");
  (this->*(c->found->handler))(c);
}

// -- the API -----------------------------------------------------------------

api::api(caf::actor_system& sys, order_system& oms, token_registry& tokens,
         metrics& stats, api_options opts)
    : d_(std::make_shared<impl>(sys, oms, tokens, stats, std::move(opts))) {}

api::~api() = default;

void api::handle(http_request req, responder done) {
  auto body = std::move(req.body);
  if (auto sink = d_->begin(std::move(req), std::move(done)))
    sink(std::move(body), http::body_outcome::read);
}

http::body_sink api::begin(http_request head, responder done) {
  return d_->begin(std::move(head), std::move(done));
}

std::vector<route_info> api::routes() {
  std::vector<route_info> result;
  for (auto& r : impl::routes())
    result.push_back({r.method, r.pattern, r.authenticated, r.admin});
  return result;
}

void api::drain() {
  d_->draining = true;
  // Long polls and event streams stop waiting for events.
  caf::anon_send(d_->oms.journal(), atom::await_v);
}

int64_t api::in_flight() const {
  return d_->stats.in_flight();
}

} // namespace oms::daemon
