// The SUPERVISOR's restarts of actors that stopped on a failure: an ORDER
// actor from its record, a SKU's actor from the SKU as stored. The SKU's
// restart, step by step:
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
// reservation is journaled or given up, and the journal holds every unit the
// old actor granted. Every other step journals first and then tells the SKUs
// (write-ahead), so the journal is never behind those; an order whose step
// reaches the old actor asks the supervisor for the new one and sends again
// (every INVENTORY operation on an order is idempotent).
//
// An INTERNAL SKU is read as stored, with its holds. An EXTERNAL SKU keeps no
// holds of its own in the journal: its ledger is rebuilt as at omsd's start
// (supervisor_restore.cpp), from the records of the live orders with a line
// on it (read from the journal once reading began, so a step journaled
// before is in them and one journaled after reaches the new actor), its WMS
// reservations not yet settled and its feed changes; its snapshot is read
// from the WMS again.
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
  nlohmann::json details{{"sku", f.sku}, {"seller", to_string(f.from)}};
  auto why = f.restarting
                 ? " is unavailable for a moment: its actor stopped after an "
                   "internal failure and is being restarted from the "
                   "journal; retry"
                 : " is unavailable: its actor kept stopping after internal "
                   "failures; its stock and holds are safe in the journal "
                   "and come back when omsd restarts";
  auto whose = f.from == seller::external ? " of the EXTERNAL seller" : "";
  return make_error(errc::unavailable, "SKU " + f.sku + whose + why,
                    details.dump());
}

// Asks every live order for its record, at most `window` at a time (CAF 0.17
// finds the handler of an answer by a linear search over the pending
// requests), and answers, once each has answered or is gone, the ids of the
// EXTERNAL orders with a line on `external_sku` (none if it is empty).
struct settle_state {
  std::vector<order_actor> orders;
  sku_id external_sku;
  std::vector<order_id> kept;
  size_t next = 0;
  size_t in_flight = 0;
  size_t outstanding = 0;
  caf::response_promise rp;

  static inline const char* name = "order_settler";
};

bool has_line_on(const order_record& rec, const sku_id& sku) {
  if (sku.empty() || rec.seller != seller::external)
    return false;
  for (auto& line : rec.lines)
    if (line.sku == sku)
      return true;
  return false;
}

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
        st.rp.deliver(std::move(st.kept));
        self->quit();
        return;
      }
      settle_next(self);
    };
    self->request(order, caf::infinite, atom::get_v)
        .then(
            [self, arrive](order_record& rec) {
              if (has_line_on(rec, self->state.external_sku))
                self->state.kept.push_back(rec.id);
              arrive();
            },
            [arrive](caf::error&) { arrive(); });
  }
}

caf::behavior order_settler(caf::stateful_actor<settle_state>* self,
                            std::vector<order_actor> orders,
                            sku_id external_sku) {
  self->state.orders = std::move(orders);
  self->state.external_sku = std::move(external_sku);
  self->state.outstanding = self->state.orders.size();
  return {
      [=](atom::get) -> caf::result<std::vector<order_id>> {
        auto& st = self->state;
        if (st.outstanding == 0) {
          self->quit();
          return std::vector<order_id>{};
        }
        st.rp = self->make_response_promise();
        settle_next(self);
        return st.rp;
      },
  };
}

// Reads the latest record of each order from the journal, at most
// settle_window at a time, and answers them (an order the journal does not
// know is left out: it never became durable, so it holds nothing).
struct record_reader_state {
  journal_actor journal;
  std::vector<order_id> ids;
  std::vector<order_record> records;
  size_t next = 0;
  size_t in_flight = 0;
  caf::response_promise rp;
  caf::error failure;

  static inline const char* name = "order_record_reader";
};

