// omsd's cluster flags (docs/cluster.md) and their checks.
#include "system/daemon/config_detail.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace oms::daemon::config_detail {

namespace {

// An id of 1-64 of A-Z a-z 0-9 . _ -
bool plain_id(const std::string& id) {
  if (id.empty() || id.size() > 64)
    return false;
  return std::all_of(id.begin(), id.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
  });
}

// "127.0.0.1:7000" or "[::1]:7000": an IP address, not a name (the region
// binds it), and a port 1-65535.
bool ip_and_port(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon + 1 == text.size() ||
      text.size() - colon - 1 > 5)
    return false;
  auto digits = text.substr(colon + 1);
  if (digits.find_first_not_of("0123456789") != std::string::npos)
    return false;
  auto port = std::stoul(digits);
  if (port == 0 || port > 65535)
    return false;
  auto host = text.substr(0, colon);
  // Not a wildcard: the address is also what the other nodes dial.
  unsigned char buf[sizeof(struct in6_addr)] = {};
  unsigned char any[sizeof(struct in6_addr)] = {};
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    return ::inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(),
                       buf) == 1 &&
           std::memcmp(buf, any, sizeof(struct in6_addr)) != 0;
  return ::inet_pton(AF_INET, host.c_str(), buf) == 1 &&
         std::memcmp(buf, any, sizeof(struct in_addr)) != 0;
}

} // namespace

void add_cluster_flags(CLI::App& app, daemon_config& cfg) {
  std::string group = "Cluster (docs/cluster.md)";
  app.add_option("--cluster", cfg.cluster,
                 "Join the cluster whose shard leases this PostgreSQL holds "
                 "(libpq connection string); needs --node-id. The node "
                 "holds its share of the leases and serves the SKUs and "
                 "orders of its shards from the store the nodes share "
                 "(on this server, schema --postgres-schema); a request for "
                 "another node's shard is answered 421 NOT_OWNER naming it")
      ->envname("OMS_CLUSTER")
      ->group(group);
  app.add_option("--node-id", cfg.node_id,
                 "This node's id in the cluster (1-64 of A-Z a-z 0-9 . _ -)")
      ->group(group);
  app.add_option("--cluster-listen", cfg.cluster_listen,
                 "IP:PORT where this node's region listens for the other "
                 "nodes (CAF's middleman: nodes trust each other fully, so "
                 "only on the cluster's own network, or with "
                 "--cluster-tls-*); empty: none")
      ->group(group);
  app.add_option("--cluster-tls-cert", cfg.cluster_tls_cert,
                 "PEM file of this node's certificate (chain), signed by "
                 "--cluster-tls-ca: the regions' links run mutual TLS, and "
                 "only a node with a certificate of the cluster's CA is "
                 "let in; with --cluster-tls-key and --cluster-tls-ca")
      ->group(group);
  app.add_option("--cluster-tls-key", cfg.cluster_tls_key,
                 "PEM file of this node's private key (not readable by other "
                 "users)")
      ->group(group);
  app.add_option("--cluster-tls-ca", cfg.cluster_tls_ca,
                 "PEM file of the cluster's CA certificate(s)")
      ->group(group);
  app.add_option("--cluster-advertise", cfg.cluster_advertise,
                 "IP:PORT the other nodes dial to reach this node's region, "
                 "when not --cluster-listen itself (a NAT or proxy between "
                 "them); empty: --cluster-listen")
      ->group(group);
  app.add_option("--cluster-schema", cfg.cluster_schema,
                 "PostgreSQL schema of the lease and node tables")
      ->capture_default_str()
      ->group(group);
  app.add_option("--cluster-shards", cfg.cluster_shards,
                 "Shards of the SKUs (S), fixed when the cluster is made: a "
                 "node with another S is refused")
      ->capture_default_str()
      ->check(CLI::Range(uint32_t{1}, uint32_t{65536}))
      ->group(group);
  add_duration(app, "--lease-ttl", cfg.lease_ttl,
               "How long a shard's lease lasts unrenewed (renewed every "
               "third of it); a dead node's shards move after about this "
               "long")
      ->group(group);
  add_duration(app, "--cross-shard-grace", cfg.cross_shard_grace,
               "How long after the hold TTL a node keeps units it reserved "
               "for an order placed on another shard before it gives them "
               "back by itself (the order never came to be); at least "
               "--request-timeout")
      ->group(group);
  add_duration(app, "--cross-shard-check", cfg.cross_shard_check,
               "How often a node reads the records of the orders on other "
               "shards it holds units for, to make a change whose message "
               "was lost")
      ->group(group);
  add_duration(app, "--commit-settle-wait", cfg.commit_settle_wait,
               "How long a commit whose answer a lost connection took waits "
               "for PostgreSQL to say whether it landed; past it the node "
               "stops (exit status 75), its memory no longer trusted")
      ->group(group);
}

