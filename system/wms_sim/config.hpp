// wms-sim's settings: defaults, the config file (config/wms-sim.conf
// documents every key) and command-line flags, in rising precedence.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "system/http/log_line.hpp"
#include "system/wms_sim/sim.hpp"

namespace oms::wms_sim {

struct settings {
  std::string listen = "127.0.0.1";
  uint16_t port = 8090;
  std::string seed_file;
  std::string config_file;
  http::log_level log_threshold = http::log_level::info;
  options sim;
};

/// What parsing the command line decided.
struct parse_outcome {
  /// Set when wms-sim should run.
  std::optional<settings> config;
  /// Otherwise: the exit code (0 after --help or --version, 2 for bad
  /// flags) and the text to print (stdout for 0, stderr otherwise).
  int exit_code = 0;
  std::string output;
};

parse_outcome parse_args(int argc, char** argv);

} // namespace oms::wms_sim
