// The one error enum of the order system. Every operating error an actor can
// reply is a caf::error in category "oms" with one of these codes; each code
// has a stable upper-case string that clients see (errorCode).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <caf/error.hpp>
#include <caf/make_message.hpp>

namespace oms {

/// Operating errors. Values are stable: they are stored and sent across
/// process boundaries. Append new codes at the end.
enum class errc : uint8_t {
  /// Not an error.
  none = 0,
  /// Bad input; the message names the field. Nothing was changed.
  validation_failed = 1,
  /// No such SKU for that seller.
  unknown_sku = 2,
  /// A SKU cannot cover the requested quantity; details list the short SKUs
  /// with what was available.
  insufficient_stock = 3,
  /// Lines of one order name different sellers.
  mixed_sellers = 4,
  /// addItemToInventory for the EXTERNAL seller: we do not manage its stock.
  external_inventory_read_only = 5,
  /// No such order.
  order_not_found = 6,
  /// The order's state machine has no such transition from its state.
  invalid_transition = 7,
  /// The order was cancelled because its hold expired before confirmation.
  order_expired = 8,
  /// The external seller's warehouse cannot be reached now.
  wms_unavailable = 9,
  /// The journal could not make the change durable; nothing was changed.
  store_failure = 10,
  /// A bug or an actor that died; the change was not applied.
  internal = 11,
  /// The system is overloaded or shutting down; retry later.
  unavailable = 12,
  /// A payment's amount differs from what the order is due.
  amount_mismatch = 13,
  /// Checkout of an empty cart (or of no line of it).
  cart_empty = 14,
  /// The payment gateway refused the charge; details carry its reason. The
  /// order stays as it was and can be paid again.
  payment_declined = 15,
  /// The payment gateway did not answer; no charge is left unknown to the
  /// order: a retry recovers the outcome first.
  payment_unavailable = 16,
  /// An idempotency key was used before with a different request.
  idempotency_key_reused = 17,
  /// HTTP API: no or an unknown bearer token.
  unauthorized = 18,
  /// HTTP API: the token may not do this (e.g. a customer token on an admin
  /// route).
  forbidden = 19,
  /// HTTP API: no such route, customer or resource.
  not_found = 20,
  /// HTTP API: the request body is larger than the limit.
  payload_too_large = 21,
  /// HTTP API: the token sent more requests than its rate allows; retry after
  /// the time the Retry-After header gives.
  rate_limited = 22,
  /// HTTP API: the daemon is starting or stopping.
  not_ready = 23,
  /// HTTP API: the route exists but not with this method (see Allow).
  method_not_allowed = 24,
  /// HTTP API: If-Match names a version the resource is no longer at;
  /// nothing was changed (details.version: the one it is at).
  precondition_failed = 25,
  /// HTTP API: the change cannot be made in the resource's present state
  /// (another change to it is being saved, or a limit on how many exist is
  /// reached); nothing was changed.
  conflict = 26,
  /// The change feed: the cursor is older than the events kept (see
  /// --event-retention); details.first is the oldest event kept.
  events_expired = 27,
  /// A return asked for after the order's return window (details:
  /// deliveredAt, closedAt).
  return_window_closed = 28,
  /// A cluster node (docs/cluster.md): the SKU's shard (or the order's) is
  /// not served by this node now: another node owns it, or this node is
  /// still loading it. Nothing was changed; ask the owner (details: shard,
  /// and the owner and its HTTP address when known), or ask again.
  not_owner = 29,
};

/// The stable client-facing string of a code: "VALIDATION_FAILED", ...
const char* to_code(errc x);

/// Parses a code string back; returns false if unknown.
bool parse_code(std::string_view str, errc& out);

/// Builds an error with a human-readable message and optional details (a JSON
/// object in text form, e.g. the short SKUs of an order).
caf::error make_error(errc code, std::string message,
                      std::string details_json = "{}");

/// The details that name the field to blame for a VALIDATION_FAILED, as
/// make_error takes them: {"field":FIELD} ("{}" for an empty `field`). The
/// HTTP API answers them as error.details.field.
std::string field_details(std::string_view field);

/// PRECONDITION_FAILED if `if_version` is set (not 0) and is not `version`,
/// the version `what` ("order ord_1", "SKU A-1") is at now (details: that
/// version); no error otherwise.
caf::error version_mismatch(std::string_view what, uint64_t version,
                            uint64_t if_version);

/// The code of `err` if it is one of ours, errc::internal for any other
/// non-empty error (e.g. a CAF system error), errc::none for no error.
errc code_of(const caf::error& err);

/// The message given to make_error, or CAF's rendering for foreign errors.
std::string message_of(const caf::error& err);

/// The details given to make_error ("{}" if none).
std::string details_of(const caf::error& err);

/// "CODE: message" for logs and test failures.
std::string describe(const caf::error& err);

/// Renders our errors for caf::actor_system_config::add_error_category.
std::string render_error(uint8_t code, caf::atom_value category,
                         const caf::message& context);

} // namespace oms

CAF_ERROR_CODE_ENUM(oms::errc, "oms")
