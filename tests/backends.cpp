#include "tests/backends.hpp"

#include <unistd.h>

#include <pqxx/pqxx>
#include <sqlite3.h>

#include "messages/errors.hpp"
#include "system/store/pg_store.hpp"

namespace oms::test {

namespace {

using rows = std::vector<std::vector<std::string>>;

// Runs `sql` on the SQLite file at `path`, behind its store's back: the rows
// it reads, each value as text ("NULL" for a null).
rows sqlite_rows(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  rows out;
  char* err = nullptr;
  auto rc = sqlite3_exec(
      db, sql.c_str(),
      [](void* to, int n, char** values, char**) {
        auto& row = static_cast<rows*>(to)->emplace_back();
        for (int i = 0; i < n; ++i)
          row.emplace_back(values[i] ? values[i] : "NULL");
        return 0;
      },
      &out, &err);
  std::string msg = err ? err : "";
  sqlite3_free(err);
  sqlite3_close(db);
  REQUIRE_MESSAGE(rc == SQLITE_OK, msg);
  return out;
}

// The same on PostgreSQL schema `schema`, in a transaction of its own.
rows pg_rows(const std::string& info, const std::string& schema,
             const std::string& sql) {
  pqxx::connection conn{info};
  pqxx::work w{conn};
  w.exec("SET search_path TO " + w.quote_name(schema));
  rows out;
  for (auto const& r : w.exec(sql)) {
    auto& row = out.emplace_back();
    for (auto const& f : r)
      row.emplace_back(f.is_null() ? "NULL" : f.c_str());
  }
  w.commit();
  return out;
}

} // namespace

std::vector<backend_case> backends(const temp_dir& dir) {
  std::vector<backend_case> result;
  auto mem = std::make_shared<memory_store>();
  result.push_back({"memory", [mem] { return mem; }, {}, {}});
  auto path = (dir.path / "oms.db").string();
  result.push_back({"sqlite",
                    [path]() -> std::shared_ptr<journal_store> {
                      auto s = sqlite_store::open(path);
                      REQUIRE_MESSAGE(s, why(s));
                      return std::shared_ptr<journal_store>{std::move(*s)};
                    },
                    [path](const std::string& sql) { sqlite_rows(path, sql); },
                    [path](const std::string& sql) {
                      return sqlite_rows(path, sql);
                    }});
  // PostgreSQL when a server is given: each call gets a schema of its own.
  if (auto conninfo = std::getenv("OMS_TEST_PG")) {
    static int counter = 0;
    auto schema =
        "t" + std::to_string(getpid()) + "_" + std::to_string(++counter);
    std::string info = conninfo;
    result.push_back(
        {"postgres",
         [info, schema]() -> std::shared_ptr<journal_store> {
           auto s = pg_store::open(info, schema);
           REQUIRE_MESSAGE(s, why(s));
           return std::shared_ptr<journal_store>{std::move(*s)};
         },
         [info, schema](const std::string& sql) { pg_rows(info, schema, sql); },
         [info, schema](const std::string& sql) {
           return pg_rows(info, schema, sql);
         }});
  }
  return result;
}

} // namespace oms::test
