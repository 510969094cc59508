// The SUPERVISOR of a cluster node (docs/cluster.md): it serves only the
// shards the node holds. A shard taken is read from the shared store and
// its SKUs' and live orders' actors started before any request for it is
// served; a shard lost stops being served at once and its actors stop. The
// gate refuses (NOT_OWNER) what is for a shard not served; the journal's
// fence refuses in PostgreSQL any commit on a shard whose lease the node no
// longer holds with the epoch it serves it under, so that a stale actor
// cannot sell what another node sold.
#include <chrono>
#include <unordered_map>
#include <vector>

#include "actors/order.hpp"
#include "actors/supervisor_steps.hpp"
#include "messages/type_ids.hpp"
#include "system/log.hpp"

namespace oms::supervisor_steps {

namespace {

std::vector<bool> shard_set(const shard_map& map,
                            const std::vector<uint32_t>& shards) {
  std::vector<bool> in(map.count(), false);
  for (auto s : shards)
    if (s < map.count())
      in[s] = true;
  return in;
}

// Stops the EXTERNAL seller's actors (the duty shard's): its SKUs' (and
// their restarts under way) and the WMS feed reader. Its orders are the
// duty shard's, stopped with the shard's other orders.
void stop_external(supervisor_ptr self) {
  auto& st = self->state;
  for (auto& [sku, handle] : st.external) {
    self->demonitor(handle.address());
    self->send_exit(handle, caf::exit_reason::kill);
  }
  st.external.clear();
  for (auto& [sku, restart] : st.external_down.restarting)
    for (auto& rp : restart.waiting)
      rp.deliver(shard_map::not_owner(duty_shard, "sku", sku));
  st.external_down.restarting.clear();
  st.external_down.failed.clear();
  st.external_down.failures.clear();
  if (st.feed) {
    self->send_exit(st.feed, caf::exit_reason::kill);
    st.feed = nullptr;
  }
  // What the stopped actors asked of the WMS and is not on its way yet is
  // not sent: the next holder asks again what is still owed.
  if (st.ctx->wms)
    self->send(st.ctx->wms, atom::purge_v);
}

// Stops the actors of the shards in `in`: SKUs (and their restarts under
// way), live and resting orders, and forgets their holds' timers; the
// customers whose ids are on them forget their carts.
void stop_actors(supervisor_ptr self, const std::vector<bool>& in) {
  auto& st = self->state;
  ++st.shard_stops;
  auto& map = *st.ctx->shards;
  auto on = [&](const sku_id& sku) {
    return in[map.shard_of(sku)];
  };
  for (auto i = st.skus.begin(); i != st.skus.end();) {
    if (!on(i->first)) {
      ++i;
      continue;
    }
    self->demonitor(i->second.address());
    self->send_exit(i->second, caf::exit_reason::kill);
    i = st.skus.erase(i);
  }
  auto& down = st.internal_down;
  for (auto i = down.restarting.begin(); i != down.restarting.end();) {
    if (!on(i->first)) {
      ++i;
      continue;
    }
    for (auto& rp : i->second.waiting)
      rp.deliver(shard_map::not_owner(map.shard_of(i->first), "sku", i->first));
    i = down.restarting.erase(i);
  }
  for (auto i = down.failed.begin(); i != down.failed.end();)
    i = on(i->first) ? down.failed.erase(i) : std::next(i);
  for (auto i = down.failures.begin(); i != down.failures.end();)
    i = on(i->first) ? down.failures.erase(i) : std::next(i);
  if (in[duty_shard])
    stop_external(self);
  for (auto i = st.order_shard.begin(); i != st.order_shard.end();) {
    if (!in[i->second]) {
      ++i;
      continue;
    }
    auto id = i->first;
    i = st.order_shard.erase(i);
    if (auto o = st.orders.find(id); o != st.orders.end()) {
      self->demonitor(o->second.handle.address());
      st.order_of.erase(o->second.handle.address());
      self->send_exit(o->second.handle, caf::exit_reason::kill);
      st.orders.erase(o);
    }
    st.dormant.erase(id);
    st.order_restarts.erase(id);
    forget_hold(st, id);
  }
  // The carts of the customers whose ids are on these shards are kept by
  // the shards' next owners from now on (docs/cluster.md, "Carts").
  for (auto& [id, customer] : st.customers)
    if (in[map.shard_of(id)])
      self->send(customer, atom::disown_v);
}

// What the store holds of the shards taken arrived: their actors start and
// the shards are served, each only if it was not lost meanwhile.
void start_shards(supervisor_ptr self, const shard_epochs& which,
                  const std::vector<uint64_t>& generations,
                  shard_state& loaded) {
  auto& st = self->state;
  auto& map = *st.ctx->shards;
  std::vector<bool> in(map.count(), false);
  std::vector<uint32_t> taken;
  for (size_t k = 0; k < which.shards.size(); ++k) {
    auto s = which.shards[k];
    // (A shard served under this very epoch already was adopted twice:
    // its actors, and its customers' carts, stay as they are.)
    if (s < map.count() && st.shard_generation[s] == generations[k] &&
        map.epoch(s) != which.epochs[k]) {
      in[s] = true;
      taken.push_back(s);
    }
  }
  if (taken.empty())
    return;
  stop_actors(self, in); // a stale actor never serves next to a fresh one
  // Served under the new epochs before the actors start: each stamps its
  // shard's epoch on what it journals (epoch_of).
  for (size_t k = 0; k < which.shards.size(); ++k)
    if (which.shards[k] < map.count() && in[which.shards[k]])
      map.serve(which.shards[k], which.epochs[k]);
  // The EXTERNAL seller's actors first: its orders' actors find them.
  if (in[duty_shard] && loaded.external)
    start_external(self, loaded.live_orders, loaded.wms_reservations,
                   loaded.external_deltas, loaded.wms_cursor);
  auto now = st.ctx->now(self->clock());
  std::unordered_map<sku_id, std::vector<hold_state>> holds;
  for (auto& h : loaded.holds)
    if (in[map.shard_of(h.sku)])
      holds[h.sku].push_back(h);
  size_t skus = 0;
  for (auto& sku : loaded.skus) {
    if (!in[map.shard_of(sku.sku)])
      continue;
    adopt_sku(self, sku.sku, ledger_from(st, sku, holds[sku.sku], now));
    ++skus;
  }
  bool resting = st.ctx->settings.order_idle_timeout.count() > 0;
  size_t orders = 0;
  for (auto& rec : loaded.live_orders) {
    auto s = map.shard_of(rec);
    if (!in[s] || st.orders.count(rec.id) > 0)
      continue;
    st.order_shard[rec.id] = s;
    ++orders;
    if (resting && may_rest(rec, now))
      enter_rest(self, rec.id, rec.status, rec.hold_expires_at);
    else
      adopt_order(self, std::move(rec));
  }
  // Known now: which holds belong to orders on other shards.
  for (auto& [sku, of_sku] : holds)
    watch_off_shard_holds(self, sku, of_sku);
  log::info("supervisor.shards_served", {{"shards", uint64_t{taken.size()}},
                                         {"skus", uint64_t{skus}},
                                         {"live_orders", uint64_t{orders}}});
}

} // namespace

namespace {

// Loads the shards of `which` whose generation is still the one in
// `generations` (none lost since they were asked for) and serves them; a
// failed load is tried again a second later, under the same generations.
void load_shards(supervisor_ptr self, const shard_epochs& which,
                 const std::vector<uint64_t>& generations) {
  auto& st = self->state;
  shard_epochs still;
  std::vector<uint64_t> gens;
  for (size_t k = 0; k < which.shards.size(); ++k)
    if (which.shards[k] < st.shard_generation.size() &&
        st.shard_generation[which.shards[k]] == generations[k]) {
      still.shards.push_back(which.shards[k]);
      still.epochs.push_back(which.epochs[k]);
      gens.push_back(generations[k]);
    }
  if (still.shards.empty())
    return;
  auto count = st.ctx->shards->count();
  self->request(st.ctx->journal, caf::infinite, atom::load_v, still, count)
      .then(
          [self, still, gens](shard_state& loaded) {
            start_shards(self, still, gens, loaded);
          },
          [self, still, gens](caf::error& err) {
            log::warn("supervisor.shards_load_failed",
                      {{"shards", uint64_t{still.shards.size()}},
                       {"error", describe(err)}});
            // Not a new adopt: that would take the generations of the
            // moment, and serve a shard lost in between.
            self->state.adopt_retries.emplace_back(still, gens);
            self->delayed_send(caf::actor_cast<supervisor_actor>(self),
                               std::chrono::seconds(1), atom::adopt_v,
                               shard_epochs{});
          });
}

} // namespace

void adopt_shards(supervisor_ptr self, const shard_epochs& which) {
  auto& st = self->state;
  if (!st.ctx->shards || which.shards.size() != which.epochs.size())
    return;
  if (which.shards.empty()) {
    // The retry tick of failed loads.
    auto retries = std::move(st.adopt_retries);
    st.adopt_retries.clear();
    for (auto& [w, gens] : retries)
      load_shards(self, w, gens);
    return;
  }
  auto count = st.ctx->shards->count();
  std::vector<uint64_t> generations;
  for (auto s : which.shards)
    generations.push_back(s < count ? st.shard_generation[s] : 0);
  load_shards(self, which, generations);
}

void disown_shards(supervisor_ptr self, const shard_epochs& which) {
  auto& st = self->state;
  if (!st.ctx->shards)
    return;
  auto& map = *st.ctx->shards;
  for (auto s : which.shards)
    if (s < map.count()) {
      map.stop(s);
      ++st.shard_generation[s];
    }
  stop_actors(self, shard_set(map, which.shards));
  log::info("supervisor.shards_dropped",
            {{"shards", uint64_t{which.shards.size()}}});
}

caf::error sku_gate(const supervisor_state& st, const sku_id& sku) {
  return sku_gate(st, seller::internal, sku);
}

caf::error sku_gate(const supervisor_state& st, seller from,
                    const sku_id& sku) {
  if (!st.ctx->shards)
    return caf::none;
  auto s = st.ctx->shards->shard_of(from, sku);
  if (st.ctx->shards->serves(s))
    return caf::none;
  return shard_map::not_owner(s, "sku", sku);
}

caf::error order_gate(const supervisor_state& st, const order_record& rec) {
  if (!st.ctx->shards || rec.lines.empty())
    return caf::none;
  auto s = st.ctx->shards->shard_of(rec);
  if (st.ctx->shards->serves(s))
    return caf::none;
  return shard_map::not_owner(s, "orderId", rec.id);
}

int64_t writer_epoch(const shard_map* shards, uint32_t shard) {
  if (shards == nullptr)
    return 0;
  auto epoch = shards->epoch(shard);
  return epoch > 0 ? epoch : -1;
}

int64_t epoch_of(const supervisor_state& st, const sku_id& sku) {
  auto* shards = st.ctx->shards.get();
  return shards ? writer_epoch(shards, shards->shard_of(sku)) : 0;
}

int64_t external_epoch(const supervisor_state& st) {
  auto* shards = st.ctx->shards.get();
  return shards ? writer_epoch(shards, duty_shard) : 0;
}

int64_t epoch_of(const supervisor_state& st, const order_record& rec) {
  auto* shards = st.ctx->shards.get();
  if (!shards || rec.lines.empty())
    return 0;
  return writer_epoch(shards, shards->shard_of(rec));
}

} // namespace oms::supervisor_steps
