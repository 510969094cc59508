#include "system/daemon/omsd_store.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "system/cluster/leases.hpp"
#include "system/daemon/cluster_node.hpp"
#include "system/store/memory_store.hpp"
#include "system/store/pg_store.hpp"
#include "system/store/sqlite_check.hpp"
#include "system/store/sqlite_store.hpp"

namespace oms::daemon {

caf::expected<std::shared_ptr<journal_store>>
open_store(const daemon_config& cfg, const std::shared_ptr<shard_map>& shards,
           std::function<void(const std::string&)> on_lost) {
  if (shards) {
    // A cluster node: one of the writers of the store the nodes share,
    // each commit fenced by the leases of the shards it touches.
    // With the lease sessions' limits (unless the connection string sets
    // them): a connect that gives up, and a server that vanished noticed
    // within seconds, so that a commit whose answer was lost keeps to its
    // --commit-settle-wait.
    std::string conninfo;
    try {
      conninfo = cluster::lease_session_conninfo(
          cfg.postgres, cfg.postgres_schema,
          std::max(std::chrono::milliseconds{1}, cfg.lease_ttl / 3));
    } catch (const std::exception& e) {
      return make_error(errc::validation_failed, e.what());
    }
    auto res = pg_store::open_shared(conninfo, cfg.postgres_schema);
    if (!res)
      return res.error();
    // Each SKU's and live order's shard in the store, so that a shard's
    // take reads that shard's rows (computed once for the cluster's count).
    if (auto err = (*res)->index_shards(shards->count()))
      return err;
    (*res)->set_fence(shard_fence(shards, cfg.node_id, cfg.cluster_schema),
                      "node " + cfg.node_id + "'s lease on a shard");
    (*res)->set_admit(shard_admission(shards));
    // A store that can no longer commit (the outcome of a commit stayed
    // unknown: PostgreSQL out of reach for a minute) would leave the node
    // holding leases it cannot write under: it stops, handing them back,
    // with a status a service manager restarts it on.
    (*res)->set_settle_wait(cfg.commit_settle_wait);
    (*res)->set_on_lost(std::move(on_lost));
    return std::shared_ptr<journal_store>{std::move(*res)};
  }
  switch (cfg.store) {
    case store_kind::memory:
      return std::shared_ptr<journal_store>{std::make_shared<memory_store>()};
    case store_kind::postgres: {
      auto res = pg_store::open(cfg.postgres, cfg.postgres_schema);
      if (!res)
        return res.error();
      return std::shared_ptr<journal_store>{std::move(*res)};
    }
    case store_kind::sqlite: {
      auto path = (std::filesystem::path{cfg.data_dir} / "oms.db").string();
      auto res = sqlite_store::open(path);
      if (!res)
        return res.error();
      return std::shared_ptr<journal_store>{std::move(*res)};
    }
  }
  return make_error(errc::internal, "unknown store");
}

std::vector<std::string> sqlite_files(const daemon_config& cfg) {
  std::filesystem::path dir{cfg.data_dir};
  std::vector<std::string> files;
  if (cfg.store == store_kind::memory)
    return files;
  if (cfg.store == store_kind::sqlite)
    files.push_back((dir / "oms.db").string());
  files.push_back((dir / "payments.db").string());
  return files;
}

int check_store_files(const daemon_config& cfg) {
  auto files = sqlite_files(cfg);
  if (files.empty()) {
    std::cerr << "omsd: --check: --store memory keeps nothing on disk\n";
    return 2;
  }
  if (cfg.store == store_kind::postgres)
    std::cout << "The PostgreSQL store is checked by PostgreSQL itself (data "
                 "checksums, amcheck); checked here: the payment ledger.\n";
  bool damaged = false;
  bool unchecked = false;
  size_t checked = 0;
  for (auto& file : files) {
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) {
      // No order store where one is expected is worth an exit 2; a ledger
      // not made yet (no payment ever taken) is not.
      if (cfg.store == store_kind::sqlite && file == files.front()) {
        std::cout << file << ": no such file\n";
        unchecked = true;
      }
      continue;
    }
    ++checked;
    auto res = check_sqlite_file(file, check_depth::full);
    if (!res) {
      std::cout << message_of(res.error()) << "\n";
      unchecked = true;
      continue;
    }
    char took[32];
    std::snprintf(took, sizeof(took), "%.1f s", res->seconds);
    if (res->problems.empty()) {
      std::cout << file << ": ok (integrity_check, " << took << ")\n";
      continue;
    }
    damaged = true;
    std::cout << file << ": damaged (integrity_check, " << took
              << "); SQLite found:\n";
    for (auto& p : res->problems)
      std::cout << "  " << p << "\n";
  }
  if (checked == 0 && !unchecked) {
    // A PostgreSQL store whose omsd never took a payment here.
    std::cout << cfg.data_dir << ": no SQLite file to check\n";
    unchecked = true;
  }
  return damaged ? 1 : unchecked ? 2 : 0;
}

} // namespace oms::daemon
