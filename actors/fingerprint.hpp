// Stable fingerprints of requests, to tell a retried request from a different
// one under the same idempotency key. Stable across runs and builds (stored
// with the effects they guard).
#pragma once

#include <string>
#include <string_view>

#include "messages/domain.hpp"

namespace oms {

/// 16 hex digits of the 64-bit FNV-1a hash of `text`.
std::string fingerprint_of(std::string_view text);

/// Fingerprint of a createOrder request (customer, items in order, address).
std::string fingerprint_of(const create_order_request& req);

/// Checks an idempotency key: empty (none) or 1..255 printable ASCII
/// characters without spaces. Returns an error message, empty if fine.
std::string check_idempotency_key(std::string_view key);

} // namespace oms
