// The simulated warehouse system (WMS) of the external seller: stock per SKU,
// reservations with their RESERVED/BLOCKED/SHIPPED/RELEASED states, an event
// feed of receipts and adjustments, and the batch job that alone makes
// changes visible in the "orderable" quantity the WMS reports. The HTTP
// contract (routes, status codes, error codes) is answered by `sim::handle`
// without any HTTP library, on an injected clock and a seeded random source,
// so every rule is unit-tested deterministically. Not thread-safe: one thread
// (the wms-sim io thread) owns a sim.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "system/http/duration.hpp"

namespace oms::wms_sim {

using json = nlohmann::json;

/// Milliseconds since the epoch, from the injected clock.
using clock_fn = std::function<int64_t()>;

/// A reservation's state. RESERVED → BLOCKED → SHIPPED; RESERVED or BLOCKED
/// → RELEASED.
enum class reservation_status { reserved, blocked, shipped, released };

/// "RESERVED", "BLOCKED", "SHIPPED" or "RELEASED".
const char* to_string(reservation_status x);

/// What the injected faults and the rate limit do to public requests.
struct fault_settings {
  /// Public requests allowed per wall-clock second window (0: no limit).
  int64_t rate_limit = 10;
  /// Fraction (0..1) of admitted public requests answered 503 with no effect.
  double fail_rate = 0.0;
  /// Added to every public answer.
  int64_t latency_ms = 0;
  /// Fraction (0..1) of admitted public requests whose answer is late by
  /// hang_for_ms (the change itself happens at once).
  double hang_rate = 0.0;
  int64_t hang_for_ms = 30'000;
  /// Fraction (0..1) of event pages that repeat one event from before the
  /// cursor.
  double duplicate_rate = 0.0;
};

/// Bounds of every table the simulator keeps; past them a change is refused
/// with 507 CAPACITY_EXCEEDED instead of growing without end.
struct capacity {
  size_t skus_max = 100'000;
  size_t reservations_max = 1'000'000;
  size_t events_max = 1'000'000;
};

struct options {
  /// Period of the batch job (0: batches only on POST /admin/batch).
  int64_t batch_interval_ms = 900'000;
  fault_settings faults;
  uint64_t seed = 1;
  capacity limits;
};

/// A request as the HTTP server received it; `query` without the '?'.
struct request {
  std::string method;
  std::string path;
  std::string query;
  std::string body;
};

/// An answer: status, JSON body, extra headers and how long to hold it back.
struct response {
  int status = 200;
  json body;
  std::vector<std::pair<std::string, std::string>> headers;
  /// Latency plus, for a hung request, hang_for_ms.
  int64_t delay_ms = 0;
  /// The route's name ("POST /reservations"), "" when none matched.
  std::string route;
  /// A rate-limited, fault-injected and counted route.
  bool is_public = false;
};

/// What one run of the batch job saw.
struct batch_result {
  /// What ran it: "timer", "admin" (POST /admin/batch), "reflectNow" or
  /// "seed".
  std::string trigger;
  int64_t batch = 0;
  int64_t as_of_ms = 0;
  int64_t reflects = 0;
  size_t skus = 0;
  int64_t orderable_total = 0;
  /// Changes (seq values) and events included for the first time.
  int64_t changes = 0;
  int64_t events = 0;
};

/// One SKU's live stock.
struct sku_state {
  std::string sku;
  int64_t on_hand = 0;
  int64_t unallocatable = 0;
  int64_t unit_price = 0;
  int64_t reserved = 0;
  int64_t blocked = 0;
  int64_t shipped = 0;
  /// on_hand − unallocatable − reserved − blocked (may be negative when
  /// damaged units were already reserved).
  int64_t live_orderable() const {
    return on_hand - unallocatable - reserved - blocked;
  }
};

struct reservation {
  std::string id;
  std::string sku;
  int64_t quantity = 0;
  reservation_status status = reservation_status::reserved;
  /// The seq of its last change.
  int64_t seq = 0;
};

/// One entry of the event feed.
struct stock_event {
  std::string id;
  int64_t seq = 0;
  std::string type;
  std::string sku;
  /// Signed change to orderable.
  int64_t quantity = 0;
  std::string lot;
  int64_t at_ms = 0;
};

/// A status with its JSON answer (an error answer is
/// {"error":{"code","message",...}}).
struct outcome {
  int status = 200;
  json body;
  bool ok() const { return status >= 200 && status < 300; }
};

/// Counters of public requests.
struct request_stats {
  int64_t total = 0;
  int64_t rate_limited = 0;
  int64_t faults = 0;
  int64_t hangs = 0;
  int64_t duplicates = 0;
  std::map<std::string, int64_t> by_route;
};

class sim {
 public:
  /// `uniform` draws from [0, 1); when empty, a generator seeded with
  /// opts.seed does.
  sim(options opts, clock_fn now, std::function<double()> uniform = {});

  /// Answers one HTTP request by the contract in docs/wms-sim.md: public
  /// routes pass the rate limiter, then the injected faults.
  response handle(const request& req);

  // -- the WMS operations (no limiter, no faults) ---------------------------

