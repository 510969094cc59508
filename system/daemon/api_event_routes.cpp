// The API's change feed: GET /v1/events (a page of committed events after a
// cursor, waiting for them if asked) and GET /v1/events/types. What an
// event looks like is system/daemon/event_feed.cpp's; this file reads the
// JOURNAL's log for it without blocking a thread.
#include <algorithm>
#include <atomic>
#include <mutex>
#include <optional>

#include "system/daemon/api_impl.hpp"
#include "system/daemon/event_feed.hpp"

namespace oms::daemon {

namespace {

// Refuses a cursor past the newest event `last` (one of another store).
[[noreturn]] void past_the_end(const char* field, uint64_t last) {
  invalid(field, "is past the newest event (" + std::to_string(last) +
                     "): a cursor of another store?");
}

// Events asked of the JOURNAL at once.
constexpr uint64_t feed_slice = 256;
// Events one request reads at most, however few pass its filter: the
// answer's cursor moves past them, so the next request goes on from there.
constexpr uint64_t feed_scan_max = 10'000;
constexpr uint32_t feed_limit_default = 100;
constexpr uint32_t feed_limit_max = 1000;
constexpr int64_t feed_wait_max_s = 60;

// An integer query parameter in lo..hi, `fallback` when absent.
int64_t query_int(const std::map<std::string, std::string>& q, const char* name,
                  int64_t lo, int64_t hi, int64_t fallback) {
  auto i = q.find(name);
  if (i == q.end())
    return fallback;
  auto& text = i->second;
  auto range = std::to_string(lo) + " and " + std::to_string(hi);
  if (text.empty() || text.size() > 6 ||
      text.find_first_not_of("0123456789") != std::string::npos)
    invalid(name, "must be an integer between " + range);
  auto n = std::stoll(text);
  if (n < lo || n > hi)
    invalid(name, "must be an integer between " + range);
  return n;
}

// How long a stream waits for events before it sends a comment line (so
// that a proxy, and the server, see the connection alive).
constexpr auto feed_heartbeat = std::chrono::seconds(15);
// Streams served at once; one more is answered 503 UNAVAILABLE.
constexpr int feed_streams_max = 256;

} // namespace

// The feed as Server-Sent Events: waits for events past its cursor, sends
// those that pass its filter as frames, and a comment line when none came
// for feed_heartbeat. Ends when omsd stops or the JOURNAL fails to answer
// (the client reconnects with Last-Event-ID and goes on without a gap).
class api::impl::feed_stream
    : public http::body_stream,
      public std::enable_shared_from_this<api::impl::feed_stream> {
 public:
  /// A stream counted among api->feed_streams (see admit).
  feed_stream(std::shared_ptr<impl> api, feed_filter filter, uint64_t after)
      : api_(std::move(api)), filter_(std::move(filter)), next_(after) {}

  ~feed_stream() override { leave(); }

  /// Counts one more open stream unless feed_streams_max are open.
  static bool admit(impl& api) {
    auto open = api.feed_streams.load();
    do {
      if (open >= feed_streams_max)
        return false;
    } while (!api.feed_streams.compare_exchange_weak(open, open + 1));
    return true;
  }

  void next(give g) override {
    {
      std::lock_guard<std::mutex> guard{mtx_};
      if (cancelled_)
        return;
      give_ = std::move(g);
    }
    if (first_) {
      // Sent at once, so the client knows the stream is open; and how soon
      // to reconnect if it breaks.
      first_ = false;
      return deliver(std::string{"retry: 2000\n: stream of /v1/events\n\n"});
    }
    await();
  }

  void cancel() override {
    {
      std::lock_guard<std::mutex> guard{mtx_};
      cancelled_ = true;
      give_ = nullptr;
    }
    // The client is gone: the stream no longer counts, though a wait of
    // its own may still hold it for a while.
    leave();
  }

 private:
  void leave() {
    if (!left_.exchange(true))
      --api_->feed_streams;
  }

  // A piece that only moves the client's Last-Event-ID to the cursor (an
  // event without data is not dispatched), or a comment before the first.
  std::string heartbeat() const {
    if (next_ == 0)
      return ":\n\n";
    return "id: " + std::to_string(next_) + "\n\n";
  }

  bool stopped() {
    std::lock_guard<std::mutex> guard{mtx_};
    return cancelled_;
  }

  void deliver(std::optional<std::string> piece) {
    give g;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      g = std::move(give_);
      give_ = nullptr;
    }
    if (g)
      g(std::move(piece));
  }

