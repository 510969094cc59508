// omsctl: the command-line client of omsd's JSON/HTTP API, one subcommand per
// route of system/daemon/api.cpp. Prints tables and key-value blocks by
// default, the server's JSON with `-o json`, single values with `--field`.
//
// Exit codes: 0 success; 1 the API answered an error (printed to stderr as
// "error: CODE: message"); 2 bad usage; 3 omsd could not be reached.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "system/client/http_client.hpp"

namespace {

using json = nlohmann::json;
using oms::client::http_client;
using oms::client::http_result;
using oms::client::url_encode;

constexpr int exit_api_error = 1;
constexpr int exit_usage = 2;
constexpr int exit_unreachable = 3;

/// Most pages `--all` follows before giving up (a bound on the loop).
constexpr int pages_max = 10'000;

// -- failures -----------------------------------------------------------------

/// The API answered an error: exit 1.
struct api_error {
  long status = 0;
  std::string code;
  std::string message;
  json details = json::object();
};

/// No answer at all (refused, timed out, bad host): exit 3.
struct unreachable {
  std::string url;
  std::string why;
};

/// Bad usage found after parsing (unreadable token file, no such field): exit
/// 2.
struct usage_error {
  std::string message;
};

// -- reading answers ----------------------------------------------------------

// The error of a non-2xx answer: the API's {"error": {...}} body, or the bare
// HTTP status when the body is something else (e.g. a proxy's page).
api_error error_of(const http_result& res) {
  api_error err;
  err.status = res.status;
  auto body = json::parse(res.body, nullptr, false);
  if (!body.is_discarded() && body.is_object() && body.contains("error") &&
      body["error"].is_object()) {
    auto& e = body["error"];
    err.code = e.value("code", "");
    err.message = e.value("message", "");
    if (auto d = e.find("details"); d != e.end() && d->is_object())
      err.details = *d;
  }
  if (err.code.empty()) {
    err.code = "HTTP_" + std::to_string(res.status);
    err.message = res.body.substr(0, 200);
    while (!err.message.empty() &&
           std::isspace(static_cast<unsigned char>(err.message.back())))
      err.message.pop_back();
  }
  return err;
}

/// One connection to omsd. Every call throws api_error or unreachable instead
/// of returning a failure.
class session {
 public:
  session(const std::string& url, const std::string& token,
          std::chrono::milliseconds timeout)
      : http_(url, token, timeout) {}

  /// Sends `body` (none if null) and returns the parsed JSON answer.
  json call(const std::string& method, const std::string& path,
            const json& body = nullptr, const std::string& key = {}) {
    auto text = body.is_null()
                    ? std::string{}
                    : body.dump(-1, ' ', false, json::error_handler_t::replace);
    auto res = send(method, path, text, key);
    auto j = json::parse(res.body, nullptr, false);
    if (j.is_discarded())
      throw api_error{res.status, "BAD_RESPONSE",
                      "the answer of " + method + " " + path +
                          " is not JSON: " + res.body.substr(0, 200)};
    return j;
  }

  /// Sends a request and returns the raw 2xx answer.
  http_result send(const std::string& method, const std::string& path,
                   const std::string& body = {}, const std::string& key = {}) {
    std::vector<std::string> headers;
    if (!key.empty())
      headers.push_back("Idempotency-Key: " + key);
    auto res = http_.request(method, path, body, headers);
    if (res.status == 0)
      throw unreachable{http_.base_url(), res.error};
    if (!res.ok())
      throw error_of(res);
    return res;
  }

 private:
  http_client http_;
};

// -- printing -----------------------------------------------------------------

/// A value as text: strings bare, null as "-", anything else as JSON.
std::string text(const json& j) {
  if (j.is_string())
    return j.get<std::string>();
  if (j.is_null())
    return "-";
  return j.dump();
}

/// Field `key` of `j` as text ("-" if missing or null).
std::string text(const json& j, const char* key) {
  auto i = j.find(key);
  return i == j.end() ? "-" : text(*i);
}

/// An amount of minor units with its currency: "99800 INR".
std::string money(const json& j, const char* key, const json& owner) {
  auto i = j.find(key);
  if (i == j.end() || i->is_null())
    return "-";
  return text(*i) + " " + owner.value("currency", "INR");
}

std::string money(const json& j, const char* key) {
  return money(j, key, j);
}

using block = std::vector<std::pair<std::string, std::string>>;

/// Prints "key:  value" lines with the values aligned.
void print_block(const block& rows) {
  size_t width = 0;
  for (auto& [k, v] : rows)
    width = std::max(width, k.size());
  for (auto& [k, v] : rows)
    std::cout << k << ':' << std::string(width - k.size() + 2, ' ') << v
              << '\n';
}

/// A text table; `align` has one letter per column, 'l' or 'r'.
class table {
 public:
  table(std::vector<std::string> header, std::string align)
      : align_(std::move(align)) {
    rows_.push_back(std::move(header));
  }

  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }

  bool empty() const { return rows_.size() == 1; }

