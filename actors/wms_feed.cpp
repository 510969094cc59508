#include "actors/wms_feed.hpp"

#include <memory>

#include "messages/type_ids.hpp"
#include "system/log.hpp"

namespace oms {

namespace {

using feed_ptr = wms_feed_actor::stateful_pointer<wms_feed_state>;

void schedule(feed_ptr self, std::chrono::milliseconds delay) {
  self->delayed_send(self, delay, atom::read_v, ++self->state.generation);
}

void journal_cursor(feed_ptr self, std::string next, bool more) {
  event ev;
  ev.kind = event_kind::inbox_cursor;
  ev.at = self->state.ctx->now(self->clock());
  ev.reason = wms_feed_source;
  ev.fence = self->state.fence;
  ev.lot = next;
  self->request(self->state.ctx->journal, caf::infinite, atom::append_v,
                std::vector<event>{std::move(ev)})
      .then(
          [=](uint64_t) {
            self->state.cursor = next;
            auto& cfg = self->state.ctx->settings.external;
            schedule(self,
                     more ? std::chrono::milliseconds{1} : cfg.feed_interval);
          },
          [=](caf::error& err) {
            log::error("wms_feed.journal_failed", {{"error", describe(err)}});
            schedule(self, self->state.ctx->settings.external.feed_interval);
          });
}

void read_page(feed_ptr self) {
  auto& st = self->state;
  auto& cfg = st.ctx->settings.external;
  wms_call call;
  call.op = wms_op::read_events;
  call.cursor = st.cursor;
  call.limit = cfg.feed_page;
  self->request(st.ctx->wms, caf::infinite, atom::call_v, std::move(call))
      .then(
          [=](wms_response& resp) {
            auto& st = self->state;
            auto interval = st.ctx->settings.external.feed_interval;
            auto page = resp.status == 200
                            ? read_wms_feed_page(resp.body, st.cursor)
                            : std::nullopt;
            if (!page) {
              log::warn("wms_feed.bad_page", {{"status", int64_t{resp.status}},
                                              {"body", resp.body}});
              schedule(self, interval);
              return;
            }
            auto next = page->next;
            auto changes = std::move(page->changes);
            for (auto& [event, error] : page->bad_events)
              log::error("wms_feed.bad_event",
                         {{"event", event}, {"error", error}});
            ++st.pages;
            st.events += changes.size();
            bool more = page->events >= st.ctx->settings.external.feed_page;
            if (changes.empty()) {
              if (next != st.cursor)
                journal_cursor(self, next, more);
              else
                schedule(self, interval);
              return;
            }
            // Every event of the page through the INBOX; then the cursor.
            struct gather {
              size_t pending;
              bool failed = false;
            };
            auto g = std::make_shared<gather>(gather{changes.size()});
            for (auto& c : changes)
              self->request(st.supervisor, caf::infinite, atom::apply_v, c)
                  .then(
                      [=](inbox_result&) {
                        if (--g->pending == 0 && !g->failed)
                          journal_cursor(self, next, more);
                      },
                      [=](caf::error& err) {
                        log::warn("wms_feed.apply_failed",
                                  {{"error", describe(err)}});
                        if (!g->failed) {
                          g->failed = true;
                          schedule(self, interval);
                        }
                      });
          },
          [=](caf::error& err) {
            log::warn("wms_feed.unavailable", {{"error", describe(err)}});
            schedule(self, self->state.ctx->settings.external.feed_interval);
          });
}

} // namespace

wms_feed_actor::behavior_type wms_feed(feed_ptr self, context_ptr ctx,
                                       supervisor_actor supervisor,
                                       std::string cursor, int64_t fence) {
  auto& st = self->state;
  st.ctx = std::move(ctx);
  st.supervisor = std::move(supervisor);
  st.cursor = std::move(cursor);
  st.fence = fence;
  schedule(self, std::chrono::milliseconds{1});
  return {
      [=](atom::read, uint64_t generation) {
        if (generation != self->state.generation)
          return;
        read_page(self);
      },
  };
}

} // namespace oms
