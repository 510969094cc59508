// omsctl end to end: each case starts the real omsd and runs the omsctl
// binary against it, checking what it prints and its exit code.
#include <doctest/doctest.h>

#include <algorithm>
#include <csignal>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <sys/wait.h>

#include "tests/e2e/daemon.hpp"

using namespace oms::e2e;
// Not `daemon`: <unistd.h> declares a function of that name.
using omsd = oms::e2e::daemon;

namespace {

const std::vector<std::string> ship_to_flags{
    "--line1",       "1 MG Road", "--city",    "Pune",
    "--postal-code", "411001",    "--country", "IN"};

// omsctl with `args`, nothing from the flags.
run_result omsctl(std::vector<std::string> args,
                  const std::vector<std::string>& env = {}) {
  args.insert(args.begin(), OMSCTL_PATH);
  return run_process(args, env);
}

// omsctl against `d` with the admin token given as flags.
run_result admin(const omsd& d, std::vector<std::string> args) {
  std::vector<std::string> argv{"--url", d.url(), "--token", d.admin_token()};
  argv.insert(argv.end(), args.begin(), args.end());
  return omsctl(argv);
}

std::vector<std::string> with(std::vector<std::string> args,
                              const std::vector<std::string>& more) {
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

// The lines of `text`.
std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> result;
  std::istringstream in{text};
  for (std::string line; std::getline(in, line);)
    result.push_back(line);
  return result;
}

// The value of "key:  value" in a key-value block ("" if absent).
std::string value_of(const std::string& text, const std::string& key) {
  for (auto& line : lines_of(text))
    if (line.rfind(key + ":", 0) == 0) {
      auto v = line.substr(key.size() + 1);
      return v.substr(std::min(v.size(), v.find_first_not_of(' ')));
    }
  return {};
}

// The whitespace-separated cells of the table row starting with `first`.
std::vector<std::string> row_of(const std::string& text,
                                const std::string& first) {
  for (auto& line : lines_of(text))
    if (line.rfind(first + " ", 0) == 0) {
      std::vector<std::string> cells;
      std::istringstream in{line};
      for (std::string cell; in >> cell;)
        cells.push_back(cell);
      return cells;
    }
  return {};
}

} // namespace

TEST_CASE("omsctl: a receipt shows as a key-value block, in a list, and as "
          "the server's JSON with -o json") {
  // Proves the three renderings of inventory carry the server's counters.
  omsd d;
  auto r = admin(
      d, {"inventory", "receive", "SKU-1", "--qty", "7", "--price", "1250"});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK(value_of(r.out, "on hand") == "7");

  auto show = admin(d, {"inventory", "show", "SKU-1"});
  REQUIRE_MESSAGE(show.exit_code == 0, show.err);
  CHECK(value_of(show.out, "sku") == "SKU-1");
  CHECK(value_of(show.out, "available") == "7");
  CHECK(value_of(show.out, "unit price") == "1250 INR");

  auto list = admin(d, {"inventory", "list"});
  REQUIRE_MESSAGE(list.exit_code == 0, list.err);
  CHECK(row_of(list.out, "SKU") ==
        std::vector<std::string>{"SKU", "SELLER", "UNIT", "PRICE", "ON", "HAND",
                                 "RESERVED", "BLOCKED", "AVAILABLE"});
  CHECK(row_of(list.out, "SKU-1") ==
        std::vector<std::string>{"SKU-1", "INTERNAL", "1250", "INR", "7", "0",
                                 "0", "7"});

  auto js = admin(d, {"inventory", "show", "SKU-1", "-o", "json"});
  REQUIRE_MESSAGE(js.exit_code == 0, js.err);
  auto j = json::parse(js.out, nullptr, false);
  REQUIRE_FALSE(j.is_discarded());
  CHECK(j["sku"] == "SKU-1");
  CHECK(j["onHand"] == 7);
  CHECK(j["available"] == 7);
  CHECK(j["unitPrice"] == 1250);
  CHECK(j["currency"] == "INR");
}

