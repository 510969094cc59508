// The INBOX: inbound stock changes are applied exactly once per event id,
// however often, in whatever order and across however many restarts they are
// delivered; on every backend.
#include "tests/fixture.hpp"

#include <algorithm>
#include <map>
#include <random>

#include "tests/backends.hpp"

using namespace oms;
using namespace oms::test;

namespace {

constexpr timestamp_ms inbox_t0 = 1'800'000'000'000;

} // namespace

TEST_CASE("each inbound event raises stock exactly once: 1-5 deliveries, out "
          "of order, across a restart") {
  temp_dir dir;
  for (auto& b : backends(dir)) {
    SUBCASE(b.name.c_str()) {
      // 40 events on 4 SKUs, each delivered 1 to 5 times, shuffled.
      std::mt19937 rng{42};
      std::vector<stock_change> events;
      std::map<sku_id, int64_t> expected;
      for (int i = 0; i < 40; ++i) {
        auto sku = "S" + std::to_string(i % 4);
        auto qty = int64_t{1 + i % 7};
        events.push_back(inbox_receipt("EV-" + std::to_string(i), sku, qty));
        expected[sku] += qty;
      }
      std::vector<stock_change> deliveries;
      for (auto& ev : events) {
        auto n = std::uniform_int_distribution<int>{1, 5}(rng);
        for (int k = 0; k < n; ++k)
          deliveries.push_back(ev);
      }
      std::shuffle(deliveries.begin(), deliveries.end(), rng);
      auto half = deliveries.size() / 2;
      size_t applied = 0;
      size_t duplicates = 0;
      auto deliver = [&](fixture& f, size_t from, size_t to) {
        for (auto i = from; i < to; ++i) {
          auto res = f.call<inbox_result>(f.sup, atom::apply_v, deliveries[i]);
          REQUIRE_MESSAGE(res, why(res));
          if (res->outcome == inbox_outcome::applied)
            ++applied;
          else if (res->outcome == inbox_outcome::duplicate)
            ++duplicates;
          else
            FAIL("unexpected outcome " << to_string(res->outcome));
        }
      };
      {
        fixture f{b.open(), inbox_t0};
        deliver(f, 0, half);
      }
      {
        // After the restart the ids of the first half are remembered.
        fixture f{b.open(), inbox_t0 + 1000};
        deliver(f, half, deliveries.size());
        // And everything once more, as a replayed feed would.
        deliver(f, 0, deliveries.size());
        for (auto& [sku, qty] : expected) {
          const auto& case_sku = sku; // CAPTURE cannot name a binding
          CAPTURE(case_sku);
          auto v = f.stock(sku);
          CHECK(v.on_hand == qty);
          CHECK(v.received_total == qty);
        }
        CHECK(f.audit().violations.empty());
      }
      CHECK(applied == events.size());
      CHECK(duplicates == 2 * deliveries.size() - events.size());
    }
  }
}

TEST_CASE("deliveries of one event while it is being applied are duplicates") {
  fixture f{std::make_shared<memory_store>(), inbox_t0};
  f.receive("A", 1, 100);
  auto c = inbox_receipt("EV-1", "A", 5);
  std::vector<inbox_outcome> outcomes;
  // Three deliveries in the mailbox before any is handled.
  auto h1 = f.self->request(f.sup, caf::infinite, atom::apply_v, c);
  auto h2 = f.self->request(f.sup, caf::infinite, atom::apply_v, c);
  auto h3 = f.self->request(f.sup, caf::infinite, atom::apply_v, c);
  f.sched.run();
  for (auto* h : {&h1, &h2, &h3})
    h->receive([&](inbox_result& r) { outcomes.push_back(r.outcome); },
               [&](caf::error& err) { FAIL(describe(err)); });
  std::sort(outcomes.begin(), outcomes.end());
  CHECK(outcomes == std::vector<inbox_outcome>{inbox_outcome::applied,
                                               inbox_outcome::duplicate,
                                               inbox_outcome::duplicate});
  CHECK(f.stock("A").on_hand == 6);
}

