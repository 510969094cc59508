// The order system's basic values: identifiers, time, money and sellers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace oms {

using sku_id = std::string;
using order_id = std::string;
using customer_id = std::string;
/// An amount of money in minor units (paise). Never a floating point value.
using money = int64_t;
/// Milliseconds since the Unix epoch.
using timestamp_ms = int64_t;

/// The single currency the system trades in.
inline constexpr const char* currency = "INR";

// -- sellers ------------------------------------------------------------------

/// Who owns the stock: the platform itself or the one external seller whose
/// warehouse is reached through its WMS.
enum class seller : uint8_t { internal = 0, external = 1 };

/// "INTERNAL" or "EXTERNAL".
const char* to_string(seller x);

/// Parses "INTERNAL" / "EXTERNAL" (case-sensitive). Returns false otherwise.
bool parse_seller(std::string_view str, seller& out);

} // namespace oms
