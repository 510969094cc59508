// The SQL stores' writes: the event log appended, its events applied to
// the tables (the projection's sink), the log read back and pruned. The
// reads of the tables are in sql_store_reads.cpp.
#include "system/store/sql_store.hpp"

#include <algorithm>
#include <climits>

#include "messages/errors.hpp"
#include "messages/shards.hpp"
#include "system/store/codec.hpp"
#include "system/store/projection.hpp"

namespace oms {

namespace {

constexpr const char* sql_names[] = {
    "insert_event",
    "upsert_price",
    "receive",
    "adjust",
    "consume",
    "touch_sku",
    "sku_version",
    "add_to_batch",
    "prune_batches",
    "hold_reserve",
    "hold_block",
    "hold_find",
    "hold_update",
    "hold_delete",
    "upsert_order",
    "upsert_line",
    "insert_key",
    "insert_customer",
    "insert_inbox",
    "forget_inbox",
    "upsert_cursor",
    "upsert_delta",
    "upsert_wms",
    "delete_wms",
    "find_order",
    "list_orders",
    "search_by_sku",
    "search_by_customer",
    "search_by_status",
    "search_all",
    "read_events",
    "last_seq",
    "first_seq",
    "prune_scan",
    "prune_events",
    "load_skus",
    "load_batches",
    "load_holds",
    "load_live",
    "load_customers",
    "load_inbox",
    "load_cursors",
    "load_deltas",
    "load_wms",
    "count_orders",
    "one_sku",
    "one_sku_batches",
    "one_sku_holds",
    "load_key",
    "one_inbox_id",
    "one_external_deltas",
    "one_external_wms",
    "shard_count_read",
    "shard_count_write",
    "shard_all_skus",
    "set_sku_shard",
    "set_order_shards",
    "shard_skus",
    "shard_batches",
    "shard_holds",
    "shard_live",
};

static_assert(std::size(sql_names) == sql_count);

int64_t as_int(size_t x) {
  return static_cast<int64_t>(x);
}

// The projection's sink into the tables. Order events store `payload`, the
// record as the event log has it, as the order's record and as the result
// its keys guard (keys_of takes both from the same event). A SKU's row and
// an order's carry their shard among `shards` (none when 0).
class sql_sink : public state_sink {
 public:
  sql_sink(sql_session& s, const std::string& payload, uint32_t shards)
      : s_(s), payload_(payload), shards_(shards) {}

  void add_inbox_id(const std::string& id, timestamp_ms at) override {
    s_.run(sql::insert_inbox, {id, at});
  }
  void forget_inbox_ids(timestamp_ms before) override {
    s_.run(sql::forget_inbox, {before});
  }
  void put_cursor(const std::string& source, const std::string& cursor,
                  timestamp_ms at) override {
    s_.run(sql::upsert_cursor, {source, cursor, at});
  }
  void set_price(const sku_id& sku, money price, timestamp_ms at) override {
    s_.run(sql::upsert_price, {sku, price, at, shard_value(sku, shards_)});
  }
  void add_stock(const sku_id& sku, stock_total total, int64_t on_hand,
                 int64_t amount, timestamp_ms at) override {
    constexpr sql by_total[] = {sql::receive, sql::adjust, sql::consume};
    s_.run(by_total[static_cast<size_t>(total)],
           {sku, on_hand, amount, at, shard_value(sku, shards_)});
  }
  void touch_sku(const sku_id& sku, timestamp_ms at) override {
    s_.run(sql::touch_sku, {sku, at, shard_value(sku, shards_)});
  }
  void set_sku_version(const sku_id& sku, uint64_t version) override {
    s_.run(sql::sku_version, {sku, sql_integer(version)});
  }
  void add_to_batch(const sku_id& sku, const batch_change& c) override {
    static_assert(unallocatable_reason_count == 4);
    auto& aside = c.set_aside;
    s_.run(sql::add_to_batch,
           {sku, c.lot, c.expires_at, c.received_at, c.on_hand, aside[0],
            aside[1], aside[2], aside[3]});
  }
  void prune_batches(const sku_id& sku) override {
    s_.run(sql::prune_batches, {sku});
  }
  std::optional<hold_state> find_hold(const order_id& order,
                                      const sku_id& sku) override {
    std::optional<hold_state> result;
    s_.run(sql::hold_find, {order, sku}, [&](const sql_row& row) {
      result = hold_state{order,
                          sku,
                          row.integer(0),
                          row.text(2) == "BLOCKED" ? hold_kind::blocked
                                                   : hold_kind::reserved,
                          {}};
      if (!decode_allocations(row.text(1), result->lots))
        throw bad_data{"undecodable batches of the hold of order " + order +
                       " on " + sku};
    });
    return result;
  }
  void put_hold(const hold_state& h) override {
    // A hold is put only when reserved (project() blocks it later).
    s_.run(sql::hold_reserve,
           {h.order, h.sku, h.quantity, encode_allocations(h.lots)});
  }
  void block_hold(const order_id& order, const sku_id& sku) override {
    s_.run(sql::hold_block, {order, sku});
  }
  void shrink_hold(const order_id& order, const sku_id& sku, int64_t quantity,
                   const std::vector<lot_allocation>& lots) override {
    s_.run(sql::hold_update, {order, sku, quantity, encode_allocations(lots)});
  }
  void delete_hold(const order_id& order, const sku_id& sku) override {
    s_.run(sql::hold_delete, {order, sku});
  }
  void put_order(const order_record& r, uint64_t seq, bool) override;
  void add_key(const key_state& k) override {
    s_.run(sql::insert_key,
           {k.customer, k.key, k.fingerprint, k.order, k.at, payload_});
  }
  void add_customer(const customer_record& c) override {
    s_.run(sql::insert_customer, {c.id, c.name, c.token_hash, c.created_at});
  }
  void put_external_delta(const external_delta& d) override {
    s_.run(sql::upsert_delta, {d.sku, d.wms_seq, d.event_id, d.quantity, d.at});
  }
  void put_wms_reservation(const wms_reservation& w) override {
    s_.run(sql::upsert_wms,
           {w.order, w.sku, w.quantity, to_string(w.state), w.wms_seq, w.at});
  }
  void delete_wms_reservation(const order_id& order,
                              const sku_id& sku) override {
    s_.run(sql::delete_wms, {order, sku});
  }

