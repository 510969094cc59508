#include "system/wms_sim/warehouse.hpp"

#include <algorithm>
#include <cctype>
#include <utility>

namespace oms::wms_sim {

namespace {

constexpr std::string_view cursor_prefix = "c1.";

outcome unknown_reservation(const std::string& id) {
  return fail(404, "UNKNOWN_RESERVATION", "no reservation " + id);
}

bool all_digits(std::string_view x) {
  if (x.empty())
    return false;
  for (auto c : x)
    if (!std::isdigit(static_cast<unsigned char>(c)))
      return false;
  return true;
}

std::string cursor_at(size_t pos) {
  return std::string{cursor_prefix} + std::to_string(pos);
}

// The position a cursor points at, or nullopt when it is not one we issued
// (or lies past the end of the feed).
std::optional<size_t> parse_cursor(const std::string& x, size_t end) {
  if (x.size() <= cursor_prefix.size() || x.size() > 24 ||
      x.compare(0, cursor_prefix.size(), cursor_prefix) != 0)
    return std::nullopt;
  auto digits = std::string_view{x}.substr(cursor_prefix.size());
  if (!all_digits(digits) || (digits.size() > 1 && digits[0] == '0'))
    return std::nullopt;
  auto pos = std::stoull(std::string{digits});
  if (pos > end)
    return std::nullopt;
  return static_cast<size_t>(pos);
}

// Whether a reservation in state `from` may move to `to`.
bool may_move(reservation_status from, reservation_status to) {
  using rs = reservation_status;
  switch (to) {
    case rs::blocked:
      return from == rs::reserved;
    case rs::shipped:
      return from == rs::blocked;
    case rs::released:
      return from == rs::reserved || from == rs::blocked;
    default:
      return false;
  }
}

// Why a reservation in state `from` does not move to `to`.
std::string refusal(const std::string& id, reservation_status from,
                    reservation_status to) {
  auto head = "reservation " + id + " is " + to_string(from);
  if (to == reservation_status::shipped)
    return head + "; only a BLOCKED reservation ships";
  return head + (to == reservation_status::blocked ? " and cannot be blocked"
                                                   : " and cannot be released");
}

// Moves a reservation's units in its SKU's stock from `from` to `to`.
void move_units(sku_state& s, int64_t quantity, reservation_status from,
                reservation_status to) {
  (from == reservation_status::reserved ? s.reserved : s.blocked) -= quantity;
  if (to == reservation_status::blocked)
    s.blocked += quantity;
  if (to == reservation_status::shipped) {
    s.on_hand -= quantity;
    s.shipped += quantity;
  }
}

} // namespace

outcome fail(int status, const std::string& code, const std::string& message,
             json extra) {
  json err = {{"code", code}, {"message", message}};
  for (auto& [key, value] : extra.items())
    err[key] = value;
  return outcome{status, json{{"error", err}}};
}

outcome invalid(const std::string& field, const std::string& message) {
  return fail(400, "VALIDATION_FAILED", message, json{{"field", field}});
}

outcome invalid_id(const std::string& field, const std::string& what) {
  return invalid(field, what + " is 1..128 characters of [A-Za-z0-9._:-]");
}

outcome invalid_quantity() {
  return invalid("quantity",
                 "quantity must be in 1.." + std::to_string(quantity_max));
}

const char* to_string(return_status x) {
  return x == return_status::inspected ? "INSPECTED" : "RECEIVED";
}

const char* to_string(reservation_status x) {
  switch (x) {
    case reservation_status::reserved:
      return "RESERVED";
    case reservation_status::blocked:
      return "BLOCKED";
    case reservation_status::shipped:
      return "SHIPPED";
    case reservation_status::released:
      return "RELEASED";
  }
  return "RESERVED";
}

bool valid_id(std::string_view x) {
  if (x.empty() || x.size() > 128)
    return false;
  for (auto c : x)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' &&
        c != ':' && c != '-')
      return false;
  return true;
}

warehouse::warehouse(int64_t batch_interval_ms, capacity limits, uint64_t seed,
                     clock_fn now, std::function<double()> uniform)
    : batch_interval_ms_(batch_interval_ms),
      limits_(limits),
      now_(std::move(now)),
      uniform_(std::move(uniform)),
      rng_state_(seed) {
  if (batch_interval_ms_ > 0)
    next_batch_at_ = now_() + batch_interval_ms_;
}

