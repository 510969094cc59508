// Fuzzes route matching and path and query decoding (system/http/route.hpp,
// percent.hpp, utf8.hpp; omsd's parse_query). The first byte picks a mode:
//   a: "METHOD PATH[?QUERY]" against omsd's route table, as api::admit and
//      the routes read it: only a path in origin form ("/...") fits a
//      route, a route's parameters are its non-empty segments, and a query
//      string is taken or refused naming a parameter in UTF-8;
//   b: lines "METHOD PATTERN", then "METHOD PATH", matched by match_route
//      and by a plain reading of its contract, which must agree.
// Every input also checks, on the text after the first byte: percent-encoding
// decodes back to the bytes in both modes, a strict decoding agrees with the
// lenient one, and valid_utf8 agrees with a decoder of code points.
#include <string>
#include <vector>

#include "system/daemon/request_fields.hpp"
#include "system/http/percent.hpp"
#include "system/http/route.hpp"
#include "system/http/utf8.hpp"
#include "tests/fuzz/fuzz_check.hpp"
#include "tests/fuzz/omsd_routes.hpp"

namespace {

using namespace oms;

// RFC 3629 read as code points: the shortest form, no surrogates, nothing
// above U+10FFFF.
bool utf8_by_code_points(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto b = static_cast<unsigned char>(s[i]);
    size_t len = b < 0x80         ? 1
                 : (b >> 5) == 6  ? 2
                 : (b >> 4) == 14 ? 3
                 : (b >> 3) == 30 ? 4
                                  : 0;
    if (len == 0 || i + len > s.size())
      return false;
    uint32_t cp = len == 1 ? b : b & (0x7F >> len);
    for (size_t k = 1; k < len; ++k) {
      auto c = static_cast<unsigned char>(s[i + k]);
      if ((c >> 6) != 2)
        return false;
      cp = (cp << 6) | (c & 0x3F);
    }
    static constexpr uint32_t shortest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < shortest[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += len;
  }
  return true;
}

void check_codecs(std::string_view text) {
  FUZZ_CHECK(http::valid_utf8(text) == utf8_by_code_points(text),
             "valid_utf8 agrees with a decoder of code points");
  auto encoded = http::percent_encode(text);
  for (auto c : encoded)
    FUZZ_CHECK((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                   (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
                   c == '~' || c == '%',
               "an encoding holds only unreserved bytes and escapes");
  for (auto mode :
       {http::percent_mode::strict, http::percent_mode::lenient_form}) {
    auto back = http::percent_decode(encoded, mode);
    FUZZ_CHECK(back && *back == text, "an encoding decodes to the bytes");
  }
  auto strict = http::percent_decode(text, http::percent_mode::strict);
  auto lenient = http::percent_decode(text, http::percent_mode::lenient_form);
  FUZZ_CHECK(lenient.has_value(), "lenient decoding always decodes");
  if (strict && text.find('+') == std::string_view::npos)
    FUZZ_CHECK(*strict == *lenient, "strict and lenient agree on clean text");
  // A query string: one entry per non-empty part, in order.
  size_t parts = 0;
  for (size_t i = 0; i <= text.size();) {
    auto j = text.find('&', i);
    if (j == std::string_view::npos)
      j = text.size();
    parts += j > i;
    i = j + 1;
  }
  FUZZ_CHECK(http::split_query(text, http::percent_mode::strict).size() ==
                 parts,
             "a query string has one entry per non-empty part");
}

std::vector<std::string> reference_segments(std::string_view path) {
  std::vector<std::string> result;
  if (path.empty())
    return result;
  std::string current;
  for (auto c : path.substr(1)) {
    if (c == '/') {
      result.push_back(current);
      current.clear();
    } else {
      current += c;
    }
  }
  result.push_back(current);
  return result;
}

bool is_param(const std::string& part) {
  return !part.empty() && part.front() == '{';
}

size_t param_count(std::string_view pattern) {
  size_t n = 0;
  for (auto& part : reference_segments(pattern))
    n += is_param(part);
  return n;
}

void check_omsd(std::string_view line) {
  auto space = line.find(' ');
  if (space == std::string_view::npos)
    return;
  auto method = line.substr(0, space);
  auto target = line.substr(space + 1);
  auto q = target.find('?');
  auto path = target.substr(0, q);
  auto query =
      q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
  auto segments = http::split_path(path);
  auto m = http::match_route(fuzz::omsd_routes, method, segments);
  if (path.empty() || path.front() != '/') {
    FUZZ_CHECK(!m.path_found() && !m.found(),
               "a path not in origin form fits no route");
    return;
  }
  if (!m.path_found()) {
    FUZZ_CHECK(!m.found() && m.allow.empty(), "no route, no method");
    return;
  }
  FUZZ_CHECK(m.params.size() == param_count(m.pattern),
             "one parameter per brace of the pattern");
  for (auto& p : m.params)
    FUZZ_CHECK(!p.empty(), "a parameter is never empty");
  if (!m.found()) {
    FUZZ_CHECK(!m.allow.empty(), "a 405 names the allowed methods");
    return;
  }
  auto& row = fuzz::omsd_routes[m.index];
  FUZZ_CHECK(row.method == method && std::string{row.pattern} == m.pattern,
             "the route found is the row's");
  try {
    auto params = daemon::parse_query(query, row.query);
    for (auto& [key, value] : params)
      FUZZ_CHECK(http::valid_utf8(key) && http::valid_utf8(value),
                 "parameters taken are UTF-8");
    daemon::read_limit(params);
  } catch (const daemon::bad_input& bad) {
    FUZZ_CHECK(bad.code == errc::validation_failed &&
                   bad.details["field"].is_string() &&
                   http::valid_utf8(bad.details["field"].get<std::string>()),
               "a refused parameter is named in UTF-8");
  }
}

struct row {
  std::string method;
  std::string pattern;
};

// match_route's contract: the first row that fits path and method wins; its
// parameters are the path's segments under the braces; else the first row
// that fits the path names the pattern; the Allow list names the methods of
// the rows that fit the path before the winner (all of them without one).
http::route_match reference_match(const std::vector<row>& table,
                                  std::string_view method,
                                  const std::vector<std::string>& segments) {
  http::route_match m;
  for (size_t i = 0; i < table.size(); ++i) {
    auto parts = reference_segments(table[i].pattern);
    if (parts.size() != segments.size())
      continue;
    std::vector<std::string> params;
    bool fits = true;
    for (size_t k = 0; k < parts.size() && fits; ++k) {
      if (is_param(parts[k])) {
        fits = !segments[k].empty();
        params.push_back(segments[k]);
      } else {
        fits = parts[k] == segments[k];
      }
    }
    if (!fits)
      continue;
    if (m.pattern.empty()) {
      m.pattern = table[i].pattern;
      m.params = params;
    }
    if (table[i].method == method) {
      m.index = i;
      m.pattern = table[i].pattern;
      m.params = params;
      break;
    }
    m.allow += (m.allow.empty() ? "" : ", ") + table[i].method;
  }
  return m;
}

void check_table(std::string_view text) {
  std::vector<row> table;
  std::string_view request;
  while (!text.empty()) {
    auto [line, rest] = fuzz::split_line(text);
    text = rest;
    auto space = line.find(' ');
    if (space == std::string_view::npos)
      continue;
    row r{std::string{line.substr(0, space)},
          std::string{line.substr(space + 1)}};
    if (text.empty()) {
      request = line;
      break;
    }
    // Patterns are paths in origin form.
    if (!r.pattern.empty() && r.pattern.front() == '/' && table.size() < 64)
      table.push_back(std::move(r));
  }
  auto space = request.find(' ');
  if (space == std::string_view::npos)
    return;
  auto method = request.substr(0, space);
  auto path = request.substr(space + 1);
  auto segments = http::split_path(path);
  if (!path.empty() && path.front() == '/')
    FUZZ_CHECK(segments == reference_segments(path),
               "a path splits into its segments");
  auto m = http::match_route(table, method, segments);
  auto want = reference_match(table, method, segments);
  FUZZ_CHECK(m.index == want.index, "the row found agrees");
  FUZZ_CHECK(m.pattern == want.pattern && m.params == want.params,
             "the pattern and parameters agree");
  FUZZ_CHECK(m.allow == want.allow, "the Allow list agrees");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  auto text = fuzz::text_of(data + 1, size - 1);
  check_codecs(text);
  if (fuzz::pick(data[0], 2) == 0)
    check_omsd(fuzz::split_line(text).first);
  else
    check_table(text);
  return 0;
}
