// omsd's HTTP front against clients that do not play by the rules: requests
// pipelined in one write, bodies never sent, malformed messages, too many
// connections, and a process out of file descriptors (issue #16 items 1, 4,
// 5 and 7).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "tests/e2e/daemon.hpp"

using namespace oms;
using namespace oms::e2e;
using client::http_client;

namespace {

using namespace std::chrono_literals;

// A raw connection to omsd: bytes go out as given, and what comes back is
// read as it comes, each wait bounded by a generous deadline.
class connection {
 public:
  explicit connection(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    connected_ =
        ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~connection() { close(); }
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  bool connected() const { return connected_; }

  bool send(const std::string& bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(bytes.size());
  }

  // Reads until `text` holds `n` complete answers, the peer closes, or
  // `limit` passes; what was read so far.
  const std::string& read_answers(size_t n, std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (answers().size() < n && !closed_) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0)
        break;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0)
        continue;
      char buf[8192];
      auto got = ::recv(fd_, buf, sizeof(buf), 0);
      if (got <= 0)
        closed_ = true;
      else
        text_.append(buf, static_cast<size_t>(got));
    }
    return text_;
  }

  // Reads until the peer closes (or `limit` passes): true if it closed.
  bool closes_within(std::chrono::milliseconds limit) {
    read_answers(static_cast<size_t>(-1), limit);
    return closed_;
  }

  struct answer {
    int status = 0;
    std::string head; // status line and header fields
    std::string body;
  };

  // The complete answers in what was read: status, header and a body of
  // Content-Length bytes (none after a 1xx).
  std::vector<answer> answers() const {
    std::vector<answer> result;
    size_t at = 0;
    while (at < text_.size()) {
      auto end = text_.find("\r\n\r\n", at);
      if (end == std::string::npos || text_.compare(at, 5, "HTTP/") != 0)
        break;
      answer a;
      a.head = text_.substr(at, end + 2 - at);
      a.status = std::stoi(text_.substr(at + 9, 3));
      size_t length = 0;
      auto cl = lower(a.head).find("\r\ncontent-length: ");
      if (cl != std::string::npos)
        length = std::stoul(a.head.substr(cl + 18));
      if (a.status < 200)
        length = 0;
      if (end + 4 + length > text_.size())
        break;
      a.body = text_.substr(end + 4, length);
      at = end + 4 + length;
      result.push_back(std::move(a));
    }
    return result;
  }

  void close() {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = -1;
  }

 private:
  static std::string lower(std::string s) {
    for (auto& ch : s)
      ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return s;
  }

  int fd_ = -1;
  bool connected_ = false;
  bool closed_ = false;
  std::string text_;
};

json parsed(const std::string& body) {
  auto j = json::parse(body, nullptr, false);
  return j.is_discarded() ? json{} : j;
}

std::string code_of(const std::string& body) {
  auto j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.contains("error"))
    return {};
  return j["error"]["code"].get<std::string>();
}

std::string receipt(const std::string& token, const std::string& sku, int qty,
                    const std::string& extra = "") {
  auto body = R"({"quantity":)" + std::to_string(qty) + R"(,"unitPrice":100})";
  return "POST /v1/inventory/" + sku +
         "/receipts HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
         token + "\r\nContent-Type: application/json\r\n" + extra +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

int64_t on_hand(e2e::daemon& d, const std::string& sku) {
  http_client admin{d.url(), d.admin_token()};
  auto r = admin.get("/v1/inventory/" + sku);
  REQUIRE_MESSAGE(r.status == 200, r.body);
  return body_of(r)["onHand"].get<int64_t>();
}

// One metric's value as /metrics shows it (-1 when missing).
int64_t metric(e2e::daemon& d, const std::string& name) {
  http_client anon{d.url()};
  auto text = anon.get("/metrics").body;
  auto at = text.find("\n" + name + " ");
  if (at == std::string::npos)
    return -1;
  return std::stoll(text.substr(at + name.size() + 2));
}

} // namespace