  void await() {
    if (stopped())
      return;
    if (api_->draining)
      return deliver(std::nullopt);
    auto me = shared_from_this();
    auto timeout = caf::timespan{feed_heartbeat} +
                   caf::timespan{api_->oms.ctx()->settings.request_timeout};
    request_then<uint64_t>(
        api_->sys, api_->oms.journal(), timeout,
        [me](uint64_t last) {
          if (last <= me->next_)
            return me->deliver(me->heartbeat());
          me->scanned_ = 0;
          me->scan(last);
        },
        [me](const caf::error&) { me->deliver(std::nullopt); }, atom::await_v,
        next_ + 1, caf::timespan{feed_heartbeat});
  }

  void scan(uint64_t last) {
    if (stopped())
      return;
    auto me = shared_from_this();
    request_then<std::vector<event>>(
        api_->sys, api_->oms.journal(),
        caf::timespan{api_->oms.ctx()->settings.request_timeout},
        [me, last](std::vector<event>& got) {
          if (got.empty())
            return me->deliver(std::nullopt);
          std::string frames;
          auto from = me->next_ + 1;
          for (size_t i = 0; i < got.size(); ++i)
            if (auto entry = feed_pick(got[i], from + i, me->filter_))
              frames += sse_frame(*entry);
          me->next_ = from + got.size() - 1;
          me->scanned_ += got.size();
          if (!frames.empty())
            return me->deliver(std::move(frames));
          // As a page does, a piece reads at most feed_scan_max events: a
          // filter that passes few sends the cursor on instead.
          if (me->scanned_ >= feed_scan_max)
            return me->deliver(me->heartbeat());
          if (me->next_ < last)
            return me->scan(last);
          me->await();
        },
        [me, last](const caf::error& err) {
          // From the start: from the oldest event kept. Otherwise the
          // stream ends; its client, reconnecting, hears 410.
          auto first = expired_first(err);
          if (first && me->next_ == 0 && *first <= last) {
            me->next_ = *first - 1;
            return me->scan(last);
          }
          me->deliver(std::nullopt);
        },
        atom::read_v, next_ + 1, std::min(feed_slice, last - next_));
  }

  std::shared_ptr<impl> api_;
  feed_filter filter_;
  /// The last event read; touched by one step at a time.
  uint64_t next_;
  bool first_ = true;
  /// Events read for the piece being made.
  uint64_t scanned_ = 0;
  std::atomic<bool> left_{false};
  std::mutex mtx_;
  bool cancelled_ = false;
  give give_;
};

struct api::impl::feed_read {
  feed_filter filter;
  /// The cursor: the last event read (passed or not).
  uint64_t next = 0;
  uint32_t limit = feed_limit_default;
  steady::time_point deadline;
  uint64_t scanned = 0;
  json events = json::array();
};

void api::impl::event_types(const call_ptr& c) {
  parse_query(c->req.query, {});
  reply(c, 200, json{{"types", feed_types()}});
}

void api::impl::events_list(const call_ptr& c) {
  auto q =
      parse_query(c->req.query, {"after", "limit", "type", "subject", "wait"});
  auto r = std::make_shared<feed_read>();
  if (auto i = q.find("after"); i != q.end())
    r->next = read_cursor(i->second, "after");
  r->limit = static_cast<uint32_t>(
      query_int(q, "limit", 1, feed_limit_max, feed_limit_default));
  auto wait = query_int(q, "wait", 0, feed_wait_max_s, 0);
  r->deadline = steady::now() + std::chrono::seconds(wait);
  if (auto i = q.find("type"); i != q.end())
    r->filter.types = read_feed_types(i->second);
  if (auto i = q.find("subject"); i != q.end()) {
    if (i->second.empty() || i->second.size() > 128)
      invalid("subject", "must be 1 to 128 bytes");
    r->filter.subject = i->second;
  }
  if (c->req.accept.find("text/event-stream") != std::string::npos)
    return events_stream(c, *r);
  feed_step(c, std::move(r));
}

