// What the SQL stores share: the statements each of them runs (written once
// per dialect, in sqlite_store.cpp and pg_store.cpp), a session that runs
// them, and the store on top: the projection's sink into the tables, the
// event log, and the reads of the current state. SQLite and PostgreSQL
// differ only in the statements' text, in the session that runs them and in
// how a store is opened and a transaction committed.
#pragma once

#include <algorithm>
#include <array>
#include <climits>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "messages/journal_store.hpp"

namespace oms {

/// The statements of a SQL store. Each dialect's table gives every one its
/// text; parameters come in the order the comments name them.
enum class sql : uint8_t {
  // Writes (commit).
  insert_event, // seq, at, kind, sku, order_id, quantity, amount, payload
  // A SKU's row is made by the first of these to name it, with its shard
  // (shard_value: -1 for none).
  upsert_price,    // sku, unit_price, updated_at, shard
  receive,         // sku, on_hand, received_total, updated_at (added), shard
  adjust,          // sku, on_hand, adjusted_total, updated_at (added), shard
  consume,         // sku, on_hand, consumed_total, updated_at (added), shard
  touch_sku,       // sku, updated_at, shard
  sku_version,     // sku, version (0: one more)
  add_to_batch,    // sku, lot, expires_at, received_at, on_hand, damaged,
                   // quarantined, expired, safety_stock (added)
  prune_batches,   // sku
  hold_reserve,    // order_id, sku, quantity, lots
  hold_block,      // order_id, sku
  hold_find,       // order_id, sku -> quantity, lots, kind
  hold_update,     // order_id, sku, quantity, lots
  hold_delete,     // order_id, sku
  upsert_order,    // id, ordinal, customer, seller, status, total_amount,
                   // paid_amount, refunded_amount, created_at, updated_at,
                   // hold_expires_at, cancel_reason, live, record,
                   // shard
  upsert_line,     // order_id, line_no, sku, quantity, unit_price,
                   // cancelled_quantity, shipped_quantity
  insert_key,      // customer, key, fingerprint, order_id, at, response
  insert_customer, // id, name, token_hash, created_at
  insert_inbox,    // id, at
  forget_inbox,    // before: deletes the ids recorded before
  upsert_cursor,   // source, cursor, at
  upsert_delta,    // sku, wms_seq, event_id, quantity, at
  upsert_wms,      // order_id, sku, quantity, state, wms_seq, at
  delete_wms,      // order_id, sku
  // Reads.
  find_order,  // id -> record
  list_orders, // customer, limit, offset -> record
  // The admin search, one statement per index it starts from; each takes
  // status, before (ordinal), customer, seller, created_from, created_to,
  // sku, limit ('' for a filter not set) -> record, ordinal.
  search_by_sku,
  search_by_customer,
  search_by_status,
  search_all,
  read_events,  // from, max -> seq, at, kind, sku, order_id, quantity,
                // amount, payload
  last_seq,     // -> the highest seq (0 when empty)
  first_seq,    // -> the lowest seq kept (0 when empty)
  prune_scan,   // from, max -> seq, at of the oldest events
  prune_events, // upto: deletes the events with seq <= upto
  // Recovery (no parameters), each in the order store_state keeps.
  load_skus,      // sku, unit_price, on_hand, received_total, consumed_total,
                  // adjusted_total, updated_at, version
  load_batches,   // sku, lot, expires_at, received_at, on_hand, damaged,
                  // quarantined, expired, safety_stock (by SKU, as created)
  load_holds,     // order_id, sku, quantity, kind, lots
  load_live,      // id, record
  load_customers, // id, name, token_hash, created_at
  load_inbox,     // id, at
  load_cursors,   // source, cursor
  load_deltas,    // sku, event_id, wms_seq, quantity, at
  load_wms,       // order_id, sku, quantity, state, wms_seq, at
  count_orders,   // -> count
  // One SKU (restart of its actor): as load_skus, load_batches, load_holds.
  one_sku,         // sku
  one_sku_batches, // sku
  one_sku_holds,   // sku
  load_key,        // customer, key -> key, fingerprint, order_id, at, response
  one_inbox_id,    // id -> 1 if recorded
  // One EXTERNAL SKU (restart of its actor): as load_deltas, load_wms.
  one_external_deltas, // sku
  one_external_wms,    // sku
  // The shard columns (docs/cluster.md): the count of shards they are
  // computed for, and what a change of that count recomputes.
  shard_count_read,  // -> count (no row: not computed)
  shard_count_write, // count
  shard_all_skus,    // -> sku
  set_sku_shard,     // sku, shard
  set_order_shards,  // duty shard: every order's, from its first line's SKU
  // A cluster node's take (shards: their numbers, comma-separated, "3,7"):
  // as load_skus, load_batches, load_holds and load_live, of those shards.
  shard_skus,    // shards
  shard_batches, // shards
  shard_holds,   // shards
  shard_live,    // shards
};

inline constexpr size_t sql_count = static_cast<size_t>(sql::shard_live) + 1;

/// The name of a statement ("insert_event").
const char* name_of(sql statement);

/// A dialect's text of every statement.
using sql_texts = std::array<const char*, sql_count>;

/// Builds a dialect's texts from (statement, text) pairs; throws
/// std::logic_error naming a statement given no text.
sql_texts
make_sql_texts(std::initializer_list<std::pair<sql, const char*>> table);

/// One parameter of a statement (viewed: it must outlive the call).
using sql_value = std::variant<int64_t, std::string_view>;

/// One row of a statement's result.
class sql_row {
 public:
  virtual int64_t integer(int column) const = 0;
  virtual std::string text(int column) const = 0;

