// The WMS GATEWAY on virtual time against a scripted fake WMS transport: the
// sliding rate window, priorities, joined reads, retries with Retry-After and
// jittered backoff, the circuit breaker, the bounded queue and the call
// deadline; plus the HTTP transport's pure mapping of calls and answers.
#include "tests/fixture.hpp"

#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>

#include <caf/event_based_actor.hpp>
#include <nlohmann/json.hpp>

#include "actors/wms_gateway.hpp"
#include "messages/strict_json.hpp"
#include "system/wms_http_transport.hpp"

using namespace oms;
using namespace oms::test;
using namespace std::chrono_literals;
using time_point = caf::actor_clock::time_point;
using ms = std::chrono::milliseconds;

namespace {

/// What the fake WMS answers to one call.
struct step {
  int32_t status = 200;
  std::string body = R"({"ok":true})";
  int64_t retry_after_ms = 0;
  /// Answer this much virtual time later (0: at once).
  ms delay{0};
  /// Never answer.
  bool hang = false;
};

/// The fake WMS's script and its record of every call it received.
struct wms_gateway_fake_wms {
  struct arrival {
    wms_call call;
    time_point at;
  };
  std::vector<arrival> arrivals;
  /// The answer to the n-th call (0-based).
  std::function<step(const wms_call&, size_t)> script = [](const wms_call&,
                                                           size_t) {
    return step{};
  };
  std::vector<caf::typed_response_promise<wms_response>> held;
  std::vector<wms_response> held_answers;
};

caf::behavior fake_transport(caf::event_based_actor* self,
                             std::shared_ptr<wms_gateway_fake_wms> w) {
  return {
      [=](atom::call, wms_call& call) -> caf::result<wms_response> {
        auto n = w->arrivals.size();
        w->arrivals.push_back({call, self->clock().now()});
        auto s = w->script(call, n);
        wms_response r{s.status, s.body, s.retry_after_ms};
        if (!s.hang && s.delay == ms{0})
          return r;
        auto rp = self->make_response_promise<wms_response>();
        w->held.push_back(rp);
        w->held_answers.push_back(r);
        if (!s.hang)
          self->delayed_send(self, s.delay, atom::flush_v,
                             uint64_t{w->held.size() - 1});
        return rp;
      },
      [=](atom::flush, uint64_t i) { w->held[i].deliver(w->held_answers[i]); },
  };
}

/// One caller's answer and when it came.
struct outcome {
  bool done = false;
  wms_response response;
  caf::error error;
  time_point at;
};

using outcomes = std::shared_ptr<std::vector<outcome>>;

// Sends each call as its own request, in order, and records the answers.
caf::behavior caller(caf::event_based_actor* self, wms_gateway_actor gw,
                     std::vector<wms_call> calls, outcomes out) {
  auto first = out->size();
  out->resize(first + calls.size());
  for (size_t i = 0; i < calls.size(); ++i) {
    auto k = first + i;
    self->request(gw, caf::infinite, atom::call_v, calls[i])
        .then(
            [=](wms_response& r) {
              auto& o = (*out)[k];
              o.done = true;
              o.response = std::move(r);
              o.at = self->clock().now();
            },
            [=](caf::error& err) {
              auto& o = (*out)[k];
              o.done = true;
              o.error = std::move(err);
              o.at = self->clock().now();
            });
  }
  return {};
}

wms_call reserve(const std::string& id, const std::string& sku = "SKU-1",
                 int64_t qty = 1) {
  wms_call c;
  c.op = wms_op::reserve;
  c.reservation = id;
  c.sku = sku;
  c.quantity = qty;
  return c;
}

wms_call read_inventory(const std::string& sku) {
  wms_call c;
  c.op = wms_op::read_inventory;
  c.sku = sku;
  return c;
}

wms_call on_reservation(wms_op op, const std::string& id) {
  wms_call c;
  c.op = op;
  c.reservation = id;
  return c;
}

wms_call read_events(const std::string& cursor, uint32_t limit) {
  wms_call c;
  c.op = wms_op::read_events;
  c.cursor = cursor;
  c.limit = limit;
  return c;
}

/// A config whose breaker stays out of the way unless a test wants it.
wms_gateway_config quiet_breaker() {
  wms_gateway_config cfg;
  cfg.breaker_failures = 1000;
  return cfg;
}

struct gateway_fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys;
  caf::scoped_actor self;
  caf::scheduler::test_coordinator& sched;
  time_point t0;
  std::shared_ptr<wms_gateway_fake_wms> wms =
      std::make_shared<wms_gateway_fake_wms>();
  outcomes out = std::make_shared<std::vector<outcome>>();
  caf::actor transport;
  wms_gateway_actor gw;
  std::vector<caf::actor> callers;

