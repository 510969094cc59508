#include "system/store/sql_store.hpp"

#include <algorithm>
#include <climits>

#include "messages/errors.hpp"
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
    "insert_history",
    "upsert_payment",
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
};

static_assert(std::size(sql_names) == sql_count);

int64_t clamp(uint64_t x) {
  return static_cast<int64_t>(std::min<uint64_t>(x, INT64_MAX));
}

int64_t as_int(size_t x) {
  return static_cast<int64_t>(x);
}

// The projection's sink into the tables. Order events store `payload`, the
// record as the event log has it, as the order's record and as the result
// its keys guard (keys_of takes both from the same event).
class sql_sink : public state_sink {
 public:
  sql_sink(sql_session& s, const std::string& payload)
      : s_(s), payload_(payload) {}

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
    s_.run(sql::upsert_price, {sku, price, at});
  }
  void add_stock(const sku_id& sku, stock_total total, int64_t on_hand,
                 int64_t amount, timestamp_ms at) override {
    constexpr sql by_total[] = {sql::receive, sql::adjust, sql::consume};
    s_.run(by_total[static_cast<size_t>(total)], {sku, on_hand, amount, at});
  }
  void touch_sku(const sku_id& sku, timestamp_ms at) override {
    s_.run(sql::touch_sku, {sku, at});
  }
  void set_sku_version(const sku_id& sku, uint64_t version) override {
    s_.run(sql::sku_version, {sku, clamp(version)});
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
};

void sql_sink::put_order(const order_record& r, uint64_t seq, bool) {
  // The ordinal (the creating event's seq) is kept from the first insert.
  s_.run(sql::upsert_order,
         {r.id, clamp(seq), r.customer, to_string(r.seller),
          to_string(r.status), r.total_amount, r.paid_amount, r.refunded_amount,
          r.created_at, r.updated_at, r.hold_expires_at, r.cancel_reason,
          int64_t{needs_actor(r) ? 1 : 0}, payload_});
  for (size_t i = 0; i < r.lines.size(); ++i) {
    auto& l = r.lines[i];
    s_.run(sql::upsert_line, {r.id, as_int(i), l.sku, l.quantity, l.unit_price,
                              l.cancelled_quantity, l.shipped_quantity});
  }
  for (size_t i = 0; i < r.history.size(); ++i) {
    auto& h = r.history[i];
    s_.run(sql::insert_history, {r.id, as_int(i), h.at, to_string(h.from),
                                 to_string(h.to), h.reason, h.amount});
  }
  for (auto& p : r.payments)
    s_.run(sql::upsert_payment, {p.gateway_key, r.id, to_string(p.kind),
                                 p.amount, to_string(p.status), p.reference,
                                 p.reason, p.at, p.client_key, p.fingerprint});
}

// Reads one SKU's batch row onto the SKUs (sorted, as load_skus reads them),
// advancing `sku` to it.
void add_batch_row(const sql_row& row, std::vector<sku_state>& skus,
                   std::vector<sku_state>::iterator& sku) {
  auto id = row.text(0);
  while (sku != skus.end() && sku->sku < id)
    ++sku;
  if (sku == skus.end() || sku->sku != id)
    throw bad_data{"a batch of unknown SKU " + id};
  batch_view b;
  b.lot = row.text(1);
  b.expires_at = row.integer(2);
  b.received_at = row.integer(3);
  b.on_hand = row.integer(4);
  for (size_t i = 0; i < unallocatable_reason_count; ++i)
    b.unallocatable.push_back(row.integer(static_cast<int>(5 + i)));
  sku->batches.push_back(std::move(b));
}

order_record record_of(const sql_row& row, int column,
                       const std::string& what) {
  order_record rec;
  if (!decode_record(row.text(column), rec))
    throw bad_data{what};
  return rec;
}