void read_next(caf::stateful_actor<record_reader_state>* self) {
  auto& st = self->state;
  if (st.next == st.ids.size() && st.in_flight == 0) {
    if (st.failure)
      st.rp.deliver(st.failure);
    else
      st.rp.deliver(std::move(st.records));
    self->quit();
    return;
  }
  while (st.in_flight < settle_window && st.next < st.ids.size()) {
    ++st.in_flight;
    self->request(st.journal, caf::infinite, atom::get_v, st.ids[st.next++])
        .then(
            [self](order_record& rec) {
              --self->state.in_flight;
              self->state.records.push_back(std::move(rec));
              read_next(self);
            },
            [self](caf::error& err) {
              --self->state.in_flight;
              if (code_of(err) != errc::order_not_found)
                self->state.failure = err;
              read_next(self);
            });
  }
}

caf::behavior record_reader(caf::stateful_actor<record_reader_state>* self,
                            journal_actor journal, std::vector<order_id> ids) {
  self->state.journal = std::move(journal);
  self->state.ids = std::move(ids);
  return {
      [=](atom::get) -> caf::result<std::vector<order_record>> {
        self->state.rp = self->make_response_promise();
        read_next(self);
        return self->state.rp;
      },
  };
}

// Ends the restart: the waiting find_sku requests get `answer`.
template <class Answer>
void end_restart(supervisor_ptr self, const sku_id& sku, seller from,
                 Answer answer) {
  auto& restarting = self->state.down(from).restarting;
  auto i = restarting.find(sku);
  if (i == restarting.end())
    return;
  auto waiting = std::move(i->second.waiting);
  restarting.erase(i);
  for (auto& rp : waiting)
    rp.deliver(answer);
}

// The journal could not be read: the restart ends and counts one more
// failure.
void read_failed(supervisor_ptr self, const sku_id& sku, seller from,
                 const caf::error& err) {
  end_restart(self, sku, from,
              make_error(errc::unavailable,
                         "SKU " + sku + " is unavailable: " + describe(err)));
  sku_failed(
      self, sku, from,
      make_error(errc::store_failure,
                 "cannot read the SKU from the journal: " + describe(err)));
}

bool still_restarting(supervisor_ptr self, const sku_id& sku, seller from) {
  return self->state.down(from).restarting.count(sku) > 0;
}

void read_external(supervisor_ptr self, const sku_id& sku,
                   std::vector<order_id> orders) {
  auto& st = self->state;
  auto from = seller::external;
  st.external_down.restarting.at(sku).now = sku_restart::phase::reading;
  // Read under the duty shard's lease of now (as read_sku does).
  auto epoch = external_epoch(st);
  self->request(st.ctx->journal, caf::infinite, atom::load_external_v, sku)
      .then(
          [self, sku, from, orders, epoch](stored_external& stored) {
            auto reader =
                self->spawn(record_reader, self->state.ctx->journal, orders);
            self->request(reader, caf::infinite, atom::get_v)
                .then(
                    [self, sku, from, stored,
                     epoch](std::vector<order_record>& records) {
                      auto& st = self->state;
                      if (!still_restarting(self, sku, from) || epoch < 0 ||
                          external_epoch(st) != epoch)
                        return;
                      auto ledgers = external_ledgers(
                          st.ctx->settings.external.safety_buffer, records,
                          stored.reservations, stored.deltas, &sku);
                      auto ledger =
                          ledgers.count(sku) > 0
                              ? std::move(ledgers.at(sku))
                              : external_ledger{
                                    st.ctx->settings.external.safety_buffer};
                      auto holds = ledger.holds().size();
                      auto failures =
                          st.external_down.restarting[sku].fault.failures;
                      auto handle =
                          external_actor(self, sku, std::move(ledger));
                      log::warn("supervisor.sku_restarted",
                                {{"sku", sku},
                                 {"seller", to_string(from)},
                                 {"failures", uint64_t{failures}},
                                 {"holds", uint64_t{holds}}});
                      end_restart(self, sku, from, inventory_actor{handle});
                    },
                    [self, sku, from](caf::error& err) {
                      read_failed(self, sku, from, err);
                    });
          },
          [self, sku, from](caf::error& err) {
            read_failed(self, sku, from, err);
          });
}

