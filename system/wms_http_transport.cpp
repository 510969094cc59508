#include "system/wms_http_transport.hpp"

#include <algorithm>
#include <memory>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>
#include <nlohmann/json.hpp>

#include "actors/wms_answers.hpp"
#include "messages/type_ids.hpp"

namespace oms {

namespace {

std::string reservation_path(const wms_call& x) {
  return "/reservations/" + client::url_encode(x.reservation);
}

} // namespace

wms_http_request wms_request_of(const wms_call& x) {
  switch (x.op) {
    case wms_op::read_inventory:
      return {"GET", "/inventory/" + client::url_encode(x.sku), {}};
    case wms_op::reserve: {
      nlohmann::json body{
          {"id", x.reservation}, {"sku", x.sku}, {"quantity", x.quantity}};
      return {"POST", "/reservations", body.dump()};
    }
    case wms_op::block:
      return {"POST", reservation_path(x) + "/block", "{}"};
    case wms_op::ship:
      return {"POST", reservation_path(x) + "/ship", "{}"};
    case wms_op::release:
      return {"DELETE", reservation_path(x), {}};
    case wms_op::reduce:
      return {"POST", reservation_path(x) + "/reduce",
              nlohmann::json{{"quantity", x.quantity}}.dump()};
    case wms_op::return_receive: {
      nlohmann::json body{{"id", x.return_id},
                          {"reservation", x.reservation},
                          {"quantity", x.quantity}};
      return {"POST", "/returns", body.dump()};
    }
    case wms_op::return_restock:
    case wms_op::return_damaged: {
      nlohmann::json body{
          {x.op == wms_op::return_restock ? "restock" : "damaged", x.quantity}};
      return {"POST",
              "/returns/" + client::url_encode(x.return_id) + "/inspect",
              body.dump()};
    }
    default: {
      std::string path = "/events?";
      if (!x.cursor.empty())
        path += "after=" + client::url_encode(x.cursor) + "&";
      path += "limit=" + std::to_string(x.limit);
      return {"GET", std::move(path), {}};
    }
  }
}

wms_response wms_response_of(const client::http_result& x) {
  wms_response r;
  r.status = static_cast<int32_t>(x.status);
  if (x.status == 0) {
    r.body = x.error.empty() ? "no answer" : x.error;
    return r;
  }
  r.body = x.body;
  r.retry_after_ms = wms_retry_after_ms(x.header("Retry-After"), x.body);
  return r;
}

namespace {

struct wms_http_worker_state {
  std::unique_ptr<client::http_client> http;

  static inline const char* name = "wms_http_worker";
};

// One connection; blocks in its own thread (spawned detached).
wms_transport_actor::behavior_type wms_http_worker(
    wms_transport_actor::stateful_pointer<wms_http_worker_state> self,
    std::string base_url, std::chrono::milliseconds timeout) {
  self->state.http =
      std::make_unique<client::http_client>(std::move(base_url), "", timeout);
  return {
      [=](atom::call, const wms_call& call) {
        auto req = wms_request_of(call);
        return wms_response_of(
            self->state.http->request(req.method, req.path, req.body));
      },
  };
}

struct wms_http_front_state {
  std::vector<wms_transport_actor> workers;
  std::vector<size_t> outstanding;
  size_t next = 0;

  static inline const char* name = "wms_http_transport";
};

wms_transport_actor::behavior_type
wms_http_front(wms_transport_actor::stateful_pointer<wms_http_front_state> self,
               std::string base_url, std::chrono::milliseconds timeout,
               size_t connections) {
  auto& st = self->state;
  for (size_t i = 0; i < std::max<size_t>(connections, 1); ++i)
    st.workers.push_back(self->spawn<caf::detached + caf::linked>(
        wms_http_worker, base_url, timeout));
  st.outstanding.assign(st.workers.size(), 0);
  return {
      [=](atom::call, wms_call& call) -> caf::result<wms_response> {
        auto& st = self->state;
        // The least busy worker, the round-robin one among equals: a worker
        // stuck on a slow request does not collect more.
        auto n = st.workers.size();
        auto k = st.next;
        for (size_t j = 1; j < n; ++j) {
          auto c = (st.next + j) % n;
          if (st.outstanding[c] < st.outstanding[k])
            k = c;
        }
        st.next = (k + 1) % n;
        ++st.outstanding[k];
        auto rp = self->make_response_promise<wms_response>();
        self->request(st.workers[k], caf::infinite, atom::call_v,
                      std::move(call))
            .then(
                [=](wms_response& r) mutable {
                  --self->state.outstanding[k];
                  rp.deliver(std::move(r));
                },
                [=](caf::error& err) mutable {
                  --self->state.outstanding[k];
                  rp.deliver(wms_response{0, self->system().render(err), 0});
                });
        return rp;
      },
  };
}

} // namespace

wms_transport_actor spawn_wms_http_transport(caf::actor_system& sys,
                                             std::string base_url,
                                             std::chrono::milliseconds timeout,
                                             size_t connections) {
  return sys.spawn(wms_http_front, std::move(base_url), timeout, connections);
}

} // namespace oms
