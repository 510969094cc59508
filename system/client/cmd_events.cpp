// omsctl events tail: the change feed (GET /v1/events), once or followed.
#include <algorithm>
#include <iostream>
#include <string>

#include "system/client/commands.hpp"

namespace oms::cli {

namespace {

// How long one request of --follow waits for events (the session's timeout,
// 30 s by default, must outlast it).
constexpr int follow_wait_s = 20;

std::string feed_query(const args& a, const std::string& after, int64_t limit,
                       int wait_s) {
  std::string q = "/v1/events?after=" + client::url_encode(after) +
                  "&limit=" + std::to_string(limit);
  if (!a.event_type.empty())
    q += "&type=" + client::url_encode(a.event_type);
  if (!a.subject.empty())
    q += "&subject=" + client::url_encode(a.subject);
  if (wait_s > 0)
    q += "&wait=" + std::to_string(wait_s);
  return q;
}

// What the order or stock event says in a few words.
std::string summary(const json& e) {
  auto& d = e["data"];
  if (d.contains("status"))
    return text(d, "status") + " " + money(d, "totalAmount", d);
  if (d.contains("quantity"))
    return text(d, "quantity") +
           (d.contains("orderId") ? " for " + text(d, "orderId") : "") +
           (d.contains("lot") ? " lot " + text(d, "lot") : "");
  if (d.contains("unitPrice"))
    return "unit price " + text(d, "unitPrice");
  return text(d, "name");
}

// One event as a line of fixed-width columns (a followed feed prints as it
// goes, so the columns cannot be fitted to the rows).
void print_line(const std::string& id, const std::string& time,
                const std::string& type, const std::string& subject,
                const std::string& what) {
  auto pad = [](std::string x, size_t n) {
    if (x.size() < n)
      x.append(n - x.size(), ' ');
    return x;
  };
  std::cout << pad(id, 8) << "  " << pad(time, 24) << "  " << pad(type, 26)
            << "  " << pad(subject, 30) << "  " << what << '\n';
}

// Prints one page's events: lines (under a header if `header`), one JSON
// object per line, or the --field values of each.
void print_events(const args& a, const json& events, bool header) {
  if (!a.out.fields.empty()) {
    for (auto& e : events)
      a.out.emit(e, [](const json&) {});
    return;
  }
  if (a.out.format == "json") {
    for (auto& e : events)
      std::cout << e.dump() << '\n';
    return;
  }
  if (header)
    print_line("ID", "TIME", "TYPE", "SUBJECT", "WHAT");
  for (auto& e : events)
    print_line(text(e, "id"), text(e, "time"), text(e, "type"),
               text(e, "subject"), summary(e));
}

void add_events_tail(CLI::App* events, args& a, action& run) {
  auto* tail = events->add_subcommand(
      "tail", "Print the newest events of the change feed, or those after "
              "--after; with --follow, keep printing them as they are "
              "committed (GET /v1/events; admin)");
  tail->add_option("--after", a.cursor,
                   "Start after this event id (0: from the first event); "
                   "default: the last --limit events of the whole log, "
                   "which --type and --subject then filter")
      ->type_name("ID");
  tail->add_option("--type", a.event_type,
                   "Only these types: comma-separated, or prefixes such as "
                   "'oms.order.*'")
      ->type_name("TYPES");
  tail->add_option("--subject", a.subject,
                   "Only events about this order id, SKU or customer id")
      ->type_name("ID");
  tail->add_option("--limit", a.limit, "How many events (1-1000; default 10)")
      ->check(CLI::Range(1, 1000));
  tail->add_flag("--follow,-f", a.follow,
                 "Keep following the feed until interrupted");
  set_action(tail, run, [](session& s, const args& a) {
    auto limit = a.limit.value_or(10);
    auto after = a.cursor;
    if (after.empty()) {
      auto ready = s.call("GET", "/readyz");
      auto last = ready.value("lastSeq", int64_t{0});
      after = std::to_string(std::max<int64_t>(0, last - limit));
    }
    json page;
    try {
      page = s.call("GET", feed_query(a, after, limit, 0));
    } catch (const api_error& e) {
      // The newest events reach back past those the retention kept: from
      // the oldest kept, then.
      if (!a.cursor.empty() || e.code != "EVENTS_EXPIRED")
        throw;
      after = "0";
      page = s.call("GET", feed_query(a, after, limit, 0));
    }
    print_events(a, page["events"], true);
    if (!a.follow)
      return;
    std::cout.flush();
    for (;;) {
      after = page.value("next", after);
      page = s.call("GET", feed_query(a, after, 1000, follow_wait_s));
      print_events(a, page["events"], false);
      std::cout.flush();
    }
  });
}

} // namespace

void add_events(CLI::App& app, args& a, action& run) {
  add_group(app, "events", "The change feed: committed events in order", a, run,
            {add_events_tail});
}

} // namespace oms::cli
