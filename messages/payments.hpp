// The payment gateway's answers to charges, refunds and lookups.
#pragma once

#include <cstdint>
#include <string>

#include <caf/meta/type_name.hpp>

#include "messages/basics.hpp"

namespace oms {

/// How the payment gateway answered.
enum class gateway_status : uint8_t {
  approved = 0,    // charged or refunded
  declined = 1,    // refused, with a reason
  unavailable = 2, // no answer (timeout, outage): the outcome is unknown
  not_found = 3,   // lookup: the gateway never saw that key
};

/// "APPROVED", "DECLINED", "UNAVAILABLE", "NOT_FOUND".
const char* to_string(gateway_status x);

/// The gateway's answer to a charge, refund or lookup.
struct gateway_result {
  gateway_status status = gateway_status::unavailable;
  std::string reference;
  std::string reason;
  money amount = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, gateway_result& x) {
  return f(caf::meta::type_name("gateway_result"), x.status, x.reference,
           x.reason, x.amount);
}

} // namespace oms