  /// GET /inventory/{sku}: the last batch snapshot of a SKU.
  outcome inventory(const std::string& sku) const;
  /// POST /reservations; idempotent by id.
  outcome reserve(const std::string& id, const std::string& sku,
                  int64_t quantity);
  /// GET /reservations/{id}.
  outcome reservation_state(const std::string& id) const;
  /// POST /reservations/{id}/block; idempotent.
  outcome block(const std::string& id);
  /// POST /reservations/{id}/ship; idempotent.
  outcome ship(const std::string& id);
  /// DELETE /reservations/{id}; idempotent.
  outcome release(const std::string& id);
  /// GET /events; `after` empty means from the start.
  outcome events(const std::string& after, int64_t limit);

  // -- admin ----------------------------------------------------------------

  /// Creates or replaces a SKU (201 when created, 200 when replaced).
  outcome put_sku(const std::string& sku, int64_t on_hand, int64_t unit_price,
                  bool reflect_now);
  outcome receive(const std::string& sku, int64_t quantity,
                  const std::string& lot);
  /// reason: DAMAGE, QUARANTINE, QUARANTINE_RELEASE or CORRECTION.
  outcome adjust(const std::string& sku, int64_t quantity,
                 const std::string& reason, const std::string& lot);
  /// Loads {"skus":[{"sku","onHand","unitPrice"}]} then runs a batch; an
  /// error outcome names what is wrong.
  outcome load_seed(const json& seed);
  json state() const;

  // -- the batch job --------------------------------------------------------

  /// Recomputes every SKU's snapshot from live stock.
  batch_result run_batch(const std::string& trigger = "admin");
  /// Called after every batch, whatever ran it (wms-sim logs it).
  void on_batch(std::function<void(const batch_result&)> f) {
    on_batch_ = std::move(f);
  }
  /// When the timer's next batch is due (ms since the epoch), or nullopt when
  /// batches run only on demand.
  std::optional<int64_t> next_batch_at() const;
  /// Runs the timer's batch if it is due; the next one is due one interval
  /// after it was due (a late timer does not shift the schedule; missed
  /// periods are skipped).
  std::optional<batch_result> run_due_batch();

  // -- faults ---------------------------------------------------------------

  const fault_settings& faults() const { return opts_.faults; }
  void set_faults(const fault_settings& x) { opts_.faults = x; }

  /// Public request arrivals counted so far.
  const request_stats& stats() const { return stats_; }
  /// The most public request arrivals within any 1000 ms window so far.
  int64_t max_requests_in_any_second() const { return max_in_second_; }
  int64_t seq() const { return seq_; }
  int64_t batch() const { return batch_; }

  /// Live state of a SKU, or null.
  const sku_state* find_sku(const std::string& sku) const;
  /// A reservation, or null.
  const reservation* find_reservation(const std::string& id) const;

 private:
  struct snapshot_entry {
    int64_t orderable = 0;
    int64_t unit_price = 0;
  };

  /// Counts an arrival; true when it is above the rate limit.
  bool arrive(int64_t now, int64_t& retry_after_ms);
  double draw();
  response route(const request& req, const std::vector<std::string>& seg);
  outcome admin_faults(const json& body);
  json fault_json() const;
  json sku_json(const sku_state& s) const;
  json reservation_json(const reservation& r) const;
  json event_json(const stock_event& ev) const;
  void append_event(const std::string& type, const std::string& sku,
                    int64_t quantity, const std::string& lot);
  outcome capacity_exceeded(const std::string& what) const;
  /// The reservation `id` names; null, with the answer in `error`, when the
  /// id is malformed (400) or unknown (404).
  const reservation* find_reservation(const std::string& id,
                                      outcome& error) const;
  reservation* find_reservation(const std::string& id, outcome& error);

  options opts_;
  clock_fn now_;
  std::function<double()> uniform_;
  uint64_t rng_state_;

  int64_t seq_ = 0;
  std::map<std::string, sku_state> skus_;
  std::map<std::string, reservation> reservations_;
  std::vector<stock_event> events_;

  // The last batch snapshot.
  int64_t batch_ = 0;
  int64_t batch_at_ms_ = 0;
  int64_t reflects_ = 0;
  size_t events_reflected_ = 0;
  std::map<std::string, snapshot_entry> snapshot_;
  std::optional<int64_t> next_batch_at_;
  std::function<void(const batch_result&)> on_batch_;

  // The rate limiter's current window and the sliding arrival window.
  int64_t window_ = -1;
  int64_t window_count_ = 0;
  std::deque<int64_t> arrivals_;
  int64_t max_in_second_ = 0;
  request_stats stats_;
};

/// Parses a duration: "500ms", "2s", "15m", "1h", or a bare number of
/// seconds; nullopt when malformed, negative or too large.
inline std::optional<int64_t> parse_duration_ms(std::string_view text) {
  return http::parse_duration_ms(text, http::wms_sim_durations);
}

/// "900s" → "15m", 1500 → "1500ms".
inline std::string format_duration_ms(int64_t ms) {
  return http::format_duration_ms(ms, http::wms_sim_durations);
}

/// An id of 1..128 characters of [A-Za-z0-9._:-].
bool valid_id(std::string_view x);

} // namespace oms::wms_sim
