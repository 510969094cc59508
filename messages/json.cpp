#include "messages/json.hpp"

#include <cstdio>
#include <ctime>

#include <nlohmann/json.hpp>

#include "messages/wms_protocol.hpp"

namespace oms {

std::string format_timestamp(timestamp_ms at) {
  if (at <= 0)
    return {};
  std::time_t secs = static_cast<std::time_t>(at / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec, static_cast<int>(at % 1000));
  return buf;
}

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
// days_from_civil).
int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2 ? 1 : 0;
  auto era = (y >= 0 ? y : y - 399) / 400;
  auto yoe = y - era * 400;
  auto doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  auto doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

bool leap_year(int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

// The `n` digits at `pos` of `text` as a number; false if any is not a digit.
bool digits(std::string_view text, size_t pos, size_t n, int64_t& out) {
  if (pos + n > text.size())
    return false;
  out = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (text[i] < '0' || text[i] > '9')
      return false;
    out = out * 10 + (text[i] - '0');
  }
  return true;
}

} // namespace

bool parse_timestamp(std::string_view text, timestamp_ms& out) {
  // YYYY-MM-DDTHH:MM:SS[.fraction](Z|+00:00)
  int64_t year, month, day, hour, minute, second;
  if (text.size() < 20 || !digits(text, 0, 4, year) || text[4] != '-' ||
      !digits(text, 5, 2, month) || text[7] != '-' ||
      !digits(text, 8, 2, day) || (text[10] != 'T' && text[10] != 't') ||
      !digits(text, 11, 2, hour) || text[13] != ':' ||
      !digits(text, 14, 2, minute) || text[16] != ':' ||
      !digits(text, 17, 2, second))
    return false;
  static constexpr int64_t month_days[] = {31, 28, 31, 30, 31, 30,
                                           31, 31, 30, 31, 30, 31};
  if (year < 1970 || month < 1 || month > 12 || day < 1 ||
      day > month_days[month - 1] + (month == 2 && leap_year(year) ? 1 : 0) ||
      hour > 23 || minute > 59 || second > 59)
    return false;
  size_t pos = 19;
  int64_t millis = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    size_t first = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (pos - first < 3)
        millis = millis * 10 + (text[pos] - '0');
      ++pos;
    }
    auto n = pos - first;
    if (n == 0 || n > 9)
      return false;
    for (auto k = n; k < 3; ++k)
      millis *= 10;
  }
  auto offset = text.substr(pos);
  if (offset != "Z" && offset != "z" && offset != "+00:00")
    return false;
  auto days = days_from_civil(year, month, day);
  out = ((days * 24 + hour) * 60 + minute) * 60'000 + second * 1000 + millis;
  return true;
}

namespace {

nlohmann::json time_or_null(timestamp_ms at) {
  if (at <= 0)
    return nullptr;
  return format_timestamp(at);
}

// {"DAMAGED": n, ...} from counts indexed by unallocatable_reason.
nlohmann::json by_reason(const std::vector<int64_t>& counts) {
  auto j = nlohmann::json::object();
  for (size_t i = 0; i < unallocatable_reason_count; ++i)
    j[to_string(static_cast<unallocatable_reason>(i))] =
        i < counts.size() ? counts[i] : 0;
  return j;
}

} // namespace

void to_json(nlohmann::json& j, const order_item& x) {
  j = {{"sku", x.sku},
       {"quantity", x.quantity},
       {"seller", to_string(x.seller)}};
}

void to_json(nlohmann::json& j, const address& x) {
  j = {{"line1", x.line1},
       {"city", x.city},
       {"postalCode", x.postal_code},
       {"country", x.country}};
  if (!x.line2.empty())
    j["line2"] = x.line2;
}

void to_json(nlohmann::json& j, const stock_view& x) {
  j = {{"sku", x.sku},
       {"seller", to_string(x.seller)},
       {"unitPrice", x.unit_price},
       {"currency", currency},
       {"onHand", x.on_hand},
       {"reserved", x.reserved},
       {"blocked", x.blocked},
       {"available", x.available},
       {"receivedTotal", x.received_total},
       {"consumedTotal", x.consumed_total},
       {"asOf", time_or_null(x.as_of)}};
  if (x.seller == seller::internal) {
    j["unallocatable"] = x.unallocatable;
    j["unallocatableByReason"] = by_reason(x.unallocatable_by_reason);
    j["adjustedTotal"] = x.adjusted_total;
    j["batches"] = x.batches;
    j["version"] = x.version;
  } else {
    j["external"] = x.external;
  }
}

