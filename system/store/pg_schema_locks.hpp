// The advisory locks of a PostgreSQL store's schema: the one that makes a
// session its owner (or one of its shared writers), and the one under which
// shared writers make and migrate it one after another (pg_store.cpp).
#pragma once

#include <cstdint>
#include <exception>
#include <string>

#include <pqxx/pqxx>

namespace oms::pg_schema_locks {

/// The key of the advisory lock that makes a store the owner of `schema`:
/// FNV-1a (64 bits) of the schema's name under a prefix of ours, the same in
/// every build. PostgreSQL keeps advisory locks per database, so one schema
/// name in two databases is two stores.
int64_t owner_key(const std::string& schema);

/// Takes the lock that makes this session the owner of `schema` (one of its
/// writers, when `shared`), for as long as the session lives; throws naming
/// the holder if another session still has it after a few seconds (a sole
/// owner, or, for a sole owner, the shared writers).
void take_schema(pqxx::connection& conn, const std::string& schema,
                 bool shared);

/// A session's advisory lock on `key`, held until release() or the end of
/// its scope (taken only if `take`); a session that ends lets it go too.
class migration_lock {
 public:
  migration_lock(pqxx::connection& conn, int64_t key, bool take)
      : conn_(conn), key_(std::to_string(key)), held_(take) {
    if (held_)
      run("pg_advisory_lock");
  }
  migration_lock(const migration_lock&) = delete;
  migration_lock& operator=(const migration_lock&) = delete;
  ~migration_lock() {
    try {
      release();
    } catch (const std::exception&) {
      // The session is gone, and its lock with it.
    }
  }
  void release() {
    if (!held_)
      return;
    held_ = false;
    run("pg_advisory_unlock");
  }

 private:
  void run(const char* function) {
    pqxx::nontransaction n{conn_};
    n.exec(std::string{"SELECT "} + function + "(" + n.quote(key_) +
           "::bigint)");
  }

  pqxx::connection& conn_;
  std::string key_;
  bool held_;
};

} // namespace oms::pg_schema_locks
