// omsd: the order system as a daemon. Starts the actor system over the
// configured store, serves the JSON/HTTP API (system/daemon/api.hpp) with
// the HTTP server of system/http/server.hpp, and on SIGTERM or SIGINT stops accepting, finishes the requests
// in flight, flushes the journal and exits 0.
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>

#include "actors/context.hpp"
#include "actors/wms_gateway.hpp"
#include <caf/send.hpp>

#include "messages/type_ids.hpp"
#include "system/actor_threads.hpp"
#include "system/cluster/membership.hpp"
#include "system/cluster/region.hpp"
#include "system/cluster/tls.hpp"
#include "system/daemon/api.hpp"
#include "system/daemon/auth.hpp"
#include "system/daemon/cluster_node.hpp"
#include "system/daemon/config.hpp"
#include "system/daemon/data_dir.hpp"
#include "system/daemon/metrics.hpp"
#include "system/daemon/omsd_cluster.hpp"
#include "system/daemon/omsd_store.hpp"
#include "system/daemon/store_check.hpp"
#include "system/daemon/webhook_duty.hpp"
#include "system/daemon/webhook_wire.hpp"
#include "system/daemon/webhooks.hpp"
#include "system/http/flags.hpp"
#include "system/http/server.hpp"
#include "system/log.hpp"
#include "system/order_system.hpp"
#include "system/simulated_gateway.hpp"
#include "system/wms_http_transport.hpp"

namespace {

using namespace oms;
using namespace oms::daemon;

int fatal(const std::string& message) {
  std::cerr << "omsd: " << message << "\n";
  log::error("omsd.start_failed", {{"error", message}});
  return 2;
}

std::string first_line(const std::string& path) {
  std::ifstream in{path};
  std::string line;
  std::getline(in, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' '))
    line.pop_back();
  return line;
}

// The admin token: the flag or OMS_ADMIN_TOKEN, else the file given, else
// DATA_DIR/admin.token (written with a fresh token if missing, mode 0600).
caf::expected<std::string> resolve_admin_token(const daemon_config& cfg,
                                               std::string& origin) {
  if (!cfg.admin_token.empty()) {
    origin = "flag or OMS_ADMIN_TOKEN";
    if (cfg.admin_token.size() < 8)
      return make_error(errc::validation_failed,
                        "the admin token must have at least 8 characters");
    return cfg.admin_token;
  }
  auto path = cfg.admin_token_file;
  bool generated_ok = path.empty();
  if (path.empty())
    path = (std::filesystem::path{cfg.data_dir} / "admin.token").string();
  origin = path;
  if (std::filesystem::exists(path)) {
    auto token = first_line(path);
    if (token.size() < 8)
      return make_error(errc::validation_failed,
                        path + ": the admin token must have at least 8 "
                               "characters");
    return token;
  }
  if (!generated_ok)
    return make_error(errc::validation_failed,
                      "--admin-token-file " + path + ": no such file");
  auto token = new_token();
  auto old_mask = ::umask(077);
  std::ofstream out{path};
  out << token << "\n";
  out.close();
  ::umask(old_mask);
  if (!out)
    return make_error(errc::store_failure, "cannot write " + path);
  origin = path + " (generated)";
  return token;
}

// Set when the store stopped committing for good (a cluster node's,
// pg_store::set_on_lost): omsd stops, and exits with exit_store_lost.
std::atomic<bool> store_lost{false};
constexpr int exit_store_lost = 75; // EX_TEMPFAIL: start it again

// Blocks SIGTERM and SIGINT, which main takes with sigwait; every thread
// started from here on inherits the mask. SIGPIPE is ignored.
sigset_t block_stop_signals() {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return stop_signals;
}

