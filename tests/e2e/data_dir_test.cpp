// omsd's data dir end to end: private to its user, owned by one omsd at a
// time (and so is a PostgreSQL schema), and the payments it holds outlive a
// restart.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>

#include "tests/e2e/daemon.hpp"
#include "tests/pg_schema.hpp"

using namespace oms;
using namespace oms::e2e;
using client::http_client;

namespace {

const json ship_to = {{"line1", "1 MG Road"},
                      {"city", "Pune"},
                      {"postalCode", "411001"},
                      {"country", "IN"}};

// The permission bits of `path` (-1 if it does not exist).
int mode_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return -1;
  return static_cast<int>(st.st_mode & 0777);
}

// Receives stock, creates a customer and a paid order of `qty` units of
// `sku` at 2500 each; returns the order's id.
std::string paid_order(daemon& d, const std::string& sku, int64_t qty) {
  http_client admin{d.url(), d.admin_token()};
  REQUIRE(admin
              .post("/v1/inventory/" + sku + "/receipts",
                    json{{"quantity", 10}, {"unitPrice", 2500}}.dump())
              .status == 200);
  auto c = admin.post("/v1/customers", json{{"name", "Ira"}}.dump());
  REQUIRE_MESSAGE(c.status == 201, c.body);
  auto customer = body_of(c)["customerId"].get<std::string>();
  auto o = admin.post("/v1/orders",
                      json{{"customerId", customer},
                           {"items", {{{"sku", sku}, {"quantity", qty}}}},
                           {"address", ship_to}}
                          .dump());
  REQUIRE_MESSAGE(o.status == 201, o.body);
  auto id = body_of(o)["id"].get<std::string>();
  auto paid = admin.post("/v1/orders/" + id + "/pay",
                         json{{"amount", 2500 * qty}}.dump());
  REQUIRE_MESSAGE(paid.status == 200, paid.body);
  REQUIRE(body_of(paid)["status"] == "PAID");
  return id;
}

} // namespace

TEST_CASE("e2e: a second omsd on the data dir of a running one refuses to "
          "start and names the holder") {
  daemon d;
  auto other = run_process({OMSD_PATH, "--port", std::to_string(free_port()),
                            "--data-dir", d.data_dir() + "/data",
                            "--admin-token", "admin-secret-token"});
  CHECK(other.exit_code == 2);
  CHECK_MESSAGE(other.err.find("in use by another omsd") != std::string::npos,
                other.err);
  CHECK_MESSAGE(other.err.find("pid " + std::to_string(d.pid())) !=
                    std::string::npos,
                other.err);
  // The running one is untouched, and once it stops the dir is free again.
  http_client admin{d.url(), d.admin_token()};
  CHECK(admin.get("/v1/audit").status == 200);
  CHECK(d.stop() == 0);
  d.restart();
  CHECK(admin.get("/v1/audit").status == 200);
}

TEST_CASE("e2e: a second omsd on the PostgreSQL schema of a running one "
          "refuses to start and names the holder") {
  // Proves the schema's advisory lock through omsd: each has a data dir of
  // its own, only the schema is shared, and the second exits 2 naming the
  // first as PostgreSQL shows it.
  auto info = std::getenv("OMS_TEST_PG");
  if (info == nullptr) {
    MESSAGE("OMS_TEST_PG is not set: no PostgreSQL to run omsd on (run "
            "under tools/with-postgres.sh)");
    return;
  }
  auto schema = "e2e_owner_" + std::to_string(std::random_device{}());
  oms::test::drop_schema(info, schema);
  std::vector<std::string> on_schema{"--postgres", info, "--postgres-schema",
                                     schema};
  daemon d{on_schema};
  http_client admin{d.url(), d.admin_token()};
  REQUIRE(admin
              .post("/v1/inventory/OWN-1/receipts",
                    json{{"quantity", 4}, {"unitPrice", 100}}.dump())
              .status == 200);
  std::optional<daemon> second;
  std::string refused;
  try {
    second.emplace(on_schema);
  } catch (const std::runtime_error& e) {
    refused = e.what();
  }
  REQUIRE_FALSE_MESSAGE(second.has_value(), "the second omsd started");
  INFO(refused);
  CHECK(refused.find("omsd exited at start with status 2") !=
        std::string::npos);
  CHECK(refused.find("omsd: cannot open the store: postgres:") !=
        std::string::npos);
  CHECK(refused.find("the schema " + schema +
                     " is in use by another omsd: \"omsd pid=" +
                     std::to_string(d.pid()) + " host=") != std::string::npos);
  // The first serves on; once it stops, another omsd takes the schema over.
  CHECK(admin.get("/v1/inventory/OWN-1").status == 200);
  CHECK(d.stop() == 0);
  daemon next{on_schema};
  http_client next_admin{next.url(), next.admin_token()};
  auto stock = next_admin.get("/v1/inventory/OWN-1");
  REQUIRE(stock.status == 200);
  CHECK(body_of(stock)["onHand"] == 4);
}

TEST_CASE("e2e: the data dir and the files omsd keeps there are readable by "
          "its user only, whatever the umask") {
  auto old_mask = ::umask(022);
  daemon d;
  ::umask(old_mask);
  paid_order(d, "PRIV-1", 1);
  auto dir = d.data_dir() + "/data";
  CHECK(mode_of(dir) == 0700);
  for (auto* name :
       {"oms.db", "oms.db-wal", "payments.db", "payments.db-wal", "omsd.lock"})
    CHECK_MESSAGE(mode_of(dir + "/" + name) == 0600, name);
  // A store left readable by an older version is made private at start.
  CHECK(d.stop() == 0);
  REQUIRE(::chmod((dir + "/oms.db").c_str(), 0644) == 0);
  REQUIRE(::chmod(dir.c_str(), 0755) == 0);
  d.restart();
  CHECK(mode_of(dir + "/oms.db") == 0600);
  CHECK(mode_of(dir) == 0700);
}

TEST_CASE("e2e: a paid order cancelled after a restart is refunded (the "
          "gateway remembers its charges)") {
  daemon d;
  auto id = paid_order(d, "REF-1", 2);
  d.restart();
  http_client admin{d.url(), d.admin_token()};
  auto cancelled = admin.post("/v1/orders/" + id + "/cancel",
                              json{{"reason", "changed my mind"}}.dump());
  REQUIRE_MESSAGE(cancelled.status == 200, cancelled.body);
  json seen;
  bool refunded = eventually(
      [&] {
        seen = body_of(admin.get("/v1/orders/" + id));
        return seen["refundedAmount"] == 5000;
      },
      std::chrono::seconds(60));
  CHECK_MESSAGE(refunded, seen.dump());
  CHECK(seen["status"] == "CANCELLED");
  bool declined = false;
  for (auto& p : seen["payments"])
    declined = declined || p.value("status", "") == "FAILED";
  CHECK_FALSE(declined);
}
