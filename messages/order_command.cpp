#include "messages/order_command.hpp"

namespace oms {

const char* to_string(command_kind x) {
  switch (x) {
    case command_kind::confirm:
      return "confirm";
    case command_kind::pay:
      return "pay";
    case command_kind::ship:
      return "ship";
    case command_kind::deliver:
      return "deliver";
    case command_kind::cancel:
      return "cancel";
    case command_kind::expire:
      return "expire";
    case command_kind::ship_part:
      return "ship_part";
  }
  return "unknown";
}

} // namespace oms
