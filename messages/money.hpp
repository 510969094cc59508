// Money arithmetic that cannot wrap: every sum and product of amounts goes
// through these, and an answer that does not fit in `money` is no answer.
#pragma once

#include <cstdint>
#include <optional>

#include "messages/basics.hpp"

namespace oms {

/// The highest unit price unless configured otherwise (omsd's
/// --max-unit-price): 10 crore rupees in paise.
inline constexpr money unit_price_max_default = 10'000'000'000;

/// a + b, or nothing if it does not fit in `money`.
inline std::optional<money> checked_add(money a, money b) {
  money sum = 0;
  if (__builtin_add_overflow(a, b, &sum))
    return std::nullopt;
  return sum;
}

/// a - b, or nothing if it does not fit in `money`.
inline std::optional<money> checked_sub(money a, money b) {
  money difference = 0;
  if (__builtin_sub_overflow(a, b, &difference))
    return std::nullopt;
  return difference;
}

/// `quantity` units at `unit_price` each, or nothing if it does not fit in
/// `money`.
inline std::optional<money> checked_mul(int64_t quantity, money unit_price) {
  money product = 0;
  if (__builtin_mul_overflow(quantity, unit_price, &product))
    return std::nullopt;
  return product;
}

/// The most `lines` lines of at most `quantity_max` units at most
/// `unit_price_max` each can cost, or nothing if that does not fit in
/// `money`: the bound a configuration's limits must keep (see
/// docs/api.md, "Limits").
inline std::optional<money> money_bound(int64_t lines, int64_t quantity_max,
                                        money unit_price_max) {
  auto line_max = checked_mul(quantity_max, unit_price_max);
  if (!line_max)
    return std::nullopt;
  return checked_mul(lines, *line_max);
}

} // namespace oms
