// Restart time as history grows: fills a SQLite store with N orders (most of
// them finished, some live), then measures opening the store (with its
// header checks), loading the current state, and starting the actor system
// on it; then, for comparison, the whole-file check that omsd runs in the
// background once it serves (a start ran it until 2026-12). Prints a JSON
// summary.
//   oms-bench-restart [--orders N] [--live-percent P] [--db PATH]
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <nlohmann/json.hpp>

#include "bench/bench_common.hpp"
#include "messages/type_ids.hpp"
#include "system/log.hpp"
#include "system/order_system.hpp"
#include "system/simulated_gateway.hpp"
#include "system/store/sqlite_check.hpp"
#include "system/store/sqlite_store.hpp"

using namespace oms;
using clock_type = std::chrono::steady_clock;

namespace {

using oms::bench::seconds_since;

// Resident set in KiB.
long rss_kib() {
  return static_cast<long>(oms::bench::rss_bytes() / 1024);
}

event ev_of(event_kind kind, timestamp_ms at, const std::string& sku,
            const std::string& order, int64_t qty, money amount = 0) {
  event ev;
  ev.kind = kind;
  ev.at = at;
  ev.sku = sku;
  ev.order = order;
  ev.quantity = qty;
  ev.amount = amount;
  return ev;
}

} // namespace

int main(int argc, char** argv) {
  uint64_t orders = 1'000'000;
  uint64_t live_percent = 1;
  std::string db;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string key = argv[i];
    if (key == "--orders")
      orders = std::stoull(argv[i + 1]);
    else if (key == "--live-percent")
      live_percent = std::stoull(argv[i + 1]);
    else if (key == "--db")
      db = argv[i + 1];
  }
  log::set_level(log::level::warn);
  std::optional<oms::bench::scratch_dir> dir;
  if (db.empty()) {
    dir.emplace("restart");
    db = dir->path() + "/oms.db";
  }
  using namespace std::chrono;
  auto now_ms =
      duration_cast<milliseconds>(system_clock::now().time_since_epoch())
          .count();
  // -- fill -------------------------------------------------------------------
  constexpr int skus = 1000;
  auto fill_start = clock_type::now();
  oms::bench::count_progress filling{"filling", orders,
                                     oms::bench::progress_wanted(false)};
  uint64_t live = 0;
  {
    auto store = sqlite_store::open(db);
    if (!store) {
      std::cerr << describe(store.error()) << '\n';
      return 2;
    }
    std::vector<event> batch;
    for (int s = 0; s < skus; ++s) {
      auto sku = "SKU-" + std::to_string(s);
      batch.push_back(ev_of(event_kind::sku_created, now_ms, sku, "", 0, 1000));
      batch.push_back(
          ev_of(event_kind::stock_received, now_ms, sku, "", 10'000'000));
    }
    if (auto err = (*store)->commit(batch)) {
      std::cerr << describe(err) << '\n';
      return 2;
    }
    batch.clear();
    for (uint64_t i = 0; i < orders; ++i) {
      order_record r;
      r.id = "ord_bench_" + std::to_string(i);
      r.customer = "cust-" + std::to_string(i % 100'000);
      auto sku = "SKU-" + std::to_string(i % skus);
      r.lines = {{sku, 1, 1000, 0, 0, {}}};
      r.ship_to = {"1 Bench Rd", "", "Pune", "411001", "IN"};
      r.total_amount = 1000;
      r.created_at = now_ms - 3'600'000;
      r.updated_at = r.created_at;
      r.hold_expires_at = now_ms + 3'600'000;
      r.history = {{r.created_at, order_status::created, order_status::created,
                    "created", 1000}};
      r.idempotency_key = "k" + std::to_string(i);
      r.request_fingerprint = "0123456789abcdef";
      event created =
          ev_of(event_kind::order_created, r.created_at, "", r.id, 0, 1000);
      created.snapshot = r;
      batch.push_back(std::move(created));
      batch.push_back(
          ev_of(event_kind::stock_reserved, r.created_at, sku, r.id, 1));
      if (i % 100 >= live_percent) {
        r.status = order_status::cancelled;
        r.cancel_reason = "CUSTOMER_REQUEST";
        r.history.push_back({r.created_at, order_status::created,
                             order_status::cancelled, "CUSTOMER_REQUEST", 0});
        batch.push_back(
            ev_of(event_kind::stock_released, r.created_at, sku, r.id, 1));
        event changed =
            ev_of(event_kind::order_changed, r.created_at, "", r.id, 0, 1000);
        changed.snapshot = r;
        batch.push_back(std::move(changed));
      } else {
        ++live;
      }
      if (batch.size() >= 4000 || i + 1 == orders) {
        // As the JOURNAL does: the tables follow the log closely.
        auto err = (*store)->commit(batch);
        if (!err)
          err = (*store)->apply_committed();
        if (err) {
          std::cerr << describe(err) << '\n';
          return 2;
        }
        batch.clear();
        filling.update(i + 1);
      }
    }
  }
  filling.finish();
  auto fill_s = seconds_since(fill_start);
  auto db_bytes = std::filesystem::file_size(db);
  // -- restart ----------------------------------------------------------------
  auto rss_before = rss_kib();
  auto t_open = clock_type::now();
  auto store = sqlite_store::open(db);
  if (!store) {
    std::cerr << describe(store.error()) << '\n';
    return 2;
  }
  auto open_s = seconds_since(t_open);
  std::shared_ptr<journal_store> backend{std::move(*store)};
  auto t_start = clock_type::now();
  double start_s = 0;
  {
    caf::actor_system_config cfg;
    cfg.set("logger.console-verbosity", caf::atom("quiet"));
    register_types(cfg);
    caf::actor_system sys{cfg};
    settings s;
    order_system oms{sys, s, backend, std::make_shared<simulated_gateway>()};
    // The system is up once it answers; an audit asks every actor.
    auto report = oms.audit();
    start_s = seconds_since(t_start);
    auto rss_after = rss_kib();
    nlohmann::json summary{
        {"orders", orders},
        {"liveOrders", live},
        {"skus", skus},
        {"dbBytes", db_bytes},
        {"fillSeconds", fill_s},
        {"openSeconds", open_s},
        {"loadAndStartSeconds", start_s},
        {"restartSeconds", open_s + start_s},
        {"auditViolations", report ? report->violations.size() : 0},
        {"auditLiveOrders", report ? report->live_orders : 0},
        {"rssKiBAfterStart", rss_after},
        {"rssKiBAddedByStart", rss_after - rss_before},
    };
    // What a start used to spend before it served: reading every page
    // (PRAGMA quick_check). It runs in the background now; measured here on
    // the same file so the two figures come from one run.
    auto check = check_sqlite_file(db, check_depth::quick);
    summary["backgroundCheckSeconds"] = check ? check->seconds : -1.0;
    summary["backgroundCheckProblems"] = check ? check->problems.size() : 0;
    std::cout << summary.dump(2) << '\n';
  }
  return 0;
}