  void print() const {
    std::vector<size_t> width(rows_[0].size(), 0);
    for (auto& row : rows_)
      for (size_t c = 0; c < row.size() && c < width.size(); ++c)
        width[c] = std::max(width[c], row[c].size());
    for (auto& row : rows_) {
      std::string line;
      for (size_t c = 0; c < width.size(); ++c) {
        auto cell = c < row.size() ? row[c] : std::string{};
        auto pad = std::string(width[c] - cell.size(), ' ');
        bool right = c < align_.size() && align_[c] == 'r';
        line += right ? pad + cell : cell + pad;
        if (c + 1 < width.size())
          line += "  ";
      }
      while (!line.empty() && line.back() == ' ')
        line.pop_back();
      std::cout << line << '\n';
    }
  }

 private:
  std::string align_;
  std::vector<std::vector<std::string>> rows_;
};

/// How to print an answer: a table (default), JSON, or some fields.
struct output {
  std::string format = "table";
  std::vector<std::string> fields;

  /// Prints `body` as asked; `as_table` renders the readable form.
  void emit(const json& body,
            const std::function<void(const json&)>& as_table) const {
    if (!fields.empty()) {
      std::string lines; // all or nothing: a missing field prints none
      for (auto& field : fields) {
        auto v = lookup(body, field);
        lines += v.is_string() ? v.get<std::string>()
                 : v.is_null() ? std::string{}
                               : v.dump();
        lines += '\n';
      }
      std::cout << lines;
    } else if (format == "json") {
      std::cout << body.dump(2) << '\n';
    } else {
      as_table(body);
    }
  }

  // The value at the dotted path `field` ("lines.0.sku").
  static json lookup(const json& body, const std::string& field) {
    const json* at = &body;
    size_t i = 0;
    while (i <= field.size()) {
      auto j = field.find('.', i);
      if (j == std::string::npos)
        j = field.size();
      auto part = field.substr(i, j - i);
      i = j + 1;
      const json* next = nullptr;
      if (at->is_object()) {
        if (auto k = at->find(part); k != at->end())
          next = &*k;
      } else if (at->is_array() && !part.empty() &&
                 part.find_first_not_of("0123456789") == std::string::npos &&
                 part.size() < 9) {
        auto n = std::stoul(part);
        if (n < at->size())
          next = &(*at)[n];
      }
      if (next == nullptr) {
        std::string known;
        if (at->is_object())
          for (auto& [k, v] : at->items())
            known += (known.empty() ? "" : ", ") + k;
        else if (at->is_array())
          known = "indexes 0 to " + std::to_string(at->size()) + " - 1";
        throw usage_error{"--field " + field + ": the answer has no '" + part +
                          "'" +
                          (known.empty() ? "" : " (it has " + known + ")")};
      }
      at = next;
    }
    return *at;
  }
};

// -- rendering the API's shapes -----------------------------------------------

/// The reasons units are not for sale, in the server's order.
const char* const unallocatable_reasons[] = {"DAMAGED", "QUARANTINED",
                                             "EXPIRED", "SAFETY_STOCK"};

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
  // EXTERNAL: how the count derives from the WMS's last snapshot.
  if (auto e = s.find("external"); e != s.end() && e->is_object()) {
    auto& x = *e;
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
  print_block(rows);

  auto batches = s.value("batches", json::array());
  if (batches.empty())
    return;
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

void print_wms(const json& w) {
  print_block({{"breaker", text(w, "breaker")},
               {"breaker opened", text(w, "breakerOpened")},
               {"calls accepted", text(w, "callsAccepted")},
               {"calls completed", text(w, "completed")},
               {"requests sent", text(w, "callsSent")},
               {"retries", text(w, "retries")},
               {"coalesced reads", text(w, "coalesced")},
               {"answers 2xx", text(w, "answered2xx")},
               {"answers 4xx", text(w, "answered4xx")},
               {"answers 429", text(w, "answered429")},
               {"answers 5xx", text(w, "answered5xx")},
               {"transport errors", text(w, "transportErrors")},
               {"rejected: queue full", text(w, "rejectedQueueFull")},
               {"rejected: breaker open", text(w, "rejectedBreakerOpen")},
               {"failed: deadline", text(w, "failedDeadline")},
               {"failed: attempts", text(w, "failedAttempts")},
               {"rejected: invalid", text(w, "rejectedInvalid")},
               {"queue depth", text(w, "queueDepth") + " (max " +
                                   text(w, "queueDepthMax") + ")"},
               {"in flight", text(w, "inFlight")},
               {"most sends in 1 s", text(w, "sentInWindowMax")}});
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
  if (auto c = page.find("nextCursor"); c != page.end() && !c->is_null())
    std::cout << "next cursor: " << text(*c) << "  (--cursor " << text(*c)
              << " for the next page, --all for every page)\n";
}

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

void print_order(const json& o) {
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

  std::cout << "\nLines\n";
  // The batches a line's units came from, when a SKU keeps named lots.
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
    if (named_lots) {
      std::string lots;
      for (auto& lot : l.value("lots", json::array())) {
        auto name = lot.value("lot", "");
        lots += (lots.empty() ? "" : ",") + (name.empty() ? "-" : name) + ":" +
                text(lot, "quantity");
      }
      row.push_back(lots.empty() ? "-" : lots);
    }
    lines.add(std::move(row));
  }
  lines.print();

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

  auto payments = o.value("payments", json::array());
  if (!payments.empty()) {
    std::cout << "\nPayments\n";
    table t{{"KIND", "STATUS", "AMOUNT", "REFERENCE", "AT", "REASON"},
            "llrlll"};
    for (auto& p : payments)
      t.add({text(p, "kind"), text(p, "status"), money(p, "amount"),
             p.value("reference", ""), text(p, "at"), p.value("reason", "")});
    t.print();
  }
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
  if (auto c = page.find("nextCursor"); c != page.end() && !c->is_null())
    std::cout << "next cursor: " << text(*c) << "  (--cursor " << text(*c)
              << " for the next page, --all for every page)\n";
}

