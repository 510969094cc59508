// The ORDER actor's payment: journal a PENDING charge with its gateway key
// (order id + attempt), charge, journal the outcome. A charge whose answer
// was lost stays PENDING; the next pay, cancel, confirm or expiry looks it
// up by key before anything else, so no charge is ever unknown to the order.
#include <nlohmann/json.hpp>

#include "actors/order_machine.hpp"
#include "actors/order_steps.hpp"
#include "messages/type_ids.hpp"

namespace oms::order_flow {

namespace {

caf::error outcome_unknown() {
  return make_error(errc::payment_unavailable,
                    "the payment gateway has not told the outcome of an "
                    "earlier payment attempt; retry later");
}

caf::error declined(const std::string& reason) {
  nlohmann::json details{{"reason", reason}};
  return make_error(errc::payment_declined,
                    "the payment was declined: " + reason, details.dump());
}

// Journals how the gateway settled the charge with `key` (PAID and its
// units blocked, or the charge failed).
void settle_charge(order_ptr self, const std::string& key,
                   const gateway_result& res, step_done then) {
  auto plan = plan_settle_charge(self->state.record, key, res, now(self));
  if (!plan) {
    then(outcome_unknown());
    return;
  }
  // Units on other shards were blocked before the charge was asked for
  // (pay): the gateway's answer is journaled whatever their owners say
  // now (they are told again after it, as any follower).
  commit_and_follow(self, std::move(*plan), std::move(then));
}

// Settles an approved charge and answers the pay with the order PAID.
void settle_and_reply(order_ptr self, const std::string& key,
                      const gateway_result& res, const record_callback& done) {
  settle_charge(self, key, res,
                or_fail(done, [self, done] { done(self->state.record); }));
}

void on_charge_answer(order_ptr self, const std::string& key,
                      const gateway_result& res, const record_callback& done) {
  switch (res.status) {
    case gateway_status::approved:
      settle_and_reply(self, key, res, done);
      break;
    case gateway_status::declined: {
      auto err = declined(res.reason);
      settle_charge(self, key, res, or_fail(done, [done, err] { done(err); }));
      break;
    }
    default:
      done(make_error(errc::payment_unavailable,
                      "the payment gateway did not answer; retry the "
                      "payment to recover its outcome"));
  }
}

// Charges `amount` under the gateway key `key` (whose PENDING record is
// already durable) and settles the outcome.
void charge_with_key(order_ptr self, std::string key, money amount,
                     std::string token, record_callback done) {
  self->request(self->state.ctx->payments, caf::infinite, atom::charge_v, key,
                amount, token)
      .await(
          [=](gateway_result& res) { on_charge_answer(self, key, res, done); },
          [=](caf::error&) {
            done(make_error(errc::payment_unavailable,
                            "the payment service did not answer"));
          });
}

// Journals a new PENDING charge (write ahead: the attempt is durable before
// the gateway hears of it), then charges under its key.
void new_charge(order_ptr self, const pay_command& cmd, record_callback done) {
  auto plan = plan_charge(self->state.record, cmd.amount, cmd.client_key,
                          cmd.fingerprint, now(self));
  auto key = plan.next.payments.back().gateway_key;
  carry_out(self, std::move(plan), or_fail(done, [=] {
              charge_with_key(self, key, cmd.amount, cmd.token, done);
            }));
}

// What a pay does once the gateway told what became of the earlier attempt
// `key` (of `amount`) whose answer was lost.
void on_lookup_for_pay(order_ptr self, const pay_command& cmd,
                       const std::string& key, money amount,
                       const gateway_result& res, const record_callback& done) {
  switch (res.status) {
    case gateway_status::approved:
      // The earlier attempt went through: this pay is answered by it.
      settle_and_reply(self, key, res, done);
      break;
    case gateway_status::declined:
      settle_charge(self, key, res,
                    or_fail(done, [=] { new_charge(self, cmd, done); }));
      break;
    case gateway_status::not_found:
      // The gateway has no outcome for that key yet. Charging again under
      // the same key cannot charge twice, even if the first request is
      // still on its way.
      charge_with_key(self, key, amount, cmd.token, done);
      break;
    default:
      done(outcome_unknown());
  }
}

// An earlier attempt's answer was lost: find out before charging again.
void pay_after_lookup(order_ptr self, const pay_command& cmd,
                      record_callback done) {
  auto* pending = pending_payment(self->state.record, payment_kind::charge);
  auto key = pending->gateway_key;
  auto amount = pending->amount;
  self->request(self->state.ctx->payments, caf::infinite, atom::lookup_v, key)
      .await(
          [=](gateway_result& res) {
            on_lookup_for_pay(self, cmd, key, amount, res, done);
          },
          [=](caf::error&) { done(outcome_unknown()); });
}

} // namespace

void pay(order_ptr self, pay_command cmd, record_callback done) {
  auto& rec = self->state.record;
  auto start = plan_pay(rec, cmd.amount, cmd.client_key, cmd.fingerprint);
  if (!start) {
    done(to_error(start.refusal()));
    return;
  }
  if (cmd.token.empty())
    cmd.token = "default";
  auto go = [self, cmd, done, how = *start] {
    switch (how) {
      case pay_start::answered:
        done(self->state.record);
        break;
      case pay_start::new_charge:
        new_charge(self, cmd, done);
        break;
      case pay_start::pending_charge:
        pay_after_lookup(self, cmd, done);
        break;
    }
  };
  // Units held on other shards are blocked before anything is charged
  // (the charge's approval blocks them, and must not find them gone).
  if (*start != pay_start::answered &&
      held_as(rec.status) == hold_kind::reserved) {
    block_off_shard(self, held_lines(rec), [go, done](caf::error err) {
      if (err)
        done(std::move(err));
      else
        go();
    });
    return;
  }
  go();
}

void resolve_pending_charge(order_ptr self, std::function<void(bool)> then) {
  auto* pending = pending_payment(self->state.record, payment_kind::charge);
  if (!pending) {
    then(true);
    return;
  }
  auto key = pending->gateway_key;
  auto settled = [then](caf::error err) {
    then(!err);
  };
  self->request(self->state.ctx->payments, caf::infinite, atom::lookup_v, key)
      .await(
          [=](gateway_result& res) { settle_charge(self, key, res, settled); },
          [=](caf::error&) { then(false); });
}

void settle_pending_charge_then(order_ptr self, record_callback done,
                                std::function<void()> then) {
  resolve_pending_charge(self, [done, then](bool known) {
    if (known)
      then();
    else
      done(outcome_unknown());
  });
}

} // namespace oms::order_flow
