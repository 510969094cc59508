// A deterministic payment gateway for tests, examples and demos. Outcomes are
// chosen by the payment token and the amount:
//   tok_visa, tok_mastercard, any other token  -> approved
//   tok_decline               -> declined (card_declined)
//   tok_insufficient_funds    -> declined (insufficient_funds)
//   tok_timeout               -> charged, but the call reports UNAVAILABLE
//                                (the answer was lost: lookup finds it)
//   tok_timeout_uncharged     -> UNAVAILABLE without charging
//   amount >= decline_amount_min (if > 0) -> declined (amount_too_large)
//   amount <= 0                -> declined (invalid_amount)
// fail_next(n) makes the next n calls of any kind UNAVAILABLE without effect.
//
// Like a real provider, it can remember its charges and refunds across
// restarts: given a ledger file, every new outcome is appended to it as one
// JSON line and synced before it is answered, and the file is read back at
// start (a torn last line, from a crash mid-write, is an answer that was
// never given, and is dropped).
#pragma once

#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
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
  /// Remembers its outcomes in `ledger_path` (created 0600 if missing).
  /// Throws ledger_error if the file cannot be read, written or parsed.
  simulated_gateway(config cfg, std::string ledger_path);
  ~simulated_gateway() override;

  simulated_gateway(const simulated_gateway&) = delete;
  simulated_gateway& operator=(const simulated_gateway&) = delete;

  /// A ledger file that cannot be used, with its path in the message.
  struct ledger_error : std::runtime_error {
    using std::runtime_error::runtime_error;
  };

  gateway_result charge(const std::string& key, money amount,
                        const std::string& token) override;
  gateway_result lookup(const std::string& key) override;
  gateway_result refund(const std::string& key,
                        const std::string& charge_reference,
                        money amount) override;
  std::string describe() const override;

  /// The next `n` calls answer UNAVAILABLE and change nothing.
  void fail_next(int n);

  /// Number of distinct approved charges and their sum (nothing if the sum
  /// does not fit in `money`).
  int charges() const;
  std::optional<money> charged_total() const;
  /// Number of distinct approved refunds and their sum (nothing if the sum
  /// does not fit in `money`).
  int refunds() const;
  std::optional<money> refunded_total() const;

 private:
  bool consume_failure();
  /// Applies one outcome to the maps (and the reference counter).
  void remember(const std::string& key, const gateway_result& res,
                bool is_refund, const std::string& charge_reference);
  /// Appends one outcome to the ledger and syncs it; false if that failed
  /// (the call then answers UNAVAILABLE and changes nothing).
  bool persist(const std::string& key, const gateway_result& res,
               bool is_refund, const std::string& charge_reference);
  void load_ledger();

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
  std::string ledger_path_;
  int ledger_fd_ = -1;
};

} // namespace oms
