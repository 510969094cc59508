// Inbound stock changes and what the INBOX did with each delivery.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <caf/meta/type_name.hpp>

#include "messages/basics.hpp"
#include "messages/errors.hpp"
#include "messages/stock.hpp"

namespace oms {

/// What an inbound stock change does.
enum class stock_change_kind : uint8_t {
  receipt = 0,      // units arrive into a batch (quantity > 0)
  adjustment = 1,   // on-hand of a batch corrected (quantity signed)
  set_aside = 2,    // units leave sale for a reason (quantity > 0)
  return_aside = 3, // units set aside come back to sale (quantity > 0)
  // Not taken from the API: the steps of an order's return (its ORDER actor
  // sends them, each under its own event id).
  customer_return = 4, // returned units arrive into their batch (recreated
                       // with expires_at if gone), set aside QUARANTINED;
                       // note: the order
  reclassify = 5,      // units set aside QUARANTINED are set aside as
                       // `reason` instead (e.g. DAMAGED)
};

/// "RECEIPT", "ADJUSTMENT", "SET_ASIDE", "RETURN_ASIDE", "CUSTOMER_RETURN",
/// "RECLASSIFY".
const char* to_string(stock_change_kind x);

/// Parses the kinds the API takes (RECEIPT to RETURN_ASIDE); false
/// otherwise.
bool parse_stock_change_kind(std::string_view str, stock_change_kind& out);

/// Checks an inbound event's id: 1..128 characters of [A-Za-z0-9._:-].
bool valid_event_id(std::string_view id);

/// One change of a SKU's stock, from the admin API or a warehouse feed. With
/// an event id it goes through the INBOX, which applies each id once.
struct stock_change {
  stock_change_kind kind = stock_change_kind::receipt;
  sku_id sku;
  int64_t quantity = 0;
  money unit_price = 0;        // receipt: > 0 sets the price, 0 keeps it
  std::string lot;             // the batch ("" if the SKU has one)
  timestamp_ms expires_at = 0; // receipt into a new batch: 0 = never
  unallocatable_reason reason = unallocatable_reason::damaged; // set_aside,
                                                               // return_aside
  std::string note;     // free text kept with the change (adjustments)
  std::string event_id; // the inbound event's id; empty: not deduplicated
  std::string source;   // who sent it: "admin", "wms", ...
  oms::seller seller = oms::seller::internal;
  /// EXTERNAL: the WMS's change sequence of the event (snapshots with a
  /// higher `reflects` include it).
  int64_t wms_seq = 0;
  /// The SKU's version the client last saw (If-Match): the change is
  /// refused PRECONDITION_FAILED if the SKU is at another. 0: any.
  uint64_t if_version = 0;
  /// A change of an order's return: the return's id (note: the order).
  std::string return_id;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stock_change& x) {
  return f(caf::meta::type_name("stock_change"), x.kind, x.sku, x.quantity,
           x.unit_price, x.lot, x.expires_at, x.reason, x.note, x.event_id,
           x.source, x.seller, x.wms_seq, x.if_version, x.return_id);
}

/// The source of the stock changes of an order's return: they name their
/// batch exactly (the batch "" included), and a refusal is not recorded
/// under their event id (the step is asked again).
inline constexpr const char* return_source = "return";

/// A SKU change's if_version for `If-Match: *`: the SKU must exist, at any
/// version (RFC 9110: `*` fails where there is no current representation).
inline constexpr uint64_t if_version_exists = UINT64_MAX - 1;

/// What became of one delivery of an inbound change.
enum class inbox_outcome : uint8_t {
  applied = 0,   // this delivery changed the stock
  duplicate = 1, // an earlier delivery did (or is doing so now)
  rejected = 2,  // recorded as processed without effect; the error says why
};

/// "APPLIED", "DUPLICATE", "REJECTED".
const char* to_string(inbox_outcome x);

/// Parses what to_string writes; false otherwise.
bool parse_inbox_outcome(std::string_view str, inbox_outcome& out);

/// What the INBOX did with an inbound change.
struct inbox_result {
  std::string event_id;
  /// APPLIED (this delivery changed the stock), DUPLICATE (an earlier
  /// delivery did) or REJECTED (recorded as processed without effect; error
  /// says why).
  inbox_outcome outcome = inbox_outcome::applied;
  /// REJECTED: the error's code (none otherwise) and message.
  errc error_code = errc::none;
  std::string error;
  stock_view stock; // after the change (APPLIED) or now (DUPLICATE)
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, inbox_result& x) {
  return f(caf::meta::type_name("inbox_result"), x.event_id, x.outcome,
           x.error_code, x.error, x.stock);
}

} // namespace oms
