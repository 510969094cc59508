// The audit collector: one audit's questions and answers. A collector of
// its own asks every SKU and every live order (a running one its actor, a
// resting one, or one whose actor ended meanwhile, the JOURNAL), a window at
// a time, without a
// timeout per request, and keeps one deadline for all. CAF 0.17 finds the
// handler of an answer, and the timeout of a request, by linear searches over
// the requester's pending requests: 200,000 requests in flight from one actor
// took minutes to answer. The SUPERVISOR stays free meanwhile. A look that
// finds violations is taken again after a pause (an order in the middle of
// a step can be read on one side of it and its SKU on the other), up to
// three looks: the report is the last look's.
#pragma once

#include <cstddef>
#include <optional>
#include <utility>
#include <vector>

#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "messages/domain.hpp"
#include "messages/inventory_protocol.hpp"
#include "messages/journal_protocol.hpp"
#include "messages/order_protocol.hpp"

namespace oms {

/// Interface of an audit collector: asked once, it replies the report; the
/// expire message is its own deadline, the retry message its next look.
using audit_collector_actor =
    caf::typed_actor<caf::replies_to<atom::audit>::with<audit_report>,
                     caf::reacts_to<atom::expire, uint64_t>,
                     caf::reacts_to<atom::retry>>;

/// State of an audit collector.
struct audit_collector_state {
  std::vector<std::pair<sku_id, inventory_actor>> skus;
  /// The live orders: their actor, or none if they rest.
  std::vector<std::pair<order_id, order_actor>> orders;
  journal_actor journal;
  caf::timespan deadline{};
  std::vector<char> sku_answered;
  size_t outstanding = 0;
  size_t in_flight = 0;
  size_t next_sku = 0;
  size_t next_order = 0;
  size_t orders_unanswered = 0;
  std::vector<stock_snapshot> snapshots;
  std::vector<order_record> live;
  std::vector<violation> failures;
  caf::typed_response_promise<audit_report> rp;
  bool finished = false;
  /// The looks taken so far (one, or more when a look found violations),
  /// and the last complete look's report.
  int looks = 1;
  std::optional<audit_report> last_look;
  /// Whether the orders of holds that are not among `orders` (a cluster's
  /// orders on other shards) were asked for.
  bool others_asked = false;
};

using audit_collector_ptr =
    audit_collector_actor::stateful_pointer<audit_collector_state>;

/// Behaviour of an audit collector over `skus` and the live `orders` (a
/// resting one with no actor is read from `journal`): the report says which
/// did not answer within `deadline`.
audit_collector_actor::behavior_type
audit_collector(audit_collector_ptr self,
                std::vector<std::pair<sku_id, inventory_actor>> skus,
                std::vector<std::pair<order_id, order_actor>> orders,
                journal_actor journal, caf::timespan deadline);

} // namespace oms
