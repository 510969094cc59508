#include "messages/domain.hpp"

#include <algorithm>

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

const char* to_string(order_status x) {
  switch (x) {
    case order_status::created:
      return "CREATED";
    case order_status::confirmed:
      return "CONFIRMED";
    case order_status::paid:
      return "PAID";
    case order_status::shipped:
      return "SHIPPED";
    case order_status::delivered:
      return "DELIVERED";
    case order_status::cancelled:
      return "CANCELLED";
  }
  return "UNKNOWN";
}

bool parse_order_status(std::string_view str, order_status& out) {
  static constexpr order_status all[] = {
      order_status::created, order_status::confirmed, order_status::paid,
      order_status::shipped, order_status::delivered, order_status::cancelled,
  };
  for (auto x : all)
    if (str == to_string(x)) {
      out = x;
      return true;
    }
  if (str == "FULFILLED") {
    out = order_status::delivered;
    return true;
  }
  return false;
}

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
  for (size_t i = 0; i < unallocatable_reason_count; ++i)
    if (str == to_string(static_cast<unallocatable_reason>(i))) {
      out = static_cast<unallocatable_reason>(i);
      return true;
    }
  return false;
}

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
  for (int i = 0; i <= static_cast<int>(wms_state::released); ++i)
    if (str == to_string(static_cast<wms_state>(i))) {
      out = static_cast<wms_state>(i);
      return true;
    }
  return false;
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
  }
  return "unknown";
}

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
  }
  return "unknown";
}

bool parse_event_kind(std::string_view str, event_kind& out) {
  for (int i = 0; i <= static_cast<int>(event_kind::wms_synced); ++i)
    if (str == to_string(static_cast<event_kind>(i))) {
      out = static_cast<event_kind>(i);
      return true;
    }
  return false;
}

int64_t held_quantity(const order_record& order, const order_line& line) {
  switch (order.status) {
    case order_status::created:
    case order_status::confirmed:
    case order_status::paid:
      return line.quantity - line.cancelled_quantity;
    default:
      return 0;
  }
}

const char* to_string(payment_kind x) {
  return x == payment_kind::charge ? "CHARGE" : "REFUND";
}

const char* to_string(payment_status x) {
  switch (x) {
    case payment_status::pending:
      return "PENDING";
    case payment_status::succeeded:
      return "SUCCEEDED";
    default:
      return "FAILED";
  }
}

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

money amount_due(const order_record& order) {
  if (order.status == order_status::cancelled)
    return 0;
  auto net = order.paid_amount - order.refunded_amount;
  return order.total_amount > net ? order.total_amount - net : 0;
}

const payment_record* pending_payment(const order_record& order,
                                      payment_kind kind) {
  for (auto& p : order.payments)
    if (p.kind == kind && p.status == payment_status::pending)
      return &p;
  return nullptr;
}

money order_total(const std::vector<order_line>& lines) {
  money total = 0;
  for (auto& line : lines)
    total += (line.quantity - line.cancelled_quantity) * line.unit_price;
  return total;
}

} // namespace oms
