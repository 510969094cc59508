// The order state machine as pure functions: no actors, no clock, no I/O.
//
// clang-format off
//                confirm               pay             ship
//    CREATED ------------> CONFIRMED --------> PAID ------------> SHIPPED
//      |  \                    |               ^  |  |                ^  |
//      |   \___________________|_____pay_______/  |  | ship_part      |  | deliver
//      |                       |                  |  v                |  v
//      |                       |                  |  PARTIALLY_SHIPPED   DELIVERED
//      |                       |                  |   ship_part: stays;
//      | cancel, expire        | cancel           |   ship, cancel: SHIPPED
//      v                       v                  v cancel
//    CANCELLED <---------------+------------------+
// clang-format on
//
// Stock follows the state: CREATED holds reserved units; CONFIRMED, PAID
// and PARTIALLY_SHIPPED hold blocked units (the last only those not shipped
// yet); SHIPPED has consumed them; CANCELLED released them. A shipment of
// some lines (ship_part) consumes those units from the order's own block;
// cancelling a PARTIALLY_SHIPPED order releases what has not shipped and
// leaves it SHIPPED.
// DELIVERED and CANCELLED are terminal. The first seed's CONFIRM is `confirm`,
// its FULFILLED is DELIVERED, reached only through CONFIRMED/PAID and SHIPPED.
#pragma once

#include <optional>

#include "actors/validation.hpp"
#include "messages/domain.hpp"
#include "messages/errors.hpp"

namespace oms {

/// The transition table: the state `cmd` leads to from `from`, or nothing if
/// the table has no such transition.
std::optional<order_status> next_status(order_status from, command_kind cmd);

/// Whether `cmd` may be applied to `order` now: errc::none, or
/// INVALID_TRANSITION, or ORDER_EXPIRED for confirming or paying an order
/// that its hold's expiry cancelled.
errc check_command(const order_record& order, command_kind cmd);

/// Why `cmd` is refused on `order`: ORDER_EXPIRED for confirming or paying
/// an order that its hold's expiry cancelled, INVALID_TRANSITION otherwise
/// (also when the table would allow it: for an order known to take no more
/// commands). Details name the order's status and the command.
problem transition_error(const order_record& order, command_kind cmd);

/// transition_error if the table refuses `cmd` on `order`, else nothing.
std::optional<problem> check_transition(const order_record& order,
                                        command_kind cmd);

/// Whether `to` is `from` or can follow it through legal transitions.
bool can_reach(order_status from, order_status to);

/// How an order in `status` holds its units, if it holds any.
std::optional<hold_kind> held_as(order_status status);

/// The reason recorded when a CREATED order's hold expires.
inline constexpr const char* expired_reason = "EXPIRED";

} // namespace oms
