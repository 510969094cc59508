#include "system/daemon/request_fields.hpp"

#include <algorithm>
#include <cctype>

#include "actors/inbox.hpp"
#include "actors/stock_ledger.hpp"
#include "messages/json.hpp"
#include "messages/wms_protocol.hpp"
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

std::vector<order_item> get_lines(const json& j, const char* name,
                                  bool required, seller default_seller,
                                  size_t max_lines, int64_t max_quantity,
                                  bool allow_seller) {
  auto* i = typed_field(j, name, required, name, &json::is_array, "an array");
  if (!i)
    return {};
  if (i->empty())
    invalid(name, "must have at least one line");
  if (i->size() > max_lines)
    invalid(name, "must have at most " + std::to_string(max_lines) + " lines");
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

} // namespace oms::daemon
