#include "messages/orders.hpp"

#include <algorithm>

#include "messages/enum_text.hpp"
#include "messages/money.hpp"

namespace oms {

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
    case order_status::partially_shipped:
      return "PARTIALLY_SHIPPED";
  }
  return "UNKNOWN";
}

bool parse_order_status(std::string_view str, order_status& out) {
  if (parse_name(str, last_order_status, out))
    return true;
  if (str == "FULFILLED") {
    out = order_status::delivered;
    return true;
  }
  return false;
}

int64_t held_quantity(const order_record& order, const order_line& line) {
  switch (order.status) {
    case order_status::created:
    case order_status::confirmed:
    case order_status::paid:
    case order_status::partially_shipped:
      return unshipped_quantity(line);
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

money amount_due(const order_record& order) {
  if (order.status == order_status::cancelled)
    return 0;
  // 0 <= refunded <= paid <= total holds for every record the planners
  // make; a record that breaks it owes its whole total rather than less.
  auto net = checked_sub(order.paid_amount, order.refunded_amount);
  if (!net || *net < 0)
    return std::max<money>(order.total_amount, 0);
  return order.total_amount > *net ? order.total_amount - *net : 0;
}

const payment_record* pending_payment(const order_record& order,
                                      payment_kind kind) {
  for (auto& p : order.payments)
    if (p.kind == kind && p.status == payment_status::pending)
      return &p;
  return nullptr;
}

std::optional<money> order_total(const std::vector<order_line>& lines) {
  money total = 0;
  for (auto& line : lines) {
    auto line_total =
        checked_mul(line.quantity - line.cancelled_quantity, line.unit_price);
    if (!line_total)
      return std::nullopt;
    auto sum = checked_add(total, *line_total);
    if (!sum)
      return std::nullopt;
    total = *sum;
  }
  return total;
}

} // namespace oms
