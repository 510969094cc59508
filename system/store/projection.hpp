// The projection of events into the current state, written once for every
// store: project() decides which changes an event makes (a SKU's counters
// and batches, a hold, an order with its keys, the inbox, a feed cursor, the
// EXTERNAL seller's records) and makes them through a state_sink. The
// memory store's sink is its maps (store_state), the SQL stores' sink their
// tables (sql_sink). Pure: no actors, no I/O of its own.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "messages/domain.hpp"
#include "messages/recovered_state.hpp"

namespace oms {

/// The running totals of a SKU that stock events add to.
enum class stock_total : uint8_t { received, adjusted, consumed };

/// Units added to one batch of a SKU: on hand and set aside per reason
/// (negative to take away). A batch that does not exist yet is created with
/// `expires_at` and `received_at`.
struct batch_change {
  std::string lot;
  timestamp_ms expires_at = 0;
  timestamp_ms received_at = 0;
  int64_t on_hand = 0;
  std::array<int64_t, unallocatable_reason_count> set_aside{};
};

/// Where the projection writes the current state. Each call is one change;
/// a SQL sink throws when its statement fails.
class state_sink {
 public:
  virtual ~state_sink();

  /// Records an inbound event id as processed (again: no change).
  virtual void add_inbox_id(const std::string& id, timestamp_ms at) = 0;
  /// Forgets the inbound event ids recorded before `before`.
  virtual void forget_inbox_ids(timestamp_ms before) = 0;
  /// Sets the last cursor of an inbound feed.
  virtual void put_cursor(const std::string& source, const std::string& cursor,
                          timestamp_ms at) = 0;

  /// Sets a SKU's price (creating the SKU).
  virtual void set_price(const sku_id& sku, money price, timestamp_ms at) = 0;
  /// Adds `on_hand` to the SKU's units on hand and `amount` to one of its
  /// totals (creating the SKU at price 0).
  virtual void add_stock(const sku_id& sku, stock_total total, int64_t on_hand,
                         int64_t amount, timestamp_ms at) = 0;
  /// Marks the SKU as changed at `at` (creating it at price 0).
  virtual void touch_sku(const sku_id& sku, timestamp_ms at) = 0;
  /// Sets an existing SKU's version to `version`, or adds 1 to it if
  /// `version` is 0 (an event journaled before SKUs had versions).
  virtual void set_sku_version(const sku_id& sku, uint64_t version) = 0;
  virtual void add_to_batch(const sku_id& sku, const batch_change& change) = 0;
  /// Drops the SKU's batches with no units on hand.
  virtual void prune_batches(const sku_id& sku) = 0;

  virtual std::optional<hold_state> find_hold(const order_id& order,
                                              const sku_id& sku) = 0;
  /// Sets a hold (replacing one of the same order on the same SKU).
  virtual void put_hold(const hold_state& hold) = 0;
  /// Makes an existing hold firm (none: no change).
  virtual void block_hold(const order_id& order, const sku_id& sku) = 0;
  /// Sets the units and batches of an existing hold.
  virtual void shrink_hold(const order_id& order, const sku_id& sku,
                           int64_t quantity,
                           const std::vector<lot_allocation>& lots) = 0;
  virtual void delete_hold(const order_id& order, const sku_id& sku) = 0;

  /// Sets the latest record of an order; `created` for its first event,
  /// whose sequence number `seq` orders a customer's orders.
  virtual void put_order(const order_record& rec, uint64_t seq,
                         bool created) = 0;
  /// Records an idempotency key unless the customer has it already.
  virtual void add_key(const key_state& key) = 0;
  virtual void add_customer(const customer_record& customer) = 0;

  /// Sets the EXTERNAL seller's feed change with the same WMS sequence.
  virtual void put_external_delta(const external_delta& delta) = 0;
  virtual void put_wms_reservation(const wms_reservation& row) = 0;
  virtual void delete_wms_reservation(const order_id& order,
                                      const sku_id& sku) = 0;
};

/// Makes the changes of the event with sequence number `seq` in `to`.
/// Events must come in journal order.
void project(const event& ev, uint64_t seq, state_sink& to);

/// True if an order needs a live actor after a restart.
bool needs_actor(const order_record& rec);

/// What is wrong with a recovered state that the actors cannot be rebuilt
/// from: a hold or a live order's line on a SKU the state does not have.
/// Empty if nothing.
std::string check_consistency(const recovered_state& state);

/// Keys that an order record carries: its creation key (with the record as
/// created) and the client keys of its successful charges (with the record
/// as paid).
std::vector<key_state> keys_of(const event& ev);

/// True if `ev` records idempotency key `key` of `customer` (one of
/// keys_of(ev)), without copying anything.
bool records_key(const event& ev, const customer_id& customer,
                 const std::string& key);

} // namespace oms
