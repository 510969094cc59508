#include "system/wms_sim/body_reader.hpp"

#include <limits>

#include "messages/strict_json.hpp"

namespace oms::wms_sim {

namespace {

// An integer (not a float, not a string) that fits int64.
bool as_int(const json& v, int64_t& out) {
  if (!v.is_number_integer())
    return false;
  if (v.is_number_unsigned()) {
    auto u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      return false;
    out = static_cast<int64_t>(u);
    return true;
  }
  out = v.get<int64_t>();
  return true;
}

} // namespace

body_reader::body_reader(const std::string& text,
                         std::initializer_list<const char*> allowed) {
  // Strictly: a repeated key or a NUL byte is refused, not read past.
  json_refusal why;
  body_ = parse_strict(text, why);
  if (!why.field.empty()) {
    error_ = invalid(why.field, why.field + " " + why.message);
    return;
  }
  if (!why.message.empty()) {
    error_ = invalid("body", "the body " + why.message);
    return;
  }
  if (!body_.is_object()) {
    error_ = invalid("body", "the body must be a JSON object");
    return;
  }
  for (auto& [key, value] : body_.items()) {
    bool known = false;
    for (auto* name : allowed)
      known = known || key == name;
    if (!known) {
      error_ = invalid(key, "unknown field " + key);
      return;
    }
  }
}

bool body_reader::has(const char* name) const {
  return !error_ && body_.contains(name) && !body_[name].is_null();
}

bool body_reader::present(const char* name, bool required) {
  if (error_)
    return false;
  if (has(name))
    return true;
  if (required)
    error_ = invalid(name, std::string{name} + " is required");
  return false;
}

int64_t body_reader::integer(const char* name, bool required) {
  int64_t out = 0;
  if (present(name, required) && !as_int(body_[name], out))
    error_ = invalid(name, std::string{name} + " must be an integer");
  return out;
}

std::string body_reader::text(const char* name, bool required) {
  if (!present(name, required))
    return {};
  if (!body_[name].is_string()) {
    error_ = invalid(name, std::string{name} + " must be a string");
    return {};
  }
  return body_[name].get<std::string>();
}

std::optional<double> body_reader::fraction(const char* name) {
  if (!present(name, false))
    return std::nullopt;
  auto& v = body_[name];
  if (!v.is_number() || v.get<double>() < 0.0 || v.get<double>() > 1.0) {
    error_ = invalid(name, std::string{name} + " must be a number in 0..1");
    return std::nullopt;
  }
  return v.get<double>();
}

bool body_reader::flag(const char* name) {
  if (!present(name, false))
    return false;
  if (!body_[name].is_boolean()) {
    error_ = invalid(name, std::string{name} + " must be true or false");
    return false;
  }
  return body_[name].get<bool>();
}

} // namespace oms::wms_sim
