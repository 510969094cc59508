// The JOURNAL actor: group commit, acknowledgement after durability, and
// failure that stores nothing.
#include "tests/backends.hpp"
#include "tests/fixture.hpp"

#include "actors/journal.hpp"

using namespace oms;
using namespace oms::test;

namespace {

std::vector<event> events_for(const std::string& sku, int n) {
  std::vector<event> result;
  for (int i = 0; i < n; ++i) {
    event ev;
    ev.kind = event_kind::stock_received;
    ev.sku = sku;
    ev.quantity = i + 1;
    result.push_back(ev);
  }
  return result;
}

// Readers the JOURNAL holds waiting (atom::await).
size_t journal_watchers(const journal_actor& journal) {
  using impl = caf::stateful_actor<journal_state, journal_actor::base>;
  auto* ptr =
      dynamic_cast<impl*>(caf::actor_cast<caf::abstract_actor*>(journal));
  REQUIRE(ptr != nullptr);
  return ptr->state.watchers.size();
}

} // namespace

TEST_CASE_FIXTURE(fixture,
                  "appends waiting together are committed as one batch") {
  // Three appends queued before the journal runs share one commit, and each
  // is answered with the sequence number of its own last event.
  auto h1 =
      self->request(journal, caf::infinite, atom::append_v, events_for("A", 2));
  auto h2 =
      self->request(journal, caf::infinite, atom::append_v, events_for("B", 3));
  auto h3 =
      self->request(journal, caf::infinite, atom::append_v, events_for("C", 1));
  sched.run();
  std::vector<uint64_t> seqs;
  for (auto* h : {&h1, &h2, &h3})
    h->receive([&](uint64_t seq) { seqs.push_back(seq); },
               [&](caf::error& err) { FAIL(describe(err)); });
  CHECK(seqs == std::vector<uint64_t>{2, 5, 6});
  auto stats = call<journal_stats>(journal, atom::stats_v);
  REQUIRE(stats);
  CHECK(stats->batches == 1);
  CHECK(stats->max_batch == 6);
  CHECK(stats->events == 6);
  CHECK(stats->appends == 3);
  CHECK(store->last_seq() == 6);
}

TEST_CASE_FIXTURE(fixture, "a batch never splits an append and stays bounded") {
  // With at most 4 events per batch, appends of 3, 3 and 5 events make three
  // commits: 3, 3 and 5 (an append is never split, even when larger).
  self->send_exit(journal, caf::exit_reason::user_shutdown);
  auto small = spawn_journal(sys, store, 4);
  auto h1 =
      self->request(small, caf::infinite, atom::append_v, events_for("A", 3));
  auto h2 =
      self->request(small, caf::infinite, atom::append_v, events_for("B", 3));
  auto h3 =
      self->request(small, caf::infinite, atom::append_v, events_for("C", 5));
  sched.run();
  for (auto* h : {&h1, &h2, &h3})
    h->receive([](uint64_t) {}, [&](caf::error& err) { FAIL(describe(err)); });
  auto stats = call<journal_stats>(small, atom::stats_v);
  REQUIRE(stats);
  CHECK(stats->batches == 3);
  CHECK(stats->max_batch == 5);
  CHECK(store->last_seq() == 11);
  self->send_exit(small, caf::exit_reason::user_shutdown);
}

TEST_CASE_FIXTURE(fixture,
                  "events are read back in the order they were appended") {
  REQUIRE(call<uint64_t>(journal, atom::append_v, events_for("A", 2)));
  REQUIRE(call<uint64_t>(journal, atom::append_v, events_for("B", 1)));
  auto all = call<std::vector<event>>(journal, atom::read_v, uint64_t{1},
                                      uint64_t{100});
  REQUIRE(all);
  REQUIRE(all->size() == 3);
  CHECK((*all)[0].sku == "A");
  CHECK((*all)[1].quantity == 2);
  CHECK((*all)[2].sku == "B");
  auto tail = call<std::vector<event>>(journal, atom::read_v, uint64_t{3},
                                       uint64_t{100});
  REQUIRE(tail);
  REQUIRE(tail->size() == 1);
  CHECK(tail->front().sku == "B");
}

