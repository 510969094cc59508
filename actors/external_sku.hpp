// The EXTERNAL-SKU actor: owns our count of one SKU of the EXTERNAL seller
// (external_ledger) and keeps the WMS in step with our holds. It answers
// orders from its own count at once and talks to the WMS only through the
// WMS GATEWAY, in the background: reserve (after journaling the intent),
// block, ship, release, each retried until the WMS acknowledges. If the WMS
// refuses a reservation we granted, the order is cancelled with the reason.
#pragma once

#include <chrono>
#include <functional>
#include <set>
#include <vector>

#include <caf/typed_event_based_actor.hpp>

#include "actors/context.hpp"
#include "actors/external_ledger.hpp"
#include "messages/inventory_protocol.hpp"
#include "messages/supervisor_protocol.hpp"
#include "messages/wms_protocol.hpp"

namespace oms {

/// An EXTERNAL SKU speaks the INVENTORY protocol (orders use it like any
/// SKU) plus its own timers.
using external_sku_actor = inventory_actor::extend<
    // Timer: retry the WMS calls that are behind (carries a generation).
    caf::reacts_to<atom::retry, uint64_t>,
    // Timer: read a fresh snapshot (carries a generation).
    caf::reacts_to<atom::read, uint64_t>,
    // Timer (a cluster node's): the grace after a release the WMS did not
    // know is over; the release is sent once more (a former holder's
    // reserve may have reached the WMS since).
    caf::reacts_to<atom::lookup, order_id>>;

/// The id of an order's reservation of one SKU at the WMS.
std::string reservation_id(const order_id& order, const sku_id& sku);

/// State of an EXTERNAL-SKU actor.
struct external_sku_state {
  sku_id sku;
  context_ptr ctx;
  wms_gateway_actor gateway;
  supervisor_actor supervisor;
  external_ledger ledger;
  /// A cluster node's: the duty shard's lease epoch when the actor started,
  /// stamped on what it journals (event::fence); 0 on a single node.
  int64_t fence = 0;
  /// Orders with a WMS call under way (or, on a cluster, a release waiting
  /// for its grace: see rechecked).
  std::set<order_id> in_flight;
  /// A cluster node's: orders whose release the WMS did not know and whose
  /// grace is over: the next such answer settles them.
  std::set<order_id> rechecked;
  /// Waiting for the first snapshot.
  std::vector<std::function<void(const caf::error&)>> waiting;
  bool reading = false;
  uint64_t read_generation = 0;
  uint64_t retry_generation = 0;
  bool retry_armed = false;
  std::chrono::milliseconds backoff{0};

  static inline const char* name = "external_sku";
};

/// Behaviour of the EXTERNAL-SKU actor for `sku`, starting from `ledger`
/// (restored holds and feed changes, or empty); `fence` as in the state.
external_sku_actor::behavior_type
external_sku(external_sku_actor::stateful_pointer<external_sku_state> self,
             sku_id sku, context_ptr ctx, wms_gateway_actor gateway,
             supervisor_actor supervisor, external_ledger ledger,
             int64_t fence);

} // namespace oms
