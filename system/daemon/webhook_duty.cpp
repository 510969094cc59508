#include "system/daemon/webhook_duty.hpp"

#include <pqxx/pqxx>

#include "system/cluster/leases.hpp"
#include "system/log.hpp"

namespace oms::daemon {

namespace {

// How long a holder waits before reading the store again after a read
// failed (PostgreSQL unreachable: its lease runs out meanwhile, or not).
constexpr auto read_retry = std::chrono::seconds(1);

} // namespace

webhook_duty::webhook_duty(caf::actor_system& sys, journal_actor journal,
                           webhook_settings cfg, const stored_values& stored)
    : sys_(sys), journal_(std::move(journal)), cfg_(std::move(cfg)) {
  current_ = std::make_shared<webhook_dispatcher>(sys_, journal_, cfg_, stored);
}

webhook_duty::webhook_duty(caf::actor_system& sys, journal_actor journal,
                           webhook_settings cfg,
                           std::shared_ptr<const shard_map> shards,
                           uint32_t shard, store_reader read,
                           std::chrono::milliseconds poll)
    : sys_(sys),
      journal_(std::move(journal)),
      cfg_(std::move(cfg)),
      shards_(std::move(shards)),
      shard_(shard),
      read_(std::move(read)),
      poll_(poll) {
  cfg_.duty_shard = shard;
  watcher_ = std::thread{[this] {
    watch();
  }};
}

webhook_duty::~webhook_duty() {
  stop();
}

std::shared_ptr<webhook_dispatcher> webhook_duty::here() const {
  std::lock_guard<std::mutex> lk{mtx_};
  return current_;
}

uint64_t webhook_duty::idle_looks() const {
  std::lock_guard<std::mutex> lk{mtx_};
  return idle_looks_;
}

void webhook_duty::stop() {
  {
    std::lock_guard<std::mutex> lk{mtx_};
    stopping_ = true;
  }
  wake_.notify_all();
  if (watcher_.joinable())
    watcher_.join();
  std::lock_guard<std::mutex> turn{turn_};
  drop();
}

// Follows the epoch the node serves the duty shard under: a dispatcher for
// each epoch, none while the shard is not served here.
void webhook_duty::watch() {
  auto next_try = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> lk{mtx_};
  while (!stopping_) {
    auto now_epoch = shards_->epoch(*shard_);
    if (now_epoch != epoch_ && std::chrono::steady_clock::now() >= next_try) {
      lk.unlock();
      bool handed_back = false;
      {
        std::lock_guard<std::mutex> turn{turn_};
        drop();
        handed_back = now_epoch == handed_back_;
        if (now_epoch > 0 && !handed_back && take(now_epoch) == taken::unread)
          next_try = std::chrono::steady_clock::now() + read_retry;
      }
      lk.lock();
      if (handed_back)
        epoch_ = now_epoch; // nothing runs under it again
      continue;
    }
    ++idle_looks_;
    wake_.wait_for(lk, poll_, [this] { return stopping_; });
  }
}

void webhook_duty::handing_back(const std::map<uint32_t, int64_t>& held) {
  if (!shard_)
    return;
  auto i = held.find(*shard_);
  if (i == held.end())
    return;
  std::lock_guard<std::mutex> turn{turn_};
  handed_back_ = i->second;
  drop();
}

// Restores the deliveries as the store holds them now: every change of an
// earlier holder was committed under an older epoch of the duty shard's
// lease, so none commits after this node took it.
webhook_duty::taken webhook_duty::take(int64_t epoch) {
  stored_values stored;
  try {
    stored = read_();
  } catch (const std::exception& e) {
    log::warn("webhook.duty_unread",
              {{"shard", uint64_t{*shard_}}, {"error", std::string{e.what()}}});
    return taken::unread;
  }
  if (shards_->epoch(*shard_) != epoch)
    return taken::lost; // the watch sees the epoch of now
  auto cfg = cfg_;
  cfg.fence = epoch;
  cfg.may_deliver = [shards = shards_, shard = *shard_, epoch] {
    return shards->epoch(shard) == epoch;
  };
  auto started = std::make_shared<webhook_dispatcher>(sys_, journal_,
                                                      std::move(cfg), stored);
  {
    std::lock_guard<std::mutex> lk{mtx_};
    if (!stopping_) {
      current_ = started;
      epoch_ = epoch;
      started.reset();
    }
  }
  if (started) {
    started->stop();
    return taken::lost;
  }
  log::info("webhook.duty_taken",
            {{"shard", uint64_t{*shard_}}, {"epoch", epoch}});
  return taken::running;
}

// Stops the running dispatcher, then forgets it: until it has stopped,
// here() still answers it, and a change asked of it is refused as it stops
// (webhooks.hpp), so nothing is taken that it would not journal.
void webhook_duty::drop() {
  std::shared_ptr<webhook_dispatcher> was;
  int64_t epoch = 0;
  {
    std::lock_guard<std::mutex> lk{mtx_};
    was = current_;
    epoch = epoch_;
  }
  if (was) {
    // Its last cursors are journaled if the node still serves the shard
    // under its epoch (omsd stopping, or a hand-back), refused by the
    // fence otherwise.
    was->stop();
  }
  {
    std::lock_guard<std::mutex> lk{mtx_};
    if (current_ == was)
      current_.reset();
    epoch_ = 0;
  }
  if (was && shard_)
    log::info("webhook.duty_dropped",
              {{"shard", uint64_t{*shard_}}, {"epoch", epoch}});
}

webhook_duty::store_reader webhook_duty::postgres_reader(std::string conninfo,
                                                         std::string schema) {
  return [conninfo = std::move(conninfo), schema = std::move(schema)] {
    pqxx::connection conn{cluster::lease_session_conninfo(
        conninfo, schema + "-webhooks", std::chrono::seconds(2))};
    pqxx::read_transaction tx{conn};
    tx.exec0("SET LOCAL statement_timeout = 5000");
    auto rows = tx.exec("SELECT source, cursor FROM " + tx.quote_name(schema) +
                        ".inbox_cursors WHERE source LIKE 'webhook%'");
    stored_values out;
    for (const auto& row : rows)
      out.emplace_back(row[0].as<std::string>(), row[1].as<std::string>());
    return out;
  };
}

} // namespace oms::daemon
