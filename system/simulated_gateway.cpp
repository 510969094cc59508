#include "system/simulated_gateway.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>

#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include "messages/money.hpp"

namespace oms {

namespace {

// 'OMSP': marks a SQLite file as the simulated gateway's ledger.
constexpr int gateway_application_id = 0x4F4D5350;

constexpr const char* schema = R"(
CREATE TABLE IF NOT EXISTS outcomes (
  key TEXT PRIMARY KEY,
  refund INTEGER NOT NULL,
  charge TEXT NOT NULL,
  status TEXT NOT NULL,
  reference TEXT NOT NULL,
  reason TEXT NOT NULL,
  amount INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS charges (
  reference TEXT PRIMARY KEY,
  unrefunded INTEGER NOT NULL CHECK (unrefunded >= 0)
);
CREATE TABLE IF NOT EXISTS counters (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  next_reference INTEGER NOT NULL
);
INSERT OR IGNORE INTO counters VALUES (1, 1);
)";

gateway_result unavailable() {
  return gateway_result{gateway_status::unavailable, "", "gateway timeout", 0};
}

gateway_status status_named(const std::string& name) {
  for (auto s : {gateway_status::approved, gateway_status::declined})
    if (name == to_string(s))
      return s;
  throw std::invalid_argument("unknown status " + name);
}

} // namespace

// The connection and its prepared statements (each reset after use).
class simulated_gateway::db {
 public:
  explicit db(const std::string& path) : path_(path) {
    try {
      open();
    } catch (...) {
      close();
      throw;
    }
  }

  ~db() { close(); }

  db(const db&) = delete;
  db& operator=(const db&) = delete;

  void open() {
    auto flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                 SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
    if (sqlite3_open_v2(path_.c_str(), &db_, flags, nullptr) != SQLITE_OK)
      fail("cannot open");
    int id = 0;
    sqlite3_exec(
        db_, "PRAGMA application_id",
        [](void* out, int, char** values, char**) {
          *static_cast<int*>(out) = values[0] ? std::atoi(values[0]) : 0;
          return 0;
        },
        &id, nullptr);
    if (id != 0 && id != gateway_application_id)
      throw ledger_error("the payment ledger " + path_ +
                         " is not a payment ledger");
    exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; "
         "PRAGMA application_id = " +
             std::to_string(gateway_application_id) + ";",
         "cannot set up");
    exec(schema, "cannot create the tables of");
    prepare(find_, "SELECT status, reference, reason, amount FROM outcomes "
                   "WHERE key = ?1");
    prepare(insert_,
            "INSERT INTO outcomes (key, refund, charge, status, "
            "reference, reason, amount) VALUES (?1,?2,?3,?4,?5,?6,?7)");
    prepare(add_charge_,
            "INSERT INTO charges (reference, unrefunded) VALUES (?1, ?2)");
    prepare(refund_, "UPDATE charges SET unrefunded = unrefunded - ?2 "
                     "WHERE reference = ?1");
    prepare(unrefunded_, "SELECT unrefunded FROM charges WHERE reference = ?1");
    prepare(set_next_, "UPDATE counters SET next_reference = ?1");
    prepare(next_, "SELECT next_reference FROM counters");
    prepare(count_, "SELECT count(*) FROM outcomes WHERE refund = ?1 AND "
                    "status = 'APPROVED'");
    prepare(sum_, "SELECT sum(amount) FROM outcomes WHERE refund = ?1 AND "
                  "status = 'APPROVED'");
  }

  void close() {
    for (auto* s : {find_, insert_, add_charge_, refund_, unrefunded_,
                    set_next_, next_, count_, sum_})
      sqlite3_finalize(s);
    sqlite3_close(db_);
    db_ = nullptr;
  }

  /// The outcome recorded under `key`, if any.
  std::optional<gateway_result> find(const std::string& key) {
    guard g{find_};
    text(find_, 1, key);
    if (sqlite3_step(find_) != SQLITE_ROW)
      return std::nullopt;
    gateway_result res;
    res.status = status_named(column(find_, 0));
    res.reference = column(find_, 1);
    res.reason = column(find_, 2);
    res.amount = sqlite3_column_int64(find_, 3);
    return res;
  }

  /// What is left to refund of a charge, if it exists.
  std::optional<money> unrefunded(const std::string& reference) {
    guard g{unrefunded_};
    text(unrefunded_, 1, reference);
    if (sqlite3_step(unrefunded_) != SQLITE_ROW)
      return std::nullopt;
    return sqlite3_column_int64(unrefunded_, 0);
  }

  int64_t next_reference() {
    guard g{next_};
    return sqlite3_step(next_) == SQLITE_ROW ? sqlite3_column_int64(next_, 0)
                                             : 1;
  }