void configure_actors(caf::actor_system_config& caf_cfg,
                      const daemon_config& cfg) {
  register_types(caf_cfg);
  caf_cfg.set("logger.console-verbosity", caf::atom("quiet"));
  caf_cfg.set("logger.file-verbosity", caf::atom("quiet"));
  caf_cfg.set("scheduler.policy", cfg.actor_scheduler == "sharing"
                                      ? caf::atom("sharing")
                                      : caf::atom("stealing"));
  caf_cfg.set("scheduler.max-threads", actor_threads_for(cfg.actor_threads));
  if (!cfg.cluster_listen.empty()) {
    // The other nodes' regions, through CAF's middleman. Its heartbeats
    // are off by default: then a peer gone silent is noticed only when TCP
    // gives up. With them, within about a lease TTL.
    caf_cfg.load<caf::io::middleman>();
    caf_cfg.set("middleman.heartbeat-interval",
                caf::timespan{cfg.lease_ttl / 3});
    caf_cfg.set("middleman.connection-timeout", caf::timespan{cfg.lease_ttl});
    if (cfg.cluster_tls()) {
      // Mutual TLS: every link presents a certificate of the cluster's CA
      // and checks the other side's (docs/cluster.md, "Links between
      // nodes").
      caf_cfg.load<caf::openssl::manager>();
      caf_cfg.openssl_certificate = cfg.cluster_tls_cert;
      caf_cfg.openssl_key = cfg.cluster_tls_key;
      caf_cfg.openssl_cafile = cfg.cluster_tls_ca;
    }
  }
}

std::string config_name(const daemon_config& cfg) {
  return cfg.config_file.empty() ? std::string{"(none)"} : cfg.config_file;
}

// What the actors run with, from the daemon's settings.
settings actor_settings(const daemon_config& cfg) {
  settings s;
  s.hold_ttl = cfg.hold_ttl;
  s.foreign_hold_grace = cfg.cross_shard_grace;
  s.off_shard_check_interval = cfg.cross_shard_check;
  s.return_window = cfg.return_window;
  s.idempotency_window = cfg.idempotency_window;
  s.customer_idle_timeout = cfg.customer_idle_timeout;
  s.order_idle_timeout = cfg.order_idle_timeout;
  s.inbox_retention = cfg.inbox_retention;
  s.request_timeout = cfg.request_timeout;
  s.cart_lines_max = cfg.cart_lines_max;
  s.limits = cfg.limits;
  s.external.safety_buffer = cfg.external_safety_buffer;
  s.external.batch_interval = cfg.external_batch_interval;
  s.external.snapshot_min_interval = cfg.external_snapshot_min_interval;
  s.external.feed_interval = cfg.external_feed_interval;
  // (The gateway's call deadline and one attempt's timeout: start_wms.)
  s.external.stale_call_grace =
      cfg.wms_call_deadline + cfg.wms_timeout + std::chrono::seconds(1);
  return s;
}

// The one way to the EXTERNAL seller's WMS, if there is one.
wms_gateway_actor start_wms(caf::actor_system& sys, const daemon_config& cfg) {
  if (cfg.wms_url.empty())
    return {};
  wms_gateway_config wcfg;
  wcfg.rate_per_second = cfg.wms_rate;
  wcfg.queue_capacity = cfg.wms_queue;
  wcfg.max_in_flight = static_cast<uint32_t>(cfg.wms_connections);
  wcfg.breaker_failures = cfg.wms_breaker_failures;
  wcfg.breaker_open_for = cfg.wms_breaker_open;
  wcfg.call_deadline = cfg.wms_call_deadline;
  wcfg.attempt_timeout = cfg.wms_timeout + std::chrono::seconds(1);
  auto transport = spawn_wms_http_transport(sys, cfg.wms_url, cfg.wms_timeout,
                                            cfg.wms_connections);
  auto wms = spawn_wms_gateway(sys, wcfg, transport);
  log::info("omsd.wms", {{"url", cfg.wms_url},
                         {"rate_per_second", uint64_t{cfg.wms_rate}}});
  return wms;
}

// The data dir, when there is anything to keep in it (a durable store, a
// generated token), is private and owned by this omsd alone until it exits.
caf::expected<data_dir_lock> claim_data_dir_if_kept(const daemon_config& cfg,
                                                    bool durable) {
  if (!durable && !cfg.admin_token.empty())
    return data_dir_lock{};
  return claim_data_dir(cfg.data_dir);
}

