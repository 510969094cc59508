// Reading a request's parts strictly: the query string, the JSON body and
// its typed fields (integers in a range, strings of a length, addresses,
// order lines, batches, inbound stock changes), and the headers that carry
// versions. request_bodies.cpp reads each route's body with them.
#include "system/daemon/request_fields.hpp"

#include <algorithm>
#include <cctype>
#include <optional>

#include "messages/json.hpp"
#include "messages/strict_json.hpp"
#include "system/http/percent.hpp"
#include "system/http/utf8.hpp"

namespace oms::daemon {

void invalid(const std::string& field, const std::string& what) {
  throw bad_input{errc::validation_failed, field + ": " + what,
                  json{{"field", field}}};
}

std::map<std::string, std::string>
parse_query(std::string_view query,
            std::initializer_list<const char*> allowed) {
  std::map<std::string, std::string> result;
  for (auto& param :
       http::split_query(query, http::percent_mode::lenient_form)) {
    auto& [key, value] = *param;
    // A name that is not UTF-8 is named as it was sent, percent-encoded.
    if (!http::valid_utf8(key))
      invalid(http::percent_encode(key),
              "query parameter names must be valid UTF-8");
    bool known = false;
    for (auto* name : allowed)
      known = known || key == name;
    if (!known)
      throw bad_input{errc::validation_failed,
                      "unknown query parameter '" + key + "'",
                      json{{"field", key}}};
    if (!http::valid_utf8(value))
      invalid(key, "must be valid UTF-8");
    result[key] = value;
  }
  return result;
}

uint32_t read_limit(const std::map<std::string, std::string>& query) {
  auto i = query.find("limit");
  if (i == query.end())
    return 20;
  auto& text = i->second;
  if (text.empty() || text.size() > 3 ||
      text.find_first_not_of("0123456789") != std::string::npos)
    invalid("limit", "must be an integer between 1 and 100");
  auto n = std::stoi(text);
  if (n < 1 || n > 100)
    invalid("limit", "must be an integer between 1 and 100");
  return static_cast<uint32_t>(n);
}

// Deepest nesting of arrays and objects in a JSON text (strings skipped).
size_t json_depth(std::string_view text) {
  size_t depth = 0;
  size_t deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    auto c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      deepest = std::max(deepest, ++depth);
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

json read_body(std::string_view text, bool allow_empty, size_t depth_max) {
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    if (allow_empty)
      return json::object();
    throw bad_input{errc::validation_failed, "a JSON object body is required",
                    json{{"field", "body"}}};
  }
  if (json_depth(text) > depth_max)
    throw bad_input{errc::validation_failed,
                    "JSON nested deeper than " + std::to_string(depth_max),
                    json{{"field", "body"}}};
  // Strictly: a repeated key or a NUL byte is refused, not read past.
  json_refusal why;
  auto j = parse_strict(text, why, depth_max);
  if (j.is_discarded()) {
    if (why.field.empty())
      throw bad_input{errc::validation_failed, "the body " + why.message,
                      json{{"field", "body"}}};
    throw bad_input{errc::validation_failed, why.field + ": " + why.message,
                    json{{"field", why.field}}};
  }
  if (!j.is_object())
    throw bad_input{errc::validation_failed, "the body must be a JSON object",
                    json{{"field", "body"}}};
  return j;
}

void only(const json& j, std::initializer_list<const char*> allowed,
          const std::string& where) {
  for (auto& [key, value] : j.items()) {
    bool known = false;
    for (auto* name : allowed)
      known = known || key == name;
    if (!known)
      throw bad_input{errc::validation_failed,
                      (where.empty() ? "" : where + ": ") + "unknown field '" +
                          key + "'",
                      json{{"field", where.empty() ? key : where + "." + key}}};
  }
}

namespace {

std::string path_of(const std::string& where, const char* name) {
  return where.empty() ? name : where + "." + name;
}

// Field `name` of `j`: null when it is absent or null (refused as "is
// required" when `required`), refused as "must be WHAT" when `is_kind` says
// it is of another type. `field` names it in the refusal.
const json* typed_field(const json& j, const char* name, bool required,
                        const std::string& field,
                        bool (json::*is_kind)() const noexcept,
                        const char* what) {
  auto i = j.find(name);
  if (i == j.end() || i->is_null()) {
    if (required)
      invalid(field, "is required");
    return nullptr;
  }
  if (!((*i).*is_kind)())
    invalid(field, std::string{"must be "} + what);
  return &*i;
}

std::string between(int64_t lo, int64_t hi) {
  return "must be between " + std::to_string(lo) + " and " + std::to_string(hi);
}

} // namespace

std::optional<int64_t> get_int(const json& j, const char* name, bool required,
                               int64_t lo, int64_t hi,
                               const std::string& where) {
  auto field = path_of(where, name);
  auto* i = typed_field(j, name, required, field, &json::is_number_integer,
                        "an integer");
  if (!i)
    return std::nullopt;
  int64_t x;
  if (i->is_number_unsigned()) {
    auto u = i->get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX))
      invalid(field, between(lo, hi));
    x = static_cast<int64_t>(u);
  } else {
    x = i->get<int64_t>();
  }
  if (x < lo || x > hi)
    invalid(field, between(lo, hi));
  return x;
}

