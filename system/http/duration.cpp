#include "system/http/duration.hpp"

#include <limits>

namespace oms::http {

namespace {

struct unit {
  std::string_view suffix;
  int64_t ms;
};

// Largest first (format_duration_ms takes the first that divides).
constexpr unit units[] = {
    {"d", 86'400'000}, {"h", 3'600'000}, {"m", 60'000}, {"s", 1000}};

} // namespace

std::optional<int64_t> parse_duration_ms(std::string_view text,
                                         duration_syntax syntax) {
  size_t i = 0;
  int64_t n = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    if (n > 1'000'000'000'000)
      return std::nullopt;
    n = n * 10 + (text[i] - '0');
    ++i;
  }
  if (i == 0)
    return std::nullopt;
  auto suffix = text.substr(i);
  int64_t size = 0;
  if (suffix == "ms")
    size = 1;
  else if (suffix.empty() && syntax.bare_seconds)
    size = 1000;
  for (auto& u : units)
    if (suffix == u.suffix && (u.suffix != "d" || syntax.days))
      size = u.ms;
  if (size == 0 || n > std::numeric_limits<int64_t>::max() / size)
    return std::nullopt;
  return n * size;
}

std::string format_duration_ms(int64_t ms, duration_syntax syntax) {
  for (auto& u : units)
    if (ms != 0 && ms % u.ms == 0 && (u.suffix != "d" || syntax.days))
      return std::to_string(ms / u.ms) + std::string{u.suffix};
  return std::to_string(ms) + "ms";
}

} // namespace oms::http