// The simulated payment gateway. With a durable store it remembers its
// charges in the data dir, as a real provider would across our restarts.
std::shared_ptr<simulated_gateway> start_gateway(const daemon_config& cfg,
                                                 bool durable) {
  simulated_gateway::config gw;
  gw.decline_amount_min = cfg.decline_amount_min;
  if (!durable)
    return std::make_shared<simulated_gateway>(gw);
  std::filesystem::path dir{cfg.data_dir};
  // payments.jsonl: the ledger of earlier versions, imported once.
  return std::make_shared<simulated_gateway>(gw, (dir / "payments.db").string(),
                                             (dir / "payments.jsonl").string());
}

webhook_settings hook_settings(const daemon_config& cfg) {
  webhook_settings out;
  out.allowed_hosts = read_allowed_hosts(cfg.webhook_allow);
  out.timeout = cfg.webhook_timeout;
  out.retry_base = cfg.webhook_retry_base;
  out.retry_max = cfg.webhook_retry_max;
  out.failures_max = cfg.webhook_failures_max;
  out.rotation_grace = cfg.webhook_rotation_grace;
  return out;
}

api_options front_options(const daemon_config& cfg,
                          const std::string& store_description,
                          const store_check& check) {
  api_options opts;
  opts.rate_limit = cfg.rate_limit;
  opts.rate_burst = cfg.rate_burst;
  opts.store_description = store_description;
  opts.check = &check;
  return opts;
}

namespace asio = boost::asio;

http::server_limits server_limits(const daemon_config& cfg) {
  http::server_limits l;
  l.connections_max = cfg.connections_max;
  l.url_bytes_max = cfg.url_bytes_max;
  l.header_bytes_max = cfg.header_bytes_max;
  l.body_bytes_max = cfg.limits.body_bytes_max;
  l.body_memory_max = cfg.body_memory_max;
  l.idle_timeout = cfg.idle_timeout;
  l.body_timeout = cfg.body_timeout;
  return l;
}

// The HTTP front's threads: one io_context each, kept running until stop().
// A connection lives on one of them (the first also accepts), so a request's
// work stays on its thread and the threads share no queue: a shared
// io_context run by several threads woke an idle one for each handler, and
// those wake-ups were the front's largest cost (docs/benchmarks.md).
class io_pool {
 public:
  explicit io_pool(size_t n) {
    for (size_t i = 0; i < n; ++i) {
      contexts_.push_back(std::make_unique<asio::io_context>(1));
      guards_.push_back(asio::make_work_guard(*contexts_.back()));
    }
  }

  // The first context goes last: connections on the others end by posting
  // to the acceptor's strand on it, and the acceptor lives on it.
  ~io_pool() {
    stop();
    guards_.clear();
    while (!contexts_.empty())
      contexts_.pop_back();
  }

  io_pool(const io_pool&) = delete;
  io_pool& operator=(const io_pool&) = delete;

  asio::io_context& first() { return *contexts_.front(); }

  std::vector<asio::io_context*> all() {
    std::vector<asio::io_context*> result;
    for (auto& c : contexts_)
      result.push_back(c.get());
    return result;
  }

  void start() {
    for (auto& c : contexts_)
      threads_.emplace_back([ctx = c.get()] {
        for (;;) {
          try {
            ctx->run();
            return;
          } catch (const std::exception& e) {
            log::error("http.io_error", {{"error", e.what()}});
          }
        }
      });
  }

  void stop() {
    for (auto& c : contexts_)
      c->stop();
    for (auto& t : threads_)
      t.join();
    threads_.clear();
  }

 private:
  using guard_t = asio::executor_work_guard<asio::io_context::executor_type>;
  std::vector<std::unique_ptr<asio::io_context>> contexts_;
  std::vector<guard_t> guards_;
  std::vector<std::thread> threads_;
};

// Stops accepting, waits up to the drain timeout for the requests in flight
// and stops the io threads; the number left unanswered.
int64_t drain(api& front, http::server& server, io_pool& io,
              std::chrono::milliseconds drain_timeout) {
  front.drain();
  server.stop_accepting();
  auto deadline = std::chrono::steady_clock::now() + drain_timeout;
  while (front.in_flight() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  auto unanswered = front.in_flight();
  // Let the last answers reach their sockets before the loop stops.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  io.stop();
  return unanswered;
}

} // namespace

