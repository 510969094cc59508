#include "system/daemon/event_feed.hpp"

#include <algorithm>
#include <cctype>

#include "messages/json.hpp"
#include "system/daemon/request_fields.hpp"

namespace oms::daemon {

namespace {

// The lower-case word of a status after "oms.order.".
std::string status_word(order_status status) {
  std::string word = to_string(status);
  std::transform(word.begin(), word.end(), word.begin(), [](unsigned char ch) {
    return static_cast<char>(std::tolower(ch));
  });
  return word;
}

// The data of a stock event: what moved, where, and why.
json stock_data(const event& ev) {
  json data = {{"sku", ev.sku},
               {"quantity", ev.quantity},
               {"seller", to_string(ev.seller)}};
  if (!ev.order.empty())
    data["orderId"] = ev.order;
  if (!ev.lot.empty())
    data["lot"] = ev.lot;
  if (ev.expires_at > 0)
    data["expiresAt"] = format_timestamp(ev.expires_at);
  if (!ev.reason.empty())
    data["reason"] = ev.reason;
  if (!ev.lots.empty())
    data["lots"] = ev.lots;
  return data;
}

json data_of(const event& ev) {
  switch (ev.kind) {
    case event_kind::order_created:
    case event_kind::order_changed: {
      json data = ev.snapshot;
      if (auto before = status_before(ev))
        data["previousStatus"] = to_string(*before);
      return data;
    }
    case event_kind::customer_created:
      // Never the token's hash: a reader of the feed learns who, not how
      // to act as them.
      return {{"customerId", ev.customer.id},
              {"name", ev.customer.name},
              {"createdAt", format_timestamp(ev.customer.created_at)}};
    case event_kind::sku_created:
    case event_kind::price_set:
      return {{"sku", ev.sku},
              {"unitPrice", ev.amount},
              {"seller", to_string(ev.seller)}};
    default:
      return stock_data(ev);
  }
}

} // namespace

std::string feed_type(const event& ev) {
  switch (ev.kind) {
    case event_kind::sku_created:
      return "oms.sku.created";
    case event_kind::price_set:
      return "oms.sku.price_changed";
    case event_kind::stock_received:
      return "oms.stock.received";
    case event_kind::stock_reserved:
      return "oms.stock.reserved";
    case event_kind::stock_blocked:
      return "oms.stock.blocked";
    case event_kind::stock_released:
      return "oms.stock.released";
    case event_kind::stock_consumed:
      return "oms.stock.consumed";
    case event_kind::stock_moved:
      return ev.quantity >= 0 ? "oms.stock.set_aside"
                              : "oms.stock.returned_to_sale";
    case event_kind::stock_adjusted:
      return "oms.stock.adjusted";
    case event_kind::batch_expired:
      return "oms.stock.expired";
    case event_kind::stock_returned:
      return "oms.stock.customer_returned";
    case event_kind::order_created:
      return "oms.order.created";
    case event_kind::order_changed: {
      auto before = status_before(ev);
      if (before && *before != ev.snapshot.status)
        return "oms.order." + status_word(ev.snapshot.status);
      return "oms.order.updated";
    }
    case event_kind::customer_created:
      return "oms.customer.created";
    case event_kind::inbox_cursor:
    case event_kind::wms_synced:
    case event_kind::inbox_forgotten:
      return {};
  }
  return {};
}

const std::vector<std::string>& feed_types() {
  static const std::vector<std::string> all = {
      "oms.customer.created",        "oms.order.cancelled",
      "oms.order.confirmed",         "oms.order.created",
      "oms.order.delivered",         "oms.order.paid",
      "oms.order.partially_shipped", "oms.order.shipped",
      "oms.order.updated",           "oms.sku.created",
      "oms.sku.price_changed",       "oms.stock.adjusted",
      "oms.stock.blocked",           "oms.stock.consumed",
      "oms.stock.expired",           "oms.stock.received",
      "oms.stock.released",          "oms.stock.reserved",
      "oms.stock.returned_to_sale",  "oms.stock.set_aside",
      "oms.stock.customer_returned",
  };
  return all;
}

std::string feed_subject(const event& ev) {
  if (is_order_event(ev.kind))
    return ev.snapshot.id;
  if (ev.kind == event_kind::customer_created)
    return ev.customer.id;
  return ev.sku;
}

bool feed_filter::passes(std::string_view type, std::string_view subj) const {
  if (!subject.empty() && subj != subject)
    return false;
  if (types.empty())
    return true;
  for (auto& want : types) {
    if (want.size() > 1 && want.compare(want.size() - 2, 2, ".*") == 0) {
      if (type.substr(0, want.size() - 1) ==
          std::string_view{want}.substr(0, want.size() - 1))
        return true;
    } else if (type == want) {
      return true;
    }
  }
  return false;
}

std::vector<std::string> read_feed_types(std::string_view text,
                                         const char* field) {
  std::vector<std::string> result;
  constexpr size_t types_max = 32;
  size_t start = 0;
  while (start <= text.size()) {
    auto comma = text.find(',', start);
    auto item = text.substr(start, comma == std::string_view::npos
                                       ? std::string_view::npos
                                       : comma - start);
    if (item.empty())
      invalid(field, "an empty type in the list");
    if (item.size() > 64)
      invalid(field, "a type is at most 64 characters");
    feed_filter probe{{std::string{item}}, {}};
    bool names_one = std::any_of(
        feed_types().begin(), feed_types().end(),
        [&](const std::string& type) { return probe.passes(type, ""); });
    if (!names_one)
      invalid(field, "names no event type (see GET /v1/events/types)");
    if (result.size() == types_max)
      invalid(field, "at most 32 types");
    result.emplace_back(item);
    if (comma == std::string_view::npos)
      break;
    start = comma + 1;
  }
  return result;
}

json feed_entry(const event& ev, uint64_t seq) {
  json entry = {{"specversion", "1.0"},
                {"id", std::to_string(seq)},
                {"source", feed_source},
                {"type", feed_type(ev)},
                {"subject", feed_subject(ev)},
                {"time", format_timestamp(ev.at)},
                {"datacontenttype", "application/json"},
                {"data", data_of(ev)}};
  if (is_order_event(ev.kind) && ev.snapshot.version > 0)
    entry["subjectseq"] = ev.snapshot.version;
  else if (versions_sku(ev.kind) && ev.version > 0)
    entry["subjectseq"] = ev.version;
  return entry;
}

std::string sse_frame(const json& entry) {
  std::string frame = "id: ";
  frame += entry.at("id").get<std::string>();
  frame += "\nevent: ";
  frame += entry.at("type").get<std::string>();
  frame += "\ndata: ";
  // One line: dump() escapes every line break inside strings.
  frame += entry.dump(-1, ' ', false, json::error_handler_t::replace);
  frame += "\n\n";
  return frame;
}

uint64_t read_cursor(std::string_view text, const char* field) {
  auto all_digits = !text.empty() && text.size() <= 20 &&
                    std::all_of(text.begin(), text.end(),
                                [](char ch) { return ch >= '0' && ch <= '9'; });
  if (!all_digits)
    invalid(field, "must be a cursor this feed gave (digits)");
  auto value = parse_decimal(text);
  if (!value)
    invalid(field, "is out of range");
  return *value;
}

std::optional<nlohmann::json> feed_pick(const event& ev, uint64_t seq,
                                        const feed_filter& filter) {
  auto type = feed_type(ev);
  if (type.empty() || !filter.passes(type, feed_subject(ev)))
    return std::nullopt;
  return feed_entry(ev, seq);
}

// The oldest event kept, when `err` says the events asked for were pruned.
std::optional<uint64_t> expired_first(const caf::error& err) {
  if (code_of(err) != errc::events_expired)
    return std::nullopt;
  auto details = nlohmann::json::parse(details_of(err), nullptr, false);
  if (!details.is_object() || !details.contains("first") ||
      !details["first"].is_string())
    return std::nullopt;
  auto first = parse_decimal(details["first"].get<std::string>());
  if (!first || *first == 0)
    return std::nullopt;
  return first;
}

} // namespace oms::daemon