void read_sku(supervisor_ptr self, const sku_id& sku) {
  auto& st = self->state;
  auto from = seller::internal;
  st.internal_down.restarting.at(sku).now = sku_restart::phase::reading;
  // Read under the shard's lease of now: if the node loses the shard and
  // takes it again meanwhile, the shard's load starts its SKUs afresh and
  // this read may be older than the shard's state.
  auto epoch = epoch_of(st, sku);
  self->request(st.ctx->journal, caf::infinite, atom::load_sku_v, sku)
      .then(
          [self, sku, from, epoch](stored_sku& stored) {
            auto& st = self->state;
            if (!still_restarting(self, sku, from) || epoch < 0 ||
                epoch_of(st, sku) != epoch)
              return;
            if (!stored.found) {
              // Its first receipt never became durable: no SKU.
              log::warn("supervisor.sku_not_stored", {{"sku", sku}});
              end_restart(self, sku, from, unknown_sku(sku));
              return;
            }
            auto now = st.ctx->now(self->clock());
            auto failures = st.internal_down.restarting[sku].fault.failures;
            auto handle = adopt_sku(
                self, sku, ledger_from(st, stored.state, stored.holds, now));
            watch_off_shard_holds(self, sku, stored.holds);
            log::warn("supervisor.sku_restarted",
                      {{"sku", sku},
                       {"seller", to_string(from)},
                       {"failures", uint64_t{failures}},
                       {"holds", uint64_t{stored.holds.size()}}});
            end_restart(self, sku, from, handle);
          },
          [self, sku, from](caf::error& err) {
            read_failed(self, sku, from, err);
          });
}

} // namespace

bool sku_down(const supervisor_state& st, const sku_id& sku, seller from) {
  auto& down = st.down(from);
  return down.restarting.count(sku) > 0 || down.failed.count(sku) > 0;
}

caf::error missing_sku(supervisor_ptr self, const sku_id& sku, seller from) {
  auto& down = self->state.down(from);
  if (auto i = down.restarting.find(sku); i != down.restarting.end())
    return sku_unavailable(i->second.fault);
  if (auto i = down.failed.find(sku); i != down.failed.end())
    return sku_unavailable(i->second);
  return unknown_sku(sku);
}

caf::result<inventory_actor> find_sku(supervisor_ptr self, const sku_id& sku,
                                      seller from) {
  auto& st = self->state;
  auto& restarting = st.down(from).restarting;
  auto r = restarting.find(sku);
  // Before the journal is read, an order asking may be one the restart
  // waits for: it must not wait in turn.
  if (r != restarting.end() && r->second.now == sku_restart::phase::reading) {
    auto rp = self->make_response_promise<inventory_actor>();
    r->second.waiting.push_back(rp);
    return rp;
  }
  if (from == seller::external) {
    if (auto err = sku_gate(st, from, sku))
      return err;
    if (!st.ctx->wms)
      return no_wms();
    auto h = live_external(self, sku);
    if (!h)
      return std::move(h.error());
    return inventory_actor{*h};
  }
  if (auto i = st.skus.find(sku); i != st.skus.end())
    return i->second;
  return missing_sku(self, sku, from);
}

