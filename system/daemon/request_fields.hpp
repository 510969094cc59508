// Reading what a request to omsd carries: the query string, the JSON body and
// each route's fields in it, strictly (unknown fields and parameters are
// refused). A refusal is thrown as bad_input and answered with its code by
// the API. Plain functions of the request's text, no actors: the routes of
// system/daemon/api*.cpp call them before they ask any actor
// (tests/fuzz/request_body_fuzz.cpp reads bodies through them too).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "actors/validation.hpp"
#include "messages/domain.hpp"
#include "messages/errors.hpp"

namespace oms::daemon {

using json = nlohmann::json;

/// Bad input found while reading a request: answered with `code`.
struct bad_input {
  errc code;
  std::string message;
  json details = json::object();
};

/// Throws 400 VALIDATION_FAILED "FIELD: WHAT" naming `field`.
[[noreturn]] void invalid(const std::string& field, const std::string& what);

/// The parameters of a query string (without '?'), '+' and %XX decoded
/// leniently; a name not in `allowed` is refused, a repeated one keeps its
/// last value. A decoded name or value that is not UTF-8 is refused naming
/// the parameter (a name by its percent-encoded form, e.g. "%FF").
std::map<std::string, std::string>
parse_query(std::string_view query, std::initializer_list<const char*> allowed);

/// The `limit` query parameter of a listing: 1..100, 20 when absent.
uint32_t read_limit(const std::map<std::string, std::string>& query);

/// Deepest nesting of arrays and objects in a JSON text (strings skipped).
size_t json_depth(std::string_view text);

/// The JSON object a request body holds. An empty or blank body is {} when
/// `allow_empty`, else refused; so are nesting deeper than `depth_max`, what
/// parse_strict refuses (a repeated key names its path in details.field)
/// and anything but an object (details.field "body").
json read_body(std::string_view text, bool allow_empty, size_t depth_max);

/// Refuses a field of `j` not in `allowed`; `where` prefixes its name.
void only(const json& j, std::initializer_list<const char*> allowed,
          const std::string& where);

/// An integer field in lo..hi; nullopt when absent and not `required`.
std::optional<int64_t> get_int(const json& j, const char* name, bool required,
                               int64_t lo, int64_t hi,
                               const std::string& where = {});

/// A string field of at most `max_len` bytes.
std::optional<std::string> get_str(const json& j, const char* name,
                                   bool required, size_t max_len = 200,
                                   const std::string& where = {});

/// INTERNAL or EXTERNAL, else refused naming `field`.
seller parse_seller_field(const std::string& text, const std::string& field);

/// An address object {line1, line2, city, postalCode, country}.
address get_address(const json& j, const char* name, bool required);

/// The array of lines `name`: 1 to `max_lines` entries (null if absent and
/// not required).
const json* line_array(const json& j, const char* name, bool required,
                       size_t max_lines);

/// 1..max_lines order lines {sku, quantity[, seller]}.
std::vector<order_item> get_lines(const json& j, const char* name,
                                  bool required, seller default_seller,
                                  size_t max_lines, int64_t max_quantity,
                                  bool allow_seller);

/// A batch name: 1 to 64 characters of [A-Za-z0-9._-].
std::optional<std::string> get_lot(const json& j);

/// The inbound event's id: 1 to 128 characters of [A-Za-z0-9._:-].
std::optional<std::string> get_event_id(const json& j);

/// A batch's expiry: an RFC 3339 UTC timestamp after `now`; 0 if absent.
timestamp_ms get_expiry(const json& j, timestamp_ms now);

/// The body of POST /v1/inventory/{sku}/changes as a change of `sku`
/// (quantities up to `max_quantity`, a receipt's unit price up to
/// `max_unit_price`).
stock_change read_change(const json& j, const sku_id& sku, int64_t max_quantity,
                         money max_unit_price, timestamp_ms now);

// -- the bodies of the routes, each read before any actor is asked ----------

/// POST /v1/customers: {name}, at most 200 bytes, not blank.
std::string read_new_customer(const json& j);

/// A cart line's change: how many units, of whose stock.
struct cart_line_fields {
  int64_t quantity = 0;
  seller from = seller::internal;
};

/// PUT /v1/customers/{id}/cart/items/{sku}: {quantity, seller?}.
cart_line_fields read_cart_line(const json& j, const request_limits& limits);

/// What POST /v1/customers/{id}/cart/checkout asks for.
struct checkout_fields {
  address ship_to;
  /// The cart's SKUs to order; empty: all of them (of the seller).
  std::vector<sku_id> skus;
  /// Whose lines to order; not given: the cart's only seller.
  seller from = seller::internal;
  bool seller_given = false;
};

/// POST /v1/customers/{id}/cart/checkout: {address, skus}.
checkout_fields read_checkout(const json& j, const request_limits& limits);

/// POST /v1/orders, first step: refuses an unknown field and an empty
/// customerId; the customerId given, nullopt when absent. The route
/// resolves the customer before it reads the rest (read_new_order), so that
/// another customer's id answers 404 whatever else the body holds.
std::optional<std::string> read_order_customer(const json& j);

/// POST /v1/orders, second step: seller, items and address (`customer` is
/// left empty).
create_order_request read_new_order(const json& j,
                                    const request_limits& limits);

/// The number 1 to 20 decimal digits write, if it fits 64 bits; nothing for
/// any other text (empty, a sign, a space, a digit too many).
std::optional<uint64_t> parse_decimal(std::string_view text);

/// The version an If-Match header field requires: `"N"` (an ETag this API
/// gave) is N; absent or `*` is 0 (any). A weak tag (W/"N") can never match
/// a strong comparison: UINT64_MAX, which no resource is at. Anything else
/// (a list of tags included) is refused naming the field If-Match.
uint64_t read_if_match(std::string_view text);

/// `x` without the spaces and tabs around it (a header field's optional
/// whitespace).
std::string_view trim_ows(std::string_view x);

/// As read_if_match, for a SKU's changes: `*` requires the SKU to exist
/// (if_version_exists).
uint64_t read_sku_if_match(std::string_view text);

/// The ETag of a resource at `version` ("\"N\""), or "" for version 0 (a
/// record from before versions were kept).
std::string etag_of(uint64_t version);

/// GET /v1/orders: status, sku, customerId, seller, createdFrom, createdTo
/// (RFC 3339), limit (1..100) and cursor (a page's nextCursor) as a query;
/// each refused naming its parameter.
order_query read_order_query(const std::map<std::string, std::string>& q,
                             const request_limits& limits);

/// PATCH /v1/orders/{id}: {status, reason} as the command it asks for
/// (confirm, ship, deliver or cancel).
order_command read_status_change(const json& j);

/// POST /v1/orders/{id}/confirm|ship|deliver: {reason}, may be empty.
std::string read_reason(const json& j);

/// POST /v1/orders/{id}/cancel: {lines, reason}, may be empty; no lines
/// cancels the whole order.
order_command read_cancel(const json& j, const request_limits& limits);

/// A return request: {lines: [{sku, quantity, reason?}]} (1 to
/// lines_per_order_max lines; reason up to 200 characters).
return_command read_return_request(const json& j, const request_limits& limits);

/// A return's inspection: {lines: [{sku, restock?, damaged?}]} (counts 0 or
/// more, absent: 0).
return_command read_return_inspection(const json& j,
                                      const request_limits& limits);

/// A return's rejection: {reason} (required, up to 200 characters).
std::string read_reject_reason(const json& j);

/// A shipment: {lines: [{sku, quantity}], carrier?, trackingNumber?} (lines
/// required; carrier up to 64 characters, trackingNumber up to 100).
order_command read_shipment(const json& j, const request_limits& limits);

/// What POST /v1/orders/{id}/pay offers.
struct payment_fields {
  money amount = 0;
  std::string token;
};

/// POST /v1/orders/{id}/pay: {amount, paymentToken}.
payment_fields read_payment(const json& j);

/// What POST /v1/inventory/{sku}/receipts brings in.
struct receipt_fields {
  stock_change change;
  seller from = seller::internal;
};

/// POST /v1/inventory/{sku}/receipts: a receipt of `sku` (an expiry must be
/// after `now`).
receipt_fields read_receipt(const json& j, const sku_id& sku,
                            const request_limits& limits, timestamp_ms now);

/// PATCH /v1/inventory/{sku}: {unitPrice}.
money read_unit_price(const json& j, const request_limits& limits);

} // namespace oms::daemon