std::optional<std::string> get_str(const json& j, const char* name,
                                   bool required, size_t max_len,
                                   const std::string& where) {
  auto field = path_of(where, name);
  auto* i = typed_field(j, name, required, field, &json::is_string, "a string");
  if (!i)
    return std::nullopt;
  auto s = i->get<std::string>();
  if (s.size() > max_len)
    invalid(field, "must be at most " + std::to_string(max_len) + " bytes");
  // JSON may escape it (\u0000), but no text we keep may hold it: C strings
  // and PostgreSQL's text end there, and its JSON functions refuse it.
  if (s.find('\0') != std::string::npos)
    invalid(field, "must not hold the character U+0000");
  return s;
}

seller parse_seller_field(const std::string& text, const std::string& field) {
  seller s;
  if (!parse_seller(text, s))
    invalid(field, "must be INTERNAL or EXTERNAL");
  return s;
}

address get_address(const json& j, const char* name, bool required) {
  auto* i = typed_field(j, name, required, name, &json::is_object, "an object");
  if (!i)
    return {};
  only(*i, {"line1", "line2", "city", "postalCode", "country"}, name);
  address a;
  a.line1 = *get_str(*i, "line1", true, 200, name);
  a.line2 = get_str(*i, "line2", false, 200, name).value_or("");
  a.city = *get_str(*i, "city", true, 200, name);
  a.postal_code = *get_str(*i, "postalCode", true, 200, name);
  a.country = *get_str(*i, "country", true, 200, name);
  return a;
}

const json* line_array(const json& j, const char* name, bool required,
                       size_t max_lines) {
  auto* i = typed_field(j, name, required, name, &json::is_array, "an array");
  if (!i)
    return nullptr;
  if (i->empty())
    invalid(name, "must have at least one line");
  if (i->size() > max_lines)
    invalid(name, "must have at most " + std::to_string(max_lines) + " lines");
  return i;
}

std::vector<order_item> get_lines(const json& j, const char* name,
                                  bool required, seller default_seller,
                                  size_t max_lines, int64_t max_quantity,
                                  bool allow_seller) {
  auto* i = line_array(j, name, required, max_lines);
  if (!i)
    return {};
  std::vector<order_item> result;
  for (size_t k = 0; k < i->size(); ++k) {
    auto where = std::string{name} + "[" + std::to_string(k) + "]";
    auto& line = (*i)[k];
    if (!line.is_object())
      invalid(where, "must be an object");
    if (allow_seller)
      only(line, {"sku", "quantity", "seller"}, where);
    else
      only(line, {"sku", "quantity"}, where);
    order_item item;
    item.sku = *get_str(line, "sku", true, 64, where);
    item.quantity = *get_int(line, "quantity", true, 1, max_quantity, where);
    item.seller = default_seller;
    if (auto s = get_str(line, "seller", false, 16, where))
      item.seller = parse_seller_field(*s, where + ".seller");
    result.push_back(std::move(item));
  }
  return result;
}

