#include "system/daemon/webhook_wire.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <memory>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "messages/json.hpp"

namespace oms::daemon {

namespace {

using nlohmann::json;

std::string random_bytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()),
                 static_cast<int>(n)) != 1)
    throw std::runtime_error("no random bytes from OpenSSL");
  return out;
}

std::string lower(std::string_view text) {
  std::string out{text};
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return static_cast<char>(std::tolower(c));
  });
  return out;
}

// "[::1]" -> "::1"; anything else as it is.
std::string unbracket(std::string host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    return host.substr(1, host.size() - 2);
  return host;
}

struct url_deleter {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};

// One part of a parsed URL, or "" when it has none.
std::string url_part(CURLU* u, CURLUPart part) {
  char* text = nullptr;
  if (curl_url_get(u, part, &text, 0) != CURLUE_OK || text == nullptr)
    return {};
  std::string out{text};
  curl_free(text);
  return out;
}

constexpr const char* secret_prefix = "whsec_";

} // namespace

json stored_json(const webhook_config& x) {
  return json{{"id", x.id},
              {"url", x.url},
              {"types", x.types},
              {"description", x.description},
              {"secret", x.secret},
              {"previousSecret", x.previous_secret},
              {"previousUntil", x.previous_until},
              {"paused", x.paused},
              {"pauseReason", x.pause_reason},
              {"createdAt", x.created_at},
              {"updatedAt", x.updated_at}};
}

std::optional<webhook_config> webhook_from_stored(std::string_view text) {
  auto j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return std::nullopt;
  try {
    webhook_config x;
    x.id = j.at("id").get<std::string>();
    x.url = j.at("url").get<std::string>();
    x.types = j.at("types").get<std::vector<std::string>>();
    x.description = j.at("description").get<std::string>();
    x.secret = j.at("secret").get<std::string>();
    x.previous_secret = j.at("previousSecret").get<std::string>();
    x.previous_until = j.at("previousUntil").get<timestamp_ms>();
    x.paused = j.at("paused").get<bool>();
    x.pause_reason = j.at("pauseReason").get<std::string>();
    x.created_at = j.at("createdAt").get<timestamp_ms>();
    x.updated_at = j.at("updatedAt").get<timestamp_ms>();
    if (x.id.empty())
      return std::nullopt;
    return x;
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

json public_json(const webhook_config& x) {
  json out{{"id", x.id},
           {"url", x.url},
           {"types", x.types},
           {"description", x.description},
           {"paused", x.paused},
           {"createdAt", format_timestamp(x.created_at)},
           {"updatedAt", format_timestamp(x.updated_at)}};
  if (x.paused)
    out["pauseReason"] = x.pause_reason;
  if (!x.previous_secret.empty())
    out["previousSecretUntil"] = format_timestamp(x.previous_until);
  return out;
}

std::string new_webhook_id() {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out = "wh_";
  for (unsigned char c : random_bytes(8)) {
    out += hex[c >> 4];
    out += hex[c & 0xf];
  }
  return out;
}

std::string new_webhook_secret() {
  return secret_prefix + base64_encode(random_bytes(24));
}

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  auto n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                           reinterpret_cast<const unsigned char*>(bytes.data()),
                           static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0)
    return std::nullopt;
  size_t pad = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c == '=') {
      // Padding only at the end, at most two.
      if (i + 2 < text.size() || (i + 1 < text.size() && text[i + 1] != '='))
        return std::nullopt;
      ++pad;
    } else if (!std::isalnum(c) && c != '+' && c != '/') {
      return std::nullopt;
    }
  }
  std::string out(text.size() / 4 * 3, '\0');
  auto n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                           reinterpret_cast<const unsigned char*>(text.data()),
                           static_cast<int>(text.size()));
  if (n < 0 || static_cast<size_t>(n) < pad)
    return std::nullopt;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