TEST_CASE("a rejected event is recorded and not evaluated again") {
  temp_dir dir;
  for (auto& b : backends(dir)) {
    SUBCASE(b.name.c_str()) {
      {
        fixture f{b.open(), inbox_t0};
        f.receive("A", 2, 100);
        stock_change c;
        c.kind = stock_change_kind::adjustment;
        c.sku = "A";
        c.quantity = -3; // more than there is
        c.event_id = "ADJ-1";
        auto res = f.call<inbox_result>(f.sup, atom::apply_v, c);
        REQUIRE_MESSAGE(res, why(res));
        CHECK(res->outcome == inbox_outcome::rejected);
        CHECK(res->error_code == errc::insufficient_stock);
        CHECK(f.stock("A").on_hand == 2);
        f.receive("A", 5);
      }
      fixture f{b.open(), inbox_t0 + 1000};
      // Now there would be enough, but the event was already processed.
      stock_change c;
      c.kind = stock_change_kind::adjustment;
      c.sku = "A";
      c.quantity = -3;
      c.event_id = "ADJ-1";
      auto res = f.call<inbox_result>(f.sup, atom::apply_v, c);
      REQUIRE_MESSAGE(res, why(res));
      CHECK(res->outcome == inbox_outcome::duplicate);
      CHECK(f.stock("A").on_hand == 7);
    }
  }
}

TEST_CASE("bad event ids are refused and change nothing") {
  fixture f{std::make_shared<memory_store>(), inbox_t0};
  f.receive("A", 2, 100);
  for (std::string id : {std::string(129, 'x'), std::string{"has space"},
                         std::string{"semi;colon"}}) {
    CAPTURE(id);
    auto c = inbox_receipt(id, "A", 1);
    CHECK(code(f.call<inbox_result>(f.sup, atom::apply_v, c)) ==
          "VALIDATION_FAILED");
  }
  CHECK(f.stock("A").on_hand == 2);
}

TEST_CASE("event ids are remembered for the retention, then forgotten in the "
          "journal and in memory") {
  using namespace std::chrono_literals;
  temp_dir dir;
  for (auto& b : backends(dir)) {
    SUBCASE(b.name.c_str()) {
      auto s = default_test_settings();
      s.inbox_retention = 2h;
      s.inbox_purge_interval = 1h;
      auto store = b.open();
      auto deliver = [](fixture& f, const stock_change& c) {
        auto res = f.call<inbox_result>(f.sup, atom::apply_v, c);
        REQUIRE_MESSAGE(res, why(res));
        return res->outcome;
      };
      auto ids_in = [](journal_store& st) {
        auto loaded = st.load();
        REQUIRE_MESSAGE(loaded, why(loaded));
        std::vector<std::string> ids;
        for (auto& [id, at] : loaded->inbox_ids)
          ids.push_back(id);
        return ids;
      };
      auto old_event = inbox_receipt("EV-OLD", "A", 3);
      auto new_event = inbox_receipt("EV-NEW", "A", 4);
      {
        fixture f{store, inbox_t0, s};
        CHECK(deliver(f, old_event) == inbox_outcome::applied);
        f.advance(90min);
        CHECK(deliver(f, new_event) == inbox_outcome::applied);
        // Within the retention a redelivery is a duplicate.
        CHECK(deliver(f, old_event) == inbox_outcome::duplicate);
        CHECK(ids_in(*store) == std::vector<std::string>{"EV-NEW", "EV-OLD"});
        // The purge at inbox_t0 + 3h forgets what came before inbox_t0 + 1h.
        f.advance(90min);
        CHECK(ids_in(*store) == std::vector<std::string>{"EV-NEW"});
        CHECK(deliver(f, new_event) == inbox_outcome::duplicate);
        CHECK(f.stock("A").on_hand == 7);
      }
      {
        // A restart loads only what is kept; an id older than the
        // retention counts as new (the documented price of forgetting).
        fixture f{store, inbox_t0 + 3 * 3'600'000 + 1000, s};
        CHECK(deliver(f, new_event) == inbox_outcome::duplicate);
        CHECK(deliver(f, old_event) == inbox_outcome::applied);
        CHECK(f.stock("A").on_hand == 10);
        CHECK(f.audit().violations.empty());
      }
    }
  }
}
