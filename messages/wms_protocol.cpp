#include "messages/wms_protocol.hpp"

namespace oms {

const char* to_string(wms_op x) {
  switch (x) {
    case wms_op::read_inventory:
      return "read_inventory";
    case wms_op::reserve:
      return "reserve";
    case wms_op::block:
      return "block";
    case wms_op::ship:
      return "ship";
    case wms_op::release:
      return "release";
    case wms_op::reduce:
      return "reduce";
    case wms_op::return_receive:
      return "return_receive";
    case wms_op::return_restock:
      return "return_restock";
    case wms_op::return_damaged:
      return "return_damaged";
    default:
      return "read_events";
  }
}

const char* to_string(wms_breaker_state x) {
  switch (x) {
    case wms_breaker_state::closed:
      return "closed";
    case wms_breaker_state::open:
      return "open";
    default:
      return "half_open";
  }
}

} // namespace oms
