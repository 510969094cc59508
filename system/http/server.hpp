// The HTTP/1.1 server of omsd and wms-sim, on Boost.Beast.
//
// Per connection, one request at a time in the order sent: pipelined
// requests are each answered, in order, before the next is read. The request
// line and headers are read first and handed to the handler, which may
// answer before any byte of the body is read (no route, no token); a body is
// read only when the handler asks for it, after `100 Continue` when the
// client expects it, and only within the per-request and total body limits.
// Malformed requests get a status line (400, 413, 414, 431, 501) in the
// error shape of the API, and the connection closes.
//
// Accepting never stops for good: a failed accept (out of file descriptors)
// is logged, counted and retried after a short pause; at the connection cap,
// accepting pauses until a connection closes (the kernel's backlog holds the
// newcomers meanwhile).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "system/http/exchange.hpp"

namespace oms::http {

namespace detail {
struct listener;
} // namespace detail

struct server_limits {
  /// Connections open at once; more wait in the listen backlog.
  size_t connections_max = 1024;
  /// The request target (path and query).
  size_t url_bytes_max = 8 * 1024;
  /// The request line and all header fields together.
  size_t header_bytes_max = 16 * 1024;
  /// One request's body.
  uint64_t body_bytes_max = 1 << 20;
  /// All bodies being read or answered at once.
  uint64_t body_memory_max = uint64_t{64} << 20;
  /// From a connection's start, or its last answer, until the next request's
  /// header is all in.
  std::chrono::milliseconds idle_timeout = std::chrono::seconds(60);
  /// Reading one body, and writing one answer.
  std::chrono::milliseconds body_timeout = std::chrono::seconds(30);
};

class server {
 public:
  /// Accepts and serves connections on `io`.
  server(boost::asio::io_context& io, server_limits limits,
         request_handler handler, server_stats& stats);

  /// Accepts on `io`; each connection is served on the next of
  /// `connections` in turn. With one thread running each of them, a
  /// connection's work never changes threads and the threads share no
  /// queue.
  server(boost::asio::io_context& io,
         std::vector<boost::asio::io_context*> connections,
         server_limits limits, request_handler handler, server_stats& stats);
  ~server();

  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// Binds and listens; an empty string, or why it could not.
  std::string listen(const std::string& address, uint16_t port);

  /// The bound port (useful after listening on port 0).
  uint16_t port() const;

  /// Stops accepting; connections finish the request they are on, and close
  /// after answering it. Thread-safe.
  void stop_accepting();

 private:
  std::shared_ptr<detail::listener> d_;
};

} // namespace oms::http
