// Scripted scenarios: each runs the real actors in-process and prints every
// step and its result, to show what the order system does.
//   oms-scenarios            run every scenario
//   oms-scenarios NAME...    run the named ones
//   oms-scenarios --list     list them
//   --quiet                  print only failures and the summary
#include <chrono>
#include <cstdio>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <nlohmann/json.hpp>

#include "messages/json.hpp"
#include "messages/type_ids.hpp"
#include "system/log.hpp"
#include "system/order_system.hpp"
#include "system/simulated_gateway.hpp"
#include "system/store/memory_store.hpp"
#include "system/store/sqlite_store.hpp"

using namespace oms;
using namespace std::chrono_literals;

namespace {

bool quiet = false;
int failures = 0;

void say(const std::string& line) {
  if (!quiet)
    std::cout << line << '\n';
}

template <class T>
std::string brief(const caf::expected<T>& x);

std::string brief_view(const stock_view& v) {
  return v.sku + ": onHand=" + std::to_string(v.on_hand) +
         " reserved=" + std::to_string(v.reserved) +
         " blocked=" + std::to_string(v.blocked) +
         " available=" + std::to_string(v.available) +
         " unitPrice=" + std::to_string(v.unit_price);
}

std::string brief_order(const order_record& o) {
  return o.id + " " + to_string(o.status) +
         " total=" + std::to_string(o.total_amount) + " " + currency +
         (o.cancel_reason.empty() ? "" : " reason=" + o.cancel_reason);
}

// Prints one step and checks it ended as the scenario expects.
template <class T, class Render>
caf::expected<T> step(const std::string& what, caf::expected<T> res,
                      const std::string& expected_code, Render render) {
  std::string got = res ? "OK" : to_code(code_of(res.error()));
  std::string text = res ? render(*res) : describe(res.error());
  bool as_expected = got == expected_code;
  if (!as_expected) {
    ++failures;
    std::cout << "  UNEXPECTED " << what << ": expected " << expected_code
              << ", got " << text << '\n';
  } else {
    say("  " + what + " -> " + text);
  }
  return res;
}

auto inv(const std::string& what, caf::expected<stock_view> res,
         const std::string& expected = "OK") {
  return step(what, std::move(res), expected, brief_view);
}

auto ord(const std::string& what, caf::expected<order_record> res,
         const std::string& expected = "OK") {
  return step(what, std::move(res), expected, brief_order);
}

// The order system as the scenarios use it. With a persistent store, SKU
// and customer names carry a per-run tag so that a second run on the same
// data starts from fresh SKUs.
struct scenario_api {
  order_system& sys;
  std::string tag;

  // Empty names stay empty: the scenarios use them to show validation.
  std::string t(const std::string& x) const { return x.empty() ? x : tag + x; }
  std::vector<order_item> t(std::vector<order_item> items) const {
    for (auto& i : items)
      i.sku = t(i.sku);
    return items;
  }