  gateway_fixture()
      : sys(fixture::init(cfg)),
        self(sys, true),
        sched(dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler())),
        t0(sched.clock().now()) {}

  ~gateway_fixture() {
    for (auto& c : callers)
      self->send_exit(c, caf::exit_reason::user_shutdown);
    if (gw)
      self->send_exit(gw, caf::exit_reason::user_shutdown);
    if (transport)
      self->send_exit(transport, caf::exit_reason::user_shutdown);
    sched.run();
    // Held promises point back at the fake: break the cycle.
    wms->held.clear();
  }

  void start(wms_gateway_config c) {
    transport = sys.spawn(fake_transport, wms);
    gw = spawn_wms_gateway(sys, c,
                           caf::actor_cast<wms_transport_actor>(transport));
    sched.run();
  }

  /// Sends the calls, one request each, in order; runs until idle. Returns
  /// the index of the first call's outcome.
  size_t send(std::vector<wms_call> calls) {
    auto first = out->size();
    callers.push_back(sys.spawn(caller, gw, std::move(calls), out));
    sched.run();
    return first;
  }

  size_t send(wms_call call) { return send(std::vector<wms_call>{call}); }

  /// Virtual time since the fixture started.
  ms since_start(time_point t) const {
    return std::chrono::duration_cast<ms>(t - t0);
  }
  ms elapsed() const { return since_start(sched.clock().now()); }

  /// Fires timers one by one, in time order, up to t0 + `at`, running every
  /// actor after each; then sets the clock to t0 + `at`.
  void advance_to(ms at) {
    auto target = t0 + at;
    auto& clk = sched.clock();
    while (clk.has_pending_timeout() &&
           clk.schedule().begin()->first <= target) {
      clk.trigger_timeout();
      sched.run();
    }
    if (clk.current_time < target)
      clk.current_time = target;
    sched.run();
  }

  /// Fires timers in time order until every outcome is in (at most `max`
  /// timers).
  void run_until_answered(size_t max = 100'000) {
    sched.run();
    auto& clk = sched.clock();
    auto all_done = [&] {
      return std::all_of(out->begin(), out->end(),
                         [](const outcome& o) { return o.done; });
    };
    for (size_t i = 0; i < max && !all_done(); ++i) {
      REQUIRE_MESSAGE(clk.has_pending_timeout(), "callers wait forever");
      clk.trigger_timeout();
      sched.run();
    }
    REQUIRE(all_done());
  }

  wms_gateway_stats stats() {
    auto h = self->request(gw, caf::infinite, atom::stats_v);
    sched.run();
    wms_gateway_stats result;
    h.receive([&](wms_gateway_stats& x) { result = x; },
              [&](caf::error& err) { FAIL(describe(err)); });
    return result;
  }

  std::string code_at(size_t i) const {
    auto& o = (*out)[i];
    REQUIRE(o.done);
    return o.error ? to_code(oms::code_of(o.error)) : "NONE";
  }
};

} // namespace

// -- the pure parts -----------------------------------------------------------

TEST_CASE("wms_gateway: the send window admits rate_per_second sends per "
          "sliding second") {
  // Eight sends at t; the ninth must wait until the first is 1 s old, and
  // sends spread over the second count as well.
  wms_send_window w{8};
  time_point t{std::chrono::hours(1)};
  for (int i = 0; i < 8; ++i) {
    CHECK(w.allows(t + ms{i * 100}));
    w.record(t + ms{i * 100});
  }
  CHECK_FALSE(w.allows(t + 700ms));
  CHECK_FALSE(w.allows(t + 999ms));
  CHECK(w.next_free(t + 700ms) == t + 1s);
  CHECK(w.allows(t + 1s));
  CHECK(w.in_last_second(t + 700ms) == 8);
  CHECK(w.in_last_second(t + 1s) == 7);
  w.record(t + 1s);
  // Now the second send (t + 100 ms) bounds the next one.
  CHECK_FALSE(w.allows(t + 1099ms));
  CHECK(w.next_free(t + 1050ms) == t + 1100ms);
  CHECK(w.allows(t + 1100ms));
}

TEST_CASE("wms_gateway: backoff doubles from backoff_base up to backoff_max "
          "with full jitter") {
  wms_gateway_config cfg;
  CHECK(wms_backoff_cap(cfg, 1) == 200ms);
  CHECK(wms_backoff_cap(cfg, 2) == 400ms);
  CHECK(wms_backoff_cap(cfg, 3) == 800ms);
  CHECK(wms_backoff_cap(cfg, 6) == 6400ms);
  CHECK(wms_backoff_cap(cfg, 7) == 10s);
  CHECK(wms_backoff_cap(cfg, 1000) == 10s); // no overflow
  std::mt19937_64 rng{42};
  std::set<int64_t> seen;
  int64_t lo = 1'000'000;
  int64_t hi = -1;
  for (int i = 0; i < 1000; ++i) {
    auto d = wms_backoff(cfg, 3, rng).count();
    seen.insert(d);
    lo = std::min(lo, d);
    hi = std::max(hi, d);
  }
  CHECK(lo >= 0);
  CHECK(hi <= 800);
  CHECK(lo < 100); // full jitter reaches down near 0
  CHECK(hi > 700); // and up near the cap
  CHECK(seen.size() > 300);
  // The same seed gives the same waits (reproducible tests).
  std::mt19937_64 a{7};
  std::mt19937_64 b{7};
  for (uint32_t n = 1; n < 10; ++n)
    CHECK(wms_backoff(cfg, n, a) == wms_backoff(cfg, n, b));
}

TEST_CASE("wms_gateway: writes before reserves before reads, only reads "
          "are joined") {
  CHECK(wms_priority(wms_op::release) == 0);
  CHECK(wms_priority(wms_op::block) == 0);
  CHECK(wms_priority(wms_op::ship) == 0);
  CHECK(wms_priority(wms_op::reserve) == 1);
  CHECK(wms_priority(wms_op::read_inventory) == 2);
  CHECK(wms_priority(wms_op::read_events) == 2);
  CHECK(wms_coalesce_key(read_inventory("A")) ==
        wms_coalesce_key(read_inventory("A")));
  CHECK(wms_coalesce_key(read_inventory("A")) !=
        wms_coalesce_key(read_inventory("B")));
  CHECK(wms_coalesce_key(read_events("c1", 10)) !=
        wms_coalesce_key(read_events("c1", 20)));
  CHECK(wms_coalesce_key(read_events("c1", 10)) !=
        wms_coalesce_key(read_events("c2", 10)));
  CHECK(wms_coalesce_key(reserve("r1")).empty());
  CHECK(wms_coalesce_key(on_reservation(wms_op::release, "r1")).empty());
}

