#include "actors/customer.hpp"

#include <algorithm>
#include <functional>
#include <memory>

#include <nlohmann/json.hpp>

#include "actors/fingerprint.hpp"
#include "actors/validation.hpp"
#include "messages/type_ids.hpp"
#include "system/log.hpp"

namespace oms {

namespace {

using customer_ptr = customer_actor::stateful_pointer<customer_state>;
using record_callback = std::function<void(caf::expected<order_record>)>;
using record_promise = caf::typed_response_promise<order_record>;

timestamp_ms now(customer_ptr self) {
  return self->state.ctx->now(self->clock());
}

caf::error invalid(std::string message) {
  return make_error(errc::validation_failed, std::move(message));
}

auto find_line(customer_ptr self, const sku_id& sku) {
  auto& cart = self->state.cart;
  return std::find_if(cart.begin(), cart.end(),
                      [&](const auto& line) { return line.first == sku; });
}

// -- idempotency --------------------------------------------------------------

// Runs `run` at most once per (key, fingerprint): a repeat gets the stored
// result, a repeat while the first is in flight waits for it, another
// request under the same key is refused. A failed run changed nothing, so
// its key is released and a retry runs again.
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
    auto& entry = i->second;
    if (entry.fingerprint != fingerprint) {
      nlohmann::json details{{"idempotencyKey", key}};
      return make_error(errc::idempotency_key_reused,
                        "the idempotency key was used with a different "
                        "request",
                        details.dump());
    }
    if (entry.done)
      return entry.result;
    auto rp = self->make_response_promise<order_record>();
    entry.waiting.push_back(rp);
    return rp;
  }
  auto rp = self->make_response_promise<order_record>();
  auto& entry = keys[key];
  entry.fingerprint = fingerprint;
  entry.at = now(self);
  entry.waiting.push_back(rp);
  run([self, key](caf::expected<order_record> res) {
    auto& keys = self->state.keys;
    auto i = keys.find(key);
    if (i == keys.end())
      return;
    auto waiting = std::move(i->second.waiting);
    if (res) {
      i->second.done = true;
      i->second.result = *res;
      for (auto& p : waiting)
        p.deliver(*res);
    } else {
      keys.erase(i);
      for (auto& p : waiting)
        p.deliver(res.error());
    }
  });
  return rp;
}

// -- orders -------------------------------------------------------------------

void create_order(customer_ptr self, create_order_request req,
                  record_callback done) {
  self->request(self->state.supervisor, caf::infinite, atom::create_v,
                std::move(req))
      .then(
          [self, done](created_order& created) {
            auto& st = self->state;
            st.handles.emplace(created.record.id, created.handle);
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
              self->state.handles.erase(id);
            done(std::move(rec));
          },
          [self, id, done, via_supervisor](caf::error& err) {
            if (err == caf::sec::request_receiver_down) {
              self->state.handles.erase(id);
              via_supervisor();
              return;
            }
            done(std::move(err));
          });
}

// -- cart ---------------------------------------------------------------------

// Prices every line now and delivers the view.
void deliver_view(customer_ptr self,
                  caf::typed_response_promise<cart_view> rp) {
  auto& st = self->state;
  struct fan_in {
    size_t outstanding;
    cart_view view;
  };
  auto acc = std::make_shared<fan_in>();
  acc->view.customer = st.id;
  for (auto& [sku, qty] : st.cart)
    acc->view.lines.push_back(cart_line{sku, qty, 0, 0, 0});
  acc->outstanding = acc->view.lines.size();
  if (acc->outstanding == 0) {
    rp.deliver(acc->view);
    return;
  }
  auto arrive = [acc, rp]() mutable {
    if (--acc->outstanding > 0)
      return;
    acc->view.total = 0;
    for (auto& line : acc->view.lines) {
      line.line_total = line.quantity * line.unit_price;
      acc->view.total += line.line_total;
    }
    rp.deliver(std::move(acc->view));
  };
  for (size_t i = 0; i < acc->view.lines.size(); ++i) {
    auto h = st.skus.find(acc->view.lines[i].sku);
    if (h == st.skus.end()) {
      arrive();
      continue;
    }
    self->request(h->second, st.ctx->settings.request_timeout, atom::get_v)
        .then(
            [acc, i, arrive](stock_view& v) mutable {
              acc->view.lines[i].unit_price = v.unit_price;
              acc->view.lines[i].available = v.available;
              arrive();
            },
            [arrive](caf::error&) mutable { arrive(); });
  }
}

