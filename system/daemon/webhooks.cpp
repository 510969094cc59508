#include "system/daemon/webhooks.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <curl/curl.h>

#include "messages/errors.hpp"
#include "messages/json.hpp"
#include "messages/type_ids.hpp"
#include "system/daemon/event_feed.hpp"
#include "system/daemon/request_fields.hpp"
#include "system/daemon/webhook_wire.hpp"
#include "system/log.hpp"

namespace oms::daemon {

namespace {

using nlohmann::json;
using std::chrono::milliseconds;

constexpr size_t recent_max = 100;
constexpr size_t dead_max = 100;
constexpr uint64_t read_batch = 100;
constexpr size_t answer_body_max = 4096;
constexpr auto journal_timeout = std::chrono::seconds(30);
// How long a courier with nothing to deliver waits in the journal before
// it looks at its flags again.
constexpr auto idle_wait = std::chrono::seconds(1);

timestamp_ms wall_ms() {
  return std::chrono::duration_cast<milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string config_key(const std::string& id) {
  return "webhook:" + id;
}
std::string cursor_key(const std::string& id) {
  return "webhook-cursor:" + id;
}
std::string dead_key(const std::string& id) {
  return "webhook-dead:" + id;
}

event named_value(const std::string& name, std::string value) {
  event ev;
  ev.kind = event_kind::inbox_cursor;
  ev.at = wall_ms();
  ev.reason = name;
  ev.lot = std::move(value);
  return ev;
}

// One delivery as the API shows it.
struct delivery {
  uint64_t event = 0;
  std::string type;
  /// PENDING (not tried yet), RETRYING, DELIVERED, DEAD.
  std::string status = "PENDING";
  uint32_t attempts = 0;
  long http_status = 0;
  double latency_ms = 0;
  std::string error;
  timestamp_ms attempted_at = 0;
  timestamp_ms next_retry_at = 0;

  json to_json() const {
    json out{{"id", std::to_string(event)},
             {"eventType", type},
             {"status", status},
             {"attempts", attempts},
             {"responseStatus", http_status},
             {"latencyMs", latency_ms},
             {"error", error},
             {"attemptedAt", attempted_at}};
    if (next_retry_at != 0)
      out["nextRetryAt"] = next_retry_at;
    return out;
  }

  // As the API shows it: times as text.
  json shown() const {
    auto out = to_json();
    if (attempted_at == 0)
      out.erase("attemptedAt");
    else
      out["attemptedAt"] = format_timestamp(attempted_at);
    if (next_retry_at != 0)
      out["nextRetryAt"] = format_timestamp(next_retry_at);
    return out;
  }

  static std::optional<delivery> from_json(const json& j) {
    try {
      delivery d;
      d.event = std::stoull(j.at("id").get<std::string>());
      d.type = j.at("eventType").get<std::string>();
      d.status = j.at("status").get<std::string>();
      d.attempts = j.at("attempts").get<uint32_t>();
      d.http_status = j.at("responseStatus").get<long>();
      d.latency_ms = j.at("latencyMs").get<double>();
      d.error = j.at("error").get<std::string>();
      d.attempted_at = j.at("attemptedAt").get<timestamp_ms>();
      return d;
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
};

// What one POST brought back.
struct post_result {
  long status = 0;
  std::string error;
  double ms = 0;
};

struct post_guard {
  const std::atomic<bool>* stop;
  size_t body = 0;
};

size_t keep_little(char*, size_t size, size_t count, void* user) {
  auto* g = static_cast<post_guard*>(user);
  g->body += size * count;
  // The answer's body is not read past a few KiB: the transfer ends there
  // (the status is kept).
  return g->body > answer_body_max ? 0 : size * count;
}

int stop_check(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<post_guard*>(user)->stop->load() ? 1 : 0;
}

// One POST on `h` (its connection kept for the next); redirects are not
// followed, no proxy is used, only http(s).
post_result post(CURL* h, const std::string& url,
                 const std::vector<std::string>& fields,
                 const std::string& body, milliseconds timeout,
                 const std::atomic<bool>& stop) {
  post_result out;
  if (h == nullptr) {
    out.error = "cannot initialize libcurl";
    return out;
  }
  curl_easy_reset(h);
  post_guard guard{&stop};
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_POST, 1L);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                   static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, keep_little);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &guard);
  curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, stop_check);
  curl_easy_setopt(h, CURLOPT_XFERINFODATA, &guard);
  curl_slist* list = nullptr;
  for (auto& f : fields)
    list = curl_slist_append(list, f.c_str());
  list = curl_slist_append(list, "Expect:");
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
  auto t0 = std::chrono::steady_clock::now();
  auto rc = curl_easy_perform(h);
  out.ms = std::chrono::duration<double, std::milli>(
               std::chrono::steady_clock::now() - t0)
               .count();
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  // An answer cut short after its status line still counts as that status.
  if (rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && status != 0))
    out.status = status;
  else
    out.error = curl_easy_strerror(rc);
  curl_slist_free_all(list);
  return out;
}

