#include "system/store/pg_schema_locks.hpp"

#include <chrono>
#include <stdexcept>
#include <thread>

namespace oms::pg_schema_locks {

namespace {

// The session that holds the lock `key` in this database, as PostgreSQL
// shows it: its application_name, backend pid and client address (hidden
// from other roles, and none on a local socket).
std::string holder_of(pqxx::connection& conn, int64_t key) {
  // A bigint key shows in pg_locks as its high and low 32 bits.
  auto bits = static_cast<uint64_t>(key);
  pqxx::nontransaction n{conn};
  auto rows = n.exec(
      "SELECT a.application_name, l.pid, host(a.client_addr) FROM pg_locks l "
      "LEFT JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = "
      "'advisory' AND l.granted AND l.objsubid = 1 AND l.database = (SELECT "
      "oid FROM pg_database WHERE datname = current_database()) AND "
      "l.classid = " +
      n.quote(std::to_string(bits >> 32)) + "::oid AND l.objid = " +
      n.quote(std::to_string(bits & 0xffffffffu)) + "::oid");
  if (rows.empty())
    return "a session that has let go of it since: try again";
  auto row = rows[0];
  auto app = row[0].is_null() ? std::string{} : row[0].as<std::string>();
  auto result = (app.empty() ? std::string{"a session without a name"}
                             : "\"" + app + "\"") +
                " (PostgreSQL backend pid " + row[1].as<std::string>();
  if (!row[2].is_null())
    result += ", client " + row[2].as<std::string>();
  return result + ")";
}

// How long a start waits for the schema's lock: an owner that has just
// stopped (a restart) lets go of it only once the server has ended its
// session, a moment after the client closed it.
constexpr auto schema_lock_wait = std::chrono::seconds(5);

} // namespace

int64_t owner_key(const std::string& schema) {
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char ch : "oms.store:" + schema) {
    hash ^= ch;
    hash *= 1099511628211ull;
  }
  return static_cast<int64_t>(hash);
}

void take_schema(pqxx::connection& conn, const std::string& schema,
                 bool shared) {
  auto key = owner_key(schema);
  auto deadline = std::chrono::steady_clock::now() + schema_lock_wait;
  bool taken = false;
  const char* take =
      shared ? "pg_try_advisory_lock_shared(" : "pg_try_advisory_lock(";
  for (;;) {
    {
      pqxx::nontransaction n{conn};
      taken = n.exec(std::string{"SELECT "} + take +
                     n.quote(std::to_string(key)) + "::bigint)")[0][0]
                  .as<bool>();
    }
    if (taken || std::chrono::steady_clock::now() >= deadline)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (!taken)
    throw std::runtime_error{
        "the schema " + schema +
        " is in use by another omsd: " + holder_of(conn, key)};
}

} // namespace oms::pg_schema_locks
