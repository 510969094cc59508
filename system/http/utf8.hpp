// UTF-8 validation (RFC 3629) of what a client sends outside a JSON body:
// path parameters and percent-decoded query names and values. JSON text is
// checked by its parser; these bytes would otherwise reach a JSON answer or
// a log line unchecked.
#pragma once

#include <string_view>

namespace oms::http {

/// Whether `bytes` are well-formed UTF-8: no stray continuation byte, no
/// truncated sequence, no overlong form, no surrogate (U+D800..U+DFFF) and
/// nothing above U+10FFFF. The empty string and NUL bytes are well-formed.
bool valid_utf8(std::string_view bytes);

} // namespace oms::http
