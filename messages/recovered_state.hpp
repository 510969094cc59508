// What the stores keep of the current state and recovery hands to the
// actors: SKUs with their counters and batches, the holds of orders on them,
// the idempotency keys with the results they guard, and the recovered state
// as a whole. Plain values: no actors, no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "messages/domain.hpp"

namespace oms {

/// One SKU as stored.
struct sku_state {
  sku_id sku;
  money unit_price = 0;
  int64_t on_hand = 0;
  int64_t received_total = 0;
  int64_t consumed_total = 0;
  int64_t adjusted_total = 0;
  timestamp_ms updated_at = 0;
  /// The SKU's version (stock_ledger::version).
  uint64_t version = 0;
  /// The batches with units on hand (lot, expiry, receipt time, on-hand and
  /// set-aside units per reason; held units are derived from the holds).
  std::vector<batch_view> batches;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, sku_state& x) {
  return f(caf::meta::type_name("sku_state"), x.sku, x.unit_price, x.on_hand,
           x.received_total, x.consumed_total, x.adjusted_total, x.updated_at,
           x.version, x.batches);
}

/// A change from the EXTERNAL seller's feed that the WMS's snapshot may not
/// reflect yet (its change sequence is above the snapshot's).
struct external_delta {
  sku_id sku;
  std::string event_id;
  int64_t wms_seq = 0;
  int64_t quantity = 0;
  timestamp_ms at = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, external_delta& x) {
  return f(caf::meta::type_name("external_delta"), x.sku, x.event_id, x.wms_seq,
           x.quantity, x.at);
}

/// What we last know of one reservation at the EXTERNAL seller's WMS.
struct wms_reservation {
  order_id order;
  sku_id sku;
  int64_t quantity = 0;
  /// What the WMS acknowledged last and what a call on its way asks for.
  wms_standing state;
  int64_t wms_seq = 0;
  timestamp_ms at = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, wms_reservation& x) {
  return f(caf::meta::type_name("wms_reservation"), x.order, x.sku, x.quantity,
           x.state, x.wms_seq, x.at);
}

/// One order's hold on one SKU as stored.
struct hold_state {
  order_id order;
  sku_id sku;
  int64_t quantity = 0;
  hold_kind kind = hold_kind::reserved;
  std::vector<lot_allocation> lots;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, hold_state& x) {
  return f(caf::meta::type_name("hold_state"), x.order, x.sku, x.quantity,
           x.kind, x.lots);
}

/// One SKU of the INTERNAL seller as stored, with every order's hold on it:
/// what a restart of its actor starts from.
struct stored_sku {
  /// False if the store has no such SKU (its first receipt never became
  /// durable).
  bool found = false;
  sku_state state;
  std::vector<hold_state> holds;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stored_sku& x) {
  return f(caf::meta::type_name("stored_sku"), x.found, x.state, x.holds);
}

/// One SKU of the EXTERNAL seller as the journal keeps it: its reservations
/// at the WMS not yet settled and its feed changes (what a restart of its
/// actor starts from, with the live orders' holds).
struct stored_external {
  std::vector<wms_reservation> reservations;
  std::vector<external_delta> deltas;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stored_external& x) {
  return f(caf::meta::type_name("stored_external"), x.reservations, x.deltas);
}

/// One idempotency key of a customer and the result it guards.
struct key_state {
  customer_id customer;
  std::string key;
  std::string fingerprint;
  order_id order;
  timestamp_ms at = 0;
  /// The record as first answered to the request the key guards.
  order_record response;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, key_state& x) {
  return f(caf::meta::type_name("key_state"), x.customer, x.key, x.fingerprint,
           x.order, x.at, x.response);
}

/// What recovery needs to rebuild the actors.
struct recovered_state {
  std::vector<sku_state> skus;
  std::vector<hold_state> holds;
  /// Orders that still have an actor's work to do: not terminal, or owing a
  /// payment outcome or a refund.
  std::vector<order_record> live_orders;
  /// Every customer of the API, with its token hash.
  std::vector<customer_record> customers;
  /// Inbound event ids already processed (the INBOX skips them), by id,
  /// with when each was recorded; ids older than the retention are gone.
  std::vector<std::pair<std::string, timestamp_ms>> inbox_ids;
  /// The last cursor of each inbound feed, by source.
  std::vector<std::pair<std::string, std::string>> cursors;
  /// EXTERNAL: feed changes and WMS reservations.
  std::vector<external_delta> external_deltas;
  std::vector<wms_reservation> wms_reservations;
  uint64_t last_seq = 0;
  uint64_t total_orders = 0;
};

} // namespace oms
