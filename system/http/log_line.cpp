#include "system/http/log_line.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <iterator>

namespace oms::http {

namespace {

// By level, debug first.
constexpr const char* level_names[] = {"debug", "info", "warn", "error", "off"};

} // namespace

const char* level_name(log_level x) {
  auto i = static_cast<size_t>(x);
  return i < std::size(level_names) ? level_names[i] : "off";
}

bool parse_log_level(std::string_view text, log_level& out) {
  for (size_t i = 0; i < std::size(level_names); ++i)
    if (text == level_names[i]) {
      out = static_cast<log_level>(i);
      return true;
    }
  return false;
}

std::string log_timestamp_now() {
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
  return ts;
}

void write_log_line(const std::string& line) {
  std::fwrite(line.data(), 1, line.size(), stderr);
}

} // namespace oms::http
