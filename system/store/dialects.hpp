// The SQL dialects of the stores: each one's schema migrations and the text
// of every statement the shared SQL store runs (sql_store.hpp).
#pragma once

#include <cstddef>

#include "system/store/sql_store.hpp"

namespace oms {

struct sql_dialect {
  /// Migration i brings the schema from version i to version i + 1. Append
  /// new migrations; never edit a released one.
  const char* const* migrations;
  size_t migration_count;
  sql_texts statements;
};

/// SQLite 3 (sqlite_dialect.cpp).
const sql_dialect& sqlite_dialect();

/// PostgreSQL 15 (pg_dialect.cpp).
const sql_dialect& pg_dialect();

} // namespace oms
