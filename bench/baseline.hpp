// What the baseline benches (PostgreSQL row locks, Redis Lua) share: the
// workloads and the closed-loop driver with warmup; the histogram, the
// progress bar and the result line come from bench_common like every bench's.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "bench/bench_common.hpp"

namespace CLI {
class App;
} // namespace CLI

namespace oms::bench {

/// What the clients reserve (docs/benchmarks.md defines each):
/// hot: one unit of SKU 0 (ample stock); spread: one unit of a SKU drawn
/// uniformly among all; multiline: one unit each of three distinct SKUs;
/// flash: one unit of SKU 0 until refused, stock S.
enum class workload { hot, spread, multiline, flash };

/// The workload named `name`, or nothing for an unknown name.
std::optional<workload> parse_workload(const std::string& name);

const char* to_string(workload w);

/// The name of SKU number `index`: "SKU-00042".
std::string sku_name(int index);

/// One line of an order: a SKU by index and a quantity.
struct line {
  int sku = 0;
  int64_t quantity = 1;
};

/// The lines of the next order of workload `w` over `skus` SKUs, SKUs in
/// ascending order (the order every design locks them in).
std::vector<line> pick_lines(workload w, int skus, std::mt19937_64& rng);

/// What one reservation attempt came to. `unknown` means the outcome could
/// not be learnt (a commit whose answer was lost): the invariant check
/// allows it either way.
enum class outcome { granted, refused, error, unknown };

/// One client's connection to the system under test. Used by one thread.
class client {
 public:
  virtual ~client() = default;
  /// Reserves every line of order `order_id`, all or nothing.
  virtual outcome reserve(const std::string& order_id,
                          const std::vector<line>& lines) = 0;
  /// What went wrong in the last attempt that answered error or unknown.
  virtual std::string last_error() const = 0;
};

struct options {
  workload load = workload::hot;
  int clients = 32;
  double seconds = 5;
  double warmup = 1;
  int skus = 10'000;
  /// Units on hand per SKU; 0 picks the default (ample, or 10,000 for flash).
  int64_t stock = 0;
  /// A flash sale that has not sold out after this long is a failed run.
  double flash_limit_seconds = 300;
  bool quiet = false;
};

/// Adds the options every baseline takes to `app`: --workload (into
/// `workload_name`), --clients, --seconds, --warmup, --skus (described by
/// `skus_help`), --stock and --flash-limit.
void add_run_options(CLI::App& app, options& o, std::string& workload_name,
                     const std::string& skus_help);

/// "postgres, hot, 32 clients, 10000 SKUs of 1000000000 units": the run `o`
/// on `system`, for the line a bench says before it starts.
std::string describe_run(const std::string& system, const options& o);

/// Units on hand per SKU that `o` asks for.
int64_t stock_of(const options& o);

/// Checks the options a bench was given; an explanation when they are bad.
std::optional<std::string> validate(const options& o);

/// What the driver saw. The first group covers the measured window only
/// (after the warmup); the second the whole run, for the invariant check.
struct totals {
  uint64_t granted = 0;
  uint64_t refused = 0;
  uint64_t errors = 0;
  double seconds = 0;
  latency_histogram latency;
  uint64_t orders_granted_all = 0;
  uint64_t units_granted_all = 0;
  uint64_t units_unknown_all = 0;
  /// Flash: from the start to the answer of the last granted order.
  double sell_out_seconds = 0;
  std::string first_error;
};

/// Runs `o.clients` closed-loop clients, each on its own thread with the
/// connection `connect(i)` made before the clock starts, for the warmup and
/// then `o.seconds` (flash: until every client has been refused).
totals drive(const options& o,
             const std::function<std::unique_ptr<client>(int)>& connect);

/// The run in the shared result format (system "postgres", "redis-always",
/// ...); operations are the granted and refused orders of the measured
/// window. Adds skus and stock, and warmupSeconds or, for a flash sale,
/// sellOutSeconds to `extra`.
summary to_summary(const std::string& bench, const std::string& system,
                   const options& o, const totals& t, bool invariants_ok,
                   nlohmann::ordered_json extra);

/// One line for people: "1234 reservations/s, p50 0.400 ms, p99 2.100 ms,
/// invariants hold".
std::string describe(const summary& s);

/// True when every count in the structural check's `violations` (name ->
/// count) is zero.
bool no_violations(const nlohmann::json& violations);

/// True when the store holds every unit a client was told it got, and
/// nothing more beyond the units whose answer was lost (`recorded` against
/// `t`'s units granted and unknown over the whole run).
bool units_accounted(int64_t recorded, const totals& t);

/// Prints the result of a --check-only run as one JSON line on stdout and
/// returns the exit status: 0, or 1 when `violations` counts any.
int print_check(const std::string& bench, int64_t units_reserved,
                const nlohmann::json& violations);

/// The end of a run whose structural check found `violations` and
/// `units_reserved` units in the store. The invariants hold when nothing is
/// violated, every unit is accounted for (units_accounted) and, in a flash
/// sale, SKU 0 sold out (`sku0_stock()` reads its units on hand and
/// reserved; called only then). Adds unitsReserved, unitsGrantedToClients,
/// violations, soldOut and firstError to `extra` and says the first error;
/// runs `clean_up`; prints the summary line (to_summary) after a line for
/// people, and returns the exit status (print_summary).
int finish(const std::string& bench, const std::string& system,
           const options& o, const totals& t, int64_t units_reserved,
           const nlohmann::json& violations, nlohmann::ordered_json extra,
           const std::function<std::pair<int64_t, int64_t>()>& sku0_stock,
           const std::function<void()>& clean_up);

/// Prints a human-readable line on stderr.
void say(const std::string& line);

} // namespace oms::bench
