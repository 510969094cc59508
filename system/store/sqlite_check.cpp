#include "system/store/sqlite_check.hpp"

#include <chrono>
#include <string_view>

#include <sqlite3.h>

#include "messages/errors.hpp"

namespace oms {

namespace {

// Interrupts the statement under way once the flag is set.
int cancelled(void* flag) {
  return static_cast<const std::atomic<bool>*>(flag)->load() ? 1 : 0;
}

} // namespace

caf::expected<file_check> check_sqlite_file(const std::string& path,
                                            check_depth depth,
                                            const std::atomic<bool>* cancel,
                                            size_t problems_max) {
  auto t0 = std::chrono::steady_clock::now();
  sqlite3* db = nullptr;
  auto rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
  struct closer {
    sqlite3* db;
    ~closer() { sqlite3_close_v2(db); }
  } close_at_end{db};
  auto failure = [&](const std::string& what) {
    return make_error(errc::store_failure, path + ": " + what);
  };
  if (rc != SQLITE_OK)
    return failure("cannot open: " +
                   std::string{db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)});
  // A writer holding the file briefly (a checkpoint) is waited for.
  sqlite3_busy_timeout(db, 5000);
  if (cancel != nullptr)
    sqlite3_progress_handler(db, 4096, cancelled,
                             const_cast<std::atomic<bool>*>(cancel));
  auto sql = "PRAGMA " +
             std::string{depth == check_depth::full ? "integrity_check"
                                                    : "quick_check"} +
             "(" + std::to_string(problems_max == 0 ? 1 : problems_max) + ")";
  sqlite3_stmt* st = nullptr;
  file_check out;
  auto took = [&] {
    out.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
            .count();
  };
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
    // Preparing reads the schema: damage there is a finding too.
    if (sqlite3_errcode(db) == SQLITE_CORRUPT) {
      out.problems.emplace_back(sqlite3_errmsg(db));
      took();
      return out;
    }
    return failure("is not a readable SQLite database (" +
                   std::string{sqlite3_errmsg(db)} + ")");
  }
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    auto* text = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    std::string_view row = text != nullptr ? text : "";
    if (row == "ok")
      continue;
    // One row may name several problems, a line each.
    while (!row.empty()) {
      auto end = row.find('\n');
      auto line = row.substr(0, end);
      // "*** in database main ***" heads the list: not a problem itself.
      if (!line.empty() && line.rfind("*** in database", 0) != 0)
        out.problems.emplace_back(line);
      row = end == std::string_view::npos ? "" : row.substr(end + 1);
    }
  }
  std::string why = rc == SQLITE_DONE ? "" : sqlite3_errmsg(db);
  sqlite3_finalize(st);
  if (rc == SQLITE_INTERRUPT)
    return failure("check cancelled");
  // A file too damaged to walk at all fails the statement itself: that is
  // a finding, not a failure to check.
  if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB)
    out.problems.push_back(why);
  else if (rc != SQLITE_DONE)
    return failure("cannot be checked: " + why);
  took();
  return out;
}

} // namespace oms