// Sets the cart's quantity of `sku` to `quantity` (or adds `quantity` to it)
// once the SKU's available stock covers the result. Handles nothing else
// meanwhile, so the check and the change are one step.
caf::result<cart_view> change_line(customer_ptr self, const sku_id& sku,
                                   int64_t quantity, bool add) {
  auto& st = self->state;
  auto& limits = st.ctx->settings.limits;
  if (auto p = check_id("sku", sku, limits))
    return invalid(p->message);
  if (quantity < 1 || quantity > limits.line_quantity_max)
    return invalid("quantity must be between 1 and " +
                   std::to_string(limits.line_quantity_max));
  auto line = find_line(self, sku);
  if (line == st.cart.end() &&
      st.cart.size() >= st.ctx->settings.cart_lines_max)
    return invalid("the cart holds at most " +
                   std::to_string(st.ctx->settings.cart_lines_max) + " lines");
  auto rp = self->make_response_promise<cart_view>();
  auto ctx = st.ctx;
  auto with_handle = [=](inventory_actor handle) {
    self->request(handle, ctx->settings.request_timeout, atom::get_v)
        .await(
            [=](stock_view& v) mutable {
              auto& cart = self->state.cart;
              auto line = find_line(self, sku);
              int64_t current = line == cart.end() ? 0 : line->second;
              int64_t wanted = add ? current + quantity : quantity;
              if (wanted > self->state.ctx->settings.limits.line_quantity_max) {
                rp.deliver(invalid(
                    "quantity must be between 1 and " +
                    std::to_string(
                        self->state.ctx->settings.limits.line_quantity_max)));
                return;
              }
              if (wanted > v.available) {
                nlohmann::json details{{"skus",
                                        {{{"sku", sku},
                                          {"requested", wanted},
                                          {"available", v.available}}}}};
                rp.deliver(make_error(errc::insufficient_stock,
                                      "only " + std::to_string(v.available) +
                                          " of " + sku + " available",
                                      details.dump()));
                return;
              }
              if (line == cart.end())
                cart.emplace_back(sku, wanted);
              else
                line->second = wanted;
              deliver_view(self, rp);
            },
            [=](caf::error& err) mutable { rp.deliver(err); });
  };
  if (auto h = st.skus.find(sku); h != st.skus.end()) {
    with_handle(h->second);
    return rp;
  }
  self->request(st.supervisor, caf::infinite, atom::find_sku_v, sku)
      .await(
          [=](inventory_actor& handle) {
            self->state.skus.emplace(sku, handle);
            with_handle(handle);
          },
          [=](caf::error& err) mutable { rp.deliver(err); });
  return rp;
}

// Units taken out of the cart for a checkout in flight, with where each
// line stood, so that a failed checkout puts them back where they were.
struct taken_line {
  size_t position;
  sku_id sku;
  int64_t quantity;
};

std::vector<taken_line> take_from_cart(cart_lines& cart,
                                       const std::vector<order_item>& items) {
  std::vector<taken_line> taken;
  for (auto& item : items) {
    auto line = std::find_if(cart.begin(), cart.end(), [&](const auto& l) {
      return l.first == item.sku;
    });
    if (line == cart.end())
      continue;
    auto quantity = std::min(line->second, item.quantity);
    taken.push_back(taken_line{static_cast<size_t>(line - cart.begin()),
                               item.sku, quantity});
    line->second -= quantity;
  }
  cart.erase(std::remove_if(cart.begin(), cart.end(),
                            [](const auto& l) { return l.second <= 0; }),
             cart.end());
  return taken;
}

void put_back_in_cart(cart_lines& cart, const std::vector<taken_line>& taken) {
  for (auto& t : taken) {
    auto line = std::find_if(cart.begin(), cart.end(),
                             [&](const auto& l) { return l.first == t.sku; });
    if (line != cart.end())
      line->second += t.quantity; // the customer added more meanwhile
    else
      cart.insert(cart.begin() + static_cast<std::ptrdiff_t>(
                                     std::min(t.position, cart.size())),
                  {t.sku, t.quantity});
  }
}