TEST_CASE("omsctl: an order placed for a new customer shows its id, status, "
          "total, hold and lines") {
  // Proves customer create and order create/show round-trip through omsd.
  omsd d;
  REQUIRE(admin(d, {"inventory", "receive", "PHONE-1", "--qty", "5", "--price",
                    "99800"})
              .exit_code == 0);
  auto cus = admin(d, {"customer", "create", "Asha Rao", "--field",
                       "customerId", "--field", "token"});
  REQUIRE_MESSAGE(cus.exit_code == 0, cus.err);
  auto cus_lines = lines_of(cus.out);
  REQUIRE(cus_lines.size() == 2);
  auto customer = cus_lines[0];
  auto token = cus_lines[1];
  CHECK(customer.rfind("cus_", 0) == 0);
  CHECK_FALSE(token.empty());

  auto created = admin(d, with({"order", "create", "--customer", customer,
                                "--item", "PHONE-1:2", "-o", "json"},
                               ship_to_flags));
  REQUIRE_MESSAGE(created.exit_code == 0, created.err);
  auto j = json::parse(created.out, nullptr, false);
  REQUIRE(j.is_object());
  auto id = j.value("id", "");
  CHECK(id.rfind("ord_", 0) == 0);
  CHECK(j["totalAmount"] == 199600);
  CHECK(j["customerId"] == customer);

  auto show = admin(d, {"order", "show", id});
  REQUIRE_MESSAGE(show.exit_code == 0, show.err);
  CHECK(value_of(show.out, "id") == id);
  CHECK(value_of(show.out, "status") == "CREATED");
  CHECK(value_of(show.out, "total") == "199600 INR");
  CHECK(value_of(show.out, "amount due") == "199600 INR");
  CHECK_FALSE(value_of(show.out, "hold expires at").empty());
  CHECK(row_of(show.out, "PHONE-1") ==
        std::vector<std::string>{"PHONE-1", "2", "0", "0", "99800", "INR",
                                 "199600", "INR"});
  CHECK(show.out.find("History") != std::string::npos);

  // The customer's own token sees the order; --field prints one value.
  auto own = omsctl({"--url", d.url(), "--token", token, "order", "show", id,
                     "--field", "status"});
  REQUIRE_MESSAGE(own.exit_code == 0, own.err);
  CHECK(own.out == "CREATED\n");
}

TEST_CASE("omsctl: an order beyond the stock exits 1 with INSUFFICIENT_STOCK "
          "on stderr and changes nothing") {
  // Proves API errors reach the user as "error: CODE: message" with exit 1.
  omsd d;
  REQUIRE(admin(d, {"inventory", "receive", "LAST-1", "--qty", "1", "--price",
                    "500"})
              .exit_code == 0);
  auto cus = admin(d, {"customer", "create", "Ravi", "--field", "customerId"});
  REQUIRE(cus.exit_code == 0);
  auto customer = lines_of(cus.out).at(0);

  auto r = admin(
      d, with({"order", "create", "--customer", customer, "--item", "LAST-1:2"},
              ship_to_flags));
  CHECK(r.exit_code == 1);
  CHECK(r.out.empty());
  CHECK_MESSAGE(r.err.rfind("error: INSUFFICIENT_STOCK: ", 0) == 0, r.err);
  // The short SKU is listed with what was available.
  CHECK(r.err.find("LAST-1: requested 2, available 1") != std::string::npos);
  auto stock =
      admin(d, {"inventory", "show", "LAST-1", "--field", "available"});
  CHECK(stock.out == "1\n");

  auto missing = admin(d, {"order", "show", "ord_doesnotexist"});
  CHECK(missing.exit_code == 1);
  CHECK(missing.err.rfind("error: ORDER_NOT_FOUND: ", 0) == 0);
}