 private:
  sql_session& s_;
  const std::string& payload_;
  uint32_t shards_;
};

void sql_sink::put_order(const order_record& r, uint64_t seq, bool) {
  // The ordinal (the creating event's seq) is kept from the first insert.
  s_.run(sql::upsert_order,
         {r.id, sql_integer(seq), r.customer, to_string(r.seller),
          to_string(r.status), r.total_amount, r.paid_amount, r.refunded_amount,
          r.created_at, r.updated_at, r.hold_expires_at, r.cancel_reason,
          int64_t{needs_actor(r) ? 1 : 0}, payload_, shard_value(r, shards_)});
  for (size_t i = 0; i < r.lines.size(); ++i) {
    auto& l = r.lines[i];
    s_.run(sql::upsert_line, {r.id, as_int(i), l.sku, l.quantity, l.unit_price,
                              l.cancelled_quantity, l.shipped_quantity});
  }
  // Its history and payments are read from the record (the views
  // order_history and payments).
}

} // namespace

const char* name_of(sql statement) {
  return sql_names[static_cast<size_t>(statement)];
}

sql_texts
make_sql_texts(std::initializer_list<std::pair<sql, const char*>> table) {
  sql_texts result{};
  for (auto& [statement, text] : table)
    result[static_cast<size_t>(statement)] = text;
  for (size_t i = 0; i < sql_count; ++i)
    if (result[i] == nullptr)
      throw std::logic_error{std::string{"no text for SQL statement "} +
                             sql_names[i]};
  return result;
}

sql_session::~sql_session() = default;

std::string append_event(sql_session& session, const event& ev, uint64_t seq) {
  auto payload = encode_payload(ev);
  session.run(sql::insert_event,
              {sql_integer(seq), ev.at, to_string(ev.kind), ev.sku, ev.order,
               ev.quantity, ev.amount, payload});
  return payload;
}

void apply_event(sql_session& session, const event& ev, uint64_t seq,
                 const std::string& payload, uint32_t shards) {
  sql_sink sink{session, payload, shards};
  project(ev, seq, sink);
}

int64_t shard_value(std::string_view sku, uint32_t shards) {
  return shards == 0 ? -1 : int64_t{shard_of_sku(sku, shards)};
}

int64_t shard_value(const order_record& r, uint32_t shards) {
  if (shards == 0)
    return -1;
  if (r.seller == seller::external)
    return int64_t{duty_shard};
  return r.lines.empty() ? -1 : shard_value(r.lines.front().sku, shards);
}

event event_of(const sql_row& row, std::string* payload) {
  event ev;
  ev.at = row.integer(1);
  auto seq = [&] {
    return std::to_string(row.integer(0));
  };
  if (!parse_event_kind(row.text(2), ev.kind))
    throw bad_data{"unknown event kind at seq " + seq()};
  ev.sku = row.text(3);
  ev.order = row.text(4);
  ev.quantity = row.integer(5);
  ev.amount = row.integer(6);
  auto text = row.text(7);
  if (!decode_payload(text, ev))
    throw bad_data{"undecodable payload of " + std::string{to_string(ev.kind)} +
                   " at seq " + seq() + " in the event log"};
  if (payload != nullptr)
    *payload = std::move(text);
  return ev;
}

void sql_store::read_bounds(sql_session& session) {
  last_seq_ = read_last_seq(session);
  int64_t first = 0;
  session.run(sql::first_seq, {},
              [&](const sql_row& row) { first = row.integer(0); });
  first_seq_ = first > 0 ? static_cast<uint64_t>(first) : last_seq_ + 1;
  int64_t shards = 0;
  session.run(sql::shard_count_read, {},
              [&](const sql_row& row) { shards = row.integer(0); });
  shard_count_ =
      shards > 0 && shards <= max_shards ? static_cast<uint32_t>(shards) : 0;
}

caf::error sql_store::index_shards(uint32_t count) {
  if (count == 0 || count > max_shards)
    return failure("cannot index " + std::to_string(count) + " shards: 1.." +
                   std::to_string(max_shards));
  try {
    writing([&](sql_session& s) {
      int64_t now = 0;
      s.run(sql::shard_count_read, {},
            [&](const sql_row& row) { now = row.integer(0); });
      if (now == count)
        return;
      std::vector<std::string> skus;
      s.run(sql::shard_all_skus, {},
            [&](const sql_row& row) { skus.push_back(row.text(0)); });
      for (auto& sku : skus)
        s.run(sql::set_sku_shard, {sku, shard_value(sku, count)});
      // Every order's, not only the live ones': an order may be live
      // again (a return), and the planner reads the column's statistics
      // over the whole table.
      s.run(sql::set_order_shards, {int64_t{duty_shard}});
      s.run(sql::shard_count_write, {int64_t{count}});
    });
  } catch (const std::exception& e) {
    return failure(std::string{"cannot index the shards: "} + e.what());
  }
  shard_count_ = count;
  return caf::none;
}

caf::expected<uint64_t> sql_store::prune(timestamp_ms before, uint64_t max) {
  // The prefix of the log committed before `before`, the newest event
  // kept whatever its age (it carries the sequence on across a restart).
  uint64_t upto = 0;
  bool young = false;
  try {
    // Reading applies every committed event to the tables first.
    reading(false, [&](sql_session& s) {
      s.run(sql::prune_scan, {sql_integer(first_seq_), sql_integer(max)},
            [&](const sql_row& row) {
              auto seq = static_cast<uint64_t>(row.integer(0));
              if (young || row.integer(1) >= before || seq >= last_seq_)
                young = true;
              else
                upto = seq;
            });
    });
    if (upto == 0)
      return uint64_t{0};
    writing([&](sql_session& s) {
      s.run(sql::prune_events, {sql_integer(upto)}, nullptr);
    });
  } catch (const std::exception& e) {
    return failure(std::string{"cannot prune the event log: "} + e.what());
  }
  auto gone = upto + 1 - first_seq_;
  first_seq_ = upto + 1;
  return gone;
}

uint64_t sql_store::read_last_seq(sql_session& session) {
  int64_t result = 0;
  session.run(sql::last_seq, {},
              [&](const sql_row& row) { result = row.integer(0); });
  return static_cast<uint64_t>(result);
}

caf::error sql_store::failure(const std::string& what) const {
  return make_error(errc::store_failure, where_ + ": " + what);
}

caf::expected<std::vector<event>> sql_store::read(uint64_t from,
                                                  uint64_t max) const {
  if (from < first_seq_ && from <= last_seq_)
    return events_expired(first_seq_);
  std::vector<event> result;
  auto each = [&](const sql_row& row) {
    result.push_back(event_of(row, nullptr));
  };
  try {
    reading(false, [&](sql_session& s) {
      s.run(sql::read_events, {sql_integer(from), sql_integer(max)}, each);
    });
  } catch (const bad_data& e) {
    return failure(e.what());
  } catch (const std::exception& e) {
    return failure(std::string{"cannot read the event log: "} + e.what());
  }
  return result;
}

} // namespace oms