// How often the control thread journals the cursors that moved (all in one
// append): a crash delivers again at most this much (at least once).
constexpr auto cursor_interval = milliseconds{200};

// The event as a delivery's body; bytes that are not UTF-8 (none should
// be) are replaced rather than stop the courier.
std::string body_of(const json& entry) {
  return entry.dump(-1, ' ', false, json::error_handler_t::replace);
}

} // namespace

namespace {

caf::error missing(const std::string& id) {
  return make_error(errc::not_found, "no webhook " + id,
                    json{{"webhookId", id}}.dump());
}

} // namespace

// -- the state ----------------------------------------------------------------

struct webhook_dispatcher::impl {
  // One subscription and its courier thread. Every field but `id`, `stop`,
  // `finished`, `curl` and `buffer` is guarded by impl::mtx.
  struct courier {
    explicit courier(webhook_config conf) : id(conf.id), cfg(std::move(conf)) {}

    const std::string id;
    webhook_config cfg;
    /// The last event done with (acknowledged, dead, or passed over), and
    /// the last one read.
    uint64_t cursor = 0;
    uint64_t pos = 0;
    /// The cursor as last journaled.
    uint64_t journaled = 0;
    /// Whether the cursor passed a published event since it was journaled
    /// (passing only events of internal bookkeeping, such as cursors, never
    /// journals one: that would feed itself).
    bool unsaved = false;
    /// The dead letters changed and could not be journaled yet.
    bool dead_unsaved = false;
    /// Deleted: nothing more is journaled for it.
    bool removed = false;
    uint32_t failures = 0;
    std::deque<delivery> recent;
    std::vector<delivery> dead;
    /// Events to deliver again (retry), before the next one in order.
    std::deque<uint64_t> jobs;
    /// Set to end the wait before the next try at once.
    bool wake = false;
    /// When the event being delivered was committed (0: none).
    timestamp_ms head_at = 0;
    std::atomic<bool> stop{false};
    std::atomic<bool> finished{false};
    std::thread thread;
    std::condition_variable cv;
    // The courier thread's own.
    CURL* curl = nullptr;
    std::deque<std::pair<uint64_t, event>> buffer;
  };
  using courier_ptr = std::shared_ptr<courier>;

  caf::actor_system& sys;
  journal_actor journal;
  webhook_settings cfg;
  mutable std::mutex mtx;
  std::map<std::string, courier_ptr> couriers;
  /// Deleted ones whose thread is still to be joined.
  std::vector<courier_ptr> retired;
  std::deque<std::function<void(caf::scoped_actor&)>> ops;
  std::condition_variable ops_cv;
  /// No change is taken any more (stop() began).
  bool stopping = false;
  /// The couriers are stopped: the control thread ends once its queue is
  /// empty and the last cursors are journaled.
  bool couriers_stopped = false;
  std::thread control;
  std::atomic<uint64_t> delivered{0}, failed{0}, dead{0}, expired{0};
  std::mt19937_64 rng{std::random_device{}()};

  impl(caf::actor_system& s, journal_actor j, webhook_settings c)
      : sys(s), journal(std::move(j)), cfg(std::move(c)) {}

  // -- the journal ------------------------------------------------------------

  caf::error append(caf::scoped_actor& self, std::vector<event> evs) {
    caf::error result;
    self->request(journal, journal_timeout, atom::append_v, std::move(evs))
        .receive([](uint64_t) {}, [&](caf::error& err) { result = err; });
    return result;
  }

  // -- recording deliveries (under mtx) ---------------------------------------

  delivery& record(courier& c, uint64_t seq, const std::string& type) {
    for (auto& d : c.recent)
      if (d.event == seq)
        return d;
    if (c.recent.size() == recent_max)
      c.recent.pop_back();
    c.recent.push_front(delivery{});
    c.recent.front().event = seq;
    c.recent.front().type = type;
    return c.recent.front();
  }

