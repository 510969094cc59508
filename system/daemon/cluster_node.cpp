#include "system/daemon/cluster_node.hpp"

#include <utility>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <pqxx/pqxx>

#include "messages/type_ids.hpp"
#include "system/cluster/leases.hpp"
#include "system/cluster/membership.hpp"
#include "system/cluster/region.hpp"
#include "system/daemon/auth.hpp"
#include "system/log.hpp"

namespace oms::daemon {

shard_bridge::shard_bridge(std::shared_ptr<shard_map> shards)
    : shards_(std::move(shards)) {}

void shard_bridge::on_change(const cluster::keeper_changes& changes) {
  std::lock_guard<std::mutex> guard{mtx_};
  shard_epochs lost;
  for (auto s : changes.lost) {
    shards_->stop(s); // first: the fence refuses the shard from now on
    lost.shards.push_back(s);
    lost.epochs.push_back(0);
  }
  shard_epochs gained;
  for (auto& [s, epoch] : changes.gained) {
    gained.shards.push_back(s);
    gained.epochs.push_back(epoch);
  }
  if (!sup_)
    return; // attach() hands over what is held by then
  if (!lost.shards.empty())
    caf::anon_send(sup_, atom::disown_v, std::move(lost));
  if (!gained.shards.empty())
    caf::anon_send(sup_, atom::adopt_v, std::move(gained));
}

void shard_bridge::attach(supervisor_actor sup, const cluster::membership& m) {
  std::lock_guard<std::mutex> guard{mtx_};
  sup_ = std::move(sup);
  shard_epochs held;
  for (auto& [s, epoch] : m.view().owned) {
    held.shards.push_back(s);
    held.epochs.push_back(epoch);
  }
  if (!held.shards.empty())
    caf::anon_send(sup_, atom::adopt_v, std::move(held));
}

void shard_bridge::detach() {
  std::lock_guard<std::mutex> guard{mtx_};
  for (auto& entry : shards_->served())
    shards_->stop(entry.first);
  sup_ = nullptr;
}

customer_follower::customer_follower(std::string conninfo, std::string schema,
                                     token_registry& tokens,
                                     std::chrono::milliseconds interval)
    : conninfo_(std::move(conninfo)),
      schema_(std::move(schema)),
      tokens_(tokens),
      interval_(interval) {
  thread_ = std::thread{[this] {
    run();
  }};
}

customer_follower::~customer_follower() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

bool customer_follower::poll() {
  try {
    if (!conn_ || !conn_->is_open())
      conn_ =
          std::make_unique<pqxx::connection>(cluster::lease_session_conninfo(
              conninfo_, schema_ + "-customers", interval_));
    pqxx::read_transaction tx{*conn_};
    auto table = tx.quote_name(schema_) + ".customers";
    auto count = tx.exec1("SELECT count(*) FROM " + table)[0].as<int64_t>();
    if (count == known_)
      return true;
    auto rows =
        tx.exec("SELECT id, name, token_hash, created_at FROM " + table);
    for (const auto& row : rows)
      tokens_.add(
          customer_record{row[0].as<std::string>(), row[1].as<std::string>(),
                          row[2].as<std::string>(), row[3].as<int64_t>()});
    known_ = count;
    return true;
  } catch (const std::exception& e) {
    conn_.reset();
    log::warn("cluster.customers_unread", {{"error", std::string{e.what()}}});
    return false;
  }
}

void customer_follower::run() {
  std::unique_lock<std::mutex> guard{mtx_};
  while (!stopping_) {
    guard.unlock();
    poll();
    guard.lock();
    wake_.wait_for(guard, interval_, [this] { return stopping_; });
  }
}

forwarded_request to_forwarded(const std::string& from_node,
                               const http::request& req) {
  forwarded_request fr;
  fr.from_node = from_node;
  fr.method = req.method;
  fr.head = req.head;
  fr.path = req.path;
  fr.query = req.query;
  fr.authorization = req.authorization;
  fr.idempotency_key = req.idempotency_key;
  fr.accept = req.accept;
  fr.last_event_id = req.last_event_id;
  fr.if_match = req.if_match;
  fr.if_none_match = req.if_none_match;
  fr.body = req.body;
  return fr;
}

http::request from_forwarded(forwarded_request fr) {
  http::request req;
  req.method = std::move(fr.method);
  req.head = fr.head;
  req.path = std::move(fr.path);
  req.query = std::move(fr.query);
  req.authorization = std::move(fr.authorization);
  req.idempotency_key = std::move(fr.idempotency_key);
  req.accept = std::move(fr.accept);
  req.last_event_id = std::move(fr.last_event_id);
  req.if_match = std::move(fr.if_match);
  req.if_none_match = std::move(fr.if_none_match);
  req.has_body = !fr.body.empty();
  if (req.has_body)
    req.content_length = fr.body.size();
  req.body = std::move(fr.body);
  // Never forwarded again (and never taken for a client's request).
  req.forwarded_from = fr.from_node.empty() ? "?" : std::move(fr.from_node);
  return req;
}

forwarded_response to_forwarded(const http::response& resp) {
  forwarded_response fr;
  fr.status = static_cast<uint16_t>(resp.status);
  fr.content_type = resp.content_type;
  fr.cache_control = resp.cache_control;
  fr.headers = resp.headers;
  fr.body = resp.body;
  return fr;
}

http::response from_forwarded(forwarded_response fr) {
  http::response resp;
  resp.status = fr.status;
  resp.content_type = std::move(fr.content_type);
  resp.cache_control = std::move(fr.cache_control);
  resp.headers = std::move(fr.headers);
  resp.body = std::move(fr.body);
  return resp;
}

struct request_forwarder::figures {
  std::mutex mtx;
  forward_counts counts;
  figures() {
    counts.latency_buckets.assign(std::size(forward_bounds_us) + 1, 0);
  }
  void answered(uint64_t us) {
    std::lock_guard<std::mutex> guard{mtx};
    ++counts.answered;
    counts.latency_us_sum += us;
    size_t i = 0;
    while (i < std::size(forward_bounds_us) && us > forward_bounds_us[i])
      ++i;
    ++counts.latency_buckets[i];
  }
};

namespace {

// One forwarded request: a short-lived actor that asks the owner's region
// and ends with its answer (or the lack of one).
void forward_once(caf::event_based_actor* self, region_actor dest,
                  forwarded_request fr, caf::timespan timeout,
                  std::shared_ptr<request_forwarder::answered> done,
                  std::function<void(bool, uint64_t)> count) {
  auto started = std::chrono::steady_clock::now();
  auto elapsed_us = [started] {
    return static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(
            std::chrono::steady_clock::now() - started)
            .count());
  };
  self->request(dest, timeout, atom::forward_v, std::move(fr))
      .then(
          [done, count, elapsed_us](forwarded_response& resp) {
            count(true, elapsed_us());
            (*done)(from_forwarded(std::move(resp)));
          },
          [done, count](caf::error&) {
            count(false, 0);
            (*done)(std::nullopt);
          });
}

} // namespace

