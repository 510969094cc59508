#include "system/cluster/region.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <utility>

#include <caf/event_based_actor.hpp>
#include <caf/io/middleman.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "messages/errors.hpp"
#include "messages/type_ids.hpp"

namespace oms::cluster {

std::optional<std::pair<std::string, uint16_t>>
split_host_port(const std::string& address) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size())
    return std::nullopt;
  auto digits = address.substr(colon + 1);
  if (digits.size() > 5 ||
      digits.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  auto port = std::stoul(digits);
  if (port == 0 || port > 65535)
    return std::nullopt;
  auto host = address.substr(0, colon);
  // [::1]:7000
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  return std::make_pair(host, static_cast<uint16_t>(port));
}

namespace {

// A peer's change of a SKU this node serves, handed to its SUPERVISOR
// (made here or refused: never routed again), which answers it;
// UNAVAILABLE while the node serves nothing.
template <class Result, class... Ts>
caf::result<Result> at_own_supervisor(region_actor::pointer self,
                                      const std::shared_ptr<forward_slot>& slot,
                                      Ts&&... xs) {
  auto sup = slot ? slot->holds() : supervisor_actor{};
  if (!sup)
    return make_error(errc::unavailable,
                      "the owner is not serving requests now");
  auto rp = self->make_response_promise<Result>();
  self->request(sup, caf::infinite, std::forward<Ts>(xs)...)
      .then([rp](Result& res) mutable { rp.deliver(std::move(res)); },
            [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
  return rp;
}

// What a peer is handed for a SKU of this node's: a reader of its stock,
// which asks the SKU's actor atom::get and nothing else, and ends when the
// SKU's actor does (the peer then asks for the SKU again). It asks in its
// own name and answers itself: a delegated request would be answered by
// the SKU's actor, whose address the peer would then see as the sender.
// Anything else is refused quietly (a peer's, not a bug here).
stock_reader_actor::behavior_type stock_proxy(stock_reader_actor::pointer self,
                                              stock_reader_actor sku_actor) {
  self->monitor(sku_actor);
  self->set_down_handler([self](const caf::down_msg&) { self->quit(); });
  self->set_default_handler(caf::drop);
  return {
      [self, sku_actor](atom::get) -> caf::result<stock_view> {
        auto rp = self->make_response_promise<stock_view>();
        self->request(sku_actor, caf::infinite, atom::get_v)
            .then(
                [rp](stock_view& v) mutable { rp.deliver(std::move(v)); },
                [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
        return rp;
      },
  };
}

// The proxies handed out, one per SKU while its actor runs (keyed by the
// SKU's actor, so a restarted SKU gets a new one), and the SKU of each.
struct stock_proxies {
  std::map<caf::actor_addr, stock_reader_actor> of_sku;
  std::map<caf::actor_addr, caf::actor_addr> sku_of;
};

region_actor::behavior_type region(region_actor::pointer self, std::string node,
                                   std::function<uint64_t()> owned,
                                   std::shared_ptr<forward_slot> slot) {
  auto proxies = std::make_shared<stock_proxies>();
  self->set_down_handler([proxies](const caf::down_msg& dm) {
    auto i = proxies->sku_of.find(dm.source);
    if (i == proxies->sku_of.end())
      return;
    proxies->of_sku.erase(i->second);
    proxies->sku_of.erase(i);
  });
  return {
      [node, owned](atom::ping,
                    const std::string&) -> caf::result<std::string, uint64_t> {
        return {node, owned()};
      },
      [slot](atom::offer, const std::string& peer, const caf::actor& region) {
        if (slot && region)
          slot->offer(peer, caf::actor_cast<region_actor>(region));
      },
      [self, slot](atom::forward,
                   forwarded_request& fr) -> caf::result<forwarded_response> {
        auto serve = slot ? slot->get() : forward_server{};
        if (!serve) {
          forwarded_response r;
          r.status = 503;
          r.content_type = "application/json";
          r.cache_control = "no-store";
          r.body = R"({"error":{"code":"NOT_READY","message":")"
                   R"(the owner is not serving requests now","details":{}}})";
          return r;
        }
        auto rp = self->make_response_promise<forwarded_response>();
        serve(std::move(fr),
              [rp](forwarded_response r) mutable { rp.deliver(std::move(r)); });
        return rp;
      },
      [self, slot](atom::hold, sku_id& sku, hold_change& change) {
        return at_own_supervisor<hold_outcome>(
            self, slot, atom::hold_v, std::move(sku), std::move(change), false);
      },
      [self, slot](atom::apply, stock_change& change) {
        return at_own_supervisor<inbox_result>(self, slot, atom::apply_v,
                                               std::move(change));
      },
      [self, slot, proxies](atom::find_sku, sku_id& sku,
                            seller from) -> caf::result<stock_reader_actor> {
        auto sup = slot ? slot->holds() : supervisor_actor{};
        if (!sup)
          return make_error(errc::unavailable,
                            "the owner is not serving requests now");
        auto rp = self->make_response_promise<stock_reader_actor>();
        self->request(sup, caf::infinite, atom::find_sku_v, std::move(sku),
                      from, false)
            .then(
                [self, rp, proxies](stock_reader_actor& sku_actor) mutable {
                  auto& proxy = proxies->of_sku[sku_actor.address()];
                  if (!proxy) {
                    proxy = self->spawn(stock_proxy, sku_actor);
                    self->monitor(proxy);
                    proxies->sku_of[proxy.address()] = sku_actor.address();
                  }
                  rp.deliver(proxy);
                },
                [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
        return rp;
      },
      [self, slot](atom::create,
                   create_order_request& req) -> caf::result<created_order> {
        auto sup = slot ? slot->holds() : supervisor_actor{};
        if (!sup)
          return make_error(errc::unavailable,
                            "the owner is not serving requests now");
        // Made by the customer's actor here, under the home's key: an
        // attempt the home gave up on (no answer in time) and its retry
        // make one order. The order's actor stays this node's: the peer
        // reaches the order through its SUPERVISOR, as any other.
        auto rp = self->make_response_promise<created_order>();
        auto customer = req.customer;
        self->request(sup, caf::infinite, atom::customer_v, customer)
            .then(
                [self, rp, req](customer_actor& cust) mutable {
                  self->request(cust, caf::infinite, atom::create_v,
                                std::move(req), atom::forward_v)
                      .then(
                          [rp](order_record& rec) mutable {
                            rp.deliver(
                                created_order{std::move(rec), order_actor{}});
                          },
                          [rp](caf::error& err) mutable {
                            rp.deliver(std::move(err));
                          });
                },
                [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
        return rp;
      },
  };
}

} // namespace

void forward_slot::set(forward_server serve) {
  std::lock_guard<std::mutex> guard{mtx_};
  serve_ = std::move(serve);
}

forward_server forward_slot::get() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return serve_;
}

void forward_slot::set_holds(supervisor_actor sup) {
  std::lock_guard<std::mutex> guard{mtx_};
  holds_ = std::move(sup);
}

supervisor_actor forward_slot::holds() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return holds_;
}

void forward_slot::offer(const std::string& node, region_actor region) {
  std::lock_guard<std::mutex> guard{mtx_};
  // Bounded: a peer names itself (a node id is at most 64 characters, a
  // cluster far fewer than offers_max nodes).
  if (node.empty() || node.size() > 64 ||
      (offers_.size() >= offers_max && offers_.count(node) == 0))
    return;
  offers_[node] = std::move(region);
}

region_actor forward_slot::take_offer(const std::string& node) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = offers_.find(node);
  if (i == offers_.end())
    return {};
  auto region = std::move(i->second);
  offers_.erase(i);
  return region;
}

region_actor spawn_region(caf::actor_system& sys, std::string node,
                          std::function<uint64_t()> owned,
                          std::shared_ptr<forward_slot> slot) {
  // A function with arguments, not a lambda with none: CAF 0.17 spawns the
  // latter by dereferencing an empty pointer to its (empty) arguments,
  // which UBSan reports.
  return sys.spawn(region, std::move(node), std::move(owned), std::move(slot));
}

} // namespace oms::cluster
