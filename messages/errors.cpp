#include "messages/errors.hpp"

#include <array>

#include <caf/atom.hpp>
#include <caf/message.hpp>
#include <caf/sec.hpp>
#include <nlohmann/json.hpp>

namespace oms {

namespace {

constexpr std::array<const char*, static_cast<size_t>(errc::not_owner) + 1>
    codes = {
        "NONE",
        "VALIDATION_FAILED",
        "UNKNOWN_SKU",
        "INSUFFICIENT_STOCK",
        "MIXED_SELLERS",
        "EXTERNAL_INVENTORY_READ_ONLY",
        "ORDER_NOT_FOUND",
        "INVALID_TRANSITION",
        "ORDER_EXPIRED",
        "WMS_UNAVAILABLE",
        "STORE_FAILURE",
        "INTERNAL",
        "UNAVAILABLE",
        "AMOUNT_MISMATCH",
        "CART_EMPTY",
        "PAYMENT_DECLINED",
        "PAYMENT_UNAVAILABLE",
        "IDEMPOTENCY_KEY_REUSED",
        "UNAUTHORIZED",
        "FORBIDDEN",
        "NOT_FOUND",
        "PAYLOAD_TOO_LARGE",
        "RATE_LIMITED",
        "NOT_READY",
        "METHOD_NOT_ALLOWED",
        "PRECONDITION_FAILED",
        "CONFLICT",
        "EVENTS_EXPIRED",
        "RETURN_WINDOW_CLOSED",
        "NOT_OWNER",
};
static_assert(codes.back() != nullptr, "a code without its string");

constexpr caf::atom_value category = caf::atom("oms");

} // namespace

const char* to_code(errc x) {
  auto i = static_cast<size_t>(x);
  return i < codes.size() ? codes[i] : "INTERNAL";
}

bool parse_code(std::string_view str, errc& out) {
  for (size_t i = 0; i < codes.size(); ++i)
    if (str == codes[i]) {
      out = static_cast<errc>(i);
      return true;
    }
  return false;
}

caf::error make_error(errc code, std::string message,
                      std::string details_json) {
  return caf::error{
      static_cast<uint8_t>(code), category,
      caf::make_message(std::move(message), std::move(details_json))};
}

std::string field_details(std::string_view field) {
  if (field.empty())
    return "{}";
  return nlohmann::json{{"field", std::string{field}}}.dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);
}

caf::error version_mismatch(std::string_view what, uint64_t version,
                            uint64_t if_version) {
  if (if_version == 0 || if_version == version)
    return {};
  return make_error(
      errc::precondition_failed,
      std::string{what} + " is at version " + std::to_string(version) +
          ", not " + std::to_string(if_version) + " (If-Match): read it again",
      "{\"version\":" + std::to_string(version) + "}");
}

errc code_of(const caf::error& err) {
  if (!err)
    return errc::none;
  if (err.category() != category)
    return errc::internal;
  return static_cast<errc>(err.code());
}

namespace {

// Our context is (message, details); anything else is foreign.
bool has_our_context(const caf::error& err) {
  return err && err.category() == category &&
         err.context().match_elements<std::string, std::string>();
}

} // namespace

std::string message_of(const caf::error& err) {
  if (!err)
    return {};
  if (has_our_context(err))
    return err.context().get_as<std::string>(0);
  if (err.category() == caf::atom("system"))
    return to_string(static_cast<caf::sec>(err.code()));
  return "error " + std::to_string(err.code());
}

std::string details_of(const caf::error& err) {
  if (has_our_context(err))
    return err.context().get_as<std::string>(1);
  return "{}";
}

std::string describe(const caf::error& err) {
  std::string result = to_code(code_of(err));
  auto msg = message_of(err);
  if (!msg.empty()) {
    result += ": ";
    result += msg;
  }
  auto details = details_of(err);
  if (details != "{}") {
    result += " ";
    result += details;
  }
  return result;
}

std::string render_error(uint8_t code, caf::atom_value,
                         const caf::message& context) {
  std::string result = to_code(static_cast<errc>(code));
  if (context.match_elements<std::string, std::string>()) {
    result += ": ";
    result += context.get_as<std::string>(0);
  }
  return result;
}

} // namespace oms
