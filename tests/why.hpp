// Failure text of an expected for assertion messages: safe to evaluate on a
// value too (doctest evaluates messages of passing assertions with -s).
#pragma once

#include <string>

#include <caf/expected.hpp>

#include "messages/errors.hpp"

namespace oms::test {

template <class T>
std::string why(const caf::expected<T>& x) {
  return x ? std::string{"ok"} : describe(x.error());
}

inline std::string why(const caf::error& err) {
  return err ? describe(err) : std::string{"ok"};
}

} // namespace oms::test
