// What the log lines of omsd (logfmt, system/log.hpp) and wms-sim (JSON)
// share: the levels and their names, the timestamp and the one write per line.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace oms::http {

enum class log_level : uint8_t {
  debug = 0,
  info = 1,
  warn = 2,
  error = 3,
  off = 4
};

/// "debug", "info", "warn", "error" or "off".
const char* level_name(log_level x);

/// Parses those names; false (and `out` untouched) for anything else.
bool parse_log_level(std::string_view text, log_level& out);

/// Whether a line at `lvl` is written when `threshold` is the lowest level
/// written (nothing is written at `off`).
constexpr bool log_enabled(log_level lvl, log_level threshold) {
  return lvl >= threshold && lvl != log_level::off;
}

/// The wall-clock time now in UTC: "2026-01-02T03:04:05.678Z".
std::string log_timestamp_now();

/// Writes `line` (ending in '\n') to stderr in one write, so that lines stay
/// whole when threads log at once.
void write_log_line(const std::string& line);

} // namespace oms::http
