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

#include "messages/domain.hpp"
#include "messages/recovered_state.hpp"

namespace oms {

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
