#include "system/log.hpp"

#include <atomic>

namespace oms::log {

namespace {

std::atomic<level> current{level::info};

void append_value(std::string& out, const std::string& x) {
  bool quote = x.empty();
  for (auto c : x)
    if (c == ' ' || c == '"' || c == '=' || c == '\\' ||
        static_cast<unsigned char>(c) < 0x20)
      quote = true;
  if (!quote) {
    out += x;
    return;
  }
  out += '"';
  for (auto c : x) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
    } else {
      out += c;
    }
  }
  out += '"';
}

} // namespace

void set_level(level x) {
  current = x;
}

level current_level() {
  return current;
}

bool parse_level(std::string_view str, level& out) {
  return http::parse_log_level(str, out);
}

void write(level lvl, std::string_view event,
           std::initializer_list<field> fields) {
  if (!http::log_enabled(lvl, current.load(std::memory_order_relaxed)))
    return;
  std::string line = "ts=";
  line += http::log_timestamp_now();
  line += " level=";
  line += http::level_name(lvl);
  line += " event=";
  append_value(line, std::string{event});
  for (auto& [key, val] : fields) {
    line += ' ';
    line += key;
    line += '=';
    append_value(line, val.text);
  }
  line += '\n';
  http::write_log_line(line);
}

} // namespace oms::log