int main(int argc, char** argv) {
  auto t0 = std::chrono::steady_clock::now();
  auto stop_signals = block_stop_signals();

  auto parsed = parse_args(argc, argv);
  if (!parsed.config)
    return http::report_exit({parsed.exit_code, parsed.output});
  auto cfg = std::move(*parsed.config);
  log::set_level(cfg.log_level);
  if (cfg.check_only)
    return check_store_files(cfg);
  if (cfg.cluster_tls())
    if (auto why = cluster::check_tls_files(
            {cfg.cluster_tls_cert, cfg.cluster_tls_key, cfg.cluster_tls_ca});
        !why.empty())
      return http::report_exit({2, "omsd: --cluster-tls-*: " + why + "\n"});
  // What omsd writes (the store, its WAL, the payment ledger, the token)
  // holds names and addresses: readable by its own user only.
  ::umask(077);

  bool durable = cfg.store != store_kind::memory;
  auto data_lock = claim_data_dir_if_kept(cfg, durable);
  if (!data_lock)
    return fatal(message_of(data_lock.error()));
  std::string token_origin;
  auto admin_token = resolve_admin_token(cfg, token_origin);
  if (!admin_token)
    return fatal(message_of(admin_token.error()));

  // A cluster node serves the shards it holds, and only once loaded.
  std::shared_ptr<shard_map> shards;
  if (!cfg.cluster.empty())
    shards = std::make_shared<shard_map>(cfg.cluster_shards);
  auto store = open_store(cfg, shards, [](const std::string& why) {
    log::error("store.lost", {{"error", why}});
    store_lost.store(true);
    ::kill(::getpid(), SIGTERM);
  });
  if (!store)
    return fatal("cannot open the store: " + message_of(store.error()));
  auto store_description = (*store)->describe();

  caf::actor_system_config caf_cfg;
  configure_actors(caf_cfg, cfg);
  caf::actor_system sys{caf_cfg};

  auto wms = start_wms(sys, cfg);
  std::shared_ptr<simulated_gateway> gateway;
  try {
    gateway = start_gateway(cfg, durable);
  } catch (const simulated_gateway::ledger_error& e) {
    return fatal(e.what());
  }
  std::unique_ptr<order_system> oms;
  try {
    oms = std::make_unique<order_system>(
        sys, actor_settings(cfg), std::move(*store), gateway, wms, shards);
  } catch (const startup_error& e) {
    return fatal(std::string{"cannot load the store: "} + e.what());
  }

  token_registry tokens{*admin_token};
  for (auto& rec : oms->customers_at_start())
    tokens.add(rec);
  metrics stats;
  store_check check; // outlives the front, which reads it
  if (cfg.event_retention.count() > 0)
    caf::anon_send(oms->journal(), atom::prune_v,
                   caf::timespan{cfg.event_retention});
  // On a cluster, the holder of the duty shard runs the deliveries.
  std::unique_ptr<webhook_duty> hooks;
  if (shards)
    hooks = std::make_unique<webhook_duty>(
        sys, oms->journal(), hook_settings(cfg), shards, webhook_duty_shard,
        webhook_duty::postgres_reader(cfg.postgres, cfg.postgres_schema));
  else
    hooks = std::make_unique<webhook_duty>(
        sys, oms->journal(), hook_settings(cfg), oms->cursors_at_start());
  auto bridge = std::make_shared<shard_bridge>(
      shards ? shards : std::make_shared<shard_map>(1));
  // A hand-back of the duty shard stops the deliveries first, so that
  // their last cursors are journaled under the lease.
  auto membership = join_cluster(
      cfg, bridge, [&hooks](const auto& held) { hooks->handing_back(held); });
  if (!membership) {
    hooks->stop();
    oms->shutdown();
    return fatal("cannot join the cluster: " + message_of(membership.error()));
  }
  region_link region;
  if (*membership) {
    auto opened = open_region(sys, cfg, *membership);
    if (!opened) {
      hooks->stop();
      oms->shutdown();
      return fatal("cannot open the cluster's region: " +
                   message_of(opened.error()));
    }
    region = std::move(*opened);
    bridge->attach(oms->supervisor(), **membership);
    // Orders across shards: this node's SUPERVISOR makes the hold changes
    // other nodes' orders ask for, and asks other nodes' regions for its
    // own orders' (docs/cluster.md, "Orders across shards").
    if (region.slot)
      region.slot->set_holds(oms->supervisor());
    if (region.peers)
      shards->set_routes(
          [m = *membership, peers = region.peers](uint32_t shard) {
            auto h = m->holder_of(shard);
            if (!h || h->node == m->config().node)
              return region_actor{};
            return peers->region_of(h->node);
          });
  }
  std::unique_ptr<customer_follower> customers;
  if (*membership)
    customers = std::make_unique<customer_follower>(
        cfg.postgres, cfg.postgres_schema, tokens, std::chrono::seconds(1));
  auto opts = front_options(cfg, store_description, check);
  opts.webhooks = hooks.get();
  opts.cluster = membership->get();
  opts.peers = region.peers.get();
  // A request for another node's shard goes to its owner's region.
  std::unique_ptr<request_forwarder> forwarder;
  if (region.peers) {
    forwarder = std::make_unique<request_forwarder>(
        sys, cfg.node_id, region.peers, cfg.request_timeout);
    opts.forwarder = forwarder.get();
  }
  api front{sys, *oms, tokens, stats, std::move(opts)};
  if (region.slot)
    region.slot->set([&front,
                      &tokens](forwarded_request fr,
                               std::function<void(forwarded_response)> done) {
      for (auto& who : fr.caller)
        tokens.add(who); // the request's own token authenticates it here
      front.handle(from_forwarded(std::move(fr)),
                   [done](http::response resp) { done(to_forwarded(resp)); });
    });

  io_pool io{cfg.io_threads};
  http::server server{io.first(), io.all(), server_limits(cfg),
                      [&front](http::request head, http::respond done) {
                        return front.begin(std::move(head), std::move(done));
                      },
                      stats.connections()};
  if (auto failed = server.listen(cfg.listen, cfg.port); !failed.empty()) {
    region.stop();
    hooks->stop();
    oms->shutdown();
    return fatal("cannot listen on " + cfg.listen + ":" +
                 std::to_string(cfg.port) + ": " + failed);
  }
  io.start();
  auto startup_ms = std::chrono::duration<double, std::milli>(
                        std::chrono::steady_clock::now() - t0)
                        .count();
  log::info("omsd.started",
            {{"listen", cfg.listen + ":" + std::to_string(cfg.port)},
             {"store", store_description},
             {"customers", uint64_t{tokens.customers()}},
             {"hold_ttl", format_duration(cfg.hold_ttl)},
             {"return_window", format_duration(cfg.return_window)},
             {"admin_token", token_origin},
             {"config", config_name(cfg)},
             {"startup_ms", startup_ms}});
  // The whole-file check runs now, beside the traffic, not before it.
  if (cfg.store_check_background)
    if (auto files = sqlite_files(cfg); !files.empty())
      check.start(std::move(files));

  int sig = 0;
  sigwait(&stop_signals, &sig);
  log::info("omsd.stopping", {{"signal", sig == SIGTERM ? "TERM" : "INT"},
                              {"in_flight", front.in_flight()}});
  auto unanswered = drain(front, server, io, cfg.drain_timeout);
  // Then the deliveries (one under way is made again after a restart); the
  // last cursors are journaled while the node still serves its shards.
  hooks->stop();
  if (region.slot)
    region.slot->clear(); // forwarded requests: 503 from here on
  if (shards)
    shards->set_routes({});
  // Handed back at once, so the others take the shards at their next tick:
  // the region stops and the watcher dials no more, but its dials under way
  // are waited for only after the hand-back.
  region.begin_stop();
  bridge->detach();
  customers.reset();
  if (*membership && !(*membership)->stop(2 * cfg.lease_ttl)) {
    // Its keeper is stuck on a dead link: the leases run out within the
    // TTL by themselves. The membership is left as it is (its thread may
    // still wake), not destroyed under it.
    log::warn("cluster.stop_stuck",
              {{"wait", format_duration(2 * cfg.lease_ttl)}});
    new std::shared_ptr<cluster::membership>(std::move(*membership));
  }
  region.finish_stop();
  oms->shutdown(); // the journal is flushed before this returns
  log::info("omsd.stopped", {{"unanswered", unanswered}});
  return store_lost.load() ? exit_store_lost : 0;
}
