#include "actors/journal.hpp"

#include <algorithm>
#include <chrono>
#include <iterator>

#include "actors/journal_reader.hpp"
#include "actors/order_machine.hpp"
#include "messages/errors.hpp"
#include "messages/type_ids.hpp"
#include "system/log.hpp"

namespace oms {

namespace {

using journal_ptr = journal_actor::stateful_pointer<journal_state>;

template <size_t N>
void count_in(std::vector<uint64_t>& buckets, const uint64_t (&bounds)[N],
              uint64_t x) {
  size_t i = 0;
  while (i < N && x > bounds[i])
    ++i;
  ++buckets[i];
}

// Adds (sign 1) or takes away (-1) what an open order holds to the
// units-held gauges.
void count_held(journal_stats& stats, const open_order& o, int64_t sign) {
  if (auto kind = held_as(o.status))
    (*kind == hold_kind::reserved ? stats.units_reserved
                                  : stats.units_blocked) += sign * o.held;
}

// Keeps the open-orders and units-held gauges and the transition counters.
void track_orders(journal_state& st, const std::vector<event>& batch) {
  for (auto& ev : batch) {
    if (ev.kind != event_kind::order_created &&
        ev.kind != event_kind::order_changed)
      continue;
    auto& rec = ev.snapshot;
    auto now = open_order_of(rec);
    auto i = st.open.find(rec.id);
    if (i != st.open.end() && i->second.status == rec.status) {
      // The same status: a partial cancel may hold fewer units.
      count_held(st.stats, i->second, -1);
      count_held(st.stats, now, 1);
      i->second = now;
      continue;
    }
    if (i != st.open.end()) {
      --st.stats.open_orders[static_cast<size_t>(i->second.status)];
      count_held(st.stats, i->second, -1);
    } else if (ev.kind == event_kind::order_changed && is_terminal(rec.status))
      continue; // a terminal order's later change (e.g. a refund)
    ++st.stats.entered[static_cast<size_t>(rec.status)];
    if (is_terminal(rec.status)) {
      if (i != st.open.end())
        st.open.erase(i);
    } else {
      ++st.stats.open_orders[static_cast<size_t>(rec.status)];
      count_held(st.stats, now, 1);
      st.open.insert_or_assign(rec.id, now);
    }
  }
}

// Counts a failed commit; the journal is failing from the first of a run of
// them until a commit succeeds.
void note_failure(journal_stats& stats, const caf::error& err) {
  ++stats.failures;
  if (!stats.failing) {
    stats.failing = true;
    stats.failing_since =
        std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::system_clock::now().time_since_epoch())
            .count();
  }
  stats.last_error = message_of(err);
}

// Applies the committed events the store has not yet applied to its current
// state. A failure leaves the store unable to serve: counted and logged as a
// failed commit would be.
void catch_up(journal_ptr self) {
  auto& st = self->state;
  if (auto err = st.store->apply_committed()) {
    note_failure(st.stats, err);
    log::error("journal.apply_failed",
               {{"store", st.store->describe()}, {"error", describe(err)}});
  } else {
    ++st.stats.applies;
  }
  st.stats.unapplied = st.store->unapplied();
}

// Keeps the store's current state close behind its log: right after the
// commit's appends were answered once apply_after events wait, else as soon
// as no append waits.
void keep_up(journal_ptr self) {
  auto& st = self->state;
  auto n = st.store->unapplied();
  st.stats.unapplied = n;
  if (n == 0)
    return;
  if (n >= st.apply_after) {
    catch_up(self);
  } else if (!st.catch_up_scheduled) {
    st.catch_up_scheduled = true;
    self->send(self, atom::catch_up_v);
  }
}

// Where the log ends for its readers: this store's last event, or, in a
// log other writers add to, the last any of them committed.
uint64_t log_end(const journal_state& st) {
  return std::max(st.log_end, st.stats.last_seq);
}

// Reads where a log other writers add to ends now (kept as it was if the
// store cannot say).
void look_at_log_end(journal_state& st) {
  if (!st.store->shared_log())
    return;
  st.log_end_looked = std::chrono::steady_clock::now();
  if (auto end = st.store->log_end())
    st.log_end = std::max(st.log_end, *end);
}

// How often the end of a log other writers add to is looked at while
// readers wait for events past it, and at least how long apart readers
// that come to wait make it look (a commit here wakes every reader, and
// each comes back at once to wait for the next event).
constexpr auto log_end_interval = std::chrono::milliseconds{100};
constexpr auto log_end_gap = std::chrono::milliseconds{20};

// Answers every waiting reader with what is durable now.
void release_watchers(journal_state& st) {
  for (auto& [id, promise] : st.watchers)
    promise.deliver(log_end(st));
  st.watchers.clear();
}

// Commits everything pending, in batches of whole appends of at most
// batch_events_max events (an append larger than that is one batch of its
// own), and answers each append.
void flush_pending(journal_ptr self) {
  auto& st = self->state;
  st.flush_scheduled = false;
  auto last_before = st.stats.last_seq;
  size_t first_waiter = 0;
  size_t first_event = 0;
  caf::error earlier_failure; // a barrier after a failed batch fails too
  std::vector<event> batch;
  while (first_waiter < st.waiting.size()) {
    // Take whole appends while they fit.
    size_t last_waiter = first_waiter;
    size_t count = 0;
    while (last_waiter < st.waiting.size() &&
           (count == 0 ||
            count + st.waiting[last_waiter].events <= st.batch_events_max)) {
      count += st.waiting[last_waiter].events;
      ++last_waiter;
    }
    batch.assign(
        std::make_move_iterator(st.pending.begin() + first_event),
        std::make_move_iterator(st.pending.begin() + first_event + count));
    // An empty append is a barrier: it is answered once every append before
    // it is durable, without a commit of its own.
    auto started = std::chrono::steady_clock::now();
    auto err = count > 0 ? st.store->commit(batch) : earlier_failure;
    if (err) {
      earlier_failure = err;
      if (count > 0)
        note_failure(st.stats, err);
      log::error("journal.commit_failed", {{"store", st.store->describe()},
                                           {"events", uint64_t{count}},
                                           {"error", describe(err)}});
      for (auto i = first_waiter; i < last_waiter; ++i)
        st.waiting[i].promise.deliver(err);
    } else {
      if (count > 0) {
        ++st.stats.batches;
        st.stats.failing = false;
        st.stats.failing_since = 0;
        st.stats.last_error.clear();
        auto us = static_cast<uint64_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(
                std::chrono::steady_clock::now() - started)
                .count());
        count_in(st.stats.batch_sizes, journal_batch_bounds, count);
        count_in(st.stats.commit_us, journal_commit_us_bounds, us);
        st.stats.commit_us_sum += us;
        track_orders(st, batch);
      }
      st.stats.events += count;
      st.stats.max_batch = std::max<uint64_t>(st.stats.max_batch, count);
      auto seq = st.store->last_seq() - count;
      for (auto i = first_waiter; i < last_waiter; ++i) {
        seq += st.waiting[i].events;
        ++st.stats.appends;
        st.waiting[i].promise.deliver(seq);
      }
      st.stats.last_seq = st.store->last_seq();
    }
    first_waiter = last_waiter;
    first_event += count;
  }
  st.pending.clear();
  st.waiting.clear();
  // Every waiting reader waits for the event after the last durable one
  // when it came (an await past that is answered at once): any new event
  // answers them all.
  if (st.stats.last_seq > last_before)
    release_watchers(st);
  keep_up(self);
}

} // namespace

