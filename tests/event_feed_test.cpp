// The change feed's view of events (system/daemon/event_feed.hpp): types,
// subjects, the CloudEvents envelope, filters, cursors and SSE frames.
#include <doctest/doctest.h>

#include <set>

#include "system/daemon/event_feed.hpp"
#include "system/daemon/request_fields.hpp"

using namespace oms;
using namespace oms::daemon;
using nlohmann::json;

namespace {

order_record an_order(order_status status, uint64_t version) {
  order_record rec;
  rec.id = "ord_1";
  rec.customer = "cus_1";
  rec.status = status;
  rec.version = version;
  rec.lines.push_back(order_line{"SKU-1", 2, 150, 0, 0, {}});
  rec.total_amount = 300;
  rec.created_at = 1'700'000'000'000;
  rec.updated_at = 1'700'000'000'500;
  return rec;
}

event order_change(order_status before, order_status after, uint64_t version) {
  event ev;
  ev.kind = event_kind::order_changed;
  ev.at = 1'700'000'000'500;
  ev.snapshot = an_order(after, version);
  ev.order = ev.snapshot.id;
  ev.quantity = status_before_code(before);
  return ev;
}

event stock(event_kind kind, int64_t quantity) {
  event ev;
  ev.kind = kind;
  ev.at = 1'700'000'000'000;
  ev.sku = "SKU-1";
  ev.order = "ord_1";
  ev.quantity = quantity;
  return ev;
}

// The error code and field of what `f` throws, "" if nothing.
template <class F>
std::string refusal(F f) {
  try {
    f();
  } catch (const bad_input& bad) {
    return bad.details.value("field", std::string{"?"});
  }
  return "";
}

} // namespace

TEST_CASE("feed: an order's status change is published under the new status") {
  CHECK(feed_type(order_change(order_status::created, order_status::confirmed,
                               2)) == "oms.order.confirmed");
  CHECK(feed_type(order_change(order_status::confirmed, order_status::paid,
                               3)) == "oms.order.paid");
  CHECK(feed_type(order_change(order_status::paid, order_status::cancelled,
                               4)) == "oms.order.cancelled");
  // A change that keeps the status (a refund, lines cancelled) is an update.
  CHECK(feed_type(order_change(order_status::paid, order_status::paid, 5)) ==
        "oms.order.updated");
  // An event stored before the previous status was recorded: an update.
  auto old = order_change(order_status::created, order_status::confirmed, 0);
  old.quantity = 0;
  CHECK(feed_type(old) == "oms.order.updated");
  CHECK_FALSE(status_before(old));
  old.quantity = 99; // out of range: not a status
  CHECK_FALSE(status_before(old));
}

TEST_CASE(
    "feed: bookkeeping events are left out, every other has a listed type") {
  std::set<std::string> listed(feed_types().begin(), feed_types().end());
  CHECK(listed.size() == feed_types().size());
  for (int k = 0; k <= static_cast<int>(last_event_kind); ++k) {
    event ev = stock(static_cast<event_kind>(k), 1);
    ev.snapshot = an_order(order_status::created, 1);
    auto type = feed_type(ev);
    bool internal = ev.kind == event_kind::inbox_cursor ||
                    ev.kind == event_kind::wms_synced ||
                    ev.kind == event_kind::inbox_forgotten;
    INFO(to_string(ev.kind));
    CHECK(type.empty() == internal);
    if (!internal)
      CHECK(listed.count(type) == 1);
  }
  CHECK(feed_type(stock(event_kind::stock_moved, 3)) == "oms.stock.set_aside");
  CHECK(feed_type(stock(event_kind::stock_moved, -3)) ==
        "oms.stock.returned_to_sale");
}

