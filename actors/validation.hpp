// Input validation as pure functions: a rejected request names the field and
// changes nothing, because it never reaches an actor that owns state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "messages/domain.hpp"
#include "messages/errors.hpp"
#include "messages/money.hpp"

namespace oms {

/// Bounds on what one request may ask for: the one set, configured by omsd
/// (--max-lines, --max-quantity, --max-unit-price, --max-body-bytes,
/// --max-json-depth) into settings::limits, and checked there by the HTTP
/// front and the actors alike.
///
/// Together with the cart's line limit they bound every amount of money:
/// an order costs at most lines_per_order_max x line_quantity_max x
/// unit_price_max, a cart cart_lines_max x line_quantity_max x
/// unit_price_max, and check_money_bounds refuses limits under which either
/// does not fit in `money`.
struct request_limits {
  size_t lines_per_order_max = 100;
  int64_t line_quantity_max = 1'000'000;
  /// The highest unit price a SKU may have, in minor units.
  money unit_price_max = unit_price_max_default;
  size_t id_length_max = 64;
  size_t text_length_max = 200;
  /// The largest request body (HTTP only).
  size_t body_bytes_max = 64 * 1024;
  /// The deepest JSON nesting of a request body (HTTP only).
  size_t json_depth_max = 32;
};

/// Why a request was refused.
struct problem {
  errc code = errc::validation_failed;
  std::string message;
  std::string details_json = "{}";
};

/// VALIDATION_FAILED naming `field` in the details.
problem field_problem(std::string_view field, std::string message);

/// The operating error a problem is answered with.
caf::error to_error(const problem& p);

/// Checks an identifier (SKU, customer): 1..id_length_max characters of
/// [A-Za-z0-9._-]. `field` names it in the message.
std::optional<problem> check_id(std::string_view field, std::string_view id,
                                const request_limits& limits);

/// Checks a createOrder request: customer id, 1..lines_per_order_max items,
/// valid SKU ids without duplicates, quantities in 1..line_quantity_max, one
/// seller for all items (MIXED_SELLERS otherwise), a complete address.
std::optional<problem> check_create_order(const create_order_request& req,
                                          const request_limits& limits);

/// Checks an address: line1, city, postalCode and country are required.
std::optional<problem> check_address(const address& addr,
                                     const request_limits& limits);

/// Why `limits` (and a cart of at most `cart_lines_max` lines) would let an
/// order's or a cart's total overflow `money`, naming the settings; nothing
/// if lines x quantity x unit price fits for both. Checked once at startup
/// (omsd's flags, order_system's settings), so that no total can wrap.
std::optional<std::string> check_money_bounds(const request_limits& limits,
                                              size_t cart_lines_max);

} // namespace oms
