// JSON renderings of the value types (camelCase field names, money in minor
// units next to the currency), and the strict parser of what comes in
// (messages/strict_json.hpp). The heavy nlohmann header stays out of other
// translation units: only the forward declarations are included here.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "messages/domain.hpp"
#include "messages/strict_json.hpp"

namespace oms {

struct wms_gateway_stats;

void to_json(nlohmann::json& j, const order_item& x);
void to_json(nlohmann::json& j, const address& x);
void to_json(nlohmann::json& j, const stock_view& x);
void to_json(nlohmann::json& j, const hold_view& x);
void to_json(nlohmann::json& j, const batch_view& x);
void to_json(nlohmann::json& j, const external_view& x);
void to_json(nlohmann::json& j, const lot_allocation& x);
void to_json(nlohmann::json& j, const inbox_result& x);
void to_json(nlohmann::json& j, const inventory_page& x);
void to_json(nlohmann::json& j, const order_line& x);
void to_json(nlohmann::json& j, const history_entry& x);
void to_json(nlohmann::json& j, const shipment& x);
void to_json(nlohmann::json& j, const order_return& x);
void to_json(nlohmann::json& j, const payment_record& x);
void to_json(nlohmann::json& j, const order_record& x);
void to_json(nlohmann::json& j, const cart_line& x);
void to_json(nlohmann::json& j, const cart_view& x);
void to_json(nlohmann::json& j, const order_page& x);
void to_json(nlohmann::json& j, const violation& x);
void to_json(nlohmann::json& j, const audit_report& x);
void to_json(nlohmann::json& j, const journal_stats& x);
void to_json(nlohmann::json& j, const wms_gateway_stats& x);

/// ISO 8601 UTC with milliseconds, e.g. "2026-11-22T10:15:00.123Z".
std::string format_timestamp(timestamp_ms at);

/// Parses an RFC 3339 timestamp in UTC: "2026-11-22T10:15:00Z", with an
/// optional fraction of a second (digits past milliseconds are dropped) and
/// "Z" or "+00:00" as the offset. Years 1970 to 9999. False for anything
/// else, other offsets included.
bool parse_timestamp(std::string_view text, timestamp_ms& out);

} // namespace oms
