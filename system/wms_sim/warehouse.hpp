// The simulated warehouse system (WMS) of the external seller as a model:
// stock per SKU, reservations with their RESERVED/BLOCKED/SHIPPED/RELEASED
// states (a live one may be reduced), customer returns of shipped units
// (RECEIVED, then INSPECTED), an event feed of receipts, adjustments and
// restocked returns, and the batch job that alone makes changes visible in
// the "orderable" quantity the WMS reports.
// Every operation answers as the WMS contract does (a status and its JSON
// body), on an injected clock and random source, so every rule is
// unit-tested deterministically. Its HTTP face is system/wms_sim/sim.hpp.
// Not thread-safe: one thread owns a warehouse.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace oms::wms_sim {

using json = nlohmann::json;

/// Milliseconds since the epoch, from the injected clock.
using clock_fn = std::function<int64_t()>;

// Bounds of the values a request may carry.
inline constexpr int64_t quantity_max = 1'000'000;
inline constexpr int64_t on_hand_max = 1'000'000'000;
inline constexpr int64_t unit_price_max = 1'000'000'000'000;
inline constexpr int64_t page_limit_max = 1000;
inline constexpr int64_t page_limit_default = 100;

/// A reservation's state. RESERVED → BLOCKED → SHIPPED; RESERVED or BLOCKED
/// → RELEASED.
enum class reservation_status { reserved, blocked, shipped, released };

/// "RESERVED", "BLOCKED", "SHIPPED" or "RELEASED".
const char* to_string(reservation_status x);

/// A customer return's state: RECEIVED (on hand, unallocatable) → INSPECTED
/// (restocked units for sale again, damaged ones left unallocatable).
enum class return_status { received, inspected };

/// "RECEIVED" or "INSPECTED".
const char* to_string(return_status x);

/// An id of 1..128 characters of [A-Za-z0-9._:-].
bool valid_id(std::string_view x);

/// Bounds of every table the simulator keeps; past them a change is refused
/// with 507 CAPACITY_EXCEEDED instead of growing without end.
struct capacity {
  size_t skus_max = 100'000;
  size_t reservations_max = 1'000'000;
  size_t events_max = 1'000'000;
  size_t returns_max = 1'000'000;
};

/// A status with its JSON answer (an error answer is
/// {"error":{"code","message",...}}).
struct outcome {
  int status = 200;
  json body;
  bool ok() const { return status >= 200 && status < 300; }
};

/// The error answer {"error":{"code","message",...extra}}.
outcome fail(int status, const std::string& code, const std::string& message,
             json extra = json::object());

/// 400 VALIDATION_FAILED naming `field`.
outcome invalid(const std::string& field, const std::string& message);

/// 400 VALIDATION_FAILED for `field`, which is not an id (valid_id): "`what`
/// is 1..128 characters of [A-Za-z0-9._:-]".
outcome invalid_id(const std::string& field, const std::string& what);

/// 400 VALIDATION_FAILED for a `quantity` outside 1..quantity_max.
outcome invalid_quantity();

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
  /// The units it holds now (a reduce lowers it).
  int64_t quantity = 0;
  reservation_status status = reservation_status::reserved;
  /// The seq of its last change.
  int64_t seq = 0;
  /// The quantity it was made with: a retry of POST /reservations names it.
  int64_t requested = 0;
  /// Units of its shipped quantity already returned (all its returns).
  int64_t returned = 0;
};

/// A customer return of units of a shipped reservation.
struct customer_return {
  std::string id;
  std::string reservation;
  std::string sku;
  int64_t quantity = 0;
  return_status status = return_status::received;
  /// The inspection's decision (0 until INSPECTED): restocked + damaged ==
  /// quantity.
  int64_t restocked = 0;
  int64_t damaged = 0;
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

/// One SKU of a seed.
struct sku_row {
  std::string sku;
  int64_t on_hand = 0;
  int64_t unit_price = 0;
};

class warehouse {
 public:
  /// Batches run every `batch_interval_ms` (0: only on demand). `uniform`
  /// draws from [0, 1); when empty, a generator seeded with `seed` does.
  warehouse(int64_t batch_interval_ms, capacity limits, uint64_t seed,
            clock_fn now, std::function<double()> uniform = {});