caf::result<order_record> checkout(customer_ptr self, address ship_to,
                                   std::vector<sku_id> skus, std::string key) {
  auto& st = self->state;
  if (auto msg = check_idempotency_key(key); !msg.empty())
    return invalid(msg);
  // The fingerprint covers what the client asked (address, which SKUs), not
  // the cart's content, which the first checkout changes.
  create_order_request shape{st.id, {}, ship_to, key, ""};
  for (auto& sku : skus)
    shape.items.push_back({sku, 0, seller::internal});
  auto fp = fingerprint_of("checkout|" + fingerprint_of(shape));
  return idempotent(self, key, fp, [=](record_callback done) {
    auto& st = self->state;
    // Which lines: all, or the SKUs given (each must be in the cart).
    std::vector<order_item> items;
    if (skus.empty()) {
      for (auto& [sku, qty] : st.cart)
        items.push_back({sku, qty, seller::internal});
    } else {
      for (size_t i = 0; i < skus.size(); ++i) {
        auto line = find_line(self, skus[i]);
        if (line == st.cart.end()) {
          done(invalid("skus[" + std::to_string(i) + "] " + skus[i] +
                       " is not in the cart"));
          return;
        }
        items.push_back({line->first, line->second, seller::internal});
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
    create_order(self, req,
                 [self, taken, done](caf::expected<order_record> res) {
                   if (!res)
                     put_back_in_cart(self->state.cart, taken);
                   done(std::move(res));
                 });
  });
}

// -- listing ------------------------------------------------------------------

caf::result<order_page> list_orders(customer_ptr self, uint32_t limit,
                                    const std::string& cursor) {
  auto& st = self->state;
  if (limit == 0)
    limit = 20;
  if (limit > 100)
    return invalid("limit must be between 1 and 100");
  // The cursor counts the orders already listed, newest first.
  uint64_t skip = 0;
  if (!cursor.empty()) {
    if (cursor.rfind("o", 0) != 0 || cursor.size() < 2 ||
        cursor.find_first_not_of("0123456789", 1) != std::string::npos ||
        cursor.size() > 12)
      return invalid("cursor is not one this server handed out");
    skip = std::stoull(cursor.substr(1));
  }
  auto rp = self->make_response_promise<order_page>();
  // One more than asked tells whether another page follows.
  self->request(st.ctx->journal, st.ctx->settings.request_timeout, atom::list_v,
                st.id, skip, uint64_t{limit} + 1)
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

} // namespace

customer_actor::behavior_type customer(customer_ptr self, customer_id id,
                                       context_ptr ctx,
                                       supervisor_actor supervisor) {
  self->state.id = std::move(id);
  self->state.ctx = std::move(ctx);
  self->state.supervisor = std::move(supervisor);
  auto me = caf::actor_cast<customer_actor>(self);
  self->delayed_send(me, self->state.ctx->settings.idempotency_purge_interval,
                     atom::purge_v);
  // The keys this customer used within the window come from the store
  // before the first request is handled (a restart must not forget them).
  auto since = now(self) - self->state.ctx->settings.idempotency_window.count();
  self->request(self->state.ctx->journal, caf::infinite, atom::lookup_v,
                self->state.id, since)
      .await(
          [=](std::vector<key_state>& keys) {
            for (auto& k : keys) {
              auto& entry = self->state.keys[k.key];
              entry.fingerprint = std::move(k.fingerprint);
              entry.at = k.at;
              entry.done = true;
              entry.result = std::move(k.response);
            }
          },
          [=](caf::error& err) {
            // Without its keys the customer could run a retried request twice:
            // refuse to serve rather than guess.
            log::error(
                "customer.keys_unavailable",
                {{"customer", self->state.id}, {"error", describe(err)}});
            self->quit(err);
          });
  return {
      [=](atom::get) {
        auto rp = self->make_response_promise<cart_view>();
        deliver_view(self, rp);
        return rp;
      },
      [=](atom::put, const sku_id& sku, int64_t qty) {
        return change_line(self, sku, qty, false);
      },
      [=](atom::add, const sku_id& sku, int64_t qty) {
        return change_line(self, sku, qty, true);
      },
      [=](atom::remove, const sku_id& sku) -> caf::result<cart_view> {
        auto line = find_line(self, sku);
        if (line == self->state.cart.end())
          return invalid("sku " + sku + " is not in the cart");
        self->state.cart.erase(line);
        auto rp = self->make_response_promise<cart_view>();
        deliver_view(self, rp);
        return rp;
      },
      [=](atom::checkout, address& ship_to, std::vector<sku_id>& skus,
          std::string& key) {
        return checkout(self, std::move(ship_to), std::move(skus),
                        std::move(key));
      },
      [=](atom::create, create_order_request& req,
          std::string& key) -> caf::result<order_record> {
        if (auto msg = check_idempotency_key(key); !msg.empty())
          return invalid(msg);
        if (req.customer != self->state.id)
          return invalid("customerId does not match the customer");
        req.idempotency_key = key;
        req.fingerprint = fingerprint_of(req);
        auto fp = req.fingerprint;
        return idempotent(self, key, fp,
                          [self, req](record_callback done) mutable {
                            create_order(self, std::move(req), std::move(done));
                          });
      },
      [=](atom::pay, const order_id& id, money amount, std::string& token,
          std::string& key) -> caf::result<order_record> {
        if (auto msg = check_idempotency_key(key); !msg.empty())
          return invalid(msg);
        auto fp = fingerprint_of("pay|" + std::to_string(id.size()) + ":" + id +
                                 "|" + std::to_string(amount) + "|" + token);
        order_command cmd;
        cmd.kind = command_kind::pay;
        cmd.amount = amount;
        cmd.token = token;
        cmd.client_key = key;
        cmd.fingerprint = fp;
        return idempotent(self, key, fp, [self, id, cmd](record_callback done) {
          command_order(self, id, cmd, std::move(done));
        });
      },
      [=](atom::list, uint32_t limit, const std::string& cursor) {
        return list_orders(self, limit, cursor);
      },
      [=](atom::purge) {
        auto& st = self->state;
        auto horizon = now(self) - st.ctx->settings.idempotency_window.count();
        for (auto i = st.keys.begin(); i != st.keys.end();) {
          if (i->second.done && i->second.at <= horizon)
            i = st.keys.erase(i);
          else
            ++i;
        }
        self->delayed_send(caf::actor_cast<customer_actor>(self),
                           st.ctx->settings.idempotency_purge_interval,
                           atom::purge_v);
      },
  };
}

} // namespace oms
