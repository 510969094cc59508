// Optimistic concurrency on orders: every change adds one to the order's
// version; a command that names the version it saw (If-Match) is refused
// with PRECONDITION_FAILED, changing nothing, when the order is at another,
// whether its actor is live, resting or gone. On virtual time.
#include "tests/fixture.hpp"

#include "system/daemon/request_fields.hpp"

using namespace oms;
using namespace oms::test;
using namespace std::chrono_literals;

namespace {

constexpr timestamp_ms t0 = 1'800'000'000'000;

settings resting_after_a_minute() {
  auto s = default_test_settings();
  s.order_idle_timeout = 1min;
  return s;
}

struct version_fixture : fixture {
  version_fixture()
      : fixture(std::make_shared<memory_store>(), t0,
                resting_after_a_minute()) {}

  caf::expected<order_record> apply_at(const order_id& id, command_kind kind,
                                       uint64_t if_version, money amount = 0) {
    order_command cmd;
    cmd.kind = kind;
    cmd.amount = amount;
    cmd.token = "tok_visa";
    cmd.if_version = if_version;
    return call<order_record>(sup, atom::apply_v, id, cmd);
  }

  uint64_t version_in_details(const caf::error& err) {
    auto details = nlohmann::json::parse(details_of(err));
    return details.at("version").get<uint64_t>();
  }
};

} // namespace

TEST_CASE_FIXTURE(version_fixture,
                  "each change adds one to the version, and events carry it") {
  receive("V-1", 10, 100);
  auto rec = create("c1", {{"V-1", 2}}).record;
  CHECK(rec.version == 1);
  CHECK(must_apply(rec.id, command_kind::confirm).version == 2);
  CHECK(must_pay(rec.id, 200).version >= 3);
  auto paid = *get_order(rec.id);
  // The journal holds one order event per version, each with its number.
  std::vector<uint64_t> versions;
  for (auto& ev : store_events(1, 100))
    if (is_order_event(ev.kind))
      versions.push_back(ev.snapshot.version);
  REQUIRE(versions.size() == paid.version);
  for (size_t i = 0; i < versions.size(); ++i)
    CHECK(versions[i] == i + 1);
}

TEST_CASE_FIXTURE(
    version_fixture,
    "a command at a stale version is refused and changes nothing") {
  receive("V-1", 10, 100);
  auto rec = create("c1", {{"V-1", 2}}).record;
  must_apply(rec.id, command_kind::confirm); // now version 2
  auto events_before = store->last_seq();
  auto stale = apply_at(rec.id, command_kind::cancel, 1);
  REQUIRE_FALSE(stale);
  CHECK(code_of(stale.error()) == errc::precondition_failed);
  CHECK(version_in_details(stale.error()) == 2);
  CHECK(store->last_seq() == events_before);
  CHECK(get_order(rec.id)->status == order_status::confirmed);
  CHECK(stock("V-1").blocked == 2);
  // At the version it is at, the same command goes through.
  auto ok = apply_at(rec.id, command_kind::cancel, 2);
  REQUIRE_MESSAGE(ok, why(ok));
  CHECK(ok->status == order_status::cancelled);
  CHECK(ok->version == 3);
  CHECK(stock("V-1").available == 10);
}

TEST_CASE_FIXTURE(version_fixture,
                  "a resting order and an ended one check the version too") {
  receive("V-1", 10, 100);
  auto a = create("c1", {{"V-1", 1}}).record;
  must_apply(a.id, command_kind::confirm); // version 2
  advance(1min);
  advance(1min); // idle past the timeout: it rests
  auto woken = apply_at(a.id, command_kind::ship, 1);
  REQUIRE_FALSE(woken);
  CHECK(code_of(woken.error()) == errc::precondition_failed);
  CHECK(get_order(a.id)->status == order_status::confirmed);
  // An ended order is answered from its record: a stale version is named
  // before the transition it could not make anyway.
  auto cancelled = apply_at(a.id, command_kind::cancel, 2);
  REQUIRE_MESSAGE(cancelled, why(cancelled));
  auto late = apply_at(a.id, command_kind::confirm, 2);
  REQUIRE_FALSE(late);
  CHECK(code_of(late.error()) == errc::precondition_failed);
  CHECK(version_in_details(late.error()) == 3);
  auto current = apply_at(a.id, command_kind::confirm, 3);
  REQUIRE_FALSE(current);
  CHECK(code_of(current.error()) == errc::invalid_transition);
}

TEST_CASE_FIXTURE(version_fixture,
                  "a paid-with-key repeat answers its first result whatever "
                  "the version is now") {
  receive("V-1", 10, 100);
  auto rec = create("c1", {{"V-1", 1}}).record;
  auto alice = customer("c1");
  auto first = call<order_record>(alice, atom::pay_v, rec.id, money{100},
                                  std::string{"tok_visa"}, std::string{"pay-1"},
                                  uint64_t{1});
  REQUIRE_MESSAGE(first, why(first));
  CHECK(first->status == order_status::paid);
  // The same request again (the answer was lost): the same answer, though
  // the order is no longer at version 1.
  auto again = call<order_record>(alice, atom::pay_v, rec.id, money{100},
                                  std::string{"tok_visa"}, std::string{"pay-1"},
                                  uint64_t{1});
  REQUIRE_MESSAGE(again, why(again));
  CHECK(again->version == first->version);
  CHECK(gateway->charges() == 1);
  // A new key at a stale version is refused before any charge.
  auto other = create("c1", {{"V-1", 1}}).record;
  must_apply(other.id, command_kind::confirm);
  auto stale = call<order_record>(alice, atom::pay_v, other.id, money{100},
                                  std::string{"tok_visa"}, std::string{"pay-2"},
                                  uint64_t{1});
  REQUIRE_FALSE(stale);
  CHECK(code_of(stale.error()) == errc::precondition_failed);
  CHECK(gateway->charges() == 1);
}

TEST_CASE("If-Match: one strong tag or *, and the ETag it comes from") {
  using daemon::etag_of;
  using daemon::read_if_match;
  CHECK(etag_of(3) == "\"3\"");
  CHECK(etag_of(0).empty());
  CHECK(read_if_match("") == 0);
  CHECK(read_if_match("*") == 0);
  CHECK(read_if_match(" \"3\" ") == 3);
  CHECK(read_if_match(etag_of(18446744073709551614ull)) ==
        18446744073709551614ull);
  // A weak tag never matches a strong comparison.
  CHECK(read_if_match("W/\"3\"") == UINT64_MAX);
  auto refused = [](const char* text) {
    try {
      read_if_match(text);
    } catch (const daemon::bad_input& bad) {
      return bad.code == errc::validation_failed &&
             bad.details.value("field", "") == "If-Match";
    }
    return false;
  };
  CHECK(refused("3"));
  CHECK(refused("\"3\", \"4\""));
  CHECK(refused("\"\""));
  CHECK(refused("\"0\""));
  CHECK(refused("\"-1\""));
  CHECK(refused("\"18446744073709551616\""));
  CHECK(refused("\"3"));
  CHECK(refused("\"abc\""));
}
