// The current state that a sequence of events adds up to: SKUs with their
// counters and prices, the holds of orders on them, the latest record of
// every order, and the idempotency keys with the results they guard. The
// memory store keeps one; the SQL stores keep the same in tables; recovery
// rebuilds the actors from it. Pure: no actors, no I/O.
#pragma once

#include <cstdint>
#include <map>
#include <set>
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
  /// The batches with units on hand (lot, expiry, receipt time, on-hand and
  /// set-aside units per reason; held units are derived from the holds).
  std::vector<batch_view> batches;
};

/// A change from the EXTERNAL seller's feed that the WMS's snapshot may not
/// reflect yet (its change sequence is above the snapshot's).
struct external_delta {
  sku_id sku;
  std::string event_id;
  int64_t wms_seq = 0;
  int64_t quantity = 0;
  timestamp_ms at = 0;
};

/// What we last know of one reservation at the EXTERNAL seller's WMS.
struct wms_reservation {
  order_id order;
  sku_id sku;
  int64_t quantity = 0;
  /// REQUESTED (we are about to ask), RESERVED, BLOCKED.
  std::string state;
  int64_t wms_seq = 0;
  timestamp_ms at = 0;
};

/// One order's hold on one SKU as stored.
struct hold_state {
  order_id order;
  sku_id sku;
  int64_t quantity = 0;
  hold_kind kind = hold_kind::reserved;
  std::vector<lot_allocation> lots;
};

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
  /// Inbound event ids already processed (the INBOX skips them).
  std::vector<std::string> inbox_ids;
  /// The last cursor of each inbound feed, by source.
  std::vector<std::pair<std::string, std::string>> cursors;
  /// EXTERNAL: feed changes and WMS reservations.
  std::vector<external_delta> external_deltas;
  std::vector<wms_reservation> wms_reservations;
  uint64_t last_seq = 0;
  uint64_t total_orders = 0;
};

/// True if an order needs a live actor after a restart.
bool needs_actor(const order_record& rec);

/// What is wrong with a recovered state that the actors cannot be rebuilt
/// from: a hold or a live order's line on a SKU the state does not have.
/// Empty if nothing.
std::string check_consistency(const recovered_state& state);

/// The state events add up to.
class store_state {
 public:
  /// Applies one event. Events must come in journal order.
  void apply(const event& ev);

  /// What recovery needs.
  recovered_state recover() const;

  /// A customer's idempotency keys recorded at or after `since`.
  std::vector<key_state> keys_for(const customer_id& customer,
                                  timestamp_ms since) const;

  const order_record* find_order(const order_id& id) const;

  /// A customer's orders, newest first, skipping `offset`.
  std::vector<order_record> list_orders(const customer_id& customer,
                                        size_t offset, size_t limit) const;

  /// Number of orders of a customer.
  size_t count_orders(const customer_id& customer) const;

  uint64_t last_seq() const { return last_seq_; }

 private:
  std::map<sku_id, sku_state> skus_;
  std::map<std::pair<order_id, sku_id>, hold_state> holds_;
  std::map<order_id, order_record> orders_;
  std::map<customer_id, std::vector<order_id>> by_customer_;
  std::map<std::pair<customer_id, std::string>, key_state> keys_;
  std::map<customer_id, customer_record> customers_;
  std::set<std::string> inbox_ids_;
  std::map<std::string, std::string> cursors_;
  std::map<std::pair<sku_id, int64_t>, external_delta> external_deltas_;
  std::map<std::pair<order_id, sku_id>, wms_reservation> wms_reservations_;
  uint64_t last_seq_ = 0;
};

/// True for an event about the EXTERNAL seller's stock that only its feed
/// deltas keep (the WMS owns that stock); where its reservations stand at
/// the WMS (wms_synced) is kept like any other event.
bool external_stock_event(const event& ev);

/// True if a WMS reservation in `state` (wms_synced's reason) is settled: no
/// row is kept for it.
bool wms_settled(const std::string& state);

/// Applies a stock event to a stored SKU's batches (receipt, move,
/// adjustment, or the consumption of `hold_lots`). Shared by every store.
void apply_to_batches(std::vector<batch_view>& batches, const event& ev,
                      const std::vector<lot_allocation>& hold_lots);

/// Keys that an order record carries: its creation key (with the record as
/// created) and the client keys of its successful charges (with the record
/// as paid). Used by every store when it writes an order event.
std::vector<key_state> keys_of(const event& ev);

} // namespace oms
