// The simulated WMS with its HTTP face: the warehouse model
// (system/wms_sim/warehouse.hpp) behind the HTTP contract of
// docs/wms-sim.md (routes, status codes, error codes), answered by
// `sim::handle` without any HTTP library. Public requests pass a rate
// limiter and injected faults drawn from the warehouse's random source. Not
// thread-safe: one thread (the wms-sim io thread) owns a sim.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "system/http/duration.hpp"
#include "system/wms_sim/warehouse.hpp"

namespace oms::wms_sim {

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

/// Counters of public requests.
struct request_stats {
  int64_t total = 0;
  int64_t rate_limited = 0;
  int64_t faults = 0;
  int64_t hangs = 0;
  int64_t duplicates = 0;
  std::map<std::string, int64_t> by_route;
};

class sim : public warehouse {
 public:
  /// `uniform` draws from [0, 1); when empty, a generator seeded with
  /// opts.seed does.
  sim(options opts, clock_fn now, std::function<double()> uniform = {});

  /// Answers one HTTP request by the contract in docs/wms-sim.md: public
  /// routes pass the rate limiter, then the injected faults.
  response handle(const request& req);

  /// GET /events with the configured duplicate rate (counted).
  outcome events(const std::string& after, int64_t limit);

  /// Loads {"skus":[{"sku","onHand","unitPrice"}]} then runs a batch; an
  /// error outcome names what is wrong (and nothing is loaded).
  outcome load_seed(const json& seed);

  /// GET /admin/state: the warehouse, the request counters and the faults.
  json state() const;

  const fault_settings& faults() const { return faults_; }
  void set_faults(const fault_settings& x) { faults_ = x; }

  /// Public request arrivals counted so far.
  const request_stats& stats() const { return stats_; }
  /// The most public request arrivals within any 1000 ms window so far.
  int64_t max_requests_in_any_second() const { return max_in_second_; }

 private:
  /// Counts a public request and passes it through the rate limiter and the
  /// faults; false when `resp` already holds its answer (429 or 503).
  bool admit(const request& req, const std::vector<std::string>& seg,
             response& resp);
  /// Counts an arrival; true when it is above the rate limit.
  bool arrive(int64_t now, int64_t& retry_after_ms);

  fault_settings faults_;

  // The rate limiter's current window and the sliding arrival window.
  int64_t window_ = -1;
  int64_t window_count_ = 0;
  std::deque<int64_t> arrivals_;
  int64_t max_in_second_ = 0;
  request_stats stats_;
};

/// The faults as GET /admin/faults shows them.
json to_json(const fault_settings& f);

/// Parses a duration: "500ms", "2s", "15m", "1h", or a bare number of
/// seconds; nullopt when malformed, negative or too large.
inline std::optional<int64_t> parse_duration_ms(std::string_view text) {
  return http::parse_duration_ms(text, http::wms_sim_durations);
}

/// "900s" → "15m", 1500 → "1500ms".
inline std::string format_duration_ms(int64_t ms) {
  return http::format_duration_ms(ms, http::wms_sim_durations);
}

} // namespace oms::wms_sim
