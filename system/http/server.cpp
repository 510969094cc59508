// The HTTP server's listener (server.hpp): accepts connections up to
// the limit, spreads them over the io contexts and pauses or retries
// accepting; server_session.cpp serves each connection.
#include "system/http/server.hpp"

#include <string>
#include <utility>
#include <vector>

#include <boost/asio/post.hpp>

#include "system/http/server_parts.hpp"
#include "system/log.hpp"

namespace oms::http {

namespace {

// Pause before accepting again after a failed accept.
constexpr auto accept_retry = std::chrono::milliseconds(100);

} // namespace

// -- the listener ------------------------------------------------------------

void detail::listener::accept() {
  if (stopping)
    return;
  if (stats.connections_open.load() >=
      static_cast<int64_t>(limits.connections_max)) {
    if (!paused)
      ++stats.accept_paused;
    paused = true;
    return;
  }
  auto& conn_io = *connection_ios[next++ % connection_ios.size()];
  acceptor.async_accept(
      asio::make_strand(conn_io),
      [self = shared_from_this()](const error_code& ec, socket_t socket) {
        self->on_accept(ec, std::move(socket));
      });
}

void detail::listener::on_accept(const error_code& ec, socket_t socket) {
  if (stopping || ec == asio::error::operation_aborted)
    return;
  if (ec) {
    // Out of file descriptors (or any other failure): count it, log the
    // first of a run, and accept again after a pause, never giving up.
    ++stats.accept_errors;
    if (!failing)
      log::error("http.accept_failed",
                 {{"error", ec.message()},
                  {"retryMs", static_cast<int64_t>(accept_retry.count())}});
    failing = true;
    retry.expires_after(accept_retry);
    retry.async_wait([self = shared_from_this()](const error_code& e) {
      if (!e)
        self->accept();
    });
    return;
  }
  if (failing)
    log::info("http.accept_resumed",
              {{"failures", static_cast<uint64_t>(stats.accept_errors)}});
  failing = false;
  error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  ++stats.connections_open;
  ++stats.connections_total;
  start_session(std::move(socket), shared_from_this());
  accept();
}

void detail::listener::session_ended() {
  --stats.connections_open;
  if (stopping)
    return;
  asio::post(strand, [self = shared_from_this()] {
    if (self->paused) {
      self->paused = false;
      self->accept();
    }
  });
}

// -- the server --------------------------------------------------------------

server::server(asio::io_context& io, server_limits limits,
               request_handler handler, server_stats& stats)
    : server(io, {&io}, limits, std::move(handler), stats) {}

server::server(asio::io_context& io, std::vector<asio::io_context*> connections,
               server_limits limits, request_handler handler,
               server_stats& stats) {
  if (connections.empty())
    connections.push_back(&io);
  d_ = std::make_shared<detail::listener>(io, std::move(connections), limits,
                                          std::move(handler), stats);
}

server::~server() {
  stop_accepting();
}

std::string server::listen(const std::string& address, uint16_t port) {
  error_code ec;
  tcp::resolver resolver{d_->io};
  auto found = resolver.resolve(
      address, std::to_string(port),
      tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || found.empty())
    return "cannot resolve " + address + ": " +
           (ec ? ec.message() : std::string{"no address"});
  tcp::endpoint ep = found.begin()->endpoint();
  auto& acc = d_->acceptor;
  acc.open(ep.protocol(), ec);
  if (!ec)
    acc.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec)
    acc.bind(ep, ec);
  if (!ec)
    acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    error_code ignored;
    acc.close(ignored);
    return ec.message();
  }
  asio::post(d_->strand, [self = d_] { self->accept(); });
  return {};
}

uint16_t server::port() const {
  error_code ec;
  auto ep = d_->acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

void server::stop_accepting() {
  if (d_->stopping.exchange(true))
    return;
  asio::post(d_->strand, [self = d_] {
    error_code ignored;
    self->acceptor.close(ignored);
    self->retry.cancel();
  });
}

} // namespace oms::http