  std::string dead_doc(const courier& c) const {
    auto arr = json::array();
    for (auto& d : c.dead)
      arr.push_back(d.to_json());
    return arr.dump();
  }

  // -- the courier ------------------------------------------------------------

  // Waits up to `wait` unless stopped, woken, or given a job.
  void nap(courier& c, milliseconds wait) {
    std::unique_lock<std::mutex> lk{mtx};
    c.cv.wait_for(lk, wait,
                  [&] { return c.stop.load() || c.wake || !c.jobs.empty(); });
    c.wake = false;
  }

  // Reads the next events into the buffer; false when there were none (it
  // waited for one).
  bool fill(caf::scoped_actor& self, courier& c) {
    std::vector<event> got;
    caf::error err;
    self->request(journal, journal_timeout, atom::read_v, c.pos + 1, read_batch)
        .receive([&](std::vector<event>& evs) { got = std::move(evs); },
                 [&](caf::error& e) { err = e; });
    if (auto first = expired_first(err)) {
      // The retention pruned events this subscription had not read (it was
      // paused, or its receiver down, that long): they cannot be delivered
      // any more. It goes on from the oldest event kept.
      log::error("webhook.events_expired",
                 {{"webhook", c.id}, {"from", c.pos + 1}, {"to", *first - 1}});
      expired += *first - 1 - std::min(c.pos, *first - 1);
      std::lock_guard<std::mutex> lk{mtx};
      c.pos = std::max(c.pos, *first - 1);
      c.cursor = std::max(c.cursor, c.pos);
      c.unsaved = true;
      return false;
    }
    if (err) {
      log::warn("webhook.read_failed",
                {{"webhook", c.id}, {"error", describe(err)}});
      nap(c, std::chrono::seconds(1));
      return false;
    }
    if (got.empty()) {
      uint64_t last = 0;
      self->request(journal, idle_wait + journal_timeout, atom::await_v,
                    c.pos + 1, caf::timespan{idle_wait})
          .receive([&](uint64_t x) { last = x; }, [](caf::error&) {});
      // Answered with nothing new before its wait (omsd is stopping, or
      // the journal refused): a pause rather than a spin.
      if (last <= c.pos)
        nap(c, milliseconds{100});
      return false;
    }
    for (size_t i = 0; i < got.size(); ++i)
      c.buffer.emplace_back(c.pos + 1 + i, std::move(got[i]));
    return true;
  }

  // Pauses the subscription now and journals it paused (through the
  // control thread).
  void pause(const courier_ptr& c, const std::string& reason) {
    {
      std::lock_guard<std::mutex> lk{mtx};
      if (c->cfg.paused)
        return;
      c->cfg.paused = true;
      c->cfg.pause_reason = reason;
    }
    log::warn("webhook.paused", {{"webhook", c->id}, {"reason", reason}});
    submit([this, c](caf::scoped_actor& self) {
      webhook_config now;
      {
        std::lock_guard<std::mutex> lk{mtx};
        if (c->removed)
          return;
        c->cfg.updated_at = wall_ms();
        now = c->cfg;
      }
      if (auto err = append(
              self, {named_value(config_key(now.id), stored_json(now).dump())}))
        log::error("webhook.journal_failed",
                   {{"webhook", now.id}, {"error", describe(err)}});
    });
  }

  // One attempt at `seq`; returns what it came to.
  attempt_outcome attempt(courier& c, const webhook_config& conf, uint64_t seq,
                          const json& entry, std::string& why) {
    auto body = body_of(entry);
    auto id = entry["id"].get<std::string>();
    auto now = wall_ms();
    auto ts = now / 1000;
    std::vector<std::string> fields = {
        "Content-Type: application/cloudevents+json",
        "User-Agent: omsd-webhooks", "webhook-id: " + id,
        "webhook-timestamp: " + std::to_string(ts),
        "webhook-signature: " + webhook_signatures(conf, id, ts, body, now)};
    auto r = post(c.curl, conf.url, fields, body, cfg.timeout, c.stop);
    auto outcome = classify_answer(r.status);
    why = r.status == 0 ? r.error
                        : "the receiver answered " + std::to_string(r.status);
    std::lock_guard<std::mutex> lk{mtx};
    auto& d = record(c, seq, entry["type"].get<std::string>());
    ++d.attempts;
    d.http_status = r.status;
    d.latency_ms = r.ms;
    d.attempted_at = now;
    d.error = outcome == attempt_outcome::delivered ? "" : why;
    d.next_retry_at = 0;
    d.status = outcome == attempt_outcome::delivered ? "DELIVERED"
               : outcome == attempt_outcome::dead    ? "DEAD"
                                                     : "RETRYING";
    return outcome;
  }

