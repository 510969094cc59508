// The change feed's view of the journal (GET /v1/events): which committed
// events it publishes, under which CloudEvents type and subject, and how
// one looks on the wire (a JSON object, or a Server-Sent Events frame).
// Plain functions of an event and its sequence number, no actors; the route
// in api_event_routes.cpp reads the log and calls them. docs/events.md
// documents what they produce.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <caf/error.hpp>
#include <nlohmann/json.hpp>

#include "messages/events.hpp"

namespace oms::daemon {

/// The CloudEvents `source` of every event omsd publishes.
inline constexpr const char* feed_source = "/omsd";

/// The type the feed publishes `ev` under ("oms.order.paid"), or "" for an
/// event of internal bookkeeping the feed leaves out (inbox cursors and
/// retention, WMS sync records).
std::string feed_type(const event& ev);

/// Every type feed_type can answer, in a stable order.
const std::vector<std::string>& feed_types();

/// What the event is about: the order id for order events, the SKU for
/// stock and SKU events, the customer id for customer_created.
std::string feed_subject(const event& ev);

/// Which events a reader wants: types (exact, or a prefix written "oms.order.*";
/// none: all) and a subject (empty: all).
struct feed_filter {
  std::vector<std::string> types;
  std::string subject;

  /// Whether an event of `type` about `subject` passes.
  bool passes(std::string_view type, std::string_view subject) const;
};

/// Reads the `type` parameter: comma-separated types or "PREFIX.*"
/// patterns, each naming at least one type feed_types() holds. Refuses
/// (400 VALIDATION_FAILED, field "type") anything else.
std::vector<std::string> read_feed_types(std::string_view text,
                                         const char* field = "type");

/// The event as a CloudEvents 1.0 JSON object: id (the sequence number, as
/// text), source, specversion, type, subject, time, datacontenttype, data,
/// and the extension `subjectseq`: the order's version after the change on
/// order events, the SKU's on the events of changes to the SKU itself
/// (versions_sku). Call only for an event feed_type publishes.
nlohmann::json feed_entry(const event& ev, uint64_t seq);

/// The event as feed_entry renders it, if the feed publishes it and it
/// passes `filter`.
std::optional<nlohmann::json> feed_pick(const event& ev, uint64_t seq,
                                        const feed_filter& filter);

/// One Server-Sent Events frame carrying `entry`: "id: SEQ", "event: TYPE",
/// "data: JSON" (one line), then a blank line.
std::string sse_frame(const nlohmann::json& entry);

/// The oldest event kept, when `err` is the journal's EVENTS_EXPIRED (the
/// events asked for were pruned); nullopt for any other error.
std::optional<uint64_t> expired_first(const caf::error& err);

/// The cursor a reader resumes after: the decimal sequence number of the
/// last event it saw (0: from the start). Refuses (400, field `field`)
/// anything but 1 to 20 digits that fit 64 bits.
uint64_t read_cursor(std::string_view text, const char* field);

} // namespace oms::daemon