TEST_CASE("omsctl: pay --amount due pays what is owed, cart add adds to the "
          "cart, and a checkout retried with its key returns the same "
          "order") {
  // Proves the client-side steps omsctl adds on top of single routes.
  omsd d;
  REQUIRE(admin(d, {"inventory", "receive", "BOOK-1", "--qty", "5", "--price",
                    "45000"})
              .exit_code == 0);
  auto customer = lines_of(admin(d, {"customer", "create", "Meera", "--field",
                                     "customerId"})
                               .out)
                      .at(0);
  REQUIRE(
      admin(d, {"cart", "add", customer, "BOOK-1", "--qty", "2"}).exit_code ==
      0);
  auto added = admin(d, {"cart", "add", customer, "BOOK-1", "--qty", "1",
                         "--field", "lines.0.quantity"});
  REQUIRE_MESSAGE(added.exit_code == 0, added.err);
  CHECK(added.out == "3\n");

  auto checkout =
      with({"cart", "checkout", customer, "--key", "k-1", "--field", "id"},
           ship_to_flags);
  auto first = admin(d, checkout);
  REQUIRE_MESSAGE(first.exit_code == 0, first.err);
  auto again = admin(d, checkout);
  REQUIRE_MESSAGE(again.exit_code == 0, again.err);
  CHECK(again.out == first.out);
  auto id = lines_of(first.out).at(0);

  auto paid = admin(d, {"order", "pay", id, "--amount", "due", "--field",
                        "status", "--field", "paidAmount"});
  REQUIRE_MESSAGE(paid.exit_code == 0, paid.err);
  CHECK(paid.out == "PAID\n135000\n");

  // Shipping line by line, with tracking, shown in the order's table.
  auto part =
      admin(d, {"order", "ship-lines", id, "--line", "BOOK-1:1", "--carrier",
                "BlueDart", "--tracking", "BD77", "--key", "s-1"});
  REQUIRE_MESSAGE(part.exit_code == 0, part.err);
  CHECK(part.out.find("PARTIALLY_SHIPPED") != std::string::npos);
  CHECK(part.out.find("Shipments") != std::string::npos);
  CHECK(part.out.find("BD77") != std::string::npos);
  auto too_many = admin(d, {"order", "ship-lines", id, "--line", "BOOK-1:3"});
  CHECK(too_many.exit_code == 1);
  CHECK(too_many.err.find("VALIDATION_FAILED") != std::string::npos);
  auto rest = admin(d, {"order", "ship-lines", id, "--line", "BOOK-1:2",
                        "--field", "status"});
  REQUIRE_MESSAGE(rest.exit_code == 0, rest.err);
  CHECK(rest.out == "SHIPPED\n");
}

TEST_CASE("omsctl: an unreachable daemon exits 3 and names the URL") {
  // Proves a connection failure is told apart from an API error.
  omsd d;
  auto url = d.url();
  d.stop();
  auto r = omsctl({"--url", url, "--token", "x", "inventory", "show", "A"});
  CHECK(r.exit_code == 3);
  CHECK_MESSAGE(r.err.find("cannot reach omsd at " + url) != std::string::npos,
                r.err);
}

TEST_CASE("omsctl: OMS_URL, OMS_TOKEN and --token-file are used, and flags "
          "win over the environment") {
  // Proves the connection settings come from where the help says.
  omsd d;
  auto receive =
      std::vector<std::string>{"inventory", "receive", "ENV-1",   "--qty", "3",
                               "--price",   "100",     "--field", "onHand"};
  auto env =
      omsctl(receive, {"OMS_URL=" + d.url(), "OMS_TOKEN=" + d.admin_token()});
  REQUIRE_MESSAGE(env.exit_code == 0, env.err);
  CHECK(env.out == "3\n");

  // No token at all: omsd refuses, and says why.
  auto anonymous = omsctl({"inventory", "show", "ENV-1"},
                          {"OMS_URL=" + d.url(), "OMS_TOKEN="});
  CHECK(anonymous.exit_code == 1);
  CHECK(anonymous.err.rfind("error: UNAUTHORIZED: ", 0) == 0);

  // --url and --token override a wrong environment.
  auto flags = omsctl({"--url", d.url(), "--token", d.admin_token(),
                       "inventory", "show", "ENV-1", "--field", "onHand"},
                      {"OMS_URL=http://127.0.0.1:1", "OMS_TOKEN=wrong-token"});
  CHECK_MESSAGE(flags.exit_code == 0, flags.err);
  CHECK(flags.out == "3\n");

  // The first line of --token-file is the token.
  auto path = d.data_dir() + "/omsctl.token";
  std::ofstream{path} << d.admin_token() << "\nignored\n";
  auto file = omsctl(
      {"--token-file", path, "inventory", "show", "ENV-1", "--field", "onHand"},
      {"OMS_URL=" + d.url(), "OMS_TOKEN="});
  CHECK_MESSAGE(file.exit_code == 0, file.err);
  CHECK(file.out == "3\n");
}

