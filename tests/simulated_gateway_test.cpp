// The simulated payment gateway's ledger: what it charged and refunded
// survives a restart in its database, an earlier version's ledger of JSON
// lines is imported once (a write torn by a crash dropped), a damaged
// ledger stops the start.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "system/simulated_gateway.hpp"

using namespace oms;

namespace {

struct ledger_dir {
  std::string dir;
  ledger_dir() {
    char tmpl[] = "/tmp/oms-ledger-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir = tmpl;
  }
  ~ledger_dir() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  std::string path() const { return dir + "/payments.db"; }
  std::string legacy() const { return dir + "/payments.jsonl"; }
};

} // namespace

TEST_CASE("a charge made before a restart can be looked up and refunded "
          "after it") {
  ledger_dir d;
  std::string reference;
  {
    simulated_gateway gw{{}, d.path()};
    auto ch = gw.charge("o1:charge:1", 5000, "tok_visa");
    REQUIRE(ch.status == gateway_status::approved);
    reference = ch.reference;
    auto part = gw.refund("o1:refund:1", reference, 1000);
    REQUIRE(part.status == gateway_status::approved);
  }
  simulated_gateway gw{{}, d.path()};
  auto seen = gw.lookup("o1:charge:1");
  CHECK(seen.status == gateway_status::approved);
  CHECK(seen.reference == reference);
  // What is left of the charge is 4000: more is refused, that much is not.
  auto over = gw.refund("o1:refund:2", reference, 4001);
  CHECK(over.status == gateway_status::declined);
  CHECK(over.reason == "amount_exceeds_charge");
  auto rest = gw.refund("o1:refund:3", reference, 4000);
  CHECK(rest.status == gateway_status::approved);
  // New references never repeat old ones.
  auto other = gw.charge("o2:charge:1", 100, "tok_visa");
  REQUIRE(other.status == gateway_status::approved);
  CHECK(other.reference != reference);
  CHECK(gw.charges() == 2);
  CHECK(gw.refunded_total() == 5000);
}

