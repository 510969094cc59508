// Shared by every omsctl command: failures, session, arguments and paths.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "system/client/cli_output.hpp"
#include "system/client/http_client.hpp"

namespace oms::cli {

using json = nlohmann::json;

/// Exit code: the API answered an error.
constexpr int exit_api_error = 1;
/// Exit code: bad usage.
constexpr int exit_usage = 2;
/// Exit code: omsd could not be reached.
constexpr int exit_unreachable = 3;

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

/// Prints "error: CODE: message" and the error's details to stderr.
void print_api_error(const api_error& e);

/// Prints why omsd could not be reached, and what to do, to stderr.
void print_unreachable(const unreachable& e);

// -- the session --------------------------------------------------------------

/// One connection to omsd. Every call throws api_error or unreachable instead
/// of returning a failure.
class session {
 public:
  /// A session with omsd at `url`, sending `token` as the bearer token.
  session(const std::string& url, const std::string& token,
          std::chrono::milliseconds timeout)
      : http_(url, token, timeout) {}

  /// Sends `body` (none if null) and returns the parsed JSON answer.
  json call(const std::string& method, const std::string& path,
            const json& body = nullptr, const std::string& key = {});

  /// Sends a request and returns the raw 2xx answer.
  client::http_result send(const std::string& method, const std::string& path,
                           const std::string& body = {},
                           const std::string& key = {});

 private:
  client::http_client http_;
};

// -- the command line ---------------------------------------------------------

/// The ship-to address options of `order create` and `cart checkout`.
struct address_args {
  std::string line1;
  std::string line2;
  std::string city;
  std::string postal_code;
  std::string country;

  /// The address as the API's JSON object.
  json to_json() const;
};

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
  /// order ship-lines: the carrier and its tracking number.
  std::string carrier;
  std::string tracking_number;
  /// order return-*: the return ("ret_1").
  std::string return_id;
  std::string kind;
  std::string lot;
  std::string expires_at;
  std::string event_id;
  std::string note;
  int64_t quantity = 0;
  std::optional<int64_t> price;
  std::optional<int64_t> limit;
  bool all = false;
  bool follow = false;
  std::string since;
  std::string until;
  std::string event_type;
  std::string subject;
  std::vector<std::string> items;
  std::vector<std::string> skus;
  address_args ship_to;
};

/// What the selected subcommand does once the command line is parsed.
using action = std::function<void(session&, const args&)>;

/// Sets `body[key]` to `value` unless it is empty (an option not given).
void put_if_given(json& body, const char* key, const std::string& value);

/// Sets `body[key]` to `value` if it has one (an option not given has none).
void put_if_given(json& body, const char* key,
                  const std::optional<int64_t>& value);

/// Adds one subcommand to `group`.
using add_subcommand_fn = void (*)(CLI::App* group, args& a, action& run);

/// Adds the command group `name`, which needs one of its subcommands, and
/// those subcommands, each added by one of `adders` in order.
void add_group(CLI::App& app, const std::string& name, const std::string& help,
               args& a, action& run,
               std::initializer_list<add_subcommand_fn> adders);

/// Makes `what` the action to run once the command line selected `cmd`.
void set_action(CLI::App* cmd, action& run, action what);

/// Accepts INTERNAL or EXTERNAL, in any case.
extern const CLI::IsMember seller_arg;

/// Adds the options of a command that places an order: --key, then the
/// ship-to address (--line1, --line2, --city, --postal-code, --country).
void add_placement_options(CLI::App* cmd, args& a);

/// Adds --limit, --cursor and --all, with `what` ("SKUs", "Orders") per page
/// and the help text `cursor_help` for --cursor.
void add_page_options(CLI::App* cmd, args& a, const std::string& what,
                      const std::string& cursor_help);

/// The first line of `path`, without trailing white space; throws
/// usage_error if it cannot be read or is empty.
std::string read_token_file(const std::string& path);

/// The environment variable `name`, or `fallback` if it is unset or empty.
std::string env_or(const char* name, std::string fallback);

// -- requests -----------------------------------------------------------------

/// Appends "name=value" to a query string being built (nothing if `value`
/// is empty).
void add_query(std::string& query, const std::string& name,
               const std::string& value);

/// Appends the --limit and --cursor of a list to its query string.
void add_page_query(std::string& query, const args& a);

/// Fetches pages of `path` until the last (or `--all` is off), merging the
/// array `items_key` into one answer.
json fetch_pages(session& s, const std::string& path, std::string query,
                 const args& a, const char* items_key);

/// "/v1/inventory/{sku}".
std::string sku_path(const std::string& sku);

/// "/v1/orders/{id}".
std::string order_path(const std::string& id);

/// "/v1/customers/{id}".
std::string customer_path(const std::string& id);

} // namespace oms::cli
