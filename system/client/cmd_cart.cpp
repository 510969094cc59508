// omsctl cart: show, set, add and remove a cart's lines, and check it out.
#include <cstdint>
#include <iostream>
#include <string>

#include "system/client/commands.hpp"

namespace oms::cli {

namespace {

void print_cart(const json& c) {
  print_block({{"customer", text(c, "customerId")},
               {"total", money(c, "totalAmount")}});
  std::cout << '\n';
  table t{{"SKU", "SELLER", "QTY", "UNIT PRICE", "LINE TOTAL"}, "llrrr"};
  for (auto& l : c.value("lines", json::array()))
    t.add({text(l, "sku"), text(l, "seller"), text(l, "quantity"),
           money(l, "unitPrice", c), money(l, "lineTotal", c)});
  if (t.empty())
    std::cout << "(the cart is empty)\n";
  else
    t.print();
}

/// "/v1/customers/{id}/cart/items/{sku}" of the customer and SKU given.
std::string cart_item_path(const args& a) {
  return customer_path(a.customer) + "/cart/items/" + client::url_encode(a.sku);
}

/// Sets the quantity of the SKU in the cart to `qty`; answers the cart.
json set_quantity(session& s, const args& a, int64_t qty) {
  json body{{"quantity", qty}};
  put_if_given(body, "seller", a.seller);
  return s.call("PUT", cart_item_path(a), body);
}

// --seller of a cart command: whose stock the line is.
void add_seller_option(CLI::App* cmd, args& a, const char* help) {
  cmd->add_option("--seller", a.seller, help)->transform(seller_arg);
}

// The customer and SKU arguments of set, add and remove, their --seller,
// and the --qty of set and add (with the help text `qty_help`, none if
// null).
void add_item_args(CLI::App* cmd, args& a, const char* qty_help = nullptr) {
  cmd->add_option("customer", a.customer, "The customer id")->required();
  cmd->add_option("sku", a.sku, "The SKU")->required();
  if (qty_help != nullptr)
    cmd->add_option("--qty", a.quantity, qty_help)->type_name("N")->required();
  add_seller_option(cmd, a, "Whose stock: INTERNAL (default) or EXTERNAL");
}

void add_cart_show(CLI::App* cart, args& a, action& run) {
  auto* show = cart->add_subcommand(
      "show", "The cart, priced now (GET /v1/customers/{id}/cart)");
  show->add_option("customer", a.customer, "The customer id")->required();
  set_action(show, run, [](session& s, const args& a) {
    a.out.emit(s.call("GET", customer_path(a.customer) + "/cart"), print_cart);
  });
}

void add_cart_set(CLI::App* cart, args& a, action& run) {
  auto* set = cart->add_subcommand(
      "set", "Set the quantity of a SKU in the cart; fails with "
             "INSUFFICIENT_STOCK if fewer are available "
             "(PUT /v1/customers/{id}/cart/items/{sku})");
  add_item_args(set, a, "The new quantity");
  set_action(set, run, [](session& s, const args& a) {
    a.out.emit(set_quantity(s, a, a.quantity), print_cart);
  });
}

void add_cart_add(CLI::App* cart, args& a, action& run) {
  auto* add = cart->add_subcommand(
      "add", "Add units of a SKU to the cart: reads the cart, then sets the "
             "quantity to what it held plus --qty (not atomic with other "
             "changes to the same cart)");
  add_item_args(add, a, "Units to add");
  set_action(add, run, [](session& s, const args& a) {
    auto cart = s.call("GET", customer_path(a.customer) + "/cart");
    int64_t held = 0;
    auto from = a.seller.empty() ? std::string{"INTERNAL"} : a.seller;
    for (auto& l : cart.value("lines", json::array()))
      if (l.value("sku", "") == a.sku && l.value("seller", "") == from)
        held = l.value("quantity", int64_t{0});
    a.out.emit(set_quantity(s, a, held + a.quantity), print_cart);
  });
}

void add_cart_remove(CLI::App* cart, args& a, action& run) {
  auto* remove =
      cart->add_subcommand("remove", "Remove a SKU from the cart (DELETE "
                                     "/v1/customers/{id}/cart/items/{sku})");
  add_item_args(remove, a);
  set_action(remove, run, [](session& s, const args& a) {
    std::string q;
    add_query(q, "seller", a.seller);
    a.out.emit(s.call("DELETE", cart_item_path(a) + q), print_cart);
  });
}

void add_cart_checkout(CLI::App* cart, args& a, action& run) {
  auto* checkout = cart->add_subcommand(
      "checkout", "Place an order from the cart (all lines, or the --sku "
                  "ones); the ordered units leave the cart "
                  "(POST /v1/customers/{id}/cart/checkout)");
  checkout->add_option("customer", a.customer, "The customer id")->required();
  checkout
      ->add_option("--sku", a.skus,
                   "Order only this SKU of the cart (repeatable)")
      ->type_name("SKU")
      ->allow_extra_args(false);
  add_seller_option(checkout, a,
                    "Order this seller's lines (needed when the cart holds "
                    "lines of both)");
  add_placement_options(checkout, a);
  set_action(checkout, run, [](session& s, const args& a) {
    json body{{"address", a.ship_to.to_json()}};
    if (!a.skus.empty())
      body["skus"] = a.skus;
    put_if_given(body, "seller", a.seller);
    a.out.emit(s.call("POST", customer_path(a.customer) + "/cart/checkout",
                      body, a.key),
               print_order);
  });
}

} // namespace

void add_cart(CLI::App& app, args& a, action& run) {
  add_group(app, "cart",
            "A customer's cart (the admin token or the customer's own)", a, run,
            {add_cart_show, add_cart_set, add_cart_add, add_cart_remove,
             add_cart_checkout});
}

} // namespace oms::cli
