// Route matching against a table of (method, pattern) rows, as omsd and
// wms-sim do it: a pattern such as "/v1/orders/{id}/pay" has one segment per
// path segment, braces mark a parameter (never empty), the first row whose
// pattern and method fit wins, and the methods of the rows whose pattern fits
// make the Allow header of a 405.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace oms::http {

/// The segments of a path: "/a/b" → {"a", "b"}; "/" → {""}; "" → {}. A
/// path not in origin form ("v1/orders", "*", "http://host/") has none, so
/// it fits no route.
std::vector<std::string> split_path(std::string_view path);

/// Whether `segments` fit `pattern`; its parameters, in order, go to
/// `params` (left alone when they do not fit).
bool match_pattern(std::string_view pattern,
                   const std::vector<std::string>& segments,
                   std::vector<std::string>& params);

/// What matching a request against a route table found.
struct route_match {
  static constexpr size_t none = static_cast<size_t>(-1);
  /// The row that fits path and method, or `none`.
  size_t index = none;
  /// The pattern of the first row that fits the path ("" when none does).
  std::string pattern;
  /// The parameters of that first row.
  std::vector<std::string> params;
  /// The methods of the rows that fit the path before `index` (all of them
  /// when no row fits the method), joined by ", ": a 405's Allow header.
  std::string allow;

  bool found() const { return index != none; }
  bool path_found() const { return !pattern.empty(); }

  /// Takes row `i` into account; false once a row fits path and method.
  bool consider(size_t i, std::string_view row_method,
                std::string_view row_pattern, std::string_view method,
                const std::vector<std::string>& segments);
};

/// Matches `method` and `segments` against `table`, a sequence of rows with
/// `method` and `pattern` members, in order.
template <class Table>
route_match match_route(const Table& table, std::string_view method,
                        const std::vector<std::string>& segments) {
  route_match m;
  size_t i = 0;
  for (auto& row : table)
    if (!m.consider(i++, row.method, row.pattern, method, segments))
      break;
  return m;
}

} // namespace oms::http
