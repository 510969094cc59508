#include "actors/fingerprint.hpp"

#include <cstdint>
#include <cstdio>

namespace oms {

std::string fingerprint_of(std::string_view text) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx",
                static_cast<unsigned long long>(h));
  return buf;
}

namespace {

// Appends a length-prefixed field, so no field's text can fake a separator.
void field(std::string& out, std::string_view x) {
  out += std::to_string(x.size());
  out += ':';
  out += x;
}

} // namespace

std::string fingerprint_of(const create_order_request& req) {
  std::string text = "create|";
  field(text, req.customer);
  for (auto& item : req.items) {
    field(text, item.sku);
    field(text, std::to_string(item.quantity));
    field(text, to_string(item.seller));
  }
  auto& a = req.ship_to;
  for (auto* x : {&a.line1, &a.line2, &a.city, &a.postal_code, &a.country})
    field(text, *x);
  return fingerprint_of(text);
}

std::string check_idempotency_key(std::string_view key) {
  if (key.size() > 255)
    return "Idempotency-Key is longer than 255 characters";
  for (auto c : key)
    if (c < 0x21 || c > 0x7e)
      return "Idempotency-Key may only contain printable ASCII without spaces";
  return {};
}

} // namespace oms
