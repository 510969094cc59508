#include "messages/customers.hpp"

#include "messages/money.hpp"

namespace oms {

bool total_cart(cart_view& view) {
  auto clear = [&view] {
    for (auto& line : view.lines)
      line.line_total = 0;
    view.total = 0;
    return false;
  };
  money total = 0;
  for (auto& line : view.lines) {
    auto line_total = checked_mul(line.quantity, line.unit_price);
    if (!line_total)
      return clear();
    auto sum = checked_add(total, *line_total);
    if (!sum)
      return clear();
    line.line_total = *line_total;
    total = *sum;
  }
  view.total = total;
  return true;
}

} // namespace oms