TEST_CASE_FIXTURE(fixture, "a failed commit is reported and stores nothing") {
  store->fail_commits(true);
  auto res = call<uint64_t>(journal, atom::append_v, events_for("A", 2));
  REQUIRE_FALSE(res);
  CHECK(code_of(res.error()) == errc::store_failure);
  CHECK(store->last_seq() == 0);
  auto stats = call<journal_stats>(journal, atom::stats_v);
  REQUIRE(stats);
  CHECK(stats->failures == 1);
  CHECK(stats->events == 0);
  // The journal recovers once the store does.
  store->fail_commits(false);
  auto ok = call<uint64_t>(journal, atom::append_v, events_for("A", 1));
  REQUIRE(ok);
  CHECK(*ok == 1);
}

TEST_CASE_FIXTURE(fixture,
                  "an empty append answers once earlier appends are durable") {
  auto h1 =
      self->request(journal, caf::infinite, atom::append_v, events_for("A", 2));
  auto h2 = self->request(journal, caf::infinite, atom::append_v,
                          std::vector<event>{});
  sched.run();
  h1.receive([](uint64_t) {}, [&](caf::error& err) { FAIL(describe(err)); });
  h2.receive([](uint64_t seq) { CHECK(seq == 2); },
             [&](caf::error& err) { FAIL(describe(err)); });
  auto stats = call<journal_stats>(journal, atom::stats_v);
  REQUIRE(stats);
  CHECK(stats->batches == 1);
}

TEST_CASE_FIXTURE(fixture,
                  "an empty append after a failed batch reports the failure") {
  // The barrier promises that everything before it is durable; after a
  // failed commit in the same flush it must not say so.
  store->fail_commits(true);
  auto h1 =
      self->request(journal, caf::infinite, atom::append_v, events_for("A", 2));
  auto h2 = self->request(journal, caf::infinite, atom::append_v,
                          std::vector<event>{});
  sched.run();
  h1.receive(
      [](uint64_t) { FAIL("the failed append was acknowledged"); },
      [](caf::error& err) { CHECK(code_of(err) == errc::store_failure); });
  h2.receive(
      [](uint64_t) { FAIL("the barrier was acknowledged"); },
      [](caf::error& err) { CHECK(code_of(err) == errc::store_failure); });
  store->fail_commits(false);
}

TEST_CASE_FIXTURE(fixture, "a journal whose commit failed reports failing, "
                           "with the error and since when, until a commit "
                           "succeeds") {
  // Proves what /readyz and oms_journal_failing read: failing from the first
  // failed commit of a run, cleared by the next commit that succeeds (not by
  // an empty append, which commits nothing).
  auto fresh = call<journal_stats>(journal, atom::stats_v);
  REQUIRE(fresh);
  CHECK_FALSE(fresh->failing);
  CHECK(fresh->failing_since == 0);
  CHECK(fresh->last_error.empty());
  store->fail_commits(true);
  REQUIRE_FALSE(call<uint64_t>(journal, atom::append_v, events_for("A", 1)));
  auto failing = call<journal_stats>(journal, atom::stats_v);
  REQUIRE(failing);
  CHECK(failing->failing);
  CHECK(failing->failing_since > 0);
  CHECK(failing->last_error == "injected commit failure");
  // A second failure keeps the start of the run; a barrier changes nothing.
  REQUIRE_FALSE(call<uint64_t>(journal, atom::append_v, events_for("B", 1)));
  REQUIRE(call<uint64_t>(journal, atom::append_v, std::vector<event>{}));
  auto still = call<journal_stats>(journal, atom::stats_v);
  REQUIRE(still);
  CHECK(still->failing);
  CHECK(still->failing_since == failing->failing_since);
  CHECK(still->failures == 2);
  store->fail_commits(false);
  REQUIRE(call<uint64_t>(journal, atom::append_v, events_for("C", 1)));
  auto recovered = call<journal_stats>(journal, atom::stats_v);
  REQUIRE(recovered);
  CHECK_FALSE(recovered->failing);
  CHECK(recovered->failing_since == 0);
  CHECK(recovered->last_error.empty());
  CHECK(recovered->failures == 2);
  CHECK(recovered->last_seq == 1);
}

