#include "system/wms_sim/sim.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <limits>
#include <tuple>

#include "system/http/percent.hpp"
#include "system/http/route.hpp"

namespace oms::wms_sim {

namespace {

constexpr int64_t quantity_max = 1'000'000;
constexpr int64_t on_hand_max = 1'000'000'000;
constexpr int64_t unit_price_max = 1'000'000'000'000;
constexpr int64_t delay_max_ms = 600'000;
constexpr int64_t rate_limit_max = 1'000'000;
constexpr int64_t page_limit_max = 1000;
constexpr int64_t page_limit_default = 100;
constexpr size_t lot_length_max = 64;
constexpr std::string_view cursor_prefix = "c1.";

outcome fail(int status, const std::string& code, const std::string& message,
             json extra = json::object()) {
  json err = {{"code", code}, {"message", message}};
  for (auto& [key, value] : extra.items())
    err[key] = value;
  return outcome{status, json{{"error", err}}};
}

outcome invalid(const std::string& field, const std::string& message) {
  return fail(400, "VALIDATION_FAILED", message, json{{"field", field}});
}

outcome unknown_sku(const std::string& sku) {
  return fail(404, "UNKNOWN_SKU", "no SKU " + sku);
}

outcome unknown_reservation(const std::string& id) {
  return fail(404, "UNKNOWN_RESERVATION", "no reservation " + id);
}

outcome invalid_state(const std::string& message) {
  return fail(409, "INVALID_STATE", message);
}

// An integer (not a float, not a string) that fits int64.
bool as_int(const json& v, int64_t& out) {
  if (!v.is_number_integer())
    return false;
  if (v.is_number_unsigned()) {
    auto u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      return false;
    out = static_cast<int64_t>(u);
    return true;
  }
  out = v.get<int64_t>();
  return true;
}

// Reads a JSON request body: an object with only the allowed fields, each of
// the expected type. The first problem is kept as a 400 answer.
class body_reader {
 public:
  body_reader(const std::string& text,
              std::initializer_list<const char*> allowed) {
    body_ = json::parse(text, nullptr, false);
    if (body_.is_discarded() || !body_.is_object()) {
      error_ = invalid("body", "the body must be a JSON object");
      return;
    }
    for (auto& [key, value] : body_.items()) {
      bool known = false;
      for (auto* name : allowed)
        known = known || key == name;
      if (!known) {
        error_ = invalid(key, "unknown field " + key);
        return;
      }
    }
  }

  bool has(const char* name) const {
    return !error_ && body_.contains(name) && !body_[name].is_null();
  }

  int64_t integer(const char* name, bool required) {
    int64_t out = 0;
    if (error_)
      return out;
    if (!has(name)) {
      if (required)
        error_ = invalid(name, std::string{name} + " is required");
      return out;
    }
    if (!as_int(body_[name], out))
      error_ = invalid(name, std::string{name} + " must be an integer");
    return out;
  }

  std::string text(const char* name, bool required) {
    if (error_)
      return {};
    if (!has(name)) {
      if (required)
        error_ = invalid(name, std::string{name} + " is required");
      return {};
    }
    if (!body_[name].is_string()) {
      error_ = invalid(name, std::string{name} + " must be a string");
      return {};
    }
    return body_[name].get<std::string>();
  }

  std::optional<double> fraction(const char* name) {
    if (error_ || !has(name))
      return std::nullopt;
    auto& v = body_[name];
    if (!v.is_number() || v.get<double>() < 0.0 || v.get<double>() > 1.0) {
      error_ = invalid(name, std::string{name} + " must be a number in 0..1");
      return std::nullopt;
    }
    return v.get<double>();
  }

  bool flag(const char* name) {
    if (error_ || !has(name))
      return false;
    if (!body_[name].is_boolean()) {
      error_ = invalid(name, std::string{name} + " must be true or false");
      return false;
    }
    return body_[name].get<bool>();
  }

  const std::optional<outcome>& error() const { return error_; }