double warehouse::draw() {
  if (uniform_)
    return uniform_();
  // splitmix64: the same seed gives the same faults on every platform.
  uint64_t z = (rng_state_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1.0p-53;
}

// -- JSON views --------------------------------------------------------------

json warehouse::sku_json(const sku_state& s) const {
  json j = {{"sku", s.sku},
            {"onHand", s.on_hand},
            {"unallocatable", s.unallocatable},
            {"reserved", s.reserved},
            {"blocked", s.blocked},
            {"shipped", s.shipped},
            {"liveOrderable", s.live_orderable()},
            {"unitPrice", s.unit_price}};
  if (auto i = snapshot_.find(s.sku); i != snapshot_.end())
    j["snapshotOrderable"] = i->second.orderable;
  else
    j["snapshotOrderable"] = nullptr;
  return j;
}

json warehouse::reservation_json(const reservation& r) const {
  return json{{"id", r.id},
              {"sku", r.sku},
              {"quantity", r.quantity},
              {"status", to_string(r.status)},
              {"seq", r.seq}};
}

json warehouse::return_json(const customer_return& r) const {
  return json{{"id", r.id},
              {"reservation", r.reservation},
              {"sku", r.sku},
              {"quantity", r.quantity},
              {"status", to_string(r.status)},
              {"restocked", r.restocked},
              {"damaged", r.damaged},
              {"seq", r.seq}};
}

json warehouse::event_json(const stock_event& ev) const {
  return json{{"id", ev.id},   {"seq", ev.seq},           {"type", ev.type},
              {"sku", ev.sku}, {"quantity", ev.quantity}, {"lot", ev.lot},
              {"at", ev.at_ms}};
}

outcome warehouse::capacity_exceeded(const std::string& what) const {
  return fail(507, "CAPACITY_EXCEEDED", "the simulator holds no more " + what);
}

const sku_state* warehouse::find_sku(const std::string& sku) const {
  auto i = skus_.find(sku);
  return i == skus_.end() ? nullptr : &i->second;
}

const reservation* warehouse::find_reservation(const std::string& id) const {
  auto i = reservations_.find(id);
  return i == reservations_.end() ? nullptr : &i->second;
}

const customer_return* warehouse::find_return(const std::string& id) const {
  auto i = returns_.find(id);
  return i == returns_.end() ? nullptr : &i->second;
}

// -- the WMS operations ------------------------------------------------------

outcome warehouse::inventory(const std::string& sku) const {
  if (!valid_id(sku))
    return invalid_id("sku", "a SKU");
  auto i = snapshot_.find(sku);
  if (i == snapshot_.end())
    return fail(404, "UNKNOWN_SKU", "no SKU " + sku);
  return outcome{200, json{{"sku", sku},
                           {"orderable", i->second.orderable},
                           {"unitPrice", i->second.unit_price},
                           {"asOf", batch_at_ms_},
                           {"batch", batch_},
                           {"reflects", reflects_}}};
}

outcome warehouse::reserve(const std::string& id, const std::string& sku,
                           int64_t quantity) {
  if (!valid_id(id))
    return invalid_id("id", "an id");
  if (!valid_id(sku))
    return invalid_id("sku", "a SKU");
  if (quantity < 1 || quantity > quantity_max)
    return invalid_quantity();
  if (auto i = reservations_.find(id); i != reservations_.end()) {
    // A retry names the quantity the reservation was made with, even after
    // a reduce lowered it.
    auto& r = i->second;
    if (r.sku != sku || r.requested != quantity)
      return fail(409, "IDEMPOTENCY_CONFLICT",
                  "reservation " + id + " exists with sku " + r.sku +
                      " and quantity " + std::to_string(r.requested));
    return outcome{200, reservation_json(r)};
  }
  auto s = skus_.find(sku);
  if (s == skus_.end())
    return fail(404, "UNKNOWN_SKU", "no SKU " + sku);
  auto available = std::max<int64_t>(0, s->second.live_orderable());
  if (quantity > available)
    return fail(409, "INSUFFICIENT_STOCK",
                "only " + std::to_string(available) + " of " + sku +
                    " can be reserved",
                json{{"available", available}});
  if (reservations_.size() >= limits_.reservations_max)
    return capacity_exceeded("reservations");
  s->second.reserved += quantity;
  auto& r = reservations_[id];
  r = reservation{id, sku, quantity, reservation_status::reserved, ++seq_};
  r.requested = quantity;
  return outcome{201, reservation_json(r)};
}

const reservation* warehouse::find_reservation(const std::string& id,
                                               outcome& error) const {
  if (!valid_id(id)) {
    error = invalid_id("id", "an id");
    return nullptr;
  }
  auto i = reservations_.find(id);
  if (i == reservations_.end()) {
    error = unknown_reservation(id);
    return nullptr;
  }
  return &i->second;
}

reservation* warehouse::find_reservation(const std::string& id,
                                         outcome& error) {
  return const_cast<reservation*>(
      std::as_const(*this).find_reservation(id, error));
}

outcome warehouse::reservation_state(const std::string& id) const {
  outcome error;
  auto* r = find_reservation(id, error);
  if (!r)
    return error;
  return outcome{200, reservation_json(*r)};
}

outcome warehouse::transition(const std::string& id, reservation_status to) {
  outcome error;
  auto* r = find_reservation(id, error);
  if (!r)
    return error;
  if (r->status != to) {
    if (!may_move(r->status, to))
      return fail(409, "INVALID_STATE", refusal(id, r->status, to));
    move_units(skus_.at(r->sku), r->quantity, r->status, to);
    r->status = to;
    r->seq = ++seq_;
  }
  return outcome{200, reservation_json(*r)};
}

outcome warehouse::block(const std::string& id) {
  return transition(id, reservation_status::blocked);
}

outcome warehouse::ship(const std::string& id) {
  return transition(id, reservation_status::shipped);
}

outcome warehouse::release(const std::string& id) {
  return transition(id, reservation_status::released);
}

outcome warehouse::reduce(const std::string& id, int64_t quantity) {
  if (!valid_id(id))
    return invalid_id("id", "an id");
  if (quantity < 1 || quantity > quantity_max)
    return invalid_quantity();
  outcome error;
  auto* r = find_reservation(id, error);
  if (!r)
    return error;
  if (r->status != reservation_status::reserved &&
      r->status != reservation_status::blocked)
    return fail(409, "INVALID_STATE",
                "reservation " + id + " is " + to_string(r->status) +
                    " and cannot be reduced");
  if (quantity > r->quantity)
    return fail(409, "QUANTITY_ABOVE_RESERVATION",
                "reservation " + id + " holds only " +
                    std::to_string(r->quantity) + " units",
                json{{"quantity", r->quantity}});
  if (quantity < r->quantity) {
    // The units it no longer holds are free again (live orderable rises;
    // the snapshot after the next batch).
    auto& s = skus_.at(r->sku);
    (r->status == reservation_status::reserved ? s.reserved : s.blocked) -=
        r->quantity - quantity;
    r->quantity = quantity;
    r->seq = ++seq_;
  }
  return outcome{200, reservation_json(*r)};
}

outcome warehouse::feed_page(const std::string& after, int64_t limit,
                             double duplicate_rate, bool& duplicated) {
  duplicated = false;
  if (limit < 1 || limit > page_limit_max)
    return invalid("limit",
                   "limit must be in 1.." + std::to_string(page_limit_max));
  size_t pos = 0;
  if (!after.empty()) {
    auto parsed = parse_cursor(after, events_.size());
    if (!parsed)
      return invalid("after", "not a cursor this feed issued: " + after);
    pos = *parsed;
  }
  json page = json::array();
  // At-least-once delivery: sometimes a page repeats an event the client
  // already had (one from before its cursor).
  if (pos > 0 && duplicate_rate > 0 && draw() < duplicate_rate) {
    auto index = std::min(pos - 1, static_cast<size_t>(draw() * pos));
    page.push_back(event_json(events_[index]));
    duplicated = true;
  }
  auto end = std::min(events_.size(), pos + static_cast<size_t>(limit));
  for (auto i = pos; i < end; ++i)
    page.push_back(event_json(events_[i]));
  return outcome{200, json{{"events", page}, {"next", cursor_at(end)}}};
}

json warehouse::stock_state() const {
  json skus = json::array();
  for (auto& [name, s] : skus_)
    skus.push_back(sku_json(s));
  json counts = {
      {"RESERVED", 0}, {"BLOCKED", 0}, {"SHIPPED", 0}, {"RELEASED", 0}};
  for (auto& [id, r] : reservations_)
    counts[to_string(r.status)] =
        counts[to_string(r.status)].get<int64_t>() + 1;
  json return_counts = {{"RECEIVED", 0}, {"INSPECTED", 0}};
  for (auto& [id, r] : returns_)
    return_counts[to_string(r.status)] =
        return_counts[to_string(r.status)].get<int64_t>() + 1;
  json j = {{"batch", batch_},
            {"lastBatchAt", nullptr},
            {"reflects", reflects_},
            {"seq", seq_},
            {"skus", skus},
            {"reservations", counts},
            {"returns", return_counts},
            {"events", events_.size()},
            {"nextBatchAt", nullptr}};
  if (batch_ > 0)
    j["lastBatchAt"] = batch_at_ms_;
  if (next_batch_at_)
    j["nextBatchAt"] = *next_batch_at_;
  return j;
}

// -- the batch job -----------------------------------------------------------

batch_result warehouse::run_batch(const std::string& trigger) {
  batch_result res;
  res.trigger = trigger;
  snapshot_.clear();
  for (auto& [name, s] : skus_) {
    auto orderable = std::max<int64_t>(0, s.live_orderable());
    snapshot_[name] = snapshot_entry{orderable, s.unit_price};
    res.orderable_total += orderable;
  }
  res.changes = seq_ - reflects_;
  res.events = static_cast<int64_t>(events_.size() - events_reflected_);
  ++batch_;
  batch_at_ms_ = now_();
  reflects_ = seq_;
  events_reflected_ = events_.size();
  res.batch = batch_;
  res.as_of_ms = batch_at_ms_;
  res.reflects = reflects_;
  res.skus = snapshot_.size();
  if (on_batch_)
    on_batch_(res);
  return res;
}

std::optional<int64_t> warehouse::next_batch_at() const {
  return next_batch_at_;
}

std::optional<batch_result> warehouse::run_due_batch() {
  if (!next_batch_at_)
    return std::nullopt;
  auto now = now_();
  if (now < *next_batch_at_)
    return std::nullopt;
  auto interval = batch_interval_ms_;
  auto missed = (now - *next_batch_at_) / interval;
  *next_batch_at_ += (missed + 1) * interval;
  return run_batch("timer");
}

} // namespace oms::wms_sim
