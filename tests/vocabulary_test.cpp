// The names of the vocabulary's closed sets, as the API and the journal write
// them: each value has its name, each name parses back to its value, and text
// that names no value is refused without touching the output.
#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

#include "messages/domain.hpp"

using namespace oms;

namespace {

// Checks that value i of `Enum` is named names[i] and parses back from it,
// and that no text of `refused` parses.
template <class Enum>
void check_names(bool (*parse)(std::string_view, Enum&),
                 const std::vector<std::string>& names,
                 const std::vector<std::string>& refused) {
  auto other = static_cast<Enum>(names.size() - 1);
  for (size_t i = 0; i < names.size(); ++i) {
    auto x = static_cast<Enum>(i);
    CAPTURE(names[i]);
    CHECK(to_string(x) == names[i]);
    auto parsed = i == 0 ? other : static_cast<Enum>(0);
    REQUIRE(parse(names[i], parsed));
    CHECK(parsed == x);
  }
  for (auto& text : refused) {
    CAPTURE(text);
    auto parsed = other;
    CHECK_FALSE(parse(text, parsed));
    CHECK(parsed == other);
  }
}

} // namespace

TEST_CASE("seller names parse back, other spellings are refused") {
  check_names(parse_seller, {"INTERNAL", "EXTERNAL"},
              {"", "internal", "External", "EXTERNAL ", "UNKNOWN"});
}

TEST_CASE("unallocatable reasons parse back, other spellings are refused") {
  check_names(parse_unallocatable_reason,
              {"DAMAGED", "QUARANTINED", "EXPIRED", "SAFETY_STOCK"},
              {"", "damaged", "SAFETY STOCK", "UNKNOWN"});
}

TEST_CASE("stock change kinds parse back, other spellings are refused") {
  check_names(parse_stock_change_kind,
              {"RECEIPT", "ADJUSTMENT", "SET_ASIDE", "RETURN_ASIDE"},
              {"", "receipt", "DAMAGE", "UNKNOWN"});
}

TEST_CASE("journal event kinds parse back, other spellings are refused") {
  check_names(parse_event_kind,
              {"sku_created", "price_set", "stock_received", "stock_reserved",
               "stock_blocked", "stock_released", "stock_consumed",
               "order_created", "order_changed", "customer_created",
               "stock_moved", "stock_adjusted", "batch_expired", "inbox_cursor",
               "wms_synced"},
              {"", "SKU_CREATED", "stock_received ", "unknown"});
}

TEST_CASE("INBOX outcomes parse back, other spellings are refused") {
  check_names(parse_inbox_outcome, {"APPLIED", "DUPLICATE", "REJECTED"},
              {"", "applied", "Duplicate", "REJECTED ", "UNKNOWN"});
}
