#include "messages/json.hpp"

#include <cstdio>
#include <ctime>

#include <nlohmann/json.hpp>

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
}

void to_json(nlohmann::json& j, const inbox_result& x) {
  j = {{"eventId", x.event_id}, {"outcome", x.outcome}};
  if (!x.error_code.empty())
    j["error"] = {{"code", x.error_code}, {"message", x.error}};
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
       {"payments", x.payments}};
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
       {"violations", x.violations}};
}

void to_json(nlohmann::json& j, const journal_stats& x) {
  j = {{"events", x.events},     {"batches", x.batches},
       {"appends", x.appends},   {"maxBatch", x.max_batch},
       {"failures", x.failures}, {"lastSeq", x.last_seq}};
}

} // namespace oms