// -- the actor ----------------------------------------------------------------

TEST_CASE_FIXTURE(gateway_fixture,
                  "wms_gateway: a burst of 1,000 calls is answered in full and "
                  "no sliding second holds more than rate_per_second sends") {
  // Every 1-second window of transport arrivals, starting at any arrival,
  // holds at most 8; the burst takes about 1000 / 8 s of virtual time (the
  // deadline is raised so that none of them gives up waiting).
  wms_gateway_config cfg;
  cfg.call_deadline = 300s;
  start(cfg);
  std::vector<wms_call> calls;
  for (int i = 0; i < 1000; ++i)
    calls.push_back(reserve("r" + std::to_string(i)));
  send(calls);
  run_until_answered();
  time_point last_answer = t0;
  for (auto& o : *out) {
    REQUIRE(o.done);
    REQUIRE_FALSE(o.error);
    CHECK(o.response.status == 200);
    last_answer = std::max(last_answer, o.at);
  }
  auto& arr = wms->arrivals;
  REQUIRE(arr.size() == 1000);
  size_t worst = 0;
  for (size_t i = 0, j = 0; i < arr.size(); ++i) {
    while (j < arr.size() && arr[j].at < arr[i].at + 1s)
      ++j;
    worst = std::max(worst, j - i);
  }
  CHECK(worst == 8); // the window is used fully, never more
  // Every call went once, in arrival order (one priority).
  for (size_t i = 0; i < arr.size(); ++i)
    CHECK(arr[i].call.reservation == "r" + std::to_string(i));
  auto total = since_start(last_answer);
  CHECK(total >= 124s);
  CHECK(total <= 125s);
  auto st = stats();
  CHECK(st.calls_accepted == 1000);
  CHECK(st.calls_sent == 1000);
  CHECK(st.completed == 1000);
  CHECK(st.answered_2xx == 1000);
  CHECK(st.retries == 0);
  CHECK(st.sent_in_window_max == 8);
  CHECK(st.queue_depth == 0);
  CHECK(st.queue_depth_max >= 990);
  CHECK(st.in_flight == 0);
}

TEST_CASE_FIXTURE(gateway_fixture,
                  "wms_gateway: a burst larger than the deadline allows: what "
                  "cannot be sent by call_deadline fails then, unsent") {
  // At 8 sends/s, 60 s carry 480 calls (sends at 0 s .. 59 s); the other
  // 520 are answered WMS_UNAVAILABLE at 60 s and never reach the WMS.
  start(wms_gateway_config{});
  std::vector<wms_call> calls;
  for (int i = 0; i < 1000; ++i)
    calls.push_back(reserve("r" + std::to_string(i)));
  send(calls);
  run_until_answered();
  size_t ok = 0;
  size_t late = 0;
  for (size_t k = 0; k < out->size(); ++k) {
    auto& o = (*out)[k];
    if (!o.error) {
      CHECK(k < 480);
      ++ok;
    } else {
      CHECK(code_at(k) == "WMS_UNAVAILABLE");
      CHECK(since_start(o.at) == 60s);
      ++late;
    }
  }
  CHECK(ok == 480);
  CHECK(late == 520);
  CHECK(wms->arrivals.size() == 480);
  CHECK(since_start(wms->arrivals.back().at) == 59s);
  auto st = stats();
  CHECK(st.failed_deadline == 520);
  CHECK(st.completed == 480);
  CHECK(st.queue_depth == 0);
}

TEST_CASE_FIXTURE(gateway_fixture,
                  "wms_gateway: a 429 with Retry-After 3 s is not retried "
                  "before 3 s of virtual time") {
  start(quiet_breaker());
  wms->script = [](const wms_call&, size_t n) {
    if (n == 0)
      return step{429, R"({"error":{"code":"RATE_LIMITED"}})", 3000};
    return step{};
  };
  send(reserve("r1"));
  REQUIRE(wms->arrivals.size() == 1);
  advance_to(2999ms);
  CHECK(wms->arrivals.size() == 1);
  CHECK_FALSE((*out)[0].done);
  advance_to(3000ms);
  REQUIRE(wms->arrivals.size() == 2);
  CHECK(since_start(wms->arrivals[1].at) == 3000ms);
  REQUIRE((*out)[0].done);
  CHECK(code_at(0) == "NONE");
  CHECK((*out)[0].response.status == 200);
  auto st = stats();
  CHECK(st.answered_429 == 1);
  CHECK(st.answered_2xx == 1);
  CHECK(st.retries == 1);
  CHECK(st.calls_sent == 2);
  CHECK(st.breaker == wms_breaker_state::closed);
}

