// The warehouse's stock changes: the admin side (SKUs put or replaced,
// receipts, adjustments and seeds) and customer returns of shipped units.
#include <cstdio>

#include "system/wms_sim/warehouse.hpp"

namespace oms::wms_sim {

namespace {

constexpr size_t lot_length_max = 64;

outcome invalid_state(const std::string& message) {
  return fail(409, "INVALID_STATE", message);
}

outcome unknown_return(const std::string& id) {
  return fail(404, "UNKNOWN_RETURN", "no return " + id);
}

outcome on_hand_overflow() {
  return invalid("quantity",
                 "onHand would pass " + std::to_string(on_hand_max));
}

} // namespace

outcome warehouse::put_sku(const std::string& sku, int64_t on_hand,
                           int64_t unit_price, bool reflect_now) {
  if (!valid_id(sku))
    return invalid_id("sku", "a SKU");
  if (on_hand < 0 || on_hand > on_hand_max)
    return invalid("onHand",
                   "onHand must be in 0.." + std::to_string(on_hand_max));
  if (unit_price < 0 || unit_price > unit_price_max)
    return invalid("unitPrice", "unitPrice must be in 0.." +
                                    std::to_string(unit_price_max) +
                                    " (minor units)");
  auto i = skus_.find(sku);
  bool created = i == skus_.end();
  if (created) {
    if (skus_.size() >= limits_.skus_max)
      return capacity_exceeded("SKUs");
    i = skus_.emplace(sku, sku_state{}).first;
    i->second.sku = sku;
  } else {
    auto& s = i->second;
    if (on_hand < s.reserved + s.blocked || on_hand < s.unallocatable)
      return invalid_state("onHand " + std::to_string(on_hand) + " of " + sku +
                           " is below its reserved, blocked or "
                           "unallocatable units");
  }
  i->second.on_hand = on_hand;
  i->second.unit_price = unit_price;
  auto seq = ++seq_;
  if (reflect_now)
    run_batch("reflectNow");
  auto body = sku_json(i->second);
  body["seq"] = seq;
  return outcome{created ? 201 : 200, body};
}

void warehouse::append_event(const std::string& type, const std::string& sku,
                             int64_t quantity, const std::string& lot) {
  char id[32];
  std::snprintf(id, sizeof(id), "EV-%06zu", events_.size() + 1);
  ++seq_;
  events_.push_back(stock_event{id, seq_, type, sku, quantity, lot, now_()});
}

sku_state* warehouse::event_target(const std::string& sku,
                                   const std::string& lot, outcome& error) {
  if (!lot.empty() && (lot.size() > lot_length_max || !valid_id(lot))) {
    error = invalid("lot", "a lot is 1..64 characters of [A-Za-z0-9._:-]");
    return nullptr;
  }
  auto i = skus_.find(sku);
  if (i == skus_.end()) {
    error = fail(404, "UNKNOWN_SKU", "no SKU " + sku);
    return nullptr;
  }
  if (events_.size() >= limits_.events_max) {
    error = capacity_exceeded("events");
    return nullptr;
  }
  return &i->second;
}

outcome warehouse::receive(const std::string& sku, int64_t quantity,
                           const std::string& lot) {
  if (!valid_id(sku))
    return invalid_id("sku", "a SKU");
  if (quantity < 1 || quantity > quantity_max)
    return invalid_quantity();
  outcome error;
  auto* s = event_target(sku, lot, error);
  if (!s)
    return error;
  if (s->on_hand + quantity > on_hand_max)
    return on_hand_overflow();
  s->on_hand += quantity;
  append_event("RECEIPT", sku, quantity, lot);
  auto body = sku_json(*s);
  body["seq"] = seq_;
  body["event"] = event_json(events_.back());
  return outcome{200, body};
}

outcome warehouse::adjust(const std::string& sku, int64_t quantity,
                          const std::string& reason, const std::string& lot) {
  if (!valid_id(sku))
    return invalid_id("sku", "a SKU");
  bool correction = reason == "CORRECTION";
  if (!correction && reason != "DAMAGE" && reason != "QUARANTINE" &&
      reason != "QUARANTINE_RELEASE")
    return invalid("reason", "reason must be DAMAGE, QUARANTINE, "
                             "QUARANTINE_RELEASE or CORRECTION");
  if (correction) {
    if (quantity == 0 || quantity < -quantity_max || quantity > quantity_max)
      return invalid("quantity", "a CORRECTION's quantity is a non-zero "
                                 "signed integer of at most " +
                                     std::to_string(quantity_max) + " units");
  } else if (quantity < 1 || quantity > quantity_max) {
    return invalid_quantity();
  }
  outcome error;
  auto* s = event_target(sku, lot, error);
  if (!s)
    return error;
  std::string type = reason;
  int64_t change = quantity;
  if (correction) {
    if (s->on_hand + quantity < s->reserved + s->blocked)
      return invalid_state(
          "a correction of " + std::to_string(quantity) + " would leave " +
          sku + " with fewer units on hand than reserved and blocked");
    if (s->on_hand + quantity > on_hand_max)
      return on_hand_overflow();
    s->on_hand += quantity;
    type = "ADJUSTMENT";
  } else if (reason == "QUARANTINE_RELEASE") {
    if (s->unallocatable - quantity < 0)
      return invalid_state("only " + std::to_string(s->unallocatable) +
                           " units of " + sku + " are unallocatable");
    s->unallocatable -= quantity;
  } else {
    if (s->unallocatable + quantity > s->on_hand)
      return invalid_state("only " + std::to_string(s->on_hand) + " units of " +
                           sku + " are on hand");
    s->unallocatable += quantity;
    change = -quantity;
  }
  append_event(type, sku, change, lot);
  auto body = sku_json(*s);
  body["seq"] = seq_;
  body["event"] = event_json(events_.back());
  return outcome{200, body};
}

outcome warehouse::load_rows(const std::vector<sku_row>& rows) {
  if (skus_.size() + rows.size() > limits_.skus_max)
    return capacity_exceeded("SKUs");
  for (auto& row : rows) {
    auto res = put_sku(row.sku, row.on_hand, row.unit_price, false);
    if (!res.ok())
      return res;
  }
  auto b = run_batch("seed");
  return outcome{200, json{{"skus", rows.size()},
                           {"batch", b.batch},
                           {"asOf", b.as_of_ms},
                           {"reflects", b.reflects}}};
}

// -- customer returns --------------------------------------------------------

outcome warehouse::receive_return(const std::string& id,
                                  const std::string& reservation_id,
                                  int64_t quantity) {
  if (!valid_id(id))
    return invalid_id("id", "an id");
  if (!valid_id(reservation_id))
    return invalid_id("reservation", "a reservation id");
  if (quantity < 1 || quantity > quantity_max)
    return invalid_quantity();
  if (auto i = returns_.find(id); i != returns_.end()) {
    auto& r = i->second;
    if (r.reservation != reservation_id || r.quantity != quantity)
      return fail(409, "IDEMPOTENCY_CONFLICT",
                  "return " + id + " exists with reservation " + r.reservation +
                      " and quantity " + std::to_string(r.quantity));
    return outcome{200, return_json(r)};
  }
  outcome error;
  auto* res = find_reservation(reservation_id, error);
  if (!res)
    return error;
  if (res->status != reservation_status::shipped)
    return invalid_state("reservation " + reservation_id + " is " +
                         to_string(res->status) +
                         "; only a SHIPPED reservation takes returns");
  auto returnable = res->quantity - res->returned;
  if (quantity > returnable)
    return fail(409, "RETURN_EXCEEDS_SHIPPED",
                "only " + std::to_string(returnable) +
                    " units of reservation " + reservation_id +
                    " can still be returned",
                json{{"returnable", returnable}});
  if (returns_.size() >= limits_.returns_max)
    return capacity_exceeded("returns");
  auto& s = skus_.at(res->sku);
  if (s.on_hand + quantity > on_hand_max)
    return on_hand_overflow();
  // On hand again, but not for sale until an inspection restocks them.
  s.on_hand += quantity;
  s.unallocatable += quantity;
  res->returned += quantity;
  auto& r = returns_[id];
  r = customer_return{id, reservation_id, res->sku, quantity};
  r.seq = ++seq_;
  return outcome{201, return_json(r)};
}

outcome warehouse::inspect_return(const std::string& id,
                                  std::optional<int64_t> restock,
                                  std::optional<int64_t> damaged) {
  if (!valid_id(id))
    return invalid_id("id", "an id");
  if (!restock && !damaged)
    return invalid("restock", "restock or damaged is required");
  auto i = returns_.find(id);
  if (i == returns_.end())
    return unknown_return(id);
  auto& r = i->second;
  auto range = "0.." + std::to_string(r.quantity) + " (the return's quantity)";
  if (restock && (*restock < 0 || *restock > r.quantity))
    return invalid("restock", "restock must be in " + range);
  if (damaged && (*damaged < 0 || *damaged > r.quantity))
    return invalid("damaged", "damaged must be in " + range);
  if (restock && damaged && *restock + *damaged != r.quantity)
    return invalid("damaged", "restock and damaged must add up to the "
                              "return's quantity " +
                                  std::to_string(r.quantity));
  auto keep = restock ? *restock : r.quantity - *damaged;
  auto lost = r.quantity - keep;
  if (r.status == return_status::inspected) {
    if (r.restocked != keep || r.damaged != lost)
      return fail(409, "IDEMPOTENCY_CONFLICT",
                  "return " + id + " was inspected with restock " +
                      std::to_string(r.restocked) + " and damaged " +
                      std::to_string(r.damaged));
    return outcome{200, return_json(r)};
  }
  auto& s = skus_.at(r.sku);
  // Checked before anything changes: a refused inspection changes nothing.
  if (keep > 0 && events_.size() >= limits_.events_max)
    return capacity_exceeded("events");
  if (keep > s.unallocatable)
    return invalid_state("only " + std::to_string(s.unallocatable) +
                         " units of " + r.sku + " are unallocatable");
  s.unallocatable -= keep;
  r.status = return_status::inspected;
  r.restocked = keep;
  r.damaged = lost;
  if (keep > 0) {
    // Restocked units are orderable again: the fast path sees them at once.
    // The inspection and its event are one change, with one seq.
    append_event("RETURN", r.sku, keep, "");
    r.seq = seq_;
  } else {
    r.seq = ++seq_;
  }
  return outcome{200, return_json(r)};
}

outcome warehouse::return_state(const std::string& id) const {
  if (!valid_id(id))
    return invalid_id("id", "an id");
  auto i = returns_.find(id);
  if (i == returns_.end())
    return unknown_return(id);
  return outcome{200, return_json(i->second)};
}

} // namespace oms::wms_sim
