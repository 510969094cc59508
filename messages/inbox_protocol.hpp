// The INBOX's protocol: inbound stock changes (receipts, adjustments, moves
// in and out of sale) from the admin API and the warehouse feed, each applied
// once per event id however often it is delivered.
#pragma once

#include <string>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "messages/atoms.hpp"
#include "messages/domain.hpp"

namespace oms {

/// Interface of the INBOX.
using inbox_actor = caf::typed_actor<
    // Applies a change with a non-empty event id once: the first delivery
    // answers APPLIED (or REJECTED when the change is invalid: that outcome
    // is recorded too), every later one DUPLICATE, including deliveries that
    // arrive while the first is being applied and deliveries after a
    // restart. Errors: VALIDATION_FAILED (no or bad event id), STORE_FAILURE
    // and WMS_UNAVAILABLE (nothing was recorded: deliver again).
    caf::replies_to<atom::apply, stock_change>::with<inbox_result>,
    // Whether an event id was processed (and is still remembered).
    caf::replies_to<atom::get, std::string>::with<bool>,
    // Forgets the ids older than the retention (settings.inbox_retention);
    // the INBOX sends it to itself every settings.inbox_purge_interval.
    caf::reacts_to<atom::purge>>;

} // namespace oms
