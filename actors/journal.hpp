// The JOURNAL actor: collects the events of all actors and commits them to a
// store in batches (group commit: one transaction, one sync per batch). An
// append is acknowledged only once its batch is durable.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <unordered_map>
#include <vector>

#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "messages/journal_protocol.hpp"
#include "messages/journal_store.hpp"

namespace oms {

/// An order not yet terminal as the JOURNAL counts it: its status and the
/// units its lines hold (reserved while CREATED, blocked while CONFIRMED or
/// PAID; held_quantity of each line).
struct open_order {
  order_status status = order_status::created;
  int64_t held = 0;
};

/// What the JOURNAL counts of an order's record.
open_order open_order_of(const order_record& rec);

/// State of the JOURNAL actor.
struct journal_state {
  struct waiter {
    caf::typed_response_promise<uint64_t> promise;
    size_t events; // how many of `pending` belong to this append
  };

  std::shared_ptr<journal_store> store;
  size_t batch_events_max = 4096;
  std::vector<event> pending;  // appended, not yet committed
  std::vector<waiter> waiting; // one per append, in append order
  bool flush_scheduled = false;
  /// Committed events the store may leave unapplied to its current state
  /// (journal_store::unapplied) before they are applied right after a
  /// commit; fewer are applied when no append waits.
  size_t apply_after = 256;
  bool catch_up_scheduled = false;
  journal_stats stats;
  /// Readers waiting for the event after the last durable one
  /// (atom::await), by the number of their wait.
  std::map<uint64_t, caf::typed_response_promise<uint64_t>> watchers;
  uint64_t next_watcher = 0;
  /// Set when omsd stops: every await is answered at once from then on.
  bool watchers_released = false;
  /// The end of a log other writers add to, as last read (never below
  /// stats.last_seq), and whether a look at it is due while readers wait.
  uint64_t log_end = 0;
  bool log_end_watched = false;
  std::chrono::steady_clock::time_point log_end_looked{};
  /// Every order not yet terminal: its status and the units it holds (for
  /// the open-orders and units-held gauges).
  std::unordered_map<order_id, open_order> open;

  static inline const char* name = "journal";
};

/// What `all` holds of `shards` (among `count`): their INTERNAL SKUs, the
/// holds on them, and the INTERNAL live orders whose first line is on one
/// of them; with the duty shard, the EXTERNAL live orders and the EXTERNAL
/// seller's state (moved out of `all`).
shard_state state_of_shards(recovered_state& all,
                            const std::vector<uint32_t>& shards,
                            uint32_t count);

/// Spawn with `spawn<caf::detached>` when `store->blocking()`.
journal_actor::behavior_type
journal(journal_actor::stateful_pointer<journal_state> self,
        std::shared_ptr<journal_store> store, size_t batch_events_max,
        std::unordered_map<order_id, open_order> open = {});

} // namespace oms
