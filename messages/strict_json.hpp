// The one strict JSON parser of what comes in from outside: every request
// body of omsd and wms-sim, and the WMS's answers. Only nlohmann beneath it
// (library oms_json), so that wms-sim, which has no CAF, uses it too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace oms {

/// Why parse_strict refused a text.
struct json_refusal {
  /// The member to blame, as a path ("quantity", "items[0].sku"), or "" when
  /// it is the text as a whole.
  std::string field;
  /// What is wrong, without a subject: "is not valid JSON (UTF-8)", "holds a
  /// NUL byte at offset 12", "is given more than once", "is nested deeper
  /// than 64".
  std::string message;
};

/// The deepest nesting of arrays and objects parse_strict reads unless told
/// otherwise: far beyond any body or answer of ours, and shallow enough for
/// anything that walks a value recursively (encoding, comparing, copying).
inline constexpr size_t json_depth_default = 64;

/// Parses `text` as one JSON value (RFC 8259, UTF-8) and refuses, besides
/// what is not JSON, what nlohmann's parser lets through silently: a NUL
/// byte (the parser stops there, so what follows was ignored), a key given
/// twice in one object at any depth (the last one would win), and nesting
/// deeper than `depth_max` (the value would overflow the stack of whatever
/// walks it). A refusal returns a discarded value and says why in `why`. The
/// one parser of every request body, in omsd and in wms-sim, of the WMS's
/// answers and of wms-sim's seed file.
nlohmann::json parse_strict(std::string_view text, json_refusal& why,
                            size_t depth_max = json_depth_default);

/// Whether `v` is a JSON integer that fits int64 (then stored in `out`):
/// never a float (1e300 does not fit an integer, 2.5 would read as 2), a
/// string or an integer above INT64_MAX.
bool json_int64(const nlohmann::json& v, int64_t& out);

} // namespace oms
