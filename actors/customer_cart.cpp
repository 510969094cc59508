// The CUSTOMER actor's cart: lines checked against the SKU's available
// stock when they change, priced when viewed, taken out for a checkout and
// put back if it fails. The cart holds no stock.
#include <algorithm>
#include <functional>
#include <memory>
#include <optional>

#include <nlohmann/json.hpp>

#include "actors/customer_steps.hpp"
#include "actors/validation.hpp"
#include "messages/type_ids.hpp"

namespace oms::customer_steps {

namespace {

// What pricing a cart's lines calls: the priced view, and whether its totals
// fit in `money` (if not they are 0).
using priced_fn = std::function<void(cart_view&, bool)>;

// A SKU's actor that is gone was restarted (or left stopped) by the
// SUPERVISOR, and one that did not answer in time may be on a node that
// died or gave up the SKU's shard (a cluster's cart): the next use asks
// the SUPERVISOR for the SKU's actor again.
void forget_if_gone(customer_ptr self, const sku_key& key,
                    const caf::error& err) {
  if (err == caf::sec::request_receiver_down ||
      err == caf::sec::request_timeout)
    self->state.skus.erase(key);
}

// Prices `lines` at their SKUs' actors (a line whose actor does not answer is
// priced 0), totals them with checked arithmetic and calls `done`. With
// `hold`, the customer handles nothing else until every answer is in, so that
// the cart it prices is still the cart when `done` runs.
void price_lines(customer_ptr self, const cart_lines& lines, bool hold,
                 priced_fn done) {
  auto& st = self->state;
  struct fan_in {
    size_t outstanding;
    cart_view view;
  };
  auto acc = std::make_shared<fan_in>();
  acc->view.customer = st.id;
  for (auto& line : lines)
    acc->view.lines.push_back(
        cart_line{line.sku, line.quantity, 0, 0, 0, line.from});
  acc->outstanding = acc->view.lines.size();
  auto finish = [acc, done] {
    auto fits = total_cart(acc->view);
    done(acc->view, fits);
  };
  if (acc->outstanding == 0) {
    finish();
    return;
  }
  auto arrive = [acc, finish] {
    if (--acc->outstanding == 0)
      finish();
  };
  for (size_t i = 0; i < acc->view.lines.size(); ++i) {
    auto key = sku_key{acc->view.lines[i].seller, acc->view.lines[i].sku};
    auto h = st.skus.find(key);
    if (h == st.skus.end()) {
      arrive();
      continue;
    }
    auto on_view = [acc, i, arrive](stock_view& v) {
      acc->view.lines[i].unit_price = v.unit_price;
      acc->view.lines[i].available = v.available;
      arrive();
    };
    auto on_error = [self, key, arrive](caf::error& err) {
      forget_if_gone(self, key, err);
      arrive();
    };
    auto rh =
        self->request(h->second, st.ctx->settings.request_timeout, atom::get_v);
    if (hold)
      rh.await(on_view, on_error);
    else
      rh.then(on_view, on_error);
  }
}

// VALIDATION_FAILED for a cart whose total would not fit in `money`, naming
// `field`. The limits keep every cart in range (check_money_bounds); a price
// above them still refuses rather than wraps.
caf::error too_costly(const char* field) {
  nlohmann::json details{{"field", field}};
  return make_error(errc::validation_failed,
                    "the cart's total would be too large to be charged: "
                    "lower the quantity or remove lines",
                    details.dump());
}

// Sets the line of `sku` if `v` (the SKU's stock now) covers what the
// change makes of it and the cart's total still fits, and replies the view.
// Errors: VALIDATION_FAILED (the sum passes the line limit, or the total
// would not fit in `money`), INSUFFICIENT_STOCK.
void set_line_if_covered(customer_ptr self, const sku_id& sku, seller from,
                         int64_t quantity, bool add, const stock_view& v,
                         cart_promise rp) {
  auto& cart = self->state.cart;
  auto line = find_line(self->state.cart, from, sku);
  int64_t current = line == cart.end() ? 0 : line->quantity;
  auto& limits = self->state.ctx->settings.limits;
  // A line put back by a failed checkout may hold more than the limit: the
  // sum is checked like money.
  auto sum =
      add ? checked_add(current, quantity) : std::optional<int64_t>{quantity};
  if (!sum || *sum > limits.line_quantity_max) {
    rp.deliver(
        invalid("quantity", "quantity must be between 1 and " +
                                std::to_string(limits.line_quantity_max)));
    return;
  }
  int64_t wanted = *sum;
  if (wanted > v.available) {
    nlohmann::json details{
        {"skus",
         {{{"sku", sku}, {"requested", wanted}, {"available", v.available}}}}};
    rp.deliver(make_error(errc::insufficient_stock,
                          "only " + std::to_string(v.available) + " of " + sku +
                              " available",
                          details.dump()));
    return;
  }
  auto next = cart;
  if (auto l = find_line(next, from, sku); l != next.end())
    l->quantity = wanted;
  else
    next.push_back(cart_entry{from, sku, wanted});
  // Price the cart as it would be before changing it: a change that would
  // make its total overflow is refused and changes nothing.
  price_lines(self, next, true,
              [self, next, rp](cart_view& view, bool fits) mutable {
                if (!fits) {
                  rp.deliver(too_costly("quantity"));
                  return;
                }
                self->state.cart = next;
                rp.deliver(std::move(view));
              });
}

// Asks the SKU's actor for its stock and changes the line if it covers the
// change. Handles nothing else meanwhile, so the check and the change are
// one step. The SKU's actor comes from the SUPERVISOR on first use, and
// again once if the one known stopped (the SUPERVISOR restarted it).
void check_then_set_line(customer_ptr self, const sku_id& sku, seller from,
                         int64_t quantity, bool add, cart_promise rp,
                         bool first_try = true) {
  auto& st = self->state;
  auto key = sku_key{from, sku};
  auto check = [=](const stock_reader_actor& handle) {
    self->request(handle, self->state.ctx->settings.request_timeout,
                  atom::get_v)
        .await(
            [=](stock_view& v) mutable {
              set_line_if_covered(self, sku, from, quantity, add, v, rp);
            },
            [=](caf::error& err) mutable {
              forget_if_gone(self, key, err);
              if (first_try && err == caf::sec::request_receiver_down)
                check_then_set_line(self, sku, from, quantity, add, rp, false);
              else
                rp.deliver(err);
            });
  };
  if (auto h = st.skus.find(key); h != st.skus.end()) {
    check(h->second);
    return;
  }
  // On a cluster, the SKU may be another node's: its actor there.
  self->request(st.supervisor, caf::infinite, atom::find_sku_v, sku, from, true)
      .await(
          [=](stock_reader_actor& handle) {
            self->state.skus.insert_or_assign(key, handle);
            check(handle);
          },
          [=](caf::error& err) mutable {
            rp.deliver(moving_is_unavailable(std::move(err)));
          });
}

} // namespace

cart_lines::iterator find_line(cart_lines& cart, seller from,
                               const sku_id& sku) {
  return std::find_if(cart.begin(), cart.end(), [&](const cart_entry& line) {
    return line.from == from && line.sku == sku;
  });
}

void deliver_view(customer_ptr self, cart_promise rp) {
  price_lines(self, self->state.cart, false,
              [rp](cart_view& view, bool fits) mutable {
                if (fits)
                  rp.deliver(std::move(view));
                else
                  rp.deliver(too_costly("items"));
              });
}

caf::result<cart_view> change_line(customer_ptr self, const sku_id& sku,
                                   seller from, int64_t quantity, bool add) {
  auto& st = self->state;
  auto& limits = st.ctx->settings.limits;
  if (auto p = check_id("sku", sku, limits))
    return to_error(*p);
  if (quantity < 1 || quantity > limits.line_quantity_max)
    return invalid("quantity", "quantity must be between 1 and " +
                                   std::to_string(limits.line_quantity_max));
  auto line = find_line(self->state.cart, from, sku);
  if (line == st.cart.end() &&
      st.cart.size() >= st.ctx->settings.cart_lines_max)
    return invalid("", "the cart holds at most " +
                           std::to_string(st.ctx->settings.cart_lines_max) +
                           " lines");
  auto rp = self->make_response_promise<cart_view>();
  check_then_set_line(self, sku, from, quantity, add, rp);
  return rp;
}

caf::result<cart_view> remove_line(customer_ptr self, const sku_id& sku,
                                   seller from) {
  auto line = find_line(self->state.cart, from, sku);
  if (line == self->state.cart.end())
    return invalid("sku",
                   "sku " + sku + of_seller(from) + " is not in the cart");
  self->state.cart.erase(line);
  auto rp = self->make_response_promise<cart_view>();
  deliver_view(self, rp);
  return rp;
}

std::vector<taken_line> take_from_cart(cart_lines& cart,
                                       const std::vector<order_item>& items) {
  std::vector<taken_line> taken;
  for (auto& item : items) {
    auto line = find_line(cart, item.seller, item.sku);
    if (line == cart.end())
      continue;
    auto quantity = std::min(line->quantity, item.quantity);
    taken.push_back(taken_line{static_cast<size_t>(line - cart.begin()),
                               item.seller, item.sku, quantity});
    line->quantity -= quantity;
  }
  cart.erase(
      std::remove_if(cart.begin(), cart.end(),
                     [](const cart_entry& l) { return l.quantity <= 0; }),
      cart.end());
  return taken;
}

void put_back_in_cart(cart_lines& cart, const std::vector<taken_line>& taken) {
  for (auto& t : taken) {
    auto line = find_line(cart, t.from, t.sku);
    if (line != cart.end())
      line->quantity += t.quantity; // the customer added more meanwhile
    else
      cart.insert(cart.begin() + static_cast<std::ptrdiff_t>(
                                     std::min(t.position, cart.size())),
                  cart_entry{t.from, t.sku, t.quantity});
  }
}

} // namespace oms::customer_steps