void to_json(nlohmann::json& j, const batch_view& x) {
  j = {{"lot", x.lot},
       {"expiresAt", time_or_null(x.expires_at)},
       {"expired", x.expired},
       {"onHand", x.on_hand},
       {"held", x.held},
       {"available", x.available},
       {"unallocatable", by_reason(x.unallocatable)},
       {"receivedAt", time_or_null(x.received_at)}};
}

void to_json(nlohmann::json& j, const external_view& x) {
  j = {{"snapshotKnown", x.known},
       {"snapshotOrderable", x.snapshot_orderable},
       {"snapshotAsOf", time_or_null(x.snapshot_as_of)},
       {"snapshotReflects", x.snapshot_reflects},
       {"readAt", time_or_null(x.read_at)},
       {"feedDelta", x.feed_delta},
       {"pendingHolds", x.pending_holds},
       {"safetyBuffer", x.safety_buffer},
       {"wmsPending", x.wms_pending}};
}

void to_json(nlohmann::json& j, const lot_allocation& x) {
  j = {{"lot", x.lot}, {"quantity", x.quantity}};
  if (x.expires_at != 0)
    j["expiresAt"] = format_timestamp(x.expires_at);
}

void to_json(nlohmann::json& j, const inbox_result& x) {
  j = {{"eventId", x.event_id.empty() ? nlohmann::json(nullptr)
                                      : nlohmann::json(x.event_id)},
       {"outcome", to_string(x.outcome)}};
  if (x.error_code != errc::none)
    j["error"] = {{"code", to_code(x.error_code)}, {"message", x.error}};
  if (!x.stock.sku.empty())
    j["stock"] = x.stock;
}

void to_json(nlohmann::json& j, const hold_view& x) {
  j = {{"orderId", x.order},
       {"quantity", x.quantity},
       {"kind", to_string(x.kind)},
       {"lots", x.lots}};
}

void to_json(nlohmann::json& j, const order_line& x) {
  j = {{"sku", x.sku},
       {"quantity", x.quantity},
       {"unitPrice", x.unit_price},
       {"lineTotal", (x.quantity - x.cancelled_quantity) * x.unit_price},
       {"cancelledQuantity", x.cancelled_quantity},
       {"shippedQuantity", x.shipped_quantity}};
  if (!x.lots.empty())
    j["lots"] = x.lots;
}

void to_json(nlohmann::json& j, const shipment& x) {
  auto lines = nlohmann::json::array();
  for (auto& l : x.lines) {
    nlohmann::json line{{"sku", l.sku}, {"quantity", l.quantity}};
    if (!l.lots.empty())
      line["lots"] = l.lots;
    lines.push_back(std::move(line));
  }
  j = {{"id", x.id},
       {"at", time_or_null(x.at)},
       {"lines", std::move(lines)},
       {"carrier", x.carrier.empty() ? nlohmann::json(nullptr)
                                     : nlohmann::json(x.carrier)},
       {"trackingNumber", x.tracking_number.empty()
                              ? nlohmann::json(nullptr)
                              : nlohmann::json(x.tracking_number)}};
}

void to_json(nlohmann::json& j, const order_return& x) {
  auto lines = nlohmann::json::array();
  for (auto& l : x.lines) {
    nlohmann::json line{{"sku", l.sku},
                        {"quantity", l.quantity},
                        {"reason", l.reason},
                        {"lots", l.lots}};
    if (x.status == return_status::inspecting ||
        x.status == return_status::inspected ||
        x.status == return_status::refunded) {
      line["restocked"] = l.restocked;
      line["damaged"] = l.damaged;
    }
    lines.push_back(std::move(line));
  }
  j = {{"id", x.id},
       {"status", to_string(x.status)},
       {"createdAt", time_or_null(x.created_at)},
       {"updatedAt", time_or_null(x.updated_at)},
       {"lines", std::move(lines)},
       {"refundAmount", x.refund_amount}};
  if (!x.reject_reason.empty())
    j["rejectReason"] = x.reject_reason;
}

void to_json(nlohmann::json& j, const history_entry& x) {
  j = {{"at", time_or_null(x.at)},
       {"from", to_string(x.from)},
       {"to", to_string(x.to)},
       {"reason", x.reason}};
  if (x.amount != 0)
    j["amount"] = x.amount;
}

void to_json(nlohmann::json& j, const inventory_page& x) {
  j = {{"items", x.items},
       {"nextCursor", x.next_cursor.empty() ? nlohmann::json(nullptr)
                                            : nlohmann::json(x.next_cursor)}};
}

