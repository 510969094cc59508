// What the benchmark programs share: the latency histogram's percentiles,
// the stock check that decides whether a run oversold, and the one-line
// summary the comparison harness reads.
#include "bench/bench_common.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iostream>
#include <random>
#include <sstream>

#include <doctest/doctest.h>

using namespace oms::bench;

namespace {

// The exact nearest-rank percentile of `xs` (sorted).
uint64_t exact_percentile(const std::vector<uint64_t>& xs, double p) {
  auto rank = static_cast<size_t>(
      std::ceil(p / 100.0 * static_cast<double>(xs.size()) - 1e-9));
  return xs[std::max<size_t>(rank, 1) - 1];
}

} // namespace

TEST_CASE("histogram percentiles stay within 1 % of the exact values") {
  // Latencies spread over six orders of magnitude, as a loaded system shows.
  std::mt19937_64 rng{42};
  std::lognormal_distribution<double> dist{11.0, 2.0}; // around 60 us
  latency_histogram h;
  std::vector<uint64_t> xs;
  for (int i = 0; i < 200'000; ++i) {
    auto ns = static_cast<uint64_t>(dist(rng));
    xs.push_back(ns);
    h.record_ns(ns);
  }
  std::sort(xs.begin(), xs.end());
  CHECK(h.count() == xs.size());
  CHECK(h.max_ns() == xs.back());
  for (double p : {1.0, 50.0, 90.0, 99.0, 99.9, 99.99}) {
    auto want = static_cast<double>(exact_percentile(xs, p));
    auto have = static_cast<double>(h.percentile_ns(p));
    INFO("p", p, ": exact ", want, ", histogram ", have);
    CHECK(std::abs(have - want) <= want * 0.01 + 1);
  }
  CHECK(h.percentile_ns(100) == xs.back());
}

TEST_CASE("every value falls into the bucket whose range holds it") {
  // Buckets are contiguous and ordered: floor(b) <= v < floor(b + 1), and
  // values below 256 ns have a bucket of their own.
  for (uint64_t v = 0; v < 256; ++v)
    CHECK(latency_histogram::bucket_floor(latency_histogram::bucket_of(v)) ==
          v);
  std::mt19937_64 rng{7};
  for (int i = 0; i < 100'000; ++i) {
    auto v = rng() >> (rng() % 64);
    auto b = latency_histogram::bucket_of(v);
    REQUIRE(latency_histogram::bucket_floor(b) <= v);
    if (latency_histogram::bucket_floor(b + 1) >
        latency_histogram::bucket_floor(b))
      REQUIRE(v < latency_histogram::bucket_floor(b + 1));
  }
  CHECK(latency_histogram::bucket_of(UINT64_MAX) >
        latency_histogram::bucket_of(UINT64_MAX / 2));
}

TEST_CASE("an empty histogram reports zeros and merging adds samples") {
  // No samples: every figure is 0. Merging two clients' histograms gives
  // the figures of one histogram fed with all their samples.
  latency_histogram empty;
  auto s = empty.summary();
  CHECK(s.count == 0);
  CHECK(s.p50_ms == 0);
  CHECK(s.max_ms == 0);
  latency_histogram a;
  latency_histogram b;
  latency_histogram both;
  for (uint64_t i = 1; i <= 1000; ++i) {
    (i % 3 == 0 ? a : b).record_ns(i * 1000);
    both.record_ns(i * 1000);
  }
  a.merge(b);
  CHECK(a.count() == 1000);
  CHECK(a.max_ns() == 1'000'000);
  for (double p : {50.0, 99.0, 99.9})
    CHECK(a.percentile_ns(p) == both.percentile_ns(p));
  // 1000 samples of 1..1000 us: p50 is 500 us, p99 990 us (within 1 %).
  CHECK(std::abs(a.summary().p50_ms - 0.5) < 0.005);
  CHECK(std::abs(a.summary().p99_ms - 0.99) < 0.01);
  CHECK(a.summary().max_ms == doctest::Approx(1.0));
}

TEST_CASE("one slow sample in a thousand shows only in max, two also in "
          "p99.9") {
  // Nearest rank: p99.9 of 1000 samples is the 999th, of 1001 the 1000th.
  latency_histogram h;
  for (int i = 0; i < 999; ++i)
    h.record(std::chrono::microseconds(100));
  h.record(std::chrono::milliseconds(250));
  auto s = h.summary();
  CHECK(s.p50_ms == doctest::Approx(0.1).epsilon(0.01));
  CHECK(s.p99_ms == doctest::Approx(0.1).epsilon(0.01));
  CHECK(s.p999_ms == doctest::Approx(0.1).epsilon(0.01));
  CHECK(s.max_ms == doctest::Approx(250.0));
  h.record(std::chrono::milliseconds(250));
  CHECK(h.summary().p999_ms == doctest::Approx(250.0).epsilon(0.01));
}

TEST_CASE("a negative duration counts as zero") {
  latency_histogram h;
  h.record(std::chrono::nanoseconds(-5));
  CHECK(h.count() == 1);
  CHECK(h.max_ns() == 0);
}

