// The ORDER actor's behaviour and the steps its flows share: journal a
// plan, have the SKU actors follow it, arm the hold timer, reply, end.
#include "actors/order.hpp"

#include <algorithm>
#include <memory>

#include <caf/send.hpp>

#include "actors/hold_asker.hpp"
#include "actors/order_steps.hpp"
#include "actors/shard_map.hpp"
#include "messages/type_ids.hpp"
#include "system/log.hpp"

namespace oms {

namespace order_flow {

timestamp_ms now(order_ptr self) {
  return self->state.ctx->now(self->clock());
}

void touch(order_ptr self) {
  self->state.activity->last.store(now(self), std::memory_order_relaxed);
}

order_actor handle_of(order_ptr self) {
  return caf::actor_cast<order_actor>(self);
}

caf::error durability_error(const caf::error& err) {
  return make_error(errc::store_failure,
                    "the change could not be made durable: " + message_of(err));
}

namespace {

// Journals the stock `events` and the order's `next` record as one append;
// once durable, `next` becomes the order's record. Waits (handles nothing
// else) until the journal answers.
void commit(order_ptr self, order_record next, std::vector<event> events,
            step_done then) {
  events = own_shard_events(self, std::move(events));
  for (auto& ev : events)
    ev.seller = next.seller;
  next.version = self->state.record.version + 1;
  events.push_back(order_event(event_kind::order_changed, next));
  events.back().quantity = status_before_code(self->state.record.status);
  self->request(self->state.ctx->journal, caf::infinite, atom::append_v,
                under_epoch(std::move(events), self->state.fence))
      .await(
          [=](uint64_t) mutable {
            self->state.record = std::move(next);
            then(caf::error{});
          },
          [=](caf::error& err) { then(durability_error(err)); });
}

// The request that has the SKU actor of line `i` follow the order's record.
auto sku_request(order_ptr self, sku_op op, size_t i) {
  auto& sku = self->state.skus[i];
  auto& rec = self->state.record;
  switch (op) {
    case sku_op::block:
      return self->request(sku, caf::infinite, atom::block_v, rec.id);
    case sku_op::consume:
      return self->request(sku, caf::infinite, atom::consume_v, rec.id,
                           held_quantity(rec, rec.lines[i]));
    case sku_op::reduce:
      return self->request(sku, caf::infinite, atom::reduce_v, rec.id,
                           held_quantity(rec, rec.lines[i]));
    default:
      return self->request(sku, caf::infinite, atom::release_v, rec.id);
  }
}

// The change that has the owner of line `i`'s SKU (off the order's shard)
// follow the order's record `rec`.
hold_change owner_change(const order_record& rec, sku_op op, size_t i) {
  switch (op) {
    case sku_op::block:
      return {hold_op::block, rec.id, 0};
    case sku_op::consume:
      return {hold_op::consume, rec.id, held_quantity(rec, rec.lines[i])};
    case sku_op::reduce:
      return {hold_op::reduce, rec.id, held_quantity(rec, rec.lines[i])};
    default:
      return {hold_op::release, rec.id, 0};
  }
}

bool has_pending_payments(const order_record& rec) {
  return pending_payment(rec, payment_kind::charge) != nullptr ||
         pending_payment(rec, payment_kind::refund) != nullptr;
}

} // namespace

bool off_shard(order_ptr self, size_t i) {
  auto& off = self->state.off_shard;
  return i < off.size() && off[i];
}

bool off_shard_sku(order_ptr self, const sku_id& sku) {
  auto& lines = self->state.record.lines;
  for (size_t i = 0; i < lines.size(); ++i)
    if (lines[i].sku == sku)
      return off_shard(self, i);
  return false;
}

std::vector<event> own_shard_events(order_ptr self, std::vector<event> events) {
  auto& off = self->state.off_shard;
  if (std::find(off.begin(), off.end(), true) == off.end())
    return events;
  auto elsewhere = [&](const event& ev) {
    return !ev.sku.empty() && !is_order_event(ev.kind) &&
           off_shard_sku(self, ev.sku);
  };
  events.erase(std::remove_if(events.begin(), events.end(), elsewhere),
               events.end());
  return events;
}

void ask_owner(order_ptr self, size_t i, hold_change change,
               std::function<void(caf::expected<hold_outcome>)> done) {
  auto& st = self->state;
  auto& s = st.ctx->settings;
  // Answered within half the request timeout, so that the command that
  // asks can still answer its caller in time.
  auto asker = spawn_hold_asker(self->system(), st.supervisor,
                                st.record.lines[i].sku, std::move(change),
                                s.request_timeout / 2, s.request_timeout / 4);
  self->request(asker, caf::infinite, atom::get_v)
      .await([done](hold_outcome& out) { done(std::move(out)); },
             [done](caf::error& err) { done(std::move(err)); });
}

void owners_first(order_ptr self, sku_op op, const order_record& next,
                  const std::vector<size_t>& lines, step_done then) {
  std::vector<size_t> off;
  for (auto i : lines)
    if (off_shard(self, i))
      off.push_back(i);
  if (off.empty()) {
    then(caf::error{});
    return;
  }
  struct fan_in {
    size_t outstanding;
    caf::error first;
  };
  auto acc = std::make_shared<fan_in>(fan_in{off.size(), {}});
  for (auto i : off)
    ask_owner(self, i, owner_change(next, op, i),
              [self, acc, then, i](caf::expected<hold_outcome> out) {
                if (!out && !acc->first) {
                  auto& sku = self->state.record.lines[i].sku;
                  acc->first =
                      hold_retryable(out.error())
                          ? make_error(errc::unavailable,
                                       "the units of SKU " + sku +
                                           " are held by the owner of "
                                           "another shard, which could not "
                                           "be reached: nothing changed, ask "
                                           "again")
                          : out.error();
                }
                if (--acc->outstanding == 0)
                  then(acc->first);
              });
}

void block_off_shard(order_ptr self, const std::vector<size_t>& lines,
                     step_done then) {
  owners_first(self, sku_op::block, self->state.record, lines, std::move(then));
}

void carry_out(order_ptr self, order_plan plan, step_done then) {
  // Units held on other shards are blocked, and shipped, there before the
  // change is journaled: a confirmed or paid order's units are firm
  // wherever they are, and the owner has shipped every unit the record
  // says shipped (so a later release there never gives back a unit that
  // left); an owner that cannot do it refuses the change before anything
  // is journaled. Units given back follow the journal.
  if (plan.op == sku_op::block || plan.op == sku_op::consume) {
    auto lines = plan.lines;
    auto shared = std::make_shared<order_plan>(std::move(plan));
    owners_first(self, shared->op, shared->next, lines,
                 [self, shared, then](caf::error err) {
                   if (err) {
                     then(std::move(err));
                     return;
                   }
                   commit_and_follow(self, std::move(*shared), then, true);
                 });
    return;
  }
  commit_and_follow(self, std::move(plan), std::move(then));
}

void commit_and_follow(order_ptr self, order_plan plan, step_done then,
                       bool owners_done) {
  auto left_state = plan.next.status != self->state.record.status;
  auto op = plan.op;
  auto lines = std::move(plan.lines);
  if (owners_done)
    lines.erase(std::remove_if(lines.begin(), lines.end(),
                               [self](size_t i) { return off_shard(self, i); }),
                lines.end());
  commit(self, std::move(plan.next), std::move(plan.events),
         [=](caf::error err) {
           if (err) {
             then(std::move(err));
             return;
           }
           if (left_state)
             ++self->state.generation; // disarms a pending hold timer
           follow_at_skus(self, op, lines, [then] { then(caf::error{}); });
         });
}

step_done or_fail(record_callback done, std::function<void()> then) {
  return [done, then](caf::error err) {
    if (err)
      done(std::move(err));
    else
      then();
  };
}

namespace {

// Has the SKU actor of line `i` follow the order's record; `arrive` learns
// whether it did. A SKU whose actor is gone (it stopped and its SUPERVISOR
// restarts it from the journal) is asked for again and sent the request
// once more: every INVENTORY operation on an order is idempotent, and the
// new actor read the SKU (an EXTERNAL SKU: this order's record) as stored
// either before this change was journaled (the request applies it) or after
// (the request finds it done). While the journal is not being read yet, the
// SUPERVISOR answers UNAVAILABLE: the change is journaled already, so the
// new actor will start with it.
void follow_at_sku(order_ptr self, sku_op op, size_t i,
                   std::function<void(bool)> arrive) {
  auto id = self->state.record.id;
  auto sku = self->state.record.lines[i].sku;
  auto failed = [arrive, id, sku](const caf::error& err) {
    log::error("order.sku_request_failed",
               {{"order", id}, {"sku", sku}, {"error", describe(err)}});
    arrive(false);
  };
  auto from = self->state.record.seller;
  auto ask_again = [self, op, i, arrive, failed, id, sku, from] {
    self->request(self->state.supervisor, caf::infinite, atom::find_sku_v, sku,
                  from)
        .await(
            [self, op, i, arrive, failed](inventory_actor& handle) {
              self->state.skus[i] = handle;
              sku_request(self, op, i)
                  .await([arrive](int64_t) { arrive(true); },
                         [failed](caf::error& err) { failed(err); });
            },
            [arrive, failed, id, sku](caf::error& err) {
              if (code_of(err) != errc::unavailable) {
                failed(err);
                return;
              }
              log::info("order.sku_restarting", {{"order", id}, {"sku", sku}});
              arrive(true);
            });
  };
  if (off_shard(self, i)) {
    ask_owner(self, i, owner_change(self->state.record, op, i),
              [arrive, failed](caf::expected<hold_outcome> out) {
                if (out)
                  arrive(true);
                else
                  failed(out.error());
              });
    return;
  }
  if (!self->state.skus[i]) {
    ask_again();
    return;
  }
  sku_request(self, op, i)
      .await([arrive](int64_t) { arrive(true); },
             [ask_again, failed](caf::error& err) {
               if (err == caf::sec::request_receiver_down)
                 ask_again();
               else
                 failed(err);
             });
}

} // namespace

// Sends one request per line to its SKU actor and waits for all of them;
// a failed one is logged and counted.
void follow_at_skus(order_ptr self, sku_op op, std::vector<size_t> lines,
                    std::function<void()> then) {
  if (op == sku_op::none || lines.empty()) {
    then();
    return;
  }
  struct fan_in {
    size_t outstanding;
    size_t failures;
  };
  auto acc = std::make_shared<fan_in>(fan_in{lines.size(), 0});
  auto id = self->state.record.id;
  auto arrive = [acc, id, then](bool ok) {
    if (!ok)
      ++acc->failures;
    if (--acc->outstanding > 0)
      return;
    if (acc->failures > 0)
      log::error("order.stock_diverged",
                 {{"order", id}, {"failed_skus", uint64_t{acc->failures}}});
    then();
  };
  for (auto i : lines)
    follow_at_sku(self, op, i, arrive);
}

void arm_hold_timer(order_ptr self) {
  auto& st = self->state;
  auto left = std::chrono::milliseconds{st.record.hold_expires_at - now(self)};
  if (left.count() <= 0) {
    // Expired already (e.g. while the system was down): now, not later.
    self->send(handle_of(self), atom::expire_v, ++st.generation);
    return;
  }
  // The SUPERVISOR keeps the hold's due time and passes atom::expire back
  // by order id, and forgets it as soon as the order ends
  // (supervisor_holds.cpp): a delayed message of our own, which CAF 0.17
  // cannot take back, stayed in memory until the hold would have run out.
  self->send(st.supervisor, atom::arm_v, st.record.id, ++st.generation,
             st.record.hold_expires_at);
}

void finish_if_terminal(order_ptr self) {
  auto& rec = self->state.record;
  if (!is_terminal(rec.status) || has_pending_payments(rec))
    return;
  self->send(self->state.supervisor, atom::archive_v, rec);
  self->quit();
}

void reply_record(order_ptr self, const record_callback& done) {
  done(self->state.record);
  finish_if_terminal(self);
}

namespace {

// Runs a command for `customer` (empty: for anyone) and replies its outcome;
// another customer's order is ORDER_NOT_FOUND, as if it did not exist.
template <class Run>
caf::result<order_record> answer(order_ptr self, const customer_id& customer,
                                 uint64_t if_version, Run run) {
  touch(self);
  auto& rec = self->state.record;
  if (rec.customer.empty() || (!customer.empty() && customer != rec.customer))
    return make_error(errc::order_not_found, "no order " + rec.id);
  // Checked here, between steps, so no change can come in between.
  if (auto err = version_mismatch(rec, if_version))
    return err;
  auto rp = self->make_response_promise<order_record>();
  run(record_callback{[rp](caf::expected<order_record> res) mutable {
    if (res)
      rp.deliver(std::move(*res));
    else
      rp.deliver(res.error());
  }});
  return rp;
}

// The hold of `generation` expired: cancel the order, unless the timer is
// late for a hold that is gone. If the journal or the gateway cannot settle
// it, the order still holds its units: try again shortly.
void expire(order_ptr self, uint64_t generation) {
  auto& st = self->state;
  if (generation != st.generation || st.record.status != order_status::created)
    return;
  if (now(self) < st.record.hold_expires_at) {
    // Early (a timer armed for another actor of this order): not yet.
    arm_hold_timer(self);
    return;
  }
  log::info("order.expired", {{"order", st.record.id}});
  cancel_all(
      self, command_kind::expire, {},
      [self, generation](caf::expected<order_record> res) {
        if (res)
          return;
        log::error("order.expire_failed", {{"order", self->state.record.id},
                                           {"error", describe(res.error())}});
        self->delayed_send(handle_of(self),
                           self->state.ctx->settings.expire_retry_interval,
                           atom::expire_v, generation);
      });
}

} // namespace

// The SUPERVISOR's sweep: an order that handled nothing for the idle timeout
// and may rest tells the SUPERVISOR and ends (its record is durable: every
// change is journaled before it is applied, and no step is in flight, since
// a step in flight awaits its answers and this message waits behind them).
void rest_if_idle(order_ptr self) {
  auto& st = self->state;
  auto t = now(self);
  auto idle = st.ctx->settings.order_idle_timeout.count();
  if (idle <= 0 || t - st.activity->last.load(std::memory_order_relaxed) < idle)
    return;
  if (st.refund_retry_scheduled || !may_rest(st.record, t)) {
    // Not now: the sweep asks again after another idle timeout.
    touch(self);
    return;
  }
  self->send(st.supervisor, atom::dormant_v, st.record.id, st.record.status,
             st.record.hold_expires_at);
  self->quit();
}

} // namespace order_flow

bool may_rest(const order_record& rec, timestamp_ms now) {
  if (rec.seller != seller::internal || rec.customer.empty() ||
      rec.lines.empty() || is_terminal(rec.status))
    return false;
  if (pending_payment(rec, payment_kind::charge) != nullptr ||
      pending_payment(rec, payment_kind::refund) != nullptr)
    return false;
  return rec.status != order_status::created || now < rec.hold_expires_at;
}

using namespace order_flow;

order_actor::behavior_type order(order_ptr self, order_id id, context_ptr ctx,
                                 supervisor_actor supervisor,
                                 std::shared_ptr<order_activity> activity,
                                 int64_t fence) {
  self->state.record.id = std::move(id);
  self->state.ctx = std::move(ctx);
  self->state.supervisor = std::move(supervisor);
  self->state.activity = std::move(activity);
  self->state.fence = fence;
  touch(self);
  using done_t = record_callback;
  return {
      [=](atom::create, create_order_request& req,
          std::vector<inventory_actor>& skus) -> caf::result<created_order> {
        // Its first message: the behaviour's start has just touched it.
        return start_create(self, req, skus);
      },
      // A read is no use of the order: the audit and a SKU's restart read
      // every live order, and must not keep them from resting.
      [=](atom::get) { return self->state.record; },
      [=](confirm_command& cmd) {
        return answer(self, cmd.customer, cmd.if_version, [=](done_t done) {
          transition(self, command_kind::confirm, std::move(done));
        });
      },
      [=](pay_command& cmd) {
        return answer(self, cmd.customer, cmd.if_version,
                      [=](done_t done) { pay(self, cmd, std::move(done)); });
      },
      [=](ship_command& cmd) {
        return answer(self, cmd.customer, cmd.if_version,
                      [=](done_t done) { ship(self, cmd, std::move(done)); });
      },
      [=](deliver_command& cmd) {
        return answer(self, cmd.customer, cmd.if_version, [=](done_t done) {
          transition(self, command_kind::deliver, std::move(done));
        });
      },
      [=](cancel_command& cmd) {
        return answer(self, cmd.customer, cmd.if_version, [=](done_t done) {
          cancel_all(self, command_kind::cancel, cmd.reason, std::move(done));
        });
      },
      [=](cancel_lines_command& cmd) {
        return answer(self, cmd.customer, cmd.if_version, [=](done_t done) {
          cancel_lines(self, cmd, std::move(done));
        });
      },
      [=](return_command& cmd) -> caf::result<order_record> {
        // An order that ended (DELIVERED) has its actor for this step only:
        // it ends again once the step is answered and nothing is owed.
        auto& rec = self->state.record;
        caf::error early;
        if (rec.customer.empty() ||
            (!cmd.customer.empty() && cmd.customer != rec.customer))
          early = make_error(errc::order_not_found, "no order " + rec.id);
        else
          early = version_mismatch(rec, cmd.if_version);
        if (early) {
          auto rp = self->make_response_promise<order_record>();
          rp.deliver(std::move(early));
          finish_if_terminal(self);
          return rp;
        }
        return answer(self, cmd.customer, cmd.if_version, [=](done_t done) {
          run_return(self, cmd, [self, done](caf::expected<order_record> res) {
            done(std::move(res));
            finish_if_terminal(self);
          });
        });
      },
      [=](atom::expire, uint64_t generation) {
        touch(self);
        expire(self, generation);
      },
      [=](atom::retry) {
        touch(self);
        self->state.refund_retry_scheduled = false;
        process_refunds(self, [=] { finish_if_terminal(self); });
      },
      [=](atom::purge) { rest_if_idle(self); },
  };
}

order_actor::behavior_type
restored_order(order_ptr self, order_record record,
               std::vector<inventory_actor> skus, context_ptr ctx,
               supervisor_actor supervisor,
               std::shared_ptr<order_activity> activity, int64_t fence) {
  auto id = record.id;
  self->state.record = std::move(record);
  self->state.skus = std::move(skus);
  self->state.off_shard =
      lines_off_shard(ctx->shards.get(), self->state.record);
  auto behavior = order(self, std::move(id), std::move(ctx),
                        std::move(supervisor), std::move(activity), fence);
  if (self->state.record.status == order_status::created)
    arm_hold_timer(self); // its expiry settles a pending charge
  else if (pending_payment(self->state.record, payment_kind::charge))
    resolve_pending_charge(self, [](bool) {});
  if (pending_payment(self->state.record, payment_kind::refund))
    self->send(handle_of(self), atom::retry_v);
  return behavior;
}

} // namespace oms
