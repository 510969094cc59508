#include "actors/audit_collector.hpp"

#include <chrono>
#include <string>
#include <unordered_set>

#include "actors/audit.hpp"
#include "messages/errors.hpp"
#include "messages/type_ids.hpp"

namespace oms {

namespace {

// The report of the look just taken (or cut short by the deadline).
audit_report report_of(audit_collector_state& st) {
  auto report = audit_stock(st.snapshots, st.live);
  for (auto& v : st.failures)
    report.violations.push_back(std::move(v));
  auto waited = std::to_string(
      std::chrono::duration_cast<std::chrono::milliseconds>(st.deadline)
          .count());
  for (size_t i = 0; i < st.skus.size(); ++i)
    if (!st.sku_answered[i])
      report.violations.push_back(
          violation{st.skus[i].first,
                    "SKU actor did not answer within " + waited + " ms"});
  if (st.orders_unanswered > 0)
    report.violations.push_back(
        violation{{},
                  std::to_string(st.orders_unanswered) +
                      " live orders did not answer within " + waited +
                      " ms: their holds could not be checked"});
  return report;
}

void deliver(audit_collector_ptr self, audit_report report) {
  self->state.finished = true;
  self->state.rp.deliver(std::move(report));
  self->quit();
}

// A look reads each SKU and each order at its own moment, so an order in
// the middle of a step can be seen on one side of it and its SKU on the
// other: an expiry's cancellation journaled and read, its release not yet
// at the SKU read a moment before. What a step leaves half done it
// completes within moments, so a look that finds violations is taken again
// after a pause, up to `audit_looks` looks: the report is the last look's.
constexpr int audit_looks = 3;
constexpr auto look_pause = std::chrono::milliseconds{200};

void finish_look(audit_collector_ptr self) {
  auto& st = self->state;
  if (st.finished)
    return;
  auto report = report_of(st);
  if (report.violations.empty() || st.looks >= audit_looks) {
    deliver(self, std::move(report));
    return;
  }
  st.last_look = std::move(report);
  ++st.looks;
  self->delayed_send(self, look_pause, atom::retry_v);
}

// The deadline: the look in progress as far as it got, or, if a later look
// is under way or pausing, the last complete one.
void on_deadline(audit_collector_ptr self) {
  auto& st = self->state;
  if (st.finished)
    return;
  if (st.last_look)
    deliver(self, std::move(*st.last_look));
  else
    deliver(self, report_of(st));
}

// At most this many questions in flight: CAF 0.17 finds the handler of an
// answer by a linear search over the actor's pending requests.
constexpr size_t audit_window = 128;

// An order's record arrived: a live one says what it holds.
void order_read(audit_collector_ptr self, order_record rec) {
  --self->state.orders_unanswered;
  if (!is_terminal(rec.status))
    self->state.live.push_back(std::move(rec));
}

// Reads an order's record from the JOURNAL (an order with no actor).
template <class Arrive>
void read_order(audit_collector_ptr self, const order_id& id, Arrive arrive) {
  self->request(self->state.journal, caf::infinite, atom::get_v, id)
      .then(
          [=](order_record& rec) {
            order_read(self, std::move(rec));
            arrive();
          },
          [=](caf::error& err) {
            --self->state.orders_unanswered;
            // One never made durable (its creation failed) holds nothing.
            if (code_of(err) != errc::order_not_found)
              self->state.failures.push_back(violation{
                  {}, "order " + id + " could not be read: " + describe(err)});
            arrive();
          });
}

// Every SKU and live order answered: the orders of holds that are none of
// them (a cluster's orders placed on another shard, whose holds on this
// node's SKUs their owners make: docs/cluster.md) are read from the
// store the nodes share, so that their holds are checked against their
// records too; then the report.
void ask_others(audit_collector_ptr self) {
  auto& st = self->state;
  st.others_asked = true;
  std::unordered_set<order_id> known;
  for (auto& o : st.orders)
    known.insert(o.first);
  std::vector<order_id> others;
  for (auto& snap : st.snapshots)
    if (snap.view.seller == seller::internal)
      for (auto& h : snap.holds)
        if (known.insert(h.order).second)
          others.push_back(h.order);
  if (others.empty()) {
    finish_look(self);
    return;
  }
  st.outstanding = others.size();
  st.orders_unanswered += others.size();
  for (auto& id : others)
    read_order(self, id, [self] {
      if (--self->state.outstanding == 0)
        finish_look(self);
    });
}

void ask_next(audit_collector_ptr self) {
  auto& st = self->state;
  auto arrive = [=] {
    --self->state.in_flight;
    if (--self->state.outstanding == 0)
      ask_others(self);
    else
      ask_next(self);
  };
  while (st.in_flight < audit_window && st.next_sku < st.skus.size()) {
    auto i = st.next_sku++;
    ++st.in_flight;
    self->request(st.skus[i].second, caf::infinite, atom::holds_v)
        .then(
            [=](stock_snapshot& snap) {
              self->state.sku_answered[i] = 1;
              // A SKU whose first receipt never became durable is no SKU;
              // an EXTERNAL one is audited even before a snapshot (holds
              // restored after a restart are checked all the same).
              if (snap.view.unit_price > 0 ||
                  snap.view.seller == seller::external)
                self->state.snapshots.push_back(std::move(snap));
              arrive();
            },
            [=](caf::error& err) {
              self->state.sku_answered[i] = 1;
              self->state.failures.push_back(
                  violation{self->state.skus[i].first,
                            "SKU actor did not answer: " + describe(err)});
              arrive();
            });
  }
  while (st.in_flight < audit_window && st.next_order < st.orders.size()) {
    auto& [id, order] = st.orders[st.next_order++];
    ++st.in_flight;
    if (!order) {
      read_order(self, id, arrive);
      continue;
    }
    self->request(order, caf::infinite, atom::get_v)
        .then(
            [=](order_record& rec) {
              order_read(self, std::move(rec));
              arrive();
            },
            // The actor ended meanwhile (its order ended, or rests): the
            // store has what it holds.
            [=, id = id](caf::error&) { read_order(self, id, arrive); });
  }
}

void start_look(audit_collector_ptr self) {
  auto& st = self->state;
  st.sku_answered.assign(st.skus.size(), 0);
  st.outstanding = st.skus.size() + st.orders.size();
  st.orders_unanswered = st.orders.size();
  st.in_flight = 0;
  st.next_sku = 0;
  st.next_order = 0;
  st.snapshots.clear();
  st.live.clear();
  st.failures.clear();
  st.others_asked = false;
  ask_next(self);
}

} // namespace

audit_collector_actor::behavior_type
audit_collector(audit_collector_ptr self,
                std::vector<std::pair<sku_id, inventory_actor>> skus,
                std::vector<std::pair<order_id, order_actor>> orders,
                journal_actor journal, caf::timespan deadline) {
  auto& st = self->state;
  st.skus = std::move(skus);
  st.orders = std::move(orders);
  st.journal = std::move(journal);
  st.deadline = deadline;
  return {
      [=](atom::audit) -> caf::result<audit_report> {
        auto& st = self->state;
        st.rp = self->make_response_promise<audit_report>();
        start_look(self);
        self->delayed_send(self, st.deadline, atom::expire_v, uint64_t{0});
        return st.rp;
      },
      [=](atom::expire, uint64_t) { on_deadline(self); },
      [=](atom::retry) {
        if (!self->state.finished)
          start_look(self);
      },
  };
}

} // namespace oms