shard_state state_of_shards(recovered_state& all,
                            const std::vector<uint32_t>& shards,
                            uint32_t count) {
  shard_state result;
  if (count == 0)
    return result;
  std::vector<bool> wanted(count, false);
  for (auto s : shards)
    if (s < count)
      wanted[s] = true;
  auto on = [&](const sku_id& sku) {
    return wanted[shard_of_sku(sku, count)];
  };
  for (auto& sku : all.skus)
    if (on(sku.sku))
      result.skus.push_back(std::move(sku));
  for (auto& h : all.holds)
    if (on(h.sku))
      result.holds.push_back(std::move(h));
  result.external = wanted[duty_shard];
  for (auto& rec : all.live_orders) {
    if (rec.lines.empty())
      continue;
    if (rec.seller == seller::external ? result.external
                                       : on(rec.lines.front().sku))
      result.live_orders.push_back(std::move(rec));
  }
  if (!result.external)
    return result;
  for (auto& [source, value] : all.cursors)
    if (source == wms_feed_source)
      result.wms_cursor = value;
  result.external_deltas = std::move(all.external_deltas);
  result.wms_reservations = std::move(all.wms_reservations);
  return result;
}

open_order open_order_of(const order_record& rec) {
  open_order result{rec.status, 0};
  if (held_as(rec.status))
    for (auto& line : rec.lines)
      result.held += held_quantity(rec, line);
  return result;
}

