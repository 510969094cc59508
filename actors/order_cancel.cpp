// The ORDER actor's cancellation, whole (by the customer or by the hold's
// expiry) or of some lines, and the refunds it owes: journal the change with
// a PENDING refund, release the units, ask the gateway, journal the outcome;
// unanswered refunds are asked again on a timer until they settle.
#include "actors/order_machine.hpp"
#include "actors/order_steps.hpp"
#include "messages/type_ids.hpp"
#include "system/log.hpp"

namespace oms::order_flow {

namespace {

// Refunds what is owed, then answers with the order (and ends it if it is
// terminal and owes nothing more).
std::function<void()> refund_then_reply(order_ptr self, record_callback done) {
  return [self, done] {
    process_refunds(self, [self, done] { reply_record(self, done); });
  };
}

// Cancels the whole order now that no charge is pending.
void cancel_settled(order_ptr self, command_kind cmd, const std::string& reason,
                    record_callback done) {
  auto& rec = self->state.record;
  if (cmd == command_kind::expire && rec.status != order_status::created) {
    // The lost payment went through: the order is PAID, nothing expires.
    done(rec);
    return;
  }
  auto plan = plan_cancel(rec, cmd, reason, now(self));
  if (!plan) {
    done(to_error(plan.refusal()));
    return;
  }
  carry_out(self, std::move(*plan),
            or_fail(done, refund_then_reply(self, done)));
}

void schedule_refund_retry(order_ptr self) {
  auto& st = self->state;
  if (st.refund_retry_scheduled)
    return;
  st.refund_retry_scheduled = true;
  auto& cfg = st.ctx->settings;
  auto delay = refund_retry_delay(st.refund_retries, cfg.refund_retry_interval,
                                  cfg.refund_retry_interval_max);
  ++st.refund_retries;
  self->delayed_send(handle_of(self), delay, atom::retry_v);
}

// Journals the gateway's answer to the refund `key`, then goes on with the
// next pending refund; with no answer (or no journal) asks again later.
void on_refund_answer(order_ptr self, const std::string& key,
                      const gateway_result& res, std::function<void()> then) {
  auto later = [self, then] {
    schedule_refund_retry(self);
    then();
  };
  auto plan = plan_refund_outcome(self->state.record, key, res, now(self));
  if (!plan) {
    later();
    return;
  }
  if (res.status != gateway_status::approved)
    log::error("order.refund_refused", {{"order", self->state.record.id},
                                        {"key", key},
                                        {"reason", res.reason}});
  carry_out(self, std::move(*plan), [self, then, later](caf::error err) {
    if (err)
      later();
    else
      process_refunds(self, then); // the next pending refund, if any
  });
}

} // namespace

void cancel_all(order_ptr self, command_kind cmd, std::string reason,
                record_callback done) {
  if (auto refusal = check_transition(self->state.record, cmd)) {
    done(to_error(*refusal));
    return;
  }
  settle_pending_charge_then(self, done,
                             [=] { cancel_settled(self, cmd, reason, done); });
}

void cancel_lines(order_ptr self, cancel_lines_command cmd,
                  record_callback done) {
  auto checked = check_line_cancel(self->state.record, cmd.lines);
  if (!checked) {
    done(to_error(checked.refusal()));
    return;
  }
  if (checked->everything) {
    cancel_all(self, command_kind::cancel, std::move(cmd.reason),
               std::move(done));
    return;
  }
  auto quantities = std::move(checked->quantities);
  settle_pending_charge_then(self, done, [=] {
    auto plan = plan_partial_cancel(self->state.record, quantities, cmd.reason,
                                    now(self));
    if (!plan) {
      done(to_error(plan.refusal()));
      return;
    }
    carry_out(self, std::move(*plan),
              or_fail(done, refund_then_reply(self, done)));
  });
}

void process_refunds(order_ptr self, std::function<void()> then) {
  auto call = next_refund(self->state.record);
  if (!call) {
    self->state.refund_retries = 0;
    then();
    return;
  }
  auto key = call->key;
  self->request(self->state.ctx->payments, caf::infinite, atom::refund_v,
                call->key, call->charge_reference, call->amount)
      .await(
          [=](gateway_result& res) { on_refund_answer(self, key, res, then); },
          [=](caf::error&) {
            schedule_refund_retry(self);
            then();
          });
}

} // namespace oms::order_flow
