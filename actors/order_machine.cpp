#include "actors/order_machine.hpp"

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace oms {

std::optional<order_status> next_status(order_status from, command_kind cmd) {
  using s = order_status;
  using c = command_kind;
  switch (from) {
    case s::created:
      switch (cmd) {
        case c::confirm:
          return s::confirmed;
        case c::pay:
          return s::paid;
        case c::cancel:
        case c::expire:
          return s::cancelled;
        default:
          return std::nullopt;
      }
    case s::confirmed:
      switch (cmd) {
        case c::pay:
          return s::paid;
        case c::cancel:
          return s::cancelled;
        default:
          return std::nullopt;
      }
    case s::paid:
      switch (cmd) {
        case c::ship:
          return s::shipped;
        case c::ship_part:
          return s::partially_shipped;
        case c::cancel:
          return s::cancelled;
        default:
          return std::nullopt;
      }
    case s::partially_shipped:
      switch (cmd) {
        case c::ship:
          return s::shipped;
        case c::ship_part:
          return s::partially_shipped;
        case c::cancel:
          // What shipped stays shipped: cancelling the rest ships the order.
          return s::shipped;
        default:
          return std::nullopt;
      }
    case s::shipped:
      if (cmd == c::deliver)
        return s::delivered;
      return std::nullopt;
    case s::delivered:
    case s::cancelled:
      return std::nullopt;
  }
  return std::nullopt;
}

errc check_command(const order_record& order, command_kind cmd) {
  if (next_status(order.status, cmd))
    return errc::none;
  if (order.status == order_status::cancelled &&
      order.cancel_reason == expired_reason &&
      (cmd == command_kind::confirm || cmd == command_kind::pay))
    return errc::order_expired;
  return errc::invalid_transition;
}

problem transition_error(const order_record& order, command_kind cmd) {
  nlohmann::json details{{"status", to_string(order.status)},
                         {"command", to_string(cmd)}};
  if (check_command(order, cmd) == errc::order_expired)
    return problem{errc::order_expired,
                   "the order's hold expired and it was cancelled",
                   details.dump()};
  return problem{errc::invalid_transition,
                 std::string{"cannot "} + to_string(cmd) +
                     " an order in state " + to_string(order.status),
                 details.dump()};
}

std::optional<problem> check_transition(const order_record& order,
                                        command_kind cmd) {
  if (check_command(order, cmd) == errc::none)
    return std::nullopt;
  return transition_error(order, cmd);
}

bool can_reach(order_status from, order_status to) {
  // A walk of the table from `from` (some states lead to themselves).
  constexpr auto n = static_cast<size_t>(last_order_status) + 1;
  bool seen[n] = {};
  std::vector<order_status> todo{from};
  seen[static_cast<size_t>(from)] = true;
  while (!todo.empty()) {
    auto at = todo.back();
    todo.pop_back();
    if (at == to)
      return true;
    for (auto cmd :
         {command_kind::confirm, command_kind::pay, command_kind::ship,
          command_kind::ship_part, command_kind::deliver, command_kind::cancel})
      if (auto next = next_status(at, cmd);
          next && !seen[static_cast<size_t>(*next)]) {
        seen[static_cast<size_t>(*next)] = true;
        todo.push_back(*next);
      }
  }
  return false;
}

std::optional<hold_kind> held_as(order_status status) {
  switch (status) {
    case order_status::created:
      return hold_kind::reserved;
    case order_status::confirmed:
    case order_status::paid:
    case order_status::partially_shipped:
      return hold_kind::blocked;
    default:
      return std::nullopt;
  }
}

} // namespace oms
