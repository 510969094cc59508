// A call for another node's shard (api_impl.hpp): forwarded to its owner's
// region, sent again where the routing says the shard went, or held until
// a route appears.
#include <algorithm>
#include <optional>

#include "system/daemon/api_impl.hpp"
#include "system/daemon/cluster_node.hpp"

namespace oms::daemon {

void api::impl::await_route(const call_ptr& c, uint32_t shard,
                            const std::string& avoid,
                            std::function<void()> give_up) {
  auto now = steady::now();
  if (!c->route_deadline) {
    auto wait = std::min<std::chrono::milliseconds>(
        oms.ctx()->settings.request_timeout / 2, 3 * lease_ttl(*opts.cluster));
    c->route_deadline = now + wait;
  }
  if (now >= *c->route_deadline || draining) {
    give_up();
    return;
  }
  auto self = shared_from_this();
  run_after(sys, route_poll, [self, c, shard, avoid, give_up] {
    self->guarded(c, [&] {
      if (self->draining) {
        give_up();
        return;
      }
      auto [holder, mine] = holder_now(*self->opts.cluster, shard);
      if (mine && self->oms.ctx()->shards &&
          self->oms.ctx()->shards->serves(shard)) {
        // Taken and loaded here meanwhile.
        ++c->forwards;
        (self.get()->*(c->found->handler))(c);
        return;
      }
      // (Asked first, so that the polls do not count as unroutable.)
      if (!holder.empty() && !mine && holder != avoid &&
          c->req.forwarded_from.empty() &&
          self->opts.forwarder->routable(holder) &&
          self->forward_to_owner(c, holder, shard))
        return;
      self->await_route(c, shard, avoid, give_up);
    });
  });
}

bool api::impl::retry_safe(const call& c) {
  if (c.req.method == "GET" || c.req.method == "HEAD")
    return true;
  if (c.req.idempotency_key.empty() || c.found == nullptr)
    return false;
  auto h = c.found->handler;
  return h == &impl::order_create || h == &impl::cart_checkout ||
         h == &impl::order_pay || h == &impl::order_shipment ||
         h == &impl::return_request;
}

bool api::impl::forward_to_owner(const call_ptr& c, const std::string& owner,
                                 std::optional<uint32_t> shard) {
  auto self = shared_from_this();
  std::optional<customer_record> caller;
  if (!c->who.customer.empty())
    caller = tokens.find(c->who.customer);
  ++c->forwards;
  auto sent = opts.forwarder->forward(
      owner, c->req, std::move(caller),
      [self, c, owner, shard](std::optional<http_response> answer) {
        if (!answer) {
          // No answer in time: the owner may be gone and the shard moved
          // meanwhile. A call that may be sent twice goes to the holder as
          // the routing knows it now.
          c->unanswered = true;
          // Sent, but not answered in time: the owner may have made the
          // change (not a 421, which says nothing was changed).
          auto unavailable = [self, c, owner] {
            self->fail(c,
                       make_error(errc::unavailable,
                                  "the request was forwarded to node " + owner +
                                      ", which owns its shard, and no "
                                      "answer came in time; the change "
                                      "may still be made: read before "
                                      "retrying, or retry with the same "
                                      "Idempotency-Key"));
          };
          if (shard && c->forwards < forwarded_limit && retry_safe(*c) &&
              self->opts.cluster != nullptr && !self->draining) {
            auto [holder, mine] = holder_now(*self->opts.cluster, *shard);
            if (!holder.empty() && holder != owner && !mine &&
                self->forward_to_owner(c, holder, shard))
              return;
            // Served here (this node took the shard and loaded it) at the
            // next poll; or wait for the shard to move, or to be served
            // here.
            self->await_route(c, *shard, owner, unavailable);
            return;
          }
          unavailable();
          return;
        }
        // The shard moved on the way: once more, to the owner it names.
        if (answer->status == 421 && c->forwards < forwarded_limit) {
          auto body = json::parse(answer->body, nullptr, false);
          auto details = body.is_object() && body.contains("error") &&
                                 body["error"].is_object() &&
                                 body["error"].contains("details") &&
                                 body["error"]["details"].is_object()
                             ? body["error"]["details"]
                             : json::object();
          auto next = details.contains("owner") && details["owner"].is_string()
                          ? details["owner"].get<std::string>()
                          : std::string{};
          if (!next.empty() && next != owner &&
              self->forward_to_owner(c, next, shard))
            return;
          // Not "nothing changed" after an earlier forward went unanswered.
          if (c->unanswered) {
            self->fail(c, make_error(errc::not_owner, "moved on the way"));
            return;
          }
        }
        answer->headers.emplace_back("Oms-Forwarded-To", owner);
        self->finish(c, std::move(*answer));
      });
  if (!sent)
    --c->forwards; // not sent: the region is not connected
  return sent;
}

} // namespace oms::daemon