  /// Records the outcome, the charge it makes or reduces and the next
  /// reference number in one transaction; false (and nothing changed) on
  /// failure.
  bool record(const std::string& key, const gateway_result& res, bool is_refund,
              const std::string& charge, int64_t next) {
    if (sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) !=
        SQLITE_OK)
      return false;
    bool ok = [&] {
      guard a{insert_};
      text(insert_, 1, key);
      sqlite3_bind_int(insert_, 2, is_refund ? 1 : 0);
      text(insert_, 3, charge);
      text(insert_, 4, to_string(res.status));
      text(insert_, 5, res.reference);
      text(insert_, 6, res.reason);
      sqlite3_bind_int64(insert_, 7, res.amount);
      if (sqlite3_step(insert_) != SQLITE_DONE)
        return false;
      if (res.status == gateway_status::approved) {
        auto* s = is_refund ? refund_ : add_charge_;
        guard b{s};
        text(s, 1, is_refund ? charge : res.reference);
        sqlite3_bind_int64(s, 2, res.amount);
        if (sqlite3_step(s) != SQLITE_DONE || sqlite3_changes(db_) != 1)
          return false;
      }
      guard c{set_next_};
      sqlite3_bind_int64(set_next_, 1, next);
      return sqlite3_step(set_next_) == SQLITE_DONE;
    }();
    if (ok &&
        sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK)
      return true;
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    return false;
  }

  /// The number of approved charges (or refunds).
  int count(bool refunds) {
    guard g{count_};
    sqlite3_bind_int(count_, 1, refunds ? 1 : 0);
    return sqlite3_step(count_) == SQLITE_ROW ? sqlite3_column_int(count_, 0)
                                              : 0;
  }

  /// The sum of approved charges (or refunds); none if it does not fit in
  /// an amount (SQLite's sum() fails with "integer overflow" rather than
  /// wrap).
  std::optional<money> sum(bool refunds) {
    guard g{sum_};
    sqlite3_bind_int(sum_, 1, refunds ? 1 : 0);
    if (sqlite3_step(sum_) != SQLITE_ROW)
      return std::nullopt;
    return sqlite3_column_int64(sum_, 0);
  }

  void exec(const std::string& sql, const char* what) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : "unknown error";
      sqlite3_free(err);
      throw ledger_error(std::string{what} + " the payment ledger " + path_ +
                         ": " + msg);
    }
  }

 private:
  // Resets a statement (and its bindings) when a use ends.
  struct guard {
    sqlite3_stmt* s;
    ~guard() {
      sqlite3_reset(s);
      sqlite3_clear_bindings(s);
    }
  };

  [[noreturn]] void fail(const char* what) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    throw ledger_error(std::string{what} + " the payment ledger " + path_ +
                       ": " + msg);
  }

  void prepare(sqlite3_stmt*& s, const char* sql) {
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &s,
                           nullptr) != SQLITE_OK)
      fail("cannot prepare a statement of");
  }

  static void text(sqlite3_stmt* s, int i, const std::string& x) {
    sqlite3_bind_text(s, i, x.c_str(), static_cast<int>(x.size()),
                      SQLITE_TRANSIENT);
  }

  static std::string column(sqlite3_stmt* s, int i) {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
    return p ? std::string{p, static_cast<size_t>(sqlite3_column_bytes(s, i))}
             : std::string{};
  }

  sqlite3* db_ = nullptr;
  std::string path_;
  sqlite3_stmt* find_ = nullptr;
  sqlite3_stmt* insert_ = nullptr;
  sqlite3_stmt* add_charge_ = nullptr;
  sqlite3_stmt* refund_ = nullptr;
  sqlite3_stmt* unrefunded_ = nullptr;
  sqlite3_stmt* set_next_ = nullptr;
  sqlite3_stmt* next_ = nullptr;
  sqlite3_stmt* count_ = nullptr;
  sqlite3_stmt* sum_ = nullptr;
};

namespace {

// Creates `path` readable by its user only if it does not exist (SQLite
// gives its WAL and shared-memory files the same mode).
void create_private(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    throw simulated_gateway::ledger_error("cannot create the payment ledger " +
                                          path + ": " + std::strerror(errno));
  ::close(fd);
}

} // namespace

simulated_gateway::simulated_gateway(config cfg)
    : cfg_(cfg), db_(std::make_unique<db>(":memory:")) {}

simulated_gateway::simulated_gateway(config cfg, std::string db_path,
                                     std::string legacy_ledger)
    : cfg_(cfg), path_(std::move(db_path)) {
  create_private(path_);
  db_ = std::make_unique<db>(path_);
  next_reference_ = db_->next_reference();
  if (!legacy_ledger.empty())
    import_ledger(legacy_ledger);
}

simulated_gateway::~simulated_gateway() = default;

std::string simulated_gateway::describe() const {
  return path_.empty() ? "simulated" : "simulated:" + path_;
}

