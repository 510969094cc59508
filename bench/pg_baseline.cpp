// oms-bench-pg: the PostgreSQL row-lock design a team would otherwise build
// (the third seed: an API over PostgreSQL with conditional updates). Each
// reservation is one transaction: a conditional UPDATE per line, in SKU order,
// that only succeeds while enough stock is free, then the reservation rows;
// synchronous_commit on, so a granted reservation is on disk. Prints the
// shared result line (system "postgres", or "postgres-fn" for the form that
// does the same in one call to a PL/pgSQL function: one round trip).
//
//   oms-bench-pg [--conn STR] [--workload hot|spread|multiline|flash]
//                [--clients 32] [--seconds 5] [--warmup 1] [--skus 10000]
//                [--stock N] [--form transaction|function] [--schema S]
//                [--keep] [--quiet]
//   oms-bench-pg --check-only [--conn STR] [--schema S]
// --conn defaults to $OMS_TEST_PG (tools/with-postgres.sh sets it).
#include <cstdlib>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>
#include <pqxx/pqxx>

#include "bench/baseline.hpp"

namespace {

using namespace oms::bench;
using json = nlohmann::json;

// One order's reservation as its own transaction: BEGIN, a conditional UPDATE
// per line (rolled back as soon as one finds too little stock), an INSERT per
// line, COMMIT.
constexpr const char* reserve_sql =
    "UPDATE stock SET reserved = reserved + $2 "
    "WHERE sku = $1 AND on_hand - reserved >= $2";
constexpr const char* record_sql =
    "INSERT INTO reservation (order_id, sku, quantity) VALUES ($1, $2, $3)";

// The same in one round trip. A line that finds too little stock undoes the
// lines before it inside the same transaction (the rows are still locked by
// it) and answers false.
constexpr const char* function_sql = R"(
CREATE FUNCTION reserve_lines(o text, s text[], q bigint[]) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
  FOR i IN 1 .. array_length(s, 1) LOOP
    UPDATE stock SET reserved = reserved + q[i]
     WHERE sku = s[i] AND on_hand - reserved >= q[i];
    IF NOT FOUND THEN
      FOR j IN 1 .. i - 1 LOOP
        UPDATE stock SET reserved = reserved - q[j] WHERE sku = s[j];
      END LOOP;
      RETURN false;
    END IF;
  END LOOP;
  INSERT INTO reservation (order_id, sku, quantity)
    SELECT o, s[i], q[i] FROM generate_subscripts(s, 1) AS i;
  RETURN true;
END $$)";

enum class form { transaction, function };

// A PostgreSQL text[] / bigint[] literal ("{SKU-00001,SKU-00042}"). SKU names
// and numbers need no quoting.
template <class F>
std::string array_literal(const std::vector<line>& lines, F field) {
  std::string out = "{";
  for (size_t i = 0; i < lines.size(); ++i)
    out += (i ? "," : "") + field(lines[i]);
  return out + "}";
}

class pg_client : public client {
 public:
  pg_client(const std::string& conninfo, const std::string& schema, form f)
      : conn_{conninfo}, form_{f} {
    pqxx::nontransaction n{conn_};
    n.exec("SET search_path TO " + n.quote_name(schema));
    if (f == form::transaction) {
      conn_.prepare("reserve", reserve_sql);
      conn_.prepare("record", record_sql);
    } else {
      conn_.prepare("reserve_lines",
                    "SELECT reserve_lines($1, $2::text[], $3::bigint[])");
    }
  }

  outcome reserve(const std::string& order_id,
                  const std::vector<line>& lines) override {
    try {
      return form_ == form::transaction ? in_transaction(order_id, lines)
                                        : in_function(order_id, lines);
    } catch (const pqxx::in_doubt_error& e) {
      error_ = e.what();
      return outcome::unknown;
    } catch (const std::exception& e) {
      error_ = e.what();
      return outcome::error;
    }
  }

  std::string last_error() const override { return error_; }

 private:
  outcome in_transaction(const std::string& order_id,
                         const std::vector<line>& lines) {
    pqxx::work w{conn_};
    for (auto& l : lines)
      if (w.exec_prepared("reserve", sku_name(l.sku), l.quantity)
              .affected_rows() != 1) {
        w.abort();
        return outcome::refused;
      }
    for (auto& l : lines)
      w.exec_prepared("record", order_id, sku_name(l.sku), l.quantity);
    w.commit();
    return outcome::granted;
  }

  outcome in_function(const std::string& order_id,
                      const std::vector<line>& lines) {
    pqxx::work w{conn_};
    auto r = w.exec_prepared1(
        "reserve_lines", order_id,
        array_literal(lines, [](const line& l) { return sku_name(l.sku); }),
        array_literal(
            lines, [](const line& l) { return std::to_string(l.quantity); }));
    bool ok = r[0].as<bool>();
    w.commit();
    return ok ? outcome::granted : outcome::refused;
  }

  pqxx::connection conn_;
  form form_;
  std::string error_;
};

std::string show(pqxx::connection& c, const std::string& setting) {
  pqxx::nontransaction n{c};
  return n.exec1("SHOW " + setting)[0].as<std::string>();
}

