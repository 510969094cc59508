// What an HTTP server of ours (system/http/server.hpp) hands to the code that
// answers, and takes back: plain strings, no HTTP library. omsd's API and
// wms-sim speak these.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace oms::http {

struct request {
  /// "GET", "POST", ...; a HEAD request comes as "GET" with `head` set, and
  /// its answer goes out without the body.
  std::string method;
  bool head = false;
  std::string path;  // as sent (percent-encoded), without the query
  std::string query; // raw, without '?'
  std::string authorization;
  std::string idempotency_key;
  /// The Accept and Last-Event-ID header fields, as sent ("" if absent).
  std::string accept;
  std::string last_event_id;
  /// The If-Match and If-None-Match header fields, as sent ("" if absent).
  std::string if_match;
  std::string if_none_match;
  /// The declared Content-Length; none for a chunked body or no body.
  std::optional<uint64_t> content_length;
  /// A body follows the header (Content-Length > 0 or chunked).
  bool has_body = false;
  std::string body;
  /// omsd on a cluster: the node that forwarded this request to the owner
  /// of its shard ("" if it came from a client); answered here, never
  /// forwarded again.
  std::string forwarded_from;
};

/// A body sent in pieces as they come (Server-Sent Events). After the
/// header, the server asks for one piece at a time, writes it, and asks for
/// the next; the connection closes when the stream ends or the client goes
/// away.
class body_stream {
 public:
  using give = std::function<void(std::optional<std::string>)>;

  virtual ~body_stream();

  /// Asks for the next piece: the stream calls `g` once, from any thread,
  /// with a piece to write or with nothing to end the body.
  virtual void next(give g) = 0;

  /// The client went away (or the answer could not be written): no piece is
  /// wanted any more, and a `give` still pending is ignored. Called once, on
  /// the connection's thread, possibly while a next() is pending.
  virtual void cancel() = 0;
};

struct response {
  int status = 200;
  std::string content_type = "application/json";
  /// The Cache-Control field: answers of the API are never stored.
  std::string cache_control = "no-store";
  /// A 304 has no body and no Content-Length (its length would be the
  /// full answer's).
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  /// Close the connection after this answer.
  bool close = false;
  /// Set: the body is this stream's pieces (`body` is ignored), sent without
  /// a length until the stream ends, and the connection closes after it.
  std::shared_ptr<body_stream> stream;
};

/// Sends the answer to a request; call it exactly once, from any thread.
using respond = std::function<void(response)>;

/// How reading a request's body ended.
enum class body_outcome {
  read,      // the body is all there
  too_large, // longer than the server's body limit: not read
  no_memory, // the bodies being read or served already use the memory cap
  incomplete // the client stopped sending, or sent a malformed chunk
};

/// Takes the body of a request the handler chose to read.
using body_sink = std::function<void(std::string body, body_outcome)>;

/// Called once the request line and headers are in, before any byte of the
/// body is read. Either answers at once through `done` (no route, no token,
/// too large, ...) and returns an empty function, or returns the function
/// that takes the body and answers later through `done`.
using request_handler = std::function<body_sink(request head, respond done)>;

/// What the server counts; read by the metrics.
struct server_stats {
  std::atomic<int64_t> connections_open{0};
  std::atomic<uint64_t> connections_total{0};
  /// Accepts that failed (out of file descriptors, ...) and were re-armed.
  std::atomic<uint64_t> accept_errors{0};
  /// Times the connection cap held back accepting.
  std::atomic<uint64_t> accept_paused{0};
  /// Requests answered by the server itself: malformed (400), too large a
  /// URL (414) or header (431), unknown method (501).
  std::atomic<uint64_t> malformed{0};
  /// Bytes reserved for bodies being read or served.
  std::atomic<uint64_t> body_bytes{0};
};

} // namespace oms::http