 private:
  json body_;
  std::optional<outcome> error_;
};

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

// The contract's routes; rows of one pattern list its methods in the order
// a 405's Allow header names them.
struct route_row {
  const char* method;
  const char* pattern;
};

const route_row routes[] = {
    {"GET", "/healthz"},
    {"GET", "/inventory/{sku}"},
    {"POST", "/reservations"},
    {"GET", "/reservations/{id}"},
    {"DELETE", "/reservations/{id}"},
    {"POST", "/reservations/{id}/block"},
    {"POST", "/reservations/{id}/ship"},
    {"GET", "/events"},
    {"POST", "/admin/skus"},
    {"POST", "/admin/receipts"},
    {"POST", "/admin/adjustments"},
    {"POST", "/admin/batch"},
    {"GET", "/admin/faults"},
    {"POST", "/admin/faults"},
    {"GET", "/admin/state"},
};

bool is_public_path(const std::vector<std::string>& seg) {
  return !seg.empty() && (seg[0] == "inventory" || seg[0] == "reservations" ||
                          seg[0] == "events");
}

} // namespace

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

sim::sim(options opts, clock_fn now, std::function<double()> uniform)
    : opts_(std::move(opts)),
      now_(std::move(now)),
      uniform_(std::move(uniform)),
      rng_state_(opts_.seed) {
  if (opts_.batch_interval_ms > 0)
    next_batch_at_ = now_() + opts_.batch_interval_ms;
}

double sim::draw() {
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

json sim::sku_json(const sku_state& s) const {
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

json sim::reservation_json(const reservation& r) const {
  return json{{"id", r.id},
              {"sku", r.sku},
              {"quantity", r.quantity},
              {"status", to_string(r.status)},
              {"seq", r.seq}};
}

json sim::event_json(const stock_event& ev) const {
  return json{{"id", ev.id},   {"seq", ev.seq},           {"type", ev.type},
              {"sku", ev.sku}, {"quantity", ev.quantity}, {"lot", ev.lot},
              {"at", ev.at_ms}};
}

json sim::fault_json() const {
  auto& f = opts_.faults;
  return json{
      {"rateLimit", f.rate_limit},  {"failRate", f.fail_rate},
      {"latencyMs", f.latency_ms},  {"hangRate", f.hang_rate},
      {"hangForMs", f.hang_for_ms}, {"duplicateRate", f.duplicate_rate}};
}

outcome sim::capacity_exceeded(const std::string& what) const {
  return fail(507, "CAPACITY_EXCEEDED", "the simulator holds no more " + what);
}

const sku_state* sim::find_sku(const std::string& sku) const {
  auto i = skus_.find(sku);
  return i == skus_.end() ? nullptr : &i->second;
}

const reservation* sim::find_reservation(const std::string& id) const {
  auto i = reservations_.find(id);
  return i == reservations_.end() ? nullptr : &i->second;
}

// -- the WMS operations
// --------------------------------------------------------

outcome sim::inventory(const std::string& sku) const {
  if (!valid_id(sku))
    return invalid("sku", "a SKU is 1..128 characters of [A-Za-z0-9._:-]");
  auto i = snapshot_.find(sku);
  if (i == snapshot_.end())
    return unknown_sku(sku);
  return outcome{200, json{{"sku", sku},
                           {"orderable", i->second.orderable},
                           {"unitPrice", i->second.unit_price},
                           {"asOf", batch_at_ms_},
                           {"batch", batch_},
                           {"reflects", reflects_}}};
}

outcome sim::reserve(const std::string& id, const std::string& sku,
                     int64_t quantity) {
  if (!valid_id(id))
    return invalid("id", "an id is 1..128 characters of [A-Za-z0-9._:-]");
  if (!valid_id(sku))
    return invalid("sku", "a SKU is 1..128 characters of [A-Za-z0-9._:-]");
  if (quantity < 1 || quantity > quantity_max)
    return invalid("quantity",
                   "quantity must be in 1.." + std::to_string(quantity_max));
  if (auto i = reservations_.find(id); i != reservations_.end()) {
    auto& r = i->second;
    if (r.sku != sku || r.quantity != quantity)
      return fail(409, "IDEMPOTENCY_CONFLICT",
                  "reservation " + id + " exists with sku " + r.sku +
                      " and quantity " + std::to_string(r.quantity));
    return outcome{200, reservation_json(r)};
  }
  auto s = skus_.find(sku);
  if (s == skus_.end())
    return unknown_sku(sku);
  auto available = std::max<int64_t>(0, s->second.live_orderable());
  if (quantity > available)
    return fail(409, "INSUFFICIENT_STOCK",
                "only " + std::to_string(available) + " of " + sku +
                    " can be reserved",
                json{{"available", available}});
  if (reservations_.size() >= opts_.limits.reservations_max)
    return capacity_exceeded("reservations");
  s->second.reserved += quantity;
  auto& r = reservations_[id];
  r = reservation{id, sku, quantity, reservation_status::reserved, ++seq_};
  return outcome{201, reservation_json(r)};
}

const reservation* sim::find_reservation(const std::string& id,
                                         outcome& error) const {
  if (!valid_id(id)) {
    error = invalid("id", "an id is 1..128 characters of [A-Za-z0-9._:-]");
    return nullptr;
  }
  auto i = reservations_.find(id);
  if (i == reservations_.end()) {
    error = unknown_reservation(id);
    return nullptr;
  }
  return &i->second;
}

reservation* sim::find_reservation(const std::string& id, outcome& error) {
  return const_cast<reservation*>(
      std::as_const(*this).find_reservation(id, error));
}

outcome sim::reservation_state(const std::string& id) const {
  outcome error;
  auto* r = find_reservation(id, error);
  if (!r)
    return error;
  return outcome{200, reservation_json(*r)};
}

outcome sim::block(const std::string& id) {
  outcome error;
  auto* found = find_reservation(id, error);
  if (!found)
    return error;
  auto& r = *found;
  switch (r.status) {
    case reservation_status::blocked:
      break;
    case reservation_status::reserved: {
      auto& s = skus_.at(r.sku);
      s.reserved -= r.quantity;
      s.blocked += r.quantity;
      r.status = reservation_status::blocked;
      r.seq = ++seq_;
      break;
    }
    default:
      return invalid_state("reservation " + id + " is " + to_string(r.status) +
                           " and cannot be blocked");
  }
  return outcome{200, reservation_json(r)};
}

outcome sim::ship(const std::string& id) {
  outcome error;
  auto* found = find_reservation(id, error);
  if (!found)
    return error;
  auto& r = *found;
  switch (r.status) {
    case reservation_status::shipped:
      break;
    case reservation_status::blocked: {
      auto& s = skus_.at(r.sku);
      s.blocked -= r.quantity;
      s.on_hand -= r.quantity;
      s.shipped += r.quantity;
      r.status = reservation_status::shipped;
      r.seq = ++seq_;
      break;
    }
    default:
      return invalid_state("reservation " + id + " is " + to_string(r.status) +
                           "; only a BLOCKED reservation ships");
  }
  return outcome{200, reservation_json(r)};
}

outcome sim::release(const std::string& id) {
  outcome error;
  auto* found = find_reservation(id, error);
  if (!found)
    return error;
  auto& r = *found;
  switch (r.status) {
    case reservation_status::released:
      break;
    case reservation_status::reserved:
    case reservation_status::blocked: {
      auto& s = skus_.at(r.sku);
      if (r.status == reservation_status::reserved)
        s.reserved -= r.quantity;
      else
        s.blocked -= r.quantity;
      r.status = reservation_status::released;
      r.seq = ++seq_;
      break;
    }
    case reservation_status::shipped:
      return invalid_state("reservation " + id +
                           " is SHIPPED and cannot be released");
  }
  return outcome{200, reservation_json(r)};
}

outcome sim::events(const std::string& after, int64_t limit) {
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
  auto& f = opts_.faults;
  if (pos > 0 && f.duplicate_rate > 0 && draw() < f.duplicate_rate) {
    auto index = std::min(pos - 1, static_cast<size_t>(draw() * pos));
    page.push_back(event_json(events_[index]));
    ++stats_.duplicates;
  }
  auto end = std::min(events_.size(), pos + static_cast<size_t>(limit));
  for (auto i = pos; i < end; ++i)
    page.push_back(event_json(events_[i]));
  return outcome{200, json{{"events", page}, {"next", cursor_at(end)}}};
}

// -- admin -------------------------------------------------------------------

outcome sim::put_sku(const std::string& sku, int64_t on_hand,
                     int64_t unit_price, bool reflect_now) {
  if (!valid_id(sku))
    return invalid("sku", "a SKU is 1..128 characters of [A-Za-z0-9._:-]");
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
    if (skus_.size() >= opts_.limits.skus_max)
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

void sim::append_event(const std::string& type, const std::string& sku,
                       int64_t quantity, const std::string& lot) {
  char id[32];
  std::snprintf(id, sizeof(id), "EV-%06zu", events_.size() + 1);
  events_.push_back(stock_event{id, seq_, type, sku, quantity, lot, now_()});
}

outcome sim::receive(const std::string& sku, int64_t quantity,
                     const std::string& lot) {
  if (!valid_id(sku))
    return invalid("sku", "a SKU is 1..128 characters of [A-Za-z0-9._:-]");
  if (quantity < 1 || quantity > quantity_max)
    return invalid("quantity",
                   "quantity must be in 1.." + std::to_string(quantity_max));
  if (!lot.empty() && (lot.size() > lot_length_max || !valid_id(lot)))
    return invalid("lot", "a lot is 1..64 characters of [A-Za-z0-9._:-]");
  auto i = skus_.find(sku);
  if (i == skus_.end())
    return unknown_sku(sku);
  if (events_.size() >= opts_.limits.events_max)
    return capacity_exceeded("events");
  auto& s = i->second;
  if (s.on_hand + quantity > on_hand_max)
    return invalid("quantity",
                   "onHand would pass " + std::to_string(on_hand_max));
  s.on_hand += quantity;
  ++seq_;
  append_event("RECEIPT", sku, quantity, lot);
  auto body = sku_json(s);
  body["seq"] = seq_;
  body["event"] = event_json(events_.back());
  return outcome{200, body};
}

outcome sim::adjust(const std::string& sku, int64_t quantity,
                    const std::string& reason, const std::string& lot) {
  if (!valid_id(sku))
    return invalid("sku", "a SKU is 1..128 characters of [A-Za-z0-9._:-]");
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
    return invalid("quantity",
                   "quantity must be in 1.." + std::to_string(quantity_max));
  }
  if (!lot.empty() && (lot.size() > lot_length_max || !valid_id(lot)))
    return invalid("lot", "a lot is 1..64 characters of [A-Za-z0-9._:-]");
  auto i = skus_.find(sku);
  if (i == skus_.end())
    return unknown_sku(sku);
  if (events_.size() >= opts_.limits.events_max)
    return capacity_exceeded("events");
  auto& s = i->second;
  std::string type;
  int64_t change = 0;
  if (correction) {
    if (s.on_hand + quantity < s.reserved + s.blocked)
      return invalid_state(
          "a correction of " + std::to_string(quantity) + " would leave " +
          sku + " with fewer units on hand than reserved and blocked");
    if (s.on_hand + quantity > on_hand_max)
      return invalid("quantity",
                     "onHand would pass " + std::to_string(on_hand_max));
    s.on_hand += quantity;
    type = "ADJUSTMENT";
    change = quantity;
  } else if (reason == "QUARANTINE_RELEASE") {
    if (s.unallocatable - quantity < 0)
      return invalid_state("only " + std::to_string(s.unallocatable) +
                           " units of " + sku + " are unallocatable");
    s.unallocatable -= quantity;
    type = reason;
    change = quantity;
  } else {
    if (s.unallocatable + quantity > s.on_hand)
      return invalid_state("only " + std::to_string(s.on_hand) + " units of " +
                           sku + " are on hand");
    s.unallocatable += quantity;
    type = reason;
    change = -quantity;
  }
  ++seq_;
  append_event(type, sku, change, lot);
  auto body = sku_json(s);
  body["seq"] = seq_;
  body["event"] = event_json(events_.back());
  return outcome{200, body};
}

outcome sim::load_seed(const json& seed) {
  if (!seed.is_object() || !seed.contains("skus") || !seed["skus"].is_array())
    return invalid("skus", "a seed is {\"skus\":[{\"sku\",\"onHand\","
                           "\"unitPrice\"}]}");
  // Checked whole before anything changes: a bad seed loads nothing.
  std::vector<std::tuple<std::string, int64_t, int64_t>> rows;
  std::map<std::string, bool> seen;
  size_t n = 0;
  for (auto& entry : seed["skus"]) {
    auto where = "skus[" + std::to_string(n++) + "]";
    body_reader r{entry.dump(), {"sku", "onHand", "unitPrice"}};
    auto sku = r.text("sku", true);
    auto on_hand = r.integer("onHand", true);
    auto price = r.integer("unitPrice", true);
    if (r.error()) {
      auto err = *r.error();
      err.body["error"]["message"] =
          where + ": " + err.body["error"]["message"].get<std::string>();
      return err;
    }
    if (!valid_id(sku) || on_hand < 0 || on_hand > on_hand_max || price < 0 ||
        price > unit_price_max)
      return invalid(where, where +
                                ": sku must be 1..128 characters of "
                                "[A-Za-z0-9._:-], onHand in 0.." +
                                std::to_string(on_hand_max) +
                                ", unitPrice in 0.." +
                                std::to_string(unit_price_max));
    if (seen[sku])
      return invalid(where, where + ": SKU " + sku + " appears twice");
    seen[sku] = true;
    rows.emplace_back(sku, on_hand, price);
  }
  if (skus_.size() + rows.size() > opts_.limits.skus_max)
    return capacity_exceeded("SKUs");
  for (auto& [sku, on_hand, price] : rows) {
    auto res = put_sku(sku, on_hand, price, false);
    if (!res.ok())
      return res;
  }
  auto b = run_batch("seed");
  return outcome{200, json{{"skus", rows.size()},
                           {"batch", b.batch},
                           {"asOf", b.as_of_ms},
                           {"reflects", b.reflects}}};
}

json sim::state() const {
  json skus = json::array();
  for (auto& [name, s] : skus_)
    skus.push_back(sku_json(s));
  json counts = {
      {"RESERVED", 0}, {"BLOCKED", 0}, {"SHIPPED", 0}, {"RELEASED", 0}};
  for (auto& [id, r] : reservations_)
    counts[to_string(r.status)] =
        counts[to_string(r.status)].get<int64_t>() + 1;
  json by_route = json::object();
  for (auto& [route, n] : stats_.by_route)
    by_route[route] = n;
  json j = {{"batch", batch_},
            {"lastBatchAt", nullptr},
            {"reflects", reflects_},
            {"seq", seq_},
            {"skus", skus},
            {"reservations", counts},
            {"events", events_.size()},
            {"requests",
             {{"total", stats_.total},
              {"rateLimited", stats_.rate_limited},
              {"faults", stats_.faults},
              {"hangs", stats_.hangs},
              {"duplicates", stats_.duplicates},
              {"byRoute", by_route}}},
            {"maxRequestsInAnySecond", max_in_second_},
            {"faults", fault_json()},
            {"nextBatchAt", nullptr}};
  if (batch_ > 0)
    j["lastBatchAt"] = batch_at_ms_;
  if (next_batch_at_)
    j["nextBatchAt"] = *next_batch_at_;
  return j;
}

// -- the batch job
// -------------------------------------------------------------

batch_result sim::run_batch(const std::string& trigger) {
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

std::optional<int64_t> sim::next_batch_at() const {
  return next_batch_at_;
}

std::optional<batch_result> sim::run_due_batch() {
  if (!next_batch_at_)
    return std::nullopt;
  auto now = now_();
  if (now < *next_batch_at_)
    return std::nullopt;
  auto interval = opts_.batch_interval_ms;
  auto missed = (now - *next_batch_at_) / interval;
  *next_batch_at_ += (missed + 1) * interval;
  return run_batch("timer");
}

// -- HTTP --------------------------------------------------------------------

bool sim::arrive(int64_t now, int64_t& retry_after_ms) {
  // The sliding window behind maxRequestsInAnySecond: arrivals less than
  // 1000 ms apart from this one.
  arrivals_.push_back(now);
  while (!arrivals_.empty() && arrivals_.front() <= now - 1000)
    arrivals_.pop_front();
  max_in_second_ =
      std::max(max_in_second_, static_cast<int64_t>(arrivals_.size()));
  // The limiter counts per wall-clock second (now / 1000).
  auto window = now >= 0 ? now / 1000 : (now - 999) / 1000;
  if (window != window_) {
    window_ = window;
    window_count_ = 0;
  }
  ++window_count_;
  auto limit = opts_.faults.rate_limit;
  if (limit <= 0 || window_count_ <= limit)
    return false;
  retry_after_ms = (window + 1) * 1000 - now;
  return true;
}

response sim::handle(const request& req) {
  std::vector<std::string> seg;
  bool decoded = !req.path.empty() && req.path[0] == '/';
  if (decoded)
    for (auto& part : http::split_path(req.path)) {
      auto x = http::percent_decode(part, http::percent_mode::strict);
      decoded = decoded && x;
      seg.push_back(x.value_or(""));
    }
  response resp;
  if (decoded && is_public_path(seg)) {
    resp.is_public = true;
    auto now = now_();
    ++stats_.total;
    auto m = http::match_route(routes, req.method, seg);
    resp.route = m.path_found() ? req.method + " " + m.pattern : "(no route)";
    ++stats_.by_route[resp.route];
    auto& f = opts_.faults;
    resp.delay_ms = f.latency_ms;
    int64_t retry_after_ms = 0;
    if (arrive(now, retry_after_ms)) {
      ++stats_.rate_limited;
      auto secs = std::max<int64_t>(1, (retry_after_ms + 999) / 1000);
      auto o = fail(429, "RATE_LIMITED",
                    "more than " + std::to_string(f.rate_limit) +
                        " requests in this second",
                    json{{"retryAfterMs", retry_after_ms}});
      resp.status = o.status;
      resp.body = std::move(o.body);
      resp.headers.emplace_back("Retry-After", std::to_string(secs));
      return resp;
    }
    if (f.fail_rate > 0 && draw() < f.fail_rate) {
      ++stats_.faults;
      auto o = fail(503, "INJECTED_FAULT", "injected fault: try again");
      resp.status = o.status;
      resp.body = std::move(o.body);
      return resp;
    }
    if (f.hang_rate > 0 && draw() < f.hang_rate) {
      ++stats_.hangs;
      resp.delay_ms += f.hang_for_ms;
    }
  }
  response routed;
  if (decoded) {
    routed = route(req, seg);
  } else {
    auto o = fail(404, "NOT_FOUND", "no route " + req.path);
    routed.status = o.status;
    routed.body = std::move(o.body);
  }
  resp.status = routed.status;
  resp.body = std::move(routed.body);
  resp.headers.insert(resp.headers.end(), routed.headers.begin(),
                      routed.headers.end());
  if (!resp.is_public)
    resp.route = routed.route;
  return resp;
}

response sim::route(const request& req, const std::vector<std::string>& seg) {
  response resp;
  auto answer = [&resp](outcome o) {
    resp.status = o.status;
    resp.body = std::move(o.body);
    return resp;
  };
  auto m = http::match_route(routes, req.method, seg);
  if (!m.path_found())
    return answer(fail(404, "NOT_FOUND", "no route " + req.path));
  resp.route = req.method + " " + m.pattern;
  if (!m.found()) {
    resp.headers.emplace_back("Allow", m.allow);
    return answer(fail(405, "METHOD_NOT_ALLOWED",
                       req.method + " is not allowed on " + m.pattern +
                           " (allowed: " + m.allow + ")"));
  }
  auto& p = m.pattern;
  auto& method = req.method;
  if (p == "/healthz")
    return answer(outcome{200, json{{"status", "ok"}}});
  if (p == "/inventory/{sku}")
    return answer(inventory(m.params[0]));
  if (p == "/reservations") {
    body_reader r{req.body, {"id", "sku", "quantity"}};
    auto id = r.text("id", true);
    auto sku = r.text("sku", true);
    auto qty = r.integer("quantity", true);
    if (r.error())
      return answer(*r.error());
    return answer(reserve(id, sku, qty));
  }
  if (p == "/reservations/{id}")
    return answer(method == "GET" ? reservation_state(m.params[0])
                                  : release(m.params[0]));
  if (p == "/reservations/{id}/block")
    return answer(block(m.params[0]));
  if (p == "/reservations/{id}/ship")
    return answer(ship(m.params[0]));
  if (p == "/events") {
    std::string after;
    int64_t limit = page_limit_default;
    std::map<std::string, bool> seen;
    for (auto& param :
         http::split_query(req.query, http::percent_mode::strict)) {
      if (!param)
        return answer(invalid("query", "malformed query string"));
      auto& [key, value] = *param;
      if (key != "after" && key != "limit")
        return answer(invalid(key, "unknown query parameter " + key));
      if (seen[key])
        return answer(invalid(key, key + " is given twice"));
      seen[key] = true;
      if (key == "after") {
        if (value.empty())
          return answer(invalid("after", "after is empty"));
        after = value;
      } else {
        if (!all_digits(value) || value.size() > 7)
          return answer(invalid("limit", "limit must be in 1.." +
                                             std::to_string(page_limit_max)));
        limit = std::stoll(value);
      }
    }
    return answer(events(after, limit));
  }
  if (p == "/admin/skus") {
    body_reader r{req.body, {"sku", "onHand", "unitPrice", "reflectNow"}};
    auto sku = r.text("sku", true);
    auto on_hand = r.integer("onHand", true);
    auto price = r.integer("unitPrice", true);
    auto reflect = r.flag("reflectNow");
    if (r.error())
      return answer(*r.error());
    return answer(put_sku(sku, on_hand, price, reflect));
  }
  if (p == "/admin/receipts") {
    body_reader r{req.body, {"sku", "quantity", "lot"}};
    auto sku = r.text("sku", true);
    auto qty = r.integer("quantity", true);
    auto lot = r.text("lot", false);
    if (r.error())
      return answer(*r.error());
    if (r.has("lot") && lot.empty())
      return answer(invalid("lot", "lot is empty"));
    return answer(receive(sku, qty, lot));
  }
  if (p == "/admin/adjustments") {
    body_reader r{req.body, {"sku", "quantity", "reason", "lot"}};
    auto sku = r.text("sku", true);
    auto qty = r.integer("quantity", true);
    auto reason = r.text("reason", true);
    auto lot = r.text("lot", false);
    if (r.error())
      return answer(*r.error());
    if (r.has("lot") && lot.empty())
      return answer(invalid("lot", "lot is empty"));
    return answer(adjust(sku, qty, reason, lot));
  }
  if (p == "/admin/batch") {
    auto b = run_batch();
    return answer(outcome{200, json{{"batch", b.batch},
                                    {"asOf", b.as_of_ms},
                                    {"reflects", b.reflects},
                                    {"skus", b.skus},
                                    {"changes", b.changes},
                                    {"events", b.events}}});
  }
  if (p == "/admin/faults") {
    if (method == "GET")
      return answer(outcome{200, fault_json()});
    return answer(admin_faults(json::parse(req.body, nullptr, false)));
  }
  // "/admin/state"
  return answer(outcome{200, state()});
}

outcome sim::admin_faults(const json& body) {
  if (body.is_discarded() || !body.is_object())
    return invalid("body", "the body must be a JSON object");
  body_reader r{body.dump(),
                {"failRate", "latencyMs", "hangRate", "hangForMs",
                 "duplicateRate", "rateLimit"}};
  auto next = opts_.faults;
  if (auto x = r.fraction("failRate"))
    next.fail_rate = *x;
  if (auto x = r.fraction("hangRate"))
    next.hang_rate = *x;
  if (auto x = r.fraction("duplicateRate"))
    next.duplicate_rate = *x;
  struct bounded {
    const char* name;
    int64_t& target;
    int64_t max;
  };
  for (auto b : {bounded{"latencyMs", next.latency_ms, delay_max_ms},
                 bounded{"hangForMs", next.hang_for_ms, delay_max_ms},
                 bounded{"rateLimit", next.rate_limit, rate_limit_max}}) {
    if (!r.has(b.name))
      continue;
    auto x = r.integer(b.name, false);
    if (r.error())
      break;
    if (x < 0 || x > b.max)
      return invalid(b.name, std::string{b.name} + " must be in 0.." +
                                 std::to_string(b.max));
    b.target = x;
  }
  if (r.error())
    return *r.error();
  opts_.faults = next;
  return outcome{200, fault_json()};
}

} // namespace oms::wms_sim
