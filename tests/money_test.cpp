// Money arithmetic that cannot wrap: the checked helpers, the totals built on
// them, and the bound the limits must keep.
#include <doctest/doctest.h>

#include <limits>

#include "actors/validation.hpp"
#include "messages/domain.hpp"
#include "messages/money.hpp"

using namespace oms;

namespace {

constexpr money money_max = std::numeric_limits<money>::max();
constexpr money money_min = std::numeric_limits<money>::min();

order_line line(const std::string& sku, int64_t quantity, money unit_price,
                int64_t cancelled = 0) {
  return order_line{sku, quantity, unit_price, cancelled, 0, {}};
}

cart_view cart(std::vector<std::pair<int64_t, money>> lines) {
  cart_view v;
  v.customer = "c1";
  for (auto& [qty, price] : lines)
    v.lines.push_back(
        cart_line{"S" + std::to_string(v.lines.size()), qty, price, 0, 0});
  return v;
}

} // namespace

TEST_CASE("money: checked_add gives the sum when it fits, nothing when not") {
  // Proves both edges of int64: the largest sums still fit, one more wraps
  // and is refused, negative sums likewise at the bottom.
  CHECK(checked_add(2, 3) == money{5});
  CHECK(checked_add(money_max - 1, 1) == money_max);
  CHECK(checked_add(money_max, 0) == money_max);
  CHECK_FALSE(checked_add(money_max, 1));
  CHECK_FALSE(checked_add(money_max / 2 + 1, money_max / 2 + 1));
  CHECK(checked_add(money_min, 0) == money_min);
  CHECK_FALSE(checked_add(money_min, -1));
  CHECK(checked_add(-5, 3) == money{-2});
}

TEST_CASE("money: checked_sub gives the difference when it fits") {
  CHECK(checked_sub(5, 3) == money{2});
  CHECK(checked_sub(0, money_max) == -money_max);
  CHECK_FALSE(checked_sub(money_min, 1));
  CHECK_FALSE(checked_sub(money_max, -1));
  CHECK_FALSE(checked_sub(-2, money_max));
}

