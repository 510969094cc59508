// One EXTERNAL SKU's stock as we may sell it: the WMS's last batch snapshot,
// corrected by the feed's changes the snapshot does not reflect yet and by
// our own holds the WMS has not reflected yet. A pure value: the
// EXTERNAL-SKU actor owns one, and everything here is unit-tested without
// actors or a WMS.
//
//   available = snapshot orderable
//             + feed changes with a WMS sequence above the snapshot's
//             - our holds whose reservation the snapshot does not reflect
//             - safety buffer                                  (never < 0)
//
// A hold stops being subtracted once a snapshot reflects its reservation
// (the WMS's orderable already excludes it), so nothing counts twice; a unit
// we granted is unavailable to every later order at once, whatever the WMS
// still says.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "actors/stock_ledger.hpp"
#include "messages/domain.hpp"

namespace oms {

/// One order's hold on an EXTERNAL SKU and its state at the WMS.
struct external_hold;

/// The units the WMS may hold for the hold: its reservation's, or ours
/// before one was asked for.
int64_t units_at_wms(const external_hold& h);

/// The WMS's reservation holds more than the order still does and can
/// still be reduced (it is reserved or blocked there, and not released
/// here).
bool needs_reduction(const external_hold& h);

/// One order's hold on an EXTERNAL SKU and its state at the WMS.
struct external_hold {
  order_id order;
  /// The units the order holds now.
  int64_t quantity = 0;
  /// The units of the reservation at the WMS, as asked for or acknowledged
  /// last (0: not asked yet). Above `quantity` after a partial cancel until
  /// the WMS acknowledges the reduction.
  int64_t wms_quantity = 0;
  /// What we want the WMS to have: follows the order (reserved, blocked,
  /// shipped, released).
  wms_state wanted = wms_state::reserved;
  /// What the WMS acknowledged last.
  wms_state known = wms_state::none;
  /// The WMS's change sequence of the reservation (0: not acknowledged).
  int64_t reserve_seq = 0;
  /// A reservation may exist at the WMS (we asked for one).
  bool requested = false;
  /// The WMS refused the reservation: the order is being cancelled. The
  /// hold stays (so the order and our count agree until the cancel
  /// releases it) but holds nothing back and grants nothing more.
  bool refused = false;
};

class external_ledger {
 public:
  explicit external_ledger(int64_t safety_buffer = 0)
      : safety_buffer_(safety_buffer) {}

  /// True once a snapshot was read.
  bool known() const { return known_; }
  money unit_price() const { return unit_price_; }
  int64_t snapshot_reflects() const { return reflects_; }
  timestamp_ms snapshot_as_of() const { return as_of_; }
  timestamp_ms read_at() const { return read_at_; }

  /// Takes a new snapshot from the WMS. An older one (lower `reflects`) is
  /// ignored. Feed changes and shipped holds the snapshot reflects are
  /// dropped.
  void apply_snapshot(int64_t orderable, int64_t reflects, timestamp_ms as_of,
                      money unit_price, timestamp_ms read_at);

  /// A change from the WMS feed (receipt, adjustment, damage...) with the
  /// WMS's change sequence. Ignored if a snapshot already reflects it.
  /// Idempotent per sequence.
  void apply_delta(int64_t wms_seq, int64_t quantity);

  /// What may be sold now.
  int64_t available() const;

  /// Grants `quantity` units to `order` against our own count, all or
  /// nothing (see stock_ledger::reserve). Errors: WMS_UNAVAILABLE (no
  /// snapshot yet), VALIDATION_FAILED.
  ledger_outcome reserve(const order_id& order, int64_t quantity,
                         reserve_reply& reply);

  /// The order's units should be blocked at the WMS. Errors:
  /// INVALID_TRANSITION (no hold).
  ledger_outcome block(const order_id& order);

  /// The order's units go back: the hold ends once the WMS acknowledges the
  /// release (until then a reservation the snapshot does not reflect is
  /// still subtracted). Idempotent.
  ledger_outcome release(const order_id& order);

  /// Shrinks the order's hold to `remaining` units (0 releases it): the
  /// units go back once the WMS acknowledges the reduction and a snapshot
  /// reflects it. Idempotent (it names the target). Errors:
  /// VALIDATION_FAILED (remaining < 0 or above the hold).
  ledger_outcome reduce(const order_id& order, int64_t remaining);

  /// The order's blocked units ship. Errors: INVALID_TRANSITION (not
  /// blocked). Idempotent.
  ledger_outcome consume(const order_id& order);

  /// Records that the WMS acknowledged `state` for the order's reservation
  /// with change sequence `seq`.
  void acknowledged(const order_id& order, wms_state state, int64_t seq);

  /// Records that the WMS's reservation holds `quantity` units (it
  /// acknowledged a reserve or a reduction of that many).
  void acknowledged_quantity(const order_id& order, int64_t quantity);

  /// The WMS refused the reservation: the units go back at once; the hold
  /// stays, holding nothing back, until the order's cancel releases it.
  void refused(const order_id& order);

  /// The WMS has no reservation for the order (it never had one, or lost
  /// it): whatever it acknowledged before no longer counts, and a
  /// reservation of the units the order holds now is asked for afresh.
  void forgotten(const order_id& order);

  /// Marks that a reservation of `quantity` units was asked for (it may
  /// exist at the WMS).
  void mark_requested(const order_id& order, int64_t quantity);

  /// Holds whose WMS state or quantity differs from what we want.
  std::vector<order_id> out_of_sync() const;

  const external_hold* find(const order_id& order) const;

  /// Holds restored after a restart.
  void restore_hold(external_hold h);

  /// Restores feed changes not yet reflected by a snapshot.
  void restore_delta(int64_t wms_seq, int64_t quantity) {
    deltas_[wms_seq] = quantity;
  }

  /// Orders holding units (reserved or blocked) now.
  std::vector<hold_view> holds() const;

  /// Describes every broken invariant; empty when all hold.
  std::vector<std::string> check_invariants() const;

  /// The counters for `sku` at `now`.
  stock_view view(const sku_id& sku, timestamp_ms now) const;

 private:
  int64_t subtracted(const external_hold& h) const;
  void drop_settled();

  int64_t safety_buffer_ = 0;
  bool known_ = false;
  int64_t orderable_ = 0;
  int64_t reflects_ = 0;
  timestamp_ms as_of_ = 0;
  timestamp_ms read_at_ = 0;
  money unit_price_ = 0;
  std::map<int64_t, int64_t> deltas_; // WMS sequence -> quantity
  std::unordered_map<order_id, external_hold> holds_;
};

} // namespace oms
