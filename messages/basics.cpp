#include "messages/basics.hpp"

namespace oms {

const char* to_string(seller x) {
  return x == seller::internal ? "INTERNAL" : "EXTERNAL";
}

bool parse_seller(std::string_view str, seller& out) {
  if (str == "INTERNAL") {
    out = seller::internal;
    return true;
  }
  if (str == "EXTERNAL") {
    out = seller::external;
    return true;
  }
  return false;
}

} // namespace oms
