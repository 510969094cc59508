// What only the SQLite store has: a file that can be torn, damaged, foreign
// or from another version, and must never be started from half-read.
#include <doctest/doctest.h>

#include "tests/why.hpp"

#include <fstream>

#include <sqlite3.h>

#include "messages/errors.hpp"
#include "tests/backends.hpp"

using namespace oms;
using namespace oms::test;
namespace fs = std::filesystem;

namespace {

event receipt(const std::string& sku, int64_t qty) {
  event ev;
  ev.kind = event_kind::stock_received;
  ev.at = 1;
  ev.sku = sku;
  ev.quantity = qty;
  return ev;
}

event created(const std::string& sku, money price) {
  event ev;
  ev.kind = event_kind::sku_created;
  ev.at = 1;
  ev.sku = sku;
  ev.amount = price;
  return ev;
}

std::unique_ptr<sqlite_store> open_ok(const std::string& path) {
  auto s = sqlite_store::open(path);
  REQUIRE_MESSAGE(s, why(s));
  return std::move(*s);
}

std::string open_error(const std::string& path) {
  auto s = sqlite_store::open(path);
  REQUIRE_FALSE(s);
  CHECK(code_of(s.error()) == errc::store_failure);
  return message_of(s.error());
}

void raw_exec(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
}

void overwrite(const fs::path& file, std::streamoff at, size_t n, char c) {
  std::fstream f{file, std::ios::in | std::ios::out | std::ios::binary};
  REQUIRE(f.good());
  f.seekp(at);
  std::string junk(n, c);
  f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
}

} // namespace

TEST_CASE("a new store is created with its directory, WAL mode and schema") {
  temp_dir dir;
  auto path = (dir.path / "nested" / "oms.db").string();
  {
    auto store = open_ok(path);
    CHECK(store->last_seq() == 0);
    CHECK(store->describe() == "sqlite:" + path);
  }
  CHECK(fs::exists(path));
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, nullptr);
  REQUIRE(sqlite3_step(s) == SQLITE_ROW);
  CHECK(std::string{reinterpret_cast<const char*>(sqlite3_column_text(s, 0))} ==
        "wal");
  sqlite3_finalize(s);
  sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, nullptr);
  REQUIRE(sqlite3_step(s) == SQLITE_ROW);
  CHECK(sqlite3_column_int(s, 0) == sqlite_store::schema_version);
  sqlite3_finalize(s);
  sqlite3_close(db);
}

TEST_CASE("a torn last write loses only the transaction it tore") {
  // Copy the database and its WAL while the store is open (as a crash would
  // leave them), cut the WAL short inside the last transaction, and open the
  // copy: the earlier transaction is all there, the torn one is gone, and
  // the file checks clean.
  temp_dir dir;
  auto path = dir.path / "oms.db";
  auto copy = dir.path / "copy.db";
  auto store = open_ok(path.string());
  REQUIRE(
      !store->commit({created("A", 100), receipt("A", 5), receipt("A", 6)}));
  auto wal = fs::path{path.string() + "-wal"};
  REQUIRE(fs::exists(wal));
  auto size_after_first = fs::file_size(wal);
  REQUIRE(!store->commit({receipt("A", 7), receipt("A", 8)}));
  auto size_after_second = fs::file_size(wal);
  REQUIRE(size_after_second > size_after_first);
  fs::copy_file(path, copy);
  fs::copy_file(wal, fs::path{copy.string() + "-wal"});
  fs::resize_file(fs::path{copy.string() + "-wal"}, size_after_second - 100);
  auto reopened = open_ok(copy.string());
  CHECK(reopened->last_seq() == 3);
  auto state = reopened->load();
  REQUIRE(state);
  REQUIRE(state->skus.size() == 1);
  CHECK(state->skus[0].on_hand == 11);
}

TEST_CASE("a damaged store stops the start with an error naming the file") {
  temp_dir dir;
  auto path = dir.path / "oms.db";
  {
    auto store = open_ok(path.string());
    std::vector<event> events{created("A", 100)};
    for (int i = 0; i < 2000; ++i)
      events.push_back(receipt("A", 1));
    REQUIRE(!store->commit(events));
  } // closing checkpoints the WAL into the file
  auto size = fs::file_size(path);
  REQUIRE(size > 8 * 4096);
  // Scribble over two pages in the middle, where the event log's rows are.
  overwrite(path, static_cast<std::streamoff>(size / 2 / 4096 * 4096), 8192,
            '\x5a');
  auto msg = open_error(path.string());
  CHECK(msg.find(path.string()) != std::string::npos);
  CHECK(msg.find("damaged") != std::string::npos);
}

TEST_CASE("a file that is not a database is refused") {
  temp_dir dir;
  auto path = dir.path / "oms.db";
  {
    std::ofstream f{path};
    f << std::string(8192, 'x');
  }
  auto msg = open_error(path.string());
  CHECK(msg.find(path.string()) != std::string::npos);
}

TEST_CASE("another application's SQLite database is refused") {
  temp_dir dir;
  auto path = (dir.path / "other.db").string();
  raw_exec(path, "CREATE TABLE t (x INTEGER)");
  auto msg = open_error(path);
  CHECK(msg.find("not an order store") != std::string::npos);
}

TEST_CASE("a store from a newer schema version is refused") {
  temp_dir dir;
  auto path = (dir.path / "oms.db").string();
  open_ok(path);
  raw_exec(path, "PRAGMA user_version = 99");
  auto msg = open_error(path);
  CHECK(msg.find("schema version 99") != std::string::npos);
  CHECK(msg.find("newer") != std::string::npos);
}
