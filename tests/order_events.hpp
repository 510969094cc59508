// Events as the order path journals them, for tests and benches that commit
// to a store directly (header only: no test framework).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "actors/order_plan.hpp" // stock_event
#include "messages/events.hpp"

namespace oms::test {

/// Appends to `batch` the two events of a new one-line order `id` of one unit
/// of `sku` at 100 minor units, by `customer`, at `at`: its record
/// (order_created), then its hold (stock_reserved).
inline void add_order_events(std::vector<event>& batch, const std::string& id,
                             const std::string& sku,
                             const std::string& customer, timestamp_ms at) {
  order_record rec;
  rec.id = id;
  rec.customer = customer;
  rec.lines.push_back(order_line{sku, 1, 100, 0, 0, {}});
  rec.total_amount = 100;
  rec.created_at = rec.updated_at = at;
  rec.hold_expires_at = at + 600000;
  event created;
  created.kind = event_kind::order_created;
  created.at = at;
  created.sku = sku;
  created.order = id;
  created.snapshot = std::move(rec);
  batch.push_back(std::move(created));
  batch.push_back(stock_event(event_kind::stock_reserved, at, sku, id, 1));
}

} // namespace oms::test