TEST_CASE_FIXTURE(gateway_fixture,
                  "wms_gateway: 5xx then success is retried with the seeded "
                  "jittered backoff and the caller gets the 200") {
  auto cfg = quiet_breaker();
  cfg.jitter_seed = 99;
  start(cfg);
  wms->script = [](const wms_call&, size_t n) {
    return n < 2 ? step{503, R"({"error":{"code":"UNAVAILABLE"}})"} : step{};
  };
  send(reserve("r1"));
  run_until_answered();
  CHECK(code_at(0) == "NONE");
  CHECK((*out)[0].response.status == 200);
  REQUIRE(wms->arrivals.size() == 3);
  // The waits are the backoff draws of the same seed: up to 200 ms, then up
  // to 400 ms.
  std::mt19937_64 rng{99};
  auto first = wms_backoff(cfg, 1, rng);
  auto second = wms_backoff(cfg, 2, rng);
  CHECK(first + second > 0ms); // the check below means something
  CHECK(wms->arrivals[1].at - wms->arrivals[0].at == first);
  CHECK(wms->arrivals[2].at - wms->arrivals[1].at == second);
  auto st = stats();
  CHECK(st.answered_5xx == 2);
  CHECK(st.answered_2xx == 1);
  CHECK(st.retries == 2);
  CHECK(st.completed == 1);
  CHECK(st.breaker == wms_breaker_state::closed);
}

TEST_CASE_FIXTURE(gateway_fixture,
                  "wms_gateway: an always-5xx WMS answers WMS_UNAVAILABLE "
                  "with the last status after max_attempts") {
  start(quiet_breaker());
  wms->script = [](const wms_call&, size_t) {
    return step{502, R"({"error":{"code":"BAD_GATEWAY"}})"};
  };
  send(reserve("r1"));
  run_until_answered();
  CHECK(code_at(0) == "WMS_UNAVAILABLE");
  auto msg = message_of((*out)[0].error);
  CHECK(msg.find("8 attempts") != std::string::npos);
  CHECK(msg.find("502") != std::string::npos);
  auto details = nlohmann::json::parse(details_of((*out)[0].error));
  CHECK(details["attempts"] == 8);
  CHECK(wms->arrivals.size() == 8);
  auto st = stats();
  CHECK(st.answered_5xx == 8);
  CHECK(st.retries == 7);
  CHECK(st.failed_attempts == 1);
  CHECK(st.completed == 0);
}

TEST_CASE_FIXTURE(gateway_fixture,
                  "wms_gateway: consecutive failures open the breaker, calls "
                  "then fail at once, and one probe after breaker_open_for "
                  "closes it") {
  wms_gateway_config cfg; // breaker_failures 5, open for 15 s
  start(cfg);
  bool wms_up = false;
  wms->script = [&](const wms_call&, size_t) {
    if (wms_up)
      return step{200, R"({"ok":true})", 0, 500ms};
    return step{503, "{}"};
  };
  send(reserve("r1"));
  run_until_answered();
  // The fifth 503 opened the breaker: the call stops there.
  CHECK(wms->arrivals.size() == 5);
  CHECK(code_at(0) == "WMS_UNAVAILABLE");
  CHECK(message_of((*out)[0].error).find("circuit open") != std::string::npos);
  CHECK(message_of((*out)[0].error).find("503") != std::string::npos);
  auto opened_at = (*out)[0].at;
  auto st = stats();
  CHECK(st.breaker == wms_breaker_state::open);
  CHECK(st.breaker_opened == 1);
  // While open, a new call fails at once and reaches no transport.
  auto i = send(reserve("r2"));
  REQUIRE((*out)[i].done);
  CHECK((*out)[i].at == opened_at);
  CHECK(code_at(i) == "WMS_UNAVAILABLE");
  CHECK(message_of((*out)[i].error).find("circuit open") != std::string::npos);
  CHECK(wms->arrivals.size() == 5);
  // Still open 1 ms before its time.
  advance_to(since_start(opened_at) + 15s - 1ms);
  i = send(read_inventory("A"));
  CHECK(code_at(i) == "WMS_UNAVAILABLE");
  CHECK(wms->arrivals.size() == 5);
  // Then half-open: of three calls exactly one goes as the probe.
  advance_to(since_start(opened_at) + 15s);
  CHECK(stats().breaker == wms_breaker_state::half_open);
  wms_up = true;
  auto first = send({reserve("r3"), reserve("r4"), read_inventory("B")});
  CHECK(wms->arrivals.size() == 6);
  CHECK(wms->arrivals[5].call.reservation == "r3");
  CHECK(stats().breaker == wms_breaker_state::half_open);
  advance_to(since_start(opened_at) + 15s + 499ms);
  CHECK(wms->arrivals.size() == 6);
  // The probe's success closes the breaker; the others go.
  advance_to(since_start(opened_at) + 15s + 500ms);
  CHECK(wms->arrivals.size() == 8);
  run_until_answered();
  for (size_t k = first; k < first + 3; ++k) {
    CHECK(code_at(k) == "NONE");
    CHECK((*out)[k].response.status == 200);
  }
  st = stats();
  CHECK(st.breaker == wms_breaker_state::closed);
  CHECK(st.breaker_opened == 1);
  CHECK(st.rejected_breaker_open == 3); // r1 (in flight), r2, the read
  CHECK(st.answered_5xx == 5);
}

