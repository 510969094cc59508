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

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace oms::bench {

using steady = std::chrono::steady_clock;

/// Where a timed run is: its clients measure only in `measure` and finish
/// the request in flight at `stop`.
enum class phase : int { warmup = 0, measure = 1, stop = 2 };

/// What a timed run shares with its clients: the phase, and the count of
/// measured operations that the progress bar reads.
struct run_phase {
  std::atomic<int> now{static_cast<int>(phase::warmup)};
  std::atomic<uint64_t> ops{0};
  phase current() const { return static_cast<phase>(now.load()); }
};

/// Seconds from `start` to now.
double seconds_since(steady::time_point start);

/// Nanoseconds from `start` to now (at least 0).
uint64_t nanos_since(steady::time_point start);

/// `seconds` as a clock duration (for sleeps and deadlines).
steady::duration duration_of(double seconds);

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

// -- files ---------------------------------------------------------------------

/// A fresh directory /tmp/oms-bench-NAME-XXXXXX for a bench's files, removed
/// when destroyed or by remove() (a run that ends with std::_Exit removes
/// it first). Throws std::runtime_error if it cannot be made.
class scratch_dir {
 public:
  explicit scratch_dir(const std::string& name);
  ~scratch_dir() { remove(); }
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;

  const std::string& path() const { return path_; }
  void remove();

 private:
  std::string path_;
};

// -- memory -------------------------------------------------------------------

/// Resident set size of this process in bytes (from /proc/self/statm), 0 if
/// unreadable.
uint64_t rss_bytes();

// -- CPU ----------------------------------------------------------------------

/// CPU time this process has used so far, user and system, in seconds (all
/// threads; getrusage(RUSAGE_SELF)).
double process_cpu_seconds();

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

/// Moves one unit of each SKU (by index) in `lines` out of `from` and into
/// `to`, as an order's step does; null for either side is outside the
/// counters (a create adds reserved units, a cancel frees them).
void move_units(const std::vector<size_t>& lines, std::vector<int64_t>* from,
                std::vector<int64_t>* to);

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

/// The same, with the units the clients were granted on SKU number
/// `index` of `want`.
std::vector<std::string> check_sku(const std::string& sku,
                                   const sku_counters& have,
                                   const expected_units& want, size_t index,
                                   int64_t stock, bool exact);

/// The problems a run's checks found: fail() may be called from several
/// threads; the first ten are kept as samples for the report.
struct violations {
  bool ok = true;
  uint64_t count = 0;
  std::vector<std::string> samples;
  void fail(std::string what) {
    std::lock_guard<std::mutex> guard{mtx_};
    ok = false;
    if (++count <= 10)
      samples.push_back(std::move(what));
  }
  /// Prints "violation: <sample>" on stderr for each sample.
  void print_samples() const;

 private:
  std::mutex mtx_;
};

// -- workloads ----------------------------------------------------------------

/// The SKUs (by index among `sku_count`) of the next order of `workload`:
/// SKU 0 for hot and flash, three distinct ones drawn by `rng` for
/// multiline, one drawn by `rng` otherwise. Replaces `lines`.
template <class Rng>
void pick_skus(const std::string& workload, size_t sku_count, Rng& rng,
               std::vector<size_t>& lines) {
  lines.clear();
  if (workload == "hot" || workload == "flash") {
    lines.push_back(0);
  } else if (workload == "multiline") {
    while (lines.size() < 3) {
      auto i = static_cast<size_t>(rng() % sku_count);
      if (std::find(lines.begin(), lines.end(), i) == lines.end())
        lines.push_back(i);
    }
  } else {
    lines.push_back(static_cast<size_t>(rng() % sku_count));
  }
}

/// Receives `stock` units on each of `sku_count` SKUs from up to
/// `threads_max` threads at once, so that the system commits the receipts
/// in groups; a receipt holds at most `receipt_units_max` units. Each thread
/// calls `make_receiver()` once (for a connection of its own); the receiver
/// books one receipt, `receive(sku_index, units)`, and returns false when it
/// failed, which stops every thread. True when every receipt was booked.
template <class MakeReceiver>
bool receive_in_parallel(size_t sku_count, int64_t stock,
                         int64_t receipt_units_max, size_t threads_max,
                         MakeReceiver make_receiver) {
  std::atomic<size_t> next{0};
  std::atomic<bool> ok{true};
  std::vector<std::thread> threads;
  auto n = std::min(threads_max, sku_count);
  for (size_t t = 0; t < n; ++t)
    threads.emplace_back([&] {
      auto receive = make_receiver();
      for (auto i = next++; i < sku_count && ok; i = next++) {
        for (int64_t left = stock; left > 0 && ok;) {
          auto part = std::min(left, receipt_units_max);
          if (!receive(i, part))
            ok = false;
          left -= part;
        }
      }
    });
  for (auto& t : threads)
    t.join();
  return ok;
}

// -- the clients' counts ------------------------------------------------------

/// What one closed-loop client of the order system counted: the first group
/// while measuring, the second over the whole run (warm-up included). One
/// per client, merged at the end.
struct client_counts {
  latency_histogram latency;  // one per operation
  latency_histogram requests; // one per request of a chained workload
  latency_histogram refusals; // refused creates
  uint64_t operations = 0;
  uint64_t granted = 0;
  uint64_t refused = 0;
  uint64_t errors = 0;
  // Over the whole run.
  uint64_t granted_total = 0;
  uint64_t unknown_outcomes = 0; // errors that leave an order's state unknown
  uint64_t last_grant_ns = 0;    // since the run's start (flash)
  expected_units units;
  explicit client_counts(size_t skus) : units(skus) {}
  void merge(const client_counts& other);
};

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

/// Puts the clients' operations, latency, grants, refusals and errors in
/// `out`.
void add_counts(summary& out, const client_counts& all);

/// Adds to `extra` what a run of the order system was given and saw: skus,
/// stock, warmupSeconds, setupSeconds, requestLatencyMs (a `chained`
/// workload), refusedLatencyMs (when a create was refused) and, for a
/// `flash` sale, sellOutSeconds and grantedUnits.
void add_run_extra(nlohmann::ordered_json& extra, const client_counts& all,
                   size_t skus, int64_t stock, double warmup_seconds,
                   double setup_seconds, bool chained, bool flash);

/// A flash sale of `stock` units must grant exactly that many.
void check_flash_granted(uint64_t granted_total, int64_t stock,
                         violations& out);

/// One line for people: "123 operations in 5.00 s, p50 1.200 ms, p99
/// 4.500 ms; invariants hold".
std::string describe_operations(const summary& x);

/// Prints the summary as one line on stdout (the last line a program
/// prints there) and returns the exit status: 0, or 1 when an invariant
/// failed.
int print_summary(const summary& x);

/// Rounds to `decimals` places for display.
double rounded(double x, int decimals);

/// `x` with `decimals` places, as text ("12.35").
std::string fixed(double x, int decimals);

} // namespace oms::bench