 protected:
  ~sql_row() = default;
};

/// Runs statements on one connection. Throws when a statement fails (the
/// driver's message; SQLite: sql_failure naming the statement).
class sql_session {
 public:
  virtual ~sql_session();

  using row_handler = std::function<void(const sql_row&)>;

  /// Runs `statement` with `params` and calls `each` for every row of its
  /// result.
  virtual void run(sql statement, std::initializer_list<sql_value> params,
                   const row_handler& each = {}) = 0;
};

/// A statement that failed in the driver.
struct sql_failure : std::runtime_error {
  sql_failure(sql which, const std::string& what)
      : std::runtime_error(what), statement(which) {}
  sql statement;
};

/// Stored data that does not decode; what() names it.
struct bad_data : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Appends the event with sequence number `seq` to the log; returns the
/// payload stored with it. Throws as the session does.
std::string append_event(sql_session& session, const event& ev, uint64_t seq);

/// Applies an event of the log (`payload` as the log stores it) to the
/// current-state tables, their shard columns computed for `shards` shards
/// (0: not computed). Throws as the session does, or bad_data.
void apply_event(sql_session& session, const event& ev, uint64_t seq,
                 const std::string& payload, uint32_t shards);

/// What a row's shard column holds: the shard of `sku` among `shards`, -1
/// (stored as NULL) when the columns are not computed (`shards` 0).
int64_t shard_value(std::string_view sku, uint32_t shards);

/// The shard column of an order: that of its first line's SKU, the duty
/// shard for the EXTERNAL seller's, -1 for none.
int64_t shard_value(const order_record& r, uint32_t shards);

/// `x` as a SQL integer parameter: at most INT64_MAX.
inline int64_t sql_integer(uint64_t x) {
  return static_cast<int64_t>(std::min<uint64_t>(x, INT64_MAX));
}

/// The event in a row of read_events; its payload text into `payload` if not
/// null. Throws bad_data if the row does not decode.
event event_of(const sql_row& row, std::string* payload);

/// The journal store on SQL tables: reads the log and the current state
/// through the backend's session.
class sql_store : public journal_store {
 public:
  caf::expected<std::vector<event>> read(uint64_t from,
                                         uint64_t max) const override;
  uint64_t last_seq() const override { return last_seq_; }
  uint64_t first_seq() const override { return first_seq_; }
  caf::expected<uint64_t> prune(timestamp_ms before, uint64_t max) override;
  caf::expected<recovered_state> load() override;
  caf::expected<recovered_state> load_stock(bool external) override;
  /// Reads only those shards' rows when the shard columns are computed for
  /// `count` shards (index_shards); else all of load_stock().
  caf::expected<recovered_state>
  load_shards(const std::vector<uint32_t>& shards, uint32_t count,
              bool external) override;
  caf::expected<stored_sku> load_sku(const sku_id& sku) const override;
  caf::expected<stored_external>
  load_external(const sku_id& sku) const override;
  caf::expected<std::vector<key_state>>
  load_key(const customer_id& customer, const std::string& key) const override;
  caf::expected<bool>
  knows_inbox_id(const std::string& event_id) const override;
  caf::expected<order_record> find_order(const order_id& id) const override;
  caf::expected<std::vector<order_record>>
  list_orders(const customer_id& customer, uint64_t offset,
              uint64_t limit) const override;
  caf::expected<order_hits>
  search_orders(const order_query& query) const override;
  bool blocking() const override { return true; }

  /// Computes the shard columns for `count` shards (> 0), and from now on
  /// writes them so: every SKU's row and every live order's, in one
  /// transaction, unless they already are. Rows written later by a store
  /// opened with another count keep this one (it is the store's).
  caf::error index_shards(uint32_t count);

  /// The count of shards the shard columns are computed for; 0 for none.
  uint32_t shard_count() const { return shard_count_; }

 private:
  // load() and load_stock(): `fill` reads the state in one snapshot; an
  // error names `what` was being loaded.
  caf::expected<recovered_state>
  load_with(const std::function<void(sql_session&, recovered_state&)>& fill,
            const char* what);

 protected:
  /// `where` starts every error message (the file, the server and schema).
  explicit sql_store(std::string where) : where_(std::move(where)) {}

  /// Runs `body` with a session for reading; with `snapshot`, every read
  /// sees one state (a transaction where the backend needs one).
  virtual void reading(bool snapshot,
                       const std::function<void(sql_session&)>& body) const = 0;

  /// Runs `body` with a session that reads the current-state tables as
  /// they stand, without bringing them up to the log first: only for a
  /// read that the events not yet applied cannot change. Where the tables
  /// never lag behind the log, the same as reading(false, body).
  virtual void
  reading_tables(const std::function<void(sql_session&)>& body) const {
    reading(false, body);
  }

  /// load_key, through reading_tables when `as_they_stand`.
  caf::expected<std::vector<key_state>> read_key(const customer_id& customer,
                                                 const std::string& key,
                                                 bool as_they_stand) const;

  /// Runs `body` in a transaction that writes; throws what it throws, or
  /// what the backend does, having rolled back.
  virtual void writing(const std::function<void(sql_session&)>& body) = 0;

  /// The highest sequence number in the log.
  static uint64_t read_last_seq(sql_session& session);

  /// Sets last_seq_ and first_seq_ from the log, and shard_count_ from the
  /// store's record of it.
  void read_bounds(sql_session& session);

  /// STORE_FAILURE: "WHERE: WHAT".
  caf::error failure(const std::string& what) const;

  std::string where_;
  uint64_t last_seq_ = 0;
  uint64_t first_seq_ = 1;
  /// The count of shards the shard columns are computed for (0: none).
  uint32_t shard_count_ = 0;
};

} // namespace oms
