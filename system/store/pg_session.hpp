// A PostgreSQL store's session (pg_store.cpp, pg_store_settle.cpp): the
// SQL store's prepared statements run in one libpqxx transaction (or none),
// a commit's writes sent together.
#pragma once

#include <initializer_list>
#include <string>
#include <vector>

#include <pqxx/pqxx>

#include "system/store/sql_store.hpp"

namespace oms {

// A row of a result.
class pg_row final : public sql_row {
 public:
  explicit pg_row(const pqxx::row& row) : row_(row) {}
  int64_t integer(int i) const override { return row_[i].as<int64_t>(); }
  std::string text(int i) const override { return row_[i].as<std::string>(); }

 private:
  const pqxx::row& row_;
};

// Runs the prepared statements in one transaction (or none). A deferring
// session (a commit's) keeps the statements whose rows nobody reads and
// sends them together before the next statement that reads and at flush():
// one text of `EXECUTE name('param', ...);` lines, the same prepared
// statements with their parameters quoted as literals (which PostgreSQL
// takes as the text parameters they are otherwise sent as). One round trip
// for a batch's writes instead of one per statement; they run in order,
// and the first that fails aborts the transaction.
class pg_session final : public sql_session {
 public:
  explicit pg_session(pqxx::transaction_base& tx, bool deferring = false)
      : tx_(tx), deferring_(deferring) {}

  void run(sql statement, std::initializer_list<sql_value> params,
           const row_handler& each) override {
    if (deferring_ && !each) {
      defer(statement, params);
      return;
    }
    flush();
    // libpq takes every parameter as text.
    std::vector<std::string> texts;
    texts.reserve(params.size());
    for (auto& p : params)
      if (auto n = std::get_if<int64_t>(&p))
        texts.push_back(std::to_string(*n));
      else
        texts.emplace_back(std::get<std::string_view>(p));
    auto rows = tx_.exec_prepared(name_of(statement),
                                  pqxx::prepare::make_dynamic_params(texts));
    if (each)
      for (auto row : rows)
        each(pg_row{row});
  }

  /// Sends `sql` (whole statements) with what is deferred, after it.
  void defer_sql(std::string sql) { pending_ += sql; }

  /// Sends what was deferred; throws what the server answered.
  void flush() {
    if (pending_.empty())
      return;
    std::string sql;
    sql.swap(pending_);
    tx_.exec(sql);
  }

 private:
  void defer(sql statement, std::initializer_list<sql_value> params) {
    pending_ += "EXECUTE ";
    pending_ += name_of(statement);
    char sep = '(';
    for (auto& p : params) {
      pending_ += sep;
      sep = ',';
      if (auto n = std::get_if<int64_t>(&p))
        pending_ += "'" + std::to_string(*n) + "'";
      else
        pending_ += tx_.quote(std::string{std::get<std::string_view>(p)});
    }
    if (sep == ',')
      pending_ += ')';
    pending_ += ";\n";
  }

  pqxx::transaction_base& tx_;
  bool deferring_;
  std::string pending_;
};

} // namespace oms
