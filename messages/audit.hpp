// What an audit of the stock conservation invariants reports.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "messages/basics.hpp"

namespace oms {

/// One broken invariant found by an audit.
struct violation {
  sku_id sku;
  std::string what;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, violation& x) {
  return f(caf::meta::type_name("violation"), x.sku, x.what);
}

/// The result of checking the stock conservation invariants of every SKU
/// against the holds of every live order.
struct audit_report {
  uint64_t skus_checked = 0;
  uint64_t live_orders = 0;
  std::vector<violation> violations;
  /// Units held by orders on the SKUs checked, reserved and blocked, as the
  /// SKU actors counted them (saturating at INT64_MAX).
  int64_t units_reserved = 0;
  int64_t units_blocked = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, audit_report& x) {
  return f(caf::meta::type_name("audit_report"), x.skus_checked, x.live_orders,
           x.violations, x.units_reserved, x.units_blocked);
}

} // namespace oms
