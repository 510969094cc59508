// The SQL stores' reads of their tables: the state a start recovers (the
// SKUs, holds, live orders, customers, inbox and the EXTERNAL seller's
// feed), one SKU loaded on demand, idempotency keys, and the order queries.
// The writes, and the event log, are in sql_store.cpp.
#include "system/store/sql_store.hpp"

#include <algorithm>
#include <climits>
#include <optional>

#include "messages/errors.hpp"
#include "system/store/codec.hpp"

namespace oms {

namespace {

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

// The SKUs with their batches, the holds and the live orders; of the shards
// in `shards` only ("3,7": their numbers) when it is not empty.
void load_stock_rows(sql_session& s, recovered_state& result,
                     const std::string& shards) {
  // Each read: of every shard, or of those shards.
  auto read = [&](sql every, sql of_shards, const char* failed,
                  const sql_session::row_handler& each) {
    if (shards.empty())
      load_rows(s, every, failed, each);
    else
      load_rows(s, of_shards, failed, each, {std::string_view{shards}});
  };
  read(sql::load_skus, sql::shard_skus, "cannot read SKUs",
       [&](const sql_row& row) { result.skus.push_back(sku_row(row)); });
  auto sku = result.skus.begin();
  read(sql::load_batches, sql::shard_batches, "cannot read batches",
       [&](const sql_row& row) { add_batch_row(row, result.skus, sku); });
  read(sql::load_holds, sql::shard_holds, "cannot read holds",
       [&](const sql_row& row) { result.holds.push_back(hold_row(row)); });
  read(sql::load_live, sql::shard_live, "cannot read orders",
       [&](const sql_row& row) {
         result.live_orders.push_back(
             record_of(row, 1, "undecodable record of order " + row.text(0)));
       });
}

void load_stock_state(sql_session& s, recovered_state& result) {
  load_stock_rows(s, result, {});
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

caf::expected<recovered_state> sql_store::load_with(
    const std::function<void(sql_session&, recovered_state&)>& fill,
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

caf::expected<recovered_state>
sql_store::load_shards(const std::vector<uint32_t>& shards, uint32_t count,
                       bool external) {
  if (count == 0 || count != shard_count_)
    return load_stock(external);
  std::string list;
  for (auto shard : shards) {
    if (!list.empty())
      list += ',';
    list += std::to_string(shard);
  }
  if (list.empty())
    list = "-1"; // no shard: no row
  return load_with(
      [&](sql_session& s, recovered_state& result) {
        load_stock_rows(s, result, list);
        if (external)
          load_external_state(s, result);
      },
      "stock of the shards");
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
      s.run(sql::list_orders,
            {customer, sql_integer(limit), sql_integer(offset)}, each);
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
  int64_t before = q.before == 0 ? INT64_MAX : sql_integer(q.before);
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