void sku_failed(supervisor_ptr self, const sku_id& sku, seller from,
                const caf::error& reason) {
  auto& st = self->state;
  auto& down = st.down(from);
  auto now = st.ctx->now(self->clock());
  auto& [since, count] = down.failures[sku];
  if (count == 0 || now - since > supervisor_state::sku_failure_window_ms) {
    since = now;
    count = 0;
  }
  ++count;
  sku_fault fault{sku, to_string(reason), now, true, count, from};
  if (count > supervisor_state::sku_restarts_max) {
    fault.restarting = false;
    log::error("supervisor.sku_left_stopped", {{"sku", sku},
                                               {"seller", to_string(from)},
                                               {"failures", uint64_t{count}},
                                               {"reason", fault.reason}});
    down.failed[sku] = std::move(fault);
    return;
  }
  auto delay = supervisor_state::sku_restart_backoff;
  for (uint32_t n = 1; n < count; ++n)
    delay *= 5;
  log::error("supervisor.sku_restarting",
             {{"sku", sku},
              {"seller", to_string(from)},
              {"failures", uint64_t{count}},
              {"in_ms", static_cast<uint64_t>(delay.count())},
              {"reason", fault.reason}});
  auto& r = down.restarting[sku];
  r.now = sku_restart::phase::backoff;
  r.fault = std::move(fault);
  self->delayed_send(caf::actor_cast<supervisor_actor>(self), delay,
                     atom::restart_v, sku, from);
}

void restart_sku(supervisor_ptr self, const sku_id& sku, seller from) {
  auto& st = self->state;
  auto& restarting = st.down(from).restarting;
  auto i = restarting.find(sku);
  if (i == restarting.end() || i->second.now != sku_restart::phase::backoff)
    return;
  i->second.now = sku_restart::phase::settling;
  auto attempt = i->second.attempt = ++st.sku_restarts;
  std::vector<order_actor> orders;
  orders.reserve(st.orders.size());
  for (auto& kvp : st.orders)
    orders.push_back(kvp.second.handle);
  auto settler = self->spawn(order_settler, std::move(orders),
                             from == seller::external ? sku : sku_id{});
  self->request(settler, caf::infinite, atom::get_v)
      .then(
          [self, sku, from, attempt](std::vector<order_id>& kept) {
            // (Its shard may have been lost meanwhile: the restart with it;
            // and taken back, with a restart of its own since.)
            auto& restarting = self->state.down(from).restarting;
            auto i = restarting.find(sku);
            if (i == restarting.end() ||
                i->second.now != sku_restart::phase::settling ||
                i->second.attempt != attempt)
              return;
            if (from == seller::external)
              read_external(self, sku, std::move(kept));
            else
              read_sku(self, sku);
          },
          [self, sku, from](caf::error& err) {
            sku_failed(self, sku, from, err);
          });
}

caf::expected<external_sku_actor> live_external(supervisor_ptr self,
                                                const sku_id& sku) {
  if (auto err = sku_gate(self->state, seller::external, sku))
    return err;
  if (sku_down(self->state, sku, seller::external))
    return missing_sku(self, sku, seller::external);
  return external_actor(self, sku);
}

std::vector<sku_fault> sku_health(const supervisor_state& st) {
  std::vector<sku_fault> result;
  for (auto* down : {&st.internal_down, &st.external_down}) {
    for (auto& kvp : down->restarting)
      result.push_back(kvp.second.fault);
    for (auto& kvp : down->failed)
      result.push_back(kvp.second);
  }
  return result;
}

namespace {

// Reads the record of order `id`, whose actor stopped, and starts it again.
void read_for_restart(supervisor_ptr self, const order_id& id) {
  auto& st = self->state;
  // The journal reads its own pending appends first, so the stopped actor's
  // last append is in what it answers. A cluster node that stops shards
  // meanwhile may take the order's shard again and start its orders
  // afresh, from records newer than this read.
  auto stops = st.shard_stops;
  self->request(st.ctx->journal, caf::infinite, atom::get_v, id)
      .then(
          [self, id, stops](order_record& rec) {
            auto& st = self->state;
            if (is_terminal(rec.status) || st.orders.count(id) > 0 ||
                order_gate(st, rec))
              return;
            if (st.shard_stops != stops) {
              if (!rests(st, id))
                read_for_restart(self, id); // once more: not a new restart
              return;
            }
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

} // namespace

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
  read_for_restart(self, id);
}

} // namespace oms::supervisor_steps
