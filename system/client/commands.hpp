// omsctl's command groups: one function per resource adds its subcommands.
#pragma once

#include <CLI/CLI.hpp>

#include "system/client/cli_common.hpp"

namespace oms::cli {

// Each add_* adds its commands to `app`, bound to the fields of `a`; the
// command the command line selects stores what it does in `run`.

/// `inventory`: receive, change, show, list and price (cmd_inventory.cpp).
void add_inventory(CLI::App& app, args& a, action& run);

/// `customer`: create and show (cmd_customer.cpp).
void add_customer(CLI::App& app, args& a, action& run);

/// `cart`: show, set, add, remove and checkout (cmd_cart.cpp).
void add_cart(CLI::App& app, args& a, action& run);

/// `order`: create, show, list, confirm, ship, deliver, pay, cancel and
/// set-status (cmd_order.cpp).
void add_order(CLI::App& app, args& a, action& run);

/// `audit`, `health`, `metrics` and `cluster` (cmd_operations.cpp).
void add_operations(CLI::App& app, action& run);

/// `events tail` (cmd_events.cpp).
void add_events(CLI::App& app, args& a, action& run);

/// `webhook add|list|show|rm|pause|resume|rotate|deliveries|retry`
/// (cmd_webhook.cpp).
void add_webhook(CLI::App& app, args& a, action& run);

/// `wms status` (cmd_operations.cpp).
void add_wms(CLI::App& app, args& a, action& run);

/// Prints an order: its head, lines, history and payments (cmd_order.cpp;
/// `cart checkout` answers an order too).
void print_order(const json& o);

} // namespace oms::cli
