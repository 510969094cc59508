// Fuzzes wms-sim's settings (system/wms_sim/config.hpp, parse_args) and its
// seed file (load_seed_file). The first byte picks
// what the rest is: a config file ('a': --config FILE), the command line's
// arguments one per line ('b'), or a seed file ('c'). Whatever the bytes: parsing
// returns (only CLI11's parse errors are expected, exit code 2 with a
// message); settings it accepts are within the ranges the flags promise; a
// seed loads whole or is refused with a message, and leaves a warehouse
// whose state encodes.
#include <string>

#include <nlohmann/json.hpp>

#include "system/wms_sim/config.hpp"
#include "tests/fuzz/config_file.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {

using namespace oms;
using namespace oms::wms_sim;

void check_settings(const settings& s) {
  auto& f = s.sim.faults;
  FUZZ_CHECK(s.port >= 1, "a port is not 0");
  FUZZ_CHECK(f.rate_limit >= 0 && f.rate_limit <= 1'000'000,
             "the rate limit is within its range");
  for (auto x : {f.fail_rate, f.hang_rate, f.duplicate_rate})
    FUZZ_CHECK(x >= 0.0 && x <= 1.0, "a rate is a fraction");
  FUZZ_CHECK(f.latency_ms >= 0 && f.latency_ms <= 600'000 &&
                 f.hang_for_ms >= 0 && f.hang_for_ms <= 600'000,
             "delays are at most 10 minutes");
  FUZZ_CHECK(s.sim.batch_interval_ms >= 0 &&
                 s.sim.batch_interval_ms <= int64_t{7} * 86'400'000,
             "the batch interval is at most a week");
}

void check_seed(const std::string& path) {
  sim wms{options{}, [] {
            return int64_t{1'767'225'600'000};
          }};
  auto loaded = load_seed_file(wms, path);
  if (!loaded.ok()) {
    FUZZ_CHECK(loaded.status == 400 &&
                   loaded.body["error"]["message"].is_string(),
               "a refused seed says why");
    return;
  }
  FUZZ_CHECK(
      !wms.state().dump(-1, ' ', false, json::error_handler_t::strict).empty(),
      "a seeded warehouse encodes");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  auto text = oms::fuzz::text_of(data + 1, size - 1);
  static oms::fuzz::config_file file{"wms_sim_config_fuzz"};
  parse_outcome out;
  switch (oms::fuzz::pick(data[0], 3)) {
    case 0: {
      auto path = file.write(text);
      std::string flag = "--config";
      char program[] = "wms-sim";
      char* argv[] = {program, flag.data(), const_cast<char*>(path.c_str()),
                      nullptr};
      out = parse_args(3, argv);
      break;
    }
    case 1: {
      oms::fuzz::arguments args{"wms-sim", text};
      out = parse_args(args.argc(), args.argv());
      break;
    }
    default:
      check_seed(file.write(text));
      return 0;
  }
  if (out.config) {
    FUZZ_CHECK(out.exit_code == 0, "settings to run with exit 0");
    check_settings(*out.config);
  } else {
    FUZZ_CHECK(out.exit_code == 0 || out.exit_code == 2,
               "a stop exits 0 (help, version) or 2 (bad flags)");
    FUZZ_CHECK(!out.output.empty(), "a stop says why");
  }
  return 0;
}