TEST_CASE("omsctl: bad usage exits 2 before any request") {
  // Proves usage errors are caught locally: the URL points nowhere, so a
  // request would have exited 3.
  std::vector<std::string> nowhere{"--url", "http://127.0.0.1:1"};
  auto bad_line = omsctl(with(
      with(nowhere, {"order", "create", "--item", "PHONE-1"}), ship_to_flags));
  CHECK(bad_line.exit_code == 2);
  CHECK(bad_line.err.find("SKU:QTY") != std::string::npos);
  CHECK(omsctl(with(nowhere, {"inventory", "receive", "SKU-1"})).exit_code ==
        2);
  CHECK(omsctl(with(nowhere, {"order", "pay", "ord_1", "--amount", "1.5"}))
            .exit_code == 2);
  CHECK(omsctl(with(nowhere, {"order"})).exit_code == 2);
  CHECK(omsctl(with(nowhere, {"--token-file", "/nonexistent/token", "health"}))
            .exit_code == 2);
}

TEST_CASE("omsctl: --help names every command and health and metrics work "
          "without a token") {
  // Proves the help is complete and the unauthenticated routes are reachable.
  auto help = omsctl({"--help"});
  CHECK(help.exit_code == 0);
  for (auto* cmd : {"inventory", "customer", "cart", "order", "audit", "health",
                    "metrics", "OMS_URL", "OMS_TOKEN"})
    CHECK_MESSAGE(help.out.find(cmd) != std::string::npos, cmd);
  auto order_help = omsctl({"order", "--help"});
  CHECK(order_help.exit_code == 0);
  for (auto* cmd : {"create", "show", "list", "confirm", "pay", "ship",
                    "ship-lines", "return", "return-receive", "return-inspect",
                    "return-reject", "deliver", "cancel", "set-status"})
    CHECK_MESSAGE(order_help.out.find(cmd) != std::string::npos, cmd);

  omsd d;
  auto health = omsctl({"--url", d.url(), "health"}, {"OMS_TOKEN="});
  CHECK_MESSAGE(health.exit_code == 0, health.err);
  CHECK(value_of(health.out, "healthz") == "ok");
  CHECK(value_of(health.out, "readyz").rfind("ready", 0) == 0);
  auto metrics = omsctl({"--url", d.url(), "metrics"}, {"OMS_TOKEN="});
  CHECK(metrics.exit_code == 0);
  CHECK(metrics.out.find("oms_up 1") != std::string::npos);
}