void set_up(pqxx::connection& c, const std::string& schema, const options& o,
            form f) {
  pqxx::work w{c};
  auto s = w.quote_name(schema);
  w.exec("DROP SCHEMA IF EXISTS " + s + " CASCADE");
  w.exec("CREATE SCHEMA " + s);
  w.exec("SET LOCAL search_path TO " + s);
  w.exec("CREATE TABLE stock (sku text PRIMARY KEY, on_hand bigint NOT NULL, "
         "reserved bigint NOT NULL)");
  w.exec("CREATE TABLE reservation (id bigserial PRIMARY KEY, order_id text "
         "NOT NULL, sku text NOT NULL, quantity bigint NOT NULL, at "
         "timestamptz NOT NULL DEFAULT now())");
  // The same names as sku_name(): five digits, more when there are more.
  w.exec("INSERT INTO stock SELECT 'SKU-' || CASE WHEN g < 100000 THEN "
         "lpad(g::text, 5, '0') ELSE g::text END, " +
         std::to_string(stock_of(o)) + ", 0 FROM generate_series(0, " +
         std::to_string(o.skus - 1) + ") AS g");
  if (f == form::function)
    w.exec(function_sql);
  w.commit();
  pqxx::nontransaction n{c};
  n.exec("ANALYZE " + s + ".stock");
}

// What holds whatever the clients did: every SKU's reserved count is the sum
// of its reservation rows and never exceeds what is on hand, and no
// reservation names an unknown SKU. Returns the violations found, by kind.
json structural_check(pqxx::connection& c, const std::string& schema,
                      int64_t& units_reserved) {
  pqxx::work w{c};
  w.exec("SET LOCAL search_path TO " + w.quote_name(schema));
  auto mismatched =
      w.exec1("SELECT count(*) FROM stock s LEFT JOIN (SELECT sku, "
              "sum(quantity) AS q FROM reservation GROUP BY sku) r "
              "ON r.sku = s.sku WHERE s.reserved <> coalesce(r.q, 0)")[0]
          .as<int64_t>();
  auto oversold =
      w.exec1("SELECT count(*) FROM stock WHERE reserved > on_hand OR "
              "reserved < 0")[0]
          .as<int64_t>();
  auto orphans = w.exec1("SELECT count(*) FROM reservation r WHERE NOT EXISTS "
                         "(SELECT 1 FROM stock s WHERE s.sku = r.sku)")[0]
                     .as<int64_t>();
  units_reserved =
      w.exec1("SELECT coalesce(sum(quantity), 0) FROM reservation")[0]
          .as<int64_t>();
  return {{"skusWhoseReservedIsNotTheSumOfTheirRows", mismatched},
          {"skusReservedBeyondOnHand", oversold},
          {"reservationsOfUnknownSkus", orphans}};
}

} // namespace

int main(int argc, char** argv) {
  options o;
  std::string conninfo;
  if (auto env = std::getenv("OMS_TEST_PG"))
    conninfo = env;
  std::string workload_name = "hot";
  std::string form_name = "transaction";
  std::string schema = "oms_bench";
  bool keep = false;
  bool check_only = false;
  CLI::App app{"Reservations on PostgreSQL row locks: the baseline"};
  app.add_option("--conn", conninfo, "libpq connection string")
      ->capture_default_str();
  add_run_options(app, o, workload_name, "SKUs in the stock table");
  app.add_option("--form", form_name,
                 "transaction (BEGIN, UPDATE, INSERT, COMMIT) or function "
                 "(one PL/pgSQL call)")
      ->check(CLI::IsMember({"transaction", "function"}));
  app.add_option("--schema", schema, "Schema the bench owns (dropped first)");
  app.add_flag("--keep", keep, "Keep the tables afterwards");
  app.add_flag("--check-only", check_only,
               "Only check the invariants of the tables in --schema");
  app.add_flag("--quiet", o.quiet, "No progress bar");
  CLI11_PARSE(app, argc, argv);
  o.load = *parse_workload(workload_name);
  auto f = form_name == "function" ? form::function : form::transaction;
  auto system = f == form::function ? "postgres-fn" : "postgres";
  if (auto bad = validate(o)) {
    std::cerr << "oms-bench-pg: " << *bad << "\n";
    return 2;
  }
  if (conninfo.empty()) {
    std::cerr << "oms-bench-pg: no connection string (--conn or "
                 "OMS_TEST_PG)\n";
    return 2;
  }
  try {
    pqxx::connection admin{conninfo};
    if (check_only) {
      int64_t units = 0;
      auto violations = structural_check(admin, schema, units);
      return print_check("oms-bench-pg", units, violations);
    }
    // A figure without durability would not be the design we compare with.
    auto sync = show(admin, "synchronous_commit");
    auto fsync = show(admin, "fsync");
    if (sync != "on" || fsync != "on") {
      std::cerr << "oms-bench-pg: the server runs with synchronous_commit="
                << sync << " fsync=" << fsync
                << "; both must be on for a durable baseline\n";
      return 2;
    }
    auto version = show(admin, "server_version");
    say("oms-bench-pg: PostgreSQL " + version + ", " + describe_run(system, o));
    set_up(admin, schema, o, f);
    auto t = drive(o, [&](int) {
      return std::make_unique<pg_client>(conninfo, schema, f);
    });
    int64_t units = 0;
    auto violations = structural_check(admin, schema, units);
    nlohmann::ordered_json extra{{"form", form_name},
                                 {"serverVersion", version},
                                 {"synchronousCommit", sync},
                                 {"fsync", fsync}};
    auto sku0_stock = [&] {
      pqxx::work w{admin};
      auto row =
          w.exec1("SELECT on_hand, reserved FROM " + w.quote_name(schema) +
                  ".stock WHERE sku = " + w.quote(sku_name(0)));
      return std::make_pair(row[0].as<int64_t>(), row[1].as<int64_t>());
    };
    auto clean_up = [&] {
      if (keep)
        return;
      pqxx::nontransaction n{admin};
      n.exec("DROP SCHEMA IF EXISTS " + n.quote_name(schema) + " CASCADE");
    };
    return finish("oms-bench-pg", system, o, t, units, violations, extra,
                  sku0_stock, clean_up);
  } catch (const std::exception& e) {
    std::cerr << "oms-bench-pg: " << e.what() << "\n";
    return 2;
  }
}
