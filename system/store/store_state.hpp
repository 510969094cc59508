// The current state that a sequence of events adds up to, in memory: SKUs
// with their counters, prices and batches, the holds of orders on them, the
// latest record of every order, and the idempotency keys with the results
// they guard. The memory store keeps one; the SQL stores keep the same in
// tables and are tested against it. The projection (projection.hpp) decides
// what each event changes; this is where it writes. Pure: no actors, no I/O.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "messages/domain.hpp"
#include "messages/recovered_state.hpp"
#include "system/store/projection.hpp"

namespace oms {

/// The state events add up to.
class store_state : private state_sink {
 public:
  /// Applies one event. Events must come in journal order.
  void apply(const event& ev);

  /// What recovery needs.
  recovered_state recover() const;

  /// One idempotency key of a customer (none or one).
  std::vector<key_state> key_of(const customer_id& customer,
                                const std::string& key) const;

  /// One SKU with the holds on it.
  stored_sku sku_of(const sku_id& sku) const;
  stored_external external_of(const sku_id& sku) const;

  const order_record* find_order(const order_id& id) const;

  /// A customer's orders, newest first, skipping `offset`.
  std::vector<order_record> list_orders(const customer_id& customer,
                                        size_t offset, size_t limit) const;

  /// Number of orders of a customer.
  size_t count_orders(const customer_id& customer) const;

  /// The orders `query` selects, newest first (the reference the SQL
  /// stores' indexed searches are tested against: it walks every order).
  order_hits search_orders(const order_query& query) const;

  uint64_t last_seq() const { return last_seq_; }

  /// Whether an inbound change's id is recorded (and not forgotten).
  bool knows_inbox_id(const std::string& id) const {
    return inbox_ids_.count(id) > 0;
  }

 private:
  // state_sink
  void add_inbox_id(const std::string& id, timestamp_ms at) override;
  void forget_inbox_ids(timestamp_ms before) override;
  void put_cursor(const std::string& source, const std::string& cursor,
                  timestamp_ms at) override;
  void set_price(const sku_id& sku, money price, timestamp_ms at) override;
  void add_stock(const sku_id& sku, stock_total total, int64_t on_hand,
                 int64_t amount, timestamp_ms at) override;
  void touch_sku(const sku_id& sku, timestamp_ms at) override;
  void set_sku_version(const sku_id& sku, uint64_t version) override;
  void add_to_batch(const sku_id& sku, const batch_change& change) override;
  void prune_batches(const sku_id& sku) override;
  std::optional<hold_state> find_hold(const order_id& order,
                                      const sku_id& sku) override;
  void put_hold(const hold_state& hold) override;
  void block_hold(const order_id& order, const sku_id& sku) override;
  void shrink_hold(const order_id& order, const sku_id& sku, int64_t quantity,
                   const std::vector<lot_allocation>& lots) override;
  void delete_hold(const order_id& order, const sku_id& sku) override;
  void put_order(const order_record& rec, uint64_t seq, bool created) override;
  void add_key(const key_state& key) override;
  void add_customer(const customer_record& customer) override;
  void put_external_delta(const external_delta& delta) override;
  void put_wms_reservation(const wms_reservation& row) override;
  void delete_wms_reservation(const order_id& order,
                              const sku_id& sku) override;

  /// The SKU, created (at price 0) if new, marked as changed at `at`.
  sku_state& sku_at(const sku_id& sku, timestamp_ms at);

  std::map<sku_id, sku_state> skus_;
  std::map<std::pair<order_id, sku_id>, hold_state> holds_;
  std::map<order_id, order_record> orders_;
  std::map<customer_id, std::vector<order_id>> by_customer_;
  /// Every order by the seq of the event that created it.
  std::map<uint64_t, order_id> by_ordinal_;
  std::map<std::pair<customer_id, std::string>, key_state> keys_;
  std::map<customer_id, customer_record> customers_;
  std::map<std::string, timestamp_ms> inbox_ids_;
  std::map<std::string, std::string> cursors_;
  std::map<std::pair<sku_id, int64_t>, external_delta> external_deltas_;
  std::map<std::pair<order_id, sku_id>, wms_reservation> wms_reservations_;
  uint64_t last_seq_ = 0;
};

} // namespace oms