// Runs a recovery statement; `failed` says what could not be done.
void load_rows(sql_session& s, sql statement, const char* failed,
               const sql_session::row_handler& each,
               std::initializer_list<sql_value> params = {}) {
  try {
    s.run(statement, params, each);
  } catch (const bad_data&) {
    throw;
  } catch (const std::exception& e) {
    throw sql_failure{statement, std::string{failed} + ": " + e.what()};
  }
}

sku_state sku_row(const sql_row& row) {
  return sku_state{row.text(0),
                   row.integer(1),
                   row.integer(2),
                   row.integer(3),
                   row.integer(4),
                   row.integer(5),
                   row.integer(6),
                   static_cast<uint64_t>(std::max<int64_t>(0, row.integer(7))),
                   {}};
}

hold_state hold_row(const sql_row& row) {
  hold_state h{row.text(0),
               row.text(1),
               row.integer(2),
               row.text(3) == "BLOCKED" ? hold_kind::blocked
                                        : hold_kind::reserved,
               {}};
  if (!decode_allocations(row.text(4), h.lots))
    throw bad_data{"undecodable batches of the hold of order " + h.order +
                   " on " + h.sku};
  return h;
}

key_state key_row(const customer_id& customer, const sql_row& row) {
  key_state k{customer,    row.text(0),    row.text(1),
              row.text(2), row.integer(3), {}};
  k.response =
      record_of(row, 4, "undecodable idempotency result for key " + k.key);
  return k;
}

external_delta delta_row(const sql_row& row) {
  return external_delta{row.text(0), row.text(1), row.integer(2),
                        row.integer(3), row.integer(4)};
}

wms_reservation wms_row(const sql_row& row) {
  wms_reservation w{row.text(0), row.text(1),    row.integer(2),
                    {},          row.integer(4), row.integer(5)};
  // What is not a standing reads as far as it goes, as it was journaled.
  parse_wms_standing(row.text(3), w.state);
  return w;
}

// The SKUs with their batches, the holds and the live orders.
void load_stock_state(sql_session& s, recovered_state& result) {
  load_rows(s, sql::load_skus, "cannot read SKUs",
            [&](const sql_row& row) { result.skus.push_back(sku_row(row)); });
  auto sku = result.skus.begin();
  load_rows(s, sql::load_batches, "cannot read batches",
            [&](const sql_row& row) { add_batch_row(row, result.skus, sku); });
  load_rows(s, sql::load_holds, "cannot read holds",
            [&](const sql_row& row) { result.holds.push_back(hold_row(row)); });
  load_rows(s, sql::load_live, "cannot read orders", [&](const sql_row& row) {
    result.live_orders.push_back(
        record_of(row, 1, "undecodable record of order " + row.text(0)));
  });
}

// The EXTERNAL seller's state: the feed cursors, the feed changes not yet
// in a snapshot, the unsettled WMS reservations.
void load_external_state(sql_session& s, recovered_state& result) {
  load_rows(s, sql::load_cursors, "cannot read the feed cursors",
            [&](const sql_row& row) {
              result.cursors.emplace_back(row.text(0), row.text(1));
            });
  load_rows(s, sql::load_deltas, "cannot read the external feed changes",
            [&](const sql_row& row) {
              result.external_deltas.push_back(delta_row(row));
            });
  load_rows(s, sql::load_wms, "cannot read the WMS reservations",
            [&](const sql_row& row) {
              result.wms_reservations.push_back(wms_row(row));
            });
}

void load_stock_external_state(sql_session& s, recovered_state& result) {
  load_stock_state(s, result);
  load_external_state(s, result);
}

void load_state(sql_session& s, recovered_state& result) {
  load_stock_state(s, result);
  load_rows(s, sql::load_customers, "cannot read customers",
            [&](const sql_row& row) {
              result.customers.push_back(customer_record{
                  row.text(0), row.text(1), row.text(2), row.integer(3)});
            });
  load_rows(s, sql::load_inbox, "cannot read the inbox",
            [&](const sql_row& row) {
              result.inbox_ids.emplace_back(row.text(0), row.integer(1));
            });
  load_external_state(s, result);
  load_rows(s, sql::count_orders, "cannot count orders",
            [&](const sql_row& row) {
              result.total_orders = static_cast<uint64_t>(row.integer(0));
            });
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
  session.run(sql::insert_event, {clamp(seq), ev.at, to_string(ev.kind), ev.sku,
                                  ev.order, ev.quantity, ev.amount, payload});
  return payload;
}

