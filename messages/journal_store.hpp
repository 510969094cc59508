// Where the JOURNAL actor makes events durable, and where the current state
// they add up to can be read back: one interface, three backends (memory for
// tests, SQLite embedded by default, PostgreSQL for a database server).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "messages/domain.hpp"
#include "messages/errors.hpp"
#include "messages/recovered_state.hpp"

namespace oms {

/// EVENTS_EXPIRED: the events before `first` are no longer kept.
inline caf::error events_expired(uint64_t first) {
  return make_error(errc::events_expired,
                    "the events before " + std::to_string(first) +
                        " are no longer kept (--event-retention)",
                    "{\"first\":\"" + std::to_string(first) + "\"}");
}

/// A backend of the JOURNAL. Only the JOURNAL actor calls it, from one
/// thread at a time (load() is called once before the JOURNAL starts).
class journal_store {
 public:
  virtual ~journal_store();

  /// Stores `events` atomically (all or none) and durably; the first of
  /// them gets sequence number last_seq() + 1. The current state they lead
  /// to is stored in the same transaction or later (unapplied()). Returns an
  /// error (and stores nothing) on failure.
  virtual caf::error commit(const std::vector<event>& events) = 0;

  /// A quick look at an append before it joins a batch: an error refuses
  /// that append alone, before the commit (a cluster node's: a change its
  /// writer made under a lease the node no longer holds, which would fail
  /// the whole batch at the commit's fence). The commit's own checks stay
  /// the ones that count. No error by default.
  virtual caf::error admit(const std::vector<event>&) const {
    return caf::none;
  }

  /// Committed events whose effect on the stored current state is still to
  /// be applied; always 0 for a store that applies it in the commit. Reads
  /// never tell the difference: each applies them first.
  virtual size_t unapplied() const { return 0; }

  /// Applies the committed events still to be applied. An error means the
  /// store can serve no more (every later call fails the same way).
  virtual caf::error apply_committed() { return caf::none; }

  /// Up to `max` stored events with sequence numbers >= `from` (the first
  /// event has number 1). Fails with EVENTS_EXPIRED (details.first: the
  /// oldest kept) when `from` is past events pruned away.
  virtual caf::expected<std::vector<event>> read(uint64_t from,
                                                 uint64_t max) const = 0;

  /// Deletes the oldest events of the log: a prefix of it, each committed
  /// before `before` (ms since the epoch), up to `max` of them, never the
  /// newest event nor one whose effect the store has not applied (the
  /// current state keeps what they did). Returns how many went. A store
  /// keeps every event until it is asked.
  virtual caf::expected<uint64_t> prune(timestamp_ms before, uint64_t max) = 0;

  /// Sequence number of the oldest event kept (last_seq() + 1 when none
  /// is). read() from below it fails with EVENTS_EXPIRED.
  virtual uint64_t first_seq() const = 0;

  /// Sequence number of the last stored event; 0 when empty.
  virtual uint64_t last_seq() const = 0;

  /// Whether other writers add to this store's log too (a cluster's shared
  /// log): then its end moves without this store's commits, and only
  /// log_end() says where it is.
  virtual bool shared_log() const { return false; }

  /// The sequence number of the last event committed to the log by any of
  /// its writers: every event up to it is there to read. last_seq() for a
  /// log with one writer.
  virtual caf::expected<uint64_t> log_end() const { return last_seq(); }

  /// The current state for recovery. Fails (naming the problem) rather than
  /// return a partial state.
  virtual caf::expected<recovered_state> load() = 0;

  /// What serving the stock needs of the current state: the SKUs (with
  /// their batches), the holds and the live orders, nothing else (no
  /// customers, inbox, count of the orders), and with `external` the
  /// EXTERNAL seller's state too (the feed cursors, feed changes and WMS
  /// reservations): what a cluster node reads to take a shard (the duty
  /// shard's holder serves the EXTERNAL seller). By default all of load().
  virtual caf::expected<recovered_state> load_stock(bool external) {
    (void)external;
    return load();
  }

  /// load_stock() for a cluster node taking `shards` of `count`: a store
  /// may leave out what is on other shards (an indexed read of those
  /// shards' rows); the caller keeps only theirs either way. By default
  /// all of load_stock().
  virtual caf::expected<recovered_state>
  load_shards(const std::vector<uint32_t>& shards, uint32_t count,
              bool external) {
    (void)shards;
    (void)count;
    return load_stock(external);
  }

  /// One INTERNAL SKU as it stands now, with every order's hold on it (for
  /// a restart of its actor). `found` is false for a SKU never stored.
  virtual caf::expected<stored_sku> load_sku(const sku_id& sku) const = 0;

  /// One EXTERNAL SKU's unsettled WMS reservations and feed changes (for a
  /// restart of its actor); empty for a SKU never dealt with.
  virtual caf::expected<stored_external>
  load_external(const sku_id& sku) const = 0;

  /// One idempotency key of a customer with the result it guards, if it was
  /// recorded (none or one).
  virtual caf::expected<std::vector<key_state>>
  load_key(const customer_id& customer, const std::string& key) const = 0;

  /// Whether an inbound change's id (stock_change::event_id) was recorded:
  /// applied or refused, and not yet forgotten.
  virtual caf::expected<bool>
  knows_inbox_id(const std::string& event_id) const = 0;

  /// The latest record of an order. Errors: ORDER_NOT_FOUND, STORE_FAILURE.
  virtual caf::expected<order_record> find_order(const order_id& id) const = 0;

  /// A customer's orders, newest first, skipping `offset`.
  virtual caf::expected<std::vector<order_record>>
  list_orders(const customer_id& customer, uint64_t offset,
              uint64_t limit) const = 0;

  /// The orders `query` selects, newest first (by creation), at most its
  /// limit, from the stored current state (indexed: never a scan of every
  /// order for a selective filter).
  virtual caf::expected<order_hits>
  search_orders(const order_query& query) const = 0;

  /// A store on the same data for reads only, to be used from another
  /// thread than this one's: it sees every committed change. None (the
  /// default) where reads must go through this store (a SQLite store
  /// brings its tables up to its log first).
  virtual caf::expected<std::shared_ptr<journal_store>> open_reader() const {
    return std::shared_ptr<journal_store>{};
  }

  /// True if commit blocks on I/O, so the JOURNAL needs a thread of its own.
  virtual bool blocking() const = 0;

  /// A short description for logs ("memory", "sqlite:/path").
  virtual std::string describe() const = 0;
};

} // namespace oms
