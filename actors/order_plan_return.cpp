// The ORDER actor's plans for returns (RMA): request, receive, inspect,
// reject. The stock changes of a step carry event ids made of the order,
// the return, the step and the line, so that a step asked again changes
// the stock once.
#include <algorithm>
#include <map>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "actors/order_plan.hpp"

namespace oms {

namespace {

problem wrong_state(const order_return& r, const char* step) {
  nlohmann::json details{
      {"returnId", r.id}, {"status", to_string(r.status)}, {"command", step}};
  return problem{errc::invalid_transition,
                 std::string{"cannot "} + step + " return " + r.id +
                     " in state " + to_string(r.status),
                 details.dump()};
}

// When the order was delivered (0: not recorded).
timestamp_ms delivered_at(const order_record& rec) {
  for (auto i = rec.history.rbegin(); i != rec.history.rend(); ++i)
    if (i->to == order_status::delivered && i->from != order_status::delivered)
      return i->at;
  return 0;
}

// The record with a history entry for `what` at `now` (status kept).
order_plan noted(const order_record& rec, std::string what, money amount,
                 timestamp_ms now) {
  order_plan plan;
  plan.next = rec;
  plan.next.updated_at = now;
  plan.next.history.push_back(
      history_entry{now, rec.status, rec.status, std::move(what), amount});
  return plan;
}

// The batches `quantity` units of line `line` come back to: those it
// shipped from, less what returns not rejected take back already.
std::vector<lot_allocation> returning_lots(const order_record& rec,
                                           const order_line& line,
                                           int64_t quantity) {
  auto shipped = take_allocations(line.lots, line.shipped_quantity);
  std::map<std::string, int64_t> taken;
  for (auto& r : rec.returns)
    if (r.status != return_status::rejected)
      for (auto& l : r.lines)
        if (l.sku == line.sku)
          for (auto& a : l.lots)
            taken[a.lot] += a.quantity;
  std::vector<lot_allocation> left;
  for (auto a : shipped) {
    auto& t = taken[a.lot];
    auto used = std::min(t, a.quantity);
    t -= used;
    a.quantity -= used;
    if (a.quantity > 0)
      left.push_back(a);
  }
  auto result = take_allocations(left, quantity);
  int64_t covered = 0;
  for (auto& a : result)
    covered += a.quantity;
  // Lines recorded before batches were: the batch "".
  if (covered < quantity)
    result.push_back(lot_allocation{{}, quantity - covered, 0});
  return result;
}

// A stock change of a return step on one batch of one line.
stock_change return_change(const order_record& rec, const order_return& r,
                           const char* step, size_t line, size_t lot_index,
                           const sku_id& sku, const lot_allocation& lot,
                           int64_t quantity) {
  stock_change c;
  c.sku = sku;
  c.quantity = quantity;
  c.lot = lot.lot;
  c.expires_at = lot.expires_at;
  c.source = return_source;
  c.seller = rec.seller;
  c.note = rec.id;
  c.return_id = r.id;
  c.event_id = "ret:" + rec.id + ":" + r.id + ":" + step + ":" +
               std::to_string(line) + ":" + std::to_string(lot_index);
  return c;
}

std::optional<size_t> find_return(const order_record& rec,
                                  const std::string& id) {
  for (size_t i = 0; i < rec.returns.size(); ++i)
    if (rec.returns[i].id == id)
      return i;
  return std::nullopt;
}

planned<return_plan> request_return(const order_record& rec,
                                    const return_command& cmd,
                                    const std::string& fingerprint,
                                    timestamp_ms now,
                                    std::chrono::milliseconds window) {
  return_plan result;
  if (!cmd.client_key.empty())
    for (auto& r : rec.returns)
      if (r.client_key == cmd.client_key) {
        if (r.fingerprint != fingerprint)
          return problem{
              errc::idempotency_key_reused,
              "the idempotency key asked for another return",
              nlohmann::json{{"idempotencyKey", cmd.client_key}}.dump()};
        result.answered = true;
        return result;
      }
  if (rec.status != order_status::delivered) {
    nlohmann::json details{{"status", to_string(rec.status)},
                           {"command", "return"}};
    return problem{errc::invalid_transition,
                   std::string{"only a DELIVERED order can be returned, not "
                               "one in state "} +
                       to_string(rec.status),
                   details.dump()};
  }
  auto delivered = delivered_at(rec);
  auto closes = delivered + window.count();
  if (now > closes) {
    nlohmann::json details{{"deliveredAt", delivered}, {"closedAt", closes}};
    return problem{errc::return_window_closed,
                   "the return window closed " +
                       std::to_string((now - closes) / 1000) + " s ago",
                   details.dump()};
  }
  if (cmd.lines.empty())
    return field_problem("lines",
                         "lines must name at least one line to return");
  // Each return stays in the order's record: a customer returning one unit
  // at a time must not grow it without bound.
  if (rec.returns.size() >= max_returns_per_order)
    return field_problem("lines", "an order takes at most " +
                                      std::to_string(max_returns_per_order) +
                                      " returns");
  auto returnable = [&rec](const order_line& line) {
    return line.shipped_quantity - returned_quantity(rec, line.sku);
  };
  // Checked per line as a cancel is; the bound is what can still be
  // returned.
  std::vector<int64_t> left(rec.lines.size());
  for (size_t i = 0; i < rec.lines.size(); ++i)
    left[i] = returnable(rec.lines[i]);
  order_return r;
  r.id = "ret_" + std::to_string(rec.returns.size() + 1);
  r.created_at = now;
  r.updated_at = now;
  r.client_key = cmd.client_key;
  r.fingerprint = fingerprint;
  std::unordered_set<std::string> seen;
  for (size_t j = 0; j < cmd.lines.size(); ++j) {
    auto& item = cmd.lines[j];
    auto field = "lines[" + std::to_string(j) + "]";
    auto it =
        std::find_if(rec.lines.begin(), rec.lines.end(),
                     [&](const order_line& l) { return l.sku == item.sku; });
    if (it == rec.lines.end())
      return field_problem(field + ".sku",
                           field + ".sku " + item.sku + " is not in the order");
    if (!seen.insert(item.sku).second)
      return field_problem(field + ".sku",
                           field + ".sku repeats SKU " + item.sku);
    auto most = left[static_cast<size_t>(it - rec.lines.begin())];
    if (item.quantity < 1 || item.quantity > most)
      return field_problem(field + ".quantity",
                           field + ".quantity must be between 1 and " +
                               std::to_string(most) +
                               " (delivered and not returned yet)");
    r.lines.push_back(return_line{item.sku, item.quantity, item.reason,
                                  returning_lots(rec, *it, item.quantity), 0,
                                  0});
  }
  result.plan = noted(rec, "return " + r.id + " requested", 0, now);
  result.plan.next.returns.push_back(std::move(r));
  return result;
}

planned<return_plan> receive_return(const order_record& rec, size_t at,
                                    timestamp_ms now) {
  auto& r = rec.returns[at];
  if (r.status != return_status::requested &&
      r.status != return_status::receiving)
    return wrong_state(r, "receive");
  return_plan result;
  for (size_t i = 0; i < r.lines.size(); ++i)
    for (size_t k = 0; k < r.lines[i].lots.size(); ++k) {
      auto& lot = r.lines[i].lots[k];
      auto c = return_change(rec, r, "receive", i, k, r.lines[i].sku, lot,
                             lot.quantity);
      c.kind = stock_change_kind::customer_return;
      result.changes.push_back(std::move(c));
    }
  auto from = rec;
  if (r.status == return_status::requested) {
    // Decided first: from here on the receipt can only be completed.
    result.intent = noted(rec, "return " + r.id + " receiving", 0, now);
    auto& ir = result.intent->next.returns[at];
    ir.status = return_status::receiving;
    ir.updated_at = now;
    from = result.intent->next;
  }
  result.plan = noted(from, "return " + r.id + " received", 0, now);
  auto& next = result.plan.next.returns[at];
  next.status = return_status::received;
  next.updated_at = now;
  return result;
}

// The stock changes of an inspection decided as `r` records it.
std::vector<stock_change> inspection_changes(const order_record& rec,
                                             const order_return& r) {
  std::vector<stock_change> changes;
  for (size_t i = 0; i < r.lines.size(); ++i) {
    auto& line = r.lines[i];
    // The first units of the line's batches are restocked, the rest are
    // set aside DAMAGED.
    auto restocked = take_allocations(line.lots, line.restocked);
    auto damaged = slice_allocations(line.lots, line.restocked, line.damaged);
    for (size_t k = 0; k < restocked.size(); ++k) {
      auto c = return_change(rec, r, "restock", i, k, line.sku, restocked[k],
                             restocked[k].quantity);
      c.kind = stock_change_kind::return_aside;
      c.reason = unallocatable_reason::quarantined;
      changes.push_back(std::move(c));
    }
    for (size_t k = 0; k < damaged.size(); ++k) {
      auto c = return_change(rec, r, "damaged", i, k, line.sku, damaged[k],
                             damaged[k].quantity);
      c.kind = stock_change_kind::reclassify;
      c.reason = unallocatable_reason::damaged;
      changes.push_back(std::move(c));
    }
  }
  return changes;
}

// Records the counts `cmd` gives every line of return `at` (RECEIVED).
std::optional<problem> record_counts(order_return& nr,
                                     const return_command& cmd) {
  std::vector<bool> done(nr.lines.size(), false);
  for (size_t j = 0; j < cmd.lines.size(); ++j) {
    auto& item = cmd.lines[j];
    auto field = "lines[" + std::to_string(j) + "]";
    auto it =
        std::find_if(nr.lines.begin(), nr.lines.end(),
                     [&](const return_line& l) { return l.sku == item.sku; });
    if (it == nr.lines.end())
      return field_problem(field + ".sku", field + ".sku " + item.sku +
                                               " is not in the return");
    auto i = static_cast<size_t>(it - nr.lines.begin());
    if (done[i])
      return field_problem(field + ".sku",
                           field + ".sku repeats SKU " + item.sku);
    done[i] = true;
    if (item.restock < 0 || item.damaged < 0 || item.restock > it->quantity ||
        item.damaged > it->quantity ||
        item.restock + item.damaged != it->quantity)
      return field_problem(field + ".restock",
                           field + ".restock + " + field + ".damaged must be " +
                               std::to_string(it->quantity) +
                               ", the units received");
    it->restocked = item.restock;
    it->damaged = item.damaged;
  }
  for (size_t i = 0; i < nr.lines.size(); ++i)
    if (!done[i])
      return field_problem("lines",
                           "lines must inspect SKU " + nr.lines[i].sku);
  return std::nullopt;
}

planned<return_plan> inspect_return(const order_record& rec, size_t at,
                                    const return_command& cmd,
                                    timestamp_ms now) {
  auto& r = rec.returns[at];
  if (r.status != return_status::received &&
      r.status != return_status::inspecting)
    return wrong_state(r, "inspect");
  return_plan result;
  auto from = rec;
  if (r.status == return_status::received) {
    // Decided first: asked again, the inspection completes as recorded.
    result.intent = noted(rec, "return " + r.id + " inspecting", 0, now);
    auto& ir = result.intent->next.returns[at];
    if (auto bad = record_counts(ir, cmd))
      return *bad;
    ir.status = return_status::inspecting;
    ir.updated_at = now;
    from = result.intent->next;
  }
  auto& decided = from.returns[at];
  money value = 0;
  for (auto& line : decided.lines) {
    auto order_line = std::find_if(
        rec.lines.begin(), rec.lines.end(),
        [&](const oms::order_line& l) { return l.sku == line.sku; });
    if (order_line == rec.lines.end())
      return problem{errc::internal, "a returned SKU is not in the order"};
    auto worth = checked_mul(line.quantity, order_line->unit_price);
    auto sum = worth ? checked_add(value, *worth) : std::nullopt;
    if (!sum)
      return problem{errc::internal, "the returned value does not fit"};
    value = *sum;
  }
  // What was paid and is not refunded or being refunded bounds a refund.
  auto owed = refund_owed(rec);
  if (value > owed || value < 1) {
    nlohmann::json details{{"returnId", r.id},
                           {"value", value},
                           {"refundable", std::max<money>(owed, 0)}};
    return problem{errc::conflict,
                   "return " + r.id + " is worth " + std::to_string(value) +
                       ", more than can still be refunded",
                   details.dump()};
  }
  result.changes = inspection_changes(rec, decided);
  result.plan = noted(from, "return " + r.id + " inspected", value, now);
  auto& next = result.plan.next;
  auto& nr = next.returns[at];
  nr.status = return_status::inspected;
  nr.updated_at = now;
  nr.refund_amount = value;
  auto refunds = next.payments.size();
  owe_refund(next, value, "return " + nr.id, now);
  if (next.payments.size() != refunds + 1)
    return problem{errc::internal, "the return's refund was not owed"};
  nr.refund_key = next.payments.back().gateway_key;
  return result;
}

planned<return_plan> reject_return(const order_record& rec, size_t at,
                                   const std::string& reason,
                                   timestamp_ms now) {
  auto& r = rec.returns[at];
  if (r.status != return_status::requested)
    return wrong_state(r, "reject");
  return_plan result;
  result.plan = noted(rec, "return " + r.id + " rejected", 0, now);
  auto& nr = result.plan.next.returns[at];
  nr.status = return_status::rejected;
  nr.updated_at = now;
  nr.reject_reason = reason;
  return result;
}

} // namespace

planned<return_plan> plan_return(const order_record& rec,
                                 const return_command& cmd,
                                 const std::string& fingerprint,
                                 timestamp_ms now,
                                 std::chrono::milliseconds window) {
  if (cmd.step == return_step::request)
    return request_return(rec, cmd, fingerprint, now, window);
  auto at = find_return(rec, cmd.return_id);
  if (!at)
    return problem{errc::not_found,
                   "order " + rec.id + " has no return " + cmd.return_id,
                   nlohmann::json{{"returnId", cmd.return_id}}.dump()};
  switch (cmd.step) {
    case return_step::receive:
      return receive_return(rec, *at, now);
    case return_step::inspect:
      return inspect_return(rec, *at, cmd, now);
    case return_step::reject:
      return reject_return(rec, *at, cmd.reason, now);
    default:
      return problem{errc::internal, "unknown return step"};
  }
}

} // namespace oms
