// Identifiers: random ones and time-ordered order ids.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <string>

#include "actors/ids.hpp"

using namespace oms;

namespace {

bool in_alphabet(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::string_view{"0123456789abcdefghjkmnpqrstvwxyz"}.find(c) !=
           std::string_view::npos;
  });
}

} // namespace

TEST_CASE("random ids: the prefix, 26 base32 characters, never repeated") {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    auto id = random_id("cus_");
    REQUIRE(id.size() == 30);
    CHECK(id.rfind("cus_", 0) == 0);
    CHECK(in_alphabet(id.substr(4)));
    // 128 bits in 130: the first character carries 3 bits.
    CHECK(id[4] <= '7');
    seen.insert(id);
  }
  CHECK(seen.size() == 1000);
}

TEST_CASE("time-ordered ids encode the millisecond first and sort by it") {
  CHECK(time_ordered_id("ord_", 0).substr(4, 10) == "0000000000");
  CHECK(time_ordered_id("ord_", 1).substr(4, 10) == "0000000001");
  CHECK(time_ordered_id("ord_", 32).substr(4, 10) == "0000000010");
  // 2026-11-22T00:00:00Z, and the largest 48-bit time.
  CHECK(time_ordered_id("ord_", 1795305600000).substr(4, 10) == "01m808tx00");
  CHECK(time_ordered_id("", (uint64_t{1} << 48) - 1).substr(0, 10) ==
        "7zzzzzzzzz");
  std::string previous;
  std::set<std::string> seen;
  for (uint64_t ms = 1795305600000; ms < 1795305600000 + 500; ++ms) {
    // Two ids in the same millisecond differ in their random part.
    auto a = time_ordered_id("ord_", ms);
    auto b = time_ordered_id("ord_", ms);
    REQUIRE(a.size() == 30);
    CHECK(in_alphabet(a.substr(4)));
    CHECK(a != b);
    CHECK(a.substr(0, 14) == b.substr(0, 14));
    CHECK(std::min(a, b) > previous);
    previous = std::max(a, b);
    seen.insert(a);
    seen.insert(b);
  }
  CHECK(seen.size() == 1000);
}
