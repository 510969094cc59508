#include "system/cluster/leases.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <stdexcept>

#include <pqxx/pqxx>

#include "messages/shards.hpp"

namespace oms::cluster {

/// The table's one session.
struct lease_table::session : pqxx::connection {
  using pqxx::connection::connection;
};

uint32_t shard_of(std::string_view sku, uint32_t shards) {
  if (shards == 0)
    throw std::invalid_argument("shard_of: no shards");
  return shard_of_sku(sku, shards);
}

namespace {

// "schema.table", quoted.
std::string table(pqxx::transaction_base& tx, const std::string& schema,
                  const char* name) {
  return tx.quote_name(schema) + "." + tx.quote_name(name);
}

// A TTL as SQL: checked by the caller to be in 1 ms..max_ttl.
std::string millis(std::chrono::milliseconds ttl) {
  if (ttl.count() <= 0 || ttl > max_ttl)
    throw std::invalid_argument("a lease's TTL must be in 1 ms..1 day");
  return std::to_string(ttl.count());
}

// Milliseconds since the epoch of a timestamptz column, as SQL.
constexpr const char* epoch_ms = "(extract(epoch from %s) * 1000)::bigint";

std::string ms_of(const char* column) {
  std::string sql = epoch_ms;
  return sql.replace(sql.find("%s"), 2, column);
}

// `value` as a libpq connection-string value: quoted, \ and ' escaped.
std::string conninfo_value(const char* value) {
  std::string out = "'";
  for (const char* p = value; *p != '\0'; ++p) {
    if (*p == '\\' || *p == '\'')
      out += '\\';
    out += *p;
  }
  return out + "'";
}

} // namespace

std::string lease_session_conninfo(const std::string& conninfo,
                                   const std::string& schema,
                                   std::chrono::milliseconds lock_wait) {
  char* error = nullptr;
  std::unique_ptr<PQconninfoOption, void (*)(PQconninfoOption*)> options{
      PQconninfoParse(conninfo.c_str(), &error), PQconninfoFree};
  if (!options) {
    // libpq's reason quotes the string's words, a password among them: not
    // repeated.
    PQfreemem(error);
    throw std::runtime_error(
        "the cluster's connection string is not one libpq reads (key=value "
        "pairs or a postgres:// URI)");
  }
  auto wait_ms = std::max<int64_t>(1, lock_wait.count());
  // What this session needs unless the connection string says otherwise:
  // a connect that gives up, and a peer that vanished noticed within about
  // the statement timeout, not after TCP's quarter of an hour.
  // PGCONNECT_TIMEOUT, if set, is libpq's default and stays so.
  auto connect_timeout =
      std::getenv("PGCONNECT_TIMEOUT") != nullptr
          ? std::string{}
          : std::to_string(std::max<int64_t>(2, (4 * wait_ms + 999) / 1000));
  std::pair<const char*, std::string> defaults[] = {
      {"connect_timeout", connect_timeout},
      {"keepalives_idle", "1"},
      {"keepalives_interval", "1"},
      {"keepalives_count", "3"},
      {"tcp_user_timeout", std::to_string(4 * wait_ms)},
      {"fallback_application_name", "oms-lease:" + schema},
  };
  std::string out;
  for (auto* o = options.get(); o->keyword != nullptr; ++o) {
    const char* value = o->val;
    std::string fallback;
    if (value == nullptr)
      for (auto& [key, dflt] : defaults)
        if (std::string_view{key} == o->keyword && !dflt.empty()) {
          fallback = dflt;
          value = fallback.c_str();
        }
    if (value == nullptr)
      continue;
    if (!out.empty())
      out += ' ';
    out += std::string{o->keyword} + "=" + conninfo_value(value);
  }
  return out;
}

lease_table::lease_table(const std::string& conninfo, const std::string& schema,
                         uint32_t shards, std::chrono::milliseconds lock_wait)
    : conn_(std::make_unique<session>(
          lease_session_conninfo(conninfo, schema, lock_wait))),
      schema_(schema),
      shards_(shards),
      lock_wait_(lock_wait) {
  if (shards == 0 || shards > max_shards)
    throw std::runtime_error("a cluster has 1 to " +
                             std::to_string(max_shards) + " shards");
  // No statement waits without end: not for a fenced commit's row lock,
  // not for a server that stopped answering. Set so that libpqxx sets them
  // again on the new session when it reconnects after the server restarted.
  auto wait = std::max<int64_t>(1, lock_wait.count());
  conn_->set_variable("lock_timeout", "'" + std::to_string(wait) + "ms'");
  conn_->set_variable("statement_timeout",
                      "'" + std::to_string(4 * wait) + "ms'");
  conn_->set_variable("idle_in_transaction_session_timeout",
                      "'" + std::to_string(4 * wait) + "ms'");
  pqxx::work w{*conn_};
  // One maker at a time: nodes starting together make the table once.
  w.exec("SELECT pg_advisory_xact_lock(hashtext(" +
         w.quote("oms.cluster:" + schema) + "))");
  w.exec("CREATE SCHEMA IF NOT EXISTS " + w.quote_name(schema));
  auto shards_table = table(w, schema, "cluster_shards");
  w.exec("CREATE TABLE IF NOT EXISTS " + shards_table +
         " (shard INTEGER PRIMARY KEY, owner TEXT, epoch BIGINT NOT NULL "
         "DEFAULT 0, expires_at TIMESTAMPTZ NOT NULL DEFAULT '-infinity')");
  auto nodes_table = table(w, schema, "cluster_nodes");
  w.exec("CREATE TABLE IF NOT EXISTS " + nodes_table +
         " (id TEXT PRIMARY KEY, address TEXT NOT NULL, heartbeat "
         "TIMESTAMPTZ NOT NULL, http TEXT NOT NULL DEFAULT '')");
  // A table made before nodes recorded where they serve HTTP.
  w.exec("ALTER TABLE " + nodes_table +
         " ADD COLUMN IF NOT EXISTS http TEXT NOT NULL DEFAULT ''");
  auto count = w.exec1("SELECT count(*) FROM " + shards_table)[0].as<int64_t>();
  if (count == 0) {
    w.exec("INSERT INTO " + shards_table +
           " (shard) SELECT generate_series(0, " +
           std::to_string(int64_t{shards} - 1) + ")");
  } else if (count != int64_t{shards}) {
    throw std::runtime_error(
        "the cluster in schema " + schema + " has " + std::to_string(count) +
        " shards, not " + std::to_string(shards) +
        ": the number of shards is fixed when the cluster is made");
  }
  w.commit();
}

lease_table::~lease_table() = default;

int64_t lease_table::now_ms() {
  pqxx::nontransaction r{*conn_};
  return r.exec1("SELECT " + ms_of("clock_timestamp()"))[0].as<int64_t>();
}

void lease_table::heartbeat(const std::string& node, const std::string& address,
                            const std::string& http) {
  pqxx::nontransaction w{*conn_};
  w.exec("INSERT INTO " + table(w, schema_, "cluster_nodes") +
         " (id, address, heartbeat, http) VALUES (" + w.quote(node) + ", " +
         w.quote(address) + ", clock_timestamp(), " + w.quote(http) +
         ") ON CONFLICT (id) DO UPDATE SET address = EXCLUDED.address, "
         "heartbeat = EXCLUDED.heartbeat, http = EXCLUDED.http");
}

std::vector<node_row> lease_table::nodes() {
  pqxx::nontransaction r{*conn_};
  std::vector<node_row> result;
  for (auto row :
       r.exec("SELECT id, address, " + ms_of("heartbeat") + ", http FROM " +
              table(r, schema_, "cluster_nodes") + " ORDER BY id"))
    result.push_back(node_row{row[0].as<std::string>(),
                              row[1].as<std::string>(), row[2].as<int64_t>(),
                              row[3].as<std::string>()});
  return result;
}

void lease_table::leave(const std::string& node) {
  pqxx::nontransaction w{*conn_};
  w.exec("DELETE FROM " + table(w, schema_, "cluster_nodes") +
         " WHERE id = " + w.quote(node));
}

std::optional<int64_t> lease_table::acquire(uint32_t shard,
                                            const std::string& node,
                                            std::chrono::milliseconds ttl) {
  pqxx::nontransaction w{*conn_};
  auto rows = w.exec(
      "UPDATE " + table(w, schema_, "cluster_shards") +
      " SET owner = " + w.quote(node) +
      ", epoch = epoch + 1, expires_at = clock_timestamp() + " + millis(ttl) +
      " * interval '1 millisecond' WHERE shard = " + std::to_string(shard) +
      " AND (owner IS NULL OR owner = " + w.quote(node) +
      " OR expires_at < clock_timestamp()) RETURNING epoch");
  if (rows.empty())
    return std::nullopt;
  return rows[0][0].as<int64_t>();
}

bool lease_table::renew(uint32_t shard, const std::string& node, int64_t epoch,
                        std::chrono::milliseconds ttl) {
  auto renewed = renew_all(node, {{shard, epoch}}, ttl);
  return !renewed.empty();
}

std::vector<uint32_t>
lease_table::renew_all(const std::string& node,
                       const std::map<uint32_t, int64_t>& held,
                       std::chrono::milliseconds ttl) {
  std::vector<uint32_t> renewed;
  if (held.empty())
    return renewed;
  pqxx::nontransaction w{*conn_};
  std::string pairs;
  for (auto& [shard, epoch] : held) {
    if (!pairs.empty())
      pairs += ", ";
    pairs += "(" + std::to_string(shard) + ", " + std::to_string(epoch) + ")";
  }
  // Rows locked in shard order first, as every fence locks them: an
  // UPDATE of many rows locks them in the table's physical order, and met
  // a fenced commit holding some of them the other way round (PostgreSQL
  // found the deadlock under load: bench/cluster-scale.sh).
  auto t = table(w, schema_, "cluster_shards");
  auto rows = w.exec("WITH locked AS (SELECT shard FROM " + t +
                     " WHERE owner = " + w.quote(node) +
                     " AND (shard, epoch) IN (VALUES " + pairs +
                     ") ORDER BY shard FOR UPDATE) UPDATE " + t +
                     " SET expires_at = clock_timestamp() + " + millis(ttl) +
                     " * interval '1 millisecond' FROM locked WHERE " + t +
                     ".shard = locked.shard RETURNING " + t + ".shard");
  for (auto row : rows)
    renewed.push_back(row[0].as<uint32_t>());
  return renewed;
}

std::map<uint32_t, int64_t>
lease_table::acquire_all(const std::vector<uint32_t>& shards,
                         const std::string& node,
                         std::chrono::milliseconds ttl) {
  std::map<uint32_t, int64_t> taken;
  if (shards.empty())
    return taken;
  std::string list;
  for (auto shard : shards)
    list += (list.empty() ? "" : ", ") + std::to_string(shard);
  pqxx::nontransaction w{*conn_};
  auto t = table(w, schema_, "cluster_shards");
  auto takeable = " AND (owner IS NULL OR owner = " + w.quote(node) +
                  " OR expires_at < clock_timestamp())";
  // A row a fenced commit holds is skipped, not waited for: the commit
  // must end before its shard changes hands, and the next tick asks again.
  auto rows = w.exec(
      "UPDATE " + t + " SET owner = " + w.quote(node) +
      ", epoch = epoch + 1, expires_at = clock_timestamp() + " + millis(ttl) +
      " * interval '1 millisecond' WHERE shard IN (SELECT "
      "shard FROM " +
      t + " WHERE shard IN (" + list + ")" + takeable +
      " FOR UPDATE SKIP LOCKED)" + takeable + " RETURNING shard, epoch");
  for (auto row : rows)
    taken[row[0].as<uint32_t>()] = row[1].as<int64_t>();
  return taken;
}

void lease_table::release_all(const std::string& node,
                              const std::map<uint32_t, int64_t>& held) {
  if (held.empty())
    return;
  std::string pairs;
  for (auto& [shard, epoch] : held)
    pairs += (pairs.empty() ? "(" : ", (") + std::to_string(shard) + ", " +
             std::to_string(epoch) + ")";
  pqxx::nontransaction w{*conn_};
  // In shard order, as renew_all.
  auto t = table(w, schema_, "cluster_shards");
  w.exec("WITH locked AS (SELECT shard FROM " + t +
         " WHERE owner = " + w.quote(node) + " AND (shard, epoch) IN (VALUES " +
         pairs + ") ORDER BY shard FOR UPDATE) UPDATE " + t +
         " SET owner = NULL, expires_at = '-infinity' FROM locked WHERE " + t +
         ".shard = locked.shard");
}

bool lease_table::release(uint32_t shard, const std::string& node,
                          int64_t epoch) {
  pqxx::nontransaction w{*conn_};
  auto rows =
      w.exec("UPDATE " + table(w, schema_, "cluster_shards") +
             " SET owner = NULL, expires_at = '-infinity' WHERE "
             "shard = " +
             std::to_string(shard) + " AND owner = " + w.quote(node) +
             " AND epoch = " + std::to_string(epoch) + " RETURNING epoch");
  return !rows.empty();
}

std::vector<lease> lease_table::leases() {
  pqxx::nontransaction r{*conn_};
  std::vector<lease> result;
  for (auto row :
       r.exec("SELECT shard, coalesce(owner, ''), epoch, CASE WHEN "
              "expires_at = '-infinity' THEN 0 ELSE " +
              ms_of("expires_at") + " END FROM " +
              table(r, schema_, "cluster_shards") + " ORDER BY shard"))
    result.push_back(lease{row[0].as<uint32_t>(), row[1].as<std::string>(),
                           row[2].as<int64_t>(), row[3].as<int64_t>()});
  return result;
}

bool lease_table::fenced(pqxx::transaction_base& tx, const std::string& schema,
                         uint32_t shard, const std::string& node,
                         int64_t epoch) {
  auto rows = tx.exec("SELECT 1 FROM " + table(tx, schema, "cluster_shards") +
                      " WHERE shard = " + std::to_string(shard) +
                      " AND owner = " + tx.quote(node) +
                      " AND epoch = " + std::to_string(epoch) + " FOR SHARE");
  return !rows.empty();
}

bool lease_table::fenced_all(pqxx::transaction_base& tx,
                             const std::string& schema, const std::string& node,
                             const std::map<uint32_t, int64_t>& held) {
  if (held.empty())
    return true;
  std::string list;
  for (auto& entry : held)
    list += (list.empty() ? "" : ",") + std::to_string(entry.first);
  // One statement, rows locked in shard order (as every fence locks them):
  // two commits that share shards never wait on each other in a cycle.
  auto rows = tx.exec(
      "SELECT shard, owner, epoch FROM " + table(tx, schema, "cluster_shards") +
      " WHERE shard IN (" + list + ") ORDER BY shard FOR SHARE");
  if (rows.size() != held.size())
    return false;
  for (const auto& row : rows) {
    auto i = held.find(row[0].as<uint32_t>());
    if (i == held.end() || row[1].is_null() ||
        row[1].as<std::string>() != node || row[2].as<int64_t>() != i->second)
      return false;
  }
  return true;
}

} // namespace oms::cluster
