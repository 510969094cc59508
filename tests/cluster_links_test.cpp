// The peer watcher's links over CAF's middleman, on a real actor system
// (the deterministic test coordinator has no network).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/send.hpp>
#include <doctest/doctest.h>

#include "system/cluster/region.hpp"
#include "system/order_system.hpp"
#include "tests/eventually.hpp"

namespace {

using oms::test::eventually;

// A TCP listener on loopback that accepts and never says a word: a dial to
// it waits for a handshake that never comes, until the dial's timeout.
class silent_peer {
 public:
  silent_peer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(fd_, 8) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    port_ = ntohs(addr.sin_port);
  }
  ~silent_peer() {
    for (int c : accepted_)
      ::close(c);
    ::close(fd_);
  }
  silent_peer(const silent_peer&) = delete;
  silent_peer& operator=(const silent_peer&) = delete;

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  /// Closes the connections taken so far (a dial waiting on one fails).
  void hang_up() {
    for (int c : accepted_)
      ::close(c);
    accepted_.clear();
  }

  /// Waits up to `limit` for the next connection; false if none came.
  bool accept_within(std::chrono::milliseconds limit) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(limit.count())) != 1)
      return false;
    int c = ::accept(fd_, nullptr, nullptr);
    if (c < 0)
      return false;
    accepted_.push_back(c);
    return true;
  }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
  std::vector<int> accepted_;
};

struct network_fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;

  network_fixture() {
    oms::register_types(cfg);
    cfg.load<caf::io::middleman>();
    cfg.set("logger.console-verbosity", caf::atom("quiet"));
    sys = std::make_unique<caf::actor_system>(cfg);
  }
};

} // namespace

TEST_CASE("a peer watcher closed with its key dials no more, and answers "
          "the close only once the middleman answered its dial, and a close "
          "with another key changes nothing") {
  network_fixture f;
  oms::cluster::keep_links_out_of_leak_reports(*f.sys);
  silent_peer peer;
  oms::cluster::peer_watch_config pw;
  pw.node = "n1";
  pw.interval = std::chrono::milliseconds(50);
  pw.timeout = std::chrono::milliseconds(500);
  pw.close_key = 42;
  auto table = std::make_shared<oms::cluster::peer_table>();
  auto address = peer.address();
  // Stopped before the system, even when a check below fails (the system
  // waits for it to end).
  struct stopped_at_end {
    caf::actor actor;
    ~stopped_at_end() {
      caf::anon_send_exit(actor, caf::exit_reason::user_shutdown);
    }
  } watching{oms::cluster::spawn_peer_watcher(
      *f.sys, pw,
      [address] {
        return std::vector<oms::cluster::node_row>{{"n2", address, 0, ""}};
      },
      table)};
  auto& watcher = watching.actor;
  auto failed = [&] {
    auto seen = table->snapshot();
    return seen.count("n2") == 1 ? seen["n2"].connects_failed : 0;
  };
  const auto limit = std::chrono::seconds(30);
  // The first dial is under way once the peer has its connection. The
  // peer never answers its handshake: the middleman waits on it.
  REQUIRE(peer.accept_within(limit));
  // Another key is refused at once, and closes nothing: hung up on, the
  // dial fails, and the watcher dials again.
  CHECK_FALSE(oms::cluster::close_peer_watcher(watcher, 41, limit));
  peer.hang_up();
  REQUIRE(peer.accept_within(limit));
  // Closed with its key while the second dial waits on the middleman: the
  // close is not answered, however long past the dial's timeout (counted
  // as failed once it is overdue).
  CHECK_FALSE(oms::cluster::close_peer_watcher(watcher, 42, 4 * pw.timeout));
  REQUIRE(eventually([&] { return failed() == 2; }, limit));
  // The middleman answers once the peer hangs up: the close is answered,
  // and the dial is not counted a second time.
  peer.hang_up();
  REQUIRE(oms::cluster::close_peer_watcher(watcher, 42, limit));
  CHECK(failed() == 2);
  CHECK(table->snapshot()["n2"].last_error.rfind("connect: ", 0) == 0);
  // Closed: no dial starts again, though the peer stays in the table and
  // its backoff has long passed.
  CHECK_FALSE(peer.accept_within(std::chrono::seconds(1)));
  // A second close is answered at once: nothing is under way.
  CHECK(oms::cluster::close_peer_watcher(watcher, 42, limit));
}
