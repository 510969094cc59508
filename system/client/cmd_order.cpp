// omsctl order: place, show, list and move orders through their lifecycle.
#include <cctype>
#include <cstdint>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include "system/client/commands.hpp"

namespace oms::cli {

namespace {

// -- rendering ----------------------------------------------------------------

std::string address_line(const json& a) {
  if (!a.is_object())
    return "-";
  std::string out = text(a, "line1");
  if (a.contains("line2"))
    out += ", " + text(a, "line2");
  out += ", " + text(a, "city") + " " + text(a, "postalCode") + ", " +
         text(a, "country");
  return out;
}

// The key-value block at the top of an order.
void print_order_head(const json& o) {
  block head{{"id", text(o, "id")},
             {"status", text(o, "status")},
             {"customer", text(o, "customerId")},
             {"seller", text(o, "seller")},
             {"total", money(o, "totalAmount")},
             {"paid", money(o, "paidAmount")},
             {"refunded", money(o, "refundedAmount")},
             {"amount due", money(o, "amountDue")}};
  if (auto h = o.find("holdExpiresAt"); h != o.end() && !h->is_null())
    head.emplace_back("hold expires at", text(*h));
  head.emplace_back("created at", text(o, "createdAt"));
  head.emplace_back("updated at", text(o, "updatedAt"));
  head.emplace_back("ship to", address_line(o.value("address", json{})));
  if (o.contains("cancelReason"))
    head.emplace_back("cancel reason", text(o, "cancelReason"));
  if (o.contains("paymentReference"))
    head.emplace_back("payment reference", text(o, "paymentReference"));
  print_block(head);
}

// "L-1:2,-:1": the batches a line's units came from ("-" if none).
std::string lots_of(const json& line) {
  std::string lots;
  for (auto& lot : line.value("lots", json::array())) {
    auto name = lot.value("lot", "");
    lots += (lots.empty() ? "" : ",") + (name.empty() ? "-" : name) + ":" +
            text(lot, "quantity");
  }
  return lots.empty() ? "-" : lots;
}

// The order's lines, with a LOTS column when a SKU keeps named lots.
void print_order_lines(const json& o) {
  std::cout << "\nLines\n";
  auto all_lines = o.value("lines", json::array());
  bool named_lots = false;
  for (auto& l : all_lines)
    for (auto& lot : l.value("lots", json::array()))
      named_lots = named_lots || !lot.value("lot", "").empty();
  std::vector<std::string> header{"SKU",     "QTY",        "CANCELLED",
                                  "SHIPPED", "UNIT PRICE", "LINE TOTAL"};
  if (named_lots)
    header.push_back("LOTS");
  table lines{header, "lrrrrrl"};
  for (auto& l : all_lines) {
    std::vector<std::string> row{text(l, "sku"),
                                 text(l, "quantity"),
                                 text(l, "cancelledQuantity"),
                                 text(l, "shippedQuantity"),
                                 money(l, "unitPrice", o),
                                 money(l, "lineTotal", o)};
    if (named_lots)
      row.push_back(lots_of(l));
    lines.add(std::move(row));
  }
  lines.print();
}

// The order's history, then its payments if it has any.
void print_order_events(const json& o) {
  std::cout << "\nHistory\n";
  table history{{"AT", "FROM", "TO", "AMOUNT", "REASON"}, "lllrl"};
  for (auto& h : o.value("history", json::array()))
    history.add({text(h, "at"), text(h, "from"), text(h, "to"),
                 h.contains("amount") ? money(h, "amount", o) : "",
                 h.value("reason", "")});
  if (history.empty())
    std::cout << "(none)\n";
  else
    history.print();

  auto shipments = o.value("shipments", json::array());
  if (!shipments.empty()) {
    std::cout << "\nShipments\n";
    table t{{"ID", "AT", "LINES", "CARRIER", "TRACKING"}, "lllll"};
    for (auto& sh : shipments) {
      std::string lines;
      for (auto& l : sh.value("lines", json::array()))
        lines += (lines.empty() ? "" : ",") + text(l, "sku") + ":" +
                 text(l, "quantity");
      auto or_dash = [&](const char* key) {
        auto i = sh.find(key);
        return i == sh.end() || !i->is_string() ? std::string{"-"}
                                                : i->get<std::string>();
      };
      t.add({text(sh, "id"), text(sh, "at"), lines, or_dash("carrier"),
             or_dash("trackingNumber")});
    }
    t.print();
  }

  auto payments = o.value("payments", json::array());
  if (payments.empty())
    return;
  std::cout << "\nPayments\n";
  table t{{"KIND", "STATUS", "AMOUNT", "REFERENCE", "AT", "REASON"}, "llrlll"};
  for (auto& p : payments)
    t.add({text(p, "kind"), text(p, "status"), money(p, "amount"),
           p.value("reference", ""), text(p, "at"), p.value("reason", "")});
  t.print();
}

void print_order_page(const json& page) {
  table t{{"ID", "STATUS", "LINES", "TOTAL", "AMOUNT DUE", "CREATED AT"},
          "llrrrl"};
  for (auto& o : page.value("orders", json::array()))
    t.add({text(o, "id"), text(o, "status"),
           std::to_string(o.value("lines", json::array()).size()),
           money(o, "totalAmount"), money(o, "amountDue"),
           text(o, "createdAt")});
  if (t.empty())
    std::cout << "(no orders)\n";
  else
    t.print();
  print_next_cursor(page);
}

// -- reading arguments --------------------------------------------------------

/// Checks "SKU:QTY" while parsing, so a typo is a usage error (exit 2).
const CLI::Validator sku_qty{
    [](std::string& arg) -> std::string {
      auto colon = arg.rfind(':');
      if (colon == std::string::npos || colon == 0 || colon + 1 == arg.size() ||
          arg.size() - colon > 19 ||
          arg.find_first_not_of("0123456789", colon + 1) != std::string::npos)
        return "'" + arg + "' is not SKU:QTY (e.g. SKU-1:2)";
      return {};
    },
    ""};

/// "due" or a non-negative integer.
const CLI::Validator amount_arg{
    [](std::string& arg) -> std::string {
      if (arg == "due")
        return {};
      if (arg.empty() || arg.size() > 18 ||
          arg.find_first_not_of("0123456789") != std::string::npos)
        return "'" + arg +
               "' is not an amount: use minor units (e.g. 99800) or 'due'";
      return {};
    },
    ""};

/// The "SKU:QTY" arguments as the API's [{"sku", "quantity"}] lines; each
/// splits at its last colon.
json lines_of(const std::vector<std::string>& items) {
  json lines = json::array();
  for (auto& item : items) {
    auto colon = item.rfind(':');
    lines.push_back({{"sku", item.substr(0, colon)},
                     {"quantity", std::stoll(item.substr(colon + 1))}});
  }
  return lines;
}

// The order id argument.
void add_id_arg(CLI::App* cmd, args& a) {
  cmd->add_option("id", a.id, "The order id")->required();
}

// The --reason option of the lifecycle steps.
void add_reason_option(CLI::App* cmd, args& a) {
  cmd->add_option("--reason", a.reason, "Shown in the order's history")
      ->type_name("TEXT");
}

/// The amount `pay` charges: --amount, or with "due" the order's amount due.
int64_t amount_to_pay(session& s, const args& a) {
  if (a.amount != "due")
    return std::stoll(a.amount);
  auto order = s.call("GET", order_path(a.id));
  auto amount = order.value("amountDue", int64_t{0});
  // A retry with the same key after the charge went through: nothing is due
  // any more, so ask again for what was charged (the server replays its
  // first answer).
  if (amount == 0 && !a.key.empty())
    for (auto& p : order.value("payments", json::array()))
      if (p.value("kind", "") == "CHARGE" &&
          p.value("status", "") == "SUCCEEDED")
        amount = p.value("amount", int64_t{0});
  return amount;
}

// -- the subcommands ----------------------------------------------------------

void add_order_create(CLI::App* ord, args& a, action& run) {
  auto* create = ord->add_subcommand(
      "create", "Place an order; reserves its units until it is confirmed or "
                "the hold expires (POST /v1/orders)");
  create
      ->add_option("--customer", a.customer,
                   "The customer (required with the admin token; a "
                   "customer token orders for itself)")
      ->type_name("CUSTOMER_ID");
  create->add_option("--item", a.items, "A line as SKU:QTY (repeatable)")
      ->required()
      ->allow_extra_args(false)
      ->check(sku_qty)
      ->type_name("SKU:QTY");
  create
      ->add_option("--seller", a.seller,
                   "INTERNAL (default) or EXTERNAL, for every line")
      ->transform(seller_arg)
      ->type_name("SELLER");
  add_placement_options(create, a);
  set_action(create, run, [](session& s, const args& a) {
    json body{{"items", lines_of(a.items)}, {"address", a.ship_to.to_json()}};
    put_if_given(body, "customerId", a.customer);
    put_if_given(body, "seller", a.seller);
    a.out.emit(s.call("POST", "/v1/orders", body, a.key), print_order);
  });
}

void add_order_show(CLI::App* ord, args& a, action& run) {
  auto* show = ord->add_subcommand(
      "show", "An order: status, totals, lines, history and payments "
              "(GET /v1/orders/{id})");
  add_id_arg(show, a);
  set_action(show, run, [](session& s, const args& a) {
    a.out.emit(s.call("GET", order_path(a.id)), print_order);
  });
}

void add_order_list(CLI::App* ord, args& a, action& run) {
  auto* list = ord->add_subcommand(
      "list", "A customer's orders, newest first "
              "(GET /v1/customers/{id}/orders); with a filter, or without a "
              "customer, the admin search of every order (GET /v1/orders; "
              "admin)");
  list->add_option("customer,--customer", a.customer,
                   "The customer id (none: every customer's orders)");
  list->add_option("--status", a.status,
                   "Only orders in this status (CREATED ... CANCELLED)")
      ->transform(CLI::IsMember(
          {"CREATED", "CONFIRMED", "PAID", "SHIPPED", "DELIVERED", "CANCELLED"},
          CLI::ignore_case));
  list->add_option("--sku", a.sku, "Only orders with a line of this SKU");
  list->add_option("--seller", a.seller, "Only orders of this seller")
      ->transform(seller_arg);
  list->add_option("--since", a.since,
                   "Only orders created at or after this time (RFC 3339 UTC)")
      ->type_name("TIMESTAMP");
  list->add_option("--until", a.until,
                   "Only orders created before this time (RFC 3339 UTC)")
      ->type_name("TIMESTAMP");
  add_page_options(list, a, "Orders", "The last page's nextCursor");
  set_action(list, run, [](session& s, const args& a) {
    std::string q;
    bool search = a.customer.empty() || !a.status.empty() || !a.sku.empty() ||
                  !a.seller.empty() || !a.since.empty() || !a.until.empty();
    if (!search) {
      add_page_query(q, a);
      a.out.emit(
          fetch_pages(s, customer_path(a.customer) + "/orders", q, a, "orders"),
          print_order_page);
      return;
    }
    add_query(q, "customerId", a.customer);
    add_query(q, "status", a.status);
    add_query(q, "sku", a.sku);
    add_query(q, "seller", a.seller);
    add_query(q, "createdFrom", a.since);
    add_query(q, "createdTo", a.until);
    add_page_query(q, a);
    a.out.emit(fetch_pages(s, "/v1/orders", q, a, "orders"), print_order_page);
  });
}

// confirm, ship and deliver: the same shape, admin only.
void add_order_steps(CLI::App* ord, args& a, action& run) {
  struct step {
    const char* name;
    const char* help;
  };
  for (auto st :
       {step{"confirm", "CREATED -> CONFIRMED: the reserved units become "
                        "blocked (POST /v1/orders/{id}/confirm; admin)"},
        step{"ship", "PAID or PARTIALLY_SHIPPED -> SHIPPED: every blocked "
                     "unit leaves the stock (POST /v1/orders/{id}/ship; "
                     "admin)"},
        step{"deliver", "SHIPPED -> DELIVERED "
                        "(POST /v1/orders/{id}/deliver; admin)"}}) {
    auto* cmd = ord->add_subcommand(st.name, st.help);
    add_id_arg(cmd, a);
    add_reason_option(cmd, a);
    std::string name = st.name;
    set_action(cmd, run, [name](session& s, const args& a) {
      json body = nullptr;
      if (!a.reason.empty())
        body = json{{"reason", a.reason}};
      a.out.emit(s.call("POST", order_path(a.id) + "/" + name, body),
                 print_order);
    });
  }
}

void add_order_pay(CLI::App* ord, args& a, action& run) {
  auto* pay = ord->add_subcommand(
      "pay", "Charge the order's amount due: CREATED or CONFIRMED -> PAID "
             "(POST /v1/orders/{id}/pay)");
  add_id_arg(pay, a);
  pay->add_option("--amount", a.amount,
                  "Minor units; must equal the amount due. 'due' reads the "
                  "order's amountDue first (with --key on an order already "
                  "charged: the amount charged, so a retry replays)")
      ->required()
      ->check(amount_arg)
      ->type_name("MINOR_UNITS|due");
  pay->add_option("--payment-token", a.payment_token,
                  "The payment method token handed to the gateway")
      ->type_name("TOKEN");
  pay->add_option("--key", a.key,
                  "Idempotency-Key: a retry with the same key charges at "
                  "most once")
      ->type_name("KEY");
  set_action(pay, run, [](session& s, const args& a) {
    json body{{"amount", amount_to_pay(s, a)}};
    put_if_given(body, "paymentToken", a.payment_token);
    a.out.emit(s.call("POST", order_path(a.id) + "/pay", body, a.key),
               print_order);
  });
}

void add_order_cancel(CLI::App* ord, args& a, action& run) {
  auto* cancel = ord->add_subcommand(
      "cancel", "Cancel an order before it ships, or only some units with "
                "--line; held units go back to stock and a paid order is "
                "refunded (POST /v1/orders/{id}/cancel)");
  add_id_arg(cancel, a);
  cancel
      ->add_option("--line", a.items,
                   "Cancel QTY units of SKU only, as SKU:QTY (repeatable)")
      ->allow_extra_args(false)
      ->check(sku_qty)
      ->type_name("SKU:QTY");
  add_reason_option(cancel, a);
  set_action(cancel, run, [](session& s, const args& a) {
    json body = json::object();
    put_if_given(body, "reason", a.reason);
    if (!a.items.empty())
      body["lines"] = lines_of(a.items);
    a.out.emit(s.call("POST", order_path(a.id) + "/cancel", body), print_order);
  });
}

void add_order_ship_lines(CLI::App* ord, args& a, action& run) {
  auto* ship = ord->add_subcommand(
      "ship-lines", "Ship some units of some lines as one shipment: PAID -> "
                    "PARTIALLY_SHIPPED (SHIPPED once nothing is left) "
                    "(POST /v1/orders/{id}/shipments; admin)");
  add_id_arg(ship, a);
  ship->add_option("--line", a.items, "Ship QTY units of SKU (repeatable)")
      ->required()
      ->allow_extra_args(false)
      ->check(sku_qty)
      ->type_name("SKU:QTY");
  ship->add_option("--carrier", a.carrier, "The carrier")->type_name("NAME");
  ship->add_option("--tracking", a.tracking_number,
                   "The carrier's tracking number")
      ->type_name("NUMBER");
  ship->add_option("--key", a.key,
                   "Idempotency-Key: a retry with the same key ships once")
      ->type_name("KEY");
  set_action(ship, run, [](session& s, const args& a) {
    json body{{"lines", lines_of(a.items)}};
    put_if_given(body, "carrier", a.carrier);
    put_if_given(body, "trackingNumber", a.tracking_number);
    a.out.emit(s.call("POST", order_path(a.id) + "/shipments", body, a.key),
               print_order);
  });
}

// A return: its state and lines, then the order it belongs to.
void print_return(const json& r) {
  block head{{"return", text(r, "id")},
             {"order", text(r, "orderId")},
             {"status", text(r, "status")},
             {"refund", money(r, "refundAmount")}};
  if (r.contains("rejectReason"))
    head.emplace_back("reject reason", text(r, "rejectReason"));
  print_block(head);
  std::cout << "\nReturned\n";
  table t{{"SKU", "QTY", "RESTOCKED", "DAMAGED", "LOTS", "REASON"}, "lrrrll"};
  for (auto& l : r.value("lines", json::array()))
    t.add({text(l, "sku"), text(l, "quantity"),
           l.contains("restocked") ? text(l, "restocked") : "-",
           l.contains("damaged") ? text(l, "damaged") : "-", lots_of(l),
           l.value("reason", "")});
  t.print();
}

// The return id argument of the return steps.
void add_return_arg(CLI::App* cmd, args& a) {
  cmd->add_option("return", a.return_id, "The return id (ret_1, ...)")
      ->required();
}

std::string returns_path(const args& a) {
  return order_path(a.id) + "/returns";
}

void add_order_returns(CLI::App* ord, args& a, action& run) {
  auto* ask = ord->add_subcommand(
      "return", "Ask to return delivered units of a DELIVERED order within "
                "the return window (POST /v1/orders/{id}/returns)");
  add_id_arg(ask, a);
  ask->add_option("--line", a.items, "Return QTY units of SKU (repeatable)")
      ->required()
      ->allow_extra_args(false)
      ->check(sku_qty)
      ->type_name("SKU:QTY");
  ask->add_option("--reason", a.reason, "Why (kept with each line)")
      ->type_name("TEXT");
  ask->add_option("--key", a.key,
                  "Idempotency-Key: a retry with the same key answers the "
                  "same return")
      ->type_name("KEY");
  set_action(ask, run, [](session& s, const args& a) {
    auto lines = lines_of(a.items);
    if (!a.reason.empty())
      for (auto& l : lines)
        l["reason"] = a.reason;
    a.out.emit(s.call("POST", returns_path(a), json{{"lines", lines}}, a.key),
               print_return);
  });

  auto* receive = ord->add_subcommand(
      "return-receive", "The returned units arrived: on hand, set aside "
                        "QUARANTINED (POST .../returns/{rid}/receive; admin)");
  add_id_arg(receive, a);
  add_return_arg(receive, a);
  set_action(receive, run, [](session& s, const args& a) {
    a.out.emit(s.call("POST", returns_path(a) + "/" + a.return_id + "/receive",
                      json::object()),
               print_return);
  });

  auto* inspect = ord->add_subcommand(
      "return-inspect", "Restock or set aside DAMAGED every returned unit, "
                        "and refund them (POST .../returns/{rid}/inspect; "
                        "admin)");
  add_id_arg(inspect, a);
  add_return_arg(inspect, a);
  inspect
      ->add_option("--restock", a.items,
                   "QTY units of SKU go back to sale (repeatable)")
      ->allow_extra_args(false)
      ->check(sku_qty)
      ->type_name("SKU:QTY");
  inspect
      ->add_option("--damaged", a.skus,
                   "QTY units of SKU are set aside DAMAGED (repeatable)")
      ->allow_extra_args(false)
      ->check(sku_qty)
      ->type_name("SKU:QTY");
  set_action(inspect, run, [](session& s, const args& a) {
    // One line per SKU, with both counts.
    json lines = json::array();
    auto add = [&](const json& given, const char* what) {
      for (auto& g : given) {
        auto it = std::find_if(lines.begin(), lines.end(), [&](const json& l) {
          return l["sku"] == g["sku"];
        });
        if (it == lines.end())
          it = lines.insert(lines.end(), json{{"sku", g["sku"]}});
        (*it)[what] = g["quantity"];
      }
    };
    add(lines_of(a.items), "restock");
    add(lines_of(a.skus), "damaged");
    a.out.emit(s.call("POST", returns_path(a) + "/" + a.return_id + "/inspect",
                      json{{"lines", lines}}),
               print_return);
  });

  auto* reject = ord->add_subcommand("return-reject",
                                     "Refuse a return before its units arrive "
                                     "(POST .../returns/{rid}/reject; admin)");
  add_id_arg(reject, a);
  add_return_arg(reject, a);
  reject->add_option("--reason", a.reason, "Why")
      ->required()
      ->type_name("TEXT");
  set_action(reject, run, [](session& s, const args& a) {
    a.out.emit(s.call("POST", returns_path(a) + "/" + a.return_id + "/reject",
                      json{{"reason", a.reason}}),
               print_return);
  });
}

void add_order_set_status(CLI::App* ord, args& a, action& run) {
  auto* set_status = ord->add_subcommand(
      "set-status", "updateOrder: move the order to CONFIRMED, SHIPPED, "
                    "FULFILLED (= DELIVERED) or CANCELLED; all but CANCELLED "
                    "need the admin token (PATCH /v1/orders/{id})");
  add_id_arg(set_status, a);
  set_status
      ->add_option("status", a.status,
                   "CONFIRMED, SHIPPED, FULFILLED, DELIVERED or CANCELLED")
      ->required();
  add_reason_option(set_status, a);
  set_action(set_status, run, [](session& s, const args& a) {
    auto status = a.status;
    for (auto& c : status)
      c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    json body{{"status", status}};
    put_if_given(body, "reason", a.reason);
    a.out.emit(s.call("PATCH", order_path(a.id), body), print_order);
  });
}

} // namespace

void print_order(const json& o) {
  print_order_head(o);
  print_order_lines(o);
  print_order_events(o);
}

void add_order(CLI::App& app, args& a, action& run) {
  add_group(app, "order", "Orders and their lifecycle", a, run,
            {add_order_create, add_order_show, add_order_list, add_order_steps,
             add_order_pay, add_order_cancel, add_order_ship_lines,
             add_order_returns, add_order_set_status});
}

} // namespace oms::cli
