// The ORDER actor's transitions that move no money: confirm (reserved units
// become blocked), ship (blocked units are consumed), deliver. Write ahead:
// journal the change, then tell the SKU actors, then reply.
#include "actors/order_steps.hpp"
#include "messages/type_ids.hpp"
#include "system/log.hpp"

namespace oms::order_flow {

namespace {

void move_now(order_ptr self, command_kind cmd, record_callback done) {
  auto plan = plan_transition(self->state.record, cmd, now(self));
  if (!plan) {
    done(to_error(plan.refusal()));
    return;
  }
  carry_out(self, std::move(*plan), or_fail(done, [self, done] {
              log::debug("order.transition",
                         {{"order", self->state.record.id},
                          {"status", to_string(self->state.record.status)}});
              reply_record(self, done);
            }));
}

} // namespace

void transition(order_ptr self, command_kind cmd, record_callback done) {
  if (cmd != command_kind::confirm) {
    move_now(self, cmd, std::move(done));
    return;
  }
  // A charge whose answer was lost must be settled before the order leaves
  // CREATED: confirming disarms the hold timer, which would otherwise settle
  // it.
  settle_pending_charge_then(self, done, [=] { move_now(self, cmd, done); });
}

} // namespace oms::order_flow
