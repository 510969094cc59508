#include "system/http/percent.hpp"

namespace oms::http {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

bool unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~';
}

} // namespace

std::optional<std::string> percent_decode(std::string_view in,
                                          percent_mode mode) {
  auto form = mode == percent_mode::lenient_form;
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    auto c = in[i];
    if (c == '+' && form) {
      out += ' ';
      continue;
    }
    if (c != '%') {
      out += c;
      continue;
    }
    auto hi = i + 2 < in.size() ? hex_value(in[i + 1]) : -1;
    auto lo = i + 2 < in.size() ? hex_value(in[i + 2]) : -1;
    if (hi < 0 || lo < 0) {
      if (!form)
        return std::nullopt;
      out += c;
      continue;
    }
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

std::string percent_encode(std::string_view in) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(in.size());
  for (unsigned char c : in) {
    if (unreserved(c)) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::vector<std::optional<query_param>> split_query(std::string_view query,
                                                    percent_mode mode) {
  std::vector<std::optional<query_param>> result;
  size_t i = 0;
  while (i < query.size()) {
    auto j = query.find('&', i);
    if (j == std::string_view::npos)
      j = query.size();
    auto part = query.substr(i, j - i);
    i = j + 1;
    if (part.empty())
      continue;
    auto eq = part.find('=');
    auto key = percent_decode(part.substr(0, eq), mode);
    std::optional<std::string> value = std::string{};
    if (key && eq != std::string_view::npos)
      value = percent_decode(part.substr(eq + 1), mode);
    if (key && value)
      result.push_back(query_param{std::move(*key), std::move(*value)});
    else
      result.push_back(std::nullopt);
  }
  return result;
}

} // namespace oms::http