void apply_event(sql_session& session, const event& ev, uint64_t seq,
                 const std::string& payload) {
  sql_sink sink{session, payload};
  project(ev, seq, sink);
}

void write_event(sql_session& session, const event& ev, uint64_t seq) {
  apply_event(session, ev, seq, append_event(session, ev, seq));
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
}

caf::expected<uint64_t> sql_store::prune(timestamp_ms before, uint64_t max) {
  // The prefix of the log committed before `before`, the newest event
  // kept whatever its age (it carries the sequence on across a restart).
  uint64_t upto = 0;
  bool young = false;
  try {
    // Reading applies every committed event to the tables first.
    reading(false, [&](sql_session& s) {
      s.run(sql::prune_scan, {clamp(first_seq_), clamp(max)},
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
      s.run(sql::prune_events, {clamp(upto)}, nullptr);
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
      s.run(sql::read_events, {clamp(from), clamp(max)}, each);
    });
  } catch (const bad_data& e) {
    return failure(e.what());
  } catch (const std::exception& e) {
    return failure(std::string{"cannot read the event log: "} + e.what());
  }
  return result;
}

caf::expected<recovered_state>
sql_store::load_with(void (*fill)(sql_session&, recovered_state&),
                     const char* what) {
  recovered_state result;
  result.last_seq = last_seq_;
  try {
    reading(true, [&](sql_session& s) { fill(s, result); });
  } catch (const bad_data& e) {
    return failure(e.what());
  } catch (const sql_failure& e) {
    return failure(e.what());
  } catch (const std::exception& e) {
    return failure(std::string{"cannot load the "} + what + ": " + e.what());
  }
  return result;
}

caf::expected<recovered_state> sql_store::load() {
  return load_with(load_state, "state");
}

caf::expected<recovered_state> sql_store::load_stock(bool external) {
  if (external)
    return load_with(load_stock_external_state, "stock");
  return load_with(load_stock_state, "stock");
}

caf::expected<stored_sku> sql_store::load_sku(const sku_id& id) const {
  stored_sku result;
  std::vector<sku_state> found;
  try {
    reading(true, [&](sql_session& s) {
      load_rows(s, sql::one_sku, "cannot read the SKU",
                [&](const sql_row& row) { found.push_back(sku_row(row)); },
                {id});
      auto sku = found.begin();
      load_rows(s, sql::one_sku_batches, "cannot read the SKU's batches",
                [&](const sql_row& row) { add_batch_row(row, found, sku); },
                {id});
      load_rows(
          s, sql::one_sku_holds, "cannot read the SKU's holds",
          [&](const sql_row& row) { result.holds.push_back(hold_row(row)); },
          {id});
    });
  } catch (const bad_data& e) {
    return failure(e.what());
  } catch (const std::exception& e) {
    return failure("cannot read SKU " + id + ": " + e.what());
  }
  if (!found.empty()) {
    result.found = true;
    result.state = std::move(found.front());
  }
  return result;
}

caf::expected<stored_external>
sql_store::load_external(const sku_id& id) const {
  stored_external result;
  try {
    reading(true, [&](sql_session& s) {
      load_rows(s, sql::one_external_wms,
                "cannot read the SKU's WMS reservations",
                [&](const sql_row& row) {
                  result.reservations.push_back(wms_row(row));
                },
                {id});
      load_rows(
          s, sql::one_external_deltas, "cannot read the SKU's feed changes",
          [&](const sql_row& row) { result.deltas.push_back(delta_row(row)); },
          {id});
    });
  } catch (const bad_data& e) {
    return failure(e.what());
  } catch (const std::exception& e) {
    return failure("cannot read EXTERNAL SKU " + id + ": " + e.what());
  }
  return result;
}

caf::expected<std::vector<key_state>>
sql_store::load_key(const customer_id& customer, const std::string& key) const {
  return read_key(customer, key, false);
}

caf::expected<std::vector<key_state>>
sql_store::read_key(const customer_id& customer, const std::string& key,
                    bool as_they_stand) const {
  std::vector<key_state> result;
  auto body = [&](sql_session& s) {
    s.run(sql::load_key, {customer, key}, [&](const sql_row& row) {
      result.push_back(key_row(customer, row));
    });
  };
  try {
    if (as_they_stand)
      reading_tables(body);
    else
      reading(false, body);
  } catch (const bad_data& e) {
    return failure(e.what());
  } catch (const std::exception& e) {
    return failure(std::string{"cannot read an idempotency key: "} + e.what());
  }
  return result;
}

caf::expected<bool>
sql_store::knows_inbox_id(const std::string& event_id) const {
  bool known = false;
  try {
    reading(false, [&](sql_session& s) {
      s.run(sql::one_inbox_id, {event_id},
            [&](const sql_row&) { known = true; });
    });
  } catch (const std::exception& e) {
    return failure(std::string{"cannot read the inbox: "} + e.what());
  }
  return known;
}

caf::expected<order_record> sql_store::find_order(const order_id& id) const {
  std::optional<order_record> result;
  try {
    reading(false, [&](sql_session& s) {
      s.run(sql::find_order, {id}, [&](const sql_row& row) {
        result = record_of(row, 0, "undecodable record of order " + id);
      });
    });
  } catch (const bad_data& e) {
    return failure(e.what());
  } catch (const std::exception& e) {
    return failure("cannot read order " + id + ": " + e.what());
  }
  if (!result)
    return make_error(errc::order_not_found, "no order " + id);
  return std::move(*result);
}

caf::expected<std::vector<order_record>>
sql_store::list_orders(const customer_id& customer, uint64_t offset,
                       uint64_t limit) const {
  std::vector<order_record> result;
  auto each = [&](const sql_row& row) {
    result.push_back(record_of(row, 0, "undecodable order record"));
  };
  try {
    reading(false, [&](sql_session& s) {
      s.run(sql::list_orders, {customer, clamp(limit), clamp(offset)}, each);
    });
  } catch (const bad_data& e) {
    return failure(e.what());
  } catch (const std::exception& e) {
    return failure(std::string{"cannot list orders: "} + e.what());
  }
  return result;
}

caf::expected<order_hits> sql_store::search_orders(const order_query& q) const {
  // Starts from the index of the most selective filter set; the rest are
  // checked on the rows it yields.
  auto statement = !q.sku.empty()        ? sql::search_by_sku
                   : !q.customer.empty() ? sql::search_by_customer
                   : !q.status.empty()   ? sql::search_by_status
                                         : sql::search_all;
  int64_t before = q.before == 0 ? INT64_MAX : clamp(q.before);
  order_hits hits;
  std::vector<int64_t> ordinals;
  auto each = [&](const sql_row& row) {
    hits.orders.push_back(record_of(row, 0, "undecodable order record"));
    ordinals.push_back(row.integer(1));
  };
  try {
    reading(false, [&](sql_session& s) {
      s.run(statement,
            {q.status, before, q.customer, q.seller, q.created_from,
             q.created_to, q.sku, int64_t{q.limit} + 1},
            each);
    });
  } catch (const bad_data& e) {
    return failure(e.what());
  } catch (const std::exception& e) {
    return failure(std::string{"cannot search orders: "} + e.what());
  }
  // One row more than the limit: there is a next page, after the last
  // order of this one.
  if (hits.orders.size() > q.limit) {
    hits.orders.resize(q.limit);
    hits.next = q.limit > 0 ? static_cast<uint64_t>(ordinals[q.limit - 1]) : 0;
  }
  return hits;
}

} // namespace oms
