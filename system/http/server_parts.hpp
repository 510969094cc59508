// Inside the HTTP server (system/http/server.hpp), shared by its two
// halves and by nothing else: the listener, which accepts connections and
// counts them (server.cpp), and the session, which reads requests and
// writes answers on one connection (server_session.cpp).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>

#include "system/http/server.hpp"

namespace oms::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

using strand_t = asio::strand<asio::io_context::executor_type>;
// A connection's socket and stream, on the connection's own strand (a
// concrete executor: no type erasure on every operation).
using socket_t = asio::basic_stream_socket<tcp, strand_t>;
using stream_t = beast::basic_stream<tcp, strand_t>;

namespace detail {

struct listener : std::enable_shared_from_this<listener> {
  asio::io_context& io;
  // Where connections run, one after the other in turn (on the acceptor's
  // strand: `next` needs no lock).
  std::vector<asio::io_context*> connection_ios;
  size_t next = 0;
  server_limits limits;
  request_handler handler;
  server_stats& stats;
  // The acceptor and its retry timer run on one strand; so does everything
  // that touches `paused` and `failing`.
  strand_t strand;
  tcp::acceptor acceptor;
  asio::steady_timer retry;
  bool paused = false;
  bool failing = false;
  std::atomic<bool> stopping{false};

  listener(asio::io_context& io, std::vector<asio::io_context*> connections,
           server_limits limits, request_handler handler, server_stats& stats)
      : io(io),
        connection_ios(std::move(connections)),
        limits(limits),
        handler(std::move(handler)),
        stats(stats),
        strand(asio::make_strand(io)),
        acceptor(strand),
        retry(strand) {}

  void accept();
  void on_accept(const error_code& ec, socket_t socket);
  void session_ended();

  bool reserve(uint64_t n) {
    auto cur = stats.body_bytes.load();
    do {
      if (n > limits.body_memory_max || cur > limits.body_memory_max - n)
        return false;
    } while (!stats.body_bytes.compare_exchange_weak(cur, cur + n));
    return true;
  }

  void release(uint64_t n) { stats.body_bytes -= n; }
};

/// Serves one accepted connection until it closes; calls
/// owner->session_ended() then.
void start_session(socket_t socket, std::shared_ptr<listener> owner);

} // namespace detail

} // namespace oms::http
