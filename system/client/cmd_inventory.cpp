// omsctl inventory: receive, change, show, list and price a SKU's stock.
#include <cstdint>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include "system/client/commands.hpp"

namespace oms::cli {

namespace {

/// The reasons units are not for sale, in the server's order.
const char* const unallocatable_reasons[] = {"DAMAGED", "QUARANTINED",
                                             "EXPIRED", "SAFETY_STOCK"};

const auto kind_arg = CLI::IsMember(
    {"RECEIPT", "ADJUSTMENT", "SET_ASIDE", "RETURN_ASIDE"}, CLI::ignore_case);

// EXPIRED is left out: only a batch's expiry sets it.
const auto reason_arg =
    CLI::IsMember({"DAMAGED", "QUARANTINED", "SAFETY_STOCK"}, CLI::ignore_case);

// -- rendering ----------------------------------------------------------------

/// "3 (DAMAGED 2, QUARANTINED 1)": a total and its non-zero reasons.
std::string by_reason(const json& total, const json& reasons) {
  std::string parts;
  for (auto* r : unallocatable_reasons) {
    auto n = reasons.is_object() ? reasons.value(r, int64_t{0}) : 0;
    if (n != 0)
      parts += (parts.empty() ? "" : ", ") + std::string{r} + " " +
               std::to_string(n);
  }
  return text(total) + (parts.empty() ? "" : " (" + parts + ")");
}

// EXTERNAL: how the count derives from the WMS's last snapshot.
void add_external_rows(block& rows, const json& x) {
  rows.emplace_back("WMS snapshot",
                    x.value("snapshotKnown", false)
                        ? text(x, "snapshotOrderable") + " orderable as of " +
                              text(x, "snapshotAsOf") + " (read " +
                              text(x, "readAt") + ", reflects WMS change " +
                              text(x, "snapshotReflects") + ")"
                        : std::string{"none read yet"});
  rows.emplace_back("feed delta", text(x, "feedDelta"));
  rows.emplace_back("pending holds", text(x, "pendingHolds"));
  rows.emplace_back("safety buffer", text(x, "safetyBuffer"));
  rows.emplace_back("WMS calls pending", text(x, "wmsPending"));
}

// The batches of a SKU that keeps them, first to expire first.
void print_batches(const json& batches) {
  std::cout << "\nBatches (first to expire first)\n";
  table t{{"LOT", "EXPIRES AT", "ON HAND", "HELD", "AVAILABLE", "DAMAGED",
           "QUARANTINED", "EXPIRED", "SAFETY_STOCK"},
          "llrrrrrrr"};
  for (auto& b : batches) {
    auto lot = b.value("lot", "");
    std::vector<std::string> row{
        lot.empty() ? "-" : lot,
        text(b, "expiresAt") + (b.value("expired", false) ? " (expired)" : ""),
        text(b, "onHand"), text(b, "held"), text(b, "available")};
    auto un = b.value("unallocatable", json::object());
    for (auto* r : unallocatable_reasons)
      row.push_back(
          std::to_string(un.is_object() ? un.value(r, int64_t{0}) : 0));
    t.add(std::move(row));
  }
  t.print();
}

void print_stock(const json& s) {
  block rows{{"sku", text(s, "sku")},
             {"seller", text(s, "seller")},
             {"unit price", money(s, "unitPrice")},
             {"on hand", text(s, "onHand")},
             {"reserved", text(s, "reserved")},
             {"blocked", text(s, "blocked")},
             {"available", text(s, "available")}};
  if (s.contains("unallocatable"))
    rows.emplace_back("unallocatable",
                      by_reason(s["unallocatable"],
                                s.value("unallocatableByReason", json{})));
  rows.emplace_back("received total", text(s, "receivedTotal"));
  rows.emplace_back("consumed total", text(s, "consumedTotal"));
  if (s.contains("adjustedTotal"))
    rows.emplace_back("adjusted total", text(s, "adjustedTotal"));
  rows.emplace_back("as of", text(s, "asOf"));
  if (auto e = s.find("external"); e != s.end() && e->is_object())
    add_external_rows(rows, *e);
  print_block(rows);

  auto batches = s.value("batches", json::array());
  if (!batches.empty())
    print_batches(batches);
}

/// The answer to an inbound stock change: its outcome, then the stock.
void print_change(const json& c) {
  block rows{{"outcome", text(c, "outcome")}};
  if (auto id = c.find("eventId"); id != c.end() && !id->is_null())
    rows.emplace_back("event id", text(*id));
  if (auto e = c.find("error"); e != c.end() && e->is_object())
    rows.emplace_back("rejected",
                      text(*e, "code") + ": " + text(*e, "message"));
  print_block(rows);
  // /changes nests the stock; /receipts answers it at the top level.
  auto stock = c.contains("stock") ? c["stock"] : c;
  if (!stock.contains("sku"))
    return;
  std::cout << '\n';
  print_stock(stock);
}

/// A REJECTED change answers 200, yet nothing changed: exit 1 like an error.
void fail_if_rejected(const json& c) {
  if (c.value("outcome", "") != "REJECTED")
    return;
  auto e = c.value("error", json::object());
  throw api_error{200, text(e, "code"),
                  text(e, "message") + " (event " + text(c, "eventId") +
                      " is used up: it answers DUPLICATE from now on)"};
}

void print_inventory_page(const json& page) {
  table t{{"SKU", "SELLER", "UNIT PRICE", "ON HAND", "RESERVED", "BLOCKED",
           "AVAILABLE"},
          "llrrrrr"};
  for (auto& s : page.value("items", json::array()))
    t.add({text(s, "sku"), text(s, "seller"), money(s, "unitPrice"),
           text(s, "onHand"), text(s, "reserved"), text(s, "blocked"),
           text(s, "available")});
  if (t.empty())
    std::cout << "(no SKUs)\n";
  else
    t.print();
  print_next_cursor(page);
}

// -- the subcommands ----------------------------------------------------------

// --lot, --expires-at and --event-id of receive and change.
void add_batch_options(CLI::App* cmd, args& a) {
  cmd->add_option("--lot", a.lot,
                  "The batch: 1 to 64 characters of A-Z a-z 0-9 . _ - "
                  "(needed once a SKU has several batches)")
      ->type_name("LOT");
  cmd->add_option("--expires-at", a.expires_at,
                  "Receipt into a new batch: when it expires, RFC 3339 UTC "
                  "(2026-12-31T23:59:59Z); its remainder then leaves sale")
      ->type_name("TIMESTAMP");
  cmd->add_option("--event-id", a.event_id,
                  "The inbound event's id: the change is applied once per id "
                  "(a repeat answers DUPLICATE)")
      ->type_name("ID");
}

// Posts the receipt or change of the command line to the SKU's `route`
// (receipts or changes) and prints the outcome; a rejected change exits 1.
// The body holds --qty and every option given: receive has no --kind,
// --reason or --note and change no --seller, so those stay out.
void post_change(session& s, const args& a, const std::string& route) {
  json body{{"quantity", a.quantity}};
  put_if_given(body, "kind", a.kind);
  put_if_given(body, "unitPrice", a.price);
  put_if_given(body, "seller", a.seller);
  put_if_given(body, "reason", a.reason);
  put_if_given(body, "note", a.note);
  put_if_given(body, "lot", a.lot);
  put_if_given(body, "expiresAt", a.expires_at);
  put_if_given(body, "eventId", a.event_id);
  auto answer = s.call("POST", sku_path(a.sku) + "/" + route, body);
  a.out.emit(answer, print_change);
  fail_if_rejected(answer);
}

void add_inventory_receive(CLI::App* inv, args& a, action& run) {
  auto* receive = inv->add_subcommand(
      "receive", "Add units of a SKU to the internal inventory, creating it "
                 "if new (POST /v1/inventory/{sku}/receipts; admin)");
  receive->add_option("sku", a.sku, "The SKU")->required();
  receive->add_option("--qty", a.quantity, "Units received")
      ->type_name("N")
      ->required();
  receive
      ->add_option("--price", a.price,
                   "Unit price in minor units (99800 = 998.00 INR); "
                   "needed when the SKU is new")
      ->type_name("MINOR_UNITS");
  receive->add_option("--seller", a.seller, "INTERNAL (default) or EXTERNAL")
      ->transform(seller_arg)
      ->type_name("SELLER");
  add_batch_options(receive, a);
  set_action(receive, run,
             [](session& s, const args& a) { post_change(s, a, "receipts"); });
}

void add_inventory_change(CLI::App* inv, args& a, action& run) {
  auto* change = inv->add_subcommand(
      "change",
      "Apply one inbound stock change: RECEIPT (units arrive), ADJUSTMENT "
      "(on-hand corrected, signed), SET_ASIDE (units leave sale for a "
      "reason) or RETURN_ASIDE (they come back); with --event-id it is "
      "applied once however often it is sent "
      "(POST /v1/inventory/{sku}/changes; admin)");
  change->add_option("sku", a.sku, "The SKU")->required();
  change->add_option("--kind", a.kind, "What the change does")
      ->transform(kind_arg)
      ->type_name("KIND")
      ->required();
  change
      ->add_option("--qty", a.quantity,
                   "Units; ADJUSTMENT takes a signed change (--qty=-2)")
      ->type_name("N")
      ->required();
  change
      ->add_option("--reason", a.reason,
                   "SET_ASIDE, RETURN_ASIDE: why the units are not for sale")
      ->transform(reason_arg)
      ->type_name("REASON");
  change->add_option("--note", a.note, "Free text kept with the change")
      ->type_name("TEXT");
  change
      ->add_option("--price", a.price,
                   "RECEIPT: unit price in minor units (needed for a new SKU)")
      ->type_name("MINOR_UNITS");
  add_batch_options(change, a);
  set_action(change, run,
             [](session& s, const args& a) { post_change(s, a, "changes"); });
}

void add_inventory_show(CLI::App* inv, args& a, action& run) {
  auto* show = inv->add_subcommand(
      "show", "A SKU's counters, price, units not for sale and batches "
              "(GET /v1/inventory/{sku})");
  show->add_option("sku", a.sku, "The SKU")->required();
  show->add_option("--seller", a.seller, "INTERNAL (default) or EXTERNAL")
      ->transform(seller_arg)
      ->type_name("SELLER");
  set_action(show, run, [](session& s, const args& a) {
    std::string q;
    add_query(q, "seller", a.seller);
    a.out.emit(s.call("GET", sku_path(a.sku) + q), print_stock);
  });
}

void add_inventory_list(CLI::App* inv, args& a, action& run) {
  auto* list = inv->add_subcommand(
      "list", "The SKUs of a seller, by name, one page at a time "
              "(GET /v1/inventory)");
  list->add_option("--seller", a.seller, "INTERNAL (default) or EXTERNAL")
      ->transform(seller_arg)
      ->type_name("SELLER");
  add_page_options(list, a, "SKUs",
                   "Start after this cursor (the last page's nextCursor)");
  set_action(list, run, [](session& s, const args& a) {
    std::string q;
    add_query(q, "seller", a.seller);
    add_page_query(q, a);
    a.out.emit(fetch_pages(s, "/v1/inventory", q, a, "items"),
               print_inventory_page);
  });
}

void add_inventory_price(CLI::App* inv, args& a, action& run) {
  auto* price = inv->add_subcommand(
      "price", "Set a SKU's unit price for new orders; orders already placed "
               "keep theirs (PATCH /v1/inventory/{sku}; admin)");
  price->add_option("sku", a.sku, "The SKU")->required();
  price->add_option("--price", a.price, "Unit price in minor units")
      ->type_name("MINOR_UNITS")
      ->required();
  set_action(price, run, [](session& s, const args& a) {
    a.out.emit(s.call("PATCH", sku_path(a.sku), json{{"unitPrice", *a.price}}),
               print_stock);
  });
}

} // namespace

void add_inventory(CLI::App& app, args& a, action& run) {
  add_group(app, "inventory", "Stock per SKU and seller", a, run,
            {add_inventory_receive, add_inventory_change, add_inventory_show,
             add_inventory_list, add_inventory_price});
}

} // namespace oms::cli
