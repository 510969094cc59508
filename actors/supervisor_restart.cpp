// The SUPERVISOR's restarts of actors that stopped on a failure: an ORDER
// actor from its record, an INTERNAL SKU's INVENTORY actor from the SKU as
// stored. The SKU's restart, step by step:
//
//   down --backoff--> settling --every live order answered--> reading
//        --journal answered--> a new actor (or, after sku_restarts_max
//        failures within the window, left stopped: UNAVAILABLE until omsd
//        restarts)
//
// Why the wait for the live orders: an order reserves at its SKUs first and
// journals the reservations after (order_create.cpp), so the old actor may
// have granted units that an order has not journaled yet. Each order answers
// the supervisor only between its steps; once all have answered, every such
// reservation is journaled or given up, and the SKU as stored holds every
// unit the old actor granted. Every other step journals first and then tells
// the SKUs (write-ahead), so the stored SKU is never behind those; an order
// whose step reaches the old actor asks the supervisor for the new one and
// sends again (every INVENTORY operation on an order is idempotent).
#include <memory>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <nlohmann/json.hpp>

#include "actors/inventory.hpp"
#include "actors/order_machine.hpp"
#include "actors/supervisor_steps.hpp"
#include "messages/errors.hpp"
#include "messages/type_ids.hpp"
#include "system/log.hpp"

namespace oms::supervisor_steps {

namespace {

caf::error unknown_sku(const sku_id& sku) {
  nlohmann::json details{{"skus", {sku}}};
  return make_error(errc::unknown_sku, "unknown SKU " + sku, details.dump());
}

caf::error sku_unavailable(const sku_fault& f) {
  nlohmann::json details{{"sku", f.sku}};
  auto why = f.from == seller::external
                 ? " of the EXTERNAL seller is unavailable: its actor stopped "
                   "after an internal failure; its holds are safe in the "
                   "journal and come back when omsd restarts"
             : f.restarting
                 ? " is unavailable for a moment: its actor stopped after an "
                   "internal failure and is being restarted from the "
                   "journal; retry"
                 : " is unavailable: its actor kept stopping after internal "
                   "failures; its stock is safe in the journal and comes "
                   "back when omsd restarts";
  return make_error(errc::unavailable, "SKU " + f.sku + why, details.dump());
}

// Asks every live order for its record, at most `window` at a time (CAF 0.17
// finds the handler of an answer by a linear search over the pending
// requests), and answers `true` once each has answered or is gone.
struct settle_state {
  std::vector<order_actor> orders;
  size_t next = 0;
  size_t in_flight = 0;
  size_t outstanding = 0;
  caf::response_promise rp;

