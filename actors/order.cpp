#include "actors/order.hpp"

#include <algorithm>
#include <functional>
#include <memory>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "actors/order_machine.hpp"
#include "messages/type_ids.hpp"
#include "system/log.hpp"

namespace oms {

namespace {

using order_ptr = order_actor::stateful_pointer<order_state>;
using record_callback = std::function<void(caf::expected<order_record>)>;
/// Continuation of a step: an empty error means it succeeded.
using step_done = std::function<void(caf::error)>;

timestamp_ms now(order_ptr self) {
  return self->state.ctx->now(self->clock());
}

order_actor handle_of(order_ptr self) {
  return caf::actor_cast<order_actor>(self);
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

caf::error durability_error(const caf::error& err) {
  return make_error(errc::store_failure,
                    "the change could not be made durable: " + message_of(err));
}

// -- steps shared by all flows ------------------------------------------------

// Journals the stock `events` and the order's `next` record as one append;
// once durable, `next` becomes the order's record. Waits (handles nothing
// else) until the journal answers.
void commit(order_ptr self, order_record next, std::vector<event> events,
            step_done then) {
  for (auto& ev : events)
    ev.seller = next.seller;
  events.push_back(order_event(event_kind::order_changed, next));
  self->request(self->state.ctx->journal, caf::infinite, atom::append_v,
                std::move(events))
      .await(
          [=](uint64_t) mutable {
            self->state.record = std::move(next);
            then(caf::error{});
          },
          [=](caf::error& err) { then(durability_error(err)); });
}

// Sends one request per selected line to its SKU actor and waits for all of
// them. `send` issues the request for line i and returns its handle; `done`
// runs once every reply is in, with the number of failed requests.
template <class Send>
void for_lines(order_ptr self, const std::vector<size_t>& lines, Send send,
               std::function<void(size_t failures)> done) {
  if (lines.empty()) {
    done(0);
    return;
  }
  struct fan_in {
    size_t outstanding;
    size_t failures;
    std::function<void(size_t)> done;
  };
  auto acc = std::make_shared<fan_in>(fan_in{lines.size(), 0, std::move(done)});
  auto arrive = [acc](bool ok) {
    if (!ok)
      ++acc->failures;
    if (--acc->outstanding == 0)
      acc->done(acc->failures);
  };
  for (auto i : lines) {
    const auto& sku = self->state.record.lines[i].sku;
    send(i).await([arrive](int64_t) { arrive(true); },
                  [arrive, self, sku](caf::error& err) {
                    log::error("order.sku_request_failed",
                               {{"order", self->state.record.id},
                                {"sku", sku},
                                {"error", describe(err)}});
                    arrive(false);
                  });
  }
}

// Lines whose units the order holds now.
std::vector<size_t> held_lines(const order_record& rec) {
  std::vector<size_t> result;
  for (size_t i = 0; i < rec.lines.size(); ++i)
    if (held_quantity(rec, rec.lines[i]) > 0)
      result.push_back(i);
  return result;
}

enum class sku_op { block, consume, release, reduce };

// Tells the SKU actors of `lines` to follow the order's (already journaled)
// record. reduce shrinks each hold to what the record holds now.
void follow_at_skus(order_ptr self, sku_op op, std::vector<size_t> lines,
                    std::function<void()> then) {
  auto id = self->state.record.id;
  for_lines(
      self, lines,
      [=](size_t i) {
        auto& sku = self->state.skus[i];
        switch (op) {
          case sku_op::block:
            return self->request(sku, caf::infinite, atom::block_v, id);
          case sku_op::consume:
            return self->request(sku, caf::infinite, atom::consume_v, id);
          case sku_op::reduce: {
            auto& rec = self->state.record;
            return self->request(sku, caf::infinite, atom::reduce_v, id,
                                 held_quantity(rec, rec.lines[i]));
          }
          default:
            return self->request(sku, caf::infinite, atom::release_v, id);
        }
      },
      [=](size_t failures) {
        if (failures > 0)
          log::error("order.stock_diverged",
                     {{"order", id}, {"failed_skus", uint64_t{failures}}});
        then();
      });
}

void arm_hold_timer(order_ptr self) {
  auto& st = self->state;
  auto left = std::chrono::milliseconds{st.record.hold_expires_at - now(self)};
  if (left.count() <= 0) {
    // Expired already (e.g. while the system was down): now, not later.
    self->send(handle_of(self), atom::expire_v, ++st.generation);
    return;
  }
  self->delayed_send(handle_of(self), left, atom::expire_v, ++st.generation);
}

bool has_pending_payments(const order_record& rec) {
  return pending_payment(rec, payment_kind::charge) != nullptr ||
         pending_payment(rec, payment_kind::refund) != nullptr;
}

// Ends the actor once its order is terminal and owes nothing: the SUPERVISOR
// keeps the record.
void finish_if_terminal(order_ptr self) {
  auto& rec = self->state.record;
  if (!is_terminal(rec.status) || has_pending_payments(rec))
    return;
  self->send(self->state.supervisor, atom::archive_v, rec);
  self->quit();
}

// The record as it will be after moving to `to` for `reason`.
order_record moved(order_ptr self, order_status to, std::string reason,
                   money amount) {
  auto next = self->state.record;
  auto at = now(self);
  next.history.push_back(
      history_entry{at, next.status, to, std::move(reason), amount});
  next.status = to;
  next.updated_at = at;
  if (to != order_status::created)
    next.hold_expires_at = 0;
  return next;
}

payment_record* find_payment(order_record& rec, const std::string& key) {
  for (auto& p : rec.payments)
    if (p.gateway_key == key)
      return &p;
  return nullptr;
}

std::string next_gateway_key(const order_record& rec, payment_kind kind) {
  auto n =
      std::count_if(rec.payments.begin(), rec.payments.end(),
                    [kind](const payment_record& p) { return p.kind == kind; });
  return rec.id + (kind == payment_kind::charge ? ":charge:" : ":refund:") +
         std::to_string(n + 1);
}

// Adds a PENDING refund of `amount` to `next` (nothing if amount <= 0).
void add_refund(order_ptr self, order_record& next, money amount,
                std::string reason) {
  if (amount <= 0)
    return;
  payment_record refund;
  refund.kind = payment_kind::refund;
  refund.gateway_key = next_gateway_key(next, payment_kind::refund);
  refund.amount = amount;
  refund.reason = std::move(reason);
  refund.at = now(self);
  next.payments.push_back(std::move(refund));
}

// -- creation -----------------------------------------------------------------

void finish_create(order_ptr self,
                   std::vector<std::optional<reserve_reply>> replies,
                   caf::typed_response_promise<created_order> rp) {
  auto& st = self->state;
  auto& rec = st.record;
  std::vector<size_t> granted;
  nlohmann::json short_skus = nlohmann::json::array();
  bool broken = false;
  for (size_t i = 0; i < replies.size(); ++i) {
    if (!replies[i]) {
      broken = true;
    } else if (replies[i]->granted) {
      granted.push_back(i);
    } else {
      short_skus.push_back({{"sku", rec.lines[i].sku},
                            {"requested", rec.lines[i].quantity},
                            {"available", replies[i]->available}});
    }
  }
  if (broken || !short_skus.empty()) {
    // Give back what was granted before answering, then vanish: the order
    // never existed.
    caf::error err;
    if (broken) {
      auto& first = st.reserve_error;
      if (code_of(first) != errc::internal && code_of(first) != errc::none)
        err = first;
      else
        err = make_error(errc::internal, "a SKU actor did not answer");
    } else {
      nlohmann::json details{{"skus", short_skus}};
      err = make_error(errc::insufficient_stock,
                       "not enough stock for " +
                           std::to_string(short_skus.size()) + " SKU(s)",
                       details.dump());
    }
    follow_at_skus(self, sku_op::release, granted, [=]() mutable {
      rp.deliver(err);
      self->quit();
    });
    return;
  }
  // Every line is held: price it and make it durable.
  auto at = now(self);
  for (size_t i = 0; i < replies.size(); ++i) {
    rec.lines[i].unit_price = replies[i]->unit_price;
    rec.lines[i].lots = replies[i]->lots;
  }
  rec.total_amount = order_total(rec.lines);
  rec.created_at = at;
  rec.updated_at = at;
  rec.hold_expires_at = at + st.ctx->settings.hold_ttl.count();
  rec.history.push_back(history_entry{at, order_status::created,
                                      order_status::created, "created",
                                      rec.total_amount});
  std::vector<event> events;
  events.reserve(rec.lines.size() + 1);
  events.push_back(order_event(event_kind::order_created, rec));
  for (auto& line : rec.lines) {
    events.push_back(stock_event(event_kind::stock_reserved, at, line.sku,
                                 rec.id, line.quantity));
    events.back().lots = line.lots;
    events.back().seller = rec.seller;
  }
  self->request(st.ctx->journal, caf::infinite, atom::append_v,
                std::move(events))
      .await(
          [=](uint64_t) mutable {
            arm_hold_timer(self);
            log::debug("order.created",
                       {{"order", self->state.record.id},
                        {"total", self->state.record.total_amount}});
            rp.deliver(created_order{self->state.record, handle_of(self)});
          },
          [=](caf::error& err) mutable {
            auto failure = durability_error(err);
            follow_at_skus(self, sku_op::release,
                           held_lines(self->state.record), [=]() mutable {
                             rp.deliver(failure);
                             self->quit();
                           });
          });
}

caf::result<created_order> start_create(order_ptr self,
                                        create_order_request& req,
                                        std::vector<inventory_actor>& skus) {
  auto& st = self->state;
  auto& rec = st.record;
  if (!rec.customer.empty() || skus.size() != req.items.size())
    return make_error(errc::internal, "create sent twice or malformed");
  rec.customer = req.customer;
  rec.seller = req.items.front().seller;
  rec.ship_to = req.ship_to;
  rec.status = order_status::created;
  rec.idempotency_key = req.idempotency_key;
  rec.request_fingerprint = req.fingerprint;
  rec.lines.reserve(req.items.size());
  for (auto& item : req.items)
    rec.lines.push_back(order_line{item.sku, item.quantity, 0, 0, 0, {}});
  st.skus = std::move(skus);
  auto rp = self->make_response_promise<created_order>();
  auto n = req.items.size();
  struct fan_in {
    size_t outstanding;
    std::vector<std::optional<reserve_reply>> replies;
  };
  auto acc = std::make_shared<fan_in>(fan_in{n, decltype(fan_in::replies)(n)});
  auto arrive = [=]() {
    if (--acc->outstanding == 0)
      finish_create(self, std::move(acc->replies), rp);
  };
  for (size_t i = 0; i < n; ++i)
    self->request(st.skus[i], caf::infinite, atom::reserve_v, rec.id,
                  rec.lines[i].quantity)
        .await(
            [=](reserve_reply& reply) {
              acc->replies[i] = reply;
              arrive();
            },
            [=](caf::error& err) {
              if (!self->state.reserve_error)
                self->state.reserve_error = err;
              log::error("order.reserve_failed",
                         {{"order", self->state.record.id},
                          {"sku", self->state.record.lines[i].sku},
                          {"error", describe(err)}});
              arrive();
            });
  return rp;
}

// -- errors -------------------------------------------------------------------

caf::error transition_error(const order_record& rec, command_kind cmd,
                            errc code) {
  nlohmann::json details{{"status", to_string(rec.status)},
                         {"command", to_string(cmd)}};
  if (code == errc::order_expired)
    return make_error(code, "the order's hold expired and it was cancelled",
                      details.dump());
  return make_error(code,
                    std::string{"cannot "} + to_string(cmd) +
                        " an order in state " + to_string(rec.status),
                    details.dump());
}

caf::error outcome_unknown() {
  return make_error(errc::payment_unavailable,
                    "the payment gateway has not told the outcome of an "
                    "earlier payment attempt; retry later");
}

// -- payments -----------------------------------------------------------------

// Records an approved charge and moves the order to PAID (blocking its units
// if it was CREATED).
void settle_approved_charge(order_ptr self, const std::string& key,
                            gateway_result res, step_done then) {
  auto from = self->state.record.status;
  auto next = moved(self, order_status::paid, "paid", 0);
  auto* p = find_payment(next, key);
  p->status = payment_status::succeeded;
  p->reference = res.reference;
  next.paid_amount += p->amount;
  next.payment_reference = res.reference;
  next.history.back().amount = p->amount;
  std::vector<event> events;
  auto lines = held_lines(self->state.record);
  bool block = held_as(from) == hold_kind::reserved;
  if (block)
    for (auto i : lines)
      events.push_back(stock_event(
          event_kind::stock_blocked, next.updated_at, next.lines[i].sku,
          next.id, held_quantity(self->state.record, next.lines[i])));
  commit(self, std::move(next), std::move(events), [=](caf::error err) {
    if (err) {
      then(err);
      return;
    }
    ++self->state.generation; // the order left CREATED: disarm the timer
    if (block)
      follow_at_skus(self, sku_op::block, lines, [=] { then(caf::error{}); });
    else
      then(caf::error{});
  });
}

// Records a failed charge (declined, or never received by the gateway).
void settle_failed_charge(order_ptr self, const std::string& key,
                          std::string reason, step_done then) {
  auto next = self->state.record;
  auto at = now(self);
  auto* p = find_payment(next, key);
  p->status = payment_status::failed;
  p->reason = reason;
  next.updated_at = at;
  next.history.push_back(history_entry{
      at, next.status, next.status, "PAYMENT_DECLINED: " + reason, p->amount});
  commit(self, std::move(next), {}, std::move(then));
}

enum class resolution { none, paid, failed, unknown };

// Settles a PENDING charge (one whose answer was lost) by asking the gateway
// about its key, before the order does anything else with money or stock.
void resolve_pending_charge(order_ptr self,
                            std::function<void(resolution)> then) {
  auto* pending = pending_payment(self->state.record, payment_kind::charge);
  if (!pending) {
    then(resolution::none);
    return;
  }
  auto key = pending->gateway_key;
  self->request(self->state.ctx->payments, caf::infinite, atom::lookup_v, key)
      .await(
          [=](gateway_result& res) {
            switch (res.status) {
              case gateway_status::approved:
                settle_approved_charge(self, key, res, [=](caf::error err) {
                  then(err ? resolution::unknown : resolution::paid);
                });
                break;
              case gateway_status::declined:
              case gateway_status::not_found:
                settle_failed_charge(self, key,
                                     res.status == gateway_status::declined
                                         ? res.reason
                                         : "not received by the gateway",
                                     [=](caf::error err) {
                                       then(err ? resolution::unknown
                                                : resolution::failed);
                                     });
                break;
              default:
                then(resolution::unknown);
            }
          },
          [=](caf::error&) { then(resolution::unknown); });
}

// Settles a pending charge first; if its outcome cannot be known now, the
// command is answered PAYMENT_UNAVAILABLE, else `then` goes on.
void settle_pending_charge_then(order_ptr self, record_callback done,
                                std::function<void(resolution)> then) {
  resolve_pending_charge(self, [done, then](resolution r) {
    if (r == resolution::unknown)
      done(outcome_unknown());
    else
      then(r);
  });
}

void schedule_refund_retry(order_ptr self);

// Asks the gateway for every PENDING refund and journals the outcomes.
// Unanswered refunds stay PENDING and are asked again later.
void process_refunds(order_ptr self, std::function<void()> then) {
  auto& rec = self->state.record;
  auto* pending = pending_payment(rec, payment_kind::refund);
  if (!pending) {
    self->state.refund_retries = 0;
    then();
    return;
  }
  std::string charge_ref;
  for (auto& p : rec.payments)
    if (p.kind == payment_kind::charge && p.status == payment_status::succeeded)
      charge_ref = p.reference;
  auto key = pending->gateway_key;
  auto amount = pending->amount;
  self->request(self->state.ctx->payments, caf::infinite, atom::refund_v, key,
                charge_ref, amount)
      .await(
          [=](gateway_result& res) {
            if (res.status == gateway_status::unavailable) {
              schedule_refund_retry(self);
              then();
              return;
            }
            auto next = self->state.record;
            auto* p = find_payment(next, key);
            next.updated_at = now(self);
            if (res.status == gateway_status::approved) {
              p->status = payment_status::succeeded;
              p->reference = res.reference;
              next.refunded_amount += p->amount;
            } else {
              // A refused refund needs a person: the history says so.
              p->status = payment_status::failed;
              p->reason = res.reason;
              next.history.push_back(
                  history_entry{next.updated_at, next.status, next.status,
                                "REFUND_DECLINED: " + res.reason, p->amount});
              log::error(
                  "order.refund_refused",
                  {{"order", next.id}, {"key", key}, {"reason", res.reason}});
            }
            commit(self, std::move(next), {}, [=](caf::error err) {
              if (err) {
                schedule_refund_retry(self);
                then();
                return;
              }
              process_refunds(self, then); // the next pending refund, if any
            });
          },
          [=](caf::error&) {
            schedule_refund_retry(self);
            then();
          });
}

void schedule_refund_retry(order_ptr self) {
  auto& st = self->state;
  if (st.refund_retry_scheduled)
    return;
  st.refund_retry_scheduled = true;
  auto delay = st.ctx->settings.refund_retry_interval;
  for (uint32_t i = 0; i < st.refund_retries &&
                       delay < st.ctx->settings.refund_retry_interval_max;
       ++i)
    delay *= 2;
  delay = std::min(delay, st.ctx->settings.refund_retry_interval_max);
  ++st.refund_retries;
  self->delayed_send(handle_of(self), delay, atom::retry_v);
}

// Settles an approved charge and replies the paid order (or the error).
void settle_and_reply(order_ptr self, const std::string& key,
                      const gateway_result& res, const record_callback& done) {
  settle_approved_charge(self, key, res, [=](caf::error err) {
    if (err)
      done(err);
    else
      done(self->state.record);
  });
}

// Charges `amount` under the gateway key `key` (whose PENDING record is
// already durable) and settles the outcome.
void charge_with_key(order_ptr self, std::string key, money amount,
                     std::string token, record_callback done) {
  self->request(self->state.ctx->payments, caf::infinite, atom::charge_v, key,
                amount, token)
      .await(
          [=](gateway_result& res) {
            switch (res.status) {
              case gateway_status::approved:
                settle_and_reply(self, key, res, done);
                break;
              case gateway_status::declined:
                settle_failed_charge(
                    self, key, res.reason, [=](caf::error err) {
                      if (err) {
                        done(err);
                        return;
                      }
                      nlohmann::json details{{"reason", res.reason}};
                      done(make_error(errc::payment_declined,
                                      "the payment was declined: " + res.reason,
                                      details.dump()));
                    });
                break;
              default:
                done(make_error(errc::payment_unavailable,
                                "the payment gateway did not answer; retry the "
                                "payment to recover its outcome"));
            }
          },
          [=](caf::error&) {
            done(make_error(errc::payment_unavailable,
                            "the payment service did not answer"));
          });
}

// Journals a new PENDING charge, then charges under its key.
void new_charge(order_ptr self, order_command cmd, std::string token,
                record_callback done) {
  auto next = self->state.record;
  payment_record charge;
  charge.kind = payment_kind::charge;
  charge.gateway_key = next_gateway_key(next, payment_kind::charge);
  charge.amount = cmd.amount;
  charge.at = now(self);
  charge.client_key = cmd.client_key;
  charge.fingerprint = cmd.fingerprint;
  next.payments.push_back(charge);
  next.updated_at = charge.at;
  auto key = charge.gateway_key;
  // Write ahead: the attempt is durable before the gateway hears of it.
  commit(self, std::move(next), {}, [=](caf::error err) {
    if (err) {
      done(err);
      return;
    }
    charge_with_key(self, key, cmd.amount, token, done);
  });
}

void pay(order_ptr self, order_command cmd, record_callback done) {
  auto& rec = self->state.record;
  // A retry of a pay request whose charge went through meanwhile (found by
  // a lookup on expiry, say) is answered with the order as it is.
  if (!cmd.client_key.empty())
    for (auto& p : rec.payments)
      if (p.kind == payment_kind::charge && p.client_key == cmd.client_key &&
          p.fingerprint == cmd.fingerprint &&
          p.status == payment_status::succeeded) {
        done(rec);
        return;
      }
  if (auto code = check_command(rec, command_kind::pay); code != errc::none) {
    done(transition_error(rec, command_kind::pay, code));
    return;
  }
  auto due = amount_due(rec);
  if (cmd.amount != due) {
    nlohmann::json details{{"expected", due}, {"given", cmd.amount}};
    done(
        make_error(errc::amount_mismatch,
                   "amount must equal the amount due of " + std::to_string(due),
                   details.dump()));
    return;
  }
  auto token = cmd.token.empty() ? std::string{"default"} : cmd.token;
  auto* pending = pending_payment(rec, payment_kind::charge);
  if (!pending) {
    new_charge(self, std::move(cmd), std::move(token), std::move(done));
    return;
  }
  // An earlier attempt's answer was lost: find out before charging again.
  auto key = pending->gateway_key;
  auto amount = pending->amount;
  self->request(self->state.ctx->payments, caf::infinite, atom::lookup_v, key)
      .await(
          [=](gateway_result& res) {
            switch (res.status) {
              case gateway_status::approved:
                // The earlier attempt went through: this pay is answered by it.
                settle_and_reply(self, key, res, done);
                break;
              case gateway_status::declined:
                settle_failed_charge(self, key, res.reason,
                                     [=](caf::error err) {
                                       if (err)
                                         done(err);
                                       else
                                         new_charge(self, cmd, token, done);
                                     });
                break;
              case gateway_status::not_found:
                // The gateway has no outcome for that key yet. Charging again
                // under the same key cannot charge twice, even if the first
                // request is still on its way.
                charge_with_key(self, key, amount, token, done);
                break;
              default:
                done(outcome_unknown());
            }
          },
          [=](caf::error&) { done(outcome_unknown()); });
}

// -- cancellation
// ---------------------------------------------------------------

// Cancels the whole order (customer cancel or hold expiry).
void cancel_all(order_ptr self, order_command cmd, record_callback done) {
  auto kind = cmd.kind;
  if (auto code = check_command(self->state.record, kind); code != errc::none) {
    done(transition_error(self->state.record, kind, code));
    return;
  }
  settle_pending_charge_then(self, done, [=](resolution) {
    auto& rec = self->state.record;
    if (kind == command_kind::expire && rec.status != order_status::created) {
      // The lost payment went through: the order is PAID, nothing expires.
      done(rec);
      return;
    }
    auto reason = kind == command_kind::expire ? std::string{expired_reason}
                  : cmd.reason.empty()         ? std::string{"CUSTOMER_REQUEST"}
                                               : cmd.reason;
    auto next = moved(self, order_status::cancelled, reason, 0);
    next.cancel_reason = reason;
    money owed = rec.paid_amount - rec.refunded_amount;
    for (auto& p : rec.payments)
      if (p.kind == payment_kind::refund && p.status == payment_status::pending)
        owed -= p.amount;
    add_refund(self, next, owed, "order cancelled");
    next.history.back().amount = std::max<money>(owed, 0);
    auto lines = held_lines(rec);
    std::vector<event> events;
    for (auto i : lines)
      events.push_back(stock_event(event_kind::stock_released, next.updated_at,
                                   rec.lines[i].sku, rec.id,
                                   held_quantity(rec, rec.lines[i])));
    commit(self, std::move(next), std::move(events), [=](caf::error err) {
      if (err) {
        done(err);
        return;
      }
      ++self->state.generation;
      follow_at_skus(self, sku_op::release, lines, [=] {
        process_refunds(self, [=] {
          done(self->state.record);
          finish_if_terminal(self);
        });
      });
    });
  });
}

// Cancels some units of some lines; cancelling every remaining unit cancels
// the order.
void cancel_lines(order_ptr self, order_command cmd, record_callback done) {
  auto& rec = self->state.record;
  if (auto code = check_command(rec, command_kind::cancel);
      code != errc::none) {
    done(transition_error(rec, command_kind::cancel, code));
    return;
  }
  // Validate every line before changing anything.
  std::vector<int64_t> cancel(rec.lines.size(), 0);
  std::unordered_set<std::string> seen;
  for (size_t j = 0; j < cmd.lines.size(); ++j) {
    auto& item = cmd.lines[j];
    auto field = "lines[" + std::to_string(j) + "]";
    auto it =
        std::find_if(rec.lines.begin(), rec.lines.end(),
                     [&](const order_line& l) { return l.sku == item.sku; });
    if (it == rec.lines.end()) {
      done(make_error(errc::validation_failed,
                      field + ".sku " + item.sku + " is not in the order"));
      return;
    }
    if (!seen.insert(item.sku).second) {
      done(make_error(errc::validation_failed,
                      field + ".sku repeats SKU " + item.sku));
      return;
    }
    auto remaining = it->quantity - it->cancelled_quantity;
    if (item.quantity < 1 || item.quantity > remaining) {
      done(make_error(errc::validation_failed,
                      field + ".quantity must be between 1 and " +
                          std::to_string(remaining)));
      return;
    }
    cancel[static_cast<size_t>(it - rec.lines.begin())] = item.quantity;
  }
  bool everything = true;
  for (size_t i = 0; i < rec.lines.size(); ++i)
    if (rec.lines[i].quantity - rec.lines[i].cancelled_quantity != cancel[i])
      everything = false;
  if (everything) {
    cmd.lines.clear();
    cancel_all(self, std::move(cmd), std::move(done));
    return;
  }
  // A reservation at the WMS has one quantity: it is kept or released whole.
  if (rec.seller == seller::external) {
    done(make_error(errc::validation_failed,
                    "an EXTERNAL order is cancelled whole: the seller's "
                    "warehouse cannot shrink a reservation",
                    R"({"field":"lines"})"));
    return;
  }
  settle_pending_charge_then(self, done, [=](resolution) {
    auto& rec = self->state.record;
    auto reason =
        cmd.reason.empty() ? std::string{"PARTIAL_CANCEL"} : cmd.reason;
    auto next = moved(self, rec.status, reason, 0);
    std::vector<event> events;
    std::vector<size_t> lines;
    money cancelled_value = 0;
    for (size_t i = 0; i < next.lines.size(); ++i) {
      if (cancel[i] == 0)
        continue;
      next.lines[i].cancelled_quantity += cancel[i];
      cancelled_value += cancel[i] * next.lines[i].unit_price;
      events.push_back(stock_event(event_kind::stock_released, next.updated_at,
                                   next.lines[i].sku, next.id, cancel[i]));
      lines.push_back(i);
    }
    next.total_amount = order_total(next.lines);
    next.history.back().amount = cancelled_value;
    if (next.status == order_status::paid)
      add_refund(self, next, cancelled_value, reason);
    commit(self, std::move(next), std::move(events), [=](caf::error err) {
      if (err) {
        done(err);
        return;
      }
      follow_at_skus(self, sku_op::reduce, lines, [=] {
        process_refunds(self, [=] { done(self->state.record); });
      });
    });
  });
}

// -- plain transitions
// ----------------------------------------------------------

// confirm, ship, deliver: no money moves.
void transition(order_ptr self, command_kind kind, record_callback done) {
  auto& rec = self->state.record;
  if (auto code = check_command(rec, kind); code != errc::none) {
    done(transition_error(rec, kind, code));
    return;
  }
  auto to = *next_status(rec.status, kind);
  auto next = moved(self, to, to_string(kind), 0);
  auto lines = held_lines(rec);
  std::vector<event> events;
  std::optional<sku_op> op;
  if (to == order_status::shipped) {
    op = sku_op::consume;
    for (auto i : lines) {
      auto qty = held_quantity(rec, rec.lines[i]);
      next.lines[i].shipped_quantity = qty;
      events.push_back(stock_event(event_kind::stock_consumed, next.updated_at,
                                   rec.lines[i].sku, rec.id, qty));
    }
  } else if (held_as(rec.status) == hold_kind::reserved &&
             held_as(to) == hold_kind::blocked) {
    op = sku_op::block;
    for (auto i : lines)
      events.push_back(stock_event(event_kind::stock_blocked, next.updated_at,
                                   rec.lines[i].sku, rec.id,
                                   held_quantity(rec, rec.lines[i])));
  }
  commit(self, std::move(next), std::move(events), [=](caf::error err) {
    if (err) {
      done(err);
      return;
    }
    if (to != order_status::created)
      ++self->state.generation; // disarms a pending hold timer
    auto reply = [=] {
      log::debug("order.transition",
                 {{"order", self->state.record.id}, {"status", to_string(to)}});
      done(self->state.record);
      finish_if_terminal(self);
    };
    if (op)
      follow_at_skus(self, *op, lines, reply);
    else
      reply();
  });
}

void run_command(order_ptr self, order_command cmd, record_callback done) {
  switch (cmd.kind) {
    case command_kind::pay:
      pay(self, std::move(cmd), std::move(done));
      break;
    case command_kind::cancel:
      if (cmd.lines.empty())
        cancel_all(self, std::move(cmd), std::move(done));
      else
        cancel_lines(self, std::move(cmd), std::move(done));
      break;
    case command_kind::expire:
      cancel_all(self, std::move(cmd), std::move(done));
      break;
    case command_kind::confirm:
      // A charge whose answer was lost must be settled before the order
      // leaves CREATED: confirming disarms the hold timer, which would
      // otherwise settle it.
      settle_pending_charge_then(self, done, [self, done](resolution) {
        transition(self, command_kind::confirm, done);
      });
      break;
    default:
      transition(self, cmd.kind, std::move(done));
  }
}

} // namespace

order_actor::behavior_type order(order_ptr self, order_id id, context_ptr ctx,
                                 supervisor_actor supervisor) {
  self->state.record.id = std::move(id);
  self->state.ctx = std::move(ctx);
  self->state.supervisor = std::move(supervisor);
  return {
      [=](atom::create, create_order_request& req,
          std::vector<inventory_actor>& skus) -> caf::result<created_order> {
        return start_create(self, req, skus);
      },
      [=](atom::get) { return self->state.record; },
      [=](atom::apply, order_command& cmd) -> caf::result<order_record> {
        auto& rec = self->state.record;
        if (rec.customer.empty() ||
            (!cmd.customer.empty() && cmd.customer != rec.customer))
          return make_error(errc::order_not_found, "no order " + rec.id);
        if (cmd.kind == command_kind::expire)
          return make_error(errc::validation_failed,
                            "expire is not a client command");
        auto rp = self->make_response_promise<order_record>();
        run_command(self, std::move(cmd),
                    [rp](caf::expected<order_record> res) mutable {
                      if (res)
                        rp.deliver(std::move(*res));
                      else
                        rp.deliver(res.error());
                    });
        return rp;
      },
      [=](atom::expire, uint64_t generation) {
        auto& st = self->state;
        if (generation != st.generation ||
            st.record.status != order_status::created)
          return; // a late timer for a hold that is gone
        log::info("order.expired", {{"order", st.record.id}});
        order_command cmd;
        cmd.kind = command_kind::expire;
        run_command(self, cmd,
                    [self, generation](caf::expected<order_record> res) {
                      if (res)
                        return;
                      // The journal or the gateway could not settle it: the
                      // order still holds its units. Try again shortly.
                      log::error("order.expire_failed",
                                 {{"order", self->state.record.id},
                                  {"error", describe(res.error())}});
                      self->delayed_send(
                          handle_of(self),
                          self->state.ctx->settings.expire_retry_interval,
                          atom::expire_v, generation);
                    });
      },
      [=](atom::retry) {
        self->state.refund_retry_scheduled = false;
        process_refunds(self, [=] { finish_if_terminal(self); });
      },
  };
}

order_actor::behavior_type restored_order(order_ptr self, order_record record,
                                          std::vector<inventory_actor> skus,
                                          context_ptr ctx,
                                          supervisor_actor supervisor) {
  auto id = record.id;
  self->state.record = std::move(record);
  self->state.skus = std::move(skus);
  auto behavior =
      order(self, std::move(id), std::move(ctx), std::move(supervisor));
  if (self->state.record.status == order_status::created)
    arm_hold_timer(self); // its expiry settles a pending charge
  else if (pending_payment(self->state.record, payment_kind::charge))
    resolve_pending_charge(self, [](resolution) {});
  if (pending_payment(self->state.record, payment_kind::refund))
    self->send(handle_of(self), atom::retry_v);
  return behavior;
}

} // namespace oms
