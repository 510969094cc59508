// The INBOX: deduplicates inbound stock changes by event id. The id is
// journaled in the same append as the change's effect (by the SKU actor), so
// a crash between receiving and applying loses nothing and a replay after a
// restart changes nothing.
#pragma once

#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/context.hpp"
#include "messages/inbox_protocol.hpp"
#include "messages/supervisor_protocol.hpp"

namespace oms {

/// State of the INBOX.
struct inbox_state {
  context_ptr ctx;
  supervisor_actor supervisor;
  /// Event ids whose change is durable (applied or rejected), with when
  /// each was recorded; kept for settings.inbox_retention.
  std::unordered_map<std::string, timestamp_ms> done;
  uint64_t forgotten = 0;
  /// Event ids being applied, with the deliveries waiting for the outcome.
  std::unordered_map<std::string,
                     std::vector<caf::typed_response_promise<inbox_result>>>
      in_flight;
  uint64_t applied = 0;
  uint64_t duplicates = 0;
  uint64_t rejected = 0;

  static inline const char* name = "inbox";
};

/// Behaviour of the INBOX; `done` holds the ids processed before a restart,
/// with when each was recorded.
inbox_actor::behavior_type
inbox(inbox_actor::stateful_pointer<inbox_state> self, context_ptr ctx,
      supervisor_actor supervisor,
      std::vector<std::pair<std::string, timestamp_ms>> done);

} // namespace oms
