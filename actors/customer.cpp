// The CUSTOMER actor's behaviour: its idempotency keys (those in flight in
// memory, the finished ones read from the store) and its orders
// (created, checked out from the cart, paid, listed). The cart is
// customer_cart.cpp.
#include "actors/customer.hpp"

#include <functional>

#include <nlohmann/json.hpp>

#include "actors/customer_steps.hpp"
#include "actors/fingerprint.hpp"
#include "actors/validation.hpp"
#include "messages/type_ids.hpp"
#include "system/log.hpp"

namespace oms {

namespace customer_steps {

timestamp_ms now(customer_ptr self) {
  return self->state.ctx->now(self->clock());
}

caf::error invalid(std::string_view field, std::string message) {
  return make_error(errc::validation_failed, std::move(message),
                    field_details(field));
}

caf::error moving_is_unavailable(caf::error err) {
  if (code_of(err) != errc::not_owner)
    return err;
  return make_error(errc::unavailable,
                    "a SKU of the cart is on a shard that is changing hands "
                    "or whose node cannot be reached now; retry");
}

} // namespace customer_steps

using namespace customer_steps;

namespace {

using record_callback = std::function<void(caf::expected<order_record>)>;

// -- idempotency --------------------------------------------------------------

caf::error key_reused(const std::string& key) {
  nlohmann::json details{{"idempotencyKey", key}};
  return make_error(errc::idempotency_key_reused,
                    "the idempotency key was used with a different request",
                    details.dump());
}

// Ends the key's time in memory: every request waiting on it gets `res`.
void finish_key(customer_ptr self, const std::string& key,
                const caf::expected<order_record>& res) {
  auto& keys = self->state.keys;
  auto i = keys.find(key);
  if (i == keys.end())
    return;
  auto waiting = std::move(i->second.waiting);
  keys.erase(i);
  for (auto& p : waiting) {
    if (res)
      p.deliver(*res);
    else
      p.deliver(res.error());
  }
}

// Runs `run` at most once per (key, fingerprint): a repeat gets the stored
// result, a repeat while the first is in flight waits for it, another
// request under the same key is refused. A failed run changed nothing, so
// its key is released and a retry runs again.
//
// Only keys in flight are kept in memory. A finished key lives in the store,
// journaled with the result it guards, so a key is first looked up there
// (one primary-key read): memory does not grow with the keys of the window
// (a day by default, two per paid order), and a restart forgets none.
caf::result<order_record> idempotent(customer_ptr self, const std::string& key,
                                     const std::string& fingerprint,
                                     std::function<void(record_callback)> run) {
  // A promise takes over the reply: make one only where the reply comes
  // later, never before returning a value or an error directly.
  if (key.empty()) {
    auto rp = self->make_response_promise<order_record>();
    run([rp](caf::expected<order_record> res) mutable {
      if (res)
        rp.deliver(std::move(*res));
      else
        rp.deliver(res.error());
    });
    return rp;
  }
  auto& keys = self->state.keys;
  if (auto i = keys.find(key); i != keys.end()) {
    if (i->second.fingerprint != fingerprint)
      return key_reused(key);
    auto rp = self->make_response_promise<order_record>();
    i->second.waiting.push_back(rp);
    return rp;
  }
  auto rp = self->make_response_promise<order_record>();
  auto& entry = keys[key];
  entry.fingerprint = fingerprint;
  entry.waiting.push_back(rp);
  self->request(self->state.ctx->journal_reads, caf::infinite, atom::lookup_v,
                self->state.id, key)
      .then(
          [self, key, fingerprint, run](std::vector<key_state>& found) {
            auto horizon = now(self) -
                           self->state.ctx->settings.idempotency_window.count();
            if (!found.empty() && found.front().at >= horizon) {
              auto& stored = found.front();
              if (stored.fingerprint != fingerprint)
                finish_key(self, key, key_reused(key));
              else
                finish_key(self, key, std::move(stored.response));
              return;
            }
            // New, or older than the window: forgotten, so it runs again.
            run([self, key](caf::expected<order_record> res) {
              finish_key(self, key, res);
            });
          },
          [self, key](caf::error& err) {
            // Without the store's answer the request could run twice:
            // refuse it (a retry asks again).
            log::error(
                "customer.key_unavailable",
                {{"customer", self->state.id}, {"error", describe(err)}});
            finish_key(self, key, err);
          });
  return rp;
}

// Whether nothing of this customer is under way or kept in memory only:
// an empty cart, no live order's handle, no keyed request in flight.
bool at_rest(const customer_state& st) {
  return st.cart.empty() && st.handles.empty() && st.keys.empty();
}

// Ends the actor if it was idle for the whole purge interval and is at rest;
// else runs again after the interval.
void release_if_idle(customer_ptr self) {
  auto& st = self->state;
  if (!st.active && at_rest(st)) {
    log::debug("customer.released", {{"customer", st.id}});
    self->quit();
    return;
  }
  st.active = false;
  self->delayed_send(caf::actor_cast<customer_actor>(self),
                     st.ctx->settings.customer_idle_timeout, atom::purge_v);
}

// -- orders -------------------------------------------------------------------

// Keeps the handle of a new order's actor while the actor lives.
void remember_order(customer_ptr self, const order_id& id,
                    const order_actor& handle) {
  if (!handle)
    return;
  auto& st = self->state;
  if (!st.handles.emplace(id, handle).second)
    return;
  st.order_of.emplace(handle.address(), id);
  self->monitor(handle);
}

void forget_order(customer_ptr self, const order_id& id) {
  auto& st = self->state;
  auto i = st.handles.find(id);
  if (i == st.handles.end())
    return;
  self->demonitor(i->second.address());
  st.order_of.erase(i->second.address());
  st.handles.erase(i);
}

// Creates the order through the SUPERVISOR; `route`: made by the node of
// its first line's shard when that is another node (a checkout), else
// refused NOT_OWNER there (a request the API sends to that node itself).
void create_order(customer_ptr self, create_order_request req,
                  record_callback done, bool route) {
  self->request(self->state.supervisor, caf::infinite, atom::create_v,
                std::move(req), route)
      .then(
          [self, done](created_order& created) {
            remember_order(self, created.record.id, created.handle);
            done(std::move(created.record));
          },
          [done](caf::error& err) { done(std::move(err)); });
}

// Sends a command to one of this customer's orders: straight to its actor if
// the handle is known, through the SUPERVISOR otherwise (or if the actor has
// ended meanwhile).
void command_order(customer_ptr self, const order_id& id, order_command cmd,
                   record_callback done) {
  cmd.customer = self->state.id;
  auto via_supervisor = [self, id, cmd, done] {
    self->request(self->state.supervisor, caf::infinite, atom::apply_v, id, cmd)
        .then([done](order_record& rec) { done(std::move(rec)); },
              [done](caf::error& err) { done(std::move(err)); });
  };
  auto i = self->state.handles.find(id);
  if (i == self->state.handles.end()) {
    via_supervisor();
    return;
  }
  auto msg = to_order_message(std::move(cmd));
  if (!msg) {
    done(std::move(msg.error()));
    return;
  }
  request_order(self, i->second, caf::infinite, std::move(*msg))
      .then(
          [self, id, done](order_record& rec) {
            if (is_terminal(rec.status))
              forget_order(self, id);
            done(std::move(rec));
          },
          [self, id, done, via_supervisor](caf::error& err) {
            if (err == caf::sec::request_receiver_down) {
              forget_order(self, id);
              via_supervisor();
              return;
            }
            done(std::move(err));
          });
}

// createOrder under idempotency key `key`.
caf::result<order_record> create_with_key(customer_ptr self,
                                          create_order_request& req,
                                          std::string& key) {
  if (auto msg = check_idempotency_key(key); !msg.empty())
    return invalid("Idempotency-Key", msg);
  if (req.customer != self->state.id)
    return invalid("customerId", "customerId does not match the customer");
  req.idempotency_key = key;
  req.fingerprint = fingerprint_of(req);
  auto fp = req.fingerprint;
  return idempotent(self, key, fp, [self, req](record_callback done) mutable {
    create_order(self, std::move(req), std::move(done), false);
  });
}

// A checkout's order that the customer's home node has this node make:
// under the key and fingerprint it gave, checked here as any key.
caf::result<order_record> create_for_home(customer_ptr self,
                                          create_order_request& req) {
  if (req.customer != self->state.id)
    return invalid("customerId", "customerId does not match the customer");
  auto key = req.idempotency_key;
  auto fp = req.fingerprint;
  return idempotent(self, key, fp, [self, req](record_callback done) mutable {
    create_order(self, std::move(req), std::move(done), false);
  });
}

// Pays order `id` under idempotency key `key`.
caf::result<order_record> pay_with_key(customer_ptr self, const order_id& id,
                                       money amount, std::string& token,
                                       std::string& key, uint64_t if_version) {
  if (auto msg = check_idempotency_key(key); !msg.empty())
    return invalid("Idempotency-Key", msg);
  auto fp = fingerprint_of("pay|" + std::to_string(id.size()) + ":" + id + "|" +
                           std::to_string(amount) + "|" + token);
  order_command cmd;
  cmd.kind = command_kind::pay;
  cmd.amount = amount;
  cmd.token = token;
  cmd.client_key = key;
  cmd.fingerprint = fp;
  cmd.if_version = if_version;
  return idempotent(self, key, fp, [self, id, cmd](record_callback done) {
    command_order(self, id, cmd, std::move(done));
  });
}

// The seller a checkout orders from: the one given, or the only one the
// cart has lines of (an order is of one seller). VALIDATION_FAILED (field
// seller) if the cart has lines of both and none was given.
caf::expected<seller> checkout_seller(const cart_lines& cart, seller from,
                                      bool given) {
  if (given || cart.empty())
    return from;
  auto first = cart.front().from;
  for (auto& line : cart)
    if (line.from != first)
      return invalid("seller",
                     "the cart holds lines of both sellers and an order is of "
                     "one: name the seller to check out");
  return first;
}

// NOT_OWNER when this node does not serve the shard of the customer's id
// now (a cluster): the cart is kept by the node that does (docs/cluster.md,
// "Carts"), and a request that reached this actor late is sent there rather
// than change a cart this node forgets.
caf::error cart_elsewhere(customer_ptr self) {
  auto& st = self->state;
  if (!st.ctx->shards)
    return caf::none;
  auto shard = st.ctx->shards->shard_of(st.id);
  if (st.ctx->shards->serves(shard))
    return caf::none;
  return shard_map::not_owner(shard, "customerId", st.id);
}

caf::result<order_record> checkout(customer_ptr self, address ship_to,
                                   std::vector<sku_id> skus, std::string key,
                                   seller from, bool seller_given) {
  auto& st = self->state;
  if (auto msg = check_idempotency_key(key); !msg.empty())
    return invalid("Idempotency-Key", msg);
  // The fingerprint covers what the client asked (address, which SKUs, the
  // seller if named), not the cart's content, which the first checkout
  // changes.
  create_order_request shape{st.id, {}, ship_to, key, ""};
  for (auto& sku : skus)
    shape.items.push_back({sku, 0, from});
  auto fp = fingerprint_of("checkout|" + std::string{seller_given ? "s" : ""} +
                           to_string(from) + "|" + fingerprint_of(shape));
  return idempotent(self, key, fp, [=](record_callback done) {
    auto& st = self->state;
    // The shard moved while the key was looked up: nothing was taken yet.
    if (auto moved = cart_elsewhere(self)) {
      done(std::move(moved));
      return;
    }
    auto chosen = checkout_seller(st.cart, from, seller_given);
    if (!chosen) {
      done(chosen.error());
      return;
    }
    // Which lines of that seller: all, or the SKUs given (each must be in
    // the cart).
    std::vector<order_item> items;
    if (skus.empty()) {
      for (auto& line : st.cart)
        if (line.from == *chosen)
          items.push_back({line.sku, line.quantity, line.from});
    } else {
      for (size_t i = 0; i < skus.size(); ++i) {
        auto line = find_line(st.cart, *chosen, skus[i]);
        if (line == st.cart.end()) {
          done(invalid("skus[" + std::to_string(i) + "]",
                       "skus[" + std::to_string(i) + "] " + skus[i] +
                           of_seller(*chosen) + " is not in the cart"));
          return;
        }
        items.push_back({line->sku, line->quantity, line->from});
      }
    }
    if (items.empty()) {
      done(make_error(errc::cart_empty, "the cart is empty"));
      return;
    }
    create_order_request req{st.id, std::move(items), ship_to, key, fp};
    // The ordered units leave the cart now, before the order exists: a
    // second checkout arriving meanwhile finds them gone, so a cart's lines
    // are ordered at most once. A failed checkout puts them back.
    auto taken = take_from_cart(self->state.cart, req.items);
    auto cart = self->state.carts_forgotten;
    // A cart's first line may be on another node's shard (a cluster's
    // carts are kept by the customer's home node): that node makes it.
    create_order(
        self, req,
        [self, taken, cart, done](caf::expected<order_record> res) {
          if (res) {
            done(std::move(res));
            return;
          }
          if (self->state.carts_forgotten == cart)
            put_back_in_cart(self->state.cart, taken);
          done(moving_is_unavailable(res.error()));
        },
        true);
  });
}

// -- listing ------------------------------------------------------------------

caf::result<order_page> list_orders(customer_ptr self, uint32_t limit,
                                    const std::string& cursor) {
  auto& st = self->state;
  if (limit == 0)
    limit = 20;
  if (limit > 100)
    return invalid("limit", "limit must be between 1 and 100");
  // The cursor counts the orders already listed, newest first.
  uint64_t skip = 0;
  if (!cursor.empty()) {
    if (cursor.rfind("o", 0) != 0 || cursor.size() < 2 ||
        cursor.find_first_not_of("0123456789", 1) != std::string::npos ||
        cursor.size() > 12)
      return invalid("cursor", "cursor is not one this server handed out");
    skip = std::stoull(cursor.substr(1));
  }
  auto rp = self->make_response_promise<order_page>();
  // One more than asked tells whether another page follows.
  self->request(st.ctx->journal_reads, st.ctx->settings.request_timeout,
                atom::list_v, st.id, skip, uint64_t{limit} + 1)
      .then(
          [rp, skip, limit](std::vector<order_record>& records) mutable {
            order_page page;
            if (records.size() > limit) {
              records.resize(limit);
              page.next_cursor = "o" + std::to_string(skip + limit);
            }
            page.orders = std::move(records);
            rp.deliver(std::move(page));
          },
          [rp](caf::error& err) mutable { rp.deliver(err); });
  return rp;
}

// The cart priced now.
caf::result<cart_view> view_cart(customer_ptr self) {
  auto rp = self->make_response_promise<cart_view>();
  deliver_view(self, rp);
  return rp;
}

} // namespace

customer_actor::behavior_type customer(customer_ptr self, customer_id id,
                                       context_ptr ctx,
                                       supervisor_actor supervisor) {
  self->state.id = std::move(id);
  self->state.ctx = std::move(ctx);
  self->state.supervisor = std::move(supervisor);
  // An order's actor ends with its order (or a restart): its handle goes.
  self->set_down_handler([=](caf::down_msg& msg) {
    auto& st = self->state;
    if (auto i = st.order_of.find(msg.source); i != st.order_of.end()) {
      st.handles.erase(i->second);
      st.order_of.erase(i);
    }
  });
  auto me = caf::actor_cast<customer_actor>(self);
  self->delayed_send(me, self->state.ctx->settings.customer_idle_timeout,
                     atom::purge_v);
  return {
      // Replies the cart priced now (a SKU that does not answer is priced
      // 0). Errors: VALIDATION_FAILED if its total would not fit in money.
      [=](atom::get) -> caf::result<cart_view> {
        self->state.active = true;
        if (auto moved = cart_elsewhere(self))
          return moved;
        return view_cart(self);
      },
      // Replies the cart with the line set to `qty`. Errors:
      // VALIDATION_FAILED (also for a total that would not fit in money),
      // UNKNOWN_SKU, INSUFFICIENT_STOCK, WMS_UNAVAILABLE.
      [=](atom::put, const sku_id& sku, int64_t qty,
          seller from) -> caf::result<cart_view> {
        self->state.active = true;
        if (auto moved = cart_elsewhere(self))
          return moved;
        return change_line(self, sku, from, qty, false);
      },
      // Replies the cart with `qty` added to the line; errors as put.
      [=](atom::add, const sku_id& sku, int64_t qty,
          seller from) -> caf::result<cart_view> {
        self->state.active = true;
        if (auto moved = cart_elsewhere(self))
          return moved;
        return change_line(self, sku, from, qty, true);
      },
      // Replies the cart without the line. Errors: VALIDATION_FAILED (not in
      // the cart, or the rest's total would not fit in money).
      [=](atom::remove, const sku_id& sku,
          seller from) -> caf::result<cart_view> {
        self->state.active = true;
        if (auto moved = cart_elsewhere(self))
          return moved;
        return remove_line(self, sku, from);
      },
      // Replies the order placed from the cart. Errors: VALIDATION_FAILED,
      // CART_EMPTY, IDEMPOTENCY_KEY_REUSED, those of the SUPERVISOR's create.
      [=](atom::checkout, address& ship_to, std::vector<sku_id>& skus,
          std::string& key, seller from,
          bool seller_given) -> caf::result<order_record> {
        self->state.active = true;
        if (auto moved = cart_elsewhere(self))
          return moved;
        return checkout(self, std::move(ship_to), std::move(skus),
                        std::move(key), from, seller_given);
      },
      // Replies the order created. Errors: VALIDATION_FAILED,
      // IDEMPOTENCY_KEY_REUSED, those of the SUPERVISOR's create.
      [=](atom::create, create_order_request& req, std::string& key) {
        self->state.active = true;
        return create_with_key(self, req, key);
      },
      [=](atom::create, create_order_request& req, atom::forward) {
        self->state.active = true;
        return create_for_home(self, req);
      },
      // Replies the order paid. Errors: VALIDATION_FAILED,
      // IDEMPOTENCY_KEY_REUSED, ORDER_NOT_FOUND, those of the order's pay.
      [=](atom::pay, const order_id& id, money amount, std::string& token,
          std::string& key, uint64_t if_version) {
        self->state.active = true;
        return pay_with_key(self, id, amount, token, key, if_version);
      },
      // Replies a page of the customer's orders, newest first. Errors:
      // VALIDATION_FAILED (limit or cursor), the journal's.
      [=](atom::list, uint32_t limit, const std::string& cursor) {
        self->state.active = true;
        return list_orders(self, limit, cursor);
      },
      // Timer: end if idle (see customer_state::active).
      [=](atom::purge) { release_if_idle(self); },
      // The customer's shard moved to another node, which keeps the cart.
      [=](atom::disown) {
        auto& st = self->state;
        ++st.carts_forgotten;
        st.cart.clear();
        st.skus.clear();
      },
  };
}

} // namespace oms
