#include "messages/orders.hpp"

#include <algorithm>
#include <limits>

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

const char* to_string(return_status x) {
  switch (x) {
    case return_status::requested:
      return "REQUESTED";
    case return_status::received:
      return "RECEIVED";
    case return_status::inspected:
      return "INSPECTED";
    case return_status::refunded:
      return "REFUNDED";
    case return_status::rejected:
      return "REJECTED";
    case return_status::receiving:
      return "RECEIVING";
    case return_status::inspecting:
      return "INSPECTING";
  }
  return "UNKNOWN";
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

money returned_amount(const order_record& order) {
  money sum = 0;
  for (auto& r : order.returns)
    if (r.status == return_status::inspected ||
        r.status == return_status::refunded) {
      auto next = checked_add(sum, r.refund_amount);
      if (!next)
        return std::numeric_limits<money>::max();
      sum = *next;
    }
  return sum;
}

int64_t returned_quantity(const order_record& order, const sku_id& sku) {
  int64_t sum = 0;
  for (auto& r : order.returns)
    if (r.status != return_status::rejected)
      for (auto& l : r.lines)
        if (l.sku == sku)
          sum += l.quantity;
  return sum;
}

money amount_due(const order_record& order) {
  if (order.status == order_status::cancelled)
    return 0;
  // 0 <= refunded <= paid <= total holds for every record the planners
  // make; a record that breaks it owes its whole total rather than less.
  auto net = checked_sub(order.paid_amount, order.refunded_amount);
  if (!net || *net < 0)
    return std::max<money>(order.total_amount, 0);
  // Returned units accepted are no longer owed.
  auto owed = checked_sub(order.total_amount, returned_amount(order));
  auto total = owed ? std::max<money>(*owed, 0) : order.total_amount;
  return total > *net ? total - *net : 0;
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
