#include "tests/backends.hpp"

#include <unistd.h>

#include <pqxx/pqxx>
#include <sqlite3.h>

#include "messages/errors.hpp"
#include "system/store/pg_store.hpp"

namespace oms::test {

std::vector<backend_case> backends(const temp_dir& dir) {
  std::vector<backend_case> result;
  auto mem = std::make_shared<memory_store>();
  result.push_back({"memory", [mem] { return mem; }, {}, {}});
  auto path = (dir.path / "oms.db").string();
  result.push_back(
      {"sqlite",
       [path]() -> std::shared_ptr<journal_store> {
         auto s = sqlite_store::open(path);
         REQUIRE_MESSAGE(s, why(s));
         return std::shared_ptr<journal_store>{std::move(*s)};
       },
       [path](const std::string& sql) {
         sqlite3* db = nullptr;
         REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
         char* err = nullptr;
         auto rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
         std::string msg = err ? err : "";
         sqlite3_free(err);
         sqlite3_close(db);
         REQUIRE_MESSAGE(rc == SQLITE_OK, msg);
       },
       [path](const std::string& sql) {
         sqlite3* db = nullptr;
         REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
         std::vector<std::vector<std::string>> rows;
         char* err = nullptr;
         auto rc = sqlite3_exec(
             db, sql.c_str(),
             [](void* out, int n, char** values, char**) {
               auto& to =
                   *static_cast<std::vector<std::vector<std::string>>*>(out);
               auto& row = to.emplace_back();
               for (int i = 0; i < n; ++i)
                 row.emplace_back(values[i] ? values[i] : "NULL");
               return 0;
             },
             &rows, &err);
         std::string msg = err ? err : "";
         sqlite3_free(err);
         sqlite3_close(db);
         REQUIRE_MESSAGE(rc == SQLITE_OK, msg);
         return rows;
       }});
  // PostgreSQL when a server is given: each call gets a schema of its own.
  if (auto conninfo = std::getenv("OMS_TEST_PG")) {
    static int counter = 0;
    auto schema =
        "t" + std::to_string(getpid()) + "_" + std::to_string(++counter);
    std::string info = conninfo;
    result.push_back({"postgres",
                      [info, schema]() -> std::shared_ptr<journal_store> {
                        auto s = pg_store::open(info, schema);
                        REQUIRE_MESSAGE(s, why(s));
                        return std::shared_ptr<journal_store>{std::move(*s)};
                      },
                      [info, schema](const std::string& sql) {
                        pqxx::connection conn{info};
                        pqxx::work w{conn};
                        w.exec("SET search_path TO " + w.quote_name(schema));
                        w.exec(sql);
                        w.commit();
                      },
                      [info, schema](const std::string& sql) {
                        pqxx::connection conn{info};
                        pqxx::work w{conn};
                        w.exec("SET search_path TO " + w.quote_name(schema));
                        std::vector<std::vector<std::string>> rows;
                        for (auto const& r : w.exec(sql)) {
                          auto& row = rows.emplace_back();
                          for (auto const& f : r)
                            row.emplace_back(f.is_null() ? "NULL" : f.c_str());
                        }
                        return rows;
                      }});
  }
  return result;
}

} // namespace oms::test
