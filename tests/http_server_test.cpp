// The HTTP server's threading: connections spread over the io_contexts it
// is given, each served wholly on the thread that runs its context.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "system/http/server.hpp"

namespace asio = boost::asio;
using namespace oms;

namespace {

// One plain keep-alive connection: sends a GET, reads the answer's first
// line.
struct socket_client {
  int fd = -1;
  explicit socket_client(uint16_t port) {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) ==
            0);
  }
  ~socket_client() { ::close(fd); }
  std::string get(const std::string& path) {
    auto req = "GET " + path + " HTTP/1.1\r\nHost: t\r\n\r\n";
    REQUIRE(::send(fd, req.data(), req.size(), 0) ==
            static_cast<ssize_t>(req.size()));
    std::string got;
    char buf[512];
    while (got.find("\r\n\r\nok") == std::string::npos) {
      auto n = ::recv(fd, buf, sizeof buf, 0);
      REQUIRE(n > 0);
      got.append(buf, static_cast<size_t>(n));
    }
    return got.substr(0, got.find("\r\n"));
  }
};

} // namespace

TEST_CASE("http server: connections take turns over the io_contexts given, "
          "and each is served on its context's thread") {
  // What the server's connections touch outlives the io_contexts, whose
  // destruction ends the connections; the first context (the acceptor's)
  // goes last.
  std::mutex mtx;
  std::vector<std::thread::id> served; // per request, in order
  http::server_stats stats;
  asio::io_context first{1}, second{1};
  auto g1 = asio::make_work_guard(first);
  auto g2 = asio::make_work_guard(second);
  http::server srv{first,
                   {&first, &second},
                   http::server_limits{},
                   [&](http::request, http::respond done) -> http::body_sink {
                     {
                       std::lock_guard<std::mutex> guard{mtx};
                       served.push_back(std::this_thread::get_id());
                     }
                     http::response res;
                     res.body = "ok";
                     done(std::move(res));
                     return {};
                   },
                   stats};
  REQUIRE(srv.listen("127.0.0.1", 0).empty());
  std::thread t1{[&] {
    first.run();
  }};
  std::thread t2{[&] {
    second.run();
  }};
  auto id1 = t1.get_id();
  auto id2 = t2.get_id();
  {
    socket_client a{srv.port()};
    CHECK(a.get("/a") == "HTTP/1.1 200 OK");
    socket_client b{srv.port()};
    CHECK(b.get("/b") == "HTTP/1.1 200 OK");
    CHECK(a.get("/a2") == "HTTP/1.1 200 OK");
    CHECK(b.get("/b2") == "HTTP/1.1 200 OK");
  }
  srv.stop_accepting();
  first.stop();
  second.stop();
  t1.join();
  t2.join();
  REQUIRE(served.size() == 4);
  // a on the first context's thread, b on the second's, each staying there.
  CHECK(served[0] == id1);
  CHECK(served[1] == id2);
  CHECK(served[2] == id1);
  CHECK(served[3] == id2);
  CHECK(stats.connections_total == 2);
}