TEST_CASE("money: checked_mul gives quantity x unit price when it fits") {
  // 922,337,203 units at 10^10 fit; 10^9 units at 10^10 (the report's
  // --max-quantity 1000000000) do not.
  CHECK(checked_mul(3, 100) == money{300});
  CHECK(checked_mul(0, money_max) == money{0});
  CHECK(checked_mul(922'337'203, 10'000'000'000) ==
        money{9'223'372'030'000'000'000});
  CHECK_FALSE(checked_mul(1'000'000'000, 10'000'000'000));
  CHECK_FALSE(checked_mul(2, money_max / 2 + 1));
  CHECK(checked_mul(money_max, 1) == money_max);
  CHECK_FALSE(checked_mul(-1, money_min));
  CHECK_FALSE(checked_mul(money_min, 2));
}

TEST_CASE("money: the bound of lines x quantity x unit price fits or is "
          "nothing") {
  CHECK(money_bound(100, 1'000'000, unit_price_max_default) ==
        money{1'000'000'000'000'000'000});
  CHECK(money_bound(1, 922'337'203, 10'000'000'000));
  // Each pair fits, the three together do not.
  CHECK_FALSE(money_bound(100, 1'000'000'000, 10'000'000'000));
  CHECK_FALSE(money_bound(1'000, 1'000'000, 10'000'000'000));
  CHECK_FALSE(money_bound(1, money_max, 2));
}

TEST_CASE("money: an order's total is its lines' cost, or nothing if that "
          "does not fit") {
  // Proves the product of each line and the sum of the lines are both
  // checked, and that cancelled units do not count.
  CHECK(order_total({}) == money{0});
  CHECK(order_total({line("A", 3, 100), line("B", 2, 250)}) == money{800});
  CHECK(order_total({line("A", 3, 100, 1)}) == money{200});
  // One line too costly on its own (what wrapped to a negative total).
  CHECK_FALSE(order_total({line("A", 1'000'000'000, 10'000'000'000)}));
  // Two lines that fit alone but not together.
  auto half = line("A", 500'000'000, 10'000'000'000);
  CHECK(order_total({half}) == money{5'000'000'000'000'000'000});
  CHECK_FALSE(order_total({half, line("B", 500'000'000, 10'000'000'000)}));
  // The largest total that fits is kept exactly.
  CHECK(order_total({line("A", 1, money_max - 1), line("B", 1, 1)}) ==
        money_max);
}

TEST_CASE("money: a cart is totalled without wrapping, or refused") {
  auto ok = cart({{2, 1000}, {3, 250}});
  REQUIRE(total_cart(ok));
  CHECK(ok.lines[0].line_total == 2000);
  CHECK(ok.lines[1].line_total == 750);
  CHECK(ok.total == 2750);
  // A line whose product does not fit: nothing wrapped is left behind.
  auto one = cart({{2, 1000}, {1'000'000'000, 10'000'000'000}});
  CHECK_FALSE(total_cart(one));
  CHECK(one.total == 0);
  CHECK(one.lines[0].line_total == 0);
  CHECK(one.lines[1].line_total == 0);
  // Lines that fit alone but whose sum does not.
  auto sum =
      cart({{500'000'000, 10'000'000'000}, {500'000'000, 10'000'000'000}});
  CHECK_FALSE(total_cart(sum));
  CHECK(sum.total == 0);
  auto empty = cart({});
  CHECK(total_cart(empty));
  CHECK(empty.total == 0);
}

TEST_CASE("money: the amount due never comes out lower than the total for a "
          "record whose amounts do not add up") {
  // A record breaking 0 <= refunded <= paid owes its whole total: a broken
  // record never makes paying less (or 0) enough.
  order_record rec;
  rec.status = order_status::confirmed;
  rec.total_amount = 800;
  CHECK(amount_due(rec) == 800);
  rec.paid_amount = 800;
  CHECK(amount_due(rec) == 0);
  rec.refunded_amount = 300;
  CHECK(amount_due(rec) == 300);
  rec.paid_amount = money_min;
  rec.refunded_amount = 1;
  CHECK(amount_due(rec) == 800);
  rec.paid_amount = 0;
  rec.refunded_amount = 5;
  CHECK(amount_due(rec) == 800);
  rec.total_amount = -5; // what a wrapped total looked like
  CHECK(amount_due(rec) == 0);
  rec.status = order_status::cancelled;
  CHECK(amount_due(rec) == 0);
}

TEST_CASE("money: the default limits keep every total in range") {
  request_limits limits;
  CHECK_FALSE(check_money_bounds(limits, 100));
  CHECK(limits.unit_price_max == unit_price_max_default);
  // The largest quantity per line that fits 100 lines at 10^10.
  limits.line_quantity_max = 9'223'372;
  CHECK_FALSE(check_money_bounds(limits, 100));
  // A lower price limit makes room for a larger quantity.
  limits.line_quantity_max = 1'000'000'000;
  limits.unit_price_max = 9'000'000;
  CHECK_FALSE(check_money_bounds(limits, 100));
}

TEST_CASE("money: limits whose product does not fit are refused, naming the "
          "three settings") {
  request_limits limits;
  limits.line_quantity_max = 1'000'000'000; // the report's setting
  auto why = check_money_bounds(limits, 100);
  REQUIRE(why);
  CHECK(why->find("--max-lines 100") != std::string::npos);
  CHECK(why->find("--max-quantity 1000000000") != std::string::npos);
  CHECK(why->find("--max-unit-price 10000000000") != std::string::npos);
  // One line more than fits: 923 x 10^6 x 10^10 > 2^63 - 1.
  limits = request_limits{};
  limits.lines_per_order_max = 923;
  REQUIRE(check_money_bounds(limits, 100));
  limits.lines_per_order_max = 922;
  CHECK_FALSE(check_money_bounds(limits, 100));
  // The cart's bound is checked on its own line limit.
  auto cart_why = check_money_bounds(limits, 1000);
  REQUIRE(cart_why);
  CHECK(cart_why->find("--cart-lines-max 1000") != std::string::npos);
  CHECK_FALSE(check_money_bounds(limits, 922));
  // A price limit too high for even one unit of one line.
  limits = request_limits{};
  limits.unit_price_max = std::numeric_limits<money>::max();
  CHECK(check_money_bounds(limits, 1));
  // Zero or negative limits are no limits.
  limits = request_limits{};
  limits.unit_price_max = 0;
  CHECK(check_money_bounds(limits, 100));
  limits = request_limits{};
  limits.line_quantity_max = -1;
  CHECK(check_money_bounds(limits, 100));
  CHECK(check_money_bounds(request_limits{}, 0));
}
