// The WMS FEED reader: polls the EXTERNAL seller's event feed (receipts,
// adjustments, damage, quarantine) through the WMS GATEWAY and hands each
// event to the INBOX, which applies it once per event id (the feed delivers
// at least once). The cursor is journaled after the page it ends is applied,
// so a crash replays at most that page, and the INBOX drops the replay.
#pragma once

#include <caf/typed_event_based_actor.hpp>

#include "actors/context.hpp"
#include "actors/wms_answers.hpp"
#include "messages/supervisor_protocol.hpp"
#include "messages/wms_protocol.hpp"

namespace oms {

using wms_feed_actor = caf::typed_actor<
    // Timer: read the next page (carries a generation).
    caf::reacts_to<atom::read, uint64_t>>;

/// State of the WMS FEED reader.
struct wms_feed_state {
  context_ptr ctx;
  supervisor_actor supervisor;
  std::string cursor;
  /// A cluster node's: the duty shard's lease epoch when the reader
  /// started, stamped on the cursors it journals; 0 on a single node.
  int64_t fence = 0;
  uint64_t generation = 0;
  uint64_t pages = 0;
  uint64_t events = 0;

  static inline const char* name = "wms_feed";
};

/// Behaviour of the WMS FEED reader, starting after `cursor` ("" = from the
/// start of the feed); `fence` as in the state.
wms_feed_actor::behavior_type
wms_feed(wms_feed_actor::stateful_pointer<wms_feed_state> self, context_ptr ctx,
         supervisor_actor supervisor, std::string cursor, int64_t fence);

} // namespace oms
