// The ORDER actor's transitions that move no money: confirm (reserved units
// become blocked), ship (blocked units are consumed, all or some lines),
// deliver. Write ahead: journal the change, then tell the SKU actors, then
// reply.
#include "actors/fingerprint.hpp"
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

// The fingerprint of a shipment request: its lines, carrier and tracking.
std::string shipment_fingerprint(const ship_command& cmd) {
  std::string text = "ship|";
  auto field = [&](const std::string& x) {
    text += std::to_string(x.size()) + ":" + x + "|";
  };
  for (auto& line : cmd.lines) {
    field(line.sku);
    text += std::to_string(line.quantity) + "|";
  }
  text += "|";
  field(cmd.carrier);
  field(cmd.tracking_number);
  return fingerprint_of(text);
}

} // namespace

void ship(order_ptr self, ship_command cmd, record_callback done) {
  auto fingerprint =
      cmd.client_key.empty() ? std::string{} : shipment_fingerprint(cmd);
  auto& rec = self->state.record;
  auto checked = check_shipment(rec, cmd.lines, cmd.client_key, fingerprint);
  if (!checked) {
    done(to_error(checked.refusal()));
    return;
  }
  if (checked->answered) {
    reply_record(self, done);
    return;
  }
  auto plan = plan_shipment(
      rec, checked->quantities,
      shipment_request{std::move(cmd.carrier), std::move(cmd.tracking_number),
                       std::move(cmd.client_key), std::move(fingerprint)},
      now(self));
  if (!plan) {
    done(to_error(plan.refusal()));
    return;
  }
  carry_out(self, std::move(*plan), or_fail(done, [self, done] {
              log::debug("order.shipped",
                         {{"order", self->state.record.id},
                          {"status", to_string(self->state.record.status)}});
              reply_record(self, done);
            }));
}

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