TEST_CASE("the ledger is private to its user and a repeated key is "
          "recorded once") {
  ledger_dir d;
  auto old_mask = ::umask(022);
  {
    simulated_gateway gw{{}, d.path()};
    gw.charge("k1", 100, "tok_visa");
    CHECK(gw.charge("k1", 100, "tok_visa").reference == "ch_1");
    gw.charge("k2", 100, "tok_decline");
    struct stat st {};
    REQUIRE(::stat((d.path() + "-wal").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
  }
  ::umask(old_mask);
  struct stat st {};
  REQUIRE(::stat(d.path().c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  simulated_gateway gw{{}, d.path()};
  CHECK(gw.charges() == 1);
  CHECK(gw.charged_total() == 100);
  CHECK(gw.lookup("k2").status == gateway_status::declined);
  CHECK(gw.lookup("k2").reason == "card_declined");
  CHECK(gw.charge("k3", 5, "tok_visa").reference == "ch_2");
}

TEST_CASE("an earlier version's ledger is imported once: its charges refund "
          "after the upgrade, a last line torn by a crash is dropped") {
  ledger_dir d;
  {
    std::ofstream out{d.legacy()};
    out << R"({"key":"k1","refund":false,"charge":"","status":"APPROVED",)"
        << R"("reference":"ch_1","reason":"","amount":100})" << '\n'
        << R"({"key":"k2","refund":false,"charge":"","status":"DECLINED",)"
        << R"("reference":"","reason":"card_declined","amount":7})" << '\n'
        << R"({"key":"r1","refund":true,"charge":"ch_1","status":"APPROVED",)"
        << R"("reference":"re_2","reason":"","amount":30})" << '\n'
        << R"({"key":"k3","refund":false,"charge":"","sta)";
  }
  {
    simulated_gateway gw{{}, d.path(), d.legacy()};
    CHECK(gw.lookup("k1").reference == "ch_1");
    CHECK(gw.lookup("k2").reason == "card_declined");
    CHECK(gw.lookup("k3").status == gateway_status::not_found);
    CHECK(gw.refunded_total() == 30);
    // 70 of the charge is left to refund, no more.
    CHECK(gw.refund("r2", "ch_1", 71).reason == "amount_exceeds_charge");
    CHECK(gw.refund("r3", "ch_1", 70).status == gateway_status::approved);
    // New references never repeat imported ones.
    auto next = gw.charge("k4", 5, "tok_visa").reference;
    CHECK(next != "ch_1");
    CHECK(next != "re_2");
  }
  CHECK_FALSE(std::filesystem::exists(d.legacy()));
  CHECK(std::filesystem::exists(d.legacy() + ".imported"));
  // Opened again, nothing is imported twice.
  simulated_gateway gw{{}, d.path(), d.legacy()};
  CHECK(gw.charges() == 2);
  CHECK(gw.refunds() == 2);
  CHECK(gw.refunded_total() == 100);
}

TEST_CASE("a damaged ledger stops the start with its path and line") {
  ledger_dir d;
  {
    std::ofstream out{d.legacy()};
    out << R"({"key":"k1","refund":false,"charge":"","status":"APPROVED",)"
        << R"("reference":"ch_1","reason":"","amount":100})" << '\n'
        << "not json\n";
  }
  try {
    simulated_gateway gw{{}, d.path(), d.legacy()};
    FAIL("a damaged ledger was accepted");
  } catch (const simulated_gateway::ledger_error& e) {
    std::string what = e.what();
    CHECK(what.find(d.legacy()) != std::string::npos);
    CHECK(what.find("line 2") != std::string::npos);
  }
  // Not renamed: it is read again once repaired.
  CHECK(std::filesystem::exists(d.legacy()));
  // An unknown status is damage too; so is a refund beyond its charge.
  for (auto* line :
       {R"({"key":"k1","refund":false,"charge":"","status":"MAYBE",)"
        R"("reference":"ch_1","reason":"","amount":100})",
        R"({"key":"r9","refund":true,"charge":"ch_404","status":"APPROVED",)"
        R"("reference":"re_1","reason":"","amount":1})"}) {
    CAPTURE(line);
    std::ofstream{d.legacy()} << line << '\n';
    CHECK_THROWS_AS(simulated_gateway({}, d.path(), d.legacy()),
                    simulated_gateway::ledger_error);
  }
  // A file that is not a payment ledger is refused, named.
  ledger_dir e;
  std::ofstream{e.path()} << "not a database, " << std::string(4096, 'x');
  try {
    simulated_gateway gw{{}, e.path()};
    FAIL("a file that is not a ledger was accepted");
  } catch (const simulated_gateway::ledger_error& err) {
    CHECK(std::string{err.what()}.find(e.path()) != std::string::npos);
  }
}

TEST_CASE("money: the gateway declines charges of nothing and sums its "
          "ledger without wrapping") {
  // Proves a charge of 0 (what a wrapped order once asked for) or less is
  // never approved, and that totals that do not fit are reported as none
  // instead of a wrapped number.
  simulated_gateway gw;
  for (money amount : {money{0}, money{-5}}) {
    auto res = gw.charge("k" + std::to_string(amount), amount, "tok_visa");
    CHECK(res.status == gateway_status::declined);
    CHECK(res.reason == "invalid_amount");
  }
  CHECK(gw.charges() == 0);
  CHECK(gw.charged_total() == money{0});
  constexpr money big = 5'000'000'000'000'000'000;
  auto first = gw.charge("big-1", big, "tok_visa");
  REQUIRE(first.status == gateway_status::approved);
  CHECK(gw.charged_total() == big);
  REQUIRE(gw.charge("big-2", big, "tok_visa").status ==
          gateway_status::approved);
  CHECK(gw.charges() == 2);
  CHECK_FALSE(gw.charged_total());
  // Refunds: each within its charge, their sum beyond the range.
  REQUIRE(gw.refund("r1", first.reference, big).status ==
          gateway_status::approved);
  CHECK(gw.refunded_total() == big);
  CHECK(gw.refund("r1b", first.reference, 1).status ==
        gateway_status::declined);
  auto second = gw.lookup("big-2");
  REQUIRE(gw.refund("r2", second.reference, big).status ==
          gateway_status::approved);
  CHECK_FALSE(gw.refunded_total());
}

TEST_CASE("money: a ledger line with a negative amount is damage") {
  ledger_dir d;
  {
    std::ofstream out{d.legacy()};
    out << R"({"key":"k1","refund":false,"charge":"","status":"APPROVED",)"
        << R"("reference":"ch_1","reason":"","amount":-100})" << '\n';
  }
  CHECK_THROWS_AS(simulated_gateway({}, d.path(), d.legacy()),
                  simulated_gateway::ledger_error);
}
