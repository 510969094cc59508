#include "actors/wms_answers.hpp"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

#include "messages/strict_json.hpp"
#include "messages/wms_protocol.hpp"

namespace oms {

namespace {

using json = nlohmann::json;

// A Retry-After past a day is a broken header, not a plan.
constexpr int64_t retry_after_ms_max = 24 * 3600 * 1000;

// Parses delta-seconds ("3", " 3 "); -1 for anything else.
int64_t parse_seconds(const std::string& text) {
  size_t i = 0;
  while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i])))
    ++i;
  size_t end = text.size();
  while (end > i && std::isspace(static_cast<unsigned char>(text[end - 1])))
    --end;
  if (i == end)
    return -1;
  int64_t secs = 0;
  for (; i < end; ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (!std::isdigit(c))
      return -1;
    secs = secs * 10 + (c - '0');
    if (secs * 1000 > retry_after_ms_max)
      return retry_after_ms_max / 1000;
  }
  return secs;
}

// An answer body, parsed strictly (a repeated key or a NUL byte makes it
// unreadable); discarded when it is not JSON.
json parse_answer(std::string_view body) {
  json_refusal why;
  return parse_strict(body, why);
}

// Member `name` of object `j` as an integer that fits int64 (json_int64),
// `absent` when it is not there; nullopt when it is anything else: such an
// answer is unreadable, never an exception (it would end the actor reading
// it) nor a truncated number.
std::optional<int64_t> integer(const json& j, const char* name,
                               std::optional<int64_t> absent) {
  auto i = j.find(name);
  if (i == j.end())
    return absent;
  int64_t x = 0;
  if (!json_int64(*i, x))
    return std::nullopt;
  return x;
}

// Member `name` of object `j` if it is a string, else "".
std::string text(const json& j, const char* name) {
  auto i = j.find(name);
  return i != j.end() && i->is_string() ? i->get<std::string>() : std::string{};
}

} // namespace

int64_t wms_retry_after_ms(const std::string& retry_after_header,
                           const std::string& body) {
  int64_t result = 0;
  auto secs = parse_seconds(retry_after_header);
  if (secs > 0)
    result = secs * 1000;
  auto doc = parse_answer(body);
  if (doc.is_object() && doc.contains("error") && doc["error"].is_object()) {
    auto& err = doc["error"];
    if (err.contains("retryAfterMs") && err["retryAfterMs"].is_number_integer())
      result = std::max(result, std::min(err["retryAfterMs"].get<int64_t>(),
                                         retry_after_ms_max));
  }
  return result;
}

std::string wms_error_code(std::string_view body) {
  auto j = parse_answer(body);
  if (j.is_object() && j.contains("error") && j["error"].is_object())
    return text(j["error"], "code");
  return {};
}

std::optional<int64_t> wms_error_figure(std::string_view body,
                                        const char* field) {
  auto j = parse_answer(body);
  if (!j.is_object() || !j.contains("error") || !j["error"].is_object())
    return std::nullopt;
  return integer(j["error"], field, std::nullopt);
}

std::optional<wms_ack> read_wms_ack(std::string_view body) {
  auto j = parse_answer(body);
  wms_ack result;
  if (!j.is_object() || !parse_wms_state(text(j, "status"), result.state))
    return std::nullopt;
  // The WMS numbers its changes from 1; 0 when it names none.
  auto seq = integer(j, "seq", 0);
  if (!seq || *seq < 0)
    return std::nullopt;
  result.seq = *seq;
  return result;
}

snapshot_reading read_wms_snapshot(std::string_view body, money unit_price_max,
                                   wms_snapshot& out) {
  auto j = parse_answer(body);
  if (!j.is_object())
    return snapshot_reading::unreadable;
  auto orderable = integer(j, "orderable", std::nullopt);
  auto reflects = integer(j, "reflects", std::nullopt);
  auto as_of = integer(j, "asOf", 0);
  if (!orderable || !reflects || !as_of)
    return snapshot_reading::unreadable;
  out = wms_snapshot{};
  // A price above the limit would break the bound that keeps order totals
  // in range (check_money_bounds): such a snapshot sells nothing.
  if (auto p = j.find("unitPrice"); p != j.end()) {
    if (!p->is_number_integer() || p->get<money>() < 0 ||
        p->get<money>() > unit_price_max)
      return snapshot_reading::bad_price;
    out.unit_price = p->get<money>();
  }
  out.orderable = *orderable;
  out.reflects = *reflects;
  out.as_of = *as_of;
  return snapshot_reading::ok;
}

std::optional<wms_feed_page> read_wms_feed_page(std::string_view body,
                                                const std::string& cursor) {
  auto j = parse_answer(body);
  if (!j.is_object() || !j.contains("events") || !j["events"].is_array())
    return std::nullopt;
  wms_feed_page page;
  page.next = cursor;
  if (auto next = j.find("next"); next != j.end()) {
    if (!next->is_string())
      return std::nullopt;
    page.next = next->get<std::string>();
  }
  page.events = j["events"].size();
  for (auto& e : j["events"]) {
    stock_change c;
    std::string error;
    if (feed_event_to_change(e.dump(), c, error))
      page.changes.push_back(std::move(c));
    else
      page.bad_events.emplace_back(e.dump(), std::move(error));
  }
  return page;
}

bool feed_event_to_change(const std::string& json_event, stock_change& out,
                          std::string& error) {
  json_refusal why;
  auto e = parse_strict(json_event, why);
  if (e.is_discarded()) {
    error = (why.field.empty() ? std::string{"the event"} : why.field) + " " +
            why.message;
    return false;
  }
  if (!e.is_object()) {
    error = "not an object";
    return false;
  }
  try {
    auto id = e.at("id").get<std::string>();
    auto type = e.at("type").get<std::string>();
    out = stock_change{};
    out.seller = seller::external;
    out.source = wms_feed_source;
    out.event_id = "wms:" + id;
    out.sku = e.at("sku").get<std::string>();
    for (auto [name, target] : {std::pair{"quantity", &out.quantity},
                                std::pair{"seq", &out.wms_seq}}) {
      auto x = integer(e, name, std::nullopt);
      if (!x) {
        error = std::string{name} + " must be an integer";
        return false;
      }
      *target = *x;
    }
    out.lot = e.value("lot", std::string{});
    out.note = type;
    if (type == "RECEIPT")
      out.kind = stock_change_kind::receipt;
    else if (type == "ADJUSTMENT" || type == "DAMAGE" || type == "QUARANTINE" ||
             type == "QUARANTINE_RELEASE" || type == "RETURN")
      out.kind = stock_change_kind::adjustment;
    else {
      error = "unknown event type " + type;
      return false;
    }
    if (out.wms_seq <= 0 || id.empty() || out.sku.empty()) {
      error = "id, sku and a positive seq are required";
      return false;
    }
  } catch (const json::exception& ex) {
    error = ex.what();
    return false;
  }
  return true;
}

} // namespace oms
