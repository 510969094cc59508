#include "system/http/utf8.hpp"

#include <cstdint>

namespace oms::http {

bool valid_utf8(std::string_view bytes) {
  size_t i = 0;
  while (i < bytes.size()) {
    auto b0 = static_cast<uint8_t>(bytes[i]);
    if (b0 < 0x80) {
      ++i;
      continue;
    }
    // The sequence's length and the range its second byte must fall in:
    // the narrowed ranges after E0, ED, F0 and F4 refuse overlong forms,
    // surrogates and code points above U+10FFFF (RFC 3629, section 4).
    size_t len = 0;
    uint8_t lo = 0x80;
    uint8_t hi = 0xBF;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
      len = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      len = 3;
      if (b0 == 0xE0)
        lo = 0xA0;
      else if (b0 == 0xED)
        hi = 0x9F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      len = 4;
      if (b0 == 0xF0)
        lo = 0x90;
      else if (b0 == 0xF4)
        hi = 0x8F;
    } else {
      // 80..BF: a continuation byte without a lead; C0, C1: overlong
      // two-byte forms; F5..FF: never in UTF-8.
      return false;
    }
    if (bytes.size() - i < len)
      return false;
    auto b1 = static_cast<uint8_t>(bytes[i + 1]);
    if (b1 < lo || b1 > hi)
      return false;
    for (size_t k = 2; k < len; ++k) {
      auto b = static_cast<uint8_t>(bytes[i + k]);
      if (b < 0x80 || b > 0xBF)
        return false;
    }
    i += len;
  }
  return true;
}

} // namespace oms::http
