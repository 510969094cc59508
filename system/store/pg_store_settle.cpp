// How a PostgreSQL store learns, after a commit that failed, whether its
// batch landed (docs/cluster.md, "A commit whose answer was lost"), and
// reconnects.
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <pqxx/pqxx>

#include "messages/errors.hpp"
#include "system/store/codec.hpp"
#include "system/store/pg_session.hpp"
#include "system/store/pg_store.hpp"

namespace oms {

namespace {

// True if `store`'s log holds `events`, as they were written, from sequence
// number `from` on; throws if the log cannot be read.
bool holds_or_throw(const journal_store& store,
                    const std::vector<event>& events, uint64_t from) {
  auto got = store.read(from, events.size());
  if (!got)
    throw std::runtime_error{"cannot read the log: " + message_of(got.error())};
  if (got->size() != events.size())
    return false;
  for (size_t i = 0; i < events.size(); ++i) {
    const event& a = events[i];
    const event& b = (*got)[i];
    if (a.kind != b.kind || a.at != b.at || a.sku != b.sku ||
        a.order != b.order || a.quantity != b.quantity ||
        a.amount != b.amount || encode_payload(a) != encode_payload(b))
      return false;
  }
  return true;
}

// holds_or_throw(), false if the log cannot be read.
bool holds(const journal_store& store, const std::vector<event>& events,
           uint64_t from) {
  try {
    return holds_or_throw(store, events, from);
  } catch (const std::runtime_error&) {
    return false;
  }
}

} // namespace

caf::error pg_store::settle(const std::vector<event>& events, uint64_t before,
                            std::string what) {
  if (shared_)
    return settle_shared(events, std::move(what));
  // While the session lives it holds the lock: its log says whether the
  // batch landed.
  bool same_session = false;
  if (conn_->is_open()) {
    try {
      pqxx::nontransaction n{*conn_};
      pg_session s{n};
      last_seq_ = read_last_seq(s);
      same_session = true;
    } catch (const std::exception&) {
      // Gone after all.
    }
  }
  if (!same_session) {
    what = "the connection was lost (" + what + ")";
    // The connection may be gone, and with a lost answer to COMMIT the
    // batch may have landed all the same. The lock went with the session:
    // a new one takes it again, or fails naming who has it now.
    if (auto failed = reconnect(what))
      return *failed;
  }
  if (last_seq_ == before)
    return failure("cannot commit: " + what);
  // Only the batch's own events prove that it landed: as many events from
  // another writer (one that takes no lock, as omsd before this version)
  // must not pass for them.
  if (last_seq_ == before + events.size() && holds(*this, events, before + 1))
    return caf::none; // committed; only the answer was lost
  // Another store wrote while this one was away from the log (or without
  // the lock): what this store's owner has in memory no longer adds up to
  // it.
  lost_ = "the event log moved on to seq " + std::to_string(last_seq_) +
          " while this store was at seq " + std::to_string(before) +
          ": another store wrote to the schema; this one commits nothing "
          "more (restart to load the log)";
  return failure(lost_);
}

caf::error pg_store::settle_shared(const std::vector<event>& events,
                                   std::string what) {
  // A transaction that failed on a live connection was rolled back; and a
  // batch lands only by its COMMIT, sent after its numbers were reserved
  // under the head's lock: without it, it did not land.
  if (conn_->is_open())
    return failure("cannot commit: " + what);
  what = "the connection was lost (" + what + ")";
  if (!reserved_ || !commit_sent_) {
    if (auto failed = reconnect(what))
      return *failed;
    return failure("cannot commit: " + what);
  }
  // COMMIT may have been sent: the batch may have landed, or may still
  // land (a server that has not yet seen the connection go). Answered as
  // failed when it landed, its units would be given back in memory while
  // the log keeps them granted, and granted again. So the outcome is
  // learnt before anything is answered: from a new session, once the
  // server can be reached again (a restart of PostgreSQL: seconds), after
  // the old session is gone and the head's lock free; only the batch's own
  // numbers, reserved under that lock, can say whether it landed.
  auto old = backend_;
  auto deadline = std::chrono::steady_clock::now() + settle_wait_;
  auto pause = std::chrono::milliseconds(50);
  std::string last_error;
  for (;;) {
    try {
      conn_->disconnect();
      connect();
      {
        pqxx::nontransaction n{*conn_};
        // The old session, if the server still has it: ended, and waited
        // for (its transaction is then committed or rolled back for good).
        if (old.pid != 0)
          n.exec("SELECT pg_terminate_backend(pid, 5000) FROM "
                 "pg_stat_activity WHERE pid = " +
                 std::to_string(old.pid) + " AND backend_start = " +
                 n.quote(old.started) + "::timestamptz");
      }
      {
        pqxx::work w{*conn_};
        w.exec("SET LOCAL lock_timeout = '10s'");
        w.exec("SELECT last FROM oms_log_head WHERE id = 1 FOR UPDATE");
        w.commit();
      }
      if (holds_or_throw(*this, events, *reserved_ + 1)) {
        // The batch's own last number, as a commit answered at once says
        // (the journal numbers the appends from it).
        last_seq_ = *reserved_ + events.size();
        return caf::none; // committed; only the answer was lost
      }
      return failure("cannot commit: " + what +
                     "; the batch did not land (checked on a new session)");
    } catch (const std::exception& e) {
      last_error = e.what();
    }
    if (std::chrono::steady_clock::now() + pause >= deadline)
      break;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(1000));
  }
  lost_ = "cannot commit: " + what + "; whether the batch landed could not " +
          "be learnt within " +
          std::to_string(
              std::chrono::duration_cast<std::chrono::seconds>(settle_wait_)
                  .count()) +
          " s (" + last_error +
          "): what this writer holds in memory may not add up to the log, "
          "so it commits nothing more (restart it to load the log)";
  if (on_lost_)
    on_lost_(lost_);
  return failure(lost_);
}

std::optional<caf::error> pg_store::reconnect(std::string& what) {
  try {
    conn_->disconnect();
    connect();
  } catch (const std::exception& again) {
    return failure("cannot commit: " + what +
                   "; reconnecting failed: " + again.what());
  }
  return std::nullopt;
}

} // namespace oms
