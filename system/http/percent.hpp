// Percent-encoding (RFC 3986) of path segments and query strings, and the
// splitting of a query string into decoded parameters: what omsd and wms-sim
// decode and what omsctl and the WMS transport encode.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace oms::http {

/// How a decoder treats what is not a clean %XX escape.
enum class percent_mode {
  /// A '%' not followed by two hex digits makes the whole text undecodable;
  /// '+' stays '+' (wms-sim: paths and query strings).
  strict,
  /// '+' is a space, as in HTML forms, and a '%' not followed by two hex
  /// digits stays as it is (omsd: query strings).
  lenient_form,
};

/// Decodes the %XX escapes of `in`; nullopt only in strict mode, for a
/// malformed escape. The bytes are not checked to be UTF-8: the result holds
/// the bytes the escapes name.
std::optional<std::string> percent_decode(std::string_view in,
                                          percent_mode mode);

/// Encodes every byte but A-Z a-z 0-9 - _ . ~ as %XX (upper-case hex).
std::string percent_encode(std::string_view in);

/// One decoded parameter of a query string.
struct query_param {
  std::string key;
  /// Empty when the part has no '='.
  std::string value;
};

/// Splits a query string (without the '?') at '&', skipping empty parts, and
/// decodes each key and value. A part that does not decode (strict mode) is
/// nullopt in its place, so a caller meets the problems in the order they
/// stand.
std::vector<std::optional<query_param>> split_query(std::string_view query,
                                                    percent_mode mode);

} // namespace oms::http
