// Structured logs: one line per event on stderr, logfmt style
// (`ts=... level=info event=order.created order=ord_x total=1000`).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "system/http/log_line.hpp"

namespace oms::log {

/// debug, info, warn, error, off (system/http/log_line.hpp).
using level = http::log_level;

/// Sets the lowest level that is written (default: info).
void set_level(level x);

/// The current level.
level current_level();

/// Parses "debug", "info", "warn", "error", "off".
bool parse_level(std::string_view str, level& out);

/// A field's value as text; numbers are converted by the overloads.
struct value {
  std::string text;
  value(std::string_view x) : text(x) {}
  value(const std::string& x) : text(x) {}
  value(const char* x) : text(x) {}
  value(int64_t x) : text(std::to_string(x)) {}
  value(uint64_t x) : text(std::to_string(x)) {}
  value(int x) : text(std::to_string(x)) {}
  value(unsigned x) : text(std::to_string(x)) {}
  value(double x) : text(std::to_string(x)) {}
};

using field = std::pair<std::string_view, value>;

/// Writes one line if `lvl` is enabled. Values with spaces, quotes or `=`
/// are quoted.
void write(level lvl, std::string_view event,
           std::initializer_list<field> fields = {});

inline void debug(std::string_view event, std::initializer_list<field> f = {}) {
  write(level::debug, event, f);
}
inline void info(std::string_view event, std::initializer_list<field> f = {}) {
  write(level::info, event, f);
}
inline void warn(std::string_view event, std::initializer_list<field> f = {}) {
  write(level::warn, event, f);
}
inline void error(std::string_view event, std::initializer_list<field> f = {}) {
  write(level::error, event, f);
}

} // namespace oms::log
