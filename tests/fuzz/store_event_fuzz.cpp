// Fuzzes the decoding of what the stores hold (system/store/codec.hpp), as
// the JOURNAL reads its event log back and recovery reads live orders and
// holds. The first byte picks what the rest is:
//   a: an event row, "KIND\nPAYLOAD" (the kind column, then the payload
//      column);
//   b: an order record (orders.record);
//   c: the batches of a hold (holds.lots);
//   d: a WMS standing (wms_reservations.state).
// Whatever the bytes: decoding returns (never throws); what decodes names
// only kinds, sellers, statuses and payment kinds that exist, and encodes
// to a text that decodes to the same value.
#include <string>

#include "messages/events.hpp"
#include "system/store/codec.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {

using namespace oms;

template <class Enum>
bool at_most(Enum x, Enum last) {
  return static_cast<int>(x) >= 0 &&
         static_cast<int>(x) <= static_cast<int>(last);
}

void check_record(const order_record& r) {
  FUZZ_CHECK(at_most(r.seller, seller::external), "a record's seller exists");
  FUZZ_CHECK(at_most(r.status, last_order_status), "a record's status exists");
  for (auto& h : r.history)
    FUZZ_CHECK(at_most(h.from, last_order_status) &&
                   at_most(h.to, last_order_status),
               "a history entry's statuses exist");
  for (auto& x : r.returns)
    FUZZ_CHECK(at_most(x.status, last_return_status),
               "a return's status exists");
  for (auto& p : r.payments)
    FUZZ_CHECK(at_most(p.kind, payment_kind::refund) &&
                   at_most(p.status, payment_status::failed),
               "a payment's kind and status exist");
  auto text = encode_record(r);
  order_record again;
  FUZZ_CHECK(decode_record(text, again), "an encoded record decodes");
  FUZZ_CHECK(encode_record(again) == text, "and encodes the same");
}

void check_event(std::string_view kind_text, std::string_view payload) {
  event ev;
  if (!parse_event_kind(kind_text, ev.kind))
    return;
  FUZZ_CHECK(kind_text == to_string(ev.kind), "a kind reads as it is named");
  if (!decode_payload(payload, ev))
    return;
  FUZZ_CHECK(at_most(ev.seller, seller::external), "an event's seller exists");
  if (ev.kind == event_kind::order_created ||
      ev.kind == event_kind::order_changed)
    check_record(ev.snapshot);
  auto text = encode_payload(ev);
  event again;
  again.kind = ev.kind;
  FUZZ_CHECK(decode_payload(text, again), "an encoded payload decodes");
  FUZZ_CHECK(encode_payload(again) == text, "and encodes the same");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  auto text = fuzz::text_of(data + 1, size - 1);
  switch (fuzz::pick(data[0], 4)) {
    case 0: {
      auto [kind, payload] = fuzz::split_line(text);
      check_event(kind, payload);
      break;
    }
    case 1: {
      order_record r;
      if (decode_record(text, r))
        check_record(r);
      break;
    }
    case 2: {
      std::vector<lot_allocation> lots;
      if (decode_allocations(text, lots)) {
        auto encoded = encode_allocations(lots);
        std::vector<lot_allocation> again;
        FUZZ_CHECK(decode_allocations(encoded, again) && again == lots,
                   "encoded batches decode to the same");
      }
      break;
    }
    default: {
      wms_standing s;
      if (parse_wms_standing(text, s)) {
        FUZZ_CHECK(at_most(s.known, wms_state::released) &&
                       (!s.wanted || at_most(*s.wanted, wms_state::released)),
                   "a standing's states exist");
        wms_standing again;
        FUZZ_CHECK(parse_wms_standing(to_string(s), again) && again == s,
                   "a standing reads back as written");
      }
      break;
    }
  }
  return 0;
}