// -- inbound stock changes ----------------------------------------------------

// A batch name: 1 to 64 characters of [A-Za-z0-9._-].
std::optional<std::string> get_lot(const json& j) {
  auto lot = get_str(j, "lot", false, std::string::npos);
  if (!lot)
    return std::nullopt;
  auto ok = !lot->empty() && lot->size() <= 64;
  for (auto ch : *lot)
    ok = ok && (std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' ||
                ch == '_' || ch == '-');
  if (!ok)
    invalid("lot", "must be 1 to 64 characters of A-Z a-z 0-9 . _ -");
  return lot;
}

// The inbound event's id: 1 to 128 characters of [A-Za-z0-9._:-].
std::optional<std::string> get_event_id(const json& j) {
  auto id = get_str(j, "eventId", false, std::string::npos);
  if (id && !valid_event_id(*id))
    invalid("eventId", "must be 1 to 128 characters of A-Z a-z 0-9 . _ : -");
  return id;
}

// A batch's expiry: an RFC 3339 UTC timestamp after `now`; 0 if absent.
timestamp_ms get_expiry(const json& j, timestamp_ms now) {
  auto text = get_str(j, "expiresAt", false, std::string::npos);
  if (!text)
    return 0;
  timestamp_ms at = 0;
  if (!parse_timestamp(*text, at))
    invalid("expiresAt",
            "must be an RFC 3339 UTC timestamp, e.g. 2026-12-31T23:59:59Z");
  if (at <= now)
    invalid("expiresAt", "must be in the future");
  return at;
}

namespace {

// Why units leave or rejoin sale; EXPIRED is the expiry timer's alone.
unallocatable_reason get_reason(const json& j) {
  auto text = *get_str(j, "reason", true, 32);
  unallocatable_reason reason;
  if (!parse_unallocatable_reason(text, reason))
    invalid("reason", "must be DAMAGED, QUARANTINED or SAFETY_STOCK");
  if (reason == unallocatable_reason::expired)
    invalid("reason", "EXPIRED is set by a batch's expiry, not by hand");
  return reason;
}

} // namespace

stock_change read_change(const json& j, const sku_id& sku, int64_t max_quantity,
                         money max_unit_price, timestamp_ms now) {
  only(j,
       {"kind", "quantity", "eventId", "lot", "expiresAt", "unitPrice",
        "reason", "note"},
       "");
  stock_change c;
  c.sku = sku;
  c.source = "admin";
  if (!parse_stock_change_kind(*get_str(j, "kind", true, 32), c.kind))
    invalid("kind", "must be RECEIPT, ADJUSTMENT, SET_ASIDE or RETURN_ASIDE");
  auto receipt = c.kind == stock_change_kind::receipt;
  auto move = c.kind == stock_change_kind::set_aside ||
              c.kind == stock_change_kind::return_aside;
  if (c.kind == stock_change_kind::adjustment) {
    c.quantity = *get_int(j, "quantity", true, -max_quantity, max_quantity);
    if (c.quantity == 0)
      invalid("quantity", "must not be 0");
  } else {
    c.quantity = *get_int(j, "quantity", true, 1, max_quantity);
  }
  auto only_for = [&](const char* field, bool allowed, const char* kinds) {
    if (!allowed && j.contains(field) && !j[field].is_null())
      invalid(field, std::string{"is only for "} + kinds);
  };
  only_for("unitPrice", receipt, "RECEIPT");
  only_for("expiresAt", receipt, "RECEIPT");
  only_for("reason", move, "SET_ASIDE and RETURN_ASIDE");
  if (receipt) {
    c.unit_price =
        get_int(j, "unitPrice", false, 1, max_unit_price).value_or(0);
    c.expires_at = get_expiry(j, now);
  }
  if (move)
    c.reason = get_reason(j);
  c.lot = get_lot(j).value_or("");
  c.note = get_str(j, "note", false, 200).value_or("");
  c.event_id = get_event_id(j).value_or("");
  return c;
}

