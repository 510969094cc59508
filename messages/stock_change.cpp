#include "messages/stock_change.hpp"

namespace oms {

const char* to_string(stock_change_kind x) {
  switch (x) {
    case stock_change_kind::receipt:
      return "RECEIPT";
    case stock_change_kind::adjustment:
      return "ADJUSTMENT";
    case stock_change_kind::set_aside:
      return "SET_ASIDE";
    case stock_change_kind::return_aside:
      return "RETURN_ASIDE";
  }
  return "UNKNOWN";
}

bool parse_stock_change_kind(std::string_view str, stock_change_kind& out) {
  for (int i = 0; i <= static_cast<int>(stock_change_kind::return_aside); ++i)
    if (str == to_string(static_cast<stock_change_kind>(i))) {
      out = static_cast<stock_change_kind>(i);
      return true;
    }
  return false;
}

} // namespace oms
