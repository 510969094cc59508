#include "system/wms_sim/config.hpp"

#include <fstream>
#include <iterator>

#include <CLI/CLI.hpp>

#include "messages/strict_json.hpp"
#include "system/http/flags.hpp"

namespace oms::wms_sim {

namespace {

http::duration_flag_rules duration_rules(int64_t max_ms) {
  return {http::wms_sim_durations,
          "a number with ms, s, m or h; a bare number is seconds", max_ms};
}

void add_fault_flags(CLI::App& app, fault_settings& f) {
  app.add_option("--rate-limit", f.rate_limit,
                 "Public requests allowed per second (0: no limit)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{1'000'000}));
  app.add_option("--fail-rate", f.fail_rate,
                 "Fraction (0..1) of public requests answered 503 "
                 "INJECTED_FAULT")
      ->capture_default_str()
      ->check(http::number_between(0.0, 1.0));
  http::add_duration_flag(app, "--latency", f.latency_ms,
                          duration_rules(600'000),
                          "Delay added to every public answer");
  app.add_option("--hang-rate", f.hang_rate,
                 "Fraction (0..1) of public requests whose answer is late by "
                 "--hang-for")
      ->capture_default_str()
      ->check(http::number_between(0.0, 1.0));
  http::add_duration_flag(app, "--hang-for", f.hang_for_ms,
                          duration_rules(600'000), "How late a hung answer is");
  app.add_option("--duplicate-rate", f.duplicate_rate,
                 "Fraction (0..1) of event pages that repeat an earlier "
                 "event")
      ->capture_default_str()
      ->check(http::number_between(0.0, 1.0));
}

} // namespace

parse_outcome parse_args(int argc, char** argv) {
  settings cfg;
  CLI::App app{"wms-sim: a simulator of the external seller's warehouse "
               "system (WMS): batch-reflected stock, reservations, an event "
               "feed, rate limits and injected faults",
               "wms-sim"};
  http::add_common_flags(app, "wms-sim 0.1.0",
                         "Read settings from this file (see "
                         "config/wms-sim.conf); flags override it");
  app.allow_config_extras(CLI::config_extras_mode::error);
  app.add_option("--listen", cfg.listen, "Address to listen on")
      ->capture_default_str();
  app.add_option("--port", cfg.port, "TCP port to listen on")
      ->capture_default_str()
      ->check(CLI::Range(1, 65535));
  http::add_duration_flag(app, "--batch-interval", cfg.sim.batch_interval_ms,
                          duration_rules(int64_t{7} * 86'400'000),
                          "Period of the batch job that makes changes visible "
                          "in orderable (0: only POST /admin/batch)");
  add_fault_flags(app, cfg.sim.faults);
  app.add_option("--seed", cfg.sim.seed, "Seed of the fault randomness")
      ->capture_default_str();
  app.add_option("--seed-file", cfg.seed_file,
                 "JSON {\"skus\":[{\"sku\",\"onHand\",\"unitPrice\"}]} loaded "
                 "at start (a batch runs right after)")
      ->check(CLI::ExistingFile);
  std::string level_text = "info";
  http::add_log_level_flag(app, level_text);
  if (auto stop = http::parse_command_line(app, argc, argv, "wms-sim"))
    return parse_outcome{std::nullopt, stop->code, stop->output};
  http::parse_log_level(level_text, cfg.log_threshold);
  if (auto* opt = app.get_config_ptr(); opt && opt->count() > 0)
    cfg.config_file = opt->as<std::string>();
  return parse_outcome{std::move(cfg), 0, {}};
}

outcome load_seed_file(sim& wms, const std::string& file) {
  std::ifstream in{file};
  std::string text{std::istreambuf_iterator<char>{in}, {}};
  json_refusal why;
  auto seed = parse_strict(text, why);
  if (seed.is_discarded())
    return invalid(
        "seed", "not valid JSON: " +
                    (why.field.empty() ? std::string{"the file"} : why.field) +
                    " " + why.message);
  return wms.load_seed(seed);
}

} // namespace oms::wms_sim