  // Delivers the head of the buffer, trying until it is acknowledged, dead,
  // or the subscription pauses or stops.
  void deliver_head(caf::scoped_actor& self, const courier_ptr& cp,
                    const webhook_config& conf, uint64_t seq, const json& entry,
                    timestamp_ms committed_at) {
    auto& c = *cp;
    {
      std::lock_guard<std::mutex> lk{mtx};
      c.head_at = committed_at;
      record(c, seq, entry["type"].get<std::string>());
    }
    if (auto why = destination_refusal(conf.url, cfg.allowed_hosts);
        !why.empty()) {
      pause(cp, "the destination " + why);
      return;
    }
    std::string why;
    auto outcome = attempt(c, conf, seq, entry, why);
    if (c.stop && outcome == attempt_outcome::retry)
      return; // abandoned: tried again after the restart
    if (outcome == attempt_outcome::retry) {
      ++failed;
      uint32_t failures;
      milliseconds wait{0};
      {
        std::lock_guard<std::mutex> lk{mtx};
        failures = ++c.failures;
        if (failures < cfg.failures_max) {
          std::uniform_real_distribution<double> jitter{0.0, 1.0};
          wait =
              retry_delay(failures, cfg.retry_base, cfg.retry_max, jitter(rng));
          record(c, seq, "").next_retry_at = wall_ms() + wait.count();
        }
      }
      if (failures >= cfg.failures_max) {
        pause(cp, "paused after " + std::to_string(failures) +
                      " failures in a row; the last: " + why);
        return;
      }
      nap(c, wait);
      return; // the loop tries the head again
    }
    std::vector<event> evs;
    uint32_t failures = 0;
    {
      std::lock_guard<std::mutex> lk{mtx};
      if (outcome == attempt_outcome::dead) {
        ++dead;
        failures = ++c.failures;
        if (c.dead.size() == dead_max)
          c.dead.erase(c.dead.begin());
        c.dead.push_back(record(c, seq, ""));
        evs.push_back(named_value(dead_key(c.id), dead_doc(c)));
        evs.push_back(named_value(cursor_key(c.id), std::to_string(seq)));
      } else {
        ++delivered;
        c.failures = 0;
      }
      // Acknowledged (or refused for good): done with. The control thread
      // journals the cursor after this, so a crash delivers the event
      // again rather than lose it (at least once).
      c.cursor = std::max(c.cursor, seq);
      c.pos = std::max(c.pos, seq);
      c.unsaved = true;
      c.head_at = 0;
    }
    c.buffer.pop_front();
    if (!evs.empty()) {
      // A dead letter is journaled at once, with the cursor past it; if
      // that fails, the control thread tries again with the next cursors.
      auto err = append(self, std::move(evs));
      std::lock_guard<std::mutex> lk{mtx};
      if (err) {
        log::error("webhook.journal_failed",
                   {{"webhook", c.id}, {"error", describe(err)}});
        c.dead_unsaved = true;
      } else {
        c.journaled = std::max(c.journaled, seq);
      }
    }
    if (outcome == attempt_outcome::dead && failures >= cfg.failures_max)
      pause(cp, "paused after " + std::to_string(failures) +
                    " failures in a row; the last: " + why);
  }

  // Delivers one recorded event again, out of order (a retry by the admin;
  // made even while the subscription is paused).
  void run_job(caf::scoped_actor& self, const courier_ptr& cp, uint64_t seq) {
    auto& c = *cp;
    webhook_config conf;
    {
      std::lock_guard<std::mutex> lk{mtx};
      conf = c.cfg;
    }
    std::vector<event> got;
    self->request(journal, journal_timeout, atom::read_v, seq, uint64_t{1})
        .receive([&](std::vector<event>& evs) { got = std::move(evs); },
                 [](caf::error&) {});
    auto entry =
        got.empty() ? std::nullopt : feed_pick(got[0], seq, feed_filter{});
    if (!entry || !destination_refusal(conf.url, cfg.allowed_hosts).empty())
      return;
    std::string why;
    auto outcome = attempt(c, conf, seq, *entry, why);
    std::lock_guard<std::mutex> lk{mtx};
    if (outcome != attempt_outcome::delivered) {
      auto& d = record(c, seq, "");
      // Tried by hand: it stays where it was (dead, or behind the cursor).
      d.status = seq <= c.cursor ? "DEAD" : "RETRYING";
      return;
    }
    ++delivered;
    auto before = c.dead.size();
    c.dead.erase(
        std::remove_if(c.dead.begin(), c.dead.end(),
                       [&](const delivery& d) { return d.event == seq; }),
        c.dead.end());
    if (c.dead.size() != before)
      c.dead_unsaved = true; // journaled by the control thread
  }