TEST_CASE("the journal applies what its store left unapplied: at once past "
          "a threshold, else as soon as no append waits") {
  temp_dir dir;
  auto opened = sqlite_store::open((dir.path / "oms.db").string());
  REQUIRE_MESSAGE(opened, why(opened));
  std::shared_ptr<sqlite_store> sql = std::move(*opened);
  fixture f{sql, fixture::wall_clock_now()};
  // A few events: applied once the journal has nothing else to do.
  REQUIRE(f.call<uint64_t>(f.journal, atom::append_v, events_for("A", 3)));
  CHECK(sql->unapplied() == 0);
  CHECK(sql->applied_seq() == 3);
  auto stats = f.call<journal_stats>(f.journal, atom::stats_v);
  REQUIRE(stats);
  CHECK(stats->applies == 1);
  CHECK(stats->unapplied == 0);
  // Past the threshold: applied right after the commit even while appends
  // keep coming (each queued before the journal runs).
  auto big = f.self->request(f.journal, caf::infinite, atom::append_v,
                             events_for("B", 300));
  f.sched.run_once(); // the append
  auto next = f.self->request(f.journal, caf::infinite, atom::append_v,
                              events_for("C", 1));
  f.sched.run_once(); // the flush: commits 300 events, applies them
  CHECK(sql->applied_seq() == 303);
  f.sched.run();
  big.receive([](uint64_t seq) { CHECK(seq == 303); },
              [](caf::error& err) { FAIL(describe(err)); });
  next.receive([](uint64_t seq) { CHECK(seq == 304); },
               [](caf::error& err) { FAIL(describe(err)); });
  CHECK(sql->unapplied() == 0);
}

namespace {

// A memory store that refuses, before any commit, the appends with an
// event of SKU "STALE" (as a cluster node's refuses a stale writer's).
struct admitting_store : memory_store {
  caf::error admit(const std::vector<event>& events) const override {
    for (auto& ev : events)
      if (ev.sku == "STALE")
        return make_error(errc::not_owner, "a stale writer");
    return caf::none;
  }
};

} // namespace

TEST_CASE("an append its store does not admit is refused alone: the appends "
          "waiting with it are committed in their batch") {
  auto store = std::make_shared<admitting_store>();
  fixture f{store, fixture::wall_clock_now()};
  auto h1 = f.self->request(f.journal, caf::infinite, atom::append_v,
                            events_for("A", 2));
  auto h2 = f.self->request(f.journal, caf::infinite, atom::append_v,
                            events_for("STALE", 1));
  auto h3 = f.self->request(f.journal, caf::infinite, atom::append_v,
                            events_for("B", 1));
  f.sched.run();
  h1.receive([](uint64_t seq) { CHECK(seq == 2); },
             [](caf::error& err) { FAIL(describe(err)); });
  h2.receive([](uint64_t) { FAIL("a stale append was committed"); },
             [](caf::error& err) { CHECK(code_of(err) == errc::not_owner); });
  h3.receive([](uint64_t seq) { CHECK(seq == 3); },
             [](caf::error& err) { FAIL(describe(err)); });
  auto stats = f.call<journal_stats>(f.journal, atom::stats_v);
  REQUIRE(stats);
  CHECK(stats->batches == 1);
  CHECK(stats->failures == 0);
  CHECK(store->last_seq() == 3);
}

TEST_CASE_FIXTURE(
    fixture, "a reader awaiting events is answered when they are durable") {
  using namespace std::chrono_literals;
  REQUIRE(call<uint64_t>(journal, atom::append_v, events_for("A", 2)));
  // Events the reader has not seen are there already: answered at once.
  auto now =
      call<uint64_t>(journal, atom::await_v, uint64_t{2}, caf::timespan{30s});
  REQUIRE(now);
  CHECK(*now == 2);
  // Waiting for the third event: nothing yet.
  uint64_t got = 0;
  auto h = self->request(journal, caf::infinite, atom::await_v, uint64_t{3},
                         caf::timespan{30s});
  sched.run();
  CHECK(journal_watchers(journal) == 1);
  REQUIRE(call<uint64_t>(journal, atom::append_v, events_for("B", 1)));
  // Answered by now (a receive of a reply that never comes would block).
  REQUIRE(self->mailbox().size() == 1);
  h.receive([&](uint64_t last) { got = last; },
            [&](caf::error& err) { FAIL(describe(err)); });
  CHECK(got == 3);
  CHECK(journal_watchers(journal) == 0);
}

