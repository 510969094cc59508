// The order system as a C++ object: starts the JOURNAL and the SUPERVISOR in
// an actor system and offers the seed's operations as blocking calls, for
// examples, tools and tests on the real scheduler. Thread-safe: any number of
// threads may call it at once. The actor messages underneath stay available
// through supervisor() for callers that do not want to block.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include "actors/context.hpp"
#include "actors/journal.hpp"
#include "messages/customer_protocol.hpp"
#include "messages/domain.hpp"
#include "messages/journal_protocol.hpp"
#include "messages/journal_store.hpp"
#include "messages/order_protocol.hpp"
#include "messages/payment_gateway.hpp"
#include "messages/payment_protocol.hpp"
#include "messages/supervisor_protocol.hpp"

namespace oms {

/// Thrown by order_system's constructor when the store cannot be loaded
/// completely; what() names the store and the problem.
class startup_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class order_system {
 public:
  /// Loads the state `store` holds, then starts the JOURNAL over it, the
  /// PAYMENT actor over `gateway` and the SUPERVISOR with the SKU, order and
  /// customer actors the state needs. Throws startup_error if the store
  /// cannot be loaded completely, or if `cfg`'s limits would let an order's
  /// or a cart's total overflow `money` (check_money_bounds).
  /// `wms` is the gateway to the EXTERNAL seller's WMS (null: EXTERNAL
  /// requests fail with WMS_UNAVAILABLE); it stops with the system.
  /// `shards`: a cluster node's (docs/cluster.md), which serves no SKU or
  /// order until the SUPERVISOR is told to adopt its shard (atom::adopt);
  /// null: a single node, serving everything the store holds.
  order_system(caf::actor_system& sys, settings cfg,
               std::shared_ptr<journal_store> store,
               std::shared_ptr<payment_gateway> gateway,
               wms_gateway_actor wms = {},
               std::shared_ptr<shard_map> shards = {});

  /// Stops every actor of the order system (see shutdown()).
  ~order_system();

  order_system(const order_system&) = delete;
  order_system& operator=(const order_system&) = delete;

  // -- the seed's operations ------------------------------------------------

  /// addItemToInventory(itemId, quantity[, unitPrice]): creates the SKU on its
  /// first receipt (which needs a unit price), adds units after. A unit price
  /// of 0 keeps the current one.
  caf::expected<stock_view> add_item_to_inventory(const sku_id& sku,
                                                  int64_t quantity,
                                                  money unit_price = 0);

  /// getAvailableInventory(itemId, seller).
  caf::expected<stock_view> get_available_inventory(const sku_id& sku,
                                                    seller from);

  /// createOrder(customerId, itemsInfo, address): reserves every line, all or
  /// nothing, and returns the order with its total. With an idempotency key,
  /// a retry returns the first result and does nothing again.
  caf::expected<order_record>
  create_order(const customer_id& customer, std::vector<order_item> items,
               const address& ship_to, const std::string& idempotency_key = {});

  /// updateOrder(orderId, state): CONFIRMED, SHIPPED, DELIVERED (FULFILLED)
  /// or CANCELLED; only transitions of the table are applied. PAID needs an
  /// amount: use pay_order.
  caf::expected<order_record> update_order(const order_id& id,
                                           order_status target,
                                           std::string reason = {});

  // -- more operations ------------------------------------------------------

  /// Sets a SKU's unit price for later orders.
  caf::expected<stock_view> set_price(const sku_id& sku, money unit_price);

  /// Pays an order through the payment gateway: `amount` must equal what is
  /// due; `token` names the payment method (see simulated_gateway.hpp).
  caf::expected<order_record>
  pay_order(const order_id& id, money amount, const std::string& token = {},
            const std::string& idempotency_key = {});

  /// Cancels some units of some lines (all remaining units: the order).
  caf::expected<order_record> cancel_lines(const order_id& id,
                                           std::vector<order_item> lines,
                                           std::string reason = {});

  // -- carts ----------------------------------------------------------------

