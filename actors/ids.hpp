// Unguessable identifiers.
#pragma once

#include <string>
#include <string_view>

namespace oms {

/// A new identifier: `prefix` followed by 26 characters encoding 128 random
/// bits from the operating system's CSPRNG (e.g. "ord_4f2k...").
std::string random_id(std::string_view prefix);

} // namespace oms