void print_cart(const json& c) {
  print_block({{"customer", text(c, "customerId")},
               {"total", money(c, "totalAmount")}});
  std::cout << '\n';
  table t{{"SKU", "QTY", "UNIT PRICE", "LINE TOTAL"}, "lrrr"};
  for (auto& l : c.value("lines", json::array()))
    t.add({text(l, "sku"), text(l, "quantity"), money(l, "unitPrice", c),
           money(l, "lineTotal", c)});
  if (t.empty())
    std::cout << "(the cart is empty)\n";
  else
    t.print();
}

void print_customer(const json& c) {
  block rows{{"id", text(c, "customerId")},
             {"name", text(c, "name")},
             {"created at", text(c, "createdAt")}};
  if (c.contains("token"))
    rows.emplace_back("token", text(c, "token"));
  print_block(rows);
  if (c.contains("token"))
    std::cout << "\nThe token is shown only once. Act as this customer with "
                 "--token TOKEN or OMS_TOKEN=TOKEN.\n";
}

void print_audit(const json& a) {
  auto violations = a.value("violations", json::array());
  print_block({{"SKUs checked", text(a, "skusChecked")},
               {"live orders", text(a, "liveOrders")},
               {"violations", std::to_string(violations.size())}});
  if (violations.empty())
    return;
  std::cout << '\n';
  table t{{"SKU", "VIOLATION"}, "ll"};
  for (auto& v : violations)
    t.add({text(v, "sku"), text(v, "what")});
  t.print();
}

// -- reading arguments --------------------------------------------------------

/// "SKU:QTY" split at the last colon.
std::pair<std::string, int64_t> parse_line(const std::string& arg) {
  auto colon = arg.rfind(':');
  return {arg.substr(0, colon), std::stoll(arg.substr(colon + 1))};
}

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

const auto seller_arg =
    CLI::IsMember({"INTERNAL", "EXTERNAL"}, CLI::ignore_case);

const auto kind_arg = CLI::IsMember(
    {"RECEIPT", "ADJUSTMENT", "SET_ASIDE", "RETURN_ASIDE"}, CLI::ignore_case);

// EXPIRED is left out: only a batch's expiry sets it.
const auto reason_arg =
    CLI::IsMember({"DAMAGED", "QUARANTINED", "SAFETY_STOCK"}, CLI::ignore_case);

/// The first line of `path`, without trailing white space.
std::string read_token_file(const std::string& path) {
  std::ifstream in{path};
  if (!in)
    throw usage_error{"cannot read the token file " + path};
  std::string line;
  std::getline(in, line);
  while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back())))
    line.pop_back();
  if (line.empty())
    throw usage_error{"the token file " + path + " has an empty first line"};
  return line;
}

std::string env_or(const char* name, std::string fallback) {
  auto* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string{v} : fallback;
}

/// Appends "name=value" to a query string being built.
void add_query(std::string& query, const std::string& name,
               const std::string& value) {
  if (value.empty())
    return;
  query += query.empty() ? '?' : '&';
  query += name + "=" + url_encode(value);
}

struct address_args {
  std::string line1;
  std::string line2;
  std::string city;
  std::string postal_code;
  std::string country;

  json to_json() const {
    json a{{"line1", line1},
           {"city", city},
           {"postalCode", postal_code},
           {"country", country}};
    if (!line2.empty())
      a["line2"] = line2;
    return a;
  }
};

void add_address_options(CLI::App* cmd, address_args& a) {
  std::string group = "Ship to";
  cmd->add_option("--line1", a.line1, "Street and number")
      ->required()
      ->group(group);
  cmd->add_option("--line2", a.line2, "Second address line")->group(group);
  cmd->add_option("--city", a.city, "City")->required()->group(group);
  cmd->add_option("--postal-code", a.postal_code, "Postal code")
      ->required()
      ->group(group);
  cmd->add_option("--country", a.country, "Country (e.g. IN)")
      ->required()
      ->group(group);
}

// -- the command line ---------------------------------------------------------