  static inline const char* name = "order_settler";
};

constexpr size_t settle_window = 128;

void settle_next(caf::stateful_actor<settle_state>* self) {
  auto& st = self->state;
  while (st.in_flight < settle_window && st.next < st.orders.size()) {
    auto order = st.orders[st.next++];
    ++st.in_flight;
    auto arrive = [self] {
      auto& st = self->state;
      --st.in_flight;
      if (--st.outstanding == 0) {
        st.rp.deliver(true);
        self->quit();
        return;
      }
      settle_next(self);
    };
    self->request(order, caf::infinite, atom::get_v)
        .then([arrive](order_record&) { arrive(); },
              [arrive](caf::error&) { arrive(); });
  }
}

caf::behavior order_settler(caf::stateful_actor<settle_state>* self,
                            std::vector<order_actor> orders) {
  self->state.orders = std::move(orders);
  self->state.outstanding = self->state.orders.size();
  return {
      [=](atom::get) -> caf::result<bool> {
        auto& st = self->state;
        if (st.outstanding == 0) {
          self->quit();
          return true;
        }
        st.rp = self->make_response_promise();
        settle_next(self);
        return st.rp;
      },
  };
}

// Ends the restart: the waiting find_sku requests get `answer`.
template <class Answer>
void end_restart(supervisor_ptr self, const sku_id& sku, Answer answer) {
  auto& st = self->state;
  auto i = st.restarting.find(sku);
  if (i == st.restarting.end())
    return;
  auto waiting = std::move(i->second.waiting);
  st.restarting.erase(i);
  for (auto& rp : waiting)
    rp.deliver(answer);
}

void read_sku(supervisor_ptr self, const sku_id& sku) {
  auto& st = self->state;
  st.restarting[sku].now = sku_restart::phase::reading;
  self->request(st.ctx->journal, caf::infinite, atom::load_sku_v, sku)
      .then(
          [self, sku](stored_sku& stored) {
            auto& st = self->state;
            if (st.restarting.count(sku) == 0)
              return;
            if (!stored.found) {
              // Its first receipt never became durable: no SKU.
              log::warn("supervisor.sku_not_stored", {{"sku", sku}});
              end_restart(self, sku, unknown_sku(sku));
              return;
            }
            auto now = st.ctx->now(self->clock());
            auto failures = st.restarting[sku].fault.failures;
            auto handle = adopt_sku(
                self, sku, ledger_from(st, stored.state, stored.holds, now));
            log::warn("supervisor.sku_restarted",
                      {{"sku", sku},
                       {"failures", uint64_t{failures}},
                       {"holds", uint64_t{stored.holds.size()}}});
            end_restart(self, sku, handle);
          },
          [self, sku](caf::error& err) {
            // The journal could not be read: one more failure.
            end_restart(
                self, sku,
                make_error(errc::unavailable,
                           "SKU " + sku + " is unavailable: " + describe(err)));
            sku_failed(self, sku,
                       make_error(errc::store_failure,
                                  "cannot read the SKU from the journal: " +
                                      describe(err)));
          });
}

} // namespace

bool sku_down(const supervisor_state& st, const sku_id& sku) {
  return st.restarting.count(sku) > 0 || st.failed.count(sku) > 0;
}

caf::error missing_sku(supervisor_ptr self, const sku_id& sku) {
  auto& st = self->state;
  if (auto i = st.restarting.find(sku); i != st.restarting.end())
    return sku_unavailable(i->second.fault);
  if (auto i = st.failed.find(sku); i != st.failed.end())
    return sku_unavailable(i->second);
  return unknown_sku(sku);
}

caf::result<inventory_actor> find_sku(supervisor_ptr self, const sku_id& sku) {
  auto& st = self->state;
  if (auto i = st.skus.find(sku); i != st.skus.end())
    return i->second;
  auto r = st.restarting.find(sku);
  // Before the journal is read, an order asking may be one the restart
  // waits for: it must not wait in turn.
  if (r == st.restarting.end() || r->second.now != sku_restart::phase::reading)
    return missing_sku(self, sku);
  auto rp = self->make_response_promise<inventory_actor>();
  r->second.waiting.push_back(rp);
  return rp;
}

void sku_failed(supervisor_ptr self, const sku_id& sku,
                const caf::error& reason) {
  auto& st = self->state;
  auto now = st.ctx->now(self->clock());
  auto& [since, count] = st.sku_failures[sku];
  if (count == 0 || now - since > supervisor_state::sku_failure_window_ms) {
    since = now;
    count = 0;
  }
  ++count;
  sku_fault fault{sku, to_string(reason), now, true, count};
  if (count > supervisor_state::sku_restarts_max) {
    fault.restarting = false;
    log::error("supervisor.sku_left_stopped", {{"sku", sku},
                                               {"failures", uint64_t{count}},
                                               {"reason", fault.reason}});
    st.failed[sku] = std::move(fault);
    return;
  }
  auto delay = supervisor_state::sku_restart_backoff;
  for (uint32_t n = 1; n < count; ++n)
    delay *= 5;
  log::error("supervisor.sku_restarting",
             {{"sku", sku},
              {"failures", uint64_t{count}},
              {"in_ms", static_cast<uint64_t>(delay.count())},
              {"reason", fault.reason}});
  auto& r = st.restarting[sku];
  r.now = sku_restart::phase::backoff;
  r.fault = std::move(fault);
  self->delayed_send(caf::actor_cast<supervisor_actor>(self), delay,
                     atom::restart_v, sku);
}

void restart_sku(supervisor_ptr self, const sku_id& sku) {
  auto& st = self->state;
  auto i = st.restarting.find(sku);
  if (i == st.restarting.end() || i->second.now != sku_restart::phase::backoff)
    return;
  i->second.now = sku_restart::phase::settling;
  std::vector<order_actor> orders;
  orders.reserve(st.orders.size());
  for (auto& kvp : st.orders)
    orders.push_back(kvp.second);
  auto settler = self->spawn(order_settler, std::move(orders));
  self->request(settler, caf::infinite, atom::get_v)
      .then([self, sku](bool) { read_sku(self, sku); },
            [self, sku](caf::error& err) { sku_failed(self, sku, err); });
}

caf::expected<external_sku_actor> live_external(supervisor_ptr self,
                                                const sku_id& sku) {
  auto& failed = self->state.failed_external;
  if (auto i = failed.find(sku); i != failed.end())
    return sku_unavailable(i->second);
  return external_actor(self, sku);
}

std::vector<sku_fault> sku_health(const supervisor_state& st) {
  std::vector<sku_fault> result;
  for (auto& kvp : st.restarting)
    result.push_back(kvp.second.fault);
  for (auto& kvp : st.failed)
    result.push_back(kvp.second);
  for (auto& kvp : st.failed_external)
    result.push_back(kvp.second);
  return result;
}

void restart_order(supervisor_ptr self, const order_id& id,
                   const caf::error& reason) {
  auto& st = self->state;
  auto tries = ++st.order_restarts[id];
  if (tries > supervisor_state::order_restarts_max) {
    log::error("supervisor.order_left_stopped",
               {{"order", id},
                {"restarts", uint64_t{tries - 1}},
                {"reason", to_string(reason)}});
    return;
  }
  log::error("supervisor.order_restarting",
             {{"order", id}, {"reason", to_string(reason)}});
  // The journal reads its own pending appends first, so the stopped actor's
  // last append is in what it answers.
  self->request(st.ctx->journal, caf::infinite, atom::get_v, id)
      .then(
          [self, id](order_record& rec) {
            auto& st = self->state;
            if (is_terminal(rec.status) || st.orders.count(id) > 0)
              return;
            adopt_order(self, std::move(rec));
          },
          [self, id](caf::error& err) {
            if (code_of(err) != errc::order_not_found) {
              log::error("supervisor.order_restart_failed",
                         {{"order", id}, {"error", describe(err)}});
              return;
            }
            for (auto& kvp : self->state.skus)
              self->request(kvp.second, caf::infinite, atom::release_v, id)
                  .then([](int64_t) {}, [](caf::error&) {});
          });
}

} // namespace oms::supervisor_steps