journal_actor::behavior_type
journal(journal_ptr self, std::shared_ptr<journal_store> store,
        size_t batch_events_max,
        std::unordered_map<order_id, open_order> open) {
  auto& stats = self->state.stats;
  stats.batch_sizes.assign(std::size(journal_batch_bounds) + 1, 0);
  stats.commit_us.assign(std::size(journal_commit_us_bounds) + 1, 0);
  stats.open_orders.assign(static_cast<size_t>(last_order_status) + 1, 0);
  stats.entered.assign(stats.open_orders.size(), 0);
  for (auto& kvp : open) {
    ++stats.open_orders[static_cast<size_t>(kvp.second.status)];
    count_held(stats, kvp.second, 1);
  }
  self->state.open = std::move(open);
  self->state.store = std::move(store);
  // Readers waiting for events are answered before the journal goes, not
  // left to their timeouts.
  self->set_exit_handler([=](caf::exit_msg& msg) {
    if (!msg.reason)
      return; // as CAF's default: a normal exit of a link is no reason
    release_watchers(self->state);
    self->quit(msg.reason);
  });
  self->state.batch_events_max = std::max<size_t>(1, batch_events_max);
  self->state.stats.last_seq = self->state.store->last_seq();
  return {
      [=](atom::append, std::vector<event>& events) -> caf::result<uint64_t> {
        auto& st = self->state;
        if (auto err = st.store->admit(events))
          return err; // refused alone, not with the batch it would join
        auto rp = self->make_response_promise<uint64_t>();
        st.waiting.push_back({rp, events.size()});
        st.pending.insert(st.pending.end(),
                          std::make_move_iterator(events.begin()),
                          std::make_move_iterator(events.end()));
        // Appends already in the mailbox arrive before this flush and join the
        // same batch.
        if (!st.flush_scheduled) {
          st.flush_scheduled = true;
          self->send(self, atom::flush_v);
        }
        return rp;
      },
      [=](atom::flush) { flush_pending(self); },
      [=](atom::prune, caf::timespan retention) {
        using namespace std::chrono;
        // Events not yet durable are none of the store's business yet.
        if (!self->state.pending.empty())
          flush_pending(self);
        auto now =
            duration_cast<milliseconds>(system_clock::now().time_since_epoch())
                .count();
        auto before = now - duration_cast<milliseconds>(retention).count();
        // A slice at a time, so that appends wait little behind it.
        constexpr uint64_t slice = 10000;
        auto gone = self->state.store->prune(before, slice);
        if (!gone)
          log::warn("journal.prune_failed",
                    {{"error", describe(gone.error())}});
        else if (*gone > 0)
          log::info(
              "journal.pruned",
              {{"events", *gone}, {"first", self->state.store->first_seq()}});
        auto again =
            std::clamp<caf::timespan>(retention / 10, seconds(1), hours(1));
        if (gone && *gone == slice)
          again = seconds(1);
        self->delayed_send(self, again, atom::prune_v, retention);
      },
      [=](atom::catch_up) {
        self->state.catch_up_scheduled = false;
        // Appends wait: their commit goes first (and keeps up after).
        if (!self->state.flush_scheduled)
          catch_up(self);
      },
      [=](atom::read, uint64_t from,
          uint64_t max) -> caf::result<std::vector<event>> {
        auto res = self->state.store->read(from, max);
        if (!res)
          return res.error();
        return std::move(*res);
      },
      [=](atom::await, uint64_t seq,
          caf::timespan wait) -> caf::result<uint64_t> {
        auto& st = self->state;
        // Where a log other writers add to ends: looked at for a question
        // of where it ends (seq 0) and for a reader past what this node
        // knows (a cursor another node handed out); any other reader looks
        // at most every log_end_gap. So the end a reader is answered (a
        // feed page reads up to it) is at most that old, whatever its
        // cursor; between the looks, the watch below finds other nodes'
        // events for the readers that wait.
        auto known = log_end(st);
        if (seq == 0 || seq > known + 1 ||
            std::chrono::steady_clock::now() - st.log_end_looked >= log_end_gap)
          look_at_log_end(st);
        auto end = log_end(st);
        // Nothing to wait for: events past `seq` are there, the reader is
        // past the log's end (a cursor of another store), no wait was
        // asked, or omsd is stopping.
        if (seq <= end || seq > end + 1 || wait <= caf::timespan{0} ||
            st.watchers_released)
          return end;
        if (st.watchers.size() >= journal_watchers_max)
          return make_error(errc::unavailable,
                            "too many readers are waiting for events; retry "
                            "later");
        auto id = ++st.next_watcher;
        auto promise = self->make_response_promise<uint64_t>();
        st.watchers.emplace(id, promise);
        self->delayed_send(self, wait, atom::await_v, id);
        // Other writers' commits wake no one here: their log's end is
        // looked at while readers wait.
        if (st.store->shared_log() && !st.log_end_watched) {
          st.log_end_watched = true;
          self->delayed_send(self, log_end_interval, atom::tick_v);
        }
        return promise;
      },
      [=](atom::tick) {
        auto& st = self->state;
        st.log_end_watched = false;
        if (st.watchers.empty())
          return;
        auto before = log_end(st);
        look_at_log_end(st);
        if (log_end(st) > before)
          release_watchers(st);
        if (!st.watchers.empty()) {
          st.log_end_watched = true;
          self->delayed_send(self, log_end_interval, atom::tick_v);
        }
      },
      [=](atom::await) {
        self->state.watchers_released = true;
        release_watchers(self->state);
      },
      [=](atom::await, uint64_t id) {
        auto& st = self->state;
        auto i = st.watchers.find(id);
        if (i == st.watchers.end())
          return;
        i->second.deliver(log_end(st));
        st.watchers.erase(i);
      },
      [=](atom::get, const order_id& id) -> caf::result<order_record> {
        // Reads its own writes: appends waiting for their commit go first.
        if (!self->state.pending.empty())
          flush_pending(self);
        auto res = self->state.store->find_order(id);
        if (!res)
          return res.error();
        return std::move(*res);
      },
      // The reads its reader answers where it has one (journal_reader):
      // nothing pending to flush first (this node's own deliveries of an
      // inbound id wait in its inbox until their change is durable).
      [=](atom::lookup, const customer_id& customer, const std::string& key) {
        return read_key(*self->state.store, customer, key);
      },
      [=](atom::lookup, const std::string& event_id) {
        return read_inbox_id(*self->state.store, event_id);
      },
      [=](atom::load_sku, const sku_id& sku) -> caf::result<stored_sku> {
        if (!self->state.pending.empty())
          flush_pending(self);
        auto res = self->state.store->load_sku(sku);
        if (!res)
          return res.error();
        return std::move(*res);
      },
      [=](atom::load_external,
          const sku_id& sku) -> caf::result<stored_external> {
        if (!self->state.pending.empty())
          flush_pending(self);
        auto res = self->state.store->load_external(sku);
        if (!res)
          return res.error();
        return std::move(*res);
      },
      [=](atom::load, const shard_epochs& which,
          uint32_t count) -> caf::result<shard_state> {
        if (!self->state.pending.empty())
          flush_pending(self);
        auto duty = std::find(which.shards.begin(), which.shards.end(),
                              duty_shard) != which.shards.end();
        auto res = self->state.store->load_shards(which.shards, count, duty);
        if (!res)
          return res.error();
        return state_of_shards(*res, which.shards, count);
      },
      [=](atom::search, const order_query& query) {
        return read_search(*self->state.store, query);
      },
      [=](atom::list, const customer_id& customer, uint64_t offset,
          uint64_t limit) {
        return read_customer_orders(*self->state.store, customer, offset,
                                    limit);
      },
      [=](atom::stats) { return self->state.stats; },
  };
}

} // namespace oms