TEST_CASE_FIXTURE(gateway_fixture,
                  "wms_gateway: a failed probe reopens the breaker and fails "
                  "the calls waiting behind it") {
  auto cfg = wms_gateway_config{};
  cfg.breaker_failures = 1;
  cfg.max_in_flight = 1;
  start(cfg);
  wms->script = [](const wms_call&, size_t) {
    return step{500, "{}", 0, 1s};
  };
  // One in flight, two queued behind it: the 500 at 1 s fails all three.
  send({reserve("a"), reserve("b"), reserve("c")});
  CHECK(wms->arrivals.size() == 1);
  advance_to(1s);
  for (size_t k = 0; k < 3; ++k) {
    CHECK(code_at(k) == "WMS_UNAVAILABLE");
    CHECK((*out)[k].at == t0 + 1s);
  }
  CHECK(wms->arrivals.size() == 1);
  CHECK(stats().breaker_opened == 1);
  // The probe after 15 s fails too: open again, the waiting call fails.
  advance_to(16s);
  auto i = send({reserve("d"), reserve("e")});
  CHECK(wms->arrivals.size() == 2);
  advance_to(17s);
  CHECK(code_at(i) == "WMS_UNAVAILABLE");
  CHECK(code_at(i + 1) == "WMS_UNAVAILABLE");
  CHECK(message_of((*out)[i + 1].error).find("circuit open") !=
        std::string::npos);
  auto st = stats();
  CHECK(st.breaker == wms_breaker_state::open);
  CHECK(st.breaker_opened == 2);
  CHECK(st.rejected_breaker_open == 5);
  CHECK(wms->arrivals.size() == 2);
}

TEST_CASE_FIXTURE(gateway_fixture,
                  "wms_gateway: a full queue answers WMS_UNAVAILABLE at once "
                  "and the queued calls still complete") {
  auto cfg = quiet_breaker();
  cfg.queue_capacity = 5;
  start(cfg);
  wms->script = [](const wms_call&, size_t) {
    return step{201, R"({"status":"RESERVED"})", 0, 2s};
  };
  send({reserve("r1"), reserve("r2"), reserve("r3"), reserve("r4"),
        reserve("r5")});
  auto i = send(reserve("r6"));
  REQUIRE((*out)[i].done);
  CHECK((*out)[i].at == t0);
  CHECK(code_at(i) == "WMS_UNAVAILABLE");
  CHECK(message_of((*out)[i].error).find("queue full") != std::string::npos);
  auto st = stats();
  CHECK(st.rejected_queue_full == 1);
  CHECK(st.queue_depth == 1); // 4 in flight, 1 waiting
  CHECK(st.in_flight == 4);
  run_until_answered();
  for (size_t k = 0; k < 5; ++k) {
    CHECK(code_at(k) == "NONE");
    CHECK((*out)[k].response.status == 201);
  }
  // With room again, a new call is accepted.
  i = send(reserve("r7"));
  run_until_answered();
  CHECK(code_at(i) == "NONE");
  st = stats();
  CHECK(st.calls_accepted == 6);
  CHECK(st.completed == 6);
  CHECK(wms->arrivals.size() == 6);
}

TEST_CASE_FIXTURE(gateway_fixture,
                  "wms_gateway: with the window saturated, a release queued "
                  "after 20 reserves and reads goes first") {
  start(quiet_breaker());
  std::vector<wms_call> fill;
  for (int i = 0; i < 8; ++i)
    fill.push_back(read_inventory("FILL-" + std::to_string(i)));
  send(fill);
  REQUIRE(wms->arrivals.size() == 8);
  std::vector<wms_call> later;
  for (int i = 0; i < 10; ++i) {
    later.push_back(read_inventory("S" + std::to_string(i)));
    later.push_back(reserve("q" + std::to_string(i)));
  }
  later.push_back(on_reservation(wms_op::ship, "old-1"));
  later.push_back(on_reservation(wms_op::release, "old-2"));
  send(later);
  CHECK(wms->arrivals.size() == 8); // all wait for the window
  CHECK(stats().queue_depth == 22);
  run_until_answered();
  auto& arr = wms->arrivals;
  REQUIRE(arr.size() == 30);
  // At 1 s the writes that free or settle stock go first, in arrival order,
  // then the reserves in order, then the reads in order.
  CHECK(since_start(arr[8].at) == 1s);
  CHECK(arr[8].call.op == wms_op::ship);
  CHECK(arr[9].call.op == wms_op::release);
  for (int i = 0; i < 10; ++i) {
    CHECK(arr[10 + i].call.op == wms_op::reserve);
    CHECK(arr[10 + i].call.reservation == "q" + std::to_string(i));
    CHECK(arr[20 + i].call.op == wms_op::read_inventory);
    CHECK(arr[20 + i].call.sku == "S" + std::to_string(i));
  }
}

TEST_CASE_FIXTURE(gateway_fixture,
                  "wms_gateway: 50 identical reads make one transport call "
                  "and 50 answers") {
  start(quiet_breaker());
  wms->script = [](const wms_call& c, size_t n) {
    return step{200,
                R"({"sku":")" + c.sku + R"(","orderable":)" +
                    std::to_string(10 + n) + "}",
                0, 300ms};
  };
  std::vector<wms_call> reads(50, read_inventory("HOT"));
  send(reads);
  send(read_inventory("COLD"));
  run_until_answered();
  REQUIRE(wms->arrivals.size() == 2);
  for (size_t k = 0; k < 50; ++k) {
    CHECK(code_at(k) == "NONE");
    CHECK((*out)[k].response.body == R"({"sku":"HOT","orderable":10})");
  }
  CHECK((*out)[50].response.body == R"({"sku":"COLD","orderable":11})");
  // A read after the answer is a new call (nothing is cached); identical
  // writes are never joined.
  auto i = send(read_inventory("HOT"));
  send({reserve("same"), reserve("same")});
  send({read_events("c9", 100), read_events("c9", 100), read_events("", 100)});
  run_until_answered();
  CHECK((*out)[i].response.body == R"({"sku":"HOT","orderable":12})");
  CHECK(wms->arrivals.size() == 7);
  auto st = stats();
  CHECK(st.coalesced == 50); // 49 HOT reads and one event read
  CHECK(st.calls_accepted == 57);
  CHECK(st.completed == 57);
  CHECK(st.calls_sent == 7);
}

