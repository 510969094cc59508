#include "messages/strict_json.hpp"

#include <limits>
#include <set>
#include <vector>

#include <nlohmann/json.hpp>

namespace oms {

nlohmann::json parse_strict(std::string_view text, json_refusal& why,
                            size_t depth_max) {
  using json = nlohmann::json;
  why = json_refusal{};
  if (auto nul = text.find('\0'); nul != std::string_view::npos) {
    why.message = "holds a NUL byte at offset " + std::to_string(nul);
    return json(json::value_t::discarded);
  }
  // One frame per object or array being read: an object's keys so far and
  // the one being read, an array's index of the element being read. The
  // frames name the member a repeated key belongs to.
  struct frame {
    bool object;
    std::set<std::string> keys;
    std::string key;
    size_t index = 0;
  };
  std::vector<frame> open;
  std::string repeated;
  bool too_deep = false;
  auto path = [&open] {
    std::string p;
    for (auto& f : open) {
      if (f.object) {
        if (!p.empty())
          p += '.';
        p += f.key;
      } else {
        p += '[' + std::to_string(f.index) + ']';
      }
    }
    return p;
  };
  // An element of the innermost array was read.
  auto next_element = [&open] {
    if (!open.empty() && !open.back().object)
      ++open.back().index;
  };
  json::parser_callback_t on_event = [&](int, json::parse_event_t ev,
                                         json& parsed) {
    switch (ev) {
      case json::parse_event_t::object_start:
        open.push_back(frame{true, {}, {}, 0});
        too_deep = too_deep || open.size() > depth_max;
        break;
      case json::parse_event_t::array_start:
        open.push_back(frame{false, {}, {}, 0});
        too_deep = too_deep || open.size() > depth_max;
        break;
      case json::parse_event_t::key: {
        auto& f = open.back();
        f.key = parsed.get<std::string>();
        if (!f.keys.insert(f.key).second && repeated.empty())
          repeated = path();
        break;
      }
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        open.pop_back();
        next_element();
        break;
      case json::parse_event_t::value:
        next_element();
        break;
    }
    return true;
  };
  auto j = json::parse(text.begin(), text.end(), on_event, false);
  if (j.is_discarded()) {
    why.message = "is not valid JSON (UTF-8)";
    return j;
  }
  // The parser itself walks no deeper than the text (it keeps a stack of
  // its own, as the value's destructor does); refused here, the value never
  // reaches code that recurses.
  if (too_deep) {
    why.message = "is nested deeper than " + std::to_string(depth_max);
    return json(json::value_t::discarded);
  }
  if (!repeated.empty()) {
    why.field = std::move(repeated);
    why.message = "is given more than once";
    return json(json::value_t::discarded);
  }
  return j;
}

bool json_int64(const nlohmann::json& v, int64_t& out) {
  if (!v.is_number_integer())
    return false;
  if (v.is_number_unsigned()) {
    auto u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      return false;
    out = static_cast<int64_t>(u);
    return true;
  }
  out = v.get<int64_t>();
  return true;
}

} // namespace oms
