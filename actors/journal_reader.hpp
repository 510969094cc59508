// The JOURNAL's reader (journal_reader_actor): the reads that need no append
// committed first, answered from a store of their own on a thread of their
// own. order_system spawns it when the JOURNAL's store has one
// (open_reader); the JOURNAL answers the same reads, through the same
// functions, where it has none.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <caf/typed_event_based_actor.hpp>

#include "messages/journal_protocol.hpp"
#include "messages/journal_store.hpp"

namespace oms {

/// The reads themselves, on `store`: as journal_reader_actor answers them.
caf::result<std::vector<order_record>>
read_customer_orders(const journal_store& store, const customer_id& customer,
                     uint64_t offset, uint64_t limit);
caf::result<order_hits> read_search(const journal_store& store,
                                    const order_query& query);
caf::result<std::vector<key_state>> read_key(const journal_store& store,
                                             const customer_id& customer,
                                             const std::string& key);
caf::result<bool> read_inbox_id(const journal_store& store,
                                const std::string& event_id);

struct journal_reader_state {
  std::shared_ptr<journal_store> store;
  static inline const char* name = "journal-reader";
};

/// Reads `store` (blocking: spawn with `spawn<caf::detached>`) until it is
/// told to exit.
journal_reader_actor::behavior_type journal_reader(
    journal_reader_actor::stateful_pointer<journal_reader_state> self,
    std::shared_ptr<journal_store> store);

} // namespace oms
