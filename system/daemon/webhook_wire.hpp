// What a webhook is and how one delivery looks on the wire, as plain
// functions: a subscription as stored and as shown, its secret and the
// Standard Webhooks signature, which destinations may be called, and what an
// answer means for the delivery (done, retried after a backoff, or dead). No
// threads, no actors; webhooks.cpp runs the deliveries. docs/events.md
// documents what they produce.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "messages/basics.hpp"

namespace oms::daemon {

/// One subscription as stored (secrets included: never shown after its
/// creation or rotation).
struct webhook_config {
  /// "wh_" and 16 hex digits.
  std::string id;
  std::string url;
  /// Feed types or "PREFIX.*" patterns (read_feed_types), at least one.
  std::vector<std::string> types;
  std::string description;
  /// "whsec_" and the base64 of the key.
  std::string secret;
  /// The secret before the last rotation, still signed with until
  /// `previous_until` (ms since the epoch); "" for none.
  std::string previous_secret;
  timestamp_ms previous_until = 0;
  bool paused = false;
  /// Why it is paused (by the admin, or after too many failures).
  std::string pause_reason;
  timestamp_ms created_at = 0;
  timestamp_ms updated_at = 0;
};

/// The stored form (a JSON object), secrets included.
nlohmann::json stored_json(const webhook_config& x);

/// Reads what stored_json wrote; nullopt for anything else.
std::optional<webhook_config> webhook_from_stored(std::string_view text);

/// The form the API shows: no secret, and whether a previous one is still
/// honoured and until when.
nlohmann::json public_json(const webhook_config& x);

/// A new subscription id: "wh_" and 16 random hex digits.
std::string new_webhook_id();

/// A new secret: "whsec_" and the base64 of 24 random bytes.
std::string new_webhook_secret();

std::string base64_encode(std::string_view bytes);

/// Standard base64 with padding; nullopt for anything else.
std::optional<std::string> base64_decode(std::string_view text);

/// The signature of one delivery under `secret` ("whsec_" and base64):
/// "v1," and the base64 of HMAC-SHA256(key, msg_id "." timestamp "." body),
/// as the Standard Webhooks specification has it; "" for a malformed
/// secret.
std::string webhook_signature(std::string_view secret, std::string_view msg_id,
                              int64_t timestamp_s, std::string_view body);

/// The value of the webhook-signature header: the signature under the
/// secret, and under the previous one while it is honoured at `now`,
/// separated by a space.
std::string webhook_signatures(const webhook_config& x, std::string_view msg_id,
                               int64_t timestamp_s, std::string_view body,
                               timestamp_ms now);

/// Hosts a webhook may call, as configured ("127.0.0.1,localhost,::1"):
/// lowercased, IPv6 literals without brackets. Empty entries are dropped.
std::vector<std::string> read_allowed_hosts(std::string_view text);

/// Why `url` may not be a webhook's destination, or "" when it may: it must
/// parse as an absolute http or https URL of at most 2048 bytes, without
/// user or password, whose host is one of `allowed` (exactly, after
/// lowercasing; a name is trusted to resolve where its operator says).
std::string destination_refusal(std::string_view url,
                                const std::vector<std::string>& allowed);

/// What an answer with `status` (0: no answer: refused, reset, timed out)
/// means for the delivery.
enum class attempt_outcome {
  /// 2xx: delivered.
  delivered,
  /// 5xx, 408, 429 or no answer: tried again after a backoff.
  retry,
  /// Any other status (a 4xx, a redirect, which is never followed): the
  /// receiver refuses this event; it goes to the dead letters at once.
  dead,
};

attempt_outcome classify_answer(long status);

/// The wait before the next attempt after `failures` failures in a row (at
/// least 1): base * 2^(failures - 1), at most `cap`, then a random part of
/// it taken off (`jitter` in [0, 1): up to a fifth), never under 1 ms.
std::chrono::milliseconds retry_delay(uint32_t failures,
                                      std::chrono::milliseconds base,
                                      std::chrono::milliseconds cap,
                                      double jitter);

} // namespace oms::daemon
