// A deterministic payment gateway for tests, examples and demos. Outcomes are
// chosen by the payment token and the amount:
//   tok_visa, tok_mastercard, any other token  -> approved
//   tok_decline               -> declined (card_declined)
//   tok_insufficient_funds    -> declined (insufficient_funds)
//   tok_timeout               -> charged, but the call reports UNAVAILABLE
//                                (the answer was lost: lookup finds it)
//   tok_timeout_uncharged     -> UNAVAILABLE without charging
//   amount >= decline_amount_min (if > 0) -> declined (amount_too_large)
// fail_next(n) makes the next n calls of any kind UNAVAILABLE without effect.
#pragma once

#include <mutex>
#include <unordered_map>

#include "messages/payment_gateway.hpp"

namespace oms {

class simulated_gateway : public payment_gateway {
 public:
  struct config {
    /// Charges of at least this amount are declined; 0 turns the rule off.
    money decline_amount_min = 0;
  };

  simulated_gateway() = default;
  explicit simulated_gateway(config cfg) : cfg_(cfg) {}

  gateway_result charge(const std::string& key, money amount,
                        const std::string& token) override;
  gateway_result lookup(const std::string& key) override;
  gateway_result refund(const std::string& key,
                        const std::string& charge_reference,
                        money amount) override;
  std::string describe() const override { return "simulated"; }

  /// The next `n` calls answer UNAVAILABLE and change nothing.
  void fail_next(int n);

  /// Number of distinct approved charges and their sum.
  int charges() const;
  money charged_total() const;
  /// Number of distinct approved refunds and their sum.
  int refunds() const;
  money refunded_total() const;

 private:
  bool consume_failure();

  config cfg_;
  mutable std::mutex mtx_;
  int failures_left_ = 0;
  int next_reference_ = 1;
  struct entry {
    gateway_result result;
    bool is_refund = false;
  };
  std::unordered_map<std::string, entry> by_key_;
  std::unordered_map<std::string, money> charged_by_reference_;
};

} // namespace oms