TEST_CASE("http front: pipelined requests are each answered, in order") {
  // Issue #16 item 4: three requests in one write got one answer, and a
  // receipt was applied whose answer never came.
  e2e::daemon d;
  connection c{d.port()};
  REQUIRE(c.connected());
  auto token = d.admin_token();
  REQUIRE(c.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" +
                 receipt(token, "PIPE-1", 3) +
                 receipt(token, "PIPE-1", 4, "Connection: close\r\n")));
  c.read_answers(3, 20s);
  auto got = c.answers();
  REQUIRE(got.size() == 3);
  CHECK(got[0].status == 200);
  CHECK(parsed(got[0].body)["status"] == "ok");
  CHECK(got[1].status == 200);
  CHECK(parsed(got[1].body)["onHand"] == 3);
  CHECK(got[2].status == 200);
  CHECK(parsed(got[2].body)["onHand"] == 7);
  CHECK(c.closes_within(20s));
  CHECK(on_hand(d, "PIPE-1") == 7);
}

TEST_CASE("http front: the token and the route are checked before a body is "
          "read, a declared body over the limit is refused unread") {
  // Issue #16 item 5: bodies were read (up to 1 MiB each) before the token
  // was checked. Here the body is announced and never sent: the answer
  // must come without it.
  e2e::daemon d{{"--max-body-bytes", "4096"}};
  auto head = [&](const std::string& auth, const std::string& length) {
    return "POST /v1/inventory/BODY-1/receipts HTTP/1.1\r\nHost: x\r\n" + auth +
           "Content-Length: " + length + "\r\n\r\n";
  };
  SUBCASE("no token") {
    connection c{d.port()};
    REQUIRE(c.send(head("", "4000")));
    c.read_answers(1, 20s);
    auto got = c.answers();
    REQUIRE(got.size() == 1);
    CHECK(got[0].status == 401);
    CHECK(code_of(got[0].body) == "UNAUTHORIZED");
    // The body was never read, so the connection cannot go on.
    CHECK(got[0].head.find("Connection: close") != std::string::npos);
  }
  SUBCASE("a customer's token on an admin route") {
    http_client admin{d.url(), d.admin_token()};
    auto made = admin.post("/v1/customers", R"({"name":"Asha"})");
    REQUIRE(made.status == 201);
    auto token = body_of(made)["token"].get<std::string>();
    connection c{d.port()};
    REQUIRE(c.send(head("Authorization: Bearer " + token + "\r\n", "4000")));
    c.read_answers(1, 20s);
    auto got = c.answers();
    REQUIRE(got.size() == 1);
    CHECK(got[0].status == 403);
  }
  SUBCASE("no route") {
    connection c{d.port()};
    REQUIRE(c.send("POST /v1/nothing HTTP/1.1\r\nHost: x\r\n"
                   "Content-Length: 4000\r\n\r\n"));
    c.read_answers(1, 20s);
    auto got = c.answers();
    REQUIRE(got.size() == 1);
    CHECK(got[0].status == 404);
  }
  SUBCASE("the admin, but a declared body over --max-body-bytes") {
    connection c{d.port()};
    REQUIRE(c.send(
        head("Authorization: Bearer " + d.admin_token() + "\r\n", "4097")));
    c.read_answers(1, 20s);
    auto got = c.answers();
    REQUIRE(got.size() == 1);
    CHECK(got[0].status == 413);
    CHECK(code_of(got[0].body) == "PAYLOAD_TOO_LARGE");
    CHECK(parsed(got[0].body)["error"]["details"]["limit"] == 4096);
  }
  SUBCASE("a chunked body that grows over the limit") {
    connection c{d.port()};
    std::string req = "POST /v1/inventory/BODY-1/receipts HTTP/1.1\r\n"
                      "Host: x\r\nAuthorization: Bearer " +
                      d.admin_token() +
                      "\r\nTransfer-Encoding: chunked\r\n\r\n";
    std::string chunk(1000, ' ');
    for (int i = 0; i < 5; ++i)
      req += "3e8\r\n" + chunk + "\r\n";
    req += "0\r\n\r\n";
    REQUIRE(c.send(req));
    c.read_answers(1, 20s);
    auto got = c.answers();
    REQUIRE(got.size() == 1);
    CHECK(got[0].status == 413);
    CHECK(code_of(got[0].body) == "PAYLOAD_TOO_LARGE");
  }
  // A body's reservation is given back once the answer's write completes on
  // the server, which may be after the client read the answer: waited for.
  CHECK(eventually(
      [&] { return metric(d, "oms_http_body_bytes_reserved") == 0; }, 20s));
  http_client admin{d.url(), d.admin_token()};
  CHECK(admin.get("/v1/inventory/BODY-1").status == 404);
}