/// Everything the command line can hold; the subcommands' actions read it.
struct args {
  // Connection and output.
  std::string url = "http://127.0.0.1:8080";
  std::string token;
  std::string token_file;
  double timeout_s = 30;
  output out;
  // Shared by the subcommands (only one runs).
  std::string sku;
  std::string id;
  std::string customer;
  std::string name;
  std::string seller;
  std::string cursor;
  std::string reason;
  std::string key;
  std::string status;
  std::string amount;
  std::string payment_token;
  std::string kind;
  std::string lot;
  std::string expires_at;
  std::string event_id;
  std::string note;
  int64_t quantity = 0;
  std::optional<int64_t> price;
  std::optional<int64_t> limit;
  bool all = false;
  std::vector<std::string> items;
  std::vector<std::string> skus;
  address_args ship_to;
};

using action = std::function<void(session&, const args&)>;

// Fetches pages of `path` until the last (or `--all` is off), merging the
// array `items_key` into one answer.
json fetch_pages(session& s, const std::string& path, std::string query,
                 const args& a, const char* items_key) {
  auto page = s.call("GET", path + query);
  if (!a.all)
    return page;
  auto merged = page;
  for (int n = 1; n < pages_max; ++n) {
    auto c = page.find("nextCursor");
    if (c == page.end() || !c->is_string() || c->get<std::string>().empty())
      break;
    auto next = query;
    add_query(next, "cursor", c->get<std::string>());
    page = s.call("GET", path + next);
    for (auto& x : page.value(items_key, json::array()))
      merged[items_key].push_back(x);
  }
  merged["nextCursor"] = nullptr;
  return merged;
}

std::string sku_path(const std::string& sku) {
  return "/v1/inventory/" + url_encode(sku);
}

std::string order_path(const std::string& id) {
  return "/v1/orders/" + url_encode(id);
}

std::string customer_path(const std::string& id) {
  return "/v1/customers/" + url_encode(id);
}

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

void add_batch_fields(json& body, const args& a) {
  if (!a.lot.empty())
    body["lot"] = a.lot;
  if (!a.expires_at.empty())
    body["expiresAt"] = a.expires_at;
  if (!a.event_id.empty())
    body["eventId"] = a.event_id;
}

void add_inventory(CLI::App& app, args& a, action& run) {
  auto* inv = app.add_subcommand("inventory", "Stock per SKU and seller");
  inv->require_subcommand(1);

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
  receive->callback([&] {
    run = [](session& s, const args& a) {
      json body{{"quantity", a.quantity}};
      if (a.price)
        body["unitPrice"] = *a.price;
      if (!a.seller.empty())
        body["seller"] = a.seller;
      add_batch_fields(body, a);
      auto answer = s.call("POST", sku_path(a.sku) + "/receipts", body);
      a.out.emit(answer, print_change);
      fail_if_rejected(answer);
    };
  });

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
  change->callback([&] {
    run = [](session& s, const args& a) {
      json body{{"kind", a.kind}, {"quantity", a.quantity}};
      if (a.price)
        body["unitPrice"] = *a.price;
      if (!a.reason.empty())
        body["reason"] = a.reason;
      if (!a.note.empty())
        body["note"] = a.note;
      add_batch_fields(body, a);
      auto answer = s.call("POST", sku_path(a.sku) + "/changes", body);
      a.out.emit(answer, print_change);
      fail_if_rejected(answer);
    };
  });

  auto* show = inv->add_subcommand(
      "show", "A SKU's counters, price, units not for sale and batches "
              "(GET /v1/inventory/{sku})");
  show->add_option("sku", a.sku, "The SKU")->required();
  show->add_option("--seller", a.seller, "INTERNAL (default) or EXTERNAL")
      ->transform(seller_arg)
      ->type_name("SELLER");
  show->callback([&] {
    run = [](session& s, const args& a) {
      std::string q;
      add_query(q, "seller", a.seller);
      a.out.emit(s.call("GET", sku_path(a.sku) + q), print_stock);
    };
  });

  auto* list = inv->add_subcommand(
      "list", "The SKUs of a seller, by name, one page at a time "
              "(GET /v1/inventory)");
  list->add_option("--seller", a.seller, "INTERNAL (default) or EXTERNAL")
      ->transform(seller_arg)
      ->type_name("SELLER");
  list->add_option("--limit", a.limit, "SKUs per page, 1 to 100 (default 20)")
      ->type_name("N");
  list->add_option("--cursor", a.cursor,
                   "Start after this cursor (the last page's nextCursor)")
      ->type_name("CURSOR");
  list->add_flag("--all", a.all, "Follow the cursors and print every page");
  list->callback([&] {
    run = [](session& s, const args& a) {
      std::string q;
      add_query(q, "seller", a.seller);
      add_query(q, "limit", a.limit ? std::to_string(*a.limit) : "");
      add_query(q, "cursor", a.cursor);
      a.out.emit(fetch_pages(s, "/v1/inventory", q, a, "items"),
                 print_inventory_page);
    };
  });

  auto* price = inv->add_subcommand(
      "price", "Set a SKU's unit price for new orders; orders already placed "
               "keep theirs (PATCH /v1/inventory/{sku}; admin)");
  price->add_option("sku", a.sku, "The SKU")->required();
  price->add_option("--price", a.price, "Unit price in minor units")
      ->type_name("MINOR_UNITS")
      ->required();
  price->callback([&] {
    run = [](session& s, const args& a) {
      a.out.emit(
          s.call("PATCH", sku_path(a.sku), json{{"unitPrice", *a.price}}),
          print_stock);
    };
  });
}

