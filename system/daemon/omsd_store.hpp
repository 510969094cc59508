// Where omsd keeps its orders: the store it opens (system/daemon/omsd.cpp
// starts it), and `omsd --check` of the SQLite files it keeps.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "messages/journal_store.hpp"
#include "messages/shards.hpp"
#include "system/daemon/config.hpp"

namespace oms::daemon {

/// The store `cfg` names. With `shards` (a cluster node) the PostgreSQL
/// store the nodes share, every commit fenced by the node's leases
/// (shard_fence), and `on_lost` called once if it can commit no more (a
/// commit's outcome unknown past --commit-settle-wait).
caf::expected<std::shared_ptr<journal_store>>
open_store(const daemon_config& cfg, const std::shared_ptr<shard_map>& shards,
           std::function<void(const std::string&)> on_lost);

/// The SQLite files omsd keeps: the order store (SQLite only) and the
/// simulated gateway's payment ledger (any durable store).
std::vector<std::string> sqlite_files(const daemon_config& cfg);

/// omsd --check: the full integrity check of every SQLite file of the
/// store, read-only (an omsd may be serving them). Exit 0 when every file
/// is sound, 1 when one is damaged, 2 when nothing could be checked.
int check_store_files(const daemon_config& cfg);

} // namespace oms::daemon
