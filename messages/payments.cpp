#include "messages/payments.hpp"

namespace oms {

const char* to_string(gateway_status x) {
  switch (x) {
    case gateway_status::approved:
      return "APPROVED";
    case gateway_status::declined:
      return "DECLINED";
    case gateway_status::unavailable:
      return "UNAVAILABLE";
    default:
      return "NOT_FOUND";
  }
}

} // namespace oms
