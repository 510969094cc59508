// omsctl: the command-line client of omsd's JSON/HTTP API, one subcommand per
// route of system/daemon/api.cpp. Prints tables and key-value blocks by
// default, the server's JSON with `-o json`, single values with `--field`.
// This file holds main and the global options; the subcommands live in one
// cmd_<resource>.cpp per resource (see commands.hpp).
//
// Exit codes: 0 success; 1 the API answered an error (printed to stderr as
// "error: CODE: message"); 2 bad usage; 3 omsd could not be reached.
#include <chrono>
#include <cstdint>
#include <exception>
#include <iostream>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "system/client/cli_common.hpp"
#include "system/client/commands.hpp"

namespace {

using namespace oms::cli;

/// The text after the options in `omsctl --help`.
constexpr const char* footer =
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
Run 'omsctl COMMAND --help' or 'omsctl COMMAND SUBCOMMAND --help' for more.)";

// The "Connection" options: --url, --token, --token-file and --timeout.
void add_connection_options(CLI::App& app, args& a) {
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
}

// The "Output" options: -o/--output and --field.
void add_output_options(CLI::App& app, args& a) {
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

// Parses the command line; the exit code if omsctl is done (help, version or
// bad usage), nothing if the selected command is to run.
std::optional<int> parse(CLI::App& app, int argc, char** argv) {
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
  return std::nullopt;
}

// The token: --token, --token-file, OMS_TOKEN, then OMS_TOKEN_FILE.
std::string token_of(const args& a) {
  if (!a.token.empty())
    return a.token;
  if (!a.token_file.empty())
    return read_token_file(a.token_file);
  if (auto token = env_or("OMS_TOKEN", ""); !token.empty())
    return token;
  if (auto path = env_or("OMS_TOKEN_FILE", ""); !path.empty())
    return read_token_file(path);
  return {};
}

// Runs the selected command; its exit code.
int execute(args& a, const action& run) {
  try {
    a.token = token_of(a);
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
    print_unreachable(e);
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
  add_connection_options(app, a);
  add_output_options(app, a);

  add_inventory(app, a, run);
  add_customer(app, a, run);
  add_cart(app, a, run);
  add_order(app, a, run);
  add_operations(app, run);
  add_wms(app, a, run);
  add_events(app, a, run);
  add_webhook(app, a, run);
  app.footer(footer);

  if (auto rc = parse(app, argc, argv))
    return *rc;
  return execute(a, run);
}
