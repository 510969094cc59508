// The webhooks' couriers (webhooks_impl.hpp): one thread per subscription
// reads the log past its cursor, posts each event its types select, signed,
// retries, dead-letters and pauses.
#include <algorithm>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>

#include "messages/type_ids.hpp"
#include "system/daemon/event_feed.hpp"
#include "system/daemon/webhooks_impl.hpp"
#include "system/log.hpp"

namespace oms::daemon {

using namespace webhook_detail;

namespace webhook_detail {

namespace {

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

} // namespace

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

} // namespace webhook_detail

namespace {

// The event as a delivery's body; bytes that are not UTF-8 (none should
// be) are replaced rather than stop the courier.
std::string body_of(const json& entry) {
  return entry.dump(-1, ' ', false, json::error_handler_t::replace);
}

} // namespace

delivery& webhook_dispatcher::impl::record(courier& c, uint64_t seq,
                                           const std::string& type) {
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

std::string webhook_dispatcher::impl::dead_doc(const courier& c) const {
  auto arr = json::array();
  for (auto& d : c.dead)
    arr.push_back(d.to_json());
  return arr.dump();
}

// Waits up to `wait` unless stopped, woken, or given a job.
void webhook_dispatcher::impl::nap(courier& c, milliseconds wait) {
  std::unique_lock<std::mutex> lk{mtx};
  c.cv.wait_for(lk, wait,
                [&] { return c.stop.load() || c.wake || !c.jobs.empty(); });
  c.wake = false;
}

// Reads the next events into the buffer; false when there were none (it
// waited for one).
bool webhook_dispatcher::impl::fill(caf::scoped_actor& self, courier& c) {
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
    // On a cluster a stop does not release the journal's readers (others
    // read it, webhook_duty.hpp): a shorter wait bounds how long it takes.
    auto wait = cfg.fence != 0 ? milliseconds{200} : milliseconds{idle_wait};
    self->request(journal, wait + journal_timeout, atom::await_v, c.pos + 1,
                  caf::timespan{wait})
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
void webhook_dispatcher::impl::pause(const courier_ptr& c,
                                     const std::string& reason) {
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
attempt_outcome webhook_dispatcher::impl::attempt(courier& c,
                                                  const webhook_config& conf,
                                                  uint64_t seq,
                                                  const json& entry,
                                                  std::string& why) {
  auto body = body_of(entry);
  auto id = entry["id"].get<std::string>();
  auto now = wall_ms();
  auto ts = now / 1000;
  std::vector<std::string> fields = {
      "Content-Type: application/cloudevents+json", "User-Agent: omsd-webhooks",
      "webhook-id: " + id, "webhook-timestamp: " + std::to_string(ts),
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
void webhook_dispatcher::impl::deliver_head(caf::scoped_actor& self,
                                            const courier_ptr& cp,
                                            const webhook_config& conf,
                                            uint64_t seq, const json& entry,
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
void webhook_dispatcher::impl::run_job(caf::scoped_actor& self,
                                       const courier_ptr& cp, uint64_t seq) {
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
void webhook_dispatcher::impl::step(caf::scoped_actor& self,
                                    const courier_ptr& cp) {
  auto& c = *cp;
  webhook_config conf;
  std::optional<uint64_t> job;
  {
    std::unique_lock<std::mutex> lk{mtx};
    c.cv.wait(
        lk, [&] { return c.stop.load() || !c.jobs.empty() || !c.cfg.paused; });
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

void webhook_dispatcher::impl::run(const courier_ptr& cp) {
  caf::scoped_actor self{sys};
  auto& c = *cp;
  std::unique_ptr<CURL, void (*)(CURL*)> curl{curl_easy_init(),
                                              curl_easy_cleanup};
  c.curl = curl.get();
  while (!c.stop) {
    if (cfg.may_deliver && !cfg.may_deliver()) {
      // The duty moved on (webhook_duty.hpp): nothing more is read or sent
      // until this dispatcher is stopped.
      nap(c, milliseconds{50});
      continue;
    }
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

void webhook_dispatcher::impl::launch(const courier_ptr& c) {
  c->thread = std::thread([this, c] { run(c); });
}

} // namespace oms::daemon