std::string webhook_signature(std::string_view secret, std::string_view msg_id,
                              int64_t timestamp_s, std::string_view body) {
  std::string_view prefix{secret_prefix};
  if (secret.substr(0, prefix.size()) != prefix)
    return {};
  auto key = base64_decode(secret.substr(prefix.size()));
  if (!key || key->empty())
    return {};
  std::string signed_text;
  signed_text.reserve(msg_id.size() + body.size() + 24);
  signed_text.append(msg_id);
  signed_text += '.';
  signed_text += std::to_string(timestamp_s);
  signed_text += '.';
  signed_text.append(body);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), key->data(), static_cast<int>(key->size()),
           reinterpret_cast<const unsigned char*>(signed_text.data()),
           signed_text.size(), mac, &len) == nullptr)
    return {};
  return "v1," + base64_encode({reinterpret_cast<const char*>(mac), len});
}

std::string webhook_signatures(const webhook_config& x, std::string_view msg_id,
                               int64_t timestamp_s, std::string_view body,
                               timestamp_ms now) {
  auto out = webhook_signature(x.secret, msg_id, timestamp_s, body);
  if (!x.previous_secret.empty() && now < x.previous_until) {
    auto old = webhook_signature(x.previous_secret, msg_id, timestamp_s, body);
    if (!old.empty())
      out += (out.empty() ? "" : " ") + old;
  }
  return out;
}

std::vector<std::string> read_allowed_hosts(std::string_view text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    auto comma = text.find(',', start);
    auto item = text.substr(start, comma == std::string_view::npos
                                       ? std::string_view::npos
                                       : comma - start);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item[0])))
      item.remove_prefix(1);
    while (!item.empty() &&
           std::isspace(static_cast<unsigned char>(item.back())))
      item.remove_suffix(1);
    if (!item.empty())
      out.push_back(unbracket(lower(item)));
    if (comma == std::string_view::npos)
      break;
    start = comma + 1;
  }
  return out;
}

std::string destination_refusal(std::string_view url,
                                const std::vector<std::string>& allowed) {
  if (url.empty() || url.size() > 2048)
    return "must be 1 to 2048 bytes";
  for (unsigned char c : url)
    if (c <= 0x20 || c >= 0x7f)
      return "must be an absolute URL without spaces, controls or bytes "
             "past ASCII (percent-encode them)";
  std::unique_ptr<CURLU, url_deleter> u{curl_url()};
  if (!u)
    return "cannot be parsed now (no memory)";
  std::string text{url};
  // The same parser libcurl sends with: what is checked is what is called.
  if (curl_url_set(u.get(), CURLUPART_URL, text.c_str(), 0) != CURLUE_OK)
    return "must be an absolute http or https URL";
  auto scheme = lower(url_part(u.get(), CURLUPART_SCHEME));
  if (scheme != "http" && scheme != "https")
    return "must be an http or https URL";
  if (!url_part(u.get(), CURLUPART_USER).empty() ||
      !url_part(u.get(), CURLUPART_PASSWORD).empty())
    return "must not carry a user or password";
  auto host = unbracket(lower(url_part(u.get(), CURLUPART_HOST)));
  if (host.empty())
    return "must name a host";
  if (std::find(allowed.begin(), allowed.end(), host) == allowed.end())
    return "names host '" + host +
           "', which is not in omsd's webhook allowlist (--webhook-allow)";
  return {};
}

attempt_outcome classify_answer(long status) {
  if (status >= 200 && status < 300)
    return attempt_outcome::delivered;
  if (status == 0 || status == 408 || status == 429 || status >= 500)
    return attempt_outcome::retry;
  return attempt_outcome::dead;
}

std::chrono::milliseconds retry_delay(uint32_t failures,
                                      std::chrono::milliseconds base,
                                      std::chrono::milliseconds cap,
                                      double jitter) {
  using ms = std::chrono::milliseconds;
  auto exponent = std::min<uint32_t>(failures == 0 ? 0 : failures - 1, 40);
  double wait = static_cast<double>(base.count()) *
                std::ldexp(1.0, static_cast<int>(exponent));
  wait = std::min(wait, static_cast<double>(cap.count()));
  jitter = std::clamp(jitter, 0.0, 1.0);
  wait -= wait * 0.2 * jitter;
  return std::max(ms{1}, ms{static_cast<int64_t>(wait)});
}

} // namespace oms::daemon
