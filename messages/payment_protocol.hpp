// The PAYMENT actor's protocol: the one way to the payment gateway. Outcomes
// (approved, declined, unavailable) are reply values, not errors: the order
// decides what each means for it.
#pragma once

#include <string>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "messages/atoms.hpp"
#include "messages/domain.hpp"

namespace oms {

/// Interface of the PAYMENT actor.
using payment_actor = caf::typed_actor<
    // Charges (gateway key, amount, payment token). Idempotent by key.
    caf::replies_to<atom::charge, std::string, money,
                    std::string>::with<gateway_result>,
    // The outcome of an earlier charge or refund by key (NOT_FOUND if none).
    caf::replies_to<atom::lookup, std::string>::with<gateway_result>,
    // Refunds (gateway key, charge reference, amount). Idempotent by key.
    caf::replies_to<atom::refund, std::string, std::string,
                    money>::with<gateway_result>>;

} // namespace oms
