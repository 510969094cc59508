#include "actors/ids.hpp"

#include <array>
#include <cerrno>
#include <cstdint>
#include <stdexcept>

#include <sys/random.h>

namespace oms {

std::string random_id(std::string_view prefix) {
  // Crockford's base32 alphabet: no I, L, O, U; lower case.
  static constexpr char alphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";
  std::array<uint8_t, 17> bytes{}; // 130 bits drawn, 128 used + 2 spare
  size_t got = 0;
  while (got < 16) {
    auto n = getrandom(bytes.data() + got, 16 - got, 0);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      // No entropy source is a broken host, not an operating error.
      throw std::runtime_error("getrandom failed");
    }
    got += static_cast<size_t>(n);
  }
  std::string result{prefix};
  result.reserve(prefix.size() + 26);
  // Read the bytes as a bit stream, 5 bits per character.
  uint32_t buffer = 0;
  int bits = 0;
  size_t i = 0;
  for (int c = 0; c < 26; ++c) {
    if (bits < 5) {
      buffer = (buffer << 8) | bytes[i++];
      bits += 8;
    }
    result += alphabet[(buffer >> (bits - 5)) & 0x1f];
    bits -= 5;
  }
  return result;
}

} // namespace oms
