#include "bench/bench_common.hpp"

#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <stdexcept>

namespace oms::bench {

namespace {

// Values below 2 * sub_buckets are exact; above, each power of two is cut
// into sub_buckets buckets.
constexpr uint64_t sub_buckets = 128;
constexpr size_t bucket_count = 2 * sub_buckets + 56 * sub_buckets;

int msb(uint64_t x) {
  return 63 - __builtin_clzll(x);
}

double ms_of(uint64_t ns) {
  return static_cast<double>(ns) / 1e6;
}

} // namespace

double seconds_since(steady::time_point start) {
  return std::chrono::duration<double>(steady::now() - start).count();
}

uint64_t nanos_since(steady::time_point start) {
  auto d = steady::now() - start;
  return d.count() < 0 ? 0 : static_cast<uint64_t>(d.count());
}

steady::duration duration_of(double seconds) {
  return std::chrono::duration_cast<steady::duration>(
      std::chrono::duration<double>(seconds));
}

double rounded(double x, int decimals) {
  auto scale = std::pow(10.0, decimals);
  return std::round(x * scale) / scale;
}

std::string fixed(double x, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, x);
  return buf;
}

// -- latency ------------------------------------------------------------------

nlohmann::ordered_json to_json(const latency_summary& x) {
  return {{"p50", rounded(x.p50_ms, 3)},
          {"p99", rounded(x.p99_ms, 3)},
          {"p999", rounded(x.p999_ms, 3)},
          {"max", rounded(x.max_ms, 3)}};
}

latency_histogram::latency_histogram() : buckets_(bucket_count, 0) {
  // nop
}

size_t latency_histogram::bucket_of(uint64_t ns) {
  if (ns < 2 * sub_buckets)
    return static_cast<size_t>(ns);
  auto shift = msb(ns) - 7;    // >= 1
  auto mantissa = ns >> shift; // in [128, 255]
  return static_cast<size_t>(2 * sub_buckets +
                             static_cast<uint64_t>(shift - 1) * sub_buckets +
                             (mantissa - sub_buckets));
}

uint64_t latency_histogram::bucket_floor(size_t bucket) {
  if (bucket < 2 * sub_buckets)
    return bucket;
  auto rest = bucket - 2 * sub_buckets;
  auto shift = rest / sub_buckets + 1;
  auto mantissa = rest % sub_buckets + sub_buckets;
  return static_cast<uint64_t>(mantissa) << shift;
}

void latency_histogram::record_ns(uint64_t ns) {
  ++buckets_[bucket_of(ns)];
  ++count_;
  max_ns_ = std::max(max_ns_, ns);
}

void latency_histogram::merge(const latency_histogram& other) {
  for (size_t i = 0; i < buckets_.size(); ++i)
    buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  max_ns_ = std::max(max_ns_, other.max_ns_);
}

uint64_t latency_histogram::percentile_ns(double p) const {
  if (count_ == 0)
    return 0;
  p = std::clamp(p, 0.0, 100.0);
  // The epsilon keeps 99.9 % of 1000 at rank 999 despite rounding.
  auto rank = static_cast<uint64_t>(
      std::ceil(p / 100.0 * static_cast<double>(count_) - 1e-9));
  rank = std::clamp<uint64_t>(rank, 1, count_);
  uint64_t seen = 0;
  for (size_t i = 0; i < buckets_.size(); ++i) {
    seen += buckets_[i];
    if (seen >= rank) {
      auto lo = bucket_floor(i);
      auto hi = i + 1 < buckets_.size() ? bucket_floor(i + 1) : lo;
      auto mid = lo + (hi > lo ? (hi - lo - 1) / 2 : 0);
      return std::min(mid, max_ns_);
    }
  }
  return max_ns_;
}

latency_summary latency_histogram::summary() const {
  latency_summary s;
  s.count = count_;
  s.p50_ms = ms_of(percentile_ns(50));
  s.p99_ms = ms_of(percentile_ns(99));
  s.p999_ms = ms_of(percentile_ns(99.9));
  s.max_ms = ms_of(max_ns_);
  return s;
}

// -- progress -----------------------------------------------------------------

bool progress_wanted(bool quiet) {
  return !quiet && ::isatty(STDERR_FILENO);
}

std::string bar(double fraction, int width) {
  fraction = std::clamp(fraction, 0.0, 1.0);
  auto filled = static_cast<int>(fraction * width + 0.5);
  return "[" + std::string(static_cast<size_t>(filled), '#') +
         std::string(static_cast<size_t>(width - filled), ' ') + "]";
}