  caf::expected<cart_view> view_cart(const customer_id& customer);
  /// Sets a cart line's quantity (adds the line if new).
  caf::expected<cart_view> set_cart_item(const customer_id& customer,
                                         const sku_id& sku, int64_t quantity,
                                         seller from = seller::internal);
  /// Adds units to a cart line.
  caf::expected<cart_view> add_to_cart(const customer_id& customer,
                                       const sku_id& sku, int64_t quantity,
                                       seller from = seller::internal);
  caf::expected<cart_view> remove_from_cart(const customer_id& customer,
                                            const sku_id& sku,
                                            seller from = seller::internal);
  /// Places an order from the cart's lines of one seller (all of them, or
  /// the SKUs given): `from`, or the only seller the cart has lines of.
  caf::expected<order_record>
  checkout(const customer_id& customer, const address& ship_to,
           std::vector<sku_id> skus = {},
           const std::string& idempotency_key = {},
           std::optional<seller> from = std::nullopt);

  /// A customer's orders, newest first.
  caf::expected<order_page> list_orders(const customer_id& customer,
                                        uint32_t limit = 20,
                                        const std::string& cursor = {});

  /// The CUSTOMER actor of a customer.
  caf::expected<customer_actor> customer(const customer_id& id);

  /// Applies any command to an order.
  caf::expected<order_record> apply(const order_id& id, order_command cmd);

  /// View / track an order: details and history.
  caf::expected<order_record> get_order(const order_id& id);

  /// Checks the stock conservation invariants across all SKUs and orders.
  caf::expected<audit_report> audit();

  /// The journal's counters.
  caf::expected<journal_stats> journal_counters();

  /// The SUPERVISOR, for message-level access.
  const supervisor_actor& supervisor() const { return supervisor_; }

  /// The JOURNAL.
  const journal_actor& journal() const { return journal_; }

  /// Where the reads that need no append committed first go (context's
  /// journal_reads).
  const journal_reader_actor& journal_reads() const {
    return ctx_->journal_reads;
  }

  /// The customers of the HTTP API the store held at start.
  /// The named values (feed cursors and the like) the store held at start.
  const std::vector<std::pair<std::string, std::string>>&
  cursors_at_start() const {
    return cursors_at_start_;
  }
  const std::vector<customer_record>& customers_at_start() const {
    return customers_at_start_;
  }

  /// The shared context (settings, clock).
  const context_ptr& ctx() const { return ctx_; }

  /// Stops the SUPERVISOR (and with it every SKU and order actor), then the
  /// JOURNAL once everything appended so far is durable. Idempotent.
  void shutdown();

 private:
  template <class T, class Handle, class... Ts>
  caf::expected<T> call(const Handle& dest, Ts&&... xs);

  order_actor cached(const order_id& id);
  void remember(const order_id& id, const order_actor& handle);
  void forget(const order_id& id);

  caf::actor_system& sys_;
  context_ptr ctx_;
  journal_actor journal_;
  /// The JOURNAL's reader, when its store has one.
  journal_reader_actor journal_reads_;
  payment_actor payments_;
  supervisor_actor supervisor_;
  std::mutex mtx_;
  std::unordered_map<order_id, order_actor> handles_;
  std::unordered_map<customer_id, customer_actor> customers_;
  std::vector<customer_record> customers_at_start_;
  std::vector<std::pair<std::string, std::string>> cursors_at_start_;
  bool stopped_ = false;
};

/// Registers the order system's types and error category with a CAF config.
void register_types(caf::actor_system_config& cfg);

/// Spawns the JOURNAL over `store` (on a thread of its own if the store
/// blocks on I/O).
journal_actor spawn_journal(caf::actor_system& sys,
                            std::shared_ptr<journal_store> store,
                            size_t batch_events_max, bool allow_detached = true,
                            std::unordered_map<order_id, open_order> open = {});

/// Spawns the PAYMENT actor over `gateway`.
payment_actor spawn_payment(caf::actor_system& sys,
                            std::shared_ptr<payment_gateway> gateway);

/// The runtime context for actors of `sys`, anchored to the wall clock now.
context_ptr make_context(caf::actor_system& sys, settings cfg,
                         journal_actor journal, payment_actor payments);

/// The same, anchored to `epoch_anchor_ms` as the wall-clock time now (tests
/// simulate a restart after downtime with it).
context_ptr make_context(caf::actor_system& sys, settings cfg,
                         journal_actor journal, payment_actor payments,
                         timestamp_ms epoch_anchor_ms);

} // namespace oms
