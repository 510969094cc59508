// What the CUSTOMER actor's behaviour (customer.cpp) and its cart
// (customer_cart.cpp) share; used by nothing else.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "actors/customer.hpp"

namespace oms::customer_steps {

using customer_ptr = customer_actor::stateful_pointer<customer_state>;
using cart_promise = caf::typed_response_promise<cart_view>;

// -- customer.cpp -------------------------------------------------------------

/// Wall-clock milliseconds now, as the actors see it.
timestamp_ms now(customer_ptr self);

/// VALIDATION_FAILED with `message`, naming `field` in the details (none
/// for an empty `field`).
caf::error invalid(std::string_view field, std::string message);

/// A cart's SKU or checkout asked of another node of a cluster and refused
/// NOT_OWNER (the shard moving, or no route to its owner yet): UNAVAILABLE,
/// to be asked again, since a NOT_OWNER would send the cart's request to
/// the SKU's owner, which does not keep this cart. Other errors as they are.
caf::error moving_is_unavailable(caf::error err);

// -- customer_cart.cpp --------------------------------------------------------

/// " of the EXTERNAL seller" for the EXTERNAL seller, "" for ours: how a
/// refusal names a cart line.
inline std::string of_seller(seller from) {
  return from == seller::external ? " of the EXTERNAL seller" : "";
}

/// The cart's line of `sku` of seller `from`, or the cart's end.
cart_lines::iterator find_line(cart_lines& cart, seller from,
                               const sku_id& sku);

/// Prices every line now and delivers the view (a line whose SKU actor does
/// not answer is priced 0). Errors: VALIDATION_FAILED (field items) if the
/// totals would not fit in `money` (only if prices or quantities passed the
/// limits, which check_money_bounds keeps in range).
void deliver_view(customer_ptr self, cart_promise rp);

/// Sets the cart's quantity of `sku` of seller `from` to `quantity` (or adds `quantity` to it)
/// once the SKU's available stock covers the result and the cart's total
/// still fits in `money`, and replies the view. Errors: VALIDATION_FAILED
/// (field quantity when the total would not fit), UNKNOWN_SKU,
/// INSUFFICIENT_STOCK, and the SKU actor's (WMS_UNAVAILABLE for the EXTERNAL
/// seller).
caf::result<cart_view> change_line(customer_ptr self, const sku_id& sku,
                                   seller from, int64_t quantity, bool add);

/// Removes the line of (`sku`, `from`) and replies the view. Errors:
/// VALIDATION_FAILED (not in the cart).
caf::result<cart_view> remove_line(customer_ptr self, const sku_id& sku,
                                   seller from);

/// Units taken out of the cart for a checkout in flight, with where each
/// line stood, so that a failed checkout puts them back where they were.
struct taken_line {
  size_t position;
  seller from;
  sku_id sku;
  int64_t quantity;
};

/// Takes the units of `items` out of `cart` (lines left empty go).
std::vector<taken_line> take_from_cart(cart_lines& cart,
                                       const std::vector<order_item>& items);

/// Puts `taken` back where it stood (added to a line the customer has added
/// again meanwhile).
void put_back_in_cart(cart_lines& cart, const std::vector<taken_line>& taken);

} // namespace oms::customer_steps
