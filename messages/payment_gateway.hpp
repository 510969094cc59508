// The payment gateway as the PAYMENT actor sees it: synchronous calls, each
// idempotent by a key the caller derives (order id, kind, attempt), so a call
// repeated after a timeout never charges or refunds twice.
#pragma once

#include <cstdint>
#include <string>

#include "messages/domain.hpp"

namespace oms {

/// A payment gateway. Implementations must be safe to call from one thread
/// at a time; the PAYMENT actor never calls concurrently.
class payment_gateway {
 public:
  virtual ~payment_gateway();

  /// Charges `amount` to the payment method `token`. Repeating a key returns
  /// the first outcome without charging again. UNAVAILABLE means the outcome
  /// is unknown (it may have charged): ask lookup() with the same key.
  virtual gateway_result charge(const std::string& key, money amount,
                                const std::string& token) = 0;

  /// The outcome of an earlier charge or refund, or NOT_FOUND if the gateway
  /// never received that key.
  virtual gateway_result lookup(const std::string& key) = 0;

  /// Refunds `amount` of the charge `charge_reference`. Idempotent by key.
  virtual gateway_result refund(const std::string& key,
                                const std::string& charge_reference,
                                money amount) = 0;

  /// A short description for logs.
  virtual std::string describe() const = 0;
};

} // namespace oms
