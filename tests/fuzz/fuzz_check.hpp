// What the fuzz targets share: a check that stops the run with a message
// when a property fails (libFuzzer then keeps the input as a crash), and the
// splitting of an input into the byte that picks its kind and text.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <utility>

namespace oms::fuzz {

[[noreturn]] inline void failed(const char* what, const char* file, int line) {
  std::fprintf(stderr, "fuzz property failed at %s:%d: %s\n", file, line, what);
  std::abort();
}

/// Which of `n` kinds of input the first byte picks: 'a' the first, 'b' the
/// second, ..., so that a seed file names its kind in its first letter
/// (every byte picks one).
inline unsigned pick(uint8_t first, unsigned n) {
  return static_cast<uint8_t>(first - 'a') % n;
}

/// The input as text.
inline std::string_view text_of(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

/// Splits `text` at its first '\n': what comes before, and after (empty
/// when there is none).
inline std::pair<std::string_view, std::string_view>
split_line(std::string_view text) {
  auto nl = text.find('\n');
  if (nl == std::string_view::npos)
    return {text, {}};
  return {text.substr(0, nl), text.substr(nl + 1)};
}

} // namespace oms::fuzz

/// Stops the run unless `cond` holds; `what` says which property failed.
#define FUZZ_CHECK(cond, what)                                                 \
  do {                                                                         \
    if (!(cond))                                                               \
      ::oms::fuzz::failed(what, __FILE__, __LINE__);                           \
  } while (false)
