// A small blocking HTTP/1.1 client over libcurl, for omsctl, the end-to-end
// tests and the load tools. One client is one keep-alive connection; use one
// per thread.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace oms::client {

struct http_result {
  /// 0 when no answer arrived (see error).
  long status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  /// Why there is no answer (connection refused, timeout, ...).
  std::string error;

  bool ok() const { return status >= 200 && status < 300; }
  /// The first header of that name (case-insensitive), or "".
  std::string header(const std::string& name) const;
};

class http_client {
 public:
  /// `base_url` like "http://127.0.0.1:8080"; `token` is sent as a bearer
  /// token when not empty.
  explicit http_client(
      std::string base_url, std::string token = {},
      std::chrono::milliseconds timeout = std::chrono::seconds(30));
  ~http_client();

  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;

  void set_token(std::string token) { token_ = std::move(token); }
  const std::string& base_url() const { return base_url_; }

  /// Sends `method` to base_url + `path` (with query) and the JSON `body`
  /// (none if empty). Extra headers as "Name: value".
  http_result request(const std::string& method, const std::string& path,
                      const std::string& body = {},
                      const std::vector<std::string>& headers = {});

  http_result get(const std::string& path) { return request("GET", path); }
  http_result post(const std::string& path, const std::string& body,
                   const std::vector<std::string>& headers = {}) {
    return request("POST", path, body, headers);
  }

 private:
  std::string base_url_;
  std::string token_;
  std::chrono::milliseconds timeout_;
  void* curl_;
};

/// Percent-encodes a path segment or query value.
std::string url_encode(const std::string& text);

} // namespace oms::client
