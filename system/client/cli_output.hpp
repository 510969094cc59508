// omsctl's output: values as text, key-value blocks, tables and --field.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace oms::cli {

using json = nlohmann::json;

/// A value as text: strings bare, null as "-", anything else as JSON.
std::string text(const json& j);

/// Field `key` of `j` as text ("-" if missing or null).
std::string text(const json& j, const char* key);

/// An amount of minor units with the currency of `owner`: "99800 INR".
std::string money(const json& j, const char* key, const json& owner);

/// An amount of minor units with the currency of `j` itself.
std::string money(const json& j, const char* key);

/// Rows of a key-value block: key, value.
using block = std::vector<std::pair<std::string, std::string>>;

/// Prints "key:  value" lines with the values aligned.
void print_block(const block& rows);

/// Prints the "next cursor: ..." hint of a page that has more after it.
void print_next_cursor(const json& page);

/// A text table; `align` has one letter per column, 'l' or 'r'.
class table {
 public:
  /// A table with the column names `header`.
  table(std::vector<std::string> header, std::string align);

  /// Appends a row (missing cells print empty).
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }

  /// True while no row but the header was added.
  bool empty() const { return rows_.size() == 1; }

  /// Prints the header and the rows, columns padded to their widest cell.
  void print() const;

 private:
  std::string align_;
  std::vector<std::vector<std::string>> rows_;
};

/// How to print an answer: a table (default), JSON, or some fields.
struct output {
  std::string format = "table";
  std::vector<std::string> fields;

  /// Prints `body` as asked; `as_table` renders the readable form. Throws
  /// usage_error when a `--field` is not in the answer.
  void emit(const json& body,
            const std::function<void(const json&)>& as_table) const;

  /// The value at the dotted path `field` ("lines.0.sku"); throws
  /// usage_error naming what the answer has instead when it is missing.
  static json lookup(const json& body, const std::string& field);
};

} // namespace oms::cli
