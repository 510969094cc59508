// What every benchmark program shares: a latency histogram that clients fill
// on their own thread and merge at the end, a progress bar on stderr when it
// is a terminal, RSS readings, and the one-line JSON summary that the
// comparison harness reads as the last line of stdout:
//
//   {"bench":"oms-bench-inprocess","system":"oms-memory","workload":"hot",
//    "clients":32,"seconds":5.01,"operations":123456,"opsPerSecond":24641.2,
//    "latencyMs":{"p50":1.2,"p99":4.5,"p999":9.8,"max":15.0},
//    "granted":123000,"refused":456,"errors":0,"invariantsOk":true,
//    "extra":{...}}
//
// No CAF here: the HTTP load generator links it too.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace oms::bench {

using steady = std::chrono::steady_clock;

/// Seconds from `start` to now.
double seconds_since(steady::time_point start);

/// Nanoseconds from `start` to now (at least 0).
uint64_t nanos_since(steady::time_point start);

// -- latency ------------------------------------------------------------------

/// p50, p99, p99.9 and the maximum of a set of latencies, in milliseconds.
struct latency_summary {
  uint64_t count = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  double p999_ms = 0;
  double max_ms = 0;
};

/// {"p50":..,"p99":..,"p999":..,"max":..} in milliseconds (3 decimals).
nlohmann::ordered_json to_json(const latency_summary& x);

/// A log-linear histogram of durations in nanoseconds: exact below 256 ns,
/// then 128 buckets per power of two, so a percentile is off by less than
/// 0.8 %; the maximum is kept exactly. Fixed size (about 60 KiB), so a
/// client records millions of samples without allocating. Not thread-safe:
/// one per client, merged at the end.
class latency_histogram {
 public:
  latency_histogram();

  /// Records one duration.
  void record_ns(uint64_t ns);
  void record(steady::duration d) {
    record_ns(d.count() < 0 ? 0 : static_cast<uint64_t>(d.count()));
  }

  /// Adds another histogram's samples.
  void merge(const latency_histogram& other);

  uint64_t count() const { return count_; }
  uint64_t max_ns() const { return max_ns_; }

  /// The nearest-rank percentile `p` in [0, 100], in nanoseconds: the
  /// middle of the bucket holding the sample of that rank, never above the
  /// maximum. 0 without samples.
  uint64_t percentile_ns(double p) const;

  latency_summary summary() const;

  /// Bucket of a value and the smallest value of a bucket (for tests).
  static size_t bucket_of(uint64_t ns);
  static uint64_t bucket_floor(size_t bucket);

 private:
  std::vector<uint64_t> buckets_;
  uint64_t count_ = 0;
  uint64_t max_ns_ = 0;
};

// -- progress -----------------------------------------------------------------

/// True when progress may be drawn: stderr is a terminal and not --quiet.
bool progress_wanted(bool quiet);

/// Draws "label [#####     ] 2.5/5.0 s  123456 ops  49382 ops/s" on stderr
/// four times a second from a thread of its own while a timed run goes on,
/// reading the run's operation counter. Draws nothing when disabled. The
/// line is cleared by stop() (and the destructor).
class timed_progress {
 public:
  timed_progress(std::string label, double seconds,
                 const std::atomic<uint64_t>& ops, bool enabled);
  ~timed_progress();

  timed_progress(const timed_progress&) = delete;
  timed_progress& operator=(const timed_progress&) = delete;

  void stop();

 private:
  void draw();

  std::string label_;
  double seconds_;
  const std::atomic<uint64_t>& ops_;
  bool enabled_;
  steady::time_point start_;
  std::atomic<bool> stop_{false};
  std::thread ticker_;
};

/// Draws "label [#####     ]  41 %  410000/1000000" for work counted in
/// items; update() redraws at most ten times a second.
class count_progress {
 public:
  count_progress(std::string label, uint64_t total, bool enabled);
  ~count_progress();

  void update(uint64_t done);
  /// Draws the final state and ends the line.
  void finish();

 private:
  std::string label_;
  uint64_t total_;
  bool enabled_;
  bool finished_ = false;
  steady::time_point last_draw_{};
};

/// "[#####     ]" of `width` cells for `fraction` in [0, 1].
std::string bar(double fraction, int width);

// -- memory -------------------------------------------------------------------

/// Resident set size of this process in bytes (from /proc/self/statm), 0 if
/// unreadable.
uint64_t rss_bytes();

// -- stock checks -------------------------------------------------------------

/// One SKU's counters, as the order system reports them (or, for the units
/// held, as the clients' answers say they must be).
struct sku_counters {
  int64_t received_total = 0;
  int64_t on_hand = 0;
  int64_t reserved = 0;
  int64_t blocked = 0;
  int64_t consumed_total = 0;
  int64_t available = 0;
};

/// The units each SKU must hold, by index, as the answers the clients got
/// say: one per client, merged at the end.
struct expected_units {
  std::vector<int64_t> reserved;
  std::vector<int64_t> blocked;
  std::vector<int64_t> consumed;
  explicit expected_units(size_t n) : reserved(n), blocked(n), consumed(n) {}
  void merge(const expected_units& other) {
    for (size_t i = 0; i < reserved.size(); ++i) {
      reserved[i] += other.reserved[i];
      blocked[i] += other.blocked[i];
      consumed[i] += other.consumed[i];
    }
  }
};

/// What is wrong with a SKU after a run, one sentence each (empty: nothing):
/// more units reserved, blocked or consumed than received (oversold), a
/// receipt total other than `stock`, available not on hand less reserved
/// and blocked, or a negative counter. With `exact` (every answer the
/// clients got was definite), reserved, blocked and consumed must also
/// equal `granted`'s.
std::vector<std::string> check_sku(const std::string& sku,
                                   const sku_counters& have,
                                   const sku_counters& granted, int64_t stock,
                                   bool exact);

// -- the summary line ---------------------------------------------------------

/// One run in the shared result format.
struct summary {
  std::string bench;    // the program's name
  std::string system;   // oms-memory, oms-sqlite, oms-http, caf-rtt, ...
  std::string workload; // hot, spread, multiline, lifecycle, cancel, ...
  int clients = 0;
  double seconds = 0;
  uint64_t operations = 0;
  latency_summary latency;
  uint64_t granted = 0;
  uint64_t refused = 0;
  uint64_t errors = 0;
  bool invariants_ok = false;
  nlohmann::ordered_json extra = nlohmann::ordered_json::object();
};

/// The summary as a JSON object with the keys in the shared order;
/// opsPerSecond is operations / seconds.
nlohmann::ordered_json to_json(const summary& x);

/// Prints the summary as one line on stdout (the last line a program
/// prints there) and returns the exit status: 0, or 1 when an invariant
/// failed.
int print_summary(const summary& x);

/// Rounds to `decimals` places for display.
double rounded(double x, int decimals);

/// `x` with `decimals` places, as text ("12.35").
std::string fixed(double x, int decimals);

} // namespace oms::bench