void add_customer(CLI::App& app, args& a, action& run) {
  auto* cus = app.add_subcommand("customer", "Customers and their tokens");
  cus->require_subcommand(1);

  auto* create = cus->add_subcommand(
      "create", "Create a customer; prints its id and its bearer token, "
                "which is shown only this once (POST /v1/customers; admin)");
  create->add_option("name", a.name, "The customer's name")->required();
  create->callback([&] {
    run = [](session& s, const args& a) {
      a.out.emit(s.call("POST", "/v1/customers", json{{"name", a.name}}),
                 print_customer);
    };
  });

  auto* show =
      cus->add_subcommand("show", "A customer (GET /v1/customers/{id})");
  show->add_option("id", a.id, "The customer id (cus_...)")->required();
  show->callback([&] {
    run = [](session& s, const args& a) {
      a.out.emit(s.call("GET", customer_path(a.id)), print_customer);
    };
  });
}

void add_cart(CLI::App& app, args& a, action& run) {
  auto* cart = app.add_subcommand(
      "cart", "A customer's cart (the admin token or the customer's own)");
  cart->require_subcommand(1);

  auto* show = cart->add_subcommand(
      "show", "The cart, priced now (GET /v1/customers/{id}/cart)");
  show->add_option("customer", a.customer, "The customer id")->required();
  show->callback([&] {
    run = [](session& s, const args& a) {
      a.out.emit(s.call("GET", customer_path(a.customer) + "/cart"),
                 print_cart);
    };
  });

  auto set_quantity = [](session& s, const args& a, int64_t qty) {
    return s.call(
        "PUT", customer_path(a.customer) + "/cart/items/" + url_encode(a.sku),
        json{{"quantity", qty}});
  };

  auto* set = cart->add_subcommand(
      "set", "Set the quantity of a SKU in the cart; fails with "
             "INSUFFICIENT_STOCK if fewer are available "
             "(PUT /v1/customers/{id}/cart/items/{sku})");
  set->add_option("customer", a.customer, "The customer id")->required();
  set->add_option("sku", a.sku, "The SKU")->required();
  set->add_option("--qty", a.quantity, "The new quantity")
      ->type_name("N")
      ->required();
  set->callback([&, set_quantity] {
    run = [set_quantity](session& s, const args& a) {
      a.out.emit(set_quantity(s, a, a.quantity), print_cart);
    };
  });

  auto* add = cart->add_subcommand(
      "add", "Add units of a SKU to the cart: reads the cart, then sets the "
             "quantity to what it held plus --qty (not atomic with other "
             "changes to the same cart)");
  add->add_option("customer", a.customer, "The customer id")->required();
  add->add_option("sku", a.sku, "The SKU")->required();
  add->add_option("--qty", a.quantity, "Units to add")
      ->type_name("N")
      ->required();
  add->callback([&, set_quantity] {
    run = [set_quantity](session& s, const args& a) {
      auto cart = s.call("GET", customer_path(a.customer) + "/cart");
      int64_t held = 0;
      for (auto& l : cart.value("lines", json::array()))
        if (l.value("sku", "") == a.sku)
          held = l.value("quantity", int64_t{0});
      a.out.emit(set_quantity(s, a, held + a.quantity), print_cart);
    };
  });

  auto* remove =
      cart->add_subcommand("remove", "Remove a SKU from the cart (DELETE "
                                     "/v1/customers/{id}/cart/items/{sku})");
  remove->add_option("customer", a.customer, "The customer id")->required();
  remove->add_option("sku", a.sku, "The SKU")->required();
  remove->callback([&] {
    run = [](session& s, const args& a) {
      a.out.emit(s.call("DELETE", customer_path(a.customer) + "/cart/items/" +
                                      url_encode(a.sku)),
                 print_cart);
    };
  });

  auto* checkout = cart->add_subcommand(
      "checkout", "Place an order from the cart (all lines, or the --sku "
                  "ones); the ordered units leave the cart "
                  "(POST /v1/customers/{id}/cart/checkout)");
  checkout->add_option("customer", a.customer, "The customer id")->required();
  checkout
      ->add_option("--sku", a.skus,
                   "Order only this SKU of the cart (repeatable)")
      ->type_name("SKU")
      ->allow_extra_args(false);
  checkout
      ->add_option("--key", a.key,
                   "Idempotency-Key: a retry with the same key returns "
                   "the same order instead of placing another")
      ->type_name("KEY");
  add_address_options(checkout, a.ship_to);
  checkout->callback([&] {
    run = [](session& s, const args& a) {
      json body{{"address", a.ship_to.to_json()}};
      if (!a.skus.empty())
        body["skus"] = a.skus;
      a.out.emit(s.call("POST", customer_path(a.customer) + "/cart/checkout",
                        body, a.key),
                 print_order);
    };
  });
}