TEST_CASE_FIXTURE(gateway_fixture,
                  "wms_gateway: a hanging transport: the caller is answered "
                  "WMS_UNAVAILABLE at call_deadline") {
  // The attempt timeout is longer than the deadline, so only the gateway's
  // own timer can answer the caller.
  auto cfg = quiet_breaker();
  cfg.attempt_timeout = 120s;
  start(cfg);
  wms->script = [](const wms_call&, size_t) {
    step s;
    s.hang = true;
    return s;
  };
  send(on_reservation(wms_op::block, "r1"));
  advance_to(60s - 1ms);
  CHECK_FALSE((*out)[0].done);
  advance_to(60s);
  REQUIRE((*out)[0].done);
  CHECK(since_start((*out)[0].at) == 60s);
  CHECK(code_at(0) == "WMS_UNAVAILABLE");
  CHECK(message_of((*out)[0].error).find("deadline") != std::string::npos);
  CHECK(wms->arrivals.size() == 1);
  auto st = stats();
  CHECK(st.failed_deadline == 1);
  CHECK(st.in_flight == 1); // the send itself is still out
  // At the attempt timeout the slot is freed and counted as no answer.
  advance_to(120s);
  st = stats();
  CHECK(st.in_flight == 0);
  CHECK(st.transport_errors == 1);
}

TEST_CASE_FIXTURE(gateway_fixture,
                  "wms_gateway: a transport that never answers is retried "
                  "after attempt_timeout until the deadline") {
  auto cfg = quiet_breaker(); // attempt timeout 15 s, deadline 60 s
  start(cfg);
  wms->script = [](const wms_call&, size_t n) {
    step s;
    s.hang = n < 2;
    return s;
  };
  send(on_reservation(wms_op::ship, "r1"));
  run_until_answered();
  CHECK(code_at(0) == "NONE");
  REQUIRE(wms->arrivals.size() == 3);
  CHECK(since_start(wms->arrivals[1].at) >= 15s);
  CHECK(since_start(wms->arrivals[1].at) <= 15s + 200ms);
  CHECK(wms->arrivals[2].at - wms->arrivals[1].at >= 15s);
  CHECK(stats().transport_errors == 2);
}

TEST_CASE_FIXTURE(gateway_fixture,
                  "wms_gateway: 404 and 409 are returned as responses, not "
                  "retried, and do not open the breaker") {
  start(wms_gateway_config{}); // breaker_failures 5
  wms->script = [](const wms_call& c, size_t) {
    if (c.op == wms_op::read_inventory)
      return step{404, R"({"error":{"code":"UNKNOWN_SKU"}})"};
    return step{409, R"({"error":{"code":"INSUFFICIENT_STOCK"}})"};
  };
  std::vector<wms_call> calls;
  for (int i = 0; i < 6; ++i) {
    calls.push_back(read_inventory("NOPE-" + std::to_string(i)));
    calls.push_back(reserve("r" + std::to_string(i), "S", 1000));
  }
  send(calls);
  run_until_answered();
  for (size_t k = 0; k < calls.size(); ++k) {
    CHECK(code_at(k) == "NONE");
    CHECK((*out)[k].response.status == (k % 2 == 0 ? 404 : 409));
  }
  CHECK((*out)[1].response.body ==
        R"({"error":{"code":"INSUFFICIENT_STOCK"}})");
  CHECK(wms->arrivals.size() == 12);
  auto st = stats();
  CHECK(st.answered_4xx == 12);
  CHECK(st.retries == 0);
  CHECK(st.completed == 12);
  CHECK(st.breaker == wms_breaker_state::closed);
}

TEST_CASE_FIXTURE(gateway_fixture,
                  "wms_gateway: a call missing what its operation needs is "
                  "refused with VALIDATION_FAILED and never sent") {
  start(wms_gateway_config{});
  auto no_qty = reserve("r1", "S", 0);
  auto neg_qty = reserve("r2", "S", -3);
  auto no_id = reserve("", "S", 1);
  auto no_sku = reserve("r3", "", 1);
  send({no_qty, neg_qty, no_id, no_sku, read_inventory(""),
        on_reservation(wms_op::block, ""), on_reservation(wms_op::ship, ""),
        on_reservation(wms_op::release, ""), read_events("c", 0)});
  for (size_t k = 0; k < 9; ++k)
    CHECK(code_at(k) == "VALIDATION_FAILED");
  CHECK(message_of((*out)[0].error) == "reserve needs a positive quantity");
  CHECK(wms->arrivals.empty());
  auto st = stats();
  CHECK(st.rejected_invalid == 9);
  CHECK(st.calls_accepted == 0);
  CHECK(st.calls_sent == 0);
}