namespace {

// An RFC 3339 UTC timestamp `days` from now, whole seconds.
std::string days_from_now(int days) {
  auto t = std::time(nullptr) + static_cast<std::time_t>(days) * 24 * 3600;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

} // namespace

TEST_CASE("omsctl: receipts into lots with an event id, stock set aside and "
          "adjusted, show prints the batches and the unallocatable units") {
  // Proves inventory receive's new options and inventory change reach omsd,
  // and the table output shows outcomes, batches and reasons.
  omsd d;
  auto late = days_from_now(60);
  auto early = days_from_now(30);
  std::vector<std::string> grn{
      "inventory", "receive",    "MILK-1", "--qty",  "3",
      "--price",   "5600",       "--lot",  "L-LATE", "--expires-at",
      late,        "--event-id", "grn-1"};
  auto first = admin(d, grn);
  REQUIRE_MESSAGE(first.exit_code == 0, first.err);
  CHECK(value_of(first.out, "outcome") == "APPLIED");
  CHECK(value_of(first.out, "event id") == "grn-1");
  CHECK(value_of(first.out, "on hand") == "3");
  auto again = admin(d, grn);
  REQUIRE_MESSAGE(again.exit_code == 0, again.err);
  CHECK(value_of(again.out, "outcome") == "DUPLICATE");
  CHECK(value_of(again.out, "on hand") == "3");
  REQUIRE(admin(d, {"inventory", "receive", "MILK-1", "--qty", "2", "--lot",
                    "L-EARLY", "--expires-at", early})
              .exit_code == 0);

  auto aside =
      admin(d, {"inventory", "change", "MILK-1", "--kind", "set_aside", "--qty",
                "1", "--reason", "damaged", "--lot", "L-EARLY"});
  REQUIRE_MESSAGE(aside.exit_code == 0, aside.err);
  CHECK(value_of(aside.out, "outcome") == "APPLIED");
  CHECK(value_of(aside.out, "unallocatable") == "1 (DAMAGED 1)");
  // A negative adjustment, both ways of writing it.
  for (auto qty : {std::vector<std::string>{"--qty", "-1"},
                   std::vector<std::string>{"--qty=-1"}}) {
    auto adj =
        admin(d, with({"inventory", "change", "MILK-1", "--kind", "ADJUSTMENT",
                       "--lot", "L-LATE", "--note", "cycle count"},
                      qty));
    REQUIRE_MESSAGE(adj.exit_code == 0, adj.err);
  }
  auto show = admin(d, {"inventory", "show", "MILK-1"});
  REQUIRE_MESSAGE(show.exit_code == 0, show.err);
  CHECK(value_of(show.out, "available") == "2");
  CHECK(value_of(show.out, "adjusted total") == "-2");
  CHECK(value_of(show.out, "unallocatable") == "1 (DAMAGED 1)");
  auto rendered = [](const std::string& t) {
    return t.substr(0, t.size() - 1) + ".000Z";
  };
  CHECK(row_of(show.out, "LOT") ==
        std::vector<std::string>{"LOT", "EXPIRES", "AT", "ON", "HAND", "HELD",
                                 "AVAILABLE", "DAMAGED", "QUARANTINED",
                                 "EXPIRED", "SAFETY_STOCK"});
  CHECK(row_of(show.out, "L-EARLY") ==
        std::vector<std::string>{"L-EARLY", rendered(early), "2", "0", "1", "1",
                                 "0", "0", "0"});
  CHECK(row_of(show.out, "L-LATE") ==
        std::vector<std::string>{"L-LATE", rendered(late), "1", "0", "1", "0",
                                 "0", "0", "0"});

  // An order's lines name the lots, first to expire first.
  auto customer =
      lines_of(
          admin(d, {"customer", "create", "Ira", "--field", "customerId"}).out)
          .at(0);
  auto id = lines_of(admin(d, with({"order", "create", "--customer", customer,
                                    "--item", "MILK-1:2", "--field", "id"},
                                   ship_to_flags))
                         .out)
                .at(0);
  auto order = admin(d, {"order", "show", id});
  REQUIRE_MESSAGE(order.exit_code == 0, order.err);
  auto line = row_of(order.out, "MILK-1");
  REQUIRE_FALSE(line.empty());
  CHECK(line.back() == "L-EARLY:1,L-LATE:1");

  // A change the stock refuses, with an event id: REJECTED, exit 1.
  auto rejected = admin(d, {"inventory", "change", "MILK-1", "--kind",
                            "RETURN_ASIDE", "--qty", "5", "--reason", "DAMAGED",
                            "--lot", "L-EARLY", "--event-id", "qc-1"});
  CHECK(rejected.exit_code == 1);
  CHECK(value_of(rejected.out, "outcome") == "REJECTED");
  CHECK_MESSAGE(rejected.err.rfind("error: INSUFFICIENT_STOCK: ", 0) == 0,
                rejected.err);
  CHECK(rejected.err.find("qc-1") != std::string::npos);
  // -o json prints the server's answer. More units of a batch that expires
  // repeat its expiry.
  auto js = admin(d, {"inventory", "change", "MILK-1", "--kind", "RECEIPT",
                      "--qty", "1", "--lot", "L-LATE", "--expires-at", late,
                      "--event-id", "grn-2", "-o", "json"});
  REQUIRE_MESSAGE(js.exit_code == 0, js.err);
  auto j = json::parse(js.out, nullptr, false);
  REQUIRE(j.is_object());
  CHECK(j["outcome"] == "APPLIED");
  CHECK(j["eventId"] == "grn-2");
  CHECK(j["stock"]["onHand"] == 4);

  // Kinds and reasons are checked before any request.
  CHECK(admin(d, {"inventory", "change", "MILK-1", "--kind", "TRANSFER",
                  "--qty", "1"})
            .exit_code == 2);
  CHECK(admin(d, {"inventory", "change", "MILK-1", "--kind", "SET_ASIDE",
                  "--qty", "1", "--reason", "EXPIRED"})
            .exit_code == 2);
  CHECK(admin(d, {"inventory", "change", "MILK-1", "--qty", "1"}).exit_code ==
        2);
  // The server's checks: a bad lot exits 1 with VALIDATION_FAILED.
  auto bad_lot = admin(d, {"inventory", "receive", "MILK-1", "--qty", "1",
                           "--lot", "no spaces"});
  CHECK(bad_lot.exit_code == 1);
  CHECK(bad_lot.err.rfind("error: VALIDATION_FAILED: lot", 0) == 0);
}

TEST_CASE("omsctl: wms status without a WMS exits 1 with WMS_UNAVAILABLE, "
          "a customer token gets FORBIDDEN") {
  // Proves the wms command reaches GET /v1/wms and reports its refusals.
  omsd d;
  auto r = admin(d, {"wms", "status"});
  CHECK(r.exit_code == 1);
  CHECK(r.out.empty());
  CHECK_MESSAGE(
      r.err.rfind("error: WMS_UNAVAILABLE: no WMS configured", 0) == 0, r.err);
  auto token =
      lines_of(admin(d, {"customer", "create", "Om", "--field", "token"}).out)
          .at(0);
  auto cust = omsctl({"--url", d.url(), "--token", token, "wms", "status"});
  CHECK(cust.exit_code == 1);
  CHECK(cust.err.rfind("error: FORBIDDEN: ", 0) == 0);
  auto help = omsctl({"--help"});
  CHECK(help.out.find("wms") != std::string::npos);
  CHECK(omsctl({"wms"}).exit_code == 2);
}

TEST_CASE("omsctl: events tail prints the feed, filtered, and follows it") {
  omsd d;
  REQUIRE(admin(d, {"inventory", "receive", "TAIL-1", "--qty", "5", "--price",
                    "100"})
              .exit_code == 0);
  // The newest events of the log, under a header.
  auto tail = admin(d, {"events", "tail"});
  REQUIRE_MESSAGE(tail.exit_code == 0, tail.err);
  auto lines = lines_of(tail.out);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0].rfind("ID", 0) == 0);
  CHECK(lines[1].find("oms.sku.created") != std::string::npos);
  CHECK(lines[2].find("oms.stock.received") != std::string::npos);
  CHECK(lines[2].find("TAIL-1") != std::string::npos);
  // Fields, for scripts; a filter by type.
  auto ids = admin(d, {"events", "tail", "--after", "0", "--type",
                       "oms.stock.*", "--field", "id", "--field", "type"});
  REQUIRE(ids.exit_code == 0);
  CHECK(lines_of(ids.out) ==
        std::vector<std::string>{"2", "oms.stock.received"});
  // A type that names nothing: the API's error, exit 1.
  auto bad = admin(d, {"events", "tail", "--type", "oms.nope"});
  CHECK(bad.exit_code == 1);
  CHECK(bad.err.find("VALIDATION_FAILED") != std::string::npos);

  // --follow prints events committed after it started, one JSON per line.
  auto out = d.data_dir() + "/follow.out";
  auto pid = spawn_process({OMSCTL_PATH, "--url", d.url(), "--token",
                            d.admin_token(), "-o", "json", "events", "tail",
                            "--follow", "--type", "oms.stock.received"},
                           {}, out, d.data_dir() + "/follow.err");
  auto followed = [&] {
    std::ifstream in{out};
    std::vector<json> got;
    for (std::string line; std::getline(in, line);)
      got.push_back(json::parse(line, nullptr, false));
    return got;
  };
  REQUIRE(eventually([&] { return followed().size() == 1; },
                     std::chrono::seconds(20)));
  REQUIRE(
      admin(d, {"inventory", "receive", "TAIL-1", "--qty", "2"}).exit_code ==
      0);
  REQUIRE(eventually([&] { return followed().size() == 2; },
                     std::chrono::seconds(20)));
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  auto got = followed();
  CHECK(got[0]["data"]["quantity"] == 5);
  CHECK(got[1]["data"]["quantity"] == 2);
  CHECK(got[1]["subject"] == "TAIL-1");
}

