// Unguessable identifiers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace oms {

/// A new identifier: `prefix` followed by 26 characters encoding 128 random
/// bits from the operating system's CSPRNG (e.g. "ord_4f2k...").
std::string random_id(std::string_view prefix);

/// A new identifier that sorts by creation time: `prefix` followed by 26
/// characters, the first 10 encoding `unix_ms` (48 bits) and the other 16
/// encoding 80 random bits from the CSPRNG (the ULID layout, lower case).
/// Ids made later sort later (to the millisecond), so rows keyed by them are
/// appended to the store's indexes instead of landing on random pages.
std::string time_ordered_id(std::string_view prefix, uint64_t unix_ms);

} // namespace oms
