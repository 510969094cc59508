// The JOURNAL's reader (journal_reader_actor): the reads that need no append
// committed first, answered from a store of their own on a thread of their
// own. The JOURNAL spawns it when its store has one (open_reader).
#pragma once

#include <memory>

#include <caf/actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "messages/journal_protocol.hpp"
#include "messages/journal_store.hpp"

namespace oms {

struct journal_reader_state {
  std::shared_ptr<journal_store> store;
  static inline const char* name = "journal-reader";
};

/// Reads `store` (blocking: spawn with `spawn<caf::detached>`) until
/// `journal` is gone; it keeps no reference to the JOURNAL.
journal_reader_actor::behavior_type journal_reader(
    journal_reader_actor::stateful_pointer<journal_reader_state> self,
    std::shared_ptr<journal_store> store, const caf::actor& journal);

} // namespace oms
