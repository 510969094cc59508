// The ORDER actor's creation, all or nothing: reserve every line at its SKU
// actor in parallel; if any is refused, release what the others granted and
// reply the refusal; else journal the order with its reservations, reply,
// and arm the hold timer.
#include <memory>
#include <optional>

#include <caf/send.hpp>

#include "actors/hold_asker.hpp"
#include "actors/order_steps.hpp"
#include "actors/shard_map.hpp"
#include "messages/type_ids.hpp"
#include "system/log.hpp"

namespace oms::order_flow {

namespace {

using create_promise = caf::typed_response_promise<created_order>;

// Releases `lines`, then answers `err` and ends: the order never existed.
void abandon(order_ptr self, std::vector<size_t> lines, caf::error err,
             create_promise rp) {
  follow_at_skus(self, sku_op::release, std::move(lines),
                 [self, err, rp]() mutable {
                   rp.deliver(err);
                   self->quit();
                 });
}

// The first error a SKU actor answered a reservation with, as a problem.
std::optional<problem> sku_failure(const caf::error& err) {
  if (!err)
    return std::nullopt;
  return reservation_failure(err);
}

void finish_create(order_ptr self,
                   const std::vector<std::optional<reserve_reply>>& replies,
                   create_promise rp) {
  auto& st = self->state;
  auto outcome = plan_create(st.record, replies, sku_failure(st.reserve_error),
                             now(self), st.ctx->settings.hold_ttl);
  if (outcome.refused) {
    // A line on another shard whose owner did not answer may hold units
    // all the same (the answer lost): given back too, in the background
    // (a release of nothing releases nothing; a reservation that arrives
    // after it lapses by itself).
    auto& st = self->state;
    auto& s = st.ctx->settings;
    for (size_t i = 0; i < replies.size(); ++i)
      if (!replies[i] && off_shard(self, i))
        caf::anon_send(
            spawn_hold_asker(self->system(), st.supervisor,
                             st.record.lines[i].sku,
                             hold_change{hold_op::release, st.record.id, 0},
                             s.request_timeout, s.request_timeout / 4),
            atom::get_v);
    abandon(self, std::move(outcome.plan.lines), to_error(*outcome.refused),
            rp);
    return;
  }
  st.record = std::move(outcome.plan.next);
  self->request(
          st.ctx->journal, caf::infinite, atom::append_v,
          under_epoch(own_shard_events(self, std::move(outcome.plan.events)),
                      st.fence))
      .await(
          [=](uint64_t) mutable {
            arm_hold_timer(self);
            log::debug("order.created",
                       {{"order", self->state.record.id},
                        {"total", self->state.record.total_amount}});
            rp.deliver(created_order{self->state.record, handle_of(self)});
          },
          [=](caf::error& err) {
            abandon(self, held_lines(self->state.record), durability_error(err),
                    rp);
          });
}

} // namespace

caf::result<created_order> start_create(order_ptr self,
                                        create_order_request& req,
                                        std::vector<inventory_actor>& skus) {
  auto& st = self->state;
  auto requested = plan_new_order(st.record, req, skus.size());
  if (!requested)
    return to_error(requested.refusal());
  st.record = std::move(*requested);
  st.skus = std::move(skus);
  st.off_shard = lines_off_shard(st.ctx->shards.get(), st.record);
  auto rp = self->make_response_promise<created_order>();
  auto n = st.record.lines.size();
  struct fan_in {
    size_t outstanding;
    std::vector<std::optional<reserve_reply>> replies;
  };
  auto acc = std::make_shared<fan_in>(fan_in{n, decltype(fan_in::replies)(n)});
  auto arrive = [=]() {
    if (--acc->outstanding == 0)
      finish_create(self, acc->replies, rp);
  };
  auto failed = [=](size_t i, caf::error err) {
    if (!self->state.reserve_error)
      self->state.reserve_error = err;
    log::error("order.reserve_failed",
               {{"order", self->state.record.id},
                {"sku", self->state.record.lines[i].sku},
                {"error", describe(err)}});
    arrive();
  };
  for (size_t i = 0; i < n; ++i) {
    if (off_shard(self, i)) {
      // Held by the owner of the SKU's shard, which journals it.
      ask_owner(self, i,
                hold_change{hold_op::reserve, st.record.id,
                            st.record.lines[i].quantity},
                [=](caf::expected<hold_outcome> out) {
                  if (out) {
                    acc->replies[i] = std::move(out->reserved);
                    arrive();
                    return;
                  }
                  auto err = out.error();
                  if (hold_retryable(err))
                    err = make_error(
                        errc::unavailable,
                        "SKU " + self->state.record.lines[i].sku +
                            " is on a shard whose owner could not be "
                            "reached: nothing is ordered, ask again");
                  failed(i, std::move(err));
                });
      continue;
    }
    self->request(st.skus[i], caf::infinite, atom::reserve_v, st.record.id,
                  st.record.lines[i].quantity)
        .await(
            [=](reserve_reply& reply) {
              acc->replies[i] = std::move(reply);
              arrive();
            },
            [=](caf::error& err) { failed(i, std::move(err)); });
  }
  return rp;
}

} // namespace oms::order_flow