TEST_CASE_FIXTURE(gateway_fixture,
                  "wms_gateway: retries count in the window and a 429 waits "
                  "for the window as well as for Retry-After") {
  // Eight calls fill the first second; all get 429 with Retry-After 100 ms,
  // yet their retries cannot go before the window lets them at 1 s.
  start(quiet_breaker());
  wms->script = [](const wms_call&, size_t n) {
    return n < 8 ? step{429, "{}", 100} : step{};
  };
  std::vector<wms_call> calls;
  for (int i = 0; i < 8; ++i)
    calls.push_back(reserve("r" + std::to_string(i)));
  send(calls);
  run_until_answered();
  auto& arr = wms->arrivals;
  REQUIRE(arr.size() == 16);
  for (size_t k = 8; k < 16; ++k)
    CHECK(since_start(arr[k].at) == 1s);
  auto st = stats();
  CHECK(st.retries == 8);
  CHECK(st.sent_in_window_max == 8);
  CHECK(st.answered_429 == 8);
}

// -- the HTTP transport's mapping ---------------------------------------------

TEST_CASE("wms_gateway: calls map to the WMS's HTTP requests with encoded "
          "path segments") {
  auto r = wms_request_of(read_inventory("A B/7"));
  CHECK(r.method == "GET");
  CHECK(r.path == "/inventory/A%20B%2F7");
  CHECK(r.body.empty());
  r = wms_request_of(reserve("ord_1:2", "SKU-9", 3));
  CHECK(r.method == "POST");
  CHECK(r.path == "/reservations");
  auto body = nlohmann::json::parse(r.body);
  CHECK(body ==
        nlohmann::json{{"id", "ord_1:2"}, {"sku", "SKU-9"}, {"quantity", 3}});
  r = wms_request_of(on_reservation(wms_op::block, "ord_1:2"));
  CHECK(r.method == "POST");
  CHECK(r.path == "/reservations/ord_1%3A2/block");
  r = wms_request_of(on_reservation(wms_op::ship, "x?y"));
  CHECK(r.method == "POST");
  CHECK(r.path == "/reservations/x%3Fy/ship");
  r = wms_request_of(on_reservation(wms_op::release, "r1"));
  CHECK(r.method == "DELETE");
  CHECK(r.path == "/reservations/r1");
  CHECK(r.body.empty());
  r = wms_request_of(read_events("c&1=2", 50));
  CHECK(r.method == "GET");
  CHECK(r.path == "/events?after=c%261%3D2&limit=50");
  r = wms_request_of(read_events("", 10));
  CHECK(r.path == "/events?limit=10");
}

