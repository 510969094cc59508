#include "system/store/pg_store.hpp"

#include <string>
#include <vector>

#include <pqxx/pqxx>

#include "messages/errors.hpp"
#include "system/store/dialects.hpp"

namespace oms {

namespace {

// A row of a result.
class pg_row final : public sql_row {
 public:
  explicit pg_row(const pqxx::row& row) : row_(row) {}
  int64_t integer(int i) const override { return row_[i].as<int64_t>(); }
  std::string text(int i) const override { return row_[i].as<std::string>(); }

 private:
  const pqxx::row& row_;
};

// Runs the prepared statements in one transaction (or none).
class pg_session final : public sql_session {
 public:
  explicit pg_session(pqxx::transaction_base& tx) : tx_(tx) {}

  void run(sql statement, std::initializer_list<sql_value> params,
           const row_handler& each) override {
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

 private:
  pqxx::transaction_base& tx_;
};

} // namespace

pg_store::pg_store(std::string name) : sql_store(std::move(name)) {}

pg_store::~pg_store() = default;

caf::expected<std::unique_ptr<pg_store>>
pg_store::open(const std::string& conninfo, const std::string& schema) {
  std::string name = "postgres:" + schema;
  auto failure = [&](const std::string& what) {
    return make_error(errc::store_failure, name + ": " + what);
  };
  try {
    auto conn = std::make_unique<pqxx::connection>(conninfo);
    name = "postgres:" + std::string{conn->hostname() ? conn->hostname() : ""} +
           ":" + std::string{conn->port() ? conn->port() : ""} + "/" +
           std::string{conn->dbname()} + "/" + schema;
    {
      pqxx::work w{*conn};
      w.exec("CREATE SCHEMA IF NOT EXISTS " + w.quote_name(schema));
      w.commit();
    }
    {
      pqxx::nontransaction n{*conn};
      n.exec("SET search_path TO " + n.quote_name(schema));
      n.exec("SET synchronous_commit TO on");
    }
    int version = 0;
    {
      pqxx::work w{*conn};
      auto meta = w.exec("SELECT to_regclass('oms_meta') IS NOT NULL, "
                         "to_regclass('events') IS NOT NULL");
      bool has_meta = meta[0][0].as<bool>();
      bool has_events = meta[0][1].as<bool>();
      if (!has_meta && has_events)
        return failure("schema holds tables but is not an order store");
      if (has_meta) {
        auto v = w.exec("SELECT value FROM oms_meta WHERE key = "
                        "'schema_version'");
        if (v.empty())
          return failure("has no schema version");
        version = v[0][0].as<int>();
      }
      w.commit();
    }
    if (version > schema_version)
      return failure("has schema version " + std::to_string(version) +
                     ", newer than this build's " +
                     std::to_string(schema_version) +
                     ": upgrade the software or restore a matching store");
    for (auto v = version; v < schema_version; ++v) {
      pqxx::work w{*conn};
      w.exec(pg_dialect().migrations[v]);
      w.exec("INSERT INTO oms_meta (key, value) VALUES ('schema_version', '" +
             std::to_string(v + 1) +
             "') ON CONFLICT (key) DO UPDATE SET value = excluded.value");
      w.commit();
    }
    std::unique_ptr<pg_store> store{new pg_store(name)};
    store->conninfo_ = conninfo;
    store->schema_ = schema;
    store->connect();
    return store;
  } catch (const std::exception& e) {
    return failure(e.what());
  }
}

caf::error pg_store::commit(const std::vector<event>& events) {
  auto expected_seq = last_seq_ + events.size();
  try {
    pqxx::work w{*conn_};
    pg_session s{w};
    auto seq = last_seq_;
    for (auto& ev : events)
      write_event(s, ev, ++seq);
    w.commit();
    last_seq_ = seq;
    return caf::none;
  } catch (const bad_data& e) {
    // The stored state is wrong, not the connection: nothing was committed.
    return failure(std::string{"cannot commit: "} + e.what());
  } catch (const std::exception& e) {
    // The connection may be gone, and with a lost answer to COMMIT the
    // batch may have landed all the same: reconnect and ask the log.
    std::string what = e.what();
    try {
      connect();
      if (last_seq_ == expected_seq)
        return caf::none; // committed; only the answer was lost
    } catch (const std::exception& again) {
      what += "; reconnecting failed: ";
      what += again.what();
    }
    return failure("cannot commit: " + what);
  }
}

void pg_store::connect() {
  auto conn = std::make_unique<pqxx::connection>(conninfo_);
  {
    pqxx::nontransaction n{*conn};
    n.exec("SET search_path TO " + n.quote_name(schema_));
    n.exec("SET synchronous_commit TO on");
  }
  for (size_t i = 0; i < sql_count; ++i)
    conn->prepare(name_of(static_cast<sql>(i)), pg_dialect().statements[i]);
  pqxx::nontransaction n{*conn};
  pg_session s{n};
  last_seq_ = read_last_seq(s);
  conn_ = std::move(conn);
}

void pg_store::reading(bool snapshot,
                       const std::function<void(sql_session&)>& body) const {
  if (!snapshot) {
    pqxx::nontransaction n{*conn_};
    pg_session s{n};
    body(s);
    return;
  }
  pqxx::work w{*conn_};
  pg_session s{w};
  body(s);
  w.commit();
}

} // namespace oms