TEST_CASE("feed: the envelope is CloudEvents 1.0 with the order's version") {
  auto ev = order_change(order_status::created, order_status::confirmed, 2);
  auto e = feed_entry(ev, 42);
  CHECK(e["specversion"] == "1.0");
  CHECK(e["id"] == "42");
  CHECK(e["source"] == "/omsd");
  CHECK(e["type"] == "oms.order.confirmed");
  CHECK(e["subject"] == "ord_1");
  CHECK(e["time"] == "2023-11-14T22:13:20.500Z");
  CHECK(e["datacontenttype"] == "application/json");
  CHECK(e["subjectseq"] == 2);
  CHECK(e["data"]["status"] == "CONFIRMED");
  CHECK(e["data"]["previousStatus"] == "CREATED");
  CHECK(e["data"]["version"] == 2);
  CHECK(e["data"]["totalAmount"] == 300);

  auto s = feed_entry(stock(event_kind::stock_reserved, 2), 43);
  CHECK(s["subject"] == "SKU-1");
  CHECK_FALSE(s.contains("subjectseq"));
  CHECK(s["data"] == json{{"sku", "SKU-1"},
                          {"quantity", 2},
                          {"seller", "INTERNAL"},
                          {"orderId", "ord_1"}});
  // A change to the SKU itself carries the SKU's version; one journaled
  // before SKUs had versions carries none.
  auto priced = stock(event_kind::price_set, 0);
  priced.version = 7;
  CHECK(feed_entry(priced, 44)["subjectseq"] == 7);
  priced.version = 0;
  CHECK_FALSE(feed_entry(priced, 45).contains("subjectseq"));
}

TEST_CASE("feed: a customer's event never carries its token") {
  event ev;
  ev.kind = event_kind::customer_created;
  ev.customer.id = "cus_9";
  ev.customer.name = "Asha";
  ev.customer.token_hash = "secret-hash";
  auto e = feed_entry(ev, 1);
  CHECK(e["subject"] == "cus_9");
  CHECK(e["data"]["name"] == "Asha");
  CHECK(e.dump().find("secret-hash") == std::string::npos);
}

TEST_CASE("feed: filters by type, prefix and subject") {
  feed_filter all;
  CHECK(all.passes("oms.order.paid", "ord_1"));
  feed_filter orders{{"oms.order.*"}, {}};
  CHECK(orders.passes("oms.order.paid", "x"));
  CHECK_FALSE(orders.passes("oms.stock.reserved", "x"));
  CHECK_FALSE(orders.passes("oms.orderx", "x"));
  feed_filter exact{{"oms.stock.received", "oms.order.created"}, "SKU-1"};
  CHECK(exact.passes("oms.stock.received", "SKU-1"));
  CHECK_FALSE(exact.passes("oms.stock.received", "SKU-2"));
  CHECK_FALSE(exact.passes("oms.stock.reserved", "SKU-1"));
}

TEST_CASE("feed: the type parameter names known types or refuses") {
  CHECK(read_feed_types("oms.order.*,oms.stock.received") ==
        std::vector<std::string>{"oms.order.*", "oms.stock.received"});
  CHECK(read_feed_types("oms.*").size() == 1);
  CHECK(refusal([] { read_feed_types("oms.order.payed"); }) == "type");
  CHECK(refusal([] { read_feed_types("oms.order.paid,"); }) == "type");
  CHECK(refusal([] { read_feed_types(""); }) == "type");
  CHECK(refusal([] { read_feed_types("nope.*"); }) == "type");
  CHECK(refusal([] { read_feed_types(std::string(65, 'a')); }) == "type");
  std::string many;
  for (int i = 0; i < 33; ++i)
    many += (i ? "," : "") + std::string{"oms.order.paid"};
  CHECK(refusal([&] { read_feed_types(many); }) == "type");
}

TEST_CASE("feed: cursors are decimal sequence numbers that fit 64 bits") {
  CHECK(read_cursor("0", "after") == 0);
  CHECK(read_cursor("18446744073709551615", "after") == UINT64_MAX);
  CHECK(refusal([] { read_cursor("18446744073709551616", "after"); }) ==
        "after");
  CHECK(refusal([] { read_cursor("-1", "after"); }) == "after");
  CHECK(refusal([] { read_cursor("", "after"); }) == "after");
  CHECK(refusal([] { read_cursor("1e3", "Last-Event-ID"); }) ==
        "Last-Event-ID");
  CHECK(refusal([] { read_cursor("123456789012345678901", "after"); }) ==
        "after");
}

TEST_CASE("feed: an SSE frame is one event on one data line") {
  auto ev = order_change(order_status::created, order_status::cancelled, 2);
  ev.snapshot.cancel_reason = "line one\nline two\r\ndata: forged";
  auto frame = sse_frame(feed_entry(ev, 7));
  CHECK(frame.rfind("id: 7\nevent: oms.order.cancelled\ndata: {", 0) == 0);
  CHECK(frame.size() > 2);
  CHECK(frame.substr(frame.size() - 2) == "\n\n");
  // A line break inside a value cannot end the data line (or forge one).
  CHECK(std::count(frame.begin(), frame.end(), '\n') == 4);
  CHECK(frame.find('\r') == std::string::npos);
}