void add_order(CLI::App& app, args& a, action& run) {
  auto* ord = app.add_subcommand("order", "Orders and their lifecycle");
  ord->require_subcommand(1);

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
  create
      ->add_option("--key", a.key,
                   "Idempotency-Key: a retry with the same key returns the "
                   "same order instead of placing another")
      ->type_name("KEY");
  add_address_options(create, a.ship_to);
  create->callback([&] {
    run = [](session& s, const args& a) {
      json body{{"items", json::array()}, {"address", a.ship_to.to_json()}};
      if (!a.customer.empty())
        body["customerId"] = a.customer;
      if (!a.seller.empty())
        body["seller"] = a.seller;
      for (auto& item : a.items) {
        auto [sku, qty] = parse_line(item);
        body["items"].push_back({{"sku", sku}, {"quantity", qty}});
      }
      a.out.emit(s.call("POST", "/v1/orders", body, a.key), print_order);
    };
  });

  auto* show = ord->add_subcommand(
      "show", "An order: status, totals, lines, history and payments "
              "(GET /v1/orders/{id})");
  show->add_option("id", a.id, "The order id")->required();
  show->callback([&] {
    run = [](session& s, const args& a) {
      a.out.emit(s.call("GET", order_path(a.id)), print_order);
    };
  });

  auto* list = ord->add_subcommand("list", "A customer's orders, newest first "
                                           "(GET /v1/customers/{id}/orders)");
  list->add_option("customer", a.customer, "The customer id")->required();
  list->add_option("--limit", a.limit, "Orders per page, 1 to 100 (default 20)")
      ->type_name("N");
  list->add_option("--cursor", a.cursor, "The last page's nextCursor")
      ->type_name("CURSOR");
  list->add_flag("--all", a.all, "Follow the cursors and print every page");
  list->callback([&] {
    run = [](session& s, const args& a) {
      std::string q;
      add_query(q, "limit", a.limit ? std::to_string(*a.limit) : "");
      add_query(q, "cursor", a.cursor);
      a.out.emit(
          fetch_pages(s, customer_path(a.customer) + "/orders", q, a, "orders"),
          print_order_page);
    };
  });

  // confirm, ship and deliver: the same shape, admin only.
  struct step {
    const char* name;
    const char* help;
  };
  for (auto st :
       {step{"confirm", "CREATED -> CONFIRMED: the reserved units become "
                        "blocked (POST /v1/orders/{id}/confirm; admin)"},
        step{"ship", "PAID -> SHIPPED: the blocked units leave the stock "
                     "(POST /v1/orders/{id}/ship; admin)"},
        step{"deliver", "SHIPPED -> DELIVERED "
                        "(POST /v1/orders/{id}/deliver; admin)"}}) {
    auto* cmd = ord->add_subcommand(st.name, st.help);
    cmd->add_option("id", a.id, "The order id")->required();
    cmd->add_option("--reason", a.reason, "Shown in the order's history")
        ->type_name("TEXT");
    std::string name = st.name;
    cmd->callback([&run, name] {
      run = [name](session& s, const args& a) {
        json body = nullptr;
        if (!a.reason.empty())
          body = json{{"reason", a.reason}};
        a.out.emit(s.call("POST", order_path(a.id) + "/" + name, body),
                   print_order);
      };
    });
  }

  auto* pay = ord->add_subcommand(
      "pay", "Charge the order's amount due: CREATED or CONFIRMED -> PAID "
             "(POST /v1/orders/{id}/pay)");
  pay->add_option("id", a.id, "The order id")->required();
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
  pay->callback([&] {
    run = [](session& s, const args& a) {
      int64_t amount = 0;
      if (a.amount == "due") {
        auto order = s.call("GET", order_path(a.id));
        amount = order.value("amountDue", int64_t{0});
        // A retry with the same key after the charge went through: nothing
        // is due any more, so ask again for what was charged (the server
        // replays its first answer).
        if (amount == 0 && !a.key.empty())
          for (auto& p : order.value("payments", json::array()))
            if (p.value("kind", "") == "CHARGE" &&
                p.value("status", "") == "SUCCEEDED")
              amount = p.value("amount", int64_t{0});
      } else {
        amount = std::stoll(a.amount);
      }
      json body{{"amount", amount}};
      if (!a.payment_token.empty())
        body["paymentToken"] = a.payment_token;
      a.out.emit(s.call("POST", order_path(a.id) + "/pay", body, a.key),
                 print_order);
    };
  });

  auto* cancel = ord->add_subcommand(
      "cancel", "Cancel an order before it ships, or only some units with "
                "--line; held units go back to stock and a paid order is "
                "refunded (POST /v1/orders/{id}/cancel)");
  cancel->add_option("id", a.id, "The order id")->required();
  cancel
      ->add_option("--line", a.items,
                   "Cancel QTY units of SKU only, as SKU:QTY (repeatable)")
      ->allow_extra_args(false)
      ->check(sku_qty)
      ->type_name("SKU:QTY");
  cancel->add_option("--reason", a.reason, "Shown in the order's history")
      ->type_name("TEXT");
  cancel->callback([&] {
    run = [](session& s, const args& a) {
      json body = json::object();
      if (!a.reason.empty())
        body["reason"] = a.reason;
      for (auto& item : a.items) {
        auto [sku, qty] = parse_line(item);
        body["lines"].push_back({{"sku", sku}, {"quantity", qty}});
      }
      a.out.emit(s.call("POST", order_path(a.id) + "/cancel", body),
                 print_order);
    };
  });

  auto* set_status = ord->add_subcommand(
      "set-status", "updateOrder: move the order to CONFIRMED, SHIPPED, "
                    "FULFILLED (= DELIVERED) or CANCELLED; all but CANCELLED "
                    "need the admin token (PATCH /v1/orders/{id})");
  set_status->add_option("id", a.id, "The order id")->required();
  set_status
      ->add_option("status", a.status,
                   "CONFIRMED, SHIPPED, FULFILLED, DELIVERED or CANCELLED")
      ->required();
  set_status->add_option("--reason", a.reason, "Shown in the order's history")
      ->type_name("TEXT");
  set_status->callback([&] {
    run = [](session& s, const args& a) {
      auto status = a.status;
      for (auto& c : status)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      json body{{"status", status}};
      if (!a.reason.empty())
        body["reason"] = a.reason;
      a.out.emit(s.call("PATCH", order_path(a.id), body), print_order);
    };
  });
}

