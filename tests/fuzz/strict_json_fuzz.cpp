// Fuzzes parse_strict (messages/strict_json.hpp), the parser of every
// request body of omsd and wms-sim and of the WMS's answers. The first byte
// sets the depth limit, the rest is the text. Whatever the bytes: it
// returns (never throws); a refusal says why, names a member only for a
// repeated key, refuses for depth only what nests deeper than the limit and
// as "not JSON" only what nlohmann refuses; what it accepts is what
// nlohmann reads, nests within the limit, holds no NUL byte, encodes without
// error and reads back to the same value.
#include <algorithm>
#include <cmath>
#include <string>

#include <nlohmann/json.hpp>

#include "messages/strict_json.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {

using json = nlohmann::json;

// Infinities read from "1e400" encode as null: they do not read back.
bool has_infinity(const json& j) {
  if (j.is_number_float())
    return !std::isfinite(j.get<double>());
  if (j.is_structured())
    for (auto& x : j)
      if (has_infinity(x))
        return true;
  return false;
}

// Nesting of arrays and objects: a scalar is 0 deep, [] 1.
size_t depth(const json& j) {
  size_t deepest = 0;
  if (j.is_structured())
    for (auto& x : j)
      deepest = std::max(deepest, depth(x));
  return j.is_structured() ? deepest + 1 : 0;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  // The first byte sets the depth limit, 1 to 8 or the default, so that
  // short inputs reach it.
  auto depth_max = data[0] % 9 == 0 ? oms::json_depth_default
                                    : static_cast<size_t>(data[0] % 9);
  auto text = oms::fuzz::text_of(data + 1, size - 1);
  oms::json_refusal why;
  auto j = oms::parse_strict(text, why, depth_max);
  auto plain = json::parse(text.begin(), text.end(), nullptr, false);
  auto nul = text.find('\0');
  if (j.is_discarded()) {
    FUZZ_CHECK(!why.message.empty(), "a refusal says why");
    if (nul != std::string_view::npos) {
      FUZZ_CHECK(why.field.empty() &&
                     why.message ==
                         "holds a NUL byte at offset " + std::to_string(nul),
                 "a NUL byte is refused at its offset");
    } else if (!why.field.empty()) {
      FUZZ_CHECK(why.message == "is given more than once",
                 "only a repeated key names a member");
      FUZZ_CHECK(!plain.is_discarded(),
                 "a repeated key is refused in what is JSON");
    } else if (why.message.rfind("is nested deeper than ", 0) == 0) {
      FUZZ_CHECK(!plain.is_discarded() && depth(plain) > depth_max,
                 "only what nests deeper than the limit is refused for it");
    } else {
      FUZZ_CHECK(why.message == "is not valid JSON (UTF-8)",
                 "a refusal without a member is not JSON");
      FUZZ_CHECK(plain.is_discarded(),
                 "refused as not JSON only what nlohmann refuses");
    }
    return 0;
  }
  FUZZ_CHECK(depth(j) <= depth_max, "what is accepted nests within the limit");
  FUZZ_CHECK(why.field.empty() && why.message.empty(),
             "an accepted text carries no refusal");
  FUZZ_CHECK(nul == std::string_view::npos, "no NUL byte is read past");
  FUZZ_CHECK(!plain.is_discarded() && plain == j,
             "what is accepted is what nlohmann reads");
  // Strings were checked to be UTF-8, so encoding cannot throw.
  auto again_text = j.dump();
  oms::json_refusal why_again;
  auto again = oms::parse_strict(again_text, why_again, depth_max);
  FUZZ_CHECK(!again.is_discarded(), "the encoding reads back");
  FUZZ_CHECK(again == j || has_infinity(j), "and reads back the same value");
  FUZZ_CHECK(again.dump() == again_text, "the encoding is stable");
  return 0;
}
