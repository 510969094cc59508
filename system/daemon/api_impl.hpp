// Inside the JSON/HTTP API (system/daemon/api.hpp): one call per request,
// answered exactly once; actors are asked from short-lived actors, so no
// thread waits. system/daemon/api.cpp answers, routes and authenticates;
// api_stock_routes.cpp and api_order_routes.cpp hold the route handlers.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <nlohmann/json.hpp>

#include "actors/validation.hpp"
#include "messages/errors.hpp"
#include "messages/type_ids.hpp"
#include "system/daemon/api.hpp"
#include "system/daemon/auth.hpp"
#include "system/daemon/metrics.hpp"
#include "system/daemon/request_fields.hpp"
#include "system/daemon/webhooks.hpp"
#include "system/order_system.hpp"

namespace oms::daemon {

using steady = std::chrono::steady_clock;

/// Wall-clock milliseconds since the epoch.
int64_t now_ms();

/// 404 ORDER_NOT_FOUND for `id`, with the id in the details.
caf::error order_missing(const order_id& id);

/// An order as one order's answers show it: its fields and `actions`, the
/// commands its state machine takes now ("confirm", "pay", "ship",
/// "deliver", "cancel"; some need the admin token).
nlohmann::json order_json(const order_record& rec);

/// Sends a request from a short-lived actor; `ok` or `err` runs with the
/// reply, on an actor thread. An exception `ok` throws is answered as an
/// INTERNAL error through `err`.
template <class T, class Handle, class F, class G, class... Ts>
void request_then(caf::actor_system& sys, const Handle& dest,
                  caf::timespan timeout, F ok, G err, Ts... xs) {
  // CAF 0.17 dereferences an empty argument tuple when it starts a
  // function-based actor spawned without arguments (UBSan reports it), so
  // the actor takes a dummy argument.
  sys.spawn(
      [=](caf::event_based_actor* self, int) {
        self->request(dest, timeout, xs...)
            .then(
                [=](T& x) {
                  try {
                    ok(x);
                  } catch (const std::exception&) {
                    caf::error e = make_error(errc::internal,
                                              "the reply could not be handled");
                    err(e);
                  }
                },
                [=](caf::error& e) { err(e); });
      },
      0);
}

/// Runs `f` on an actor thread once `delay` has passed (from a
/// short-lived actor, with the same dummy argument as request_then's).
template <class F>
void run_after(caf::actor_system& sys, caf::timespan delay, F f) {
  sys.spawn(
      [=](caf::event_based_actor* self, int) -> caf::behavior {
        self->delayed_send(self, delay, int32_t{0});
        return {[=](int32_t) {
          self->quit();
          f();
        }};
      },
      0);
}

/// Adds to a NOT_OWNER's details (which name the shard) the node that owns
/// the shard now and where it serves HTTP, as this node's last tick saw
/// them (api_cluster.cpp); nothing if no live node holds it.
void add_owner_hint(const cluster::membership& m, nlohmann::json& details);

/// Who holds `shard` as `m`'s last tick saw it ("" if nobody), and whether
/// that is `m`'s own node.
std::pair<std::string, bool> holder_now(const cluster::membership& m,
                                        uint32_t shard);

/// The lease TTL of `m`'s cluster.
std::chrono::milliseconds lease_ttl(const cluster::membership& m);

/// A cluster node's figures for /metrics (api_cluster.cpp).
cluster_counters cluster_metrics(const cluster::membership& m,
                                 const cluster::peer_table* peers,
                                 const request_forwarder* forwarder);

struct api::impl : std::enable_shared_from_this<api::impl> {
  struct route_def;

  struct call {
    http_request req;
    responder done;
    std::string route = "unmatched";
    std::vector<std::string> params;
    principal who;
    /// The route matched, once admitted.
    const route_def* found = nullptr;
    /// Times it was sent to another node (forwarded_limit at most).
    int forwards = 0;
    /// A forward of it got no answer in time: the change may have been
    /// made, so no later NOT_OWNER may answer it as "nothing changed".
    bool unanswered = false;
    /// Until when it waits for a route to its shard's holder (set when it
    /// first could not be sent: await_route).
    std::optional<steady::time_point> route_deadline;
    steady::time_point started;
    std::atomic<bool> answered{false};
  };
  using call_ptr = std::shared_ptr<call>;
  using headers = std::vector<std::pair<std::string, std::string>>;

