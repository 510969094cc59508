// The WMS GATEWAY's policy as pure functions, without the actor: which call
// goes first, which reads are one call, what a call lacks, the backoff, and
// the sliding 1-second send window.
#include "actors/wms_gateway.hpp"

#include <algorithm>

namespace oms {

uint8_t wms_priority(wms_op op) {
  switch (op) {
    case wms_op::release:
    case wms_op::reduce:
    case wms_op::block:
    case wms_op::ship:
      return 0;
    case wms_op::reserve:
    case wms_op::return_receive:
    case wms_op::return_restock:
    case wms_op::return_damaged:
      return 1;
    default:
      return 2;
  }
}

std::string wms_coalesce_key(const wms_call& x) {
  switch (x.op) {
    case wms_op::read_inventory:
      return "inv/" + x.sku;
    case wms_op::read_events:
      return "ev/" + std::to_string(x.limit) + "/" + x.cursor;
    default:
      return {};
  }
}

std::string wms_call_problem(const wms_call& x) {
  switch (x.op) {
    case wms_op::read_inventory:
      return x.sku.empty() ? "read_inventory needs a sku" : "";
    case wms_op::reserve:
      if (x.reservation.empty())
        return "reserve needs a reservation id";
      if (x.sku.empty())
        return "reserve needs a sku";
      return x.quantity > 0 ? "" : "reserve needs a positive quantity";
    case wms_op::block:
    case wms_op::ship:
    case wms_op::release:
      return x.reservation.empty()
                 ? std::string{to_string(x.op)} + " needs a reservation id"
                 : "";
    case wms_op::reduce:
      if (x.reservation.empty())
        return "reduce needs a reservation id";
      return x.quantity > 0 ? "" : "reduce needs a positive quantity";
    case wms_op::return_receive:
      if (x.return_id.empty() || x.reservation.empty())
        return "return_receive needs a return id and a reservation id";
      return x.quantity > 0 ? "" : "return_receive needs a positive quantity";
    case wms_op::return_restock:
    case wms_op::return_damaged:
      if (x.return_id.empty())
        return std::string{to_string(x.op)} + " needs a return id";
      return x.quantity >= 0
                 ? ""
                 : std::string{to_string(x.op)} + " needs a quantity >= 0";
    case wms_op::read_events:
      return x.limit > 0 ? "" : "read_events needs a positive limit";
    default:
      return "unknown operation";
  }
}

std::chrono::milliseconds wms_backoff_cap(const wms_gateway_config& cfg,
                                          uint32_t failures) {
  auto cap = cfg.backoff_max.count();
  auto x = std::max<int64_t>(cfg.backoff_base.count(), 0);
  // Doubles failures-1 times; stops at the cap (no overflow).
  for (uint32_t i = 1; i < failures && x < cap; ++i)
    x *= 2;
  return std::chrono::milliseconds{std::min(x, cap)};
}

std::chrono::milliseconds wms_backoff(const wms_gateway_config& cfg,
                                      uint32_t failures, std::mt19937_64& rng) {
  auto cap = static_cast<uint64_t>(wms_backoff_cap(cfg, failures).count());
  return std::chrono::milliseconds{static_cast<int64_t>(rng() % (cap + 1))};
}

wms_send_window::wms_send_window(uint32_t per_second)
    : per_second_(std::max<uint32_t>(per_second, 1)) {}

bool wms_send_window::allows(time_point now) const {
  return in_last_second(now) < per_second_;
}

wms_send_window::time_point wms_send_window::next_free(time_point now) const {
  if (allows(now))
    return now;
  // The per_second-th previous send leaves the window 1 s after it was made.
  return recent_[recent_.size() - per_second_] + std::chrono::seconds(1);
}

void wms_send_window::record(time_point now) {
  recent_.push_back(now);
  while (recent_.size() > size_t{per_second_} + 1)
    recent_.pop_front();
}

size_t wms_send_window::in_last_second(time_point now) const {
  auto since = now - std::chrono::seconds(1);
  return static_cast<size_t>(
      std::count_if(recent_.begin(), recent_.end(),
                    [since](time_point t) { return t > since; }));
}

} // namespace oms
