#include "actors/wms_answers.hpp"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

#include "messages/strict_json.hpp"

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
    return j["error"].value("code", std::string{});
  return {};
}

std::optional<wms_ack> read_wms_ack(std::string_view body) {
  auto j = parse_answer(body);
  wms_ack result;
  if (!j.is_object() ||
      !parse_wms_state(j.value("status", std::string{}), result.state))
    return std::nullopt;
  result.seq = j.value("seq", int64_t{0});
  return result;
}

snapshot_reading read_wms_snapshot(std::string_view body, money unit_price_max,
                                   wms_snapshot& out) {
  auto j = parse_answer(body);
  if (!j.is_object() || !j.contains("orderable") || !j.contains("reflects"))
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
  out.orderable = j.value("orderable", int64_t{0});
  out.reflects = j.value("reflects", int64_t{0});
  out.as_of = j.value("asOf", timestamp_ms{0});
  return snapshot_reading::ok;
}

std::optional<wms_feed_page> read_wms_feed_page(std::string_view body,
                                                const std::string& cursor) {
  auto j = parse_answer(body);
  if (!j.is_object() || !j.contains("events") || !j["events"].is_array())
    return std::nullopt;
  wms_feed_page page;
  page.next = j.value("next", cursor);
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
    out.source = "wms";
    out.event_id = "wms:" + id;
    out.sku = e.at("sku").get<std::string>();
    out.quantity = e.at("quantity").get<int64_t>();
    out.wms_seq = e.at("seq").get<int64_t>();
    out.lot = e.value("lot", std::string{});
    out.note = type;
    if (type == "RECEIPT")
      out.kind = stock_change_kind::receipt;
    else if (type == "ADJUSTMENT" || type == "DAMAGE" || type == "QUARANTINE" ||
             type == "QUARANTINE_RELEASE")
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