  auto add_item_to_inventory(const std::string& sku, int64_t qty,
                             money price = 0) {
    return sys.add_item_to_inventory(t(sku), qty, price);
  }
  auto get_available_inventory(const std::string& sku, seller from) {
    return sys.get_available_inventory(t(sku), from);
  }
  auto create_order(const std::string& customer, std::vector<order_item> items,
                    const address& ship_to, const std::string& key = {}) {
    return sys.create_order(t(customer), t(std::move(items)), ship_to, key);
  }
  auto update_order(const order_id& id, order_status st,
                    std::string reason = {}) {
    return sys.update_order(id, st, std::move(reason));
  }
  auto pay_order(const order_id& id, money amount, const std::string& token,
                 const std::string& key = {}) {
    return sys.pay_order(id, amount, token, key);
  }
  auto get_order(const order_id& id) { return sys.get_order(id); }
  auto cancel_lines(const order_id& id, std::vector<order_item> lines) {
    return sys.cancel_lines(id, t(std::move(lines)));
  }
  auto add_to_cart(const std::string& c, const std::string& sku, int64_t q) {
    return sys.add_to_cart(t(c), t(sku), q);
  }
  auto set_cart_item(const std::string& c, const std::string& sku, int64_t q) {
    return sys.set_cart_item(t(c), t(sku), q);
  }
  auto view_cart(const std::string& c) { return sys.view_cart(t(c)); }
  auto checkout(const std::string& c, const address& ship_to) {
    return sys.checkout(t(c), ship_to);
  }
  auto list_orders(const std::string& c) { return sys.list_orders(t(c)); }
  auto audit() { return sys.audit(); }
  const context_ptr& ctx() const { return sys.ctx(); }
};

const address home{"12 MG Road", "", "Bengaluru", "560001", "IN"};

order_item line(const std::string& sku, int64_t qty) {
  return {sku, qty, seller::internal};
}

// -- the scenarios ------------------------------------------------------------

void inventory_basics(scenario_api& oms) {
  inv("addItemToInventory(PHONE, 5, price 1499900)",
      oms.add_item_to_inventory("PHONE", 5, 1'499'900));
  inv("addItemToInventory(PHONE, 3) adds units",
      oms.add_item_to_inventory("PHONE", 3));
  inv("addItemToInventory(CASE, 2) without a price for a new SKU",
      oms.add_item_to_inventory("CASE", 2), "VALIDATION_FAILED");
  inv("getAvailableInventory(PHONE, INTERNAL)",
      oms.get_available_inventory("PHONE", seller::internal));
  inv("getAvailableInventory(GHOST, INTERNAL)",
      oms.get_available_inventory("GHOST", seller::internal), "UNKNOWN_SKU");
}

void order_lifecycle(scenario_api& oms) {
  inv("receive 10 BOOK at 39900",
      oms.add_item_to_inventory("BOOK", 10, 39'900));
  inv("receive 4 PEN at 2500", oms.add_item_to_inventory("PEN", 4, 2'500));
  auto o =
      ord("createOrder(alice, 2 BOOK + 3 PEN)",
          oms.create_order("alice", {line("BOOK", 2), line("PEN", 3)}, home));
  if (!o)
    return;
  inv("BOOK after create (reserved)",
      oms.get_available_inventory("BOOK", seller::internal));
  ord("ship before payment", oms.update_order(o->id, order_status::shipped),
      "INVALID_TRANSITION");
  ord("updateOrder(CONFIRMED)",
      oms.update_order(o->id, order_status::confirmed));
  inv("BOOK after confirm (blocked)",
      oms.get_available_inventory("BOOK", seller::internal));
  ord("pay the total", oms.pay_order(o->id, o->total_amount, "tok_visa"));
  ord("ship", oms.update_order(o->id, order_status::shipped));
  ord("updateOrder(FULFILLED)",
      oms.update_order(o->id, order_status::delivered));
  ord("cancel after delivery", oms.update_order(o->id, order_status::cancelled),
      "INVALID_TRANSITION");
  inv("BOOK after shipment (on hand down by 2)",
      oms.get_available_inventory("BOOK", seller::internal));
  auto tracked = oms.get_order(o->id);
  if (tracked && !quiet) {
    std::cout << "  track order:\n";
    for (auto& h : tracked->history)
      std::cout << "    " << format_timestamp(h.at) << "  " << to_string(h.from)
                << " -> " << to_string(h.to) << "  (" << h.reason << ")\n";
  }
}

void competing_orders(scenario_api& oms) {
  inv("receive 1 LAST-UNIT at 99900",
      oms.add_item_to_inventory("LAST-UNIT", 1, 99'900));
  // Two customers race for the last unit from two threads.
  caf::expected<order_record> a{caf::error{}};
  caf::expected<order_record> b{caf::error{}};
  std::thread ta(
      [&] { a = oms.create_order("alice", {line("LAST-UNIT", 1)}, home); });
  std::thread tb(
      [&] { b = oms.create_order("bob", {line("LAST-UNIT", 1)}, home); });
  ta.join();
  tb.join();
  int granted = (a ? 1 : 0) + (b ? 1 : 0);
  auto& winner = a ? a : b;
  auto& loser = a ? b : a;
  if (granted != 1) {
    ++failures;
    std::cout << "  UNEXPECTED: " << granted << " orders got the last unit\n";
    return;
  }
  say("  first order  -> " + brief_order(*winner));
  say("  second order -> " + describe(loser.error()));
  if (code_of(loser.error()) != errc::insufficient_stock) {
    ++failures;
    std::cout << "  UNEXPECTED: second order failed with "
              << describe(loser.error()) << '\n';
  }
  inv("LAST-UNIT afterwards",
      oms.get_available_inventory("LAST-UNIT", seller::internal));
}

void all_or_nothing(scenario_api& oms) {
  inv("receive 5 MUG at 29900", oms.add_item_to_inventory("MUG", 5, 29'900));
  inv("receive 1 TEA at 45000", oms.add_item_to_inventory("TEA", 1, 45'000));
  ord("createOrder(2 MUG + 2 TEA): TEA is short",
      oms.create_order("carol", {line("MUG", 2), line("TEA", 2)}, home),
      "INSUFFICIENT_STOCK");
  inv("MUG afterwards: nothing stays reserved",
      oms.get_available_inventory("MUG", seller::internal));
  ord("createOrder with a repeated SKU line",
      oms.create_order("carol", {line("MUG", 1), line("MUG", 1)}, home),
      "VALIDATION_FAILED");
  ord("createOrder with an empty customer id",
      oms.create_order("", {line("MUG", 1)}, home), "VALIDATION_FAILED");
  ord("createOrder mixing sellers",
      oms.create_order("carol", {line("MUG", 1), {"TEA", 1, seller::external}},
                       home),
      "MIXED_SELLERS");
}

void cancellation(scenario_api& oms) {
  inv("receive 6 LAMP at 120000",
      oms.add_item_to_inventory("LAMP", 6, 120'000));
  auto o =
      ord("create 4 LAMP", oms.create_order("dave", {line("LAMP", 4)}, home));
  if (!o)
    return;
  ord("pay", oms.pay_order(o->id, o->total_amount, "tok_visa"));
  inv("LAMP while paid", oms.get_available_inventory("LAMP", seller::internal));
  ord("cancel the paid order",
      oms.update_order(o->id, order_status::cancelled, "changed my mind"));
  inv("LAMP after cancel: all 6 available again",
      oms.get_available_inventory("LAMP", seller::internal));
}

void auto_cancel(scenario_api& oms) {
  inv("receive 2 TICKET at 50000",
      oms.add_item_to_inventory("TICKET", 2, 50'000));
  auto ttl = oms.ctx()->settings.hold_ttl;
  auto o = ord("create 2 TICKET (hold " + std::to_string(ttl.count()) + " ms)",
               oms.create_order("erin", {line("TICKET", 2)}, home));
  if (!o)
    return;
  // Polls the order until omsd's own timer has cancelled it; the deadline is
  // generous so that a slow machine is never mistaken for a broken timer.
  say("  ... waiting for the hold to expire");
  auto deadline = std::chrono::steady_clock::now() + ttl + 60s;
  auto seen = oms.get_order(o->id);
  while (seen && seen->status == order_status::created &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
    seen = oms.get_order(o->id);
  }
  ord("order after the hold expired", std::move(seen));
  ord("confirm after expiry", oms.update_order(o->id, order_status::confirmed),
      "ORDER_EXPIRED");
  inv("TICKET: both units back",
      oms.get_available_inventory("TICKET", seller::internal));
}

std::shared_ptr<simulated_gateway> gateway;

std::string brief_cart(const cart_view& c) {
  std::string out = "cart of " + c.customer + ":";
  for (auto& l : c.lines)
    out += " " + std::to_string(l.quantity) + "x" + l.sku + "@" +
           std::to_string(l.unit_price);
  return out + " total=" + std::to_string(c.total) + " " + currency;
}

auto cart(const std::string& what, caf::expected<cart_view> res,
          const std::string& expected = "OK") {
  return step(what, std::move(res), expected, brief_cart);
}

std::string brief_money(const order_record& o) {
  return brief_order(o) + " paid=" + std::to_string(o.paid_amount) +
         " refunded=" + std::to_string(o.refunded_amount) +
         " due=" + std::to_string(amount_due(o));
}

void cart_to_delivery(scenario_api& oms) {
  inv("receive 5 SHOE at 249900",
      oms.add_item_to_inventory("SHOE", 5, 249'900));
  inv("receive 20 SOCK at 19900",
      oms.add_item_to_inventory("SOCK", 20, 19'900));
  cart("add 6 SHOE to frank's cart (only 5 exist)",
       oms.add_to_cart("frank", "SHOE", 6), "INSUFFICIENT_STOCK");
  cart("add 1 SHOE", oms.add_to_cart("frank", "SHOE", 1));
  cart("add 3 SOCK", oms.add_to_cart("frank", "SOCK", 3));
  cart("update SOCK to 2", oms.set_cart_item("frank", "SOCK", 2));
  inv("SHOE: a cart holds no stock",
      oms.get_available_inventory("SHOE", seller::internal));
  auto o = ord("checkout the whole cart", oms.checkout("frank", home));
  cart("the cart afterwards", oms.view_cart("frank"));
  ord("checkout of the empty cart", oms.checkout("frank", home), "CART_EMPTY");
  if (!o)
    return;
  ord("pay", oms.pay_order(o->id, o->total_amount, "tok_visa"));
  ord("ship", oms.update_order(o->id, order_status::shipped));
  ord("deliver", oms.update_order(o->id, order_status::delivered));
}

void decline_and_retry(scenario_api& oms) {
  inv("receive 3 WATCH at 899900",
      oms.add_item_to_inventory("WATCH", 3, 899'900));
  auto o = ord("create 1 WATCH",
               oms.create_order("grace", {line("WATCH", 1)}, home));
  if (!o)
    return;
  ord("pay with a card that is declined",
      oms.pay_order(o->id, o->total_amount, "tok_decline"), "PAYMENT_DECLINED");
  ord("pay with the wrong amount", oms.pay_order(o->id, 1, "tok_visa"),
      "AMOUNT_MISMATCH");
  ord("pay; the gateway charges but the answer is lost",
      oms.pay_order(o->id, o->total_amount, "tok_timeout"),
      "PAYMENT_UNAVAILABLE");
  auto before = gateway->charges();
  step("pay again: the lost charge is found, nothing is charged twice",
       oms.pay_order(o->id, o->total_amount, "tok_visa"), "OK", brief_money);
  auto rec = oms.get_order(o->id);
  if (rec && !quiet)
    for (auto& p : rec->payments)
      std::cout << "    " << to_string(p.kind) << " " << p.gateway_key << " "
                << to_string(p.status) << " " << p.amount << " " << p.reason
                << '\n';
  if (gateway->charges() != before) {
    ++failures;
    std::cout << "  UNEXPECTED: the retry charged again\n";
  }
}

void partial_refund(scenario_api& oms) {
  inv("receive 10 PLATE at 45000",
      oms.add_item_to_inventory("PLATE", 10, 45'000));
  inv("receive 10 BOWL at 30000",
      oms.add_item_to_inventory("BOWL", 10, 30'000));
  auto o =
      ord("create 4 PLATE + 2 BOWL",
          oms.create_order("heidi", {line("PLATE", 4), line("BOWL", 2)}, home));
  if (!o)
    return;
  ord("pay", oms.pay_order(o->id, o->total_amount, "tok_visa"));
  step("cancel 1 PLATE and 1 BOWL of the paid order",
       oms.cancel_lines(o->id, {line("PLATE", 1), line("BOWL", 1)}), "OK",
       brief_money);
  inv("PLATE: 1 unit back",
      oms.get_available_inventory("PLATE", seller::internal));
  step("cancel the rest",
       oms.cancel_lines(o->id, {line("PLATE", 3), line("BOWL", 1)}), "OK",
       brief_money);
  inv("PLATE: all back",
      oms.get_available_inventory("PLATE", seller::internal));
}

void idempotent_retry(scenario_api& oms) {
  inv("receive 3 CHAIR at 150000",
      oms.add_item_to_inventory("CHAIR", 3, 150'000));
  auto first = ord("create 2 CHAIR with Idempotency-Key k-42",
                   oms.create_order("ivan", {line("CHAIR", 2)}, home, "k-42"));
  for (int i = 1; i <= 3; ++i)
    ord("retry " + std::to_string(i) + " with the same key",
        oms.create_order("ivan", {line("CHAIR", 2)}, home, "k-42"));
  ord("same key, different request",
      oms.create_order("ivan", {line("CHAIR", 1)}, home, "k-42"),
      "IDEMPOTENCY_KEY_REUSED");
  inv("CHAIR: reserved once",
      oms.get_available_inventory("CHAIR", seller::internal));
  if (!first)
    return;
  auto before = gateway->charges();
  ord("pay with key p-1",
      oms.pay_order(first->id, first->total_amount, "tok_visa", "p-1"));
  ord("pay again with key p-1",
      oms.pay_order(first->id, first->total_amount, "tok_visa", "p-1"));
  say("  gateway: " + std::to_string(gateway->charges() - before) +
      " charge(s)");
  auto page = oms.list_orders("ivan");
  if (page)
    say("  ivan's orders: " + std::to_string(page->orders.size()));
}

struct scenario {
  const char* name;
  const char* what;
  std::function<void(scenario_api&)> run;
  /// Runs on an order system of its own whose holds last one second (in
  /// memory); every other scenario has the default 15-minute hold, so that
  /// no step of theirs depends on how fast the machine is.
  bool short_hold = false;
};

const std::vector<scenario> scenarios{
    {"inventory", "receive stock and read availability", inventory_basics},
    {"lifecycle", "an order from CREATED to DELIVERED", order_lifecycle},
    {"race", "two rapid competing orders for the last unit", competing_orders},
    {"all-or-nothing", "a short line reserves nothing; bad input refused",
     all_or_nothing},
    {"cancel", "cancelling a paid order releases its units", cancellation},
    {"expiry", "an unconfirmed order cancels itself (1 s hold)", auto_cancel,
     true},
    {"cart", "from a cart to a delivered order", cart_to_delivery},
    {"payment", "a declined payment, a lost answer, and a retry",
     decline_and_retry},
    {"refund", "partial cancellation of a paid order with refunds",
     partial_refund},
    {"idempotency", "retries with an idempotency key do nothing twice",
     idempotent_retry},
};

} // namespace

int main(int argc, char** argv) {
  std::vector<std::string> wanted;
  std::string data_dir;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--quiet") {
      quiet = true;
    } else if (arg == "--list") {
      for (auto& s : scenarios)
        std::cout << s.name << "\t" << s.what << '\n';
      return 0;
    } else if (arg == "--data-dir" && i + 1 < argc) {
      data_dir = argv[++i];
    } else if (arg == "--help" || arg == "-h") {
      std::cout << "usage: oms-scenarios [--quiet] [--list] [--data-dir DIR] "
                   "[NAME...]\n"
                   "  --data-dir DIR  keep everything in DIR/oms.db (SQLite) "
                   "instead of memory\n";
      return 0;
    } else {
      wanted.push_back(arg);
    }
  }
  log::set_level(log::level::warn);
  caf::actor_system_config cfg;
  cfg.set("logger.console-verbosity", caf::atom("quiet"));
  register_types(cfg);
  caf::actor_system sys{cfg};
  settings s;
  gateway = std::make_shared<simulated_gateway>();
  std::shared_ptr<journal_store> store = std::make_shared<memory_store>();
  std::string tag;
  if (!data_dir.empty()) {
    auto path = data_dir + "/oms.db";
    auto opened = sqlite_store::open(path);
    if (!opened) {
      std::cerr << "oms-scenarios: " << message_of(opened.error()) << '\n';
      return 2;
    }
    store = std::move(*opened);
    tag = "run" + std::to_string(store->last_seq()) + "-";
    say("store: " + path + " (" + std::to_string(store->last_seq()) +
        " events so far; this run's names start with " + tag + ")");
  }
  std::unique_ptr<order_system> system;
  try {
    system = std::make_unique<order_system>(sys, s, store, gateway);
  } catch (const startup_error& e) {
    std::cerr << "oms-scenarios: " << e.what() << '\n';
    return 2;
  }
  scenario_api oms{*system, tag};
  // The short-hold scenarios' own system, made when one runs.
  settings short_hold = s;
  short_hold.hold_ttl = 1s;
  std::unique_ptr<order_system> short_system;
  std::unique_ptr<scenario_api> short_oms;
  int ran = 0;
  for (auto& sc : scenarios) {
    if (!wanted.empty() &&
        std::find(wanted.begin(), wanted.end(), sc.name) == wanted.end())
      continue;
    say(std::string{"== "} + sc.name + ": " + sc.what);
    if (sc.short_hold && !short_oms) {
      short_system = std::make_unique<order_system>(
          sys, short_hold, std::make_shared<memory_store>(), gateway);
      short_oms =
          std::make_unique<scenario_api>(scenario_api{*short_system, tag});
    }
    sc.run(sc.short_hold ? *short_oms : oms);
    ++ran;
  }
  if (ran == 0) {
    std::cerr << "no such scenario; try --list\n";
    return 2;
  }
  for (auto* api : {&oms, short_oms.get()}) {
    if (api == nullptr)
      continue;
    auto report = api->audit();
    if (!report || !report->violations.empty()) {
      ++failures;
      std::cout << "audit: "
                << (report ? nlohmann::json(*report).dump()
                           : describe(report.error()))
                << '\n';
    } else {
      say(std::string{"== audit"} +
          (api == &oms ? "" : " of the short-hold system") + ": " +
          std::to_string(report->skus_checked) + " SKUs balance, no violation");
    }
  }
  std::cout << ran << " scenarios, " << failures << " unexpected results\n";
  return failures == 0 ? 0 : 1;
}
