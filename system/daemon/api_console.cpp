// The operations console's files under /console/ (console/, built into omsd
// by tools/embed-console.cmake): GET and HEAD only, each with its content
// type, a strict Content-Security-Policy (this origin only, no inline
// script or style), and a strong ETag that the browser revalidates
// (Cache-Control: no-cache; 304 when unchanged). No token: the files are
// the same for everyone, and the page asks for the admin token itself.
#include <algorithm>

#include "system/daemon/api_impl.hpp"
#include "system/daemon/console_assets.hpp"

namespace oms::daemon {

namespace {

constexpr std::string_view prefix = "/console/";

constexpr const char* policy =
    "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

// Whether If-None-Match (a list of tags, weak ones included, or *) names
// `etag` (weak comparison, as RFC 9110 has it for If-None-Match).
bool none_match_names(std::string_view field, std::string_view etag) {
  field = trim_ows(field);
  if (field == "*")
    return true;
  while (!field.empty()) {
    auto comma = field.find(',');
    auto tag = trim_ows(field.substr(0, comma));
    if (tag.substr(0, 2) == "W/")
      tag.remove_prefix(2);
    if (tag == etag)
      return true;
    if (comma == std::string_view::npos)
      break;
    field.remove_prefix(comma + 1);
  }
  return false;
}

} // namespace

const console_asset* find_console_asset(std::string_view path) {
  if (path.empty())
    path = "index.html";
  auto& all = console_assets();
  auto i = std::find_if(all.begin(), all.end(),
                        [&](const console_asset& a) { return a.path == path; });
  return i == all.end() ? nullptr : &*i;
}

bool api::impl::serve_console(const call_ptr& c) {
  auto& path = c->req.path;
  if (path != "/console" && path.compare(0, prefix.size(), prefix) != 0)
    return false;
  // One series in the metrics for every file.
  c->route = "/console/";
  if (c->req.method != "GET") {
    fail(c,
         make_error(errc::method_not_allowed,
                    c->req.method + " is not allowed here; use GET, HEAD"),
         {{"Allow", "GET, HEAD"}});
    return true;
  }
  http_response resp;
  if (path == "/console") {
    resp.status = 301;
    resp.content_type = "text/plain; charset=utf-8";
    resp.headers = {{"Location", std::string{prefix}}};
    resp.body = "the console is at /console/\n";
    finish(c, std::move(resp));
    return true;
  }
  auto* asset =
      find_console_asset(std::string_view{path}.substr(prefix.size()));
  if (asset == nullptr) {
    fail(c, make_error(errc::not_found, "no console file " + path));
    return true;
  }
  resp.content_type = std::string{asset->content_type};
  resp.cache_control = "no-cache";
  resp.headers = {{"ETag", std::string{asset->etag}},
                  {"Content-Security-Policy", policy},
                  {"X-Content-Type-Options", "nosniff"},
                  {"Referrer-Policy", "no-referrer"},
                  {"X-Frame-Options", "DENY"},
                  {"Cross-Origin-Opener-Policy", "same-origin"}};
  if (!c->req.if_none_match.empty() &&
      none_match_names(c->req.if_none_match, asset->etag))
    resp.status = 304;
  else
    resp.body = std::string{asset->body};
  finish(c, std::move(resp));
  return true;
}

} // namespace oms::daemon
