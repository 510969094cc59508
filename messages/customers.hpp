// Customers: who they are to the API, their carts, their pages of orders.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "messages/basics.hpp"
#include "messages/orders.hpp"

namespace oms {

/// One line of a cart, priced now.
struct cart_line {
  sku_id sku;
  int64_t quantity = 0;
  money unit_price = 0;
  money line_total = 0;
  int64_t available = 0; // what the SKU had available when the view was made
  /// Whose stock: a cart holds lines of both sellers (one order each).
  oms::seller seller = oms::seller::internal;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cart_line& x) {
  return f(caf::meta::type_name("cart_line"), x.sku, x.quantity, x.unit_price,
           x.line_total, x.available, x.seller);
}

/// A customer's cart. A cart holds no stock: availability is checked again
/// when an order is placed.
struct cart_view {
  customer_id customer;
  std::vector<cart_line> lines;
  money total = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cart_view& x) {
  return f(caf::meta::type_name("cart_view"), x.customer, x.lines, x.total);
}

/// Sets each line's total (quantity x unit price) and the cart's total from
/// the lines' prices. False, with the totals left 0, if any of them does
/// not fit in `money`: such a cart is refused, never shown wrapped.
bool total_cart(cart_view& view);

/// One page of a customer's orders, newest first.
struct order_page {
  std::vector<order_record> orders;
  /// Pass back to get the next page; empty on the last page.
  std::string next_cursor;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, order_page& x) {
  return f(caf::meta::type_name("order_page"), x.orders, x.next_cursor);
}

/// What an admin search of orders asks (GET /v1/orders): every filter that
/// is set must hold; newest first (by creation), `limit` at most.
struct order_query {
  /// "CREATED", ... (as to_string(order_status)); empty: any.
  std::string status;
  sku_id sku;           // an order with a line of this SKU; empty: any
  customer_id customer; // empty: any
  std::string seller;   // "INTERNAL" or "EXTERNAL"; empty: any
  /// Created at or after `created_from` and before `created_to` (ms since
  /// the epoch).
  timestamp_ms created_from = 0;
  timestamp_ms created_to = INT64_MAX;
  /// Only orders created before the one at this position (a page's cursor);
  /// 0: from the newest.
  uint64_t before = 0;
  uint32_t limit = 20;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, order_query& x) {
  return f(caf::meta::type_name("order_query"), x.status, x.sku, x.customer,
           x.seller, x.created_from, x.created_to, x.before, x.limit);
}

/// The orders of a search, and where the next page starts (its `before`),
/// 0 on the last page.
struct order_hits {
  std::vector<order_record> orders;
  uint64_t next = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, order_hits& x) {
  return f(caf::meta::type_name("order_hits"), x.orders, x.next);
}

/// A customer known to the API: its bearer token is kept only as a SHA-256
/// hash (hex).
struct customer_record {
  customer_id id;
  std::string name;
  std::string token_hash;
  timestamp_ms created_at = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, customer_record& x) {
  return f(caf::meta::type_name("customer_record"), x.id, x.name, x.token_hash,
           x.created_at);
}

} // namespace oms
