// Reading what a request to omsd carries: the query string and the fields of
// a JSON body, strictly (unknown fields and parameters are refused). A
// refusal is thrown as bad_input and answered with its code by the API.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

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

/// Deepest nesting of arrays and objects in a JSON text (strings skipped).
size_t json_depth(std::string_view text);

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

} // namespace oms::daemon
