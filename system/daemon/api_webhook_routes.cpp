// The webhook routes (admin): subscriptions, their deliveries and retries.
// The webhook dispatcher (webhooks.hpp) journals the changes and runs the
// deliveries; these handlers read the requests and answer.
#include "system/daemon/api_impl.hpp"
#include "system/daemon/event_feed.hpp"
#include "system/daemon/webhook_duty.hpp"
#include "system/daemon/webhook_wire.hpp"
#include "system/daemon/webhooks.hpp"

namespace oms::daemon {

namespace {

// The subscription's fields of a body; `creating` needs url and types.
webhook_change read_webhook(const json& j, const webhook_settings& cfg,
                            bool creating) {
  only(j, {"url", "types", "description", "paused"}, "");
  webhook_change out;
  out.url = get_str(j, "url", creating, 2048);
  if (out.url)
    if (auto why = destination_refusal(*out.url, cfg.allowed_hosts);
        !why.empty())
      invalid("url", why);
  if (auto i = j.find("types"); i != j.end()) {
    if (!i->is_array() || i->empty() || i->size() > 32)
      invalid("types", "must be a list of 1 to 32 event types or "
                       "\"PREFIX.*\" patterns (see GET /v1/events/types)");
    std::vector<std::string> types;
    for (auto& t : *i) {
      if (!t.is_string())
        invalid("types", "must hold strings");
      auto read = read_feed_types(t.get<std::string>(), "types");
      if (read.size() != 1)
        invalid("types", "one type or pattern per entry");
      types.push_back(read[0]);
    }
    out.types = std::move(types);
  } else if (creating) {
    invalid("types", "is required");
  }
  out.description = get_str(j, "description", false, 500);
  if (auto i = j.find("paused"); i != j.end()) {
    if (!i->is_boolean())
      invalid("paused", "must be true or false");
    out.paused = i->get<bool>();
  }
  return out;
}

} // namespace

std::shared_ptr<webhook_dispatcher> api::impl::hooks() {
  if (opts.webhooks == nullptr)
    throw bad_input{errc::unavailable, "this omsd runs no webhooks"};
  if (auto here = opts.webhooks->here())
    return here;
  // None here: omsd stops, or this node holds the duty shard and its
  // dispatcher is not running yet (being read from the store) or any more.
  auto shard = opts.webhooks->shard();
  auto& shards = oms.ctx()->shards;
  if (!shard || !shards || shards->serves(*shard))
    throw bad_input{errc::unavailable,
                    "the webhooks are not running on this node now; retry"};
  // A cluster node that does not run them: the request goes to the holder
  // of the duty shard (or waits for one, as for any shard).
  throw bad_input{errc::not_owner,
                  "the webhooks are run by the holder of shard " +
                      std::to_string(*shard),
                  json{{"shard", *shard}, {"webhooks", true}}};
}

void api::impl::answer_hook(const call_ptr& c, int status,
                            caf::expected<json> result) {
  if (!result)
    return fail(c, result.error());
  reply(c, status, *result);
}

std::function<void(caf::expected<json>)>
api::impl::hook_answer(const call_ptr& c, int status) {
  auto self_ptr = shared_from_this();
  return [self_ptr, c, status](caf::expected<json> result) {
    self_ptr->guarded(c, [&] {
      if (status == 204 && result) {
        http_response resp;
        resp.status = 204;
        return self_ptr->finish(c, std::move(resp));
      }
      self_ptr->answer_hook(c, status, std::move(result));
    });
  };
}

void api::impl::webhook_create(const call_ptr& c) {
  parse_query(c->req.query, {});
  auto here = hooks();
  auto fields = read_webhook(body(c), here->settings(), true);
  here->create(std::move(fields), hook_answer(c, 201));
}

void api::impl::webhook_list(const call_ptr& c) {
  parse_query(c->req.query, {});
  answer_hook(c, 200, hooks()->list());
}

void api::impl::webhook_get(const call_ptr& c) {
  parse_query(c->req.query, {});
  answer_hook(c, 200, hooks()->get(c->params[0]));
}

void api::impl::webhook_patch(const call_ptr& c) {
  parse_query(c->req.query, {});
  auto here = hooks();
  auto fields = read_webhook(body(c), here->settings(), false);
  here->update(c->params[0], std::move(fields), hook_answer(c, 200));
}

void api::impl::webhook_delete(const call_ptr& c) {
  parse_query(c->req.query, {});
  hooks()->remove(c->params[0], hook_answer(c, 204));
}

void api::impl::webhook_rotate(const call_ptr& c) {
  parse_query(c->req.query, {});
  auto j = body(c, true);
  only(j, {"graceSeconds"}, "");
  auto here = hooks();
  auto grace = std::chrono::duration_cast<std::chrono::milliseconds>(
      here->settings().rotation_grace);
  if (auto s = get_int(j, "graceSeconds", false, 0, 7 * 24 * 3600))
    grace = std::chrono::seconds(*s);
  here->rotate(c->params[0], grace, hook_answer(c, 200));
}

void api::impl::webhook_deliveries(const call_ptr& c) {
  parse_query(c->req.query, {});
  answer_hook(c, 200, hooks()->deliveries(c->params[0]));
}

void api::impl::webhook_retry(const call_ptr& c) {
  parse_query(c->req.query, {});
  auto event = read_cursor(c->params[1], "delivery");
  answer_hook(c, 202, hooks()->retry(c->params[0], event));
}

} // namespace oms::daemon
