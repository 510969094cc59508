// Shard leases with fencing tokens, in PostgreSQL: the one arbiter of which
// node of a cluster owns which shard of the SKUs (docs/cluster.md). A SKU
// belongs to shard shard_of(sku, S); S is fixed when the lease table is
// made. A node takes a shard whose lease has expired with one conditional
// UPDATE that adds one to its epoch (the fencing token), renews it well
// inside its TTL, and only PostgreSQL's clock decides expiry. A commit of
// the shard's journal calls fenced() in its own transaction: the row lock it
// takes makes a takeover wait for that commit, and a commit under a lost
// lease (another owner, or a newer epoch) is refused.
//
// Not thread-safe: one thread uses a lease_table (it holds one session).
// Each call is one statement on its own (no transaction spans two round
// trips), so a node that stops between them holds no row lock.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "messages/shards.hpp"

namespace pqxx {
class transaction_base;
} // namespace pqxx

namespace oms::cluster {

/// The shard of `sku` among `shards` (> 0): FNV-1a of its bytes, mod
/// `shards`. The same on every node and platform, for ever: it is where the
/// SKU's stock lives.
uint32_t shard_of(std::string_view sku, uint32_t shards);

/// The most shards a cluster may have.
using oms::max_shards;

/// The longest lease (a day): longer would outlive any sense of failover.
inline constexpr std::chrono::milliseconds max_ttl{86'400'000};

/// The connection string of a lease table's session: `conninfo` (libpq's
/// key=value form or a postgres:// URI) with what the session needs unless
/// it says otherwise: a connect timeout and TCP keepalives and user timeout
/// of about four lock waits (a server gone silent is noticed in seconds),
/// and an application name naming the schema ("oms-lease:SCHEMA"); the
/// connect timeout is left to PGCONNECT_TIMEOUT when that is set. Throws
/// std::runtime_error for a string libpq cannot parse, without repeating it
/// (it may hold a password).
std::string lease_session_conninfo(const std::string& conninfo,
                                   const std::string& schema,
                                   std::chrono::milliseconds lock_wait);

/// One shard's lease as PostgreSQL holds it.
struct lease {
  uint32_t shard = 0;
  /// Empty: nobody has held it yet.
  std::string owner;
  /// The fencing token: one more at every takeover.
  int64_t epoch = 0;
  /// Milliseconds since the epoch, by PostgreSQL's clock.
  int64_t expires_at_ms = 0;
};

/// One node as it registered.
struct node_row {
  std::string id;
  /// Where its region actor listens for the other nodes (CAF's middleman,
  /// "host:port"); empty if it publishes none.
  std::string address;
  int64_t heartbeat_ms = 0;
  /// Where it serves HTTP ("http://host:port"), for clients sent to it.
  std::string http;
};

/// What the lease keeper needs of the lease table: lease_table is the one
/// in PostgreSQL; tests have one in memory with a clock of their own.
class lease_backend {
 public:
  virtual ~lease_backend() = default;
  /// Now, by the table's clock (PostgreSQL's), in ms since the epoch.
  virtual int64_t now_ms() = 0;
  virtual void heartbeat(const std::string& node, const std::string& address,
                         const std::string& http) = 0;
  virtual std::vector<node_row> nodes() = 0;
  /// The node leaves the cluster (it stops): no longer counted live.
  virtual void leave(const std::string& node) = 0;
  virtual std::vector<lease> leases() = 0;
  virtual std::optional<int64_t> acquire(uint32_t shard,
                                         const std::string& node,
                                         std::chrono::milliseconds ttl) = 0;
  virtual bool renew(uint32_t shard, const std::string& node, int64_t epoch,
                     std::chrono::milliseconds ttl) = 0;
  /// renew() for every shard of `held` (shard -> epoch) in one statement;
  /// answers the shards renewed.
  virtual std::vector<uint32_t>
  renew_all(const std::string& node, const std::map<uint32_t, int64_t>& held,
            std::chrono::milliseconds ttl) = 0;
  virtual bool release(uint32_t shard, const std::string& node,
                       int64_t epoch) = 0;
  /// acquire() for each of `shards` in one statement, skipping (not
  /// waiting for) a shard whose row a fenced commit holds; answers the
  /// shards taken with their new epochs.
  virtual std::map<uint32_t, int64_t>
  acquire_all(const std::vector<uint32_t>& shards, const std::string& node,
              std::chrono::milliseconds ttl) = 0;
  /// release() for every shard of `held` (shard -> epoch) in one statement.
  virtual void release_all(const std::string& node,
                           const std::map<uint32_t, int64_t>& held) = 0;
};

class lease_table : public lease_backend {
 public:
  /// Connects to `conninfo` and makes, if missing, the tables of the
  /// cluster in `schema`: `cluster_shards` (one row per shard) and
  /// `cluster_nodes`. Throws std::runtime_error if the table exists with
  /// another number of shards (S is fixed at creation), or if `shards` is
  /// not in 1..max_shards. Every statement of the table waits at most
  /// `lock_wait` for a row lock (a commit holding its shard's fence) and
  /// then throws, so that no caller waits without end.
  lease_table(const std::string& conninfo, const std::string& schema,
              uint32_t shards, std::chrono::milliseconds lock_wait);
  ~lease_table() override;

