// The ORDER actor's returns: each step's stock changes go to the SKUs
// through the INBOX, each under its own event id (a step asked again
// changes the stock once), then the step is journaled with the order, and
// an inspection's refund is asked for like any other.
#include "actors/fingerprint.hpp"
#include "actors/hold_asker.hpp"
#include "actors/order_steps.hpp"
#include "messages/type_ids.hpp"
#include "system/log.hpp"

namespace oms::order_flow {

namespace {

// The fingerprint of a return request: its lines and their reasons.
std::string return_fingerprint(const return_command& cmd) {
  std::string text = "return|";
  for (auto& line : cmd.lines) {
    text += std::to_string(line.sku.size()) + ":" + line.sku + "|" +
            std::to_string(line.quantity) + "|" +
            std::to_string(line.reason.size()) + ":" + line.reason + "|";
  }
  return fingerprint_of(text);
}

// Makes `changes` from `next` on, one at a time; `then` learns the first
// that failed.
void make_changes(order_ptr self,
                  std::shared_ptr<std::vector<stock_change>> changes,
                  size_t next, step_done then) {
  if (next == changes->size()) {
    then(caf::error{});
    return;
  }
  // A line's SKU on a shard another node holds: made by that node's INBOX.
  self->request(self->state.supervisor, caf::infinite, atom::apply_v,
                (*changes)[next], true)
      .await(
          [=](inbox_result& res) {
            if (res.outcome == inbox_outcome::rejected) {
              then(make_error(res.error_code, res.error));
              return;
            }
            make_changes(self, changes, next + 1, then);
          },
          [=](caf::error& err) {
            auto& sku = (*changes)[next].sku;
            if (off_shard_sku(self, sku) && hold_retryable(err))
              // Not a refusal of this order's shard (its details would send
              // the caller to the SKU's owner, which does not serve the
              // order): the step is asked again.
              err = make_error(errc::unavailable,
                               "the units of SKU " + sku +
                                   " are kept by the owner of another "
                                   "shard, which could not be reached: "
                                   "nothing more changed, ask again");
            then(std::move(err));
          });
}

} // namespace

void run_return(order_ptr self, return_command cmd, record_callback done) {
  auto fingerprint = cmd.step == return_step::request && !cmd.client_key.empty()
                         ? return_fingerprint(cmd)
                         : std::string{};
  auto plan = plan_return(self->state.record, cmd, fingerprint, now(self),
                          self->state.ctx->settings.return_window);
  if (!plan) {
    done(to_error(plan.refusal()));
    return;
  }
  if (plan->answered) {
    done(self->state.record);
    return;
  }
  auto changes =
      std::make_shared<std::vector<stock_change>>(std::move(plan->changes));
  auto next = std::make_shared<order_plan>(std::move(plan->plan));
  auto complete = [=] {
    make_changes(self, changes, 0, [=](caf::error err) {
      if (err) {
        // The decision is durable: the step is asked again to complete it.
        log::error(
            "order.return_stock_failed",
            {{"order", self->state.record.id}, {"error", describe(err)}});
        done(std::move(err));
        return;
      }
      carry_out(self, std::move(*next), or_fail(done, [self, done] {
                  process_refunds(self,
                                  [self, done] { done(self->state.record); });
                }));
    });
  };
  if (!plan->intent) {
    complete();
    return;
  }
  carry_out(self, std::move(*plan->intent), or_fail(done, complete));
}

} // namespace oms::order_flow
