// Who is calling: bearer tokens (the admin's, and one per customer, kept only
// as SHA-256 hashes) and a per-token rate limit.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "messages/domain.hpp"

namespace oms::daemon {

/// Lower-case hex SHA-256 of `text`.
std::string sha256_hex(std::string_view text);

/// A fresh customer token: "oms_" and 256 random bits in base32.
std::string new_token();

/// The token of an Authorization header's value "Bearer TOKEN" (the word
/// Bearer in any case), or nullopt for any other value.
std::optional<std::string_view> bearer_token(std::string_view authorization);

/// The caller of a request.
struct principal {
  bool admin = false;
  /// The customer a customer token belongs to (empty for the admin).
  customer_id customer;
  /// Identifies the token without revealing it (for the rate limit).
  std::string key;
};

/// The admin token and every customer's token hash. Thread-safe; lookups run
/// concurrently.
class token_registry {
 public:
  explicit token_registry(std::string_view admin_token);

  /// Adds a customer (at start from the store, then as they are created).
  void add(const customer_record& rec);

  /// The principal of a bearer token, or nullopt. The admin token is
  /// compared in constant time; customer tokens are found by their hash.
  std::optional<principal> authenticate(std::string_view token) const;

  std::optional<customer_record> find(const customer_id& id) const;

  size_t customers() const;

 private:
  std::string admin_hash_;
  mutable std::shared_mutex mtx_;
  std::unordered_map<std::string, customer_id> by_hash_;
  std::unordered_map<customer_id, customer_record> by_id_;
};

/// A token bucket per key: `rate` requests per second, bursts of `burst`.
class rate_limiter {
 public:
  using clock = std::chrono::steady_clock;

  rate_limiter(double rate, double burst);

  bool enabled() const { return rate_ > 0; }

  /// Takes one request from the key's bucket: 0 when allowed, else the whole
  /// seconds (at least 1, at most a day) until one is.
  int64_t acquire(const std::string& key, clock::time_point now);

 private:
  struct bucket {
    double tokens;
    clock::time_point last;
  };
  double rate_;
  double burst_;
  std::mutex mtx_;
  std::unordered_map<std::string, bucket> buckets_;
};

} // namespace oms::daemon
