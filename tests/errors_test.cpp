// The error enum: stable codes, context carried through caf::error.
#include <doctest/doctest.h>

#include <caf/sec.hpp>

#include "messages/errors.hpp"

using namespace oms;

TEST_CASE("every code has a stable string that parses back") {
  // These strings are the public errorCode values; changing one breaks
  // clients, so they are spelled out here.
  CHECK(std::string{to_code(errc::validation_failed)} == "VALIDATION_FAILED");
  CHECK(std::string{to_code(errc::unknown_sku)} == "UNKNOWN_SKU");
  CHECK(std::string{to_code(errc::insufficient_stock)} == "INSUFFICIENT_STOCK");
  CHECK(std::string{to_code(errc::mixed_sellers)} == "MIXED_SELLERS");
  CHECK(std::string{to_code(errc::external_inventory_read_only)} ==
        "EXTERNAL_INVENTORY_READ_ONLY");
  CHECK(std::string{to_code(errc::order_not_found)} == "ORDER_NOT_FOUND");
  CHECK(std::string{to_code(errc::invalid_transition)} == "INVALID_TRANSITION");
  CHECK(std::string{to_code(errc::order_expired)} == "ORDER_EXPIRED");
  CHECK(std::string{to_code(errc::amount_mismatch)} == "AMOUNT_MISMATCH");
  CHECK(std::string{to_code(errc::cart_empty)} == "CART_EMPTY");
  CHECK(std::string{to_code(errc::payment_declined)} == "PAYMENT_DECLINED");
  CHECK(std::string{to_code(errc::payment_unavailable)} ==
        "PAYMENT_UNAVAILABLE");
  CHECK(std::string{to_code(errc::idempotency_key_reused)} ==
        "IDEMPOTENCY_KEY_REUSED");
  CHECK(std::string{to_code(errc::not_owner)} == "NOT_OWNER");
  auto last = static_cast<uint8_t>(errc::not_owner);
  for (uint8_t i = 0; i <= last; ++i) {
    errc parsed = errc::none;
    REQUIRE(parse_code(to_code(static_cast<errc>(i)), parsed));
    CHECK(static_cast<uint8_t>(parsed) == i);
  }
  errc parsed = errc::none;
  CHECK_FALSE(parse_code("NO_SUCH_CODE", parsed));
}

TEST_CASE("an error carries its message and details") {
  auto err = make_error(errc::insufficient_stock, "short", R"({"skus":[]})");
  CHECK(code_of(err) == errc::insufficient_stock);
  CHECK(message_of(err) == "short");
  CHECK(details_of(err) == R"({"skus":[]})");
  CHECK(describe(err).find("INSUFFICIENT_STOCK: short") == 0);
}

TEST_CASE("a foreign error counts as INTERNAL and no error as NONE") {
  caf::error foreign = caf::make_error(caf::sec::request_timeout);
  CHECK(code_of(foreign) == errc::internal);
  CHECK(details_of(foreign) == "{}");
  CHECK_FALSE(message_of(foreign).empty());
  CHECK(code_of(caf::error{}) == errc::none);
}

TEST_CASE("describing no error is safe") {
  // An empty caf::error has no category: every accessor must check first.
  caf::error none;
  CHECK(details_of(none) == "{}");
  CHECK(message_of(none).empty());
  CHECK(describe(none) == "NONE");
}
