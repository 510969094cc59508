// Input validation as pure functions: a rejected request names the field and
// changes nothing, because it never reaches an actor that owns state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "messages/domain.hpp"
#include "messages/errors.hpp"

namespace oms {

/// Bounds on what one request may ask for: the one set, configured by omsd
/// (--max-lines, --max-quantity, --max-body-bytes, --max-json-depth) into
/// settings::limits, and checked there by the HTTP front and the actors alike.
struct request_limits {
  size_t lines_per_order_max = 100;
  int64_t line_quantity_max = 1'000'000;
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

} // namespace oms
