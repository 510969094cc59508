// The JOURNAL actor's protocol: every state change of every actor passes
// through it, and nobody acknowledges a change to a client before the
// journal has acknowledged the events behind it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "messages/atoms.hpp"
#include "messages/domain.hpp"
#include "messages/recovered_state.hpp"
#include "messages/shards.hpp"

namespace oms {

/// Interface of the JOURNAL actor.
using journal_actor = caf::typed_actor<
    // Appends the events as one atomic record; replies the sequence number of
    // the last of them once they are durable (committed with a batch). Errors:
    // STORE_FAILURE (nothing of the record was stored).
    caf::replies_to<atom::append, std::vector<event>>::with<uint64_t>,
    // Replies up to `max` durable events with sequence numbers >= `from`.
    caf::replies_to<atom::read, uint64_t, uint64_t>::with<std::vector<event>>,
    // Replies the sequence number of the last durable event once it is at
    // least `seq`, or once `wait` has passed, whichever comes first (a
    // reader of the log waits for what it has not seen: `seq` is one past
    // the last event it read). A `seq` past last + 1 is answered at once.
    // A log other writers add to (a cluster's) counts their events too.
    // Errors: UNAVAILABLE when journal_watchers_max wait already.
    caf::replies_to<atom::await, uint64_t, caf::timespan>::with<uint64_t>,
    // Answers every reader waiting on an await now, and every later await
    // at once (omsd is stopping).
    caf::reacts_to<atom::await>,
    // Its own: looks where a log other writers add to ends, and answers
    // the readers waiting for events past it (journal_store::shared_log).
    caf::reacts_to<atom::tick>,
    // Deletes the events older than `retention` from the log (a prefix, at
    // most a slice at a time; the newest event stays), now and then again
    // every tenth of the retention (between 1 s and 1 h).
    caf::reacts_to<atom::prune, caf::timespan>,
    // Replies the latest durable record of an order. Errors:
    // ORDER_NOT_FOUND, STORE_FAILURE.
    caf::replies_to<atom::get, order_id>::with<order_record>,
    // Replies a customer's orders newest first: (customer, offset, limit).
    // Errors: STORE_FAILURE.
    caf::replies_to<atom::list, customer_id, uint64_t,
                    uint64_t>::with<std::vector<order_record>>,
    // Replies the orders an admin search selects, newest first. Errors:
    // STORE_FAILURE.
    caf::replies_to<atom::search, order_query>::with<order_hits>,
    // Replies one idempotency key of a customer with the result it guards
    // (none or one). Errors: STORE_FAILURE.
    caf::replies_to<atom::lookup, customer_id,
                    std::string>::with<std::vector<key_state>>,
    // Replies whether an inbound change's id (stock_change::event_id) is
    // recorded, applied or refused, in the store. Errors: STORE_FAILURE.
    caf::replies_to<atom::lookup, std::string>::with<bool>,
    // Replies one INTERNAL SKU as stored, with the holds on it (appends
    // waiting for their commit go first). Errors: STORE_FAILURE.
    caf::replies_to<atom::load_sku, sku_id>::with<stored_sku>,
    // Replies one EXTERNAL SKU's unsettled WMS reservations and feed
    // changes (appends waiting for their commit go first). Errors:
    // STORE_FAILURE.
    caf::replies_to<atom::load_external, sku_id>::with<stored_external>,
    // A cluster node takes shards (docs/cluster.md): replies what the store
    // holds of them (the shards of `epochs`, among `count`; the epochs are
    // not read), after the appends waiting for their commit. Errors:
    // STORE_FAILURE.
    caf::replies_to<atom::load, shard_epochs, uint32_t>::with<shard_state>,
    // Replies the journal's counters.
    caf::replies_to<atom::stats>::with<journal_stats>,
    // Internal: commits what has been appended so far.
    caf::reacts_to<atom::flush>,
    // Internal: brings the store's current state up to its log while no
    // append waits.
    caf::reacts_to<atom::catch_up>,
    // Internal: the wait of an await (by its number) is over.
    caf::reacts_to<atom::await, uint64_t>>;

/// The JOURNAL's reader: the reads that need no append committed first, on
/// a store of their own (journal_store::open_reader), on a thread of their
/// own, so that they never wait for a commit nor hold one up. Each answers
/// as the JOURNAL's message of the same shape.
using journal_reader_actor = caf::typed_actor<
    caf::replies_to<atom::list, customer_id, uint64_t,
                    uint64_t>::with<std::vector<order_record>>,
    caf::replies_to<atom::search, order_query>::with<order_hits>,
    caf::replies_to<atom::lookup, customer_id,
                    std::string>::with<std::vector<key_state>>,
    caf::replies_to<atom::lookup, std::string>::with<bool>>;

/// Awaits the JOURNAL keeps at once (each is a response promise and a
/// timer); past this, an await is answered at once.
inline constexpr size_t journal_watchers_max = 4096;

} // namespace oms
