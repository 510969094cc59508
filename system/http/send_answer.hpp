// How omsd and wms-sim write an answer with RESTinio. Header-only and
// included by those two programs alone, so that the oms_http library stays
// free of RESTinio.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <restinio/all.hpp>

#include "system/http/reason_phrase.hpp"

namespace oms::http {

/// Sends the answer to `req`: the status line with its reason phrase,
/// Content-Type, Cache-Control: no-store, `headers` in order and `body`;
/// with `close`, the connection closes after it.
inline void
send_answer(const restinio::request_handle_t& req, int status,
            const std::string& content_type,
            const std::vector<std::pair<std::string, std::string>>& headers,
            std::string body, bool close = false) {
  auto rb = req->create_response(restinio::http_status_line_t{
      restinio::http_status_code_t{static_cast<std::uint16_t>(status)},
      reason_phrase(status)});
  rb.append_header(restinio::http_field::content_type, content_type);
  rb.append_header(restinio::http_field::cache_control, "no-store");
  for (auto& [name, value] : headers)
    rb.append_header(name, value);
  if (close)
    rb.connection_close();
  rb.set_body(std::move(body));
  rb.done();
}

} // namespace oms::http