TEST_CASE_FIXTURE(fixture,
                  "an await ends after its wait, or when omsd stops waiting") {
  using namespace std::chrono_literals;
  auto h1 = self->request(journal, caf::infinite, atom::await_v, uint64_t{1},
                          caf::timespan{10s});
  auto h2 = self->request(journal, caf::infinite, atom::await_v, uint64_t{1},
                          caf::timespan{60s});
  sched.run();
  CHECK(journal_watchers(journal) == 2);
  advance(10s); // the first wait is over: answered with nothing new
  REQUIRE(self->mailbox().size() == 1);
  uint64_t got1 = 99;
  h1.receive([&](uint64_t last) { got1 = last; },
             [&](caf::error& err) { FAIL(describe(err)); });
  CHECK(got1 == 0);
  CHECK(journal_watchers(journal) == 1);
  // A failed commit wakes nobody: nothing became durable.
  store->fail_commits(true);
  CHECK_FALSE(call<uint64_t>(journal, atom::append_v, events_for("A", 1)));
  CHECK(journal_watchers(journal) == 1);
  store->fail_commits(false);
  // Stopping: every reader is answered at once.
  self->send(journal, atom::await_v);
  sched.run();
  REQUIRE(self->mailbox().size() == 1);
  uint64_t got2 = 99;
  h2.receive([&](uint64_t last) { got2 = last; },
             [&](caf::error& err) { FAIL(describe(err)); });
  CHECK(got2 == 0);
  CHECK(journal_watchers(journal) == 0);
}

TEST_CASE_FIXTURE(fixture, "awaits past the limit are refused at once") {
  using namespace std::chrono_literals;
  for (size_t i = 0; i < journal_watchers_max; ++i)
    self->send(journal, atom::await_v, uint64_t{1}, caf::timespan{60s});
  sched.run();
  CHECK(journal_watchers(journal) == journal_watchers_max);
  auto extra =
      call<uint64_t>(journal, atom::await_v, uint64_t{1}, caf::timespan{60s});
  REQUIRE_FALSE(extra);
  CHECK(code_of(extra.error()) == errc::unavailable);
  CHECK(journal_watchers(journal) == journal_watchers_max);
}

TEST_CASE_FIXTURE(fixture, "an await past the log's end, or after omsd "
                           "stopped waiting, is answered at once") {
  using namespace std::chrono_literals;
  REQUIRE(call<uint64_t>(journal, atom::append_v, events_for("A", 2)));
  // A reader past the end (a cursor of another store) does not wait.
  auto past =
      call<uint64_t>(journal, atom::await_v, uint64_t{9}, caf::timespan{60s});
  REQUIRE(past);
  CHECK(*past == 2);
  CHECK(journal_watchers(journal) == 0);
  // Once released, a reader that comes late does not wait either.
  self->send(journal, atom::await_v);
  sched.run();
  auto late =
      call<uint64_t>(journal, atom::await_v, uint64_t{3}, caf::timespan{60s});
  REQUIRE(late);
  CHECK(*late == 2);
  CHECK(journal_watchers(journal) == 0);
}

TEST_CASE_FIXTURE(fixture, "the journal counts the units open orders hold, "
                           "reserved and blocked, as their records change") {
  receive("A", 20, 100);
  receive("B", 10, 100);
  auto held = [&] {
    auto stats = call<journal_stats>(journal, atom::stats_v);
    REQUIRE(stats);
    return std::pair<int64_t, int64_t>{stats->units_reserved,
                                       stats->units_blocked};
  };
  using units = std::pair<int64_t, int64_t>;
  auto o1 =
      create("c1", {{"A", 3, seller::internal}, {"B", 2, seller::internal}});
  auto o2 = create("c2", {{"A", 4, seller::internal}});
  CHECK(held() == units{9, 0});
  must_apply(o1.record.id, command_kind::confirm);
  CHECK(held() == units{4, 5});
  // A partial cancel keeps the status and holds fewer units.
  REQUIRE(cancel_lines(o1.record.id, {{"A", 1, seller::internal}}));
  CHECK(held() == units{4, 4});
  must_pay(o1.record.id, 400);
  CHECK(held() == units{4, 4});
  must_apply(o1.record.id, command_kind::ship);
  CHECK(held() == units{4, 0});
  must_apply(o2.record.id, command_kind::cancel);
  CHECK(held() == units{0, 0});
}
