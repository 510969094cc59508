#include "system/http/route.hpp"

#include <utility>

namespace oms::http {

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> result;
  // Only a path in origin form has segments (read from its second byte,
  // "Xv1/orders" would pass for "/v1/orders").
  if (path.empty() || path.front() != '/')
    return result;
  size_t i = 1;
  while (i <= path.size()) {
    auto j = path.find('/', i);
    if (j == std::string_view::npos)
      j = path.size();
    result.emplace_back(path.substr(i, j - i));
    i = j + 1;
  }
  return result;
}

bool match_pattern(std::string_view pattern,
                   const std::vector<std::string>& segments,
                   std::vector<std::string>& params) {
  auto parts = split_path(pattern);
  if (parts.size() != segments.size())
    return false;
  std::vector<std::string> found;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (!parts[i].empty() && parts[i].front() == '{') {
      if (segments[i].empty())
        return false;
      found.push_back(segments[i]);
    } else if (parts[i] != segments[i]) {
      return false;
    }
  }
  params = std::move(found);
  return true;
}

bool route_match::consider(size_t i, std::string_view row_method,
                           std::string_view row_pattern,
                           std::string_view method,
                           const std::vector<std::string>& segments) {
  std::vector<std::string> row_params;
  if (!match_pattern(row_pattern, segments, row_params))
    return true;
  if (!path_found()) {
    pattern = std::string{row_pattern};
    params = row_params;
  }
  if (row_method == method) {
    index = i;
    pattern = std::string{row_pattern};
    params = std::move(row_params);
    return false;
  }
  if (!allow.empty())
    allow += ", ";
  allow += row_method;
  return true;
}

} // namespace oms::http
