// What the parts of omsd's configuration in files of their own share with
// config.cpp: the duration flags, and the cluster's flags and checks
// (config_cluster.cpp).
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "system/daemon/config.hpp"

namespace oms::daemon::config_detail {

/// A CLI11 option holding a duration with a unit suffix.
CLI::Option* add_duration(CLI::App& app, const std::string& name,
                          std::chrono::milliseconds& target,
                          const std::string& help);

/// The "Cluster" group of flags.
void add_cluster_flags(CLI::App& app, daemon_config& cfg);

/// A cluster node's store: PostgreSQL, the cluster's own server (set in
/// `cfg`); the refusal (a line for stderr) if the flags ask otherwise.
/// `store_given`: whether --store was given, as `store_name`.
std::optional<std::string> cluster_store(daemon_config& cfg, bool store_given,
                                         const std::string& store_name);

/// The refusal (a line for stderr) of cluster flags that do not go
/// together or are malformed, if any.
std::optional<std::string> check_cluster(const daemon_config& cfg);

} // namespace oms::daemon::config_detail
