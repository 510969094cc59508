#include "system/client/http_client.hpp"

#include <algorithm>
#include <cctype>
#include <mutex>

#include <curl/curl.h>

#include "system/http/percent.hpp"

namespace oms::client {

namespace {

std::once_flag curl_init;

size_t on_body(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* out = static_cast<http_result*>(user);
  std::string line{data, size * count};
  auto colon = line.find(':');
  if (colon != std::string::npos) {
    auto name = line.substr(0, colon);
    auto value = line.substr(colon + 1);
    auto trim = [](std::string& s) {
      while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
        s.pop_back();
      size_t i = 0;
      while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i])))
        ++i;
      s.erase(0, i);
    };
    trim(name);
    trim(value);
    out->headers.emplace_back(std::move(name), std::move(value));
  }
  return size * count;
}

bool iequals(const std::string& a, const std::string& b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

} // namespace

std::string http_result::header(const std::string& name) const {
  for (auto& [k, v] : headers)
    if (iequals(k, name))
      return v;
  return {};
}

http_client::http_client(std::string base_url, std::string token,
                         std::chrono::milliseconds timeout)
    : base_url_(std::move(base_url)),
      token_(std::move(token)),
      timeout_(timeout) {
  std::call_once(curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  while (!base_url_.empty() && base_url_.back() == '/')
    base_url_.pop_back();
  curl_ = curl_easy_init();
}

http_client::~http_client() {
  curl_easy_cleanup(static_cast<CURL*>(curl_));
}

http_result http_client::request(const std::string& method,
                                 const std::string& path,
                                 const std::string& body,
                                 const std::vector<std::string>& headers) {
  auto* h = static_cast<CURL*>(curl_);
  http_result result;
  if (h == nullptr) {
    result.error = "cannot initialize libcurl";
    return result;
  }
  curl_easy_reset(h);
  auto url = base_url_ + path;
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_.count()));
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &result.body);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &result);
  curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
  if (method == "HEAD")
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  curl_slist* list = nullptr;
  if (!token_.empty())
    list = curl_slist_append(list, ("Authorization: Bearer " + token_).c_str());
  if (!body.empty()) {
    list = curl_slist_append(list, "Content-Type: application/json");
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(body.size()));
  }
  list = curl_slist_append(list, "Expect:");
  for (auto& x : headers)
    list = curl_slist_append(list, x.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
  auto rc = curl_easy_perform(h);
  curl_slist_free_all(list);
  if (rc != CURLE_OK) {
    result.error = curl_easy_strerror(rc);
    result.status = 0;
    return result;
  }
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &result.status);
  return result;
}

std::string url_encode(const std::string& text) {
  return http::percent_encode(text);
}

} // namespace oms::client
