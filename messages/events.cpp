#include "messages/events.hpp"

#include "messages/enum_text.hpp"

namespace oms {

const char* to_string(event_kind x) {
  switch (x) {
    case event_kind::sku_created:
      return "sku_created";
    case event_kind::price_set:
      return "price_set";
    case event_kind::stock_received:
      return "stock_received";
    case event_kind::stock_reserved:
      return "stock_reserved";
    case event_kind::stock_blocked:
      return "stock_blocked";
    case event_kind::stock_released:
      return "stock_released";
    case event_kind::stock_consumed:
      return "stock_consumed";
    case event_kind::order_created:
      return "order_created";
    case event_kind::order_changed:
      return "order_changed";
    case event_kind::customer_created:
      return "customer_created";
    case event_kind::stock_moved:
      return "stock_moved";
    case event_kind::stock_adjusted:
      return "stock_adjusted";
    case event_kind::batch_expired:
      return "batch_expired";
    case event_kind::inbox_cursor:
      return "inbox_cursor";
    case event_kind::wms_synced:
      return "wms_synced";
    case event_kind::inbox_forgotten:
      return "inbox_forgotten";
    case event_kind::stock_returned:
      return "stock_returned";
  }
  return "unknown";
}

std::optional<order_status> status_before(const event& ev) {
  constexpr auto last = static_cast<int64_t>(last_order_status);
  if (ev.kind != event_kind::order_changed || ev.quantity < 1 ||
      ev.quantity > last + 1)
    return std::nullopt;
  return static_cast<order_status>(ev.quantity - 1);
}

bool parse_event_kind(std::string_view str, event_kind& out) {
  return parse_name(str, last_event_kind, out);
}

} // namespace oms