  /// One route: what it matches, who may call it and what answers it.
  struct route_def {
    const char* method;
    /// "/v1/orders/{id}/pay": braces mark path parameters.
    const char* pattern;
    bool authenticated;
    bool admin;
    void (impl::*handler)(const call_ptr&);
  };

  /// Every route, matched in order; every pattern is unique per method.
  static const std::vector<route_def>& routes();

  caf::actor_system& sys;
  order_system& oms;
  token_registry& tokens;
  metrics& stats;
  api_options opts;
  rate_limiter limiter;
  std::atomic<bool> draining{false};
  double start_time = std::chrono::duration<double>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();

  impl(caf::actor_system& sys, order_system& oms, token_registry& tokens,
       metrics& stats, api_options opts);

  /// The request limits the order system was configured with.
  const request_limits& limits() const { return oms.ctx()->settings.limits; }

  // -- answering (api.cpp) ----------------------------------------------------

  void finish(const call_ptr& c, http_response resp);
  // Answers `body` with `status` and the `extra` header fields (those with
  // an empty value left out).
  void reply(const call_ptr& c, int status, const json& body,
             headers extra = {});
  void fail(const call_ptr& c, caf::error err, headers extra = {});
  /// Forwards the call to `owner`'s region (the holder of `shard`, when
  /// known) and answers with what comes back; false if it could not be
  /// sent. Sent again, while the call has been sent fewer than
  /// forwarded_limit times: to the owner a 421 answer names, or after no
  /// answer came in time, to the shard's holder as the routing now knows
  /// it (or to this node's own handler, if it is the holder now) when the
  /// call is retry_safe.
  bool forward_to_owner(const call_ptr& c, const std::string& owner,
                        std::optional<uint32_t> shard);
  static constexpr int forwarded_limit = 2;
  /// A call for another node's shard that could not be sent (the holder's
  /// region not connected, or this node the holder and still loading the
  /// shard), or a retry_safe one whose forward got no answer while its
  /// owner still holds the shard: it waits for a route, asking the
  /// routing every route_poll until its route_deadline, and is sent to
  /// the shard's holder (never to `avoid`) once its region is connected,
  /// or run here once this node serves the shard. Past the deadline:
  /// `give_up` (421 NOT_OWNER for one never sent; 503 for one whose
  /// forward went unanswered). The wait: half the request timeout, at
  /// most three lease TTLs (a dead owner's shard taken and loaded
  /// meanwhile).
  void await_route(const call_ptr& c, uint32_t shard, const std::string& avoid,
                   std::function<void()> give_up);
  static constexpr std::chrono::milliseconds route_poll{100};
  /// A call that may be sent twice without being made twice: a read, or a
  /// change under an Idempotency-Key, which its owner keeps.
  static bool retry_safe(const call& c);
  void fail(const call_ptr& c, const bad_input& bad, headers extra = {});

  // Answers 500 INTERNAL with a fixed message after an exception; `what`,
  // which may name internals, goes to the log only.
  void internal_failure(const call_ptr& c, const char* what) noexcept;

  // Runs `f`, turning bad input into its error answer and any exception
  // (one thrown while answering bad input included) into 500 INTERNAL.
  // Never throws, so every request is answered and leaves the in-flight
  // count.
  template <class F>
  void guarded(const call_ptr& c, F&& f) noexcept {
    try {
      try {
        f();
      } catch (const bad_input& bad) {
        fail(c, bad);
      }
    } catch (const std::exception& e) {
      internal_failure(c, e.what());
    } catch (...) {
      internal_failure(c, "an exception of unknown type");
    }
  }

  // -- asking actors without blocking -----------------------------------------

  // Sends a request from a short-lived actor; `ok` or `on_error` runs when
  // the reply arrives, on an actor thread.
  template <class T, class Handle, class F, class G, class... Ts>
  void ask_or(const call_ptr& c, const Handle& dest, F ok, G on_error,
              Ts... xs) {
    ask_within<T>(c, dest, oms.ctx()->settings.request_timeout, std::move(ok),
                  std::move(on_error), std::move(xs)...);
  }

