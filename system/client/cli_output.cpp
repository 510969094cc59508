// omsctl's output: text of values, key-value blocks, tables and --field.
#include "system/client/cli_output.hpp"

#include <algorithm>
#include <iostream>

#include "system/client/cli_common.hpp"

namespace oms::cli {

std::string text(const json& j) {
  if (j.is_string())
    return j.get<std::string>();
  if (j.is_null())
    return "-";
  return j.dump();
}

std::string text(const json& j, const char* key) {
  auto i = j.find(key);
  return i == j.end() ? "-" : text(*i);
}

std::string money(const json& j, const char* key, const json& owner) {
  auto i = j.find(key);
  if (i == j.end() || i->is_null())
    return "-";
  return text(*i) + " " + owner.value("currency", "INR");
}

std::string money(const json& j, const char* key) {
  return money(j, key, j);
}

void print_block(const block& rows) {
  size_t width = 0;
  for (auto& [k, v] : rows)
    width = std::max(width, k.size());
  for (auto& [k, v] : rows)
    std::cout << k << ':' << std::string(width - k.size() + 2, ' ') << v
              << '\n';
}

void print_next_cursor(const json& page) {
  if (auto c = page.find("nextCursor"); c != page.end() && !c->is_null())
    std::cout << "next cursor: " << text(*c) << "  (--cursor " << text(*c)
              << " for the next page, --all for every page)\n";
}

table::table(std::vector<std::string> header, std::string align)
    : align_(std::move(align)) {
  rows_.push_back(std::move(header));
}

void table::print() const {
  std::vector<size_t> width(rows_[0].size(), 0);
  for (auto& row : rows_)
    for (size_t c = 0; c < row.size() && c < width.size(); ++c)
      width[c] = std::max(width[c], row[c].size());
  for (auto& row : rows_) {
    std::string line;
    for (size_t c = 0; c < width.size(); ++c) {
      auto cell = c < row.size() ? row[c] : std::string{};
      auto pad = std::string(width[c] - cell.size(), ' ');
      bool right = c < align_.size() && align_[c] == 'r';
      line += right ? pad + cell : cell + pad;
      if (c + 1 < width.size())
        line += "  ";
    }
    while (!line.empty() && line.back() == ' ')
      line.pop_back();
    std::cout << line << '\n';
  }
}

void output::emit(const json& body,
                  const std::function<void(const json&)>& as_table) const {
  if (!fields.empty()) {
    std::string lines; // all or nothing: a missing field prints none
    for (auto& field : fields) {
      auto v = lookup(body, field);
      lines += v.is_string() ? v.get<std::string>()
               : v.is_null() ? std::string{}
                             : v.dump();
      lines += '\n';
    }
    std::cout << lines;
  } else if (format == "json") {
    std::cout << body.dump(2) << '\n';
  } else {
    as_table(body);
  }
}

namespace {

// What `at` has, for the message of a missing `--field` part: its keys, or
// the range of its indexes.
std::string known_parts(const json& at) {
  std::string known;
  if (at.is_object())
    for (auto& [k, v] : at.items())
      known += (known.empty() ? "" : ", ") + k;
  else if (at.is_array())
    known = "indexes 0 to " + std::to_string(at.size()) + " - 1";
  return known;
}

// The member `part` of `at`: a key of an object or an index of an array
// (nullptr if there is none).
const json* child(const json& at, const std::string& part) {
  if (at.is_object()) {
    if (auto k = at.find(part); k != at.end())
      return &*k;
  } else if (at.is_array() && !part.empty() &&
             part.find_first_not_of("0123456789") == std::string::npos &&
             part.size() < 9) {
    auto n = std::stoul(part);
    if (n < at.size())
      return &at[n];
  }
  return nullptr;
}

} // namespace

json output::lookup(const json& body, const std::string& field) {
  const json* at = &body;
  size_t i = 0;
  while (i <= field.size()) {
    auto j = field.find('.', i);
    if (j == std::string::npos)
      j = field.size();
    auto part = field.substr(i, j - i);
    i = j + 1;
    const json* next = child(*at, part);
    if (next == nullptr) {
      auto known = known_parts(*at);
      throw usage_error{"--field " + field + ": the answer has no '" + part +
                        "'" + (known.empty() ? "" : " (it has " + known + ")")};
    }
    at = next;
  }
  return *at;
}

} // namespace oms::cli
