// The operations console's files (console/src and the libraries it takes
// from npm), built into omsd by tools/embed-console.cmake: omsd serves them
// under /console/ from memory.
#pragma once

#include <string_view>
#include <vector>

namespace oms::daemon {

struct console_asset {
  /// The path under /console/ ("index.html", "pages/orders.js").
  std::string_view path;
  std::string_view content_type;
  std::string_view body;
  /// A strong entity tag of the body ("\"3f2a...\"").
  std::string_view etag;
};

/// Every asset, in no particular order.
const std::vector<console_asset>& console_assets();

/// The asset at `path` (as under /console/, "" for the index), or null.
const console_asset* find_console_asset(std::string_view path);

} // namespace oms::daemon
