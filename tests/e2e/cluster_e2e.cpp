// omsd as a cluster node (docs/cluster.md): real omsd processes sharing the
// shard leases of one PostgreSQL. Each node holds its share; a node killed
// loses its shards to the survivors, each with a new epoch; a node frozen
// past its TTL finds its leases taken when it wakes and takes its share
// again; a node stopped hands its leases back and leaves at once. GET
// /v1/cluster shows it all, to the admin only.
#include <doctest/doctest.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <memory>
#include <random>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pqxx/pqxx>

#include "messages/errors.hpp"
#include "messages/events.hpp"
#include "messages/shards.hpp"
#include "system/store/pg_store.hpp"
#include "tests/e2e/cluster_fixture.hpp"
#include "tests/pg_schema.hpp"

using namespace oms::e2e;

namespace {

// A throwaway PKI made with the openssl command: the cluster's CA, a
// certificate it signed for each of `nodes`, and a rogue CA with a
// certificate of its own ("rogue"); keys readable by their owner only.
class pki {
 public:
  explicit pki(const std::vector<std::string>& nodes) {
    char tmpl[] = "/tmp/oms-pki-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir_ = tmpl;
    for (auto* ca : {"ca", "rogue-ca"})
      openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt",
               "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key(ca),
               "-out", cert(ca), "-days", "2", "-subj",
               std::string{"/CN="} + ca});
    for (auto& n : nodes)
      issue(n, "ca");
    issue("rogue", "rogue-ca");
  }
  ~pki() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string cert(const std::string& name) const {
    return dir_ + "/" + name + ".pem";
  }
  std::string key(const std::string& name) const {
    return dir_ + "/" + name + ".key";
  }
  // The flags of node `name`, trusting `ca`.
  std::vector<std::string> flags(const std::string& name,
                                 const std::string& ca = "ca") const {
    return {"--cluster-tls-cert", cert(name), "--cluster-tls-key", key(name),
            "--cluster-tls-ca",   cert(ca)};
  }

 private:
  void openssl(std::vector<std::string> args) {
    args.insert(args.begin(), "/usr/bin/openssl");
    auto r = run_process(args);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
  }
  void issue(const std::string& name, const std::string& ca) {
    auto csr = dir_ + "/" + name + ".csr";
    openssl({"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-keyout", key(name), "-out", csr, "-subj",
             "/CN=" + name});
    openssl({"x509", "-req", "-in", csr, "-CA", cert(ca), "-CAkey", key(ca),
             "-CAcreateserial", "-out", cert(name), "-days", "2"});
    std::filesystem::permissions(key(name),
                                 std::filesystem::perms::owner_read |
                                     std::filesystem::perms::owner_write);
  }
  std::string dir_;
};

// tools/tcp-proxy.py between a node and PostgreSQL: cut(), freeze()
// and heal() the link.
class pg_link {
 public:
  // `info`: the server's libpq key=value string (with port=N).
  explicit pg_link(const std::string& info) : info_(info) {
    std::smatch port;
    REQUIRE(std::regex_search(info, port, std::regex{"port=([0-9]+)"}));
    char tmpl[] = "/tmp/oms-proxy-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir_ = tmpl;
    pid_ =
        spawn_process({"/usr/bin/python3", OMS_SOURCE_DIR "/tools/tcp-proxy.py",
                       "127.0.0.1", port[1].str()},
                      {}, dir_ + "/out", dir_ + "/err");
    REQUIRE(eventually(
        [&] {
          std::ifstream in{dir_ + "/out"};
          return static_cast<bool>(in >> port_);
        },
        std::chrono::seconds(20)));
  }
  ~pg_link() {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  pg_link(const pg_link&) = delete;
  pg_link& operator=(const pg_link&) = delete;

  // The connection string through the proxy.
  std::string conninfo() const {
    return std::regex_replace(info_, std::regex{"port=[0-9]+"},
                              "port=" + std::to_string(port_));
  }
  // Each returns once the proxy says the change took effect.
  void cut() { change(SIGUSR1); }
  // Whether the proxy refuses new connections (a cut took effect).
  bool refusing() const {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port_));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool refused =
        ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0;
    ::close(fd);
    return refused;
  }
  void freeze() { change(SIGUSR2); }
  void heal() { change(SIGHUP); }

 private:
  // Signals the proxy and waits for its line on stderr.
  void change(int sig) {
    ::kill(pid_, sig);
    ++changes_;
    REQUIRE(eventually(
        [&] {
          std::ifstream in{dir_ + "/err"};
          int said = 0;
          for (std::string line; std::getline(in, line);)
            said += line.rfind("tcp-proxy: ", 0) == 0 ? 1 : 0;
          return said >= changes_;
        },
        std::chrono::seconds(20)));
  }
  int changes_ = 0;
  std::string info_;
  std::string dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

} // namespace

TEST_CASE("e2e cluster: GET /v1/cluster on a node that is not a cluster "
          "node answers 404, and only to the admin") {
  node d;
  http_client admin{d.url(), d.admin_token()};
  auto r = admin.get("/v1/cluster");
  CHECK(r.status == 404);
  CHECK(error_code(r) == "NOT_FOUND");
  CHECK(admin.get("/v1/cluster?leases=some").status == 400);
  auto customer = admin.post("/v1/customers", json{{"name", "Asha"}}.dump());
  REQUIRE(customer.status == 201);
  http_client asha{d.url(), body_of(customer)["token"].get<std::string>()};
  CHECK(asha.get("/v1/cluster").status == 403);
}