  // -- the WMS operations -----------------------------------------------------

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
  /// POST /reservations/{id}/reduce: a RESERVED or BLOCKED reservation keeps
  /// `quantity` of its units, the rest go back to its SKU; idempotent (the
  /// quantity it already holds answers it unchanged).
  outcome reduce(const std::string& id, int64_t quantity);
  /// POST /returns: `quantity` units of a SHIPPED reservation come back
  /// (onHand and unallocatable rise); idempotent by id.
  outcome receive_return(const std::string& id,
                         const std::string& reservation_id, int64_t quantity);
  /// POST /returns/{id}/inspect: of a RECEIVED return, `restock` units go
  /// back to sale (a RETURN event) and `damaged` stay unallocatable; either
  /// may be left out (it is the rest of the return). Idempotent.
  outcome inspect_return(const std::string& id, std::optional<int64_t> restock,
                         std::optional<int64_t> damaged);
  /// GET /returns/{id}.
  outcome return_state(const std::string& id) const;
  /// GET /events; `after` empty means from the start. With probability
  /// `duplicate_rate` a page first repeats one event from before the cursor
  /// (at-least-once delivery); `duplicated` tells whether it did.
  outcome feed_page(const std::string& after, int64_t limit,
                    double duplicate_rate, bool& duplicated);

  // -- admin ------------------------------------------------------------------

  /// Creates or replaces a SKU (201 when created, 200 when replaced).
  outcome put_sku(const std::string& sku, int64_t on_hand, int64_t unit_price,
                  bool reflect_now);
  outcome receive(const std::string& sku, int64_t quantity,
                  const std::string& lot);
  /// reason: DAMAGE, QUARANTINE, QUARANTINE_RELEASE or CORRECTION.
  outcome adjust(const std::string& sku, int64_t quantity,
                 const std::string& reason, const std::string& lot);
  /// Puts checked seed rows (distinct, valid SKUs) then runs a "seed" batch;
  /// nothing changes when they do not all fit.
  outcome load_rows(const std::vector<sku_row>& rows);
  /// SKUs, reservation and return counts, the feed's length and the batch
  /// job.
  json stock_state() const;

  // -- the batch job ----------------------------------------------------------

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

  int64_t seq() const { return seq_; }
  int64_t batch() const { return batch_; }
  /// Live state of a SKU, or null.
  const sku_state* find_sku(const std::string& sku) const;
  /// A reservation, or null.
  const reservation* find_reservation(const std::string& id) const;
  /// A customer return, or null.
  const customer_return* find_return(const std::string& id) const;

 protected:
  /// The injected clock.
  int64_t now() const { return now_(); }
  /// The next draw of the random source, in [0, 1).
  double draw();

 private:
  struct snapshot_entry {
    int64_t orderable = 0;
    int64_t unit_price = 0;
  };

  json sku_json(const sku_state& s) const;
  json reservation_json(const reservation& r) const;
  json return_json(const customer_return& r) const;
  json event_json(const stock_event& ev) const;
  void append_event(const std::string& type, const std::string& sku,
                    int64_t quantity, const std::string& lot);
  outcome capacity_exceeded(const std::string& what) const;
  /// The reservation `id` names; null, with the answer in `error`, when the
  /// id is malformed (400) or unknown (404).
  const reservation* find_reservation(const std::string& id,
                                      outcome& error) const;
  reservation* find_reservation(const std::string& id, outcome& error);
  /// Moves reservation `id` to `to` (a repeat answers as the first did).
  outcome transition(const std::string& id, reservation_status to);
  /// The SKU an event of `lot` changes, or null with the answer in `error`
  /// (a bad lot, an unknown SKU, a full feed).
  sku_state* event_target(const std::string& sku, const std::string& lot,
                          outcome& error);

  int64_t batch_interval_ms_;
  capacity limits_;
  clock_fn now_;
  std::function<double()> uniform_;
  uint64_t rng_state_;

  int64_t seq_ = 0;
  std::map<std::string, sku_state> skus_;
  std::map<std::string, reservation> reservations_;
  std::map<std::string, customer_return> returns_;
  std::vector<stock_event> events_;

  // The last batch snapshot.
  int64_t batch_ = 0;
  int64_t batch_at_ms_ = 0;
  int64_t reflects_ = 0;
  size_t events_reflected_ = 0;
  std::map<std::string, snapshot_entry> snapshot_;
  std::optional<int64_t> next_batch_at_;
  std::function<void(const batch_result&)> on_batch_;
};

} // namespace oms::wms_sim
