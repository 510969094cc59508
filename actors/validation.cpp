#include "actors/validation.hpp"

#include <limits>
#include <unordered_set>

#include <nlohmann/json.hpp>

namespace oms {

caf::error to_error(const problem& p) {
  return make_error(p.code, p.message, p.details_json);
}

namespace {

bool id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

std::optional<problem> check_text(std::string_view field, std::string_view str,
                                  bool required, const request_limits& limits) {
  if (required && str.empty())
    return field_problem(field, std::string{field} + " is required");
  if (str.size() > limits.text_length_max)
    return field_problem(field, std::string{field} + " is longer than " +
                                    std::to_string(limits.text_length_max) +
                                    " characters");
  for (auto c : str)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      return field_problem(field, std::string{field} +
                                      " contains a control character");
  return std::nullopt;
}

} // namespace

problem field_problem(std::string_view field, std::string message) {
  return problem{errc::validation_failed, std::move(message),
                 field_details(field)};
}

std::optional<problem> check_id(std::string_view field, std::string_view id,
                                const request_limits& limits) {
  if (id.empty())
    return field_problem(field, std::string{field} + " must not be empty");
  if (id.size() > limits.id_length_max)
    return field_problem(field, std::string{field} + " is longer than " +
                                    std::to_string(limits.id_length_max) +
                                    " characters");
  for (auto c : id)
    if (!id_char(c))
      return field_problem(
          field, std::string{field} +
                     " may only contain letters, digits, '.', '_' and '-'");
  return std::nullopt;
}

std::optional<problem> check_address(const address& addr,
                                     const request_limits& limits) {
  if (auto p = check_text("address.line1", addr.line1, true, limits))
    return p;
  if (auto p = check_text("address.line2", addr.line2, false, limits))
    return p;
  if (auto p = check_text("address.city", addr.city, true, limits))
    return p;
  if (auto p = check_text("address.postalCode", addr.postal_code, true, limits))
    return p;
  if (auto p = check_text("address.country", addr.country, true, limits))
    return p;
  return std::nullopt;
}

std::optional<problem> check_create_order(const create_order_request& req,
                                          const request_limits& limits) {
  if (auto p = check_id("customerId", req.customer, limits))
    return p;
  if (req.items.empty())
    return field_problem("items", "items must not be empty");
  if (req.items.size() > limits.lines_per_order_max)
    return field_problem(
        "items", "items has more than " +
                     std::to_string(limits.lines_per_order_max) + " lines");
  std::unordered_set<std::string_view> seen;
  for (size_t i = 0; i < req.items.size(); ++i) {
    auto& item = req.items[i];
    auto field = "items[" + std::to_string(i) + "]";
    if (auto p = check_id(field + ".sku", item.sku, limits))
      return p;
    if (item.quantity < 1 || item.quantity > limits.line_quantity_max)
      return field_problem(field + ".quantity",
                           field + ".quantity must be between 1 and " +
                               std::to_string(limits.line_quantity_max));
    if (!seen.insert(item.sku).second)
      return field_problem(field + ".sku",
                           field + ".sku repeats SKU " + item.sku +
                               ": give each SKU once with its total quantity");
    if (item.seller != seller::internal && item.seller != seller::external)
      return field_problem(field + ".seller",
                           field + ".seller is not a known seller");
  }
  for (auto& item : req.items)
    if (item.seller != req.items.front().seller) {
      nlohmann::json details;
      details["sellers"] = {to_string(req.items.front().seller),
                            to_string(item.seller)};
      return problem{errc::mixed_sellers,
                     "all items of an order must come from one seller",
                     details.dump()};
    }
  return check_address(req.ship_to, limits);
}

namespace {

// Why `lines` lines (named by `lines_setting`) of the limits' quantity and
// unit price could cost more than `money` holds, if they could.
std::optional<std::string> check_bound(const char* lines_setting, size_t lines,
                                       const request_limits& limits) {
  auto text = [&] {
    return std::string{lines_setting} + " " + std::to_string(lines) +
           " x --max-quantity " + std::to_string(limits.line_quantity_max) +
           " x --max-unit-price " + std::to_string(limits.unit_price_max);
  };
  if (lines < 1 || limits.line_quantity_max < 1 || limits.unit_price_max < 1)
    return text() + ": each must be at least 1";
  constexpr auto money_max = std::numeric_limits<money>::max();
  if (lines > static_cast<uint64_t>(money_max) ||
      !money_bound(static_cast<int64_t>(lines), limits.line_quantity_max,
                   limits.unit_price_max))
    return text() + " does not fit in a 64-bit amount (at most " +
           std::to_string(money_max) +
           " minor units): lower one of the three so that no total can "
           "overflow";
  return std::nullopt;
}

} // namespace

std::optional<std::string> check_money_bounds(const request_limits& limits,
                                              size_t cart_lines_max) {
  if (auto p = check_bound("--max-lines", limits.lines_per_order_max, limits))
    return p;
  return check_bound("--cart-lines-max", cart_lines_max, limits);
}

} // namespace oms
