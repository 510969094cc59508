#include "messages/basics.hpp"

#include "messages/enum_text.hpp"

namespace oms {

const char* to_string(seller x) {
  return x == seller::internal ? "INTERNAL" : "EXTERNAL";
}

bool parse_seller(std::string_view str, seller& out) {
  return parse_name(str, seller::external, out);
}

} // namespace oms