TEST_CASE("http front: Expect: 100-continue gets its 100 before the body") {
  e2e::daemon d;
  connection c{d.port()};
  auto body = std::string{R"({"quantity":5,"unitPrice":100})"};
  REQUIRE(c.send("POST /v1/inventory/CONT-1/receipts HTTP/1.1\r\nHost: x\r\n"
                 "Authorization: Bearer " +
                 d.admin_token() +
                 "\r\nExpect: 100-continue\r\nContent-Length: " +
                 std::to_string(body.size()) + "\r\n\r\n"));
  c.read_answers(1, 20s);
  auto got = c.answers();
  REQUIRE(got.size() == 1);
  CHECK(got[0].status == 100);
  REQUIRE(c.send(body));
  c.read_answers(2, 20s);
  got = c.answers();
  REQUIRE(got.size() == 2);
  CHECK(got[1].status == 200);
  CHECK(on_hand(d, "CONT-1") == 5);

  // Refused before the body: no 100, the final answer at once.
  connection anon{d.port()};
  REQUIRE(anon.send("POST /v1/inventory/CONT-1/receipts HTTP/1.1\r\nHost: x\r\n"
                    "Expect: 100-continue\r\nContent-Length: 30\r\n\r\n"));
  anon.read_answers(1, 20s);
  auto refused = anon.answers();
  REQUIRE(refused.size() == 1);
  CHECK(refused[0].status == 401);
}

TEST_CASE("http front: malformed requests get a status line in the error "
          "shape, and the connection closes") {
  // Issue #16 item 7: these got no status line at all.
  e2e::daemon d;
  struct probe {
    std::string what;
    std::string bytes;
    int status;
    std::string code;
  };
  std::vector<probe> probes = {
      {"two Content-Lengths",
       "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
       "Content-Length: 2\r\n\r\nab",
       400, "MALFORMED_REQUEST"},
      {"a control byte in a header value",
       "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Bad: a\x01"
       "b\r\n\r\n",
       400, "MALFORMED_REQUEST"},
      {"a header name that is no token",
       "GET /healthz HTTP/1.1\r\nHost: x\r\nBad Name: 1\r\n\r\n", 400,
       "MALFORMED_REQUEST"},
      {"Transfer-Encoding not ending with chunked",
       "POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
       400, "MALFORMED_REQUEST"},
      {"Transfer-Encoding beside Content-Length (smuggling)",
       "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
       "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
       400, "MALFORMED_REQUEST"},
      {"an unknown method", "BREW /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 501,
       "NOT_IMPLEMENTED"},
      {"a URL over 8 KiB",
       "GET /healthz?" + std::string(9000, 'a') +
           " HTTP/1.1\r\nHost: x\r\n\r\n",
       414, "URI_TOO_LONG"},
      {"a request line over the header limit",
       "GET /healthz?" + std::string(20000, 'a') +
           " HTTP/1.1\r\nHost: x\r\n\r\n",
       414, "URI_TOO_LONG"},
      {"header fields over 16 KiB",
       "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(17000, 'b') +
           "\r\n\r\n",
       431, "HEADERS_TOO_LARGE"},
      {"HTTP/2.0 on the request line",
       "GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n", 505,
       "HTTP_VERSION_NOT_SUPPORTED"},
  };
  for (auto& p : probes) {
    CAPTURE(p.what);
    connection c{d.port()};
    REQUIRE(c.send(p.bytes));
    c.read_answers(1, 20s);
    auto got = c.answers();
    REQUIRE(got.size() == 1);
    CHECK(got[0].status == p.status);
    CHECK(code_of(got[0].body) == p.code);
    CHECK(c.closes_within(20s));
  }
  CHECK(metric(d, "oms_http_refused_total") ==
        static_cast<int64_t>(probes.size()));
  // None of it left a request in flight or stopped the server.
  CHECK(metric(d, "oms_http_requests_in_flight") == 1);
}