void api::impl::events_stream(const call_ptr& c, const feed_read& r) {
  auto after = r.next;
  // A client reconnecting names the last event it has; that wins over the
  // URL's cursor.
  const char* field = "after";
  if (!c->req.last_event_id.empty()) {
    field = "Last-Event-ID";
    after = read_cursor(c->req.last_event_id, field);
  }
  if (draining)
    return fail(c, make_error(errc::not_ready, "omsd is stopping"));
  if (!feed_stream::admit(*this))
    return fail(c, make_error(errc::unavailable,
                              "too many event streams open; retry later"));
  auto self_ptr = shared_from_this();
  auto stream = std::make_shared<feed_stream>(self_ptr, r.filter, after);
  // A cursor past the log's end is refused before the stream opens (the
  // stream, dropped unanswered, leaves the count).
  ask<uint64_t>(
      c, oms.journal(),
      [self_ptr, c, stream, after, field](uint64_t last) {
        if (after > last)
          past_the_end(field, last);
        auto open = [self_ptr, c, stream] {
          http_response resp;
          resp.content_type = "text/event-stream";
          resp.stream = stream;
          self_ptr->finish(c, std::move(resp));
        };
        if (after == 0 || after == last)
          return open();
        // A cursor past pruned events is refused before the stream opens.
        self_ptr->ask<std::vector<event>>(
            c, self_ptr->oms.journal(), [open](std::vector<event>&) { open(); },
            atom::read_v, after + 1, uint64_t{1});
      },
      atom::await_v, uint64_t{0}, caf::timespan{0});
}

void api::impl::feed_step(const call_ptr& c, std::shared_ptr<feed_read> r) {
  using std::chrono::milliseconds;
  auto left = std::max(
      milliseconds{0},
      std::chrono::duration_cast<milliseconds>(r->deadline - steady::now()));
  if (draining)
    left = milliseconds{0};
  auto self_ptr = shared_from_this();
  // A poll that waits is counted (oms_event_polls_waiting) until the
  // journal answers it.
  bool waits = left > milliseconds{0};
  if (waits)
    ++feed_polls;
  auto done = [self_ptr, waits] {
    if (waits)
      --self_ptr->feed_polls;
  };
  ask_within<uint64_t>(
      c, oms.journal(), left + oms.ctx()->settings.request_timeout,
      [self_ptr, c, r, done](uint64_t last) {
        done();
        if (last < r->next && r->scanned == 0)
          past_the_end("after", last);
        if (last <= r->next)
          return self_ptr->feed_answer(c, *r);
        self_ptr->feed_scan(c, r, last);
      },
      [self_ptr, c, done](const caf::error& err) {
        done();
        self_ptr->fail(c, err);
      },
      atom::await_v, r->next + 1, caf::timespan{left});
}

void api::impl::feed_scan(const call_ptr& c, std::shared_ptr<feed_read> r,
                          uint64_t last) {
  auto want = std::min({feed_slice, last - r->next,
                        feed_scan_max - std::min(feed_scan_max, r->scanned)});
  auto self_ptr = shared_from_this();
  ask_or<std::vector<event>>(
      c, oms.journal(),
      [self_ptr, c, r, last](std::vector<event>& got) {
        auto from = r->next + 1;
        for (size_t i = 0; i < got.size(); ++i) {
          auto seq = from + i;
          r->next = seq;
          ++r->scanned;
          auto entry = feed_pick(got[i], seq, r->filter);
          if (!entry)
            continue;
          r->events.push_back(std::move(*entry));
          if (r->events.size() >= r->limit)
            return self_ptr->feed_answer(c, *r);
        }
        // Nothing where the log said events were: answer what there is
        // rather than ask again.
        if (got.empty())
          return self_ptr->feed_answer(c, *r);
        bool at_end = r->next >= last;
        if (r->scanned >= feed_scan_max || (at_end && !r->events.empty()))
          return self_ptr->feed_answer(c, *r);
        if (at_end)
          return self_ptr->feed_step(c, r);
        self_ptr->feed_scan(c, r, last);
      },
      [self_ptr, c, r, last](const caf::error& err) {
        // From the start: from the oldest event kept. A cursor past
        // pruned events is refused, 410 EVENTS_EXPIRED.
        auto first = expired_first(err);
        if (first && r->next == 0 && r->scanned == 0 && *first <= last) {
          r->next = *first - 1;
          return self_ptr->feed_scan(c, r, last);
        }
        self_ptr->fail(c, err);
      },
      atom::read_v, r->next + 1, want);
}

void api::impl::feed_answer(const call_ptr& c, const feed_read& r) {
  reply(c, 200, json{{"events", r.events}, {"next", std::to_string(r.next)}});
}

} // namespace oms::daemon
