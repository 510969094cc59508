// Shared by every omsctl command: session, errors, token and argument helpers.
#include "system/client/cli_common.hpp"

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <utility>

namespace oms::cli {

namespace {

/// Most pages `--all` follows before giving up (a bound on the loop).
constexpr int pages_max = 10'000;

// The error of a non-2xx answer: the API's {"error": {...}} body, or the bare
// HTTP status when the body is something else (e.g. a proxy's page).
api_error error_of(const client::http_result& res) {
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

} // namespace

// -- failures -----------------------------------------------------------------

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

void print_unreachable(const unreachable& e) {
  std::cerr << "omsctl: cannot reach omsd at " << e.url << ": " << e.why
            << '\n';
  if (e.why.find("imeout") != std::string::npos)
    std::cerr << "  the request may still have been applied: read before "
                 "retrying, or retry with the same --key\n";
  else
    std::cerr << "  is omsd running there? Set --url or OMS_URL.\n";
}

// -- the session --------------------------------------------------------------

json session::call(const std::string& method, const std::string& path,
                   const json& body, const std::string& key) {
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

client::http_result session::send(const std::string& method,
                                  const std::string& path,
                                  const std::string& body,
                                  const std::string& key) {
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

// -- the command line ---------------------------------------------------------

json address_args::to_json() const {
  json a{{"line1", line1},
         {"city", city},
         {"postalCode", postal_code},
         {"country", country}};
  if (!line2.empty())
    a["line2"] = line2;
  return a;
}

void put_if_given(json& body, const char* key, const std::string& value) {
  if (!value.empty())
    body[key] = value;
}

void put_if_given(json& body, const char* key,
                  const std::optional<int64_t>& value) {
  if (value)
    body[key] = *value;
}

void add_group(CLI::App& app, const std::string& name, const std::string& help,
               args& a, action& run,
               std::initializer_list<add_subcommand_fn> adders) {
  auto* group = app.add_subcommand(name, help);
  group->require_subcommand(1);
  for (auto* add : adders)
    add(group, a, run);
}

void set_action(CLI::App* cmd, action& run, action what) {
  cmd->callback([&run, what = std::move(what)] { run = what; });
}

const CLI::IsMember seller_arg({"INTERNAL", "EXTERNAL"}, CLI::ignore_case);

void add_placement_options(CLI::App* cmd, args& a) {
  cmd->add_option("--key", a.key,
                  "Idempotency-Key: a retry with the same key returns the "
                  "same order instead of placing another")
      ->type_name("KEY");
  auto& to = a.ship_to;
  std::string group = "Ship to";
  cmd->add_option("--line1", to.line1, "Street and number")
      ->required()
      ->group(group);
  cmd->add_option("--line2", to.line2, "Second address line")->group(group);
  cmd->add_option("--city", to.city, "City")->required()->group(group);
  cmd->add_option("--postal-code", to.postal_code, "Postal code")
      ->required()
      ->group(group);
  cmd->add_option("--country", to.country, "Country (e.g. IN)")
      ->required()
      ->group(group);
}

void add_page_options(CLI::App* cmd, args& a, const std::string& what,
                      const std::string& cursor_help) {
  cmd->add_option("--limit", a.limit, what + " per page, 1 to 100 (default 20)")
      ->type_name("N");
  cmd->add_option("--cursor", a.cursor, cursor_help)->type_name("CURSOR");
  cmd->add_flag("--all", a.all, "Follow the cursors and print every page");
}

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

// -- requests -----------------------------------------------------------------

void add_query(std::string& query, const std::string& name,
               const std::string& value) {
  if (value.empty())
    return;
  query += query.empty() ? '?' : '&';
  query += name + "=" + client::url_encode(value);
}

void add_page_query(std::string& query, const args& a) {
  add_query(query, "limit", a.limit ? std::to_string(*a.limit) : "");
  add_query(query, "cursor", a.cursor);
}

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
  return "/v1/inventory/" + client::url_encode(sku);
}

std::string order_path(const std::string& id) {
  return "/v1/orders/" + client::url_encode(id);
}

std::string customer_path(const std::string& id) {
  return "/v1/customers/" + client::url_encode(id);
}

} // namespace oms::cli