TEST_CASE("http front: HEAD answers as GET without the body") {
  e2e::daemon d;
  http_client admin{d.url(), d.admin_token()};
  REQUIRE(admin
              .post("/v1/inventory/HEAD-1/receipts",
                    R"({"quantity":2,"unitPrice":100})")
              .status == 200);
  auto get = admin.get("/v1/inventory/HEAD-1");
  REQUIRE(get.status == 200);
  connection c{d.port()};
  REQUIRE(c.send("HEAD /v1/inventory/HEAD-1 HTTP/1.1\r\nHost: x\r\n"
                 "Authorization: Bearer " +
                 d.admin_token() + "\r\nConnection: close\r\n\r\n"));
  CHECK(c.closes_within(20s));
  auto text = c.read_answers(1, 1ms);
  REQUIRE(text.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(text.find("Content-Length: " + std::to_string(get.body.size()) +
                  "\r\n") != std::string::npos);
  // Nothing after the header: no body.
  CHECK(text.size() == text.find("\r\n\r\n") + 4);
  // Without a token, HEAD is refused as GET would be.
  connection anon{d.port()};
  REQUIRE(anon.send("HEAD /v1/inventory/HEAD-1 HTTP/1.1\r\nHost: x\r\n"
                    "Connection: close\r\n\r\n"));
  CHECK(anon.closes_within(20s));
  CHECK(anon.read_answers(1, 1ms).rfind("HTTP/1.1 401 ", 0) == 0);
}

TEST_CASE("http front: at the connection cap, a newcomer waits until a "
          "connection closes") {
  e2e::daemon d{{"--max-connections", "3"}};
  // Three connections, each proven accepted by an answer, fill the cap.
  std::vector<std::unique_ptr<connection>> idle;
  for (int i = 0; i < 3; ++i) {
    idle.push_back(std::make_unique<connection>(d.port()));
    REQUIRE(idle.back()->send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    idle.back()->read_answers(1, 20s);
    REQUIRE(idle.back()->answers().size() == 1);
  }
  connection late{d.port()}; // accepted by the kernel, not yet by omsd
  REQUIRE(late.connected());
  REQUIRE(late.send("GET /healthz HTTP/1.1\r\nHost: x\r\n"
                    "Connection: close\r\n\r\n"));
  // However long we wait, it is not served while the cap is full.
  late.read_answers(1, 300ms);
  CHECK(late.answers().empty());
  idle.front()->close();
  late.read_answers(1, 20s);
  auto got = late.answers();
  REQUIRE(got.size() == 1);
  CHECK(got[0].status == 200);
  idle.clear();
  REQUIRE(eventually(
      [&] { return metric(d, "oms_http_accept_paused_total") >= 1; }, 20s));
}

TEST_CASE("http front: running out of file descriptors once does not stop "
          "the listener") {
  // Issue #16 item 1: one failed accept (EMFILE) ended both I/O threads;
  // the port stayed in LISTEN and nothing was served until a restart.
  e2e::daemon d;
  // Leave omsd a few descriptors over what it holds now.
  auto fds = std::distance(
      std::filesystem::directory_iterator{"/proc/" + std::to_string(d.pid()) +
                                          "/fd"},
      std::filesystem::directory_iterator{});
  auto cap = std::to_string(fds + 8);
  auto limited =
      run_process({"/usr/bin/prlimit", "--pid", std::to_string(d.pid()),
                   "--nofile=" + cap + ":" + cap});
  REQUIRE_MESSAGE(limited.exit_code == 0, limited.err);
  // More connections than omsd has descriptors left: the kernel accepts
  // them all; omsd's accept fails for the rest.
  std::vector<std::unique_ptr<connection>> flood;
  for (int i = 0; i < 40; ++i)
    flood.push_back(std::make_unique<connection>(d.port()));
  for (auto& c : flood)
    c->send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  // Wait until omsd has taken what it can and an accept has failed (a slow
  // omsd may not have reached the limit by the time the first is answered).
  REQUIRE(eventually(
      [&] { return d.log().find("http.accept_failed") != std::string::npos; },
      60s));
  flood.clear();
  // Once they are closed, omsd serves again, and says what happened.
  http_client anon{d.url()};
  CHECK(eventually([&] { return anon.get("/healthz").status == 200; }, 20s));
  CHECK(metric(d, "oms_http_accept_errors_total") > 0);
}