timed_progress::timed_progress(std::string label, double seconds,
                               const std::atomic<uint64_t>& ops, bool enabled)
    : label_(std::move(label)),
      seconds_(seconds),
      ops_(ops),
      enabled_(enabled),
      start_(steady::now()) {
  if (!enabled_)
    return;
  ticker_ = std::thread{[this] {
    while (!stop_) {
      draw();
      // Short naps so that stop() returns quickly.
      for (int i = 0; i < 25 && !stop_; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }};
}

timed_progress::~timed_progress() {
  stop();
}

void timed_progress::draw() {
  auto elapsed = seconds_since(start_);
  auto ops = ops_.load(std::memory_order_relaxed);
  std::fprintf(stderr, "\r%s %s %5.1f/%.1f s %10llu ops %10.0f ops/s",
               label_.c_str(),
               bar(seconds_ > 0 ? elapsed / seconds_ : 1.0, 30).c_str(),
               std::min(elapsed, seconds_), seconds_,
               static_cast<unsigned long long>(ops),
               static_cast<double>(ops) / std::max(elapsed, 1e-9));
  std::fflush(stderr);
}

void timed_progress::stop() {
  if (!enabled_ || stop_.exchange(true))
    return;
  ticker_.join();
  std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
}

count_progress::count_progress(std::string label, uint64_t total, bool enabled)
    : label_(std::move(label)), total_(total), enabled_(enabled) {
  // nop
}

count_progress::~count_progress() {
  if (enabled_ && !finished_)
    std::fprintf(stderr, "\n");
}

void count_progress::update(uint64_t done) {
  if (!enabled_ || finished_)
    return;
  auto now = steady::now();
  if (done < total_ && now - last_draw_ < std::chrono::milliseconds(100))
    return;
  last_draw_ = now;
  auto fraction =
      total_ ? static_cast<double>(done) / static_cast<double>(total_) : 1.0;
  std::fprintf(stderr, "\r%s %s %3.0f %% %llu/%llu", label_.c_str(),
               bar(fraction, 30).c_str(), fraction * 100,
               static_cast<unsigned long long>(done),
               static_cast<unsigned long long>(total_));
  std::fflush(stderr);
}

void count_progress::finish() {
  if (!enabled_ || finished_)
    return;
  last_draw_ = {};
  update(total_);
  finished_ = true;
  std::fprintf(stderr, "\n");
}

// -- memory -------------------------------------------------------------------

scratch_dir::scratch_dir(const std::string& name) {
  auto tmpl = "/tmp/oms-bench-" + name + "-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr)
    throw std::runtime_error("cannot make a directory like " + tmpl);
  path_ = tmpl;
}

void scratch_dir::remove() {
  if (path_.empty())
    return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
  path_.clear();
}

uint64_t rss_bytes() {
  std::ifstream in{"/proc/self/statm"};
  uint64_t size = 0;
  uint64_t resident = 0;
  if (!(in >> size >> resident))
    return 0;
  return resident * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
}

// -- CPU ----------------------------------------------------------------------

double process_cpu_seconds() {
  rusage u{};
  if (::getrusage(RUSAGE_SELF, &u) != 0)
    return 0;
  auto secs = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

// -- stock checks -------------------------------------------------------------

std::vector<std::string> check_sku(const std::string& sku,
                                   const sku_counters& have,
                                   const sku_counters& granted, int64_t stock,
                                   bool exact) {
  std::vector<std::string> result;
  auto n = [](int64_t x) {
    return std::to_string(x);
  };
  auto handed_out = have.reserved + have.blocked + have.consumed_total;
  if (handed_out > have.received_total)
    result.push_back(sku + " oversold: " + n(handed_out) +
                     " units reserved, blocked or consumed of " +
                     n(have.received_total) + " received");
  if (have.received_total != stock)
    result.push_back(sku + " received " + n(have.received_total) +
                     " units, the run gave it " + n(stock));
  if (have.available != have.on_hand - have.reserved - have.blocked)
    result.push_back(sku + " shows " + n(have.available) +
                     " available, not on hand less reserved and blocked (" +
                     n(have.on_hand - have.reserved - have.blocked) + ")");
  if (have.available < 0 || have.reserved < 0 || have.blocked < 0 ||
      have.consumed_total < 0 || have.on_hand < 0)
    result.push_back(sku + " has a negative counter");
  if (exact &&
      (have.reserved != granted.reserved || have.blocked != granted.blocked ||
       have.consumed_total != granted.consumed_total))
    result.push_back(sku + " shows reserved/blocked/consumed " +
                     n(have.reserved) + "/" + n(have.blocked) + "/" +
                     n(have.consumed_total) + ", the clients were granted " +
                     n(granted.reserved) + "/" + n(granted.blocked) + "/" +
                     n(granted.consumed_total));
  return result;
}

void move_units(const std::vector<size_t>& lines, std::vector<int64_t>* from,
                std::vector<int64_t>* to) {
  for (auto i : lines) {
    if (from)
      --(*from)[i];
    if (to)
      ++(*to)[i];
  }
}

std::vector<std::string> check_sku(const std::string& sku,
                                   const sku_counters& have,
                                   const expected_units& want, size_t index,
                                   int64_t stock, bool exact) {
  sku_counters granted;
  granted.reserved = want.reserved[index];
  granted.blocked = want.blocked[index];
  granted.consumed_total = want.consumed[index];
  return check_sku(sku, have, granted, stock, exact);
}

void violations::print_samples() const {
  for (auto& line : samples)
    std::cerr << "violation: " << line << "\n";
}

void check_flash_granted(uint64_t granted_total, int64_t stock,
                         violations& out) {
  if (granted_total != static_cast<uint64_t>(stock))
    out.fail("flash: " + std::to_string(granted_total) +
             " units granted of a stock of " + std::to_string(stock));
}

// -- the clients' counts ------------------------------------------------------

void client_counts::merge(const client_counts& other) {
  latency.merge(other.latency);
  requests.merge(other.requests);
  refusals.merge(other.refusals);
  operations += other.operations;
  granted += other.granted;
  refused += other.refused;
  errors += other.errors;
  granted_total += other.granted_total;
  unknown_outcomes += other.unknown_outcomes;
  last_grant_ns = std::max(last_grant_ns, other.last_grant_ns);
  units.merge(other.units);
}

// -- the summary line ---------------------------------------------------------

void add_counts(summary& out, const client_counts& all) {
  out.operations = all.operations;
  out.latency = all.latency.summary();
  out.granted = all.granted;
  out.refused = all.refused;
  out.errors = all.errors;
}

void add_run_extra(nlohmann::ordered_json& extra, const client_counts& all,
                   size_t skus, int64_t stock, double warmup_seconds,
                   double setup_seconds, bool chained, bool flash) {
  auto& x = extra;
  x["skus"] = skus;
  x["stock"] = stock;
  x["warmupSeconds"] = warmup_seconds;
  x["setupSeconds"] = rounded(setup_seconds, 3);
  if (chained)
    x["requestLatencyMs"] = to_json(all.requests.summary());
  if (all.refusals.count() > 0)
    x["refusedLatencyMs"] = to_json(all.refusals.summary());
  if (flash) {
    x["sellOutSeconds"] =
        rounded(static_cast<double>(all.last_grant_ns) / 1e9, 3);
    x["grantedUnits"] = all.granted_total;
  }
}

std::string describe_operations(const summary& x) {
  return std::to_string(x.operations) + " operations in " +
         fixed(x.seconds, 2) + " s, p50 " + fixed(x.latency.p50_ms, 3) +
         " ms, p99 " + fixed(x.latency.p99_ms, 3) + " ms; invariants " +
         (x.invariants_ok ? "hold" : "VIOLATED");
}

nlohmann::ordered_json to_json(const summary& x) {
  auto rate =
      x.seconds > 0 ? static_cast<double>(x.operations) / x.seconds : 0.0;
  return {{"bench", x.bench},
          {"system", x.system},
          {"workload", x.workload},
          {"clients", x.clients},
          {"seconds", rounded(x.seconds, 3)},
          {"operations", x.operations},
          {"opsPerSecond", rounded(rate, 1)},
          {"latencyMs", to_json(x.latency)},
          {"granted", x.granted},
          {"refused", x.refused},
          {"errors", x.errors},
          {"invariantsOk", x.invariants_ok},
          {"extra", x.extra}};
}

int print_summary(const summary& x) {
  std::cout << to_json(x).dump() << std::endl;
  return x.invariants_ok ? 0 : 1;
}

} // namespace oms::bench
