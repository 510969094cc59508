#include "system/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace oms::log {

namespace {

std::atomic<level> current{level::info};

const char* name(level x) {
  switch (x) {
    case level::debug:
      return "debug";
    case level::info:
      return "info";
    case level::warn:
      return "warn";
    case level::error:
      return "error";
    default:
      return "off";
  }
}

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
  for (auto x :
       {level::debug, level::info, level::warn, level::error, level::off})
    if (str == name(x)) {
      out = x;
      return true;
    }
  return false;
}

void write(level lvl, std::string_view event,
           std::initializer_list<field> fields) {
  if (lvl < current.load(std::memory_order_relaxed) || lvl == level::off)
    return;
  using namespace std::chrono;
  auto now = system_clock::now();
  auto secs = system_clock::to_time_t(now);
  auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char ts[64];
  std::snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  std::string line = "ts=";
  line += ts;
  line += " level=";
  line += name(lvl);
  line += " event=";
  append_value(line, std::string{event});
  for (auto& [key, val] : fields) {
    line += ' ';
    line += key;
    line += '=';
    append_value(line, val.text);
  }
  line += '\n';
  // One fwrite per line keeps lines whole when threads log at once.
  std::fwrite(line.data(), 1, line.size(), stderr);
}

} // namespace oms::log
