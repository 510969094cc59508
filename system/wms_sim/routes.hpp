// The routes of the simulated WMS (docs/wms-sim.md): which path is public,
// how a path decodes, and the answer of each route.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "system/wms_sim/sim.hpp"

namespace oms::wms_sim {

/// The percent-decoded segments of a path, or nullopt when it does not start
/// with '/' or holds a malformed escape.
std::optional<std::vector<std::string>> decode_path(const std::string& path);

/// Whether the path is one of the WMS's public routes (rate-limited,
/// fault-injected and counted): /inventory, /reservations, /returns and
/// /events.
bool is_public_path(const std::vector<std::string>& seg);

/// "POST /reservations": the method and the pattern the path matches, or
/// "(no route)".
std::string route_name(const std::string& method,
                       const std::vector<std::string>& seg);

/// 404 NOT_FOUND for `path`.
response no_route(const std::string& path);

/// Answers a request whose path decoded to `seg` (no limiter, no faults).
response route(sim& s, const request& req, const std::vector<std::string>& seg);

} // namespace oms::wms_sim
