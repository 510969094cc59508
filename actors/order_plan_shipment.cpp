// The ORDER actor's plans for shipping, whole or line by line.
#include <nlohmann/json.hpp>

#include "actors/order_machine.hpp"
#include "actors/order_plan.hpp"

namespace oms {

namespace {

std::vector<int64_t> everything_unshipped(const order_record& rec) {
  std::vector<int64_t> result;
  result.reserve(rec.lines.size());
  for (auto& line : rec.lines)
    result.push_back(unshipped_quantity(line));
  return result;
}

} // namespace

planned<shipment_check> check_shipment(const order_record& rec,
                                       const std::vector<order_item>& lines,
                                       const std::string& client_key,
                                       const std::string& fingerprint) {
  shipment_check result;
  if (!client_key.empty())
    for (auto& s : rec.shipments)
      if (s.client_key == client_key) {
        if (s.fingerprint != fingerprint)
          return problem{errc::idempotency_key_reused,
                         "the idempotency key shipped another request",
                         nlohmann::json{{"idempotencyKey", client_key}}.dump()};
        result.answered = true;
        return result;
      }
  if (auto refusal = check_transition(rec, command_kind::ship))
    return *refusal;
  if (lines.empty()) {
    result.quantities = everything_unshipped(rec);
    result.everything = true;
    return result;
  }
  auto quantities = quantities_per_line(rec, lines, unshipped_quantity);
  if (!quantities)
    return quantities.refusal();
  result.quantities = std::move(*quantities);
  result.everything = result.quantities == everything_unshipped(rec);
  // A reservation at the WMS has one quantity: it ships whole.
  if (!result.everything && rec.seller == seller::external)
    return field_problem("lines", "an EXTERNAL order ships whole: the seller's "
                                  "warehouse ships a reservation whole");
  return result;
}

planned<order_plan> plan_shipment(const order_record& rec,
                                  const std::vector<int64_t>& quantities,
                                  shipment_request req, timestamp_ms now) {
  if (quantities.size() != rec.lines.size())
    return problem{errc::internal, "one quantity per line expected"};
  bool everything = true;
  bool anything = false;
  for (size_t i = 0; i < quantities.size(); ++i) {
    auto left = unshipped_quantity(rec.lines[i]);
    if (quantities[i] < 0 || quantities[i] > left)
      return problem{errc::internal, "more shipped than the line holds"};
    everything = everything && quantities[i] == left;
    anything = anything || quantities[i] > 0;
  }
  auto cmd = everything ? command_kind::ship : command_kind::ship_part;
  if (auto refusal = check_transition(rec, cmd))
    return *refusal;
  if (!anything)
    return problem{errc::internal, "a shipment of nothing"};
  order_plan plan;
  plan.next = moved(rec, *next_status(rec.status, cmd), to_string(cmd), 0, now);
  plan.op = sku_op::consume;
  auto& next = plan.next;
  shipment s;
  s.id = "shp_" + std::to_string(rec.shipments.size() + 1);
  s.at = now;
  s.carrier = std::move(req.carrier);
  s.tracking_number = std::move(req.tracking_number);
  s.client_key = std::move(req.client_key);
  s.fingerprint = std::move(req.fingerprint);
  for (size_t i = 0; i < next.lines.size(); ++i) {
    auto qty = quantities[i];
    if (qty == 0)
      continue;
    auto& line = next.lines[i];
    // A line's allocation lists its units first to expire first: those
    // shipped before, then those held, then those cancelled.
    auto lots = slice_allocations(line.lots, line.shipped_quantity, qty);
    // A line recorded before batches were drew from the batch "": named, so
    // that the store keeps the rest of the hold.
    if (lots.empty() && rec.seller == seller::internal)
      lots.push_back(lot_allocation{{}, qty, 0});
    line.shipped_quantity += qty;
    plan.events.push_back(
        stock_event(event_kind::stock_consumed, now, line.sku, next.id, qty));
    plan.events.back().lots = lots;
    s.lines.push_back(shipped_line{line.sku, qty, std::move(lots)});
    plan.lines.push_back(i);
  }
  next.shipments.push_back(std::move(s));
  return plan;
}

} // namespace oms
