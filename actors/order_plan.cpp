// The ORDER actor's plans for creation and for the transitions that move no
// money; the building blocks every plan shares.
#include "actors/order_plan.hpp"

#include <caf/sec.hpp>

#include <algorithm>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "actors/order_machine.hpp"

namespace oms {

order_record moved(const order_record& rec, order_status to, std::string reason,
                   money amount, timestamp_ms now) {
  auto next = rec;
  next.history.push_back(
      history_entry{now, next.status, to, std::move(reason), amount});
  next.status = to;
  next.updated_at = now;
  if (to != order_status::created)
    next.hold_expires_at = 0;
  return next;
}

std::vector<size_t> held_lines(const order_record& rec) {
  std::vector<size_t> result;
  for (size_t i = 0; i < rec.lines.size(); ++i)
    if (held_quantity(rec, rec.lines[i]) > 0)
      result.push_back(i);
  return result;
}

event stock_event(event_kind kind, timestamp_ms at, const sku_id& sku,
                  const order_id& order, int64_t quantity) {
  event ev;
  ev.kind = kind;
  ev.at = at;
  ev.sku = sku;
  ev.order = order;
  ev.quantity = quantity;
  return ev;
}

event order_event(event_kind kind, const order_record& snapshot) {
  event ev;
  ev.kind = kind;
  ev.at = snapshot.updated_at;
  ev.order = snapshot.id;
  ev.amount = snapshot.total_amount;
  ev.snapshot = snapshot;
  return ev;
}

std::optional<size_t> find_payment(const order_record& rec,
                                   const std::string& key) {
  for (size_t i = 0; i < rec.payments.size(); ++i)
    if (rec.payments[i].gateway_key == key)
      return i;
  return std::nullopt;
}

std::string next_gateway_key(const order_record& rec, payment_kind kind) {
  auto n =
      std::count_if(rec.payments.begin(), rec.payments.end(),
                    [kind](const payment_record& p) { return p.kind == kind; });
  return rec.id + (kind == payment_kind::charge ? ":charge:" : ":refund:") +
         std::to_string(n + 1);
}

planned<std::vector<int64_t>>
quantities_per_line(const order_record& rec,
                    const std::vector<order_item>& lines,
                    int64_t (*left)(const order_line&)) {
  // Every line is validated before anything is decided.
  std::vector<int64_t> result(rec.lines.size(), 0);
  std::unordered_set<std::string> seen;
  for (size_t j = 0; j < lines.size(); ++j) {
    auto& item = lines[j];
    auto field = "lines[" + std::to_string(j) + "]";
    auto invalid = [&](std::string what, std::string message) {
      return problem{errc::validation_failed, field + what + " " + message,
                     field_details(field + what)};
    };
    auto it =
        std::find_if(rec.lines.begin(), rec.lines.end(),
                     [&](const order_line& l) { return l.sku == item.sku; });
    if (it == rec.lines.end())
      return invalid(".sku", item.sku + " is not in the order");
    if (!seen.insert(item.sku).second)
      return invalid(".sku", "repeats SKU " + item.sku);
    auto most = left(*it);
    if (most < 1)
      return invalid(".sku", item.sku + " has no unit left");
    if (item.quantity < 1 || item.quantity > most)
      return invalid(".quantity",
                     "must be between 1 and " + std::to_string(most));
    result[static_cast<size_t>(it - rec.lines.begin())] = item.quantity;
  }
  return result;
}

// -- creation -----------------------------------------------------------------

planned<order_record> plan_new_order(const order_record& current,
                                     const create_order_request& req,
                                     size_t sku_count) {
  if (!current.customer.empty() || req.items.empty() ||
      sku_count != req.items.size())
    return problem{errc::internal, "create sent twice or malformed"};
  auto rec = current;
  rec.customer = req.customer;
  rec.seller = req.items.front().seller;
  rec.ship_to = req.ship_to;
  rec.status = order_status::created;
  rec.idempotency_key = req.idempotency_key;
  rec.request_fingerprint = req.fingerprint;
  rec.lines.reserve(req.items.size());
  for (auto& item : req.items)
    rec.lines.push_back(order_line{item.sku, item.quantity, 0, 0, 0, {}});
  return rec;
}

problem reservation_failure(const caf::error& err) {
  if (err == caf::sec::request_receiver_down)
    return problem{errc::unavailable,
                   "a SKU's actor stopped before it answered (its shard "
                   "moved, or it is restarting); nothing was ordered: retry"};
  return problem{code_of(err), message_of(err), details_of(err)};
}

namespace {

// Why a creation with a line short or a SKU actor failed is refused.
problem
creation_refusal(const order_record& requested,
                 const std::vector<std::optional<reserve_reply>>& replies,
                 const std::optional<problem>& sku_failure) {
  nlohmann::json short_skus = nlohmann::json::array();
  bool broken = false;
  for (size_t i = 0; i < replies.size(); ++i) {
    if (!replies[i])
      broken = true;
    else if (!replies[i]->granted)
      short_skus.push_back({{"sku", requested.lines[i].sku},
                            {"requested", requested.lines[i].quantity},
                            {"available", replies[i]->available}});
  }
  if (broken) {
    if (sku_failure && sku_failure->code != errc::internal &&
        sku_failure->code != errc::none)
      return *sku_failure;
    return problem{errc::internal, "a SKU actor did not answer"};
  }
  nlohmann::json details{{"skus", short_skus}};
  return problem{errc::insufficient_stock,
                 "not enough stock for " + std::to_string(short_skus.size()) +
                     " SKU(s)",
                 details.dump()};
}

// Why an order whose total does not fit in `money` is refused.
problem total_refusal(const order_record& priced) {
  nlohmann::json details{{"field", "items"}};
  return problem{errc::validation_failed,
                 "the order's total of " + std::to_string(priced.lines.size()) +
                     " line(s) is too large to be charged: order fewer units",
                 details.dump()};
}

} // namespace

create_outcome
plan_create(const order_record& requested,
            const std::vector<std::optional<reserve_reply>>& replies,
            const std::optional<problem>& sku_failure, timestamp_ms now,
            std::chrono::milliseconds hold_ttl) {
  create_outcome result;
  auto& plan = result.plan;
  plan.next = requested;
  bool all_granted = replies.size() == requested.lines.size();
  for (size_t i = 0; i < replies.size(); ++i) {
    if (replies[i] && replies[i]->granted)
      plan.lines.push_back(i);
    else
      all_granted = false;
  }
  if (!all_granted) {
    // Give back what was granted before answering: the order never existed.
    result.refused = creation_refusal(requested, replies, sku_failure);
    plan.op = sku_op::release;
    return result;
  }
  // Every line is held: price it.
  auto& rec = plan.next;
  for (size_t i = 0; i < replies.size(); ++i) {
    rec.lines[i].unit_price = replies[i]->unit_price;
    rec.lines[i].lots = replies[i]->lots;
  }
  auto total = order_total(rec.lines);
  if (!total) {
    // The limits keep totals in range (check_money_bounds); should a price
    // or quantity be above them anyway, the order is refused, not wrapped.
    result.refused = total_refusal(rec);
    plan.op = sku_op::release;
    return result;
  }
  rec.total_amount = *total;
  rec.created_at = now;
  rec.updated_at = now;
  rec.hold_expires_at = now + hold_ttl.count();
  rec.history.push_back(history_entry{now, order_status::created,
                                      order_status::created, "created",
                                      rec.total_amount});
  rec.version = 1;
  plan.events.reserve(rec.lines.size() + 1);
  plan.events.push_back(order_event(event_kind::order_created, rec));
  for (auto& line : rec.lines) {
    plan.events.push_back(stock_event(event_kind::stock_reserved, now, line.sku,
                                      rec.id, line.quantity));
    plan.events.back().lots = line.lots;
    plan.events.back().seller = rec.seller;
  }
  // The SKU actors hold the units already: nothing to tell them.
  plan.lines.clear();
  return result;
}

// -- transitions without money ------------------------------------------------

void follow_holds(order_plan& plan, const order_record& from, event_kind kind,
                  sku_op op) {
  plan.op = op;
  plan.lines = held_lines(from);
  for (auto i : plan.lines)
    plan.events.push_back(stock_event(kind, plan.next.updated_at,
                                      from.lines[i].sku, from.id,
                                      held_quantity(from, from.lines[i])));
}

planned<order_plan> plan_transition(const order_record& rec, command_kind cmd,
                                    timestamp_ms now) {
  if (cmd != command_kind::confirm && cmd != command_kind::ship &&
      cmd != command_kind::deliver)
    return problem{errc::internal, std::string{to_string(cmd)} +
                                       " is not a transition without money"};
  if (auto refusal = check_transition(rec, cmd))
    return *refusal;
  if (cmd == command_kind::ship) {
    std::vector<int64_t> everything;
    for (auto& line : rec.lines)
      everything.push_back(unshipped_quantity(line));
    return plan_shipment(rec, everything, {}, now);
  }
  auto to = *next_status(rec.status, cmd);
  order_plan plan;
  plan.next = moved(rec, to, to_string(cmd), 0, now);
  if (held_as(rec.status) == hold_kind::reserved &&
      held_as(to) == hold_kind::blocked) {
    follow_holds(plan, rec, event_kind::stock_blocked, sku_op::block);
  }
  return plan;
}

} // namespace oms
