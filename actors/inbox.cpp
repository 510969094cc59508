#include "actors/inbox.hpp"

#include <algorithm>

#include "actors/shard_map.hpp"
#include "messages/type_ids.hpp"
#include "system/log.hpp"

namespace oms {

namespace {

using inbox_ptr = inbox_actor::stateful_pointer<inbox_state>;

// Errors that say the change itself is wrong: delivering it again gives the
// same answer, so the outcome is recorded and the id counts as processed.
bool is_rejection(const caf::error& err) {
  switch (code_of(err)) {
    case errc::validation_failed:
    case errc::unknown_sku:
    case errc::insufficient_stock:
    case errc::external_inventory_read_only:
      return true;
    default:
      return false;
  }
}

// The deliveries of `id` waiting for its outcome, no longer in flight.
auto take_waiting(inbox_state& st, const std::string& id) {
  decltype(st.in_flight)::mapped_type waiting;
  if (auto i = st.in_flight.find(id); i != st.in_flight.end()) {
    waiting = std::move(i->second);
    st.in_flight.erase(i);
  }
  return waiting;
}

// The answer to a delivery of an id already processed, counted.
inbox_result duplicate_of(inbox_state& st, const std::string& id) {
  ++st.duplicates;
  inbox_result res;
  res.event_id = id;
  res.outcome = inbox_outcome::duplicate;
  return res;
}

void answer(inbox_ptr self, const std::string& id, inbox_result first) {
  auto& st = self->state;
  auto waiting = take_waiting(st, id);
  for (size_t k = 0; k < waiting.size(); ++k) {
    auto res = first;
    if (k > 0) {
      res.outcome = inbox_outcome::duplicate;
      ++st.duplicates;
    }
    waiting[k].deliver(std::move(res));
  }
}

void fail_all(inbox_ptr self, const std::string& id, const caf::error& err) {
  auto waiting = take_waiting(self->state, id);
  for (auto& rp : waiting)
    rp.deliver(err);
}

// Records a rejected change under its id, then answers REJECTED. A cluster
// node's refusal rests on the SKU's ledger under the lease `epoch`: it is
// journaled under it (event::fence), refused if the shard moved since.
void reject(inbox_ptr self, const stock_change& c, const caf::error& err,
            int64_t epoch) {
  event ev;
  ev.fence = epoch;
  ev.kind = event_kind::inbox_cursor;
  ev.at = self->state.ctx->now(self->clock());
  ev.sku = c.sku;
  ev.seller = c.seller;
  ev.inbox_id = c.event_id;
  ev.quantity = c.quantity;
  ev.reason = std::string{to_code(code_of(err))} + ": " + message_of(err);
  self->request(self->state.ctx->journal, caf::infinite, atom::append_v,
                std::vector<event>{ev})
      .then(
          [=](uint64_t) {
            auto& st = self->state;
            st.done.emplace(c.event_id, st.ctx->now(self->clock()));
            ++st.rejected;
            log::warn("inbox.rejected", {{"event", c.event_id},
                                         {"source", c.source},
                                         {"sku", c.sku},
                                         {"error", describe(err)}});
            inbox_result res;
            res.event_id = c.event_id;
            res.outcome = inbox_outcome::rejected;
            res.error_code = code_of(err);
            res.error = message_of(err);
            answer(self, c.event_id, std::move(res));
          },
          [=](caf::error& store_err) {
            fail_all(self, c.event_id,
                     make_error(errc::store_failure,
                                "the outcome could not be recorded: " +
                                    message_of(store_err)));
          });
}

// Forgets the ids recorded before the retention began: in the journal first,
// so that a restart does not load them again, then here. A delivery of a
// forgotten id is applied as new: the retention must outlast every
// redelivery.
void forget_old_ids(inbox_ptr self) {
  auto& st = self->state;
  auto& cfg = st.ctx->settings;
  self->delayed_send(caf::actor_cast<inbox_actor>(self),
                     cfg.inbox_purge_interval, atom::purge_v);
  auto now = st.ctx->now(self->clock());
  auto horizon = now - cfg.inbox_retention.count();
  if (std::none_of(st.done.begin(), st.done.end(),
                   [&](const auto& kvp) { return kvp.second < horizon; }))
    return;
  event ev;
  ev.kind = event_kind::inbox_forgotten;
  ev.at = now;
  ev.amount = horizon;
  self->request(st.ctx->journal, caf::infinite, atom::append_v,
                std::vector<event>{ev})
      .then(
          [=](uint64_t) {
            auto& st = self->state;
            uint64_t n = 0;
            for (auto i = st.done.begin(); i != st.done.end();) {
              if (i->second < horizon) {
                i = st.done.erase(i);
                ++n;
              } else {
                ++i;
              }
            }
            st.forgotten += n;
            log::info(
                "inbox.forgotten",
                {{"ids", n}, {"before", horizon}, {"kept", st.done.size()}});
          },
          [=](caf::error& err) {
            // Kept until the next purge: a duplicate still reads as one.
            log::warn("inbox.forget_failed", {{"error", describe(err)}});
          });
}

// The first delivery of `c`'s id: the SKU's actor applies it and journals
// the id with the change. `epoch`: the lease the node served the SKU's
// shard under when it decided to (0 off a cluster).
void put_change(inbox_ptr self, const stock_change& c, int64_t epoch) {
  self->request(self->state.supervisor, caf::infinite, atom::put_v, c)
      .then(
          [=](stock_view& view) {
            auto& st = self->state;
            st.done.emplace(c.event_id, st.ctx->now(self->clock()));
            ++st.applied;
            inbox_result res;
            res.event_id = c.event_id;
            res.outcome = inbox_outcome::applied;
            res.stock = std::move(view);
            answer(self, c.event_id, std::move(res));
          },
          [=](caf::error& err) {
            // A step of an order's return that is refused is asked again
            // (after the cause is fixed) under the same id: it must not
            // read as done.
            if (is_rejection(err) && c.source != return_source)
              reject(self, c, err, epoch);
            else
              fail_all(self, c.event_id, err);
          });
}

// A cluster node's INBOX knows the ids it recorded itself and those stored
// when it started; an id the SKU's owner before it recorded since is in
// the store the nodes share. So an id it does not know is read there,
// while the node serves the SKU's shard (the owners before it can commit
// nothing more there), and applied only if the node still serves the
// shard under the same epoch once read: taken again under a newer one,
// another owner may have applied it between.
void first_delivery(inbox_ptr self, const stock_change& c) {
  auto& st = self->state;
  auto* shards = st.ctx->shards.get();
  if (shards == nullptr) {
    put_change(self, c, 0);
    return;
  }
  auto shard = shards->shard_of(c.seller, c.sku);
  auto epoch = shards->epoch(shard);
  if (epoch == 0) {
    fail_all(self, c.event_id, shard_map::not_owner(shard, "sku", c.sku));
    return;
  }
  self->request(st.ctx->journal_reads, caf::infinite, atom::lookup_v,
                c.event_id)
      .then(
          [=](bool known) {
            auto& st = self->state;
            if (st.ctx->shards->epoch(shard) != epoch) {
              fail_all(self, c.event_id,
                       shard_map::not_owner(shard, "sku", c.sku));
            } else if (known) {
              st.done.emplace(c.event_id, st.ctx->now(self->clock()));
              for (auto& rp : take_waiting(st, c.event_id))
                rp.deliver(duplicate_of(st, c.event_id));
            } else {
              put_change(self, c, epoch);
            }
          },
          [=](caf::error& err) { fail_all(self, c.event_id, err); });
}

} // namespace

inbox_actor::behavior_type
inbox(inbox_ptr self, context_ptr ctx, supervisor_actor supervisor,
      std::vector<std::pair<std::string, timestamp_ms>> done) {
  auto& st = self->state;
  st.ctx = std::move(ctx);
  st.supervisor = std::move(supervisor);
  st.done.insert(done.begin(), done.end());
  forget_old_ids(self);
  return {
      [=](atom::apply, const stock_change& c) -> caf::result<inbox_result> {
        auto& st = self->state;
        if (!valid_event_id(c.event_id))
          return make_error(errc::validation_failed,
                            "eventId must be 1 to 128 characters of "
                            "A-Z a-z 0-9 . _ : -",
                            R"({"field":"eventId"})");
        if (st.done.count(c.event_id) > 0)
          return duplicate_of(st, c.event_id);
        auto rp = self->make_response_promise<inbox_result>();
        auto& waiting = st.in_flight[c.event_id];
        waiting.push_back(rp);
        if (waiting.size() > 1)
          return rp; // the first delivery is being applied
        first_delivery(self, c);
        return rp;
      },
      [=](atom::get, const std::string& id) {
        return self->state.done.count(id) > 0;
      },
      [=](atom::purge) { forget_old_ids(self); },
  };
}

} // namespace oms
