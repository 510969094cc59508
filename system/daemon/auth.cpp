#include "system/daemon/auth.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "actors/ids.hpp"

namespace oms::daemon {

std::string sha256_hex(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), digest, &len, EVP_sha256(), nullptr);
  static constexpr char hex[] = "0123456789abcdef";
  std::string result;
  result.reserve(len * 2);
  for (unsigned i = 0; i < len; ++i) {
    result += hex[digest[i] >> 4];
    result += hex[digest[i] & 0x0f];
  }
  return result;
}

std::string new_token() {
  return random_id("oms_") + random_id("");
}

std::optional<std::string_view> bearer_token(std::string_view authorization) {
  constexpr std::string_view scheme = "Bearer ";
  if (authorization.size() <= scheme.size())
    return std::nullopt;
  for (size_t i = 0; i < scheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(authorization[i])) !=
        std::tolower(static_cast<unsigned char>(scheme[i])))
      return std::nullopt;
  return authorization.substr(scheme.size());
}

token_registry::token_registry(std::string_view admin_token)
    : admin_hash_(sha256_hex(admin_token)) {}

void token_registry::add(const customer_record& rec) {
  std::unique_lock<std::shared_mutex> guard{mtx_};
  by_hash_.insert_or_assign(rec.token_hash, rec.id);
  by_id_.insert_or_assign(rec.id, rec);
}

std::optional<principal>
token_registry::authenticate(std::string_view token) const {
  if (token.empty())
    return std::nullopt;
  auto hash = sha256_hex(token);
  // Both sides are 64 hex characters: the comparison takes the same time
  // whatever the token.
  if (CRYPTO_memcmp(hash.data(), admin_hash_.data(), hash.size()) == 0)
    return principal{true, {}, "admin"};
  std::shared_lock<std::shared_mutex> guard{mtx_};
  auto i = by_hash_.find(hash);
  if (i == by_hash_.end())
    return std::nullopt;
  return principal{false, i->second, hash.substr(0, 16)};
}

std::optional<customer_record>
token_registry::find(const customer_id& id) const {
  std::shared_lock<std::shared_mutex> guard{mtx_};
  auto i = by_id_.find(id);
  if (i == by_id_.end())
    return std::nullopt;
  return i->second;
}

size_t token_registry::customers() const {
  std::shared_lock<std::shared_mutex> guard{mtx_};
  return by_id_.size();
}

rate_limiter::rate_limiter(double rate, double burst)
    : rate_(rate), burst_(burst > 0 ? burst : std::max(1.0, rate)) {}

int64_t rate_limiter::acquire(const std::string& key, clock::time_point now) {
  if (!enabled())
    return 0;
  std::lock_guard<std::mutex> guard{mtx_};
  auto [i, added] = buckets_.try_emplace(key, bucket{burst_, now});
  auto& b = i->second;
  if (!added) {
    std::chrono::duration<double> elapsed = now - b.last;
    b.tokens = std::min(burst_, b.tokens + elapsed.count() * rate_);
    b.last = now;
  }
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return 0;
  }
  // A wait past a day (a rate of one request in years) is answered as a
  // day: converting it to an integer could overflow.
  auto wait = std::min((1.0 - b.tokens) / rate_, 86'400.0);
  return std::max<int64_t>(1, static_cast<int64_t>(std::ceil(wait)));
}

} // namespace oms::daemon
