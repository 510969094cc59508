// Command-line pieces omsd and wms-sim share (CLI11): duration flags and the
// verdict on a parsed command line.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "system/http/duration.hpp"

namespace oms::http {

/// How a duration flag reads and checks its value.
struct duration_flag_rules {
  duration_syntax syntax;
  /// Why a malformed value is refused: "'TEXT' is not a duration (HINT)".
  std::string hint;
  /// The longest value accepted ("'TEXT' is longer than 168h" past it).
  int64_t max_ms = std::numeric_limits<int64_t>::max();
};

/// Adds the option `name` (type DURATION) that sets a duration through
/// `set`; its help ends with " (default D)", D being `default_ms`.
CLI::Option* add_duration_flag(CLI::App& app, const std::string& name,
                               int64_t default_ms,
                               std::function<void(int64_t)> set,
                               const duration_flag_rules& rules,
                               const std::string& help);

inline CLI::Option* add_duration_flag(CLI::App& app, const std::string& name,
                                      int64_t& target_ms,
                                      const duration_flag_rules& rules,
                                      const std::string& help) {
  return add_duration_flag(
      app, name, target_ms, [&target_ms](int64_t ms) { target_ms = ms; }, rules,
      help);
}

inline CLI::Option* add_duration_flag(CLI::App& app, const std::string& name,
                                      std::chrono::milliseconds& target,
                                      const duration_flag_rules& rules,
                                      const std::string& help) {
  return add_duration_flag(
      app, name, target.count(),
      [&target](int64_t ms) { target = std::chrono::milliseconds{ms}; }, rules,
      help);
}

/// A check that a flag's value is a number in lo..hi. CLI::Range lets
/// "nan" through (it compares false both ways); this does not.
CLI::Validator number_between(double lo, double hi);

/// The flags every program has: --version, printing `version`, and
/// --config FILE, reading settings from a file (`config_help`); help text in
/// columns of 34.
void add_common_flags(CLI::App& app, const std::string& version,
                      const std::string& config_help);

/// Adds --log-level, one of debug, info, warn, error or off, into `text`
/// (which holds the default); system/http/log_line.hpp parses it.
CLI::Option* add_log_level_flag(CLI::App& app, std::string& text);

/// Why a program stops right after reading its command line.
struct cli_exit {
  /// 0 after --help or --version (print `output` on stdout), 2 for bad
  /// flags (print it on stderr).
  int code = 0;
  std::string output;
};

/// Prints `stop.output` (on stdout for code 0, else on stderr); its code.
int report_exit(const cli_exit& stop);

/// Parses the command line into `app`'s options; nullopt when the program
/// should run. A bad flag's message starts with "PROGRAM: ".
std::optional<cli_exit> parse_command_line(CLI::App& app, int argc, char** argv,
                                           const std::string& program);

} // namespace oms::http