// Reads an earlier version's ledger of JSON lines, one outcome each, into
// the database, then renames it so that it is read once.
void simulated_gateway::import_ledger(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  if (!in)
    return; // none
  std::string text{std::istreambuf_iterator<char>{in}, {}};
  // One sync at the end: an import cut short is done again, skipping what
  // it kept.
  db_->exec("PRAGMA synchronous = OFF", "cannot import into");
  size_t begin = 0;
  size_t number = 0;
  // A last line without its newline is a write torn by a crash: an answer
  // that was never given. It is left out.
  for (auto end = text.find('\n'); end != std::string::npos;
       begin = end + 1, end = text.find('\n', begin)) {
    ++number;
    std::string key;
    gateway_result res;
    bool is_refund = false;
    std::string charge;
    try {
      auto j = nlohmann::json::parse(text.substr(begin, end - begin));
      key = j.at("key").get<std::string>();
      res.status = status_named(j.at("status").get<std::string>());
      res.reference = j.at("reference").get<std::string>();
      res.reason = j.at("reason").get<std::string>();
      res.amount = j.at("amount").get<money>();
      is_refund = j.at("refund").get<bool>();
      charge = j.at("charge").get<std::string>();
      if (res.amount < 0)
        throw std::invalid_argument("negative amount");
    } catch (const std::exception& e) {
      throw ledger_error("the payment ledger " + path + " is damaged at line " +
                         std::to_string(number) + ": " + e.what());
    }
    if (db_->find(key))
      continue; // imported before the rename of an interrupted import
    auto number_of = [](const std::string& reference) -> int64_t {
      auto us = reference.find('_');
      if (us == std::string::npos)
        return 0;
      try {
        return std::stoll(reference.substr(us + 1));
      } catch (const std::exception&) {
        return 0;
      }
    };
    next_reference_ = std::max(next_reference_, number_of(res.reference) + 1);
    if (!db_->record(key, res, is_refund, charge, next_reference_))
      throw ledger_error("the payment ledger " + path +
                         " cannot be imported "
                         "at line " +
                         std::to_string(number) +
                         ": a refund beyond its charge, or a write failed");
  }
  db_->exec("PRAGMA synchronous = FULL; PRAGMA wal_checkpoint(FULL)",
            "cannot import into");
  auto done = path + ".imported";
  if (std::rename(path.c_str(), done.c_str()) != 0)
    throw ledger_error("cannot rename the imported payment ledger " + path +
                       ": " + std::strerror(errno));
}

bool simulated_gateway::record(const std::string& key,
                               const gateway_result& res, bool is_refund,
                               const std::string& charge_reference) {
  auto next = res.reference.empty() ? next_reference_ : next_reference_ + 1;
  if (!db_->record(key, res, is_refund, charge_reference, next))
    return false;
  next_reference_ = next;
  return true;
}

bool simulated_gateway::consume_failure() {
  if (failures_left_ <= 0)
    return false;
  --failures_left_;
  return true;
}

void simulated_gateway::fail_next(int n) {
  std::lock_guard<std::mutex> guard{mtx_};
  failures_left_ = n;
}

gateway_result simulated_gateway::charge(const std::string& key, money amount,
                                         const std::string& token) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (consume_failure())
    return unavailable();
  if (auto known = db_->find(key))
    return *known;
  if (token == "tok_timeout_uncharged")
    return unavailable();
  gateway_result res;
  res.amount = amount;
  if (token == "tok_decline") {
    res.status = gateway_status::declined;
    res.reason = "card_declined";
  } else if (token == "tok_insufficient_funds") {
    res.status = gateway_status::declined;
    res.reason = "insufficient_funds";
  } else if (amount <= 0) {
    res.status = gateway_status::declined;
    res.reason = "invalid_amount";
  } else if (cfg_.decline_amount_min > 0 && amount >= cfg_.decline_amount_min) {
    res.status = gateway_status::declined;
    res.reason = "amount_too_large";
  } else {
    res.status = gateway_status::approved;
    res.reference = "ch_" + std::to_string(next_reference_);
  }
  if (!record(key, res, false, ""))
    return unavailable(); // nothing charged: the ledger could not keep it
  if (token == "tok_timeout")
    return unavailable(); // charged, but the answer is lost
  return res;
}

gateway_result simulated_gateway::lookup(const std::string& key) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (consume_failure())
    return unavailable();
  if (auto known = db_->find(key))
    return *known;
  return gateway_result{gateway_status::not_found, "", "unknown key", 0};
}

gateway_result simulated_gateway::refund(const std::string& key,
                                         const std::string& charge_reference,
                                         money amount) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (consume_failure())
    return unavailable();
  if (auto known = db_->find(key))
    return *known;
  gateway_result res;
  res.amount = amount;
  auto left = db_->unrefunded(charge_reference);
  if (!left) {
    res.status = gateway_status::declined;
    res.reason = "unknown_charge";
  } else if (amount <= 0 || amount > *left) {
    res.status = gateway_status::declined;
    res.reason = "amount_exceeds_charge";
  } else {
    res.status = gateway_status::approved;
    res.reference = "re_" + std::to_string(next_reference_);
  }
  if (!record(key, res, true, charge_reference))
    return unavailable(); // nothing refunded: the ledger could not keep it
  return res;
}

int simulated_gateway::charges() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return db_->count(false);
}

std::optional<money> simulated_gateway::charged_total() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return db_->sum(false);
}

int simulated_gateway::refunds() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return db_->count(true);
}

std::optional<money> simulated_gateway::refunded_total() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return db_->sum(true);
}

} // namespace oms
