// The PAYMENT actor: stands in front of a payment_gateway, so that orders
// reach the gateway through messages and the gateway is called from one
// place, one call at a time.
#pragma once

#include <memory>

#include <caf/typed_event_based_actor.hpp>

#include "messages/payment_gateway.hpp"
#include "messages/payment_protocol.hpp"

namespace oms {

/// State of the PAYMENT actor.
struct payment_state {
  std::shared_ptr<payment_gateway> gateway;

  static inline const char* name = "payment";
};

/// Behaviour of the PAYMENT actor. Calls to a gateway that blocks on I/O
/// need the actor spawned detached.
payment_actor::behavior_type
payment(payment_actor::stateful_pointer<payment_state> self,
        std::shared_ptr<payment_gateway> gateway);

} // namespace oms
