// wms-sim's settings: defaults, the config file (config/wms-sim.conf
// documents every key) and command-line flags, in rising precedence; and
// the seed file that fills the warehouse at start.
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

/// Loads the seed file `file` (--seed-file) into `wms`, read strictly
/// (messages/strict_json.hpp: a repeated key, a NUL byte or nesting past
/// any sense is refused): sim::load_seed's outcome, or 400
/// VALIDATION_FAILED when the file is not such JSON.
outcome load_seed_file(sim& wms, const std::string& file);

} // namespace oms::wms_sim
