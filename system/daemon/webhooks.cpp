#include "system/daemon/webhooks.hpp"

#include <algorithm>
#include <mutex>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include "actors/shard_map.hpp"
#include "messages/errors.hpp"
#include "messages/json.hpp"
#include "messages/type_ids.hpp"
#include "system/daemon/request_fields.hpp"
#include "system/daemon/webhooks_impl.hpp"
#include "system/log.hpp"

namespace oms::daemon {

using namespace webhook_detail;

namespace {

caf::error missing(const std::string& id) {
  return make_error(errc::not_found, "no webhook " + id,
                    json{{"webhookId", id}}.dump());
}

} // namespace

// -- the control thread -------------------------------------------------------

bool is_webhook_value(std::string_view name) {
  return name.rfind("webhook:", 0) == 0 ||
         name.rfind("webhook-cursor:", 0) == 0 ||
         name.rfind("webhook-dead:", 0) == 0;
}

caf::error webhook_dispatcher::impl::append(caf::scoped_actor& self,
                                            std::vector<event> evs) {
  for (auto& ev : evs)
    ev.fence = cfg.fence;
  caf::error result;
  self->request(journal, journal_timeout, atom::append_v, std::move(evs))
      .receive([](uint64_t) {}, [&](caf::error& err) { result = err; });
  return result;
}

// Queues `op` for the control thread; false (and not queued) once
// stopping.
bool webhook_dispatcher::impl::submit(
    std::function<void(caf::scoped_actor&)> op) {
  std::lock_guard<std::mutex> lk{mtx};
  if (stopping)
    return false;
  ops.push_back(std::move(op));
  ops_cv.notify_one();
  return true;
}

// Queues a change for the control thread, or answers stopped() once
// stopping.
void webhook_dispatcher::impl::change(
    answer done, std::function<void(caf::scoped_actor&, const answer&)> op) {
  auto shared = std::make_shared<answer>(std::move(done));
  if (!submit([shared, op = std::move(op)](caf::scoped_actor& self) {
        op(self, *shared);
      }))
    (*shared)(stopped());
}

// A change that came after stop(): on a cluster, the duty shard moved (or
// omsd stops), and the request goes to its holder; on one node, omsd stops.
caf::error webhook_dispatcher::impl::stopped() const {
  if (cfg.fence != 0)
    return shard_map::not_owner(cfg.duty_shard, "webhooks", "");
  return make_error(errc::not_ready, "omsd is stopping");
}

// Journals every cursor that moved and every dead-letter list that could
// not be, in one append.
void webhook_dispatcher::impl::save_cursors(caf::scoped_actor& self) {
  std::vector<event> evs;
  std::vector<std::pair<courier_ptr, uint64_t>> saved;
  std::vector<courier_ptr> deads;
  {
    std::lock_guard<std::mutex> lk{mtx};
    for (auto& [id, c] : couriers) {
      if (c->removed)
        continue;
      if (c->dead_unsaved) {
        evs.push_back(named_value(dead_key(id), dead_doc(*c)));
        deads.push_back(c);
      }
      if (c->unsaved && c->cursor > c->journaled) {
        evs.push_back(named_value(cursor_key(id), std::to_string(c->cursor)));
        saved.emplace_back(c, c->cursor);
      }
    }
  }
  if (evs.empty())
    return;
  if (auto err = append(self, std::move(evs))) {
    log::error("webhook.journal_failed", {{"error", describe(err)}});
    return;
  }
  std::lock_guard<std::mutex> lk{mtx};
  for (auto& c : deads)
    c->dead_unsaved = false;
  for (auto& [c, at] : saved) {
    c->journaled = std::max(c->journaled, at);
    if (c->cursor == at)
      c->unsaved = false;
  }
}

// Joins the threads of deleted subscriptions that ended.
void webhook_dispatcher::impl::reap() {
  std::vector<courier_ptr> done;
  {
    std::lock_guard<std::mutex> lk{mtx};
    auto ended = std::stable_partition(
        retired.begin(), retired.end(),
        [](const courier_ptr& c) { return !c->finished.load(); });
    done.assign(ended, retired.end());
    retired.erase(ended, retired.end());
  }
  for (auto& c : done)
    if (c->thread.joinable())
      c->thread.join();
}

void webhook_dispatcher::impl::control_loop() {
  caf::scoped_actor self{sys};
  auto next_save = std::chrono::steady_clock::now() + cursor_interval;
  for (;;) {
    std::function<void(caf::scoped_actor&)> op;
    bool last = false;
    {
      std::unique_lock<std::mutex> lk{mtx};
      ops_cv.wait_until(lk, next_save,
                        [&] { return couriers_stopped || !ops.empty(); });
      if (!ops.empty()) {
        op = std::move(ops.front());
        ops.pop_front();
      } else {
        last = couriers_stopped;
      }
    }
    try {
      if (op)
        op(self);
      if (last || std::chrono::steady_clock::now() >= next_save) {
        save_cursors(self);
        reap();
        next_save = std::chrono::steady_clock::now() + cursor_interval;
      }
    } catch (const std::exception& e) {
      log::error("webhook.control_failed", {{"error", e.what()}});
    }
    if (last)
      return;
  }
}

// Changes subscription `id` by `apply`: on a copy, journaled, then on the
// subscription as it stands by then (a pause its courier made meanwhile
// stays). The subscription as it now is, or
// nullopt once `done` was answered the error.
std::optional<webhook_config> webhook_dispatcher::impl::edit(
    caf::scoped_actor& self, const std::string& id, const answer& done,
    const std::function<void(webhook_config&)>& apply) {
  webhook_config conf;
  courier_ptr c;
  {
    std::lock_guard<std::mutex> lk{mtx};
    c = find(id);
    if (c)
      conf = c->cfg;
  }
  if (!c) {
    done(missing(id));
    return std::nullopt;
  }
  apply(conf);
  conf.updated_at = wall_ms();
  if (auto err = append(
          self, {named_value(config_key(id), stored_json(conf).dump())})) {
    done(err);
    return std::nullopt;
  }
  std::lock_guard<std::mutex> lk{mtx};
  apply(c->cfg);
  c->cfg.updated_at = conf.updated_at;
  return c->cfg;
}

webhook_dispatcher::impl::courier_ptr
webhook_dispatcher::impl::find(const std::string& id) const {
  auto i = couriers.find(id);
  return i == couriers.end() ? nullptr : i->second;
}

// -- the dispatcher -----------------------------------------------------------

webhook_dispatcher::webhook_dispatcher(
    caf::actor_system& sys, journal_actor journal, webhook_settings cfg,
    const std::vector<std::pair<std::string, std::string>>& stored)
    : d_(std::make_unique<impl>(sys, std::move(journal), std::move(cfg))) {
  // Once per process: on a cluster node, dispatchers come and go with the
  // duty, on whichever thread holds the last reference.
  static std::once_flag curl_once;
  std::call_once(curl_once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  std::map<std::string, std::string> cursors;
  std::map<std::string, std::string> deads;
  for (auto& [name, value] : stored) {
    std::string_view n{name};
    if (n.rfind("webhook:", 0) == 0) {
      if (value.empty())
        continue;
      auto conf = webhook_from_stored(value);
      if (!conf) {
        log::error("webhook.unreadable", {{"name", name}});
        continue;
      }
      auto c = std::make_shared<impl::courier>(std::move(*conf));
      d_->couriers[c->id] = c;
    } else if (n.rfind("webhook-cursor:", 0) == 0) {
      cursors[name.substr(15)] = value;
    } else if (n.rfind("webhook-dead:", 0) == 0) {
      deads[name.substr(13)] = value;
    }
  }
  for (auto& [id, c] : d_->couriers) {
    if (auto i = cursors.find(id); i != cursors.end()) {
      auto seq = parse_decimal(i->second);
      c->cursor = c->pos = c->journaled = seq.value_or(0);
    }
    if (auto i = deads.find(id); i != deads.end()) {
      auto arr = json::parse(i->second, nullptr, false);
      if (arr.is_array())
        for (auto& x : arr)
          if (auto d = delivery::from_json(x))
            c->dead.push_back(*d);
    }
    d_->launch(c);
  }
  d_->control = std::thread([this] { d_->control_loop(); });
}

webhook_dispatcher::~webhook_dispatcher() {
  stop();
}

const webhook_settings& webhook_dispatcher::settings() const {
  return d_->cfg;
}

void webhook_dispatcher::stop() {
  std::vector<impl::courier_ptr> all;
  {
    std::lock_guard<std::mutex> lk{d_->mtx};
    if (d_->couriers_stopped)
      return;
    // No change is taken from now on; one being made launches no courier.
    d_->stopping = true;
    for (auto& [id, c] : d_->couriers)
      all.push_back(c);
    for (auto& c : d_->retired)
      all.push_back(c);
    for (auto& c : all) {
      c->stop = true;
      c->cv.notify_all();
    }
  }
  // Couriers waiting in the journal for an event stop waiting. Not on a
  // cluster node, where the dispatcher stops whenever the duty moves and
  // the journal's other readers (long polls, streams) go on: its couriers
  // wait 200 ms at a time.
  if (d_->cfg.fence == 0)
    caf::anon_send(d_->journal, atom::await_v);
  for (auto& c : all)
    if (c->thread.joinable())
      c->thread.join();
  {
    std::lock_guard<std::mutex> lk{d_->mtx};
    d_->couriers_stopped = true;
    d_->retired.clear();
    d_->ops_cv.notify_all();
  }
  // It makes the changes queued, journals the last cursors, and ends.
  if (d_->control.joinable())
    d_->control.join();
}

void webhook_dispatcher::create(webhook_change fields, answer done) {
  d_->change(std::move(done), [this, fields = std::move(fields)](
                                  caf::scoped_actor& self, const answer& done) {
    bool full;
    {
      std::lock_guard<std::mutex> lk{d_->mtx};
      full = d_->couriers.size() >= d_->cfg.webhooks_max;
    }
    if (full)
      return done(make_error(
          errc::conflict, "there are " + std::to_string(d_->cfg.webhooks_max) +
                              " webhooks already; delete one first"));
    webhook_config conf;
    conf.id = new_webhook_id();
    conf.url = fields.url.value_or("");
    conf.types = fields.types.value_or(std::vector<std::string>{});
    conf.description = fields.description.value_or("");
    conf.secret = new_webhook_secret();
    conf.paused = fields.paused.value_or(false);
    if (conf.paused)
      conf.pause_reason = "paused by the admin";
    conf.created_at = conf.updated_at = wall_ms();
    // It receives what is committed after it.
    uint64_t last = 0;
    caf::error err;
    self->request(d_->journal, journal_timeout, atom::await_v, uint64_t{0},
                  caf::timespan{0})
        .receive([&](uint64_t x) { last = x; },
                 [&](caf::error& e) { err = e; });
    if (!err)
      err = d_->append(
          self, {named_value(config_key(conf.id), stored_json(conf).dump()),
                 named_value(cursor_key(conf.id), std::to_string(last))});
    if (err)
      return done(err);
    auto c = std::make_shared<impl::courier>(conf);
    c->cursor = c->pos = c->journaled = last;
    bool launched = false;
    {
      std::lock_guard<std::mutex> lk{d_->mtx};
      d_->couriers[conf.id] = c;
      // Stopping: it is stored, and delivers from the next start.
      if (!d_->stopping) {
        d_->launch(c);
        launched = true;
      }
    }
    log::info(
        "webhook.created",
        {{"webhook", conf.id}, {"url", conf.url}, {"delivering", launched}});
    auto shown = public_json(conf);
    shown["secret"] = conf.secret;
    done(std::move(shown));
  });
}

void webhook_dispatcher::update(const std::string& id, webhook_change fields,
                                answer done) {
  d_->change(std::move(done), [this, id, fields = std::move(fields)](
                                  caf::scoped_actor& self, const answer& done) {
    bool resumed = false;
    auto conf = d_->edit(self, id, done, [&](webhook_config& x) {
      if (fields.url)
        x.url = *fields.url;
      if (fields.types)
        x.types = *fields.types;
      if (fields.description)
        x.description = *fields.description;
      if (fields.paused) {
        if (*fields.paused && !x.paused)
          x.pause_reason = "paused by the admin";
        resumed = x.paused && !*fields.paused;
        x.paused = *fields.paused;
        if (!x.paused)
          x.pause_reason.clear();
      }
    });
    if (!conf)
      return;
    {
      std::lock_guard<std::mutex> lk{d_->mtx};
      if (auto c = d_->find(id)) {
        if (resumed)
          c->failures = 0;
        // A new URL, types or resumption is tried at once, not after a
        // backoff meant for the old one.
        c->wake = true;
        c->cv.notify_all();
      }
    }
    log::info("webhook.updated",
              {{"webhook", id}, {"paused", conf->paused}, {"url", conf->url}});
    done(public_json(*conf));
  });
}

void webhook_dispatcher::remove(const std::string& id, answer done) {
  d_->change(std::move(done),
             [this, id](caf::scoped_actor& self, const answer& done) {
               impl::courier_ptr c;
               {
                 std::lock_guard<std::mutex> lk{d_->mtx};
                 c = d_->find(id);
               }
               if (!c)
                 return done(missing(id));
               if (auto err = d_->append(self, {named_value(config_key(id), ""),
                                                named_value(cursor_key(id), ""),
                                                named_value(dead_key(id), "")}))
                 return done(err);
               {
                 std::lock_guard<std::mutex> lk{d_->mtx};
                 d_->couriers.erase(id);
                 c->removed = true;
                 c->stop = true;
                 c->cv.notify_all();
                 if (c->thread.joinable())
                   d_->retired.push_back(c);
               }
               log::info("webhook.deleted", {{"webhook", id}});
               done(json::object());
             });
}

void webhook_dispatcher::rotate(const std::string& id,
                                std::chrono::milliseconds grace, answer done) {
  d_->change(std::move(done),
             [this, id, grace](caf::scoped_actor& self, const answer& done) {
               auto fresh = new_webhook_secret();
               auto until = wall_ms() + grace.count();
               auto conf = d_->edit(self, id, done, [&](webhook_config& x) {
                 x.previous_secret = x.secret;
                 x.previous_until = until;
                 x.secret = fresh;
               });
               if (!conf)
                 return;
               log::info("webhook.rotated", {{"webhook", id}});
               auto shown = public_json(*conf);
               shown["secret"] = conf->secret;
               done(std::move(shown));
             });
}

caf::expected<json> webhook_dispatcher::list() const {
  std::lock_guard<std::mutex> lk{d_->mtx};
  auto arr = json::array();
  for (auto& [id, c] : d_->couriers)
    arr.push_back(public_json(c->cfg));
  return json{{"webhooks", std::move(arr)}};
}

caf::expected<json> webhook_dispatcher::get(const std::string& id) const {
  std::lock_guard<std::mutex> lk{d_->mtx};
  auto c = d_->find(id);
  if (!c)
    return missing(id);
  auto out = public_json(c->cfg);
  out["cursor"] = std::to_string(c->cursor);
  out["failuresInARow"] = c->failures;
  out["deadLetters"] = c->dead.size();
  return out;
}

caf::expected<json>
webhook_dispatcher::deliveries(const std::string& id) const {
  std::lock_guard<std::mutex> lk{d_->mtx};
  auto c = d_->find(id);
  if (!c)
    return missing(id);
  std::map<uint64_t, json, std::greater<>> all;
  for (auto& d : c->dead)
    all[d.event] = d.shown();
  for (auto& d : c->recent)
    all[d.event] = d.shown();
  auto arr = json::array();
  for (auto& [seq, j] : all)
    arr.push_back(std::move(j));
  auto dead = json::array();
  for (auto& d : c->dead)
    dead.push_back(std::to_string(d.event));
  return json{{"deliveries", std::move(arr)},
              {"deadLetters", std::move(dead)},
              {"cursor", std::to_string(c->cursor)}};
}

caf::expected<json> webhook_dispatcher::retry(const std::string& id,
                                              uint64_t event) {
  std::lock_guard<std::mutex> lk{d_->mtx};
  auto c = d_->find(id);
  if (!c)
    return missing(id);
  const delivery* found = nullptr;
  for (auto& d : c->recent)
    if (d.event == event)
      found = &d;
  for (auto& d : c->dead)
    if (found == nullptr && d.event == event)
      found = &d;
  if (found == nullptr)
    return make_error(errc::not_found,
                      "webhook " + id + " has no delivery of event " +
                          std::to_string(event) + " on record",
                      json{{"delivery", std::to_string(event)}}.dump());
  auto shown = found->shown();
  if (found->status == "RETRYING" || found->status == "PENDING") {
    // The one in order: tried again now rather than after its wait.
    c->wake = true;
  } else if (std::find(c->jobs.begin(), c->jobs.end(), event) ==
             c->jobs.end()) {
    c->jobs.push_back(event);
  }
  c->cv.notify_all();
  return shown;
}

webhook_counters webhook_dispatcher::counters(uint64_t last_seq) const {
  webhook_counters out;
  out.delivered = d_->delivered;
  out.failed = d_->failed;
  out.dead = d_->dead;
  out.expired = d_->expired;
  auto now = wall_ms();
  std::lock_guard<std::mutex> lk{d_->mtx};
  for (auto& [id, c] : d_->couriers) {
    (c->cfg.paused ? out.paused : out.active) += 1;
    if (last_seq > c->cursor)
      out.lag_events += last_seq - c->cursor;
    if (c->head_at != 0)
      out.oldest_undelivered_s =
          std::max(out.oldest_undelivered_s,
                   static_cast<double>(now - c->head_at) / 1000.0);
  }
  return out;
}

} // namespace oms::daemon