std::optional<uint64_t> parse_decimal(std::string_view text) {
  if (text.empty() || text.size() > 20)
    return std::nullopt;
  uint64_t value = 0;
  for (char ch : text) {
    if (ch < '0' || ch > '9')
      return std::nullopt;
    auto digit = static_cast<uint64_t>(ch - '0');
    if (value > (UINT64_MAX - digit) / 10)
      return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

std::string_view trim_ows(std::string_view x) {
  while (!x.empty() && (x.front() == ' ' || x.front() == '\t'))
    x.remove_prefix(1);
  while (!x.empty() && (x.back() == ' ' || x.back() == '\t'))
    x.remove_suffix(1);
  return x;
}

uint64_t read_if_match(std::string_view text) {
  text = trim_ows(text);
  if (text.empty() || text == "*")
    return 0;
  bool weak = text.substr(0, 2) == "W/";
  if (weak)
    text.remove_prefix(2);
  auto what = "must be one entity tag as ETag gives it (\"3\"), or *";
  if (text.size() < 3 || text.size() > 22 || text.front() != '"' ||
      text.back() != '"')
    invalid("If-Match", what);
  auto version = parse_decimal(text.substr(1, text.size() - 2));
  if (!version || *version == 0)
    invalid("If-Match", what);
  return weak ? UINT64_MAX : *version;
}

uint64_t read_sku_if_match(std::string_view text) {
  if (trim_ows(text) == "*")
    return if_version_exists;
  return read_if_match(text);
}

std::string etag_of(uint64_t version) {
  if (version == 0)
    return {};
  return "\"" + std::to_string(version) + "\"";
}

order_query read_order_query(const std::map<std::string, std::string>& q,
                             const request_limits& limits) {
  order_query query;
  auto get = [&](const char* name) -> const std::string* {
    auto i = q.find(name);
    return i == q.end() ? nullptr : &i->second;
  };
  if (auto* status = get("status")) {
    order_status parsed;
    if (!parse_order_status(*status, parsed))
      invalid("status", "must be CREATED, CONFIRMED, PAID, SHIPPED, "
                        "DELIVERED or CANCELLED");
    query.status = to_string(parsed);
  }
  if (auto* sku = get("sku")) {
    if (check_id("sku", *sku, limits))
      invalid("sku", "must be 1 to 64 characters of A-Z a-z 0-9 . _ -");
    query.sku = *sku;
  }
  if (auto* customer = get("customerId")) {
    if (customer->empty() || customer->size() > 128)
      invalid("customerId", "must be 1 to 128 bytes");
    query.customer = *customer;
  }
  if (auto* seller = get("seller"))
    query.seller = to_string(parse_seller_field(*seller, "seller"));
  auto time_of = [&](const char* name, timestamp_ms fallback) {
    auto* text = get(name);
    if (text == nullptr)
      return fallback;
    timestamp_ms at = 0;
    if (!parse_timestamp(*text, at))
      invalid(name, "must be an RFC 3339 UTC timestamp "
                    "(2026-12-05T10:00:00Z)");
    return at;
  };
  query.created_from = time_of("createdFrom", 0);
  query.created_to = time_of("createdTo", INT64_MAX);
  if (query.created_to <= query.created_from)
    invalid("createdTo", "must be after createdFrom");
  query.limit = read_limit(q);
  if (auto* cursor = get("cursor")) {
    // A position in the store: a signed 64-bit number there.
    auto before = parse_decimal(*cursor);
    if (!before || *before == 0 || *before > INT64_MAX || cursor->size() > 19)
      invalid("cursor", "must be a nextCursor this search gave");
    query.before = *before;
  }
  return query;
}

} // namespace oms::daemon
