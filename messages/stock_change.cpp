#include "messages/stock_change.hpp"

#include <cctype>

#include "messages/enum_text.hpp"

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
    case stock_change_kind::customer_return:
      return "CUSTOMER_RETURN";
    case stock_change_kind::reclassify:
      return "RECLASSIFY";
  }
  return "UNKNOWN";
}

bool parse_stock_change_kind(std::string_view str, stock_change_kind& out) {
  return parse_name(str, stock_change_kind::return_aside, out);
}

bool valid_event_id(std::string_view id) {
  if (id.empty() || id.size() > 128)
    return false;
  for (auto ch : id)
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' ||
          ch == '_' || ch == ':' || ch == '-'))
      return false;
  return true;
}

const char* to_string(inbox_outcome x) {
  switch (x) {
    case inbox_outcome::applied:
      return "APPLIED";
    case inbox_outcome::duplicate:
      return "DUPLICATE";
    case inbox_outcome::rejected:
      return "REJECTED";
  }
  return "UNKNOWN";
}

bool parse_inbox_outcome(std::string_view str, inbox_outcome& out) {
  return parse_name(str, inbox_outcome::rejected, out);
}

} // namespace oms