void to_json(nlohmann::json& j, const payment_record& x) {
  j = {{"kind", to_string(x.kind)},
       {"amount", x.amount},
       {"currency", currency},
       {"status", to_string(x.status)},
       {"at", time_or_null(x.at)}};
  if (!x.reference.empty())
    j["reference"] = x.reference;
  if (!x.reason.empty())
    j["reason"] = x.reason;
}

void to_json(nlohmann::json& j, const cart_line& x) {
  j = {{"sku", x.sku},
       {"seller", to_string(x.seller)},
       {"quantity", x.quantity},
       {"unitPrice", x.unit_price},
       {"lineTotal", x.line_total}};
}

void to_json(nlohmann::json& j, const cart_view& x) {
  j = {{"customerId", x.customer},
       {"lines", x.lines},
       {"totalAmount", x.total},
       {"currency", currency}};
}

void to_json(nlohmann::json& j, const order_page& x) {
  j = {{"orders", x.orders},
       {"nextCursor", x.next_cursor.empty() ? nlohmann::json(nullptr)
                                            : nlohmann::json(x.next_cursor)}};
}

void to_json(nlohmann::json& j, const order_record& x) {
  j = {{"id", x.id},
       {"customerId", x.customer},
       {"seller", to_string(x.seller)},
       {"status", to_string(x.status)},
       {"lines", x.lines},
       {"address", x.ship_to},
       {"totalAmount", x.total_amount},
       {"paidAmount", x.paid_amount},
       {"refundedAmount", x.refunded_amount},
       {"amountDue", amount_due(x)},
       {"currency", currency},
       {"createdAt", time_or_null(x.created_at)},
       {"updatedAt", time_or_null(x.updated_at)},
       {"holdExpiresAt", x.status == order_status::created
                             ? time_or_null(x.hold_expires_at)
                             : nlohmann::json(nullptr)},
       {"history", x.history},
       {"payments", x.payments},
       {"shipments", x.shipments},
       {"returns", x.returns},
       {"returnedAmount", returned_amount(x)},
       {"version", x.version}};
  if (!x.cancel_reason.empty())
    j["cancelReason"] = x.cancel_reason;
  if (!x.payment_reference.empty())
    j["paymentReference"] = x.payment_reference;
}

void to_json(nlohmann::json& j, const violation& x) {
  j = {{"sku", x.sku}, {"what", x.what}};
}

void to_json(nlohmann::json& j, const audit_report& x) {
  j = {{"skusChecked", x.skus_checked},
       {"liveOrders", x.live_orders},
       {"unitsReserved", x.units_reserved},
       {"unitsBlocked", x.units_blocked},
       {"violations", x.violations}};
}

void to_json(nlohmann::json& j, const journal_stats& x) {
  j = {{"events", x.events},     {"batches", x.batches},
       {"appends", x.appends},   {"maxBatch", x.max_batch},
       {"failures", x.failures}, {"lastSeq", x.last_seq},
       {"failing", x.failing}};
  if (x.failing) {
    j["failingSince"] = x.failing_since;
    j["lastError"] = x.last_error;
  }
}

void to_json(nlohmann::json& j, const wms_gateway_stats& x) {
  const char* breaker = "CLOSED";
  if (x.breaker == wms_breaker_state::open)
    breaker = "OPEN";
  else if (x.breaker == wms_breaker_state::half_open)
    breaker = "HALF_OPEN";
  j = {{"callsAccepted", x.calls_accepted},
       {"callsSent", x.calls_sent},
       {"answered2xx", x.answered_2xx},
       {"answered4xx", x.answered_4xx},
       {"answered429", x.answered_429},
       {"answered5xx", x.answered_5xx},
       {"transportErrors", x.transport_errors},
       {"retries", x.retries},
       {"coalesced", x.coalesced},
       {"completed", x.completed},
       {"rejectedQueueFull", x.rejected_queue_full},
       {"rejectedBreakerOpen", x.rejected_breaker_open},
       {"failedDeadline", x.failed_deadline},
       {"failedAttempts", x.failed_attempts},
       {"rejectedInvalid", x.rejected_invalid},
       {"breaker", breaker},
       {"breakerOpened", x.breaker_opened},
       {"queueDepth", x.queue_depth},
       {"queueDepthMax", x.queue_depth_max},
       {"sentInWindowMax", x.sent_in_window_max},
       {"inFlight", x.in_flight}};
}

} // namespace oms
