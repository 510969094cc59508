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
  return slice_allocations(lots, 0, quantity);
}

std::vector<lot_allocation>
slice_allocations(const std::vector<lot_allocation>& lots, int64_t skip,
                  int64_t quantity) {
  std::vector<lot_allocation> result;
  for (auto& a : lots) {
    if (quantity <= 0)
      break;
    auto from = std::min(std::max<int64_t>(skip, 0), a.quantity);
    skip -= from;
    auto n = std::min(a.quantity - from, quantity);
    if (n <= 0)
      continue;
    result.push_back(lot_allocation{a.lot, n, a.expires_at});
    quantity -= n;
  }
  return result;
}

const char* to_string(hold_kind x) {
  return x == hold_kind::reserved ? "RESERVED" : "BLOCKED";
}

const char* to_string(hold_op x) {
  switch (x) {
    case hold_op::reserve:
      return "reserve";
    case hold_op::block:
      return "block";
    case hold_op::release:
      return "release";
    case hold_op::reduce:
      return "reduce";
    case hold_op::consume:
      return "consume";
    case hold_op::lapse:
      return "lapse";
    case hold_op::watch:
      return "watch";
    case hold_op::check:
      return "check";
  }
  return "?";
}

const char* to_string(wms_state x) {
  switch (x) {
    case wms_state::none:
      return "NONE";
    case wms_state::reserved:
      return "RESERVED";
    case wms_state::blocked:
      return "BLOCKED";
    case wms_state::shipped:
      return "SHIPPED";
    case wms_state::released:
      return "RELEASED";
  }
  return "UNKNOWN";
}

bool parse_wms_state(std::string_view str, wms_state& out) {
  return parse_name(str, wms_state::released, out);
}

bool operator==(const wms_standing& x, const wms_standing& y) {
  return x.known == y.known && x.wanted == y.wanted;
}

std::string to_string(const wms_standing& x) {
  std::string result = to_string(x.known);
  if (x.wanted) {
    result += '>';
    result += to_string(*x.wanted);
  }
  return result;
}

bool parse_wms_standing(std::string_view str, wms_standing& out) {
  auto pos = str.find('>');
  out = wms_standing{};
  bool ok = parse_wms_state(str.substr(0, pos), out.known);
  if (pos == std::string_view::npos)
    return ok;
  wms_state wanted;
  if (!parse_wms_state(str.substr(pos + 1), wanted))
    return false;
  out.wanted = wanted;
  return ok;
}

} // namespace oms
