// Fuzzes the reading of the WMS's answers (actors/wms_answers.hpp), as the
// EXTERNAL-SKU actors, the WMS FEED reader and the WMS transport read them.
// The first byte picks the answer, the rest is its text:
//   a: a 429's Retry-After header, then "\n" and the body;
//   b: an error body (its code); c: an acknowledgement; d: a snapshot;
//   e: the cursor asked with, then "\n" and a page of the event feed;
//   f: one event of the feed.
// Whatever the bytes: reading returns (an exception would end the actor
// that reads), and what is read is within its bounds: a wait of at most a
// day, states that exist, a snapshot priced within the limit, changes with
// a SKU, a positive sequence and the WMS's event id.
#include <string>

#include "actors/wms_answers.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {

using namespace oms;

// omsd's default highest unit price (--max-unit-price).
constexpr money unit_price_max = unit_price_max_default;

void check_change(const stock_change& c) {
  FUZZ_CHECK(c.seller == seller::external && c.source == "wms",
             "a feed change is the EXTERNAL seller's");
  FUZZ_CHECK(c.kind == stock_change_kind::receipt ||
                 c.kind == stock_change_kind::adjustment,
             "a feed change is a receipt or an adjustment");
  FUZZ_CHECK(!c.sku.empty() && c.wms_seq > 0 &&
                 c.event_id.rfind("wms:", 0) == 0 && c.event_id.size() > 4,
             "a feed change has a SKU, a positive sequence and an id");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  auto text = fuzz::text_of(data + 1, size - 1);
  switch (fuzz::pick(data[0], 6)) {
    case 0: {
      auto [header, body] = fuzz::split_line(text);
      auto ms = wms_retry_after_ms(std::string{header}, std::string{body});
      FUZZ_CHECK(ms >= 0 && ms <= 86'400'000, "a wait is at most a day");
      break;
    }
    case 1:
      wms_error_code(text);
      break;
    case 2:
      if (auto ack = read_wms_ack(text))
        FUZZ_CHECK(static_cast<int>(ack->state) <=
                       static_cast<int>(wms_state::released),
                   "an acknowledged state exists");
      break;
    case 3: {
      wms_snapshot snap;
      if (read_wms_snapshot(text, unit_price_max, snap) == snapshot_reading::ok)
        FUZZ_CHECK(snap.unit_price >= 0 && snap.unit_price <= unit_price_max,
                   "a snapshot's price is within the limit");
      break;
    }
    case 4: {
      auto [cursor, body] = fuzz::split_line(text);
      if (auto page = read_wms_feed_page(body, std::string{cursor})) {
        FUZZ_CHECK(page->changes.size() + page->bad_events.size() ==
                       page->events,
                   "every event of a page is read or refused");
        for (auto& c : page->changes)
          check_change(c);
        for (auto& [event, why] : page->bad_events)
          FUZZ_CHECK(!why.empty(), "a refused event says why");
      }
      break;
    }
    default: {
      stock_change c;
      std::string error;
      if (feed_event_to_change(std::string{text}, c, error))
        check_change(c);
      else
        FUZZ_CHECK(!error.empty(), "a refused event says why");
      break;
    }
  }
  return 0;
}
