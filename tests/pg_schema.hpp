// What the PostgreSQL tests and benches share: a throwaway schema dropped
// before and after a run.
#pragma once

#include <string>

#include <pqxx/pqxx>

namespace oms::test {

/// Drops `schema` on the server `conn` names, with everything in it (none:
/// nothing happens).
inline void drop_schema(const std::string& conn, const std::string& schema) {
  pqxx::connection c{conn};
  pqxx::work w{c};
  w.exec("DROP SCHEMA IF EXISTS " + w.quote_name(schema) + " CASCADE");
  w.commit();
}

} // namespace oms::test