std::optional<std::string> cluster_store(daemon_config& cfg, bool store_given,
                                         const std::string& store_name) {
  // A cluster's nodes share one PostgreSQL store, every commit fenced by
  // the node's shard leases: the cluster's own server unless --postgres
  // names another.
  if (cfg.cluster.empty())
    return std::nullopt;
  if (store_given && cfg.store != store_kind::postgres)
    return std::string{"omsd: a cluster node's store is PostgreSQL (the "
                       "nodes share it): --store " +
                       store_name + " cannot go with --cluster\n"};
  // The fence reads the leases in the commit's own transaction: the
  // store is in the lease table's database.
  if (!cfg.postgres.empty() && cfg.postgres != cfg.cluster)
    return std::string{"omsd: a cluster node's store is in the cluster's "
                       "PostgreSQL (its commits are fenced by the leases "
                       "there): leave --postgres out\n"};
  cfg.store = store_kind::postgres;
  cfg.postgres = cfg.cluster;
  return std::nullopt;
}

std::optional<std::string> check_cluster(const daemon_config& cfg) {
  if (cfg.cluster.empty() != cfg.node_id.empty())
    return std::string{"omsd: --cluster and --node-id go together\n"};
  if (!cfg.node_id.empty() && !plain_id(cfg.node_id))
    return std::string{"omsd: --node-id must be 1-64 of A-Z a-z 0-9 . _ "
                       "-\n"};
  // PostgreSQL keeps 63 bytes of a name.
  if (!plain_id(cfg.cluster_schema) || cfg.cluster_schema.size() > 63 ||
      cfg.cluster_schema.find_first_of(".-") != std::string::npos)
    return std::string{"omsd: --cluster-schema must be 1-63 of A-Z a-z 0-9 "
                       "_\n"};
  if (!cfg.cluster_listen.empty()) {
    if (cfg.cluster.empty())
      return std::string{"omsd: --cluster-listen needs --cluster\n"};
    if (!ip_and_port(cfg.cluster_listen))
      return std::string{"omsd: --cluster-listen must be IP:PORT (an IPv4 "
                         "address, or an IPv6 one in brackets, not a "
                         "wildcard: the other nodes dial it; and a port "
                         "1-65535)\n"};
  }
  const bool tls_given = !cfg.cluster_tls_cert.empty() ||
                         !cfg.cluster_tls_key.empty() ||
                         !cfg.cluster_tls_ca.empty();
  if (tls_given && (cfg.cluster_tls_cert.empty() ||
                    cfg.cluster_tls_key.empty() || cfg.cluster_tls_ca.empty()))
    return std::string{"omsd: --cluster-tls-cert, --cluster-tls-key and "
                       "--cluster-tls-ca go together\n"};
  if (tls_given && cfg.cluster_listen.empty())
    return std::string{"omsd: --cluster-tls-* secure the regions' links: "
                       "they need --cluster-listen\n"};
  if (!cfg.cluster_advertise.empty()) {
    if (cfg.cluster_listen.empty())
      return std::string{"omsd: --cluster-advertise needs --cluster-listen\n"};
    if (!ip_and_port(cfg.cluster_advertise))
      return std::string{"omsd: --cluster-advertise must be IP:PORT, as "
                         "--cluster-listen\n"};
  }
  return std::nullopt;
}

} // namespace oms::daemon::config_detail
