// Reading the answers of the EXTERNAL seller's WMS (docs/wms-sim.md): a
// reservation call's acknowledgement or error code, a SKU's snapshot, a page
// of the event feed and a 429's wait. Plain functions of the answer's text,
// no actors: the EXTERNAL-SKU actor, the WMS FEED reader and the WMS
// transport call them (tests/fuzz/wms_answer_fuzz.cpp reads answers through
// them too). Every body is parsed strictly (messages/strict_json.hpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "messages/money.hpp"
#include "messages/stock.hpp"
#include "messages/stock_change.hpp"

namespace oms {

/// How long a 429 asks us to wait, in ms: the larger of the Retry-After
/// header (delta-seconds) and the body's "error.retryAfterMs"; 0 if neither
/// is present and valid (an HTTP-date Retry-After is not understood).
int64_t wms_retry_after_ms(const std::string& retry_after_header,
                           const std::string& body);

/// The WMS's error code in an answer body ("error.code"), or "".
std::string wms_error_code(std::string_view body);

/// An integer the WMS gives with an error ("error.<field>", e.g. the
/// units a reservation holds), or nullopt.
std::optional<int64_t> wms_error_figure(std::string_view body,
                                        const char* field);

/// Where an acknowledged call (200, 201) left a reservation.
struct wms_ack {
  wms_state state = wms_state::none;
  /// The WMS's sequence number of the change; 0 when not given.
  int64_t seq = 0;
};

/// Reads an acknowledgement: {"status": "RESERVED" | ..., "seq": N};
/// nullopt when it is not one.
std::optional<wms_ack> read_wms_ack(std::string_view body);

/// One SKU's snapshot as the WMS last reflected it.
struct wms_snapshot {
  int64_t orderable = 0;
  /// The WMS's sequence number the snapshot reflects.
  int64_t reflects = 0;
  timestamp_ms as_of = 0;
  /// 0 when the answer names no price.
  money unit_price = 0;
};

/// What reading a snapshot answer found.
enum class snapshot_reading {
  ok,
  /// Not JSON, not an object, or without the counts.
  unreadable,
  /// A unit price that is not an integer in 0..unit_price_max.
  bad_price,
};

/// Reads the answer to GET /inventory/{sku} into `out`.
snapshot_reading read_wms_snapshot(std::string_view body, money unit_price_max,
                                   wms_snapshot& out);

/// One page of the WMS's event feed.
struct wms_feed_page {
  /// The events that read as stock changes, in order.
  std::vector<stock_change> changes;
  /// The events that did not, as sent, with why.
  std::vector<std::pair<std::string, std::string>> bad_events;
  /// Events on the page, read or not.
  size_t events = 0;
  /// The cursor after the page (the one asked with when the page names
  /// none).
  std::string next;
};

/// Reads GET /events?after=CURSOR: {"events": [...], "next": "..."};
/// nullopt when it is not such a page.
std::optional<wms_feed_page> read_wms_feed_page(std::string_view body,
                                                const std::string& cursor);

/// Turns one event of the WMS feed into a stock change for the INBOX.
/// Returns false (and says why in `error`) if the event is malformed.
bool feed_event_to_change(const std::string& json_event, stock_change& out,
                          std::string& error);

} // namespace oms