TEST_CASE("omsctl: order list searches every order by status and SKU") {
  omsd d;
  REQUIRE(
      admin(d, {"inventory", "receive", "LS-1", "--qty", "5", "--price", "100"})
          .exit_code == 0);
  auto customer =
      lines_of(
          admin(d, {"customer", "create", "Ira", "--field", "customerId"}).out)
          .at(0);
  auto make = [&] {
    return lines_of(admin(d, with({"order", "create", "--customer", customer,
                                   "--item", "LS-1:1", "--field", "id"},
                                  ship_to_flags))
                        .out)
        .at(0);
  };
  auto first = make();
  auto second = make();
  REQUIRE(admin(d, {"order", "confirm", second}).exit_code == 0);
  auto confirmed = admin(d, {"order", "list", "--status", "confirmed", "--sku",
                             "LS-1", "--field", "orders.0.id"});
  REQUIRE_MESSAGE(confirmed.exit_code == 0, confirmed.err);
  CHECK(lines_of(confirmed.out) == std::vector<std::string>{second});
  auto all = admin(d, {"order", "list", "-o", "json"});
  REQUIRE(all.exit_code == 0);
  auto page = json::parse(all.out);
  REQUIRE(page["orders"].size() == 2);
  CHECK(page["orders"][0]["id"] == second);
  CHECK(page["orders"][1]["id"] == first);
  // --customer as an option, with a filter: the admin search by customer.
  auto mine = admin(d, {"order", "list", "--customer", customer, "--status",
                        "created", "--field", "orders.0.id"});
  REQUIRE_MESSAGE(mine.exit_code == 0, mine.err);
  CHECK(lines_of(mine.out) == std::vector<std::string>{first});
  auto nobody = admin(d, {"-o", "json", "order", "list", "--customer",
                          "cus_nobody", "--status", "created"});
  REQUIRE(nobody.exit_code == 0);
  CHECK(json::parse(nobody.out)["orders"].empty());
  auto bad = admin(d, {"order", "list", "--since", "yesterday"});
  CHECK(bad.exit_code == 1);
  CHECK(bad.err.find("createdFrom") != std::string::npos);
}

