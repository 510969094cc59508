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
// Like a real provider, it keeps its charges and refunds in a database, not
// in memory: an SQLite file when given a path (each outcome committed and
// synced before it is answered, so a charge made before a restart can be
// looked up and refunded after it; the process's memory stays flat however
// many it keeps), else an SQLite database in memory (tests, demos). A ledger of JSON lines
// from an earlier version is imported once at start (a torn last line, from
// a crash mid-write, is an answer that was never given, and is dropped) and
// renamed with the suffix ".imported".
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>

#include "messages/payment_gateway.hpp"

namespace oms {

class simulated_gateway : public payment_gateway {
 public:
  struct config {
    /// Charges of at least this amount are declined; 0 turns the rule off.
    money decline_amount_min = 0;
  };

  simulated_gateway() : simulated_gateway(config{}) {}
  explicit simulated_gateway(config cfg);
  /// Keeps its outcomes in the SQLite file `db_path` (created 0600 if
  /// missing), first importing the JSON-lines ledger `legacy_ledger` if that
  /// file exists. Throws ledger_error if either cannot be read, written or
  /// parsed.
  simulated_gateway(config cfg, std::string db_path,
                    std::string legacy_ledger = {});
  ~simulated_gateway() override;

  simulated_gateway(const simulated_gateway&) = delete;
  simulated_gateway& operator=(const simulated_gateway&) = delete;

  /// A ledger that cannot be used, with its path in the message.
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
  class db;

  bool consume_failure();
  /// Records one outcome (and what it leaves of its charge) atomically and
  /// durably; false if that failed (the call then answers UNAVAILABLE and
  /// changes nothing).
  bool record(const std::string& key, const gateway_result& res, bool is_refund,
              const std::string& charge_reference);
  void import_ledger(const std::string& path);
  int count(bool refunds) const;
  std::optional<money> total(bool refunds) const;

  config cfg_;
  mutable std::mutex mtx_;
  int failures_left_ = 0;
  int64_t next_reference_ = 1;
  std::string path_;
  std::unique_ptr<db> db_;
};

} // namespace oms