  // The same with a timeout of its own (a request that waits on purpose).
  template <class T, class Handle, class F, class G, class... Ts>
  void ask_within(const call_ptr& c, const Handle& dest,
                  std::chrono::milliseconds timeout, F ok, G on_error,
                  Ts... xs) {
    auto self_ptr = shared_from_this();
    request_then<T>(
        sys, dest, timeout, [=](T& x) { self_ptr->guarded(c, [&] { ok(x); }); },
        [=](caf::error& err) { self_ptr->guarded(c, [&] { on_error(err); }); },
        std::move(xs)...);
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

  // Answers a T with `status`; an order (with its actions) or a SKU goes
  // with its ETag.
  template <class T>
  auto respond(const call_ptr& c, int status) {
    auto self_ptr = shared_from_this();
    return [self_ptr, c, status](T& x) {
      if constexpr (std::is_same_v<T, order_record>)
        self_ptr->reply(c, status, order_json(x),
                        {{"ETag", etag_of(x.version)}});
      else if constexpr (std::is_same_v<T, stock_view>)
        self_ptr->reply(c, status, json(x), {{"ETag", etag_of(x.version)}});
      else
        self_ptr->reply(c, status, json(x));
    };
  }

  // The CUSTOMER actor of `id`, then `k`.
  template <class F>
  void with_customer(const call_ptr& c, const customer_id& id, F k) {
    ask<customer_actor>(c, oms.supervisor(), k, atom::customer_v, id);
  }

  // Asks the CUSTOMER actor of `id` for a T and answers it with `status`.
  template <class T, class... Ts>
  void ask_customer(const call_ptr& c, const customer_id& id, int status,
                    Ts... xs) {
    auto self_ptr = shared_from_this();
    with_customer(c, id, [self_ptr, c, status, xs...](customer_actor& cust) {
      self_ptr->ask<T>(c, cust, self_ptr->respond<T>(c, status), xs...);
    });
  }

  // The order, if the caller may see it (another customer's order answers
  // as if it did not exist).
  template <class F>
  void with_order(const call_ptr& c, const order_id& id, F k) {
    if (check_id("orderId", id, limits()))
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

  // -- request helpers (api.cpp) ----------------------------------------------

  // The request's body as a JSON object (read_body, the configured depth).
  json body(const call_ptr& c, bool allow_empty = false);
  std::string idempotency_key(const call_ptr& c);
  // The customer of a /v1/customers/{id}/... route, if the caller may act on
  // it: its own, or any existing one for the admin.
  customer_id own_customer(const call_ptr& c);
  /// A cluster keeps each customer's cart at one node, the one serving the
  /// shard of the customer's id: true there (and off a cluster); elsewhere
  /// fails the call NOT_OWNER, which sends it there.
  bool at_cart_home(const call_ptr& c, const customer_id& cid);

  // -- routing (api.cpp) ------------------------------------------------------

  http::body_sink begin(http_request head, responder done);
  // Takes a request from `key`'s bucket; answers 429 with Retry-After and
  // returns true when the bucket is empty.
  bool over_limit(const call_ptr& c, const std::string& key,
                  const std::string& what);
  // The caller of an authenticated route, or false when it was answered
  // (401, 403 or 429).
  bool authenticate(const call_ptr& c, const route_def& route);
  // What the request line and headers decide: true when the request may
  // go on to its handler once its body is in; false when it was answered.
  bool admit(const call_ptr& c);
  void inventory_holds(const call_ptr& c);
  /// Answers a request for the console's files (/console, /console/...):
  /// true if it was one (api_console.cpp).
  bool serve_console(const call_ptr& c);
  // With the body in (or not, as `outcome` says): the route's handler.
  void dispatch(const call_ptr& c, http::body_outcome outcome);
  // 413 PAYLOAD_TOO_LARGE, naming the limit.
  void too_large(const call_ptr& c);

  // -- health and stock (api_stock_routes.cpp) --------------------------------

  void healthz(const call_ptr& c);
  void readyz(const call_ptr& c);
  void metrics_text(const call_ptr& c);
  void send_metrics(const call_ptr& c, const journal_stats& js,
                    const wms_gateway_stats* wms);
  void inventory_receipt(const call_ptr& c);
  void inventory_change(const call_ptr& c);
  void inventory_get(const call_ptr& c);
  void inventory_price(const call_ptr& c);
  void inventory_list(const call_ptr& c);
  // Applies an inbound stock change (through the INBOX if it has an event
  // id) and answers it: as the inbox_result on /changes, as the StockView
  // with the outcome on /receipts.
  void apply_change(const call_ptr& c, const stock_change& ch,
                    bool change_route);
  void answer_change(const call_ptr& c, const stock_change& ch,
                     inbox_result res, bool change_route);
  void audit(const call_ptr& c);
  void wms_status(const call_ptr& c);
  // GET /v1/cluster (api_cluster.cpp).
  void cluster_status(const call_ptr& c);

  // -- the change feed (api_event_routes.cpp) ---------------------------------

  struct feed_read;
  class feed_stream;
  // -- webhooks (api_webhook_routes.cpp) --------------------------------------

  std::shared_ptr<webhook_dispatcher> hooks();
  void answer_hook(const call_ptr& c, int status, caf::expected<json> result);
  // The answer of a change, once the dispatcher journaled it (204: no
  // body).
  std::function<void(caf::expected<json>)> hook_answer(const call_ptr& c,
                                                       int status);
  void webhook_create(const call_ptr& c);
  void webhook_list(const call_ptr& c);
  void webhook_get(const call_ptr& c);
  void webhook_patch(const call_ptr& c);
  void webhook_delete(const call_ptr& c);
  void webhook_rotate(const call_ptr& c);
  void webhook_deliveries(const call_ptr& c);
  void webhook_retry(const call_ptr& c);

  /// Event streams open now (GET /v1/events as text/event-stream).
  std::atomic<int> feed_streams{0};
  /// Long polls of the change feed waiting for an event now.
  std::atomic<int> feed_polls{0};
  void events_list(const call_ptr& c);
  // The same as Server-Sent Events, from the request's cursor or its
  // Last-Event-ID.
  void events_stream(const call_ptr& c, const feed_read& r);
  void event_types(const call_ptr& c);
  // One step of reading the feed: waits for events past the cursor (as long
  // as the read may still wait), reads a slice of the log and keeps what
  // passes the filter; answers once the page is full, the log is read to
  // its end with something found, or the wait is over.
  void feed_step(const call_ptr& c, std::shared_ptr<feed_read> r);
  void feed_scan(const call_ptr& c, std::shared_ptr<feed_read> r,
                 uint64_t last);
  void feed_answer(const call_ptr& c, const feed_read& r);

  // -- customers, carts and orders (api_order_routes.cpp) ---------------------

  void customer_create(const call_ptr& c);
  void customer_get(const call_ptr& c);
  void cart_get(const call_ptr& c);
  void cart_put(const call_ptr& c);
  void cart_delete(const call_ptr& c);
  void cart_checkout(const call_ptr& c);
  void customer_orders(const call_ptr& c);
  void order_create(const call_ptr& c);
  // GET /v1/orders: the admin search, from the store's indexed tables.
  void order_search(const call_ptr& c);
  void order_get(const call_ptr& c);
  void order_patch(const call_ptr& c);
  void order_confirm(const call_ptr& c);
  void order_ship(const call_ptr& c);
  void order_shipment(const call_ptr& c);
  void return_request(const call_ptr& c);
  void return_receive(const call_ptr& c);
  void return_inspect(const call_ptr& c);
  void return_reject(const call_ptr& c);
  // Sends a step of a return of order `id` and answers the return with
  // `status` (the request's: the one under its key, else the newest).
  void return_step_to(const call_ptr& c, const order_id& id, return_command cmd,
                      int status);
  void order_deliver(const call_ptr& c);
  // confirm, ship and deliver: an optional reason, then the command.
  void order_step(const call_ptr& c, command_kind kind);
  void order_cancel(const call_ptr& c);
  void order_pay(const call_ptr& c);
  void apply_command(const call_ptr& c, const order_id& id, order_command cmd);
};

} // namespace oms::daemon