request_forwarder::request_forwarder(
    caf::actor_system& sys, std::string node,
    std::shared_ptr<const cluster::peer_table> peers,
    std::chrono::milliseconds timeout)
    : sys_(sys),
      node_(std::move(node)),
      peers_(std::move(peers)),
      timeout_(timeout),
      figures_(std::make_shared<figures>()) {}

bool request_forwarder::forward(const std::string& owner,
                                const http::request& req,
                                std::optional<customer_record> caller,
                                answered done) {
  auto dest = peers_ ? peers_->region_of(owner) : region_actor{};
  if (!dest) {
    std::lock_guard<std::mutex> guard{figures_->mtx};
    ++figures_->counts.unroutable;
    return false;
  }
  auto figs = figures_;
  auto count = [figs](bool ok, uint64_t us) {
    if (ok) {
      figs->answered(us);
    } else {
      std::lock_guard<std::mutex> guard{figs->mtx};
      ++figs->counts.failed;
    }
  };
  auto fr = to_forwarded(node_, req);
  if (caller)
    fr.caller.push_back(std::move(*caller));
  sys_.spawn(forward_once, std::move(dest), std::move(fr),
             caf::timespan{timeout_},
             std::make_shared<answered>(std::move(done)),
             std::function<void(bool, uint64_t)>{count});
  return true;
}

bool request_forwarder::routable(const std::string& owner) const {
  return peers_ && static_cast<bool>(peers_->region_of(owner));
}

forward_counts request_forwarder::counts() const {
  std::lock_guard<std::mutex> guard{figures_->mtx};
  return figures_->counts;
}

} // namespace oms::daemon
