// The reason phrase of an HTTP status line.
#pragma once

namespace oms::http {

/// "OK", "Not Found", ... for every status omsd and wms-sim answer with;
/// "Unknown" for any other.
const char* reason_phrase(int status);

} // namespace oms::http
