#include "actors/ids.hpp"

#include <array>
#include <cerrno>
#include <cstdint>
#include <stdexcept>

#include <sys/random.h>

namespace oms {

namespace {

// Crockford's base32 alphabet: no I, L, O, U; lower case.
constexpr char alphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";

void random_bytes(uint8_t* out, size_t n) {
  size_t got = 0;
  while (got < n) {
    auto r = getrandom(out + got, n - got, 0);
    if (r < 0) {
      if (errno == EINTR)
        continue;
      // No entropy source is a broken host, not an operating error.
      throw std::runtime_error("getrandom failed");
    }
    got += static_cast<size_t>(r);
  }
}

// Appends the 128 bits of `bytes` (big-endian) as 26 characters, 5 bits each,
// the first character carrying the top 3 bits.
void append_base32(std::string& out, const std::array<uint8_t, 16>& bytes) {
  // 130 bits of output: two leading zero bits, then the 128 bits.
  uint32_t buffer = 0;
  int bits = 2;
  size_t i = 0;
  for (int c = 0; c < 26; ++c) {
    if (bits < 5) {
      buffer = (buffer << 8) | bytes[i++];
      bits += 8;
    }
    out += alphabet[(buffer >> (bits - 5)) & 0x1f];
    bits -= 5;
  }
}

} // namespace

std::string random_id(std::string_view prefix) {
  std::array<uint8_t, 16> bytes{};
  random_bytes(bytes.data(), bytes.size());
  std::string result{prefix};
  result.reserve(prefix.size() + 26);
  append_base32(result, bytes);
  return result;
}

std::string time_ordered_id(std::string_view prefix, uint64_t unix_ms) {
  std::array<uint8_t, 16> bytes{};
  for (int b = 0; b < 6; ++b)
    bytes[static_cast<size_t>(b)] =
        static_cast<uint8_t>(unix_ms >> (8 * (5 - b)));
  random_bytes(bytes.data() + 6, 10);
  std::string result{prefix};
  result.reserve(prefix.size() + 26);
  append_base32(result, bytes);
  return result;
}

} // namespace oms
