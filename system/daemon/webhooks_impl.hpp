// Inside the webhook dispatcher (webhooks.hpp), shared by its two halves
// and by nothing else: the couriers, which deliver (webhook_courier.cpp),
// and the control thread with the dispatcher's interface (webhooks.cpp).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <caf/fwd.hpp>
#include <curl/curl.h>
#include <nlohmann/json.hpp>

#include "messages/events.hpp"
#include "messages/json.hpp"
#include "system/daemon/webhook_wire.hpp"
#include "system/daemon/webhooks.hpp"

namespace oms::daemon {

namespace webhook_detail {

using nlohmann::json;
using std::chrono::milliseconds;

inline constexpr size_t recent_max = 100;
inline constexpr size_t dead_max = 100;
inline constexpr uint64_t read_batch = 100;
inline constexpr size_t answer_body_max = 4096;
inline constexpr auto journal_timeout = std::chrono::seconds(30);
// How long a courier with nothing to deliver waits in the journal before
// it looks at its flags again.
inline constexpr auto idle_wait = std::chrono::seconds(1);

inline timestamp_ms wall_ms() {
  return std::chrono::duration_cast<milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline std::string config_key(const std::string& id) {
  return "webhook:" + id;
}
inline std::string cursor_key(const std::string& id) {
  return "webhook-cursor:" + id;
}
inline std::string dead_key(const std::string& id) {
  return "webhook-dead:" + id;
}

inline event named_value(const std::string& name, std::string value) {
  event ev;
  ev.kind = event_kind::inbox_cursor;
  ev.at = wall_ms();
  ev.reason = name;
  ev.lot = std::move(value);
  return ev;
}

// How often the control thread journals the cursors that moved (all in one
// append): a crash delivers again at most this much (at least once).
inline constexpr auto cursor_interval = milliseconds{200};

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

// One POST on `h` (its connection kept for the next); redirects are not
// followed, no proxy is used, only http(s).
post_result post(CURL* h, const std::string& url,
                 const std::vector<std::string>& fields,
                 const std::string& body, milliseconds timeout,
                 const std::atomic<bool>& stop);

} // namespace webhook_detail

struct webhook_dispatcher::impl {
  using delivery = webhook_detail::delivery;
  using json = nlohmann::json;
  using milliseconds = std::chrono::milliseconds;

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

  caf::error append(caf::scoped_actor& self, std::vector<event> evs);

  // -- recording deliveries (under mtx) ---------------------------------------

  delivery& record(courier& c, uint64_t seq, const std::string& type);

  std::string dead_doc(const courier& c) const;

  // -- the courier ------------------------------------------------------------

  // Waits up to `wait` unless stopped, woken, or given a job.
  void nap(courier& c, milliseconds wait);

  // Reads the next events into the buffer; false when there were none (it
  // waited for one).
  bool fill(caf::scoped_actor& self, courier& c);

  // Pauses the subscription now and journals it paused (through the
  // control thread).
  void pause(const courier_ptr& c, const std::string& reason);

  // One attempt at `seq`; returns what it came to.
  attempt_outcome attempt(courier& c, const webhook_config& conf, uint64_t seq,
                          const json& entry, std::string& why);

  // Delivers the head of the buffer, trying until it is acknowledged, dead,
  // or the subscription pauses or stops.
  void deliver_head(caf::scoped_actor& self, const courier_ptr& cp,
                    const webhook_config& conf, uint64_t seq, const json& entry,
                    timestamp_ms committed_at);

  // Delivers one recorded event again, out of order (a retry by the admin;
  // made even while the subscription is paused).
  void run_job(caf::scoped_actor& self, const courier_ptr& cp, uint64_t seq);

  // One turn of the courier's loop.
  void step(caf::scoped_actor& self, const courier_ptr& cp);

  void run(const courier_ptr& cp);

  void launch(const courier_ptr& c);

  // -- the control thread -----------------------------------------------------

  // Queues `op` for the control thread; false (and not queued) once
  // stopping.
  bool submit(std::function<void(caf::scoped_actor&)> op);

  // Queues a change for the control thread, or answers stopped() once
  // stopping.
  void change(answer done,
              std::function<void(caf::scoped_actor&, const answer&)> op);

  // The answer to a change asked once stopping.
  caf::error stopped() const;

  // Journals every cursor that moved and every dead-letter list that could
  // not be, in one append.
  void save_cursors(caf::scoped_actor& self);

  // Joins the threads of deleted subscriptions that ended.
  void reap();

  void control_loop();

  // Changes subscription `id` by `apply`: on a copy, journaled, then on the
  // subscription as it stands by then (a pause its courier made meanwhile
  // stays). The subscription as it now is, or
  // nullopt once `done` was answered the error.
  std::optional<webhook_config>
  edit(caf::scoped_actor& self, const std::string& id, const answer& done,
       const std::function<void(webhook_config&)>& apply);

  courier_ptr find(const std::string& id) const;
};

} // namespace oms::daemon