TEST_CASE("a SKU that handed out more units than it received is oversold") {
  // 10 received, 6 reserved + 3 blocked + 2 consumed = 11 handed out.
  sku_counters have{10, 8, 6, 3, 2, -1};
  auto problems = check_sku("S", have, have, 10, true);
  REQUIRE(!problems.empty());
  CHECK(problems.front().find("oversold") != std::string::npos);
  // available -1 is also negative.
  CHECK(std::any_of(problems.begin(), problems.end(), [](auto& p) {
    return p.find("negative") != std::string::npos;
  }));
}

TEST_CASE("a consistent SKU passes the check") {
  // 100 received, 5 consumed: 95 on hand, 10 reserved, 5 blocked, 80 free.
  sku_counters have{100, 95, 10, 5, 5, 80};
  CHECK(check_sku("S", have, have, 100, true).empty());
  CHECK(check_sku("S", have, sku_counters{}, 100, false).empty());
}

TEST_CASE("counters that differ from the units granted fail only an exact "
          "check") {
  // The clients were granted 9 reserved units, the SKU shows 10: one
  // reservation nobody acknowledged. With unknown outcomes (exact off) the
  // difference is allowed, oversold or not.
  sku_counters have{100, 95, 10, 5, 5, 80};
  sku_counters granted = have;
  granted.reserved = 9;
  auto problems = check_sku("S", have, granted, 100, true);
  REQUIRE(problems.size() == 1);
  CHECK(problems.front().find("granted 9/5/5") != std::string::npos);
  CHECK(check_sku("S", have, granted, 100, false).empty());
}

TEST_CASE("a SKU whose receipts differ from the run's stock, or whose "
          "available does not add up, fails") {
  sku_counters have{100, 100, 0, 0, 0, 100};
  CHECK(check_sku("S", have, have, 90, false).size() == 1);
  have.available = 99;
  CHECK(check_sku("S", have, have, 100, false).size() == 1);
}

TEST_CASE("the summary line has the shared keys in the shared order") {
  summary x;
  x.bench = "oms-bench-inprocess";
  x.system = "oms-memory";
  x.workload = "hot";
  x.clients = 32;
  x.seconds = 2.0;
  x.operations = 1001;
  x.granted = 1000;
  x.refused = 1;
  x.invariants_ok = true;
  x.extra["store"] = "memory";
  auto j = to_json(x);
  std::vector<std::string> keys;
  for (auto& [k, v] : j.items())
    keys.push_back(k);
  CHECK(keys == std::vector<std::string>{
                    "bench", "system", "workload", "clients", "seconds",
                    "operations", "opsPerSecond", "latencyMs", "granted",
                    "refused", "errors", "invariantsOk", "extra"});
  CHECK(j["opsPerSecond"] == 500.5);
  std::vector<std::string> lat;
  for (auto& [k, v] : j["latencyMs"].items())
    lat.push_back(k);
  CHECK(lat == std::vector<std::string>{"p50", "p99", "p999", "max"});
  CHECK(j["extra"]["store"] == "memory");
}

TEST_CASE("the summary is printed as one line, and a failed invariant "
          "makes the exit status 1") {
  summary x;
  x.bench = "b";
  x.seconds = 0; // no division by zero
  x.invariants_ok = false;
  std::ostringstream captured;
  auto* old = std::cout.rdbuf(captured.rdbuf());
  auto status = print_summary(x);
  std::cout.rdbuf(old);
  CHECK(status == 1);
  auto text = captured.str();
  REQUIRE(!text.empty());
  CHECK(text.back() == '\n');
  CHECK(std::count(text.begin(), text.end(), '\n') == 1);
  auto j = nlohmann::json::parse(text);
  CHECK(j["invariantsOk"] == false);
  CHECK(j["opsPerSecond"] == 0.0);
  x.invariants_ok = true;
  std::cout.rdbuf(captured.rdbuf());
  status = print_summary(x);
  std::cout.rdbuf(old);
  CHECK(status == 0);
}

TEST_CASE("the progress bar fills in proportion and clamps") {
  CHECK(bar(0.5, 10) == "[#####     ]");
  CHECK(bar(0.0, 4) == "[    ]");
  CHECK(bar(1.0, 4) == "[####]");
  CHECK(bar(-1.0, 4) == "[    ]");
  CHECK(bar(7.0, 4) == "[####]");
}

TEST_CASE("resident memory grows by what the process touches") {
  // 64 MiB written page by page must show in the resident set.
  auto before = rss_bytes();
  REQUIRE(before > 0);
  std::vector<char> block(64u << 20);
  std::memset(block.data(), 1, block.size());
  auto after = rss_bytes();
  CHECK(after >= before + (60u << 20));
  CHECK(block[block.size() / 2] == 1);
}

TEST_CASE("values are rounded and formatted for display") {
  CHECK(rounded(1.23456, 2) == 1.23);
  CHECK(rounded(24641.25, 1) == doctest::Approx(24641.3));
  CHECK(fixed(12.345, 1) == "12.3");
  CHECK(fixed(3, 0) == "3");
}