void add_operations(CLI::App& app, action& run) {
  auto* audit = app.add_subcommand(
      "audit", "Check every SKU's stock against the holds of the live "
               "orders; exits 1 if an invariant is broken "
               "(GET /v1/audit; admin)");
  audit->callback([&] {
    run = [](session& s, const args& a) {
      auto report = s.call("GET", "/v1/audit");
      a.out.emit(report, print_audit);
      auto n = report.value("violations", json::array()).size();
      if (n > 0)
        throw api_error{200, "AUDIT_FAILED",
                        std::to_string(n) + " invariant violation(s)"};
    };
  });

  auto* health = app.add_subcommand(
      "health", "Is omsd alive (GET /healthz) and ready to serve "
                "(GET /readyz)? Exits 1 if it is not ready; no token needed");
  health->callback([&] {
    run = [](session& s, const args& a) {
      auto live = s.call("GET", "/healthz");
      std::optional<api_error> not_ready;
      json ready;
      try {
        ready = s.call("GET", "/readyz");
      } catch (const api_error& e) {
        not_ready = e;
        ready = json{{"status", "not ready"}, {"error", e.code}};
      }
      a.out.emit(json{{"healthz", live}, {"readyz", ready}}, [](const json& h) {
        auto& r = h["readyz"];
        std::string detail;
        if (r.contains("store"))
          detail = " (store " + text(r, "store") + ", last seq " +
                   text(r, "lastSeq") + ")";
        print_block({{"healthz", text(h["healthz"], "status")},
                     {"readyz", text(r, "status") + detail}});
      });
      if (not_ready)
        throw *not_ready;
    };
  });

  auto* metrics = app.add_subcommand(
      "metrics", "The Prometheus metrics as text (GET /metrics)");
  metrics->callback([&] {
    run = [](session& s, const args&) {
      std::cout << s.send("GET", "/metrics").body;
    };
  });
}

void add_wms(CLI::App& app, action& run) {
  auto* wms = app.add_subcommand(
      "wms", "The gateway to the EXTERNAL seller's warehouse system (WMS)");
  wms->require_subcommand(1);
  auto* status = wms->add_subcommand(
      "status", "The WMS gateway's counters: calls, answers by class, "
                "retries, refusals, breaker and queue; exits 1 with "
                "WMS_UNAVAILABLE when omsd has no WMS (GET /v1/wms; admin)");
  status->callback([&] {
    run = [](session& s, const args& a) {
      a.out.emit(s.call("GET", "/v1/wms"), print_wms);
    };
  });
}

void print_api_error(const api_error& e) {
  std::cerr << "error: " << e.code << ": " << e.message << '\n';
  auto rest = e.details;
  // INSUFFICIENT_STOCK lists the short SKUs: one line each.
  if (auto skus = e.details.find("skus"); skus != e.details.end() &&
                                          skus->is_array() && !skus->empty() &&
                                          (*skus)[0].is_object()) {
    for (auto& x : *skus)
      std::cerr << "  " << text(x, "sku") << ": requested "
                << text(x, "requested") << ", available "
                << text(x, "available") << '\n';
    rest.erase("skus");
  }
  if (!rest.empty())
    std::cerr << "  details: " << rest.dump() << '\n';
}

// The deepest subcommand the command line selected (`app` if none).
const CLI::App* selected(const CLI::App& app) {
  const CLI::App* at = &app;
  for (int depth = 0; depth < 4; ++depth) {
    auto subs = at->get_subcommands();
    if (subs.empty())
      break;
    at = subs.front();
  }
  return at;
}

} // namespace