  // One turn of the courier's loop.
  void step(caf::scoped_actor& self, const courier_ptr& cp) {
    auto& c = *cp;
    webhook_config conf;
    std::optional<uint64_t> job;
    {
      std::unique_lock<std::mutex> lk{mtx};
      c.cv.wait(lk, [&] {
        return c.stop.load() || !c.jobs.empty() || !c.cfg.paused;
      });
      if (c.stop)
        return;
      if (!c.jobs.empty()) {
        job = c.jobs.front();
        c.jobs.pop_front();
      }
      c.wake = false;
      conf = c.cfg;
    }
    if (job)
      return run_job(self, cp, *job);
    if (c.buffer.empty() && !fill(self, c))
      return;
    auto& [seq, ev] = c.buffer.front();
    auto entry = feed_pick(ev, seq, feed_filter{conf.types, {}});
    if (!entry) {
      std::lock_guard<std::mutex> lk{mtx};
      if (!feed_type(ev).empty())
        c.unsaved = true;
      c.pos = std::max(c.pos, seq);
      c.cursor = std::max(c.cursor, seq);
      c.head_at = 0;
      c.buffer.pop_front();
      return;
    }
    deliver_head(self, cp, conf, seq, *entry, ev.at);
  }

  void run(const courier_ptr& cp) {
    caf::scoped_actor self{sys};
    auto& c = *cp;
    std::unique_ptr<CURL, void (*)(CURL*)> curl{curl_easy_init(),
                                                curl_easy_cleanup};
    c.curl = curl.get();
    while (!c.stop) {
      try {
        step(self, cp);
      } catch (const std::exception& e) {
        // A bug, not the receiver: this subscription stops delivering and
        // says why; omsd goes on.
        log::error("webhook.courier_failed",
                   {{"webhook", c.id}, {"error", e.what()}});
        c.buffer.clear();
        pause(cp, std::string{"stopped by an internal error: "} + e.what());
      }
    }
    c.finished = true;
  }

  void launch(const courier_ptr& c) {
    c->thread = std::thread([this, c] { run(c); });
  }

  // -- the control thread -----------------------------------------------------

  // Queues `op` for the control thread; false (and not queued) once
  // stopping.
  bool submit(std::function<void(caf::scoped_actor&)> op) {
    std::lock_guard<std::mutex> lk{mtx};
    if (stopping)
      return false;
    ops.push_back(std::move(op));
    ops_cv.notify_one();
    return true;
  }

  // Queues a change for the control thread, or answers NOT_READY once
  // stopping.
  void change(answer done,
              std::function<void(caf::scoped_actor&, const answer&)> op) {
    auto shared = std::make_shared<answer>(std::move(done));
    if (!submit([shared, op = std::move(op)](caf::scoped_actor& self) {
          op(self, *shared);
        }))
      (*shared)(make_error(errc::not_ready, "omsd is stopping"));
  }

  // Journals every cursor that moved and every dead-letter list that could
  // not be, in one append.
  void save_cursors(caf::scoped_actor& self) {
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
  void reap() {
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

  void control_loop() {
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
  std::optional<webhook_config>
  edit(caf::scoped_actor& self, const std::string& id, const answer& done,
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

  courier_ptr find(const std::string& id) const {
    auto i = couriers.find(id);
    return i == couriers.end() ? nullptr : i->second;
  }
};

// -- the dispatcher -----------------------------------------------------------

webhook_dispatcher::webhook_dispatcher(
    caf::actor_system& sys, journal_actor journal, webhook_settings cfg,
    const std::vector<std::pair<std::string, std::string>>& stored)
    : d_(std::make_unique<impl>(sys, std::move(journal), std::move(cfg))) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
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
  curl_global_cleanup();
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
  // Couriers waiting in the journal for an event stop waiting.
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