TEST_CASE("omsctl: webhook add, list, show, deliveries, pause, resume, "
          "rotate and rm") {
  omsd d;
  // A URL on a host omsd may call, where nothing listens: every try fails
  // at once (connection refused), and no receiver is needed.
  auto url = "http://127.0.0.1:" + std::to_string(free_port()) + "/h";
  auto add = admin(d, {"-o", "json", "webhook", "add", url, "--type",
                       "oms.stock.*", "--description", "ops"});
  REQUIRE_MESSAGE(add.exit_code == 0, add.err);
  auto hook = json::parse(add.out);
  auto id = hook["id"].get<std::string>();
  CHECK(hook["secret"].get<std::string>().rfind("whsec_", 0) == 0);
  auto list = admin(d, {"webhook", "list"});
  REQUIRE(list.exit_code == 0);
  CHECK(list.out.find(id) != std::string::npos);
  CHECK(list.out.find("whsec_") == std::string::npos);
  // Paused, it tries nothing; a receipt waits for it.
  REQUIRE(admin(d, {"webhook", "pause", id}).exit_code == 0);
  REQUIRE(admin(d, {"inventory", "receive", "HOOK-1", "--qty", "1", "--price",
                    "100"})
              .exit_code == 0);
  auto show = admin(d, {"webhook", "show", id, "--field", "paused"});
  CHECK(lines_of(show.out) == std::vector<std::string>{"true"});
  auto none = admin(d, {"-o", "json", "webhook", "deliveries", id});
  REQUIRE(none.exit_code == 0);
  CHECK(json::parse(none.out)["deliveries"].empty());
  // Resumed: it tries, and the refused connection shows as a try to retry.
  REQUIRE(admin(d, {"webhook", "resume", id}).exit_code == 0);
  REQUIRE(eventually(
      [&] {
        auto r = admin(d, {"-o", "json", "webhook", "deliveries", id});
        auto j = json::parse(r.out, nullptr, false);
        return !j.is_discarded() && !j["deliveries"].empty() &&
               j["deliveries"][0]["status"] == "RETRYING";
      },
      std::chrono::seconds(20)));
  auto table = admin(d, {"webhook", "deliveries", id});
  CHECK(table.out.find("RETRYING") != std::string::npos);
  CHECK(table.out.find("oms.stock.received") != std::string::npos);
  auto rotated = admin(
      d, {"-o", "json", "webhook", "rotate", id, "--grace-seconds", "60"});
  REQUIRE(rotated.exit_code == 0);
  CHECK(json::parse(rotated.out)["secret"] != hook["secret"]);
  // Gone; then an unknown id is the API's error, exit 1.
  REQUIRE(admin(d, {"webhook", "rm", id}).exit_code == 0);
  auto gone = admin(d, {"webhook", "show", id});
  CHECK(gone.exit_code == 1);
  CHECK(gone.err.find("NOT_FOUND") != std::string::npos);
  // A host omsd may not call: refused, naming the field.
  auto far = admin(
      d, {"webhook", "add", "http://10.1.2.3/h", "--type", "oms.order.*"});
  CHECK(far.exit_code == 1);
  CHECK(far.err.find("url") != std::string::npos);
  CHECK(admin(d, {"webhook", "add", url}).exit_code == 2); // no --type
}
