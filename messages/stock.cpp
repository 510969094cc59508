#include "messages/stock.hpp"

#include <algorithm>

#include "messages/enum_text.hpp"

namespace oms {

const char* to_string(unallocatable_reason x) {
  switch (x) {
    case unallocatable_reason::damaged:
      return "DAMAGED";
    case unallocatable_reason::quarantined:
      return "QUARANTINED";
    case unallocatable_reason::expired:
      return "EXPIRED";
    case unallocatable_reason::safety_stock:
      return "SAFETY_STOCK";
  }
  return "UNKNOWN";
}

bool parse_unallocatable_reason(std::string_view str,
                                unallocatable_reason& out) {
  return parse_name(str, unallocatable_reason::safety_stock, out);
}

std::vector<lot_allocation>
take_allocations(const std::vector<lot_allocation>& lots, int64_t quantity) {
  std::vector<lot_allocation> result;
  for (auto& a : lots) {
    if (quantity <= 0)
      break;
    auto n = std::min(a.quantity, quantity);
    result.push_back(lot_allocation{a.lot, n});
    quantity -= n;
  }
  return result;
}

const char* to_string(hold_kind x) {
  return x == hold_kind::reserved ? "RESERVED" : "BLOCKED";
}

} // namespace oms
