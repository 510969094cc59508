// Reads a JSON request body for the simulated WMS: an object with only the
// allowed fields, each of the expected type, parsed strictly (no repeated
// key, no NUL byte: messages/strict_json.hpp). The first problem is kept as
// a 400 VALIDATION_FAILED answer naming the field.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>

#include "system/wms_sim/warehouse.hpp"

namespace oms::wms_sim {

class body_reader {
 public:
  body_reader(const std::string& text,
              std::initializer_list<const char*> allowed);

  /// Present and not null (and no problem so far).
  bool has(const char* name) const;
  /// An integer that fits int64; 0 when absent or wrong.
  int64_t integer(const char* name, bool required);
  /// A string; "" when absent or wrong.
  std::string text(const char* name, bool required);
  /// A number in 0..1, when present.
  std::optional<double> fraction(const char* name);
  /// true or false; false when absent.
  bool flag(const char* name);

  /// The first problem, as the answer to give.
  const std::optional<outcome>& error() const { return error_; }

 private:
  /// Present and not null; else, when `required`, the problem "is required".
  bool present(const char* name, bool required);

  json body_;
  std::optional<outcome> error_;
};

} // namespace oms::wms_sim