int main(int argc, char** argv) {
  args a;
  action run;
  CLI::App app{"omsctl: command-line client of omsd, the order management "
               "and inventory service (JSON over HTTP)",
               "omsctl"};
  app.fallthrough(); // global options may follow the subcommand
  app.require_subcommand(1);
  app.set_version_flag("--version", "omsctl 0.1.0");
  app.get_formatter()->column_width(32);
  std::string conn = "Connection";
  app.add_option("--url", a.url, "omsd's base URL")
      ->type_name("URL")
      ->envname("OMS_URL")
      ->capture_default_str()
      ->group(conn);
  auto* token = app.add_option("--token", a.token,
                               "Bearer token: the admin's or a customer's "
                               "(env OMS_TOKEN)")
                    ->type_name("TOKEN")
                    ->group(conn);
  app.add_option("--token-file", a.token_file,
                 "Read the token from the first line of this file (env "
                 "OMS_TOKEN_FILE), e.g. DATA_DIR/admin.token")
      ->type_name("PATH")
      ->excludes(token)
      ->group(conn);
  app.add_option("--timeout", a.timeout_s, "Seconds to wait for an answer")
      ->type_name("SECONDS")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 3600.0))
      ->group(conn);
  std::string out_group = "Output";
  app.add_option("-o,--output", a.out.format,
                 "table (readable) or json (the server's answer)")
      ->capture_default_str()
      ->check(CLI::IsMember({"table", "json"}))
      ->type_name("FORMAT")
      ->group(out_group);
  app.add_option("--field", a.out.fields,
                 "Print only this field of the answer, by dotted path "
                 "(e.g. id, status, lines.0.quantity), one line per "
                 "--field: for scripts")
      ->allow_extra_args(false)
      ->type_name("PATH")
      ->group(out_group);

  add_inventory(app, a, run);
  add_customer(app, a, run);
  add_cart(app, a, run);
  add_order(app, a, run);
  add_operations(app, run);
  add_wms(app, run);
  app.footer(
      R"(Money is an integer of minor units (paise): 99800 INR is 998.00 INR.

Examples:
  export OMS_URL=http://127.0.0.1:8080 OMS_TOKEN=admin-secret-token
  omsctl inventory receive PHONE-1 --qty 10 --price 99800
  omsctl inventory receive MILK-1 --qty 40 --price 5600 --lot L-0312 \
      --expires-at 2027-03-12T00:00:00Z --event-id grn-8812
  omsctl inventory change MILK-1 --kind SET_ASIDE --qty 2 --reason DAMAGED \
      --lot L-0312
  omsctl customer create "Asha Rao"
  omsctl order create --customer cus_... --item PHONE-1:2 \
      --line1 "1 MG Road" --city Bengaluru --postal-code 560001 --country IN
  omsctl order pay ord_... --amount due
  omsctl order show ord_... -o json

Exit codes: 0 success; 1 the API answered an error ("error: CODE: message" on
stderr); 2 bad usage; 3 omsd could not be reached.
Run 'omsctl COMMAND --help' or 'omsctl COMMAND SUBCOMMAND --help' for more.)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // A command group without its subcommand: show what it offers.
    if (auto* at = selected(app);
        dynamic_cast<const CLI::RequiredError*>(&e) != nullptr &&
        at->get_subcommands().empty() && at->get_require_subcommand_min() > 0 &&
        std::string{e.what()}.find("ubcommand") != std::string::npos) {
      std::cerr << app.help() << "\nomsctl: " << e.what() << '\n';
      return exit_usage;
    }
    auto rc = app.exit(e);
    return rc == 0 ? 0 : exit_usage;
  }

  try {
    if (a.token.empty() && !a.token_file.empty())
      a.token = read_token_file(a.token_file);
    if (a.token.empty())
      a.token = env_or("OMS_TOKEN", "");
    if (a.token.empty())
      if (auto path = env_or("OMS_TOKEN_FILE", ""); !path.empty())
        a.token = read_token_file(path);
    auto timeout =
        std::chrono::milliseconds{static_cast<int64_t>(a.timeout_s * 1000)};
    session s{a.url, a.token, timeout};
    if (run)
      run(s, a);
    return 0;
  } catch (const api_error& e) {
    print_api_error(e);
    return exit_api_error;
  } catch (const unreachable& e) {
    std::cerr << "omsctl: cannot reach omsd at " << e.url << ": " << e.why
              << '\n';
    if (e.why.find("imeout") != std::string::npos)
      std::cerr << "  the request may still have been applied: read before "
                   "retrying, or retry with the same --key\n";
    else
      std::cerr << "  is omsd running there? Set --url or OMS_URL.\n";
    return exit_unreachable;
  } catch (const usage_error& e) {
    std::cerr << "omsctl: " << e.message << '\n';
    return exit_usage;
  } catch (const std::exception& e) {
    // A bug of ours or an answer of a shape we do not expect.
    std::cerr << "omsctl: unexpected failure: " << e.what() << '\n';
    return exit_api_error;
  }
}