TEST_CASE("wms_gateway: Retry-After comes from the header's seconds or the "
          "body's retryAfterMs, whichever is longer") {
  CHECK(wms_retry_after_ms("3", "") == 3000);
  CHECK(wms_retry_after_ms(" 2 ", "") == 2000);
  CHECK(wms_retry_after_ms("", R"({"error":{"retryAfterMs":2500}})") == 2500);
  CHECK(wms_retry_after_ms("2", R"({"error":{"retryAfterMs":2500}})") == 2500);
  CHECK(wms_retry_after_ms("3", R"({"error":{"retryAfterMs":2500}})") == 3000);
  // Bad input is ignored, not trusted.
  CHECK(wms_retry_after_ms("", "") == 0);
  CHECK(wms_retry_after_ms("abc", "") == 0);
  CHECK(wms_retry_after_ms("-1", "") == 0);
  CHECK(wms_retry_after_ms("1.5", "") == 0);
  CHECK(wms_retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT", "") == 0);
  CHECK(wms_retry_after_ms("4", "not json") == 4000);
  CHECK(wms_retry_after_ms("", R"({"error":{"retryAfterMs":"9"}})") == 0);
  CHECK(wms_retry_after_ms("", R"({"error":"x"})") == 0);
  CHECK(wms_retry_after_ms("", R"([1,2])") == 0);
  CHECK(wms_retry_after_ms("", R"({"error":{"retryAfterMs":-5}})") == 0);
  // An absurd wait is capped at a day.
  CHECK(wms_retry_after_ms("99999999999999999999", "") == 86'400'000);
  CHECK(wms_retry_after_ms("", R"({"error":{"retryAfterMs":1e20}})") == 0);
}

TEST_CASE("wms answers: a field of the wrong type makes an answer unreadable, "
          "never an exception or a truncated number") {
  // Proves what fuzzing the readers of the WMS's answers found
  // (tests/fuzz/wms_answer_fuzz.cpp): a string where a number belongs threw
  // out of the reader (ending the actor that read it), and a float was
  // converted (1e300 into an integer is undefined, 2.5 became 2).
  auto ack = read_wms_ack(R"({"status":"RESERVED","seq":42})");
  REQUIRE(ack);
  CHECK(ack->state == wms_state::reserved);
  CHECK(ack->seq == 42);
  for (auto* bad : {R"({"status":1})", R"({"status":"RESERVED","seq":"42"})",
                    R"({"status":"RESERVED","seq":4.2e300})",
                    R"({"status":"RESERVED","seq":4.5})",
                    R"({"status":"RESERVED","seq":-1})"}) {
    CAPTURE(bad);
    std::optional<wms_ack> read;
    CHECK_NOTHROW(read = read_wms_ack(bad));
    CHECK_FALSE(read);
  }
  CHECK(wms_error_code(R"({"error":{"code":"UNKNOWN_SKU"}})") == "UNKNOWN_SKU");
  std::string code = "unset";
  CHECK_NOTHROW(code = wms_error_code(R"({"error":{"code":7}})"));
  CHECK(code.empty());

  wms_snapshot snap;
  CHECK(read_wms_snapshot(R"({"orderable":97,"reflects":41,"asOf":5})", 100,
                          snap) == snapshot_reading::ok);
  CHECK(snap.orderable == 97);
  for (auto* bad : {R"({"orderable":"v","reflects":41})",
                    R"({"orderable":2.5,"reflects":41})",
                    R"({"orderable":1,"reflects":1e300})",
                    R"({"orderable":1,"reflects":41,"asOf":"now"})"}) {
    CAPTURE(bad);
    auto reading = snapshot_reading::ok;
    CHECK_NOTHROW(reading = read_wms_snapshot(bad, 100, snap));
    CHECK(reading == snapshot_reading::unreadable);
  }

  std::optional<wms_feed_page> page;
  CHECK_NOTHROW(page = read_wms_feed_page(R"({"events":[],"next":5})", "c1"));
  CHECK_FALSE(page);
  page = read_wms_feed_page(R"({"events":[]})", "c1");
  REQUIRE(page);
  CHECK(page->next == "c1");

  stock_change c;
  std::string error;
  CHECK(feed_event_to_change(
      R"({"id":"E1","seq":2,"type":"RECEIPT","sku":"X","quantity":25})", c,
      error));
  CHECK(c.quantity == 25);
  const char* bad_events[] = {
      R"({"id":"E1","seq":2,"type":"RECEIPT","sku":"X","quantity":2.5})",
      R"({"id":"E1","seq":2,"type":"RECEIPT","sku":"X","quantity":1e300})",
      R"({"id":"E1","seq":2.5,"type":"RECEIPT","sku":"X","quantity":1})",
      (R"({"id":"E1","seq":18446744073709551615,"type":"RECEIPT","sku":"X",)"
       R"("quantity":1})")};
  for (auto* bad : bad_events) {
    CAPTURE(bad);
    error.clear();
    CHECK_FALSE(feed_event_to_change(bad, c, error));
    CHECK_FALSE(error.empty());
  }
}

TEST_CASE("wms answers: an answer nested past any sense is unreadable, not a "
          "stack overflow") {
  // Proves what a crafted input through tests/fuzz/wms_answer_fuzz.cpp
  // found: a feed event 300,000 arrays deep crashed the WMS FEED reader
  // (and omsd with it) while it encoded the event again.
  std::string deep = std::string(300'000, '[') + std::string(300'000, ']');
  std::optional<wms_feed_page> page;
  CHECK_NOTHROW(page = read_wms_feed_page(R"({"events":[)" + deep + "]}", ""));
  CHECK_FALSE(page);
  stock_change c;
  std::string error;
  CHECK_FALSE(feed_event_to_change(deep, c, error));
  CHECK(error == "the event is nested deeper than " +
                     std::to_string(json_depth_default));
  wms_snapshot snap;
  CHECK(read_wms_snapshot(R"({"orderable":1,"reflects":1,"x":)" + deep + "}",
                          100, snap) == snapshot_reading::unreadable);
}

TEST_CASE("wms_gateway: HTTP results map to responses, no answer is status 0 "
          "with the reason") {
  client::http_result x;
  x.status = 429;
  x.body = R"({"error":{"code":"RATE_LIMITED","retryAfterMs":1200}})";
  x.headers = {{"retry-after", "2"}};
  auto r = wms_response_of(x);
  CHECK(r.status == 429);
  CHECK(r.body == x.body);
  CHECK(r.retry_after_ms == 2000);
  client::http_result lost;
  lost.error = "Timeout was reached";
  r = wms_response_of(lost);
  CHECK(r.status == 0);
  CHECK(r.body == "Timeout was reached");
  CHECK(r.retry_after_ms == 0);
  client::http_result ok;
  ok.status = 200;
  ok.body = R"({"sku":"A","orderable":3})";
  r = wms_response_of(ok);
  CHECK(r.status == 200);
  CHECK(r.body == ok.body);
  CHECK(r.retry_after_ms == 0);
}

TEST_CASE_FIXTURE(gateway_fixture,
                  "wms_gateway: a purge fails every call not on its way, "
                  "and sends none of those that are again") {
  auto c = quiet_breaker();
  c.rate_per_second = 2;
  start(c);
  // The first send is answered 503 a second later (in flight meanwhile),
  // the second at once with a 503 (its retry waits), the rest 200.
  wms->script = [](const wms_call&, size_t n) {
    if (n == 0)
      return step{503, "{}", 0, 1000ms};
    if (n == 1)
      return step{503, "{}"};
    return step{};
  };
  auto first = send({reserve("r1"), reserve("r2"), reserve("r3")});
  REQUIRE(wms->arrivals.size() == 2); // r3 waits for the window
  self->send(gw, atom::purge_v);
  sched.run();
  run_until_answered();
  // r2 (its retry) and r3 (never sent) fail at once; r1's 503 is its
  // last answer: not sent again.
  CHECK(code_at(first) == "WMS_UNAVAILABLE");
  CHECK(code_at(first + 1) == "WMS_UNAVAILABLE");
  CHECK(code_at(first + 2) == "WMS_UNAVAILABLE");
  CHECK(wms->arrivals.size() == 2);
  CHECK(stats().retries == 0);
  // Calls after the purge go as before.
  advance_to(5000ms);
  auto later = send(reserve("r4"));
  run_until_answered();
  CHECK(code_at(later) == "NONE");
  CHECK(wms->arrivals.size() == 3);
}
