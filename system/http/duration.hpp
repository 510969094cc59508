// Durations as flags and config values spell them: "500ms", "2s", "15m",
// "1h", and, where a program allows, "1d" or a bare number of seconds.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace oms::http {

/// Which spellings a program accepts.
struct duration_syntax {
  /// A number without a unit is seconds (wms-sim); else it is refused.
  bool bare_seconds = false;
  /// "d" (days) is a unit, and format_duration_ms uses it (omsd).
  bool days = false;
};

/// omsd: ms, s, m, h and d; a unit is required.
inline constexpr duration_syntax omsd_durations{false, true};
/// wms-sim: ms, s, m and h; a bare number is seconds.
inline constexpr duration_syntax wms_sim_durations{true, false};

/// Milliseconds, or nullopt when the text is empty, has no digits first,
/// has a unit `syntax` does not know, has more than 13 digits' worth of
/// number, or names more milliseconds than int64 holds.
std::optional<int64_t> parse_duration_ms(std::string_view text,
                                         duration_syntax syntax);

/// The shortest exact rendering in the largest unit that divides it:
/// 900000 → "15m", 1500 → "1500ms", 0 → "0ms".
std::string format_duration_ms(int64_t ms, duration_syntax syntax);

} // namespace oms::http
