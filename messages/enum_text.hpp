// Reads a value of one of our enums back from the name its to_string writes.
#pragma once

#include <cstddef>
#include <string_view>

namespace oms {

/// Finds among the values of `Enum` from 0 to `last` the one whose to_string
/// is `str` (case-sensitive); false if none is. `Enum`'s values must be
/// numbered 0, 1, 2, ... without gaps.
template <class Enum>
bool parse_name(std::string_view str, Enum last, Enum& out) {
  for (size_t i = 0; i <= static_cast<size_t>(last); ++i) {
    auto x = static_cast<Enum>(i);
    if (str == to_string(x)) {
      out = x;
      return true;
    }
  }
  return false;
}

} // namespace oms
