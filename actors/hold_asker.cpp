#include "actors/hold_asker.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "messages/errors.hpp"
#include "messages/type_ids.hpp"
#include "system/log.hpp"

namespace oms {

bool hold_retryable(const caf::error& err) {
  if (err.category() == caf::atom("system"))
    return true; // CAF's own: no answer in time, the receiver gone, ...
  switch (code_of(err)) {
    case errc::not_owner:
    case errc::unavailable:
    case errc::store_failure:
      return true;
    default:
      return false;
  }
}

namespace {

constexpr auto attempt_gap = std::chrono::milliseconds(100);

struct hold_asker_state {
  supervisor_actor sup;
  sku_id sku;
  hold_change change;
  std::chrono::milliseconds attempt_timeout{0};
  caf::actor_clock::time_point give_up;
  caf::response_promise rp;
  uint32_t attempts = 0;

  static inline const char* name = "hold_asker";
};

using asker_ptr = caf::stateful_actor<hold_asker_state>*;

void attempt(asker_ptr self) {
  auto& st = self->state;
  ++st.attempts;
  self->request(st.sup, st.attempt_timeout, atom::hold_v, st.sku, st.change,
                true)
      .then(
          [self](hold_outcome& out) {
            self->state.rp.deliver(std::move(out));
            self->quit();
          },
          [self](caf::error& err) {
            auto& st = self->state;
            if (hold_retryable(err) &&
                self->clock().now() + attempt_gap < st.give_up) {
              self->delayed_send(self, attempt_gap, atom::retry_v);
              return;
            }
            log::warn("order.hold_change_failed",
                      {{"order", st.change.order},
                       {"sku", st.sku},
                       {"change", to_string(st.change.op)},
                       {"attempts", uint64_t{st.attempts}},
                       {"error", describe(err)}});
            st.rp.deliver(std::move(err));
            self->quit();
          });
}

caf::behavior hold_asker(asker_ptr self, supervisor_actor sup, sku_id sku,
                         hold_change change, std::chrono::milliseconds patience,
                         std::chrono::milliseconds attempt_timeout) {
  auto& st = self->state;
  st.sup = std::move(sup);
  st.sku = std::move(sku);
  st.change = std::move(change);
  st.attempt_timeout = attempt_timeout;
  return {
      [self, patience](atom::get) {
        auto& st = self->state;
        st.rp = self->make_response_promise();
        st.give_up = self->clock().now() + patience;
        attempt(self);
        return st.rp;
      },
      [self](atom::retry) { attempt(self); },
  };
}

} // namespace

caf::actor spawn_hold_asker(caf::actor_system& sys, supervisor_actor sup,
                            sku_id sku, hold_change change,
                            std::chrono::milliseconds patience,
                            std::chrono::milliseconds attempt_timeout) {
  return sys.spawn(hold_asker, std::move(sup), std::move(sku),
                   std::move(change), patience, attempt_timeout);
}

} // namespace oms
