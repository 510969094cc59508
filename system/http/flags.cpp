#include "system/http/flags.hpp"

#include <iostream>
#include <limits>
#include <sstream>
#include <utility>

namespace oms::http {

CLI::Option* add_duration_flag(CLI::App& app, const std::string& name,
                               int64_t default_ms,
                               std::function<void(int64_t)> set,
                               const duration_flag_rules& rules,
                               const std::string& help) {
  auto* opt = app.add_option_function<std::string>(
      name,
      [set = std::move(set), name, rules](const std::string& text) {
        auto ms = parse_duration_ms(text, rules.syntax);
        if (!ms)
          throw CLI::ValidationError(
              name, "'" + text + "' is not a duration (" + rules.hint + ")");
        if (*ms > rules.max_ms)
          throw CLI::ValidationError(
              name, "'" + text + "' is longer than " +
                        format_duration_ms(rules.max_ms, rules.syntax));
        set(*ms);
      },
      help + " (default " + format_duration_ms(default_ms, rules.syntax) + ")");
  opt->type_name("DURATION");
  return opt;
}

CLI::Validator number_between(double lo, double hi) {
  bool unbounded = hi == std::numeric_limits<double>::max();
  std::ostringstream name;
  if (lo == 0 && unbounded)
    name << "NONNEGATIVE";
  else
    name << "FLOAT in [" << lo << " - " << hi << "]";
  return CLI::Validator(
      [lo, hi, unbounded](std::string& input) -> std::string {
        double x = 0;
        if (CLI::detail::lexical_cast(input, x) && x >= lo && x <= hi)
          return {};
        std::ostringstream why;
        why << "Value " << input << " is not a number ";
        if (unbounded)
          why << "of at least " << lo;
        else
          why << "in " << lo << " to " << hi;
        return why.str();
      },
      name.str());
}

void add_common_flags(CLI::App& app, const std::string& version,
                      const std::string& config_help) {
  app.set_version_flag("--version", version);
  app.set_config("--config", "", config_help);
  app.get_formatter()->column_width(34);
}

CLI::Option* add_log_level_flag(CLI::App& app, std::string& text) {
  return app.add_option("--log-level", text, "debug, info, warn, error or off")
      ->capture_default_str()
      ->check(CLI::IsMember({"debug", "info", "warn", "error", "off"}));
}

int report_exit(const cli_exit& stop) {
  (stop.code == 0 ? std::cout : std::cerr) << stop.output;
  return stop.code;
}

std::optional<cli_exit> parse_command_line(CLI::App& app, int argc, char** argv,
                                           const std::string& program) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    std::ostringstream out;
    auto code = app.exit(e, out, out);
    return cli_exit{code, out.str()};
  } catch (const CLI::ParseError& e) {
    std::ostringstream out;
    app.exit(e, out, out);
    return cli_exit{2, program + ": " + out.str()};
  }
  return std::nullopt;
}

} // namespace oms::http