  lease_table(const lease_table&) = delete;
  lease_table& operator=(const lease_table&) = delete;

  uint32_t shards() const { return shards_; }

  /// PostgreSQL's clock now.
  int64_t now_ms() override;

  /// Records that `node` is alive, its region at `address` and its HTTP
  /// front at `http` (PostgreSQL's now).
  void heartbeat(const std::string& node, const std::string& address,
                 const std::string& http) override;

  /// The nodes registered, by id.
  std::vector<node_row> nodes() override;

  /// Removes `node` from the registered nodes.
  void leave(const std::string& node) override;

  /// Takes `shard` for `node` if its lease has expired, was never held or
  /// was handed back: its epoch goes up by one and it expires `ttl` from
  /// PostgreSQL's now. Returns the new epoch, or nullopt while another
  /// node's lease runs. (A node taking a shard it held before also gets a
  /// new epoch: commits of its earlier life are fenced off.)
  std::optional<int64_t> acquire(uint32_t shard, const std::string& node,
                                 std::chrono::milliseconds ttl) override;

  /// Extends the lease `node` holds on `shard` with `epoch` to `ttl` from
  /// now. False if the lease is lost: another owner or another epoch. A
  /// lease that ran out but nobody took is renewed, as the fence lets its
  /// commits through: no other node can have granted anything under it.
  bool renew(uint32_t shard, const std::string& node, int64_t epoch,
             std::chrono::milliseconds ttl) override;

  std::vector<uint32_t> renew_all(const std::string& node,
                                  const std::map<uint32_t, int64_t>& held,
                                  std::chrono::milliseconds ttl) override;

  /// Hands the lease back at once (it expires now) if `node` holds it with
  /// `epoch`; false otherwise.
  bool release(uint32_t shard, const std::string& node, int64_t epoch) override;

  std::map<uint32_t, int64_t>
  acquire_all(const std::vector<uint32_t>& shards, const std::string& node,
              std::chrono::milliseconds ttl) override;
  void release_all(const std::string& node,
                   const std::map<uint32_t, int64_t>& held) override;

  /// Every shard's lease, by shard.
  std::vector<lease> leases() override;

  /// The fence, in the caller's transaction `tx` on the same database:
  /// true if `node` still owns `shard` with `epoch`. It locks the shard's
  /// row until `tx` ends, so a takeover waits for the commit (and then
  /// replays it); false means the commit must roll back and the shard is
  /// lost. An expired lease nobody took yet still passes: no other node can
  /// have granted anything under it.
  static bool fenced(pqxx::transaction_base& tx, const std::string& schema,
                     uint32_t shard, const std::string& node, int64_t epoch);

  /// fenced() for every shard of `held` (shard -> epoch) in one statement,
  /// locking their rows in shard order: true only if `node` owns each with
  /// its epoch (true for none).
  static bool fenced_all(pqxx::transaction_base& tx, const std::string& schema,
                         const std::string& node,
                         const std::map<uint32_t, int64_t>& held);

 private:
  struct session;
  std::unique_ptr<session> conn_;
  std::string schema_;
  uint32_t shards_;
  std::chrono::milliseconds lock_wait_;
};

} // namespace oms::cluster