TEST_CASE("e2e cluster: --cluster needs --node-id, and bad cluster settings "
          "are refused at start") {
  auto refused = [](std::vector<std::string> args) {
    args.insert(args.begin(), OMSD_PATH);
    auto r = run_process(args);
    INFO(r.err);
    CHECK(r.exit_code == 2);
    return r.err;
  };
  CHECK(refused({"--cluster", "host=127.0.0.1"})
            .find("--cluster and --node-id go together") != std::string::npos);
  CHECK(refused({"--node-id", "n1"})
            .find("--cluster and --node-id go together") != std::string::npos);
  CHECK(refused({"--cluster", "host=127.0.0.1", "--node-id", "n 1"})
            .find("--node-id must be") != std::string::npos);
  CHECK(refused({"--cluster", "host=127.0.0.1", "--node-id", "n1",
                 "--cluster-schema", "a.b"})
            .find("--cluster-schema must be") != std::string::npos);
  CHECK(refused({"--cluster", "host=127.0.0.1", "--node-id", "n1",
                 "--lease-ttl", "100ms"})
            .find("--lease-ttl must be") != std::string::npos);
  CHECK(refused({"--cluster", "host=127.0.0.1", "--node-id", "n1",
                 "--cluster-shards", "0"})
            .find("--cluster-shards") != std::string::npos);
  // The nodes share one store, in the cluster's own PostgreSQL.
  CHECK(refused({"--cluster", "host=127.0.0.1", "--node-id", "n1", "--store",
                 "memory"})
            .find("--store memory cannot go with --cluster") !=
        std::string::npos);
  CHECK(refused({"--cluster", "host=127.0.0.1", "--node-id", "n1", "--postgres",
                 "host=10.0.0.9"})
            .find("leave --postgres out") != std::string::npos);
  // TLS between the regions: all three files, each sound, before a start.
  pki p{{"n1"}};
  std::vector<std::string> node{"--cluster", "host=127.0.0.1",   "--node-id",
                                "n1",        "--cluster-listen", "127.0.0.1:1"};
  auto with = [&](std::vector<std::string> extra) {
    auto a = node;
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  CHECK(
      refused(with({"--cluster-tls-cert", p.cert("n1")})).find("go together") !=
      std::string::npos);
  CHECK(refused({"--cluster", "host=127.0.0.1", "--node-id", "n1",
                 "--cluster-tls-cert", p.cert("n1"), "--cluster-tls-key",
                 p.key("n1"), "--cluster-tls-ca", p.cert("ca")})
            .find("need --cluster-listen") != std::string::npos);
  // A certificate another CA signed.
  CHECK(
      refused(with({"--cluster-tls-cert", p.cert("rogue"), "--cluster-tls-key",
                    p.key("rogue"), "--cluster-tls-ca", p.cert("ca")}))
          .find("is not one of the CA") != std::string::npos);
  // A key that is not the certificate's.
  CHECK(refused(with({"--cluster-tls-cert", p.cert("n1"), "--cluster-tls-key",
                      p.key("rogue"), "--cluster-tls-ca", p.cert("ca")}))
            .find("is not the key of") != std::string::npos);
  // Not a certificate at all.
  CHECK(refused(with({"--cluster-tls-cert", p.key("n1"), "--cluster-tls-key",
                      p.key("n1"), "--cluster-tls-ca", p.cert("ca")}))
            .find("cannot read the certificate") != std::string::npos);
  // A key other users can read.
  std::filesystem::permissions(p.key("n1"),
                               std::filesystem::perms::group_read |
                                   std::filesystem::perms::others_read,
                               std::filesystem::perm_options::add);
  CHECK(refused(with(p.flags("n1"))).find("chmod 600") != std::string::npos);
}

TEST_CASE("e2e cluster: three nodes share the shards, a killed node's move "
          "with new epochs, a frozen node loses its leases and takes its "
          "share again, a stopped node hands back at once") {
  auto info = lease_server();
  if (info == nullptr)
    return;
  cluster_fixture c{info};
  auto& n1 = c.start("n1");
  auto& n2 = c.start("n2");
  auto& n3 = c.start("n3");
  const auto limit = std::chrono::seconds(30);

  // Each holds a third, and every node sees the same table.
  std::map<std::string, int> thirds{{"n1", 4}, {"n2", 4}, {"n3", 4}};
  REQUIRE(eventually([&] { return settled(n1, thirds); }, limit));
  REQUIRE(eventually([&] { return settled(n2, thirds); }, limit));
  REQUIRE(eventually([&] { return settled(n3, thirds); }, limit));
  auto before = held(cluster_of(n1));
  auto view = cluster_of(n1);
  CHECK(view["node"] == "n1");
  CHECK(view["shards"] == shards);
  CHECK(view["leaseTtlMs"] == 1000);
  CHECK(view["nodes"].size() == 3);
  // Each tick's view: on a slow machine one may run late (a node not live
  // for a moment, a tick that failed), so these wait for a tick that
  // shows it.
  CHECK(eventually(
      [&] {
        auto v = cluster_of(n1);
        for (auto& n : v["nodes"])
          if (n["live"] != true)
            return false;
        return v["keeper"]["lastTickClean"] == true;
      },
      limit));
  CHECK(metric(n1, "oms_cluster_shards") == "12");
  CHECK(eventually(
      [&] {
        return metric(n1, "oms_cluster_shards_owned") == "4" &&
               metric(n1, "oms_cluster_nodes_live") == "3";
      },
      limit));

  // A second node started with a live node's id is refused (it would take
  // that node's leases as its own), and the cluster is as it was.
  std::string twin;
  try {
    node again{c.args("n2", "")};
  } catch (const std::runtime_error& e) {
    twin = e.what();
  }
  INFO(twin);
  CHECK(twin.find("omsd exited at start with status 2") != std::string::npos);
  CHECK(twin.find("another node with the id n2 is live (at " + n2.url() +
                  ")") != std::string::npos);
  REQUIRE(eventually([&] { return settled(n1, thirds); }, limit));

  // Killed: the survivors take n1's shards, each with a new epoch, and
  // keep their own under the epochs they had (unless a survivor lost one
  // meanwhile: starved of the CPU past the TTL on a busy machine, it drops
  // its leases and takes them again, which it counts).
  auto lost_of = [](const node& n) {
    return cluster_of(n)["keeper"]["shardsLost"].get<int64_t>();
  };
  std::map<std::string, int64_t> lost{{"n2", lost_of(n2)}, {"n3", lost_of(n3)}};
  n1.kill9();
  std::map<std::string, int> halves{{"n2", 6}, {"n3", 6}};
  REQUIRE(eventually([&] { return settled(n2, halves); }, limit));
  auto after = held(cluster_of(n2));
  std::map<std::string, bool> kept{{"n2", lost_of(n2) == lost["n2"]},
                                   {"n3", lost_of(n3) == lost["n3"]}};
  for (auto& entry : before) {
    auto shard = entry.first;
    auto& was = entry.second;
    INFO("shard " << shard);
    if (was.first == "n1")
      CHECK(after[shard].second > was.second);
    else if (after[shard].first == was.first && kept[was.first])
      CHECK(after[shard].second == was.second);
    else
      CHECK(after[shard].second >= was.second);
  }
  auto dead = cluster_of(n2)["nodes"];
  bool n1_not_live = false;
  for (auto& n : dead)
    if (n["id"] == "n1")
      n1_not_live = n["live"] == false;
  CHECK(n1_not_live);

  // Frozen past the TTL: n2 takes everything; n3, woken, finds its leases
  // lost (it counts them) and takes its half again, with new epochs. (What
  // n3 shows right after it wakes is its last tick before the pause: only
  // its ticks after the pause count.)
  REQUIRE(eventually([&] { return settled(n3, halves); }, limit));
  auto lost_before = cluster_of(n3)["keeper"]["shardsLost"].get<int64_t>();
  auto n3_before = held(cluster_of(n3));
  auto ticks_before = ticks_of(n3);
  n3.pause();
  std::map<std::string, int> all_n2{{"n2", shards}};
  REQUIRE(eventually([&] { return settled(n2, all_n2); }, limit));
  n3.resume();
  REQUIRE(
      eventually([&] { return settled(n3, halves, ticks_before + 2); }, limit));
  REQUIRE(eventually([&] { return settled(n2, halves); }, limit));
  CHECK(cluster_of(n3)["keeper"]["shardsLost"].get<int64_t>() >=
        lost_before + 6);
  for (auto& entry : held(cluster_of(n3))) {
    auto shard = entry.first;
    auto& now = entry.second;
    INFO("shard " << shard);
    if (now.first == "n3")
      CHECK(now.second > n3_before[shard].second);
  }

  // Stopped: n2 hands every lease back and leaves before it exits.
  REQUIRE(c.held_in_table("n2") == 6);
  REQUIRE(c.registered("n2"));
  CHECK(n2.stop() == 0);
  CHECK(c.held_in_table("n2") == 0);
  CHECK_FALSE(c.registered("n2"));
  std::map<std::string, int> all_n3{{"n3", shards}};
  REQUIRE(eventually([&] { return settled(n3, all_n3); }, limit));
}

TEST_CASE("e2e cluster: a node cut from PostgreSQL, or frozen on its link, "
          "stops counting on its leases within the TTL and the other takes "
          "them, it takes its share again once healed, and sessions "
          "PostgreSQL ended are opened again") {
  auto info = lease_server();
  if (info == nullptr)
    return;
  cluster_fixture c{info};
  pg_link link{info};
  auto& n1 = c.start("n1", link.conninfo());
  auto& n2 = c.start("n2");
  const auto limit = std::chrono::seconds(30);
  std::map<std::string, int> halves{{"n1", 6}, {"n2", 6}};
  std::map<std::string, int> all_n2{{"n2", shards}};
  REQUIRE(eventually([&] { return settled(n1, halves); }, limit));
  REQUIRE(eventually([&] { return settled(n2, halves); }, limit));
  auto owned_now = [&] {
    return metric(n1, "oms_cluster_shards_owned");
  };
  CHECK(eventually([&] { return owned_now() == "6"; }, limit));

  SUBCASE("cut") {
    link.cut();
    // n1 cannot renew: its leases lapse by its own clock and are lost.
    REQUIRE(eventually(
        [&] {
          auto v = cluster_of(n1);
          return v["owned"].empty() && v["keeper"]["lastTickClean"] == false;
        },
        limit));
    CHECK(owned_now() == "0");
    CHECK(cluster_of(n1)["keeper"]["lastErrors"].size() >= 1);
    REQUIRE(eventually([&] { return settled(n2, all_n2); }, limit));
  }
  SUBCASE("freeze") {
    link.freeze();
    // n1's keeper hangs in a call that never returns; what it holds lapses
    // all the same.
    REQUIRE(eventually(
        [&] {
          auto v = cluster_of(n1);
          if (v["owned"].empty())
            return false;
          for (auto& o : v["owned"])
            if (o["validForMs"].get<int64_t>() > 0)
              return false;
          return true;
        },
        limit));
    CHECK(owned_now() == "0");
    REQUIRE(eventually([&] { return settled(n2, all_n2); }, limit));
  }
  // Healed: n1 takes its half again, with new epochs.
  auto ticks = ticks_of(n1);
  link.heal();
  REQUIRE(eventually([&] { return settled(n1, halves, ticks + 2); }, limit));
  REQUIRE(eventually([&] { return settled(n2, halves); }, limit));
  CHECK(eventually([&] { return owned_now() == "6"; }, limit));

  // PostgreSQL ends both nodes' lease sessions (as a restart does): each
  // opens a new one and holds on.
  auto failed_before = cluster_of(n2)["keeper"]["ticksFailed"].get<int64_t>();
  {
    pqxx::connection conn{info};
    pqxx::work w{conn};
    auto ended = w.exec1(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE "
        "application_name = " +
        w.quote("oms-lease:" + c.schema))[0];
    CHECK(ended.as<int64_t>() >= 2);
  }
  REQUIRE(eventually(
      [&] {
        return cluster_of(n2)["keeper"]["ticksFailed"].get<int64_t>() >
               failed_before;
      },
      limit));
  auto after_end = ticks_of(n2);
  REQUIRE(
      eventually([&] { return settled(n2, halves, after_end + 2); }, limit));
  REQUIRE(eventually([&] { return settled(n1, halves); }, limit));
  CHECK(eventually(
      [&] { return cluster_of(n2)["keeper"]["lastTickClean"] == true; },
      limit));
}

TEST_CASE("e2e cluster: each node reaches the others' regions through CAF's "
          "middleman, notices a frozen or a killed one, and reaches it "
          "again once it is back") {
  auto info = lease_server();
  if (info == nullptr)
    return;
  cluster_fixture c{info};
  auto* n1 = c.start_with_region("n1");
  auto* n2 = c.start_with_region("n2");
  const auto limit = std::chrono::seconds(30);
  REQUIRE(eventually([&] { return reachable(*n1, "n2"); }, limit));
  REQUIRE(eventually([&] { return reachable(*n2, "n1"); }, limit));
  auto l12 = link(*n1, "n2");
  CHECK(l12["rttMs"].get<double>() >= 0);
  CHECK(l12["pingsAnswered"].get<int64_t>() >= 1);
  // Its own node has no link.
  CHECK(link(*n1, "n1").is_null());
  CHECK(eventually(
      [&] {
        return metric(*n1, "oms_cluster_peers{reachable=\"true\"}") == "1";
      },
      limit));

  // Frozen: its pings go unanswered.
  n2->pause();
  REQUIRE(eventually(
      [&] {
        auto l = link(*n1, "n2");
        return l.is_object() && l["reachable"] == false &&
               l["pingsFailed"].get<int64_t>() >= 1;
      },
      limit));
  n2->resume();
  REQUIRE(eventually([&] { return reachable(*n1, "n2"); }, limit));

  // Killed: the connection closes and is counted lost; started again on
  // the same address, it is reached again.
  n2->kill9();
  REQUIRE(eventually(
      [&] {
        auto l = link(*n1, "n2");
        return l.is_object() && l["reachable"] == false &&
               l["connectionsLost"].get<int64_t>() >= 1;
      },
      limit));
  n2->restart();
  REQUIRE(eventually([&] { return reachable(*n1, "n2"); }, limit));
  REQUIRE(eventually([&] { return reachable(*n2, "n1"); }, limit));
}

TEST_CASE("e2e cluster: each node serves the stock and orders of its own "
          "shards from the shared store, answers 421 NOT_OWNER naming the "
          "owner for the others, and a killed node's shards are served by "
          "a survivor with every hold they had") {
  auto info = lease_server();
  if (info == nullptr)
    return;
  cluster_fixture c{info};
  auto& n1 = c.start("n1");
  auto& n2 = c.start("n2");
  halves_settled(n1, n2);
  auto view = cluster_of(n1);
  // (Plain variables: clang does not let lambdas capture structured
  // bindings.)
  auto held_a = sku_held_by(view, "n1", "A");
  auto a = held_a.first;
  auto shard_a = held_a.second;
  auto b = sku_held_by(view, "n1", "B", shard_a).first;
  auto other = sku_held_by(view, "n2", "C").first;
  CAPTURE(a);
  CAPTURE(b);
  http_client admin1{n1.url(), n1.admin_token()};
  http_client admin2{n2.url(), n2.admin_token()};

  // Stock goes to its owner; the other node refuses it, naming the owner,
  // and changes nothing. A shard is served once loaded: retried until then.
  json receipt{{"quantity", 10}, {"unitPrice", 500}};
  auto wrong = admin2.post("/v1/inventory/" + a + "/receipts", receipt.dump());
  REQUIRE_MESSAGE(wrong.status == 421, wrong.body);
  auto refusal = body_of(wrong)["error"];
  CHECK(refusal["code"] == "NOT_OWNER");
  CHECK(refusal["details"]["shard"] == shard_a);
  CHECK(refusal["details"]["owner"] == "n1");
  CHECK(refusal["details"]["ownerHttp"] == n1.url());
  REQUIRE(eventually(
      [&] {
        return admin1.post("/v1/inventory/" + a + "/receipts", receipt.dump())
                   .status == 200;
      },
      std::chrono::seconds(20)));
  REQUIRE(
      admin1.post("/v1/inventory/" + b + "/receipts", receipt.dump()).status ==
      200);
  REQUIRE(eventually(
      [&] {
        return admin2
                   .post("/v1/inventory/" + other + "/receipts", receipt.dump())
                   .status == 200;
      },
      std::chrono::seconds(20)));
  CHECK(admin2.get("/v1/inventory/" + a).status == 421);
  CHECK(body_of(admin1.get("/v1/inventory/" + a))["available"] == 10);

  // A customer registered at n1 can call n2 within a few seconds.
  auto made = admin1.post("/v1/customers", json{{"name", "Ada"}}.dump());
  REQUIRE(made.status == 201);
  auto cid = body_of(made)["customerId"].get<std::string>();
  auto token = body_of(made)["token"].get<std::string>();
  http_client cust1{n1.url(), token};
  http_client cust2{n2.url(), token};
  REQUIRE(eventually(
      [&] {
        return cust2.get("/v1/customers/" + cid + "/orders").status == 200;
      },
      std::chrono::seconds(20)));

  // An order goes to the owner of its first line's shard.
  CHECK(cust2.post("/v1/orders", order_for(cid, {{a, 3}}).dump()).status ==
        421);
  auto placed = cust1.post("/v1/orders", order_for(cid, {{a, 3}}).dump());
  REQUIRE_MESSAGE(placed.status == 201, placed.body);
  auto order = body_of(placed)["id"].get<std::string>();
  CHECK(body_of(admin1.get("/v1/inventory/" + a))["available"] == 7);
  // Any node reads any order from the shared store.
  CHECK(cust2.get("/v1/orders/" + order).status == 200);

  // n1 dies: n2 takes its shards, loads them, and serves them with the
  // hold n1 granted; what is left is sold once, not twice.
  n1.kill9();
  REQUIRE(eventually(
      [&] {
        return settled(n2, {{"n2", 12}});
      },
      std::chrono::seconds(30)));
  REQUIRE(
      eventually([&] { return admin2.get("/v1/inventory/" + a).status == 200; },
                 std::chrono::seconds(20)));
  auto moved = body_of(admin2.get("/v1/inventory/" + a));
  CHECK(moved["available"] == 7);
  CHECK(moved["reserved"] == 3);
  auto too_many = cust2.post("/v1/orders", order_for(cid, {{a, 8}}).dump());
  CHECK(too_many.status == 409);
  CHECK(body_of(too_many)["error"]["code"] == "INSUFFICIENT_STOCK");
  CHECK(cust2.post("/v1/orders", order_for(cid, {{a, 7}}).dump()).status ==
        201);
  // The order n1 placed lives on at n2.
  auto confirmed = admin2.post("/v1/orders/" + order + "/confirm", "{}");
  CHECK_MESSAGE(confirmed.status == 200, confirmed.body);
  CHECK(body_of(admin2.get("/v1/inventory/" + a))["available"] == 0);
}

TEST_CASE("e2e cluster: a node that handed a shard back to a joining node "
          "and takes it again later serves what the other sold and received "
          "meanwhile, not what it knew before") {
  auto info = lease_server();
  if (info == nullptr)
    return;
  cluster_fixture c{info};
  auto& n1 = c.start("n1");
  REQUIRE(eventually(
      [&] {
        return settled(n1, {{"n1", shards}});
      },
      std::chrono::seconds(30)));
  http_client admin1{n1.url(), n1.admin_token()};
  // n1 holds every shard: it stocks SKUs on all of them and reads each, so
  // it has each one's state in memory.
  json receipt{{"quantity", 10}, {"unitPrice", 500}};
  std::vector<std::string> skus;
  for (int n = 0; n < 40; ++n)
    skus.push_back("P-" + std::to_string(n));
  for (auto& sku : skus) {
    REQUIRE(eventually(
        [&] {
          return admin1
                     .post("/v1/inventory/" + sku + "/receipts", receipt.dump())
                     .status == 200;
        },
        std::chrono::seconds(20)));
    REQUIRE(body_of(admin1.get("/v1/inventory/" + sku))["available"] == 10);
  }
  auto made = admin1.post("/v1/customers", json{{"name", "Ada"}}.dump());
  REQUIRE(made.status == 201);
  auto cid = body_of(made)["customerId"].get<std::string>();
  auto token = body_of(made)["token"].get<std::string>();

  // n2 joins: n1 hands half the shards back, and n2 takes them.
  auto& n2 = c.start("n2");
  halves_settled(n1, n2);
  auto x = sku_held_by(cluster_of(n2), "n2", "P").first;
  CAPTURE(x);
  REQUIRE(std::find(skus.begin(), skus.end(), x) != skus.end());
  http_client admin2{n2.url(), n2.admin_token()};
  http_client cust1{n1.url(), token};
  http_client cust2{n2.url(), token};
  REQUIRE(
      eventually([&] { return admin2.get("/v1/inventory/" + x).status == 200; },
                 std::chrono::seconds(20)));
  CHECK(admin1.get("/v1/inventory/" + x).status == 421);
  // n2 sells 3 and receives 5 more: 12 available, 3 reserved.
  REQUIRE(eventually(
      [&] {
        return cust2.get("/v1/customers/" + cid + "/orders").status == 200;
      },
      std::chrono::seconds(20)));
  auto placed = cust2.post("/v1/orders", order_for(cid, {{x, 3}}).dump());
  REQUIRE_MESSAGE(placed.status == 201, placed.body);
  REQUIRE(admin2
              .post("/v1/inventory/" + x + "/receipts",
                    json{{"quantity", 5}, {"unitPrice", 500}}.dump())
              .status == 200);
  CHECK(body_of(admin2.get("/v1/inventory/" + x))["available"] == 12);

  // n2 stops and hands its shards back; n1 takes them again and serves x
  // as the journal has it, not as it last knew it (10 available).
  REQUIRE(n2.stop() == 0);
  REQUIRE(eventually(
      [&] {
        return settled(n1, {{"n1", shards}});
      },
      std::chrono::seconds(30)));
  REQUIRE(
      eventually([&] { return admin1.get("/v1/inventory/" + x).status == 200; },
                 std::chrono::seconds(20)));
  auto back = body_of(admin1.get("/v1/inventory/" + x));
  CHECK(back["available"] == 12);
  CHECK(back["reserved"] == 3);
  CHECK(back["onHand"] == 15);
  // What is left is sold once: 13 are refused, 12 are sold.
  auto too_many = cust1.post("/v1/orders", order_for(cid, {{x, 13}}).dump());
  CHECK(too_many.status == 409);
  CHECK(body_of(too_many)["error"]["code"] == "INSUFFICIENT_STOCK");
  CHECK(cust1.post("/v1/orders", order_for(cid, {{x, 12}}).dump()).status ==
        201);
  // The order n2 placed is n1's to carry on.
  auto id = body_of(placed)["id"].get<std::string>();
  auto confirmed = admin1.post("/v1/orders/" + id + "/confirm", "{}");
  CHECK_MESSAGE(confirmed.status == 200, confirmed.body);
  CHECK(body_of(admin1.get("/v1/inventory/" + x))["available"] == 0);
}

TEST_CASE("e2e cluster: every node's change feed reads the whole shared "
          "log, and a long poll at one node wakes when another commits") {
  auto info = lease_server();
  if (info == nullptr)
    return;
  cluster_fixture c{info};
  auto& n1 = c.start("n1");
  auto& n2 = c.start("n2");
  halves_settled(n1, n2);
  auto a = sku_held_by(cluster_of(n1), "n1", "FEED").first;
  CAPTURE(a);
  http_client admin1{n1.url(), n1.admin_token()};
  http_client admin2{n2.url(), n2.admin_token()};
  json receipt{{"quantity", 4}, {"unitPrice", 500}};
  REQUIRE(eventually(
      [&] {
        return admin1.post("/v1/inventory/" + a + "/receipts", receipt.dump())
                   .status == 200;
      },
      std::chrono::seconds(20)));
  // n2 looks at the log's end (a page from the start), then n1 commits
  // again: a page of n2's from the start asked more than 20 ms later reads
  // up to the log's end of then, not the one n2 knew.
  REQUIRE(admin2.get("/v1/events?after=0").status == 200);
  REQUIRE(
      admin1.post("/v1/inventory/" + a + "/receipts", receipt.dump()).status ==
      200);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto from_start = body_of(admin2.get(
      "/v1/events?after=0&type=oms.stock.received&subject=" + a))["events"];
  CHECK(from_start.size() == 2);
  // n2 committed nothing; its feed has n1's receipts all the same.
  auto page = body_of(admin2.get("/v1/events?subject=" + a));
  REQUIRE(page["events"].size() >= 1);
  CHECK(page["events"].back()["type"] == "oms.stock.received");
  auto last = body_of(admin2.get("/v1/events"))["next"].get<std::string>();
  // A long poll at n2 past the log's end is answered by n1's next commit,
  // well before its minute (a wait that ran out answers an empty page).
  auto waiting = std::async(std::launch::async, [&] {
    http_client poll{n2.url(), n2.admin_token()};
    return poll.get("/v1/events?wait=60&after=" + last);
  });
  REQUIRE(
      admin1.post("/v1/inventory/" + a + "/receipts", receipt.dump()).status ==
      200);
  REQUIRE(waiting.wait_for(std::chrono::seconds(50)) ==
          std::future_status::ready);
  auto woke = waiting.get();
  REQUIRE_MESSAGE(woke.status == 200, woke.body);
  auto events = body_of(woke)["events"];
  REQUIRE(events.size() >= 1);
  CHECK(events[0]["subject"] == a);
  CHECK(events[0]["type"] == "oms.stock.received");
  // A stream opened at n2 from the newest cursor n1 handed out, n2 not
  // having looked at the log since: it opens (and runs until the client
  // gives up), not refused 400 as a cursor past the log's end.
  auto seen = body_of(woke)["next"].get<std::string>();
  REQUIRE(
      admin1.post("/v1/inventory/" + a + "/receipts", receipt.dump()).status ==
      200);
  auto newest = body_of(admin1.get("/v1/events?after=" + seen))["next"];
  REQUIRE(newest.is_string());
  CHECK(newest != seen);
  http_client stream{n2.url(), n2.admin_token(), std::chrono::seconds(2)};
  auto opened = stream.request("GET", "/v1/events", "",
                               {"Accept: text/event-stream",
                                "Last-Event-ID: " + newest.get<std::string>()});
  CHECK_MESSAGE(opened.status != 400, opened.body);
}

TEST_CASE("e2e cluster: an order whose lines are on two nodes' shards is "
          "held by both, all or nothing, confirmed at both, and carried on "
          "by the survivor when its node dies") {
  auto info = lease_server();
  if (info == nullptr)
    return;
  cluster_fixture c{info};
  auto* n1 = c.start_with_region("n1");
  auto* n2 = c.start_with_region("n2");
  REQUIRE(eventually(
      [&] {
        return settled(*n1, {{"n1", 6}, {"n2", 6}}) &&
               settled(*n2, {{"n1", 6}, {"n2", 6}});
      },
      std::chrono::seconds(30)));
  auto view = cluster_of(*n1);
  auto a = sku_held_by(view, "n1", "XA").first;
  auto b = sku_held_by(view, "n2", "XB").first;
  CAPTURE(a);
  CAPTURE(b);
  http_client admin1{n1->url(), n1->admin_token()};
  http_client admin2{n2->url(), n2->admin_token()};
  REQUIRE(eventually(
      [&] {
        return admin1.post("/v1/inventory/" + a + "/receipts",
                           json{{"quantity", 10}, {"unitPrice", 100}}.dump())
                       .status == 200 &&
               admin2.post("/v1/inventory/" + b + "/receipts",
                           json{{"quantity", 5}, {"unitPrice", 250}}.dump())
                       .status == 200;
      },
      std::chrono::seconds(30)));
  auto made = admin1.post("/v1/customers", json{{"name", "Cy"}}.dump());
  REQUIRE(made.status == 201);
  auto cid = body_of(made)["customerId"].get<std::string>();
  http_client cust1{n1->url(), body_of(made)["token"].get<std::string>()};
  auto stock_of = [&](http_client& at, const std::string& sku) {
    return body_of(at.get("/v1/inventory/" + sku));
  };

  // Placed at n1 (its first line's shard): n2 holds b's units for it.
  oms::client::http_result placed;
  REQUIRE(eventually(
      [&] {
        placed =
            cust1.post("/v1/orders", order_for(cid, {{a, 2}, {b, 3}}).dump(),
                       {"Idempotency-Key: across-1"});
        return placed.status == 201;
      },
      std::chrono::seconds(30)));
  auto order = body_of(placed)["id"].get<std::string>();
  CHECK(body_of(placed)["totalAmount"] == 2 * 100 + 3 * 250);
  CHECK(stock_of(admin1, a)["reserved"] == 2);
  CHECK(stock_of(admin2, b)["reserved"] == 3);
  // The same key again: the same order, nothing more held.
  auto again = cust1.post("/v1/orders", order_for(cid, {{a, 2}, {b, 3}}).dump(),
                          {"Idempotency-Key: across-1"});
  CHECK(body_of(again)["id"] == order);
  CHECK(stock_of(admin2, b)["reserved"] == 3);

  // All or nothing: b short at n2 refuses it, and n1 gives a's units back.
  auto short_b =
      cust1.post("/v1/orders", order_for(cid, {{a, 1}, {b, 3}}).dump());
  CHECK(short_b.status == 409);
  CHECK(body_of(short_b)["error"]["code"] == "INSUFFICIENT_STOCK");
  CHECK(stock_of(admin1, a)["available"] == 8);
  CHECK(stock_of(admin2, b)["available"] == 2);

  // Cancelled: both give their units back.
  auto second =
      cust1.post("/v1/orders", order_for(cid, {{a, 1}, {b, 1}}).dump());
  REQUIRE_MESSAGE(second.status == 201, second.body);
  CHECK(stock_of(admin2, b)["available"] == 1);
  auto cancelled = admin1.post(
      "/v1/orders/" + body_of(second)["id"].get<std::string>() + "/cancel",
      "{}");
  CHECK_MESSAGE(cancelled.status == 200, cancelled.body);
  CHECK(stock_of(admin2, b)["available"] == 2);

  // Confirmed: blocked at both.
  auto confirmed = admin1.post("/v1/orders/" + order + "/confirm", "{}");
  REQUIRE_MESSAGE(confirmed.status == 200, confirmed.body);
  CHECK(stock_of(admin2, b)["blocked"] == 3);
  CHECK(body_of(admin2.get("/v1/audit"))["violations"].empty());
  CHECK(body_of(admin1.get("/v1/audit"))["violations"].empty());

  // Delivered, and a unit of b returned: the order's node (n1) has n2,
  // which holds b's shard, receive and restock it, once per step.
  auto kept = cust1.post("/v1/orders", order_for(cid, {{a, 1}, {b, 1}}).dump());
  REQUIRE_MESSAGE(kept.status == 201, kept.body);
  auto kept_id = body_of(kept)["id"].get<std::string>();
  auto base = "/v1/orders/" + kept_id;
  REQUIRE(admin1.post(base + "/confirm", "{}").status == 200);
  REQUIRE(
      admin1.post(base + "/pay", json{{"amount", 100 + 250}}.dump()).status ==
      200);
  REQUIRE(admin1.post(base + "/ship", "{}").status == 200);
  REQUIRE(admin1.post(base + "/deliver", "{}").status == 200);
  auto b_shipped = stock_of(admin2, b);
  auto asked = cust1.post(
      base + "/returns",
      json{{"lines", {{{"sku", b}, {"quantity", 1}, {"reason", "too big"}}}}}
          .dump());
  REQUIRE_MESSAGE(asked.status == 201, asked.body);
  auto rid = body_of(asked)["id"].get<std::string>();
  auto got = admin1.post(base + "/returns/" + rid + "/receive", "");
  REQUIRE_MESSAGE(got.status == 200, got.body);
  CHECK(stock_of(admin2, b)["onHand"] == b_shipped["onHand"].get<int>() + 1);
  auto inspected =
      admin1.post(base + "/returns/" + rid + "/inspect",
                  json{{"lines", {{{"sku", b}, {"restock", 1}}}}}.dump());
  REQUIRE_MESSAGE(inspected.status == 200, inspected.body);
  CHECK(body_of(inspected)["status"] == "REFUNDED");
  CHECK(stock_of(admin2, b)["available"] ==
        b_shipped["available"].get<int>() + 1);
  CHECK(stock_of(admin2, b)["onHand"] == b_shipped["onHand"].get<int>() + 1);
  CHECK(body_of(admin2.get("/v1/audit"))["violations"].empty());
  CHECK(body_of(admin1.get("/v1/audit"))["violations"].empty());

  // n1 dies: n2 takes its shards and the order with them; paid and shipped
  // there, b's units leave n2's on-hand and a's too.
  n1->kill9();
  REQUIRE(eventually(
      [&] {
        return settled(*n2, {{"n2", 12}}) &&
               admin2.get("/v1/inventory/" + a).status == 200;
      },
      std::chrono::seconds(30)));
  auto paid = admin2.post("/v1/orders/" + order + "/pay",
                          json{{"amount", 2 * 100 + 3 * 250}}.dump());
  REQUIRE_MESSAGE(paid.status == 200, paid.body);
  auto shipped = admin2.post("/v1/orders/" + order + "/ship", "{}");
  REQUIRE_MESSAGE(shipped.status == 200, shipped.body);
  // b: 5 received, 1 shipped and returned, 3 shipped now; a: 10, 1 and 2.
  CHECK(stock_of(admin2, b)["onHand"] == 2);
  CHECK(stock_of(admin2, b)["blocked"] == 0);
  CHECK(stock_of(admin2, a)["onHand"] == 7);
  auto audit = body_of(admin2.get("/v1/audit"));
  CHECK_MESSAGE(audit["violations"].empty(), audit.dump());
}

TEST_CASE("e2e cluster: with regions, any node answers for any shard: a "
          "request for another node's shard is forwarded to its owner and "
          "the owner's answer comes back, once, under the caller's "
          "idempotency key") {
  auto info = lease_server();
  if (info == nullptr)
    return;
  cluster_fixture c{info};
  auto* n1 = c.start_with_region("n1");
  auto* n2 = c.start_with_region("n2");
  REQUIRE(eventually(
      [&] {
        return settled(*n1, {{"n1", 6}, {"n2", 6}});
      },
      std::chrono::seconds(30)));
  auto a = sku_held_by(cluster_of(*n1), "n1", "F").first;
  CAPTURE(a);
  http_client admin2{n2->url(), n2->admin_token()};
  // n2 reaches n1's region and n1 serves the shard: a receipt sent to n2
  // is made by n1.
  json receipt{{"quantity", 5}, {"unitPrice", 300}};
  oms::client::http_result r;
  REQUIRE(eventually(
      [&] {
        r = admin2.post("/v1/inventory/" + a + "/receipts", receipt.dump());
        return r.status == 200;
      },
      std::chrono::seconds(30)));
  CHECK(r.header("Oms-Forwarded-To") == "n1");
  CHECK(body_of(admin2.get("/v1/inventory/" + a))["available"] == 5);
  // An order through n2, retried with the same key: one order, one hold.
  auto made = admin2.post("/v1/customers", json{{"name", "Bo"}}.dump());
  REQUIRE(made.status == 201);
  auto cid = body_of(made)["customerId"].get<std::string>();
  http_client cust2{n2->url(), body_of(made)["token"].get<std::string>()};
  // At once: n2 tells n1 who the caller is (n1 would read the new
  // customer from the store only a second later).
  auto first = cust2.post("/v1/orders", order_for(cid, {{a, 2}}).dump(),
                          {"Idempotency-Key: fwd-1"});
  REQUIRE_MESSAGE(first.status == 201, first.body);
  CHECK(first.header("Oms-Forwarded-To") == "n1");
  auto again = cust2.post("/v1/orders", order_for(cid, {{a, 2}}).dump(),
                          {"Idempotency-Key: fwd-1"});
  REQUIRE(again.status == 201);
  CHECK(body_of(again)["id"] == body_of(first)["id"]);
  CHECK(body_of(admin2.get("/v1/inventory/" + a))["available"] == 3);
  // Refusals come back as the owner gave them.
  auto short_of = cust2.post("/v1/orders", order_for(cid, {{a, 4}}).dump());
  CHECK(short_of.status == 409);
  CHECK(body_of(short_of)["error"]["code"] == "INSUFFICIENT_STOCK");
  auto view = cluster_of(*n2);
  CHECK(view["forwarded"]["answered"].get<int64_t>() >= 5);
  CHECK(view["routing"].get<std::string>().rfind("forward", 0) == 0);
  CHECK(metric(*n2, "oms_cluster_forwarded_total{outcome=\"answered\"}") !=
        "0");
  // n1 frozen with a read on its way to it: no answer comes within n2's
  // request timeout, by when n2 holds the shard and serves it itself: the
  // read, safe to send twice, is answered by n2's own handler (a change
  // without an Idempotency-Key would be answered 503: it may have been
  // made).
  n1->pause();
  auto read = admin2.get("/v1/inventory/" + a);
  CHECK_MESSAGE(read.status == 200, read.body);
  CHECK(read.header("Oms-Forwarded-To").empty());
  // From then on n2 answers for the shard itself.
  REQUIRE(eventually(
      [&] {
        auto got = admin2.get("/v1/inventory/" + a);
        return got.status == 200 && got.header("Oms-Forwarded-To").empty();
      },
      std::chrono::seconds(30)));
  CHECK(body_of(admin2.get("/v1/inventory/" + a))["available"] == 3);
  n1->resume();
}

TEST_CASE("e2e cluster: with regions, a customer's cart is one cart at "
          "every node: lines of SKUs on both nodes' shards set, read and "
          "checked out through either node, once under a key") {
  auto info = lease_server();
  if (info == nullptr)
    return;
  cluster_fixture c{info};
  auto* n1 = c.start_with_region("n1");
  auto* n2 = c.start_with_region("n2");
  halves_settled(*n1, *n2);
  auto view = cluster_of(*n1);
  auto a = sku_held_by(view, "n1", "CART").first;
  auto b = sku_held_by(view, "n2", "CART").first;
  CAPTURE(a);
  CAPTURE(b);
  http_client admin1{n1->url(), n1->admin_token()};
  http_client admin2{n2->url(), n2->admin_token()};
  json receipt{{"quantity", 5}, {"unitPrice", 300}};
  for (auto* sku : {&a, &b})
    REQUIRE(eventually(
        [&] {
          return admin1
                     .post("/v1/inventory/" + *sku + "/receipts",
                           receipt.dump())
                     .status == 200;
        },
        std::chrono::seconds(30)));
  auto made = admin1.post("/v1/customers", json{{"name", "Cy"}}.dump());
  REQUIRE(made.status == 201);
  auto cid = body_of(made)["customerId"].get<std::string>();
  auto token = body_of(made)["token"].get<std::string>();
  http_client cust1{n1->url(), token};
  http_client cust2{n2->url(), token};
  auto cart = "/v1/customers/" + cid + "/cart";
  // The customer is known at n2 within a second or so.
  REQUIRE(eventually([&] { return cust2.get(cart).status == 200; },
                     std::chrono::seconds(20)));
  json ship{{"address", ship_to}};
  // Two checkouts, one whose first line is on n1's shard and one on n2's:
  // whichever node keeps the cart, one of them is made by the other node.
  std::set<std::string> orders;
  for (int round = 0; round < 2; ++round) {
    auto first = round == 0 ? a : b;
    auto second = round == 0 ? b : a;
    CAPTURE(round);
    auto put1 =
        cust2.request("PUT", cart + "/items/" + first, R"({"quantity":2})");
    REQUIRE_MESSAGE(put1.status == 200, put1.body);
    auto put2 =
        cust1.request("PUT", cart + "/items/" + second, R"({"quantity":1})");
    REQUIRE_MESSAGE(put2.status == 200, put2.body);
    // One cart, the same through either node.
    for (auto* cust : {&cust1, &cust2}) {
      auto seen = body_of(cust->get(cart));
      REQUIRE(seen["lines"].size() == 2);
      CHECK(seen["lines"][0]["sku"] == first);
      CHECK(seen["lines"][0]["quantity"] == 2);
      CHECK(seen["lines"][1]["sku"] == second);
      CHECK(seen["totalAmount"] == 900);
    }
    auto key = "cart-" + std::to_string(round);
    auto out = cust2.post(cart + "/checkout", ship.dump(),
                          {"Idempotency-Key: " + key});
    REQUIRE_MESSAGE(out.status == 201, out.body);
    auto order = body_of(out);
    REQUIRE(order["lines"].size() == 2);
    CHECK(order["lines"][0]["sku"] == first);
    CHECK(order["totalAmount"] == 900);
    // Asked again through the other node: the same order, not a second.
    auto again = cust1.post(cart + "/checkout", ship.dump(),
                            {"Idempotency-Key: " + key});
    REQUIRE_MESSAGE(again.status / 100 == 2, again.body);
    CHECK(body_of(again)["id"] == order["id"]);
    orders.insert(order["id"].get<std::string>());
    for (auto* cust : {&cust1, &cust2})
      CHECK(body_of(cust->get(cart))["lines"].empty());
  }
  CHECK(orders.size() == 2);
  // Each SKU gave 2 + 1 units, once each.
  CHECK(body_of(admin1.get("/v1/inventory/" + a))["available"] == 2);
  CHECK(body_of(admin2.get("/v1/inventory/" + b))["available"] == 2);
}

TEST_CASE("e2e cluster: a request for a killed owner's shard waits at a "
          "survivor for a route, and is answered by the survivor that took "
          "the shard, not refused 421") {
  auto info = lease_server();
  if (info == nullptr)
    return;
  cluster_fixture c{info};
  // A wait of min(20 s / 2, 3 x 2 s) = 6 s: the lease runs out within 2 s
  // of the kill, and a survivor takes it at its next tick.
  auto* n1 = c.start_with_region("n1", "20s", "2s");
  auto* n2 = c.start_with_region("n2", "20s", "2s");
  auto* n3 = c.start_with_region("n3", "20s", "2s");
  const std::map<std::string, int> even{{"n1", 4}, {"n2", 4}, {"n3", 4}};
  REQUIRE(eventually(
      [&] {
        return settled(*n1, even) && settled(*n2, even) && settled(*n3, even);
      },
      std::chrono::seconds(30)));
  auto a = sku_held_by(cluster_of(*n1), "n1", "K").first;
  CAPTURE(a);
  http_client admin1{n1->url(), n1->admin_token()};
  REQUIRE(admin1
              .post("/v1/inventory/" + a + "/receipts",
                    json{{"quantity", 5}, {"unitPrice", 100}}.dump())
              .status == 200);
  http_client admin2{n2->url(), n2->admin_token()};
  http_client admin3{n3->url(), n3->admin_token()};
  for (auto* admin : {&admin2, &admin3})
    REQUIRE(eventually(
        [&] {
          auto r = admin->get("/v1/inventory/" + a);
          return r.status == 200 && r.header("Oms-Forwarded-To") == "n1";
        },
        std::chrono::seconds(30)));
  // n1 dies. Asked at once, n2 and n3 have a route to nobody: n1's region
  // is gone (or goes while a read is on its way: no answer, and a read may
  // be sent again) and n1 still holds the lease, then nobody does. One of
  // them takes the shard and answers itself; the other forwards to it once
  // it knows (and the taker, still loading when asked, waits to answer).
  n1->kill9();
  oms::client::http_result at2, at3;
  {
    std::thread t2{[&] {
      at2 = admin2.get("/v1/inventory/" + a);
    }};
    std::thread t3{[&] {
      at3 = admin3.get("/v1/inventory/" + a);
    }};
    t2.join();
    t3.join();
  }
  for (auto* read : {&at2, &at3}) {
    CHECK_MESSAGE(read->status == 200, read->body);
    CHECK(body_of(*read)["available"] == 5);
    auto via = read->header("Oms-Forwarded-To");
    CHECK((via.empty() || via == "n2" || via == "n3"));
  }
}

namespace {

// With n1 and n2 holding 6 shards each: a SKU of n1's with 5 units
// received at n1, and a customer registered there (its id and token).
struct n1_shop {
  std::string sku, customer, token;
};
n1_shop five_units_at_n1(const node& n1) {
  const auto limit = std::chrono::seconds(30);
  REQUIRE(eventually(
      [&] {
        return settled(n1, {{"n1", 6}, {"n2", 6}});
      },
      limit));
  auto a = sku_held_by(cluster_of(n1), "n1", "Z").first;
  http_client admin1{n1.url(), n1.admin_token()};
  REQUIRE(eventually(
      [&] {
        return admin1
                   .post("/v1/inventory/" + a + "/receipts",
                         json{{"quantity", 5}, {"unitPrice", 100}}.dump())
                   .status == 200;
      },
      limit));
  auto made = admin1.post("/v1/customers", json{{"name", "Cy"}}.dump());
  REQUIRE(made.status == 201);
  return {a, body_of(made)["customerId"].get<std::string>(),
          body_of(made)["token"].get<std::string>()};
}

} // namespace

TEST_CASE("e2e cluster: a node frozen on its link with a reservation in "
          "flight cannot commit it once another node took its shard and "
          "sold the units: the fence refuses it") {
  auto info = lease_server();
  if (info == nullptr)
    return;
  cluster_fixture c{info};
  pg_link link{info};
  auto& n1 = c.start("n1", link.conninfo());
  auto& n2 = c.start("n2");
  const auto limit = std::chrono::seconds(30);
  auto shop = five_units_at_n1(n1);
  const auto& a = shop.sku;
  const auto& cid = shop.customer;
  const auto& token = shop.token;
  CAPTURE(a);
  http_client admin2{n2.url(), n2.admin_token()};
  REQUIRE(eventually(
      [&] {
        return http_client{n2.url(), token}
                   .get("/v1/customers/" + cid + "/orders")
                   .status == 200;
      },
      limit));

  // n1's link stops passing bytes; an order for all 5 units reaches n1,
  // which reserves them in memory and waits on its frozen commit.
  link.freeze();
  oms::client::http_result stale;
  std::thread late{[&] {
    stale = http_client{n1.url(), token}.post("/v1/orders",
                                              order_for(cid, {{a, 5}}).dump());
  }};
  // Meanwhile n2 takes the shard (n1's lease ran out by PostgreSQL's
  // clock), loads it without n1's reservation, and sells the 5 units.
  REQUIRE(eventually(
      [&] { return admin2.get("/v1/inventory/" + a).status == 200; }, limit));
  CHECK(body_of(admin2.get("/v1/inventory/" + a))["available"] == 5);
  auto sold = http_client{n2.url(), token}.post(
      "/v1/orders", order_for(cid, {{a, 5}}).dump());
  REQUIRE_MESSAGE(sold.status == 201, sold.body);
  // n1's commit goes on: its fence finds another owner and refuses it.
  link.heal();
  late.join();
  CHECK(stale.status != 201);
  auto now = body_of(admin2.get("/v1/inventory/" + a));
  CHECK(now["available"] == 0);
  CHECK(now["reserved"] == 5);
  // PostgreSQL's own state: the units held are those n2 sold, once.
  pqxx::connection conn{info};
  pqxx::work w{conn};
  auto held = w.exec1("SELECT coalesce(sum(quantity), 0) FROM " +
                      w.quote_name(c.schema + "_store") +
                      ".holds WHERE sku = " + w.quote(a))[0]
                  .as<int64_t>();
  CHECK(held == 5);
}

namespace {

// A receipt of `qty` units of `sku`, as an event to commit.
oms::event receipt_of(const std::string& sku, int64_t qty) {
  oms::event ev;
  ev.kind = oms::event_kind::stock_received;
  ev.sku = sku;
  ev.quantity = qty;
  ev.at = 1000;
  return ev;
}

// Sessions of process `pid` (this one by default) running COMMIT now, as
// PostgreSQL shows them.
int64_t committing_now(const std::string& info, pid_t pid = ::getpid()) {
  pqxx::connection conn{info};
  pqxx::nontransaction n{conn};
  return n
      .exec1("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
             "AND query = 'COMMIT' AND application_name LIKE " +
             n.quote("% pid=" + std::to_string(pid) + " %"))[0]
      .as<int64_t>();
}

// COMMITs of the store in `schema` held on the server while this gate is
// closed: a deferred trigger on its events waits for an advisory lock the
// gate holds, then runs `then` (a statement that fails the commit, or
// nothing). So a link can be cut while COMMIT runs, and the commit made to
// land or not after that, with no race against the clock.
class commit_gate {
 public:
  commit_gate(const std::string& info, const std::string& schema,
              const std::string& then)
      : conn_(info) {
    pqxx::work w{conn_};
    auto s = w.quote_name(schema);
    w.exec("CREATE OR REPLACE FUNCTION " + s +
           ".gated_commit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
           "PERFORM pg_advisory_xact_lock(" +
           std::to_string(key) + "); " + then + " RETURN NULL; END $$");
    w.exec("DROP TRIGGER IF EXISTS gated_commit ON " + s + ".events");
    w.exec("CREATE CONSTRAINT TRIGGER gated_commit AFTER INSERT ON " + s +
           ".events DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE "
           "FUNCTION " +
           s + ".gated_commit()");
    w.commit();
    pqxx::nontransaction n{conn_};
    n.exec("SELECT pg_advisory_lock(" + std::to_string(key) + ")");
  }
  // Lets the held COMMITs go on (also when a check failed: nothing waits
  // on it forever).
  void open() {
    if (closed_) {
      pqxx::nontransaction n{conn_};
      n.exec("SELECT pg_advisory_unlock(" + std::to_string(key) + ")");
      closed_ = false;
    }
  }
  ~commit_gate() {
    try {
      open();
    } catch (const std::exception&) {
    }
  }

 private:
  static constexpr int64_t key = 7361029;
  pqxx::connection conn_;
  bool closed_ = true;
};

// Joins its thread when it goes out of scope, so that a failed REQUIRE
// does not destroy a joinable thread (std::terminate).
struct joined {
  std::thread t;
  ~joined() {
    if (t.joinable())
      t.join();
  }
};

// Whether the server still has a session of process `pid`'s that runs
// COMMIT.
bool backend_gone(const std::string& info, pid_t pid) {
  return committing_now(info, pid) == 0;
}

} // namespace

TEST_CASE("e2e cluster: a shared writer whose link breaks after it sent "
          "COMMIT answers nothing until the server can say whether the "
          "batch landed: landed is answered as committed, rolled back or "
          "ended as failed, and a server out of reach too long stops the "
          "writer") {
  auto info = lease_server();
  if (info == nullptr)
    return;
  auto schema = "e2e_settle_" + std::to_string(::getpid());
  oms::test::drop_schema(info, schema);
  pg_link link{info};
  auto opened = oms::pg_store::open_shared(link.conninfo(), schema);
  REQUIRE(opened);
  auto store = std::move(*opened);
  std::string lost_reason;
  store->set_on_lost([&](const std::string& why) { lost_reason = why; });
  REQUIRE(!store->commit({receipt_of("A", 1)}));
  auto events_of = [&](const std::string& sku) {
    pqxx::connection conn{info};
    pqxx::work w{conn};
    return w
        .exec1("SELECT count(*) FROM " + w.quote_name(schema) +
               ".events WHERE sku = " + w.quote(sku))[0]
        .as<int64_t>();
  };
  auto limit = std::chrono::seconds(30);
  auto me = ::getpid();
  {
    // Round 1: the server commits the batch after the link broke, and the
    // writer cannot reach it again until it did. Answered as failed, the
    // units would be given back in memory while the log keeps them.
    commit_gate gate{info, schema, ""};
    caf::error first = make_error(oms::errc::store_failure, "not answered");
    joined t{std::thread{[&] {
      first = store->commit({receipt_of("B", 2)});
    }}};
    REQUIRE(eventually([&] { return committing_now(info, me) == 1; }, limit));
    link.cut(); // took effect: the answer cannot pass before it
    gate.open();
    REQUIRE(eventually([&] { return events_of("B") == 1; }, limit));
    link.heal();
    t.t.join();
    CHECK_MESSAGE(!first, oms::message_of(first));
    CHECK(store->last_seq() == 2);
  }
  {
    // Round 2: the server rolls the batch back (the trigger fails once the
    // gate opens): answered as failed, once that is known.
    commit_gate gate{info, schema, "RAISE EXCEPTION 'refused';"};
    caf::error second;
    joined t{std::thread{[&] {
      second = store->commit({receipt_of("C", 3)});
    }}};
    REQUIRE(eventually([&] { return committing_now(info, me) == 1; }, limit));
    link.cut();
    gate.open();
    REQUIRE(eventually([&] { return backend_gone(info, me); }, limit));
    link.heal();
    t.t.join();
    CHECK(second);
    CHECK_MESSAGE(oms::message_of(second).find("did not land") !=
                      std::string::npos,
                  oms::message_of(second));
    CHECK(events_of("C") == 0);
  }
  {
    // Round 3: the writer reaches the server again while its old session
    // still runs the COMMIT (held at the gate): the batch may still land.
    // The writer ends that session and waits for its transaction before it
    // reads the log; so its answer (rolled back: failed) stays true when
    // the gate opens. Without that, it would read the log too early,
    // answer failed, and the batch would land after.
    commit_gate gate{info, schema, ""};
    caf::error third;
    joined t{std::thread{[&] {
      third = store->commit({receipt_of("D", 4)});
    }}};
    REQUIRE(eventually([&] { return committing_now(info, me) == 1; }, limit));
    link.cut();
    CHECK(link.refusing());
    link.heal();
    t.t.join();
    gate.open();
    REQUIRE(eventually([&] { return backend_gone(info, me); }, limit));
    CHECK(events_of("D") == (third ? 0 : 1));
    CHECK(third);
  }
  {
    // Round 4: out of reach for longer than the writer waits: it commits
    // nothing more, and says so once.
    commit_gate gate{info, schema, ""};
    store->set_settle_wait(std::chrono::milliseconds(500));
    caf::error fourth;
    joined t{std::thread{[&] {
      fourth = store->commit({receipt_of("E", 4)});
    }}};
    REQUIRE(eventually([&] { return committing_now(info, me) == 1; }, limit));
    link.cut();
    t.t.join();
    CHECK(fourth);
    CHECK(lost_reason.find("could not be learnt") != std::string::npos);
    gate.open();
    link.heal();
    CHECK(store->commit({receipt_of("F", 1)}));
    CHECK(events_of("F") == 0);
  }
}

TEST_CASE("e2e cluster: a node whose commit stays of unknown outcome past "
          "--commit-settle-wait stops with status 75, and the node that "
          "takes its shards serves what landed") {
  auto info = lease_server();
  if (info == nullptr)
    return;
  cluster_fixture c{info};
  pg_link link{info};
  auto& n1 = c.start("n1", link.conninfo(), {"--commit-settle-wait", "1s"});
  auto& n2 = c.start("n2");
  const auto limit = std::chrono::seconds(30);
  auto shop = five_units_at_n1(n1);
  const auto& a = shop.sku;
  const auto& cid = shop.customer;
  const auto& token = shop.token;
  CAPTURE(a);
  http_client admin2{n2.url(), n2.admin_token()};
  // n1's order for 2 units: its COMMIT runs on the server when n1's link
  // is cut, and n1 cannot learn how it ended.
  auto store_schema = c.schema + "_store";
  oms::client::http_result unknown;
  {
    commit_gate gate{info, store_schema, ""};
    joined late{std::thread{[&] {
      unknown = http_client{n1.url(), token}.post(
          "/v1/orders", order_for(cid, {{a, 2}}).dump());
    }}};
    REQUIRE(
        eventually([&] { return committing_now(info, n1.pid()) == 1; }, limit));
    link.cut();
    gate.open();
    std::optional<int> status;
    REQUIRE(eventually(
        [&] {
          status = n1.ended();
          return status.has_value();
        },
        limit));
    late.t.join();
    CHECK(*status == 75);
  }
  CHECK(n1.log().find("store.lost") != std::string::npos);
  CHECK(unknown.status != 201);
  // The order landed: n2, holding the shard now, loaded it with its hold.
  {
    pqxx::connection conn{info};
    pqxx::work w{conn};
    w.exec("DROP TRIGGER gated_commit ON " + w.quote_name(store_schema) +
           ".events");
    w.commit();
  }
  REQUIRE(eventually(
      [&] { return admin2.get("/v1/inventory/" + a).status == 200; }, limit));
  auto now = body_of(admin2.get("/v1/inventory/" + a));
  CHECK(now["reserved"] == 2);
  CHECK(now["available"] == 3);
}

TEST_CASE("e2e cluster: with --cluster-tls-*, the nodes whose certificates "
          "the cluster's CA signed reach each other's regions and forward, "
          "and a node with another CA's certificate is let in by none") {
  auto info = lease_server();
  if (info == nullptr)
    return;
  pki p{{"n1", "n2"}};
  cluster_fixture c{info};
  auto* n1 = c.start_with_region("n1", "8s", "1s", p.flags("n1"));
  auto* n2 = c.start_with_region("n2", "8s", "1s", p.flags("n2"));
  // Starts (its own files are sound) but holds a rogue CA's certificate;
  // its id is the lowest, so it is the one that dials the others.
  auto* n0 =
      c.start_with_region("n0", "8s", "1s", p.flags("rogue", "rogue-ca"));
  const auto limit = std::chrono::seconds(30);
  REQUIRE(eventually([&] { return reachable(*n1, "n2"); }, limit));
  REQUIRE(eventually([&] { return reachable(*n2, "n1"); }, limit));
  // A request for n1's shard sent to n2 is forwarded over TLS.
  const std::map<std::string, int> even{{"n0", 4}, {"n1", 4}, {"n2", 4}};
  REQUIRE(eventually([&] { return settled(*n1, even); }, limit));
  auto a = sku_held_by(cluster_of(*n1), "n1", "T").first;
  CAPTURE(a);
  http_client admin2{n2->url(), n2->admin_token()};
  oms::client::http_result r;
  REQUIRE(eventually(
      [&] {
        r = admin2.post("/v1/inventory/" + a + "/receipts",
                        json{{"quantity", 3}, {"unitPrice", 100}}.dump());
        return r.status == 200;
      },
      limit));
  CHECK(r.header("Oms-Forwarded-To") == "n1");
  // n0's dials fail their handshake at n1 and n2, which refuse its
  // certificate: after several attempts (one per TTL / 3, backing off),
  // neither of its links ever connected, and neither node took a region
  // from it.
  auto attempts = [&](const node& from, const std::string& to) {
    auto l = link(from, to);
    return l.is_object() ? l.value("connectsFailed", int64_t{0}) : 0;
  };
  REQUIRE(eventually(
      [&] { return attempts(*n0, "n1") >= 3 && attempts(*n0, "n2") >= 3; },
      limit));
  // (A pair, not a structured binding: CAPTURE is a lambda.)
  for (auto& pair : std::vector<std::pair<node*, std::string>>{
           {n0, "n1"}, {n0, "n2"}, {n1, "n0"}, {n2, "n0"}}) {
    const auto& to = pair.second;
    CAPTURE(to);
    CHECK_FALSE(reachable(*pair.first, to));
    CHECK(link(*pair.first, to)["connected"] == false);
  }
  // The CA's nodes keep their link: one per pair, dialed by n1 (two
  // links between one pair, one dialed by each, keep dropping each other
  // over CAF 0.17's OpenSSL module). A refused dial can make it drop once
  // (docs/cluster.md, "Links between nodes"): it is dialed again.
  CHECK(eventually([&] { return reachable(*n1, "n2") && reachable(*n2, "n1"); },
                   limit));
}
