// omsctl webhook add|list|show|rm|pause|resume|rotate|deliveries|retry: the
// webhook subscriptions (/v1/webhooks; admin).
#include <iostream>
#include <string>

#include "system/client/commands.hpp"

namespace oms::cli {

namespace {

std::string hook_path(const std::string& id) {
  return "/v1/webhooks/" + client::url_encode(id);
}

std::string types_text(const json& w) {
  std::string out;
  for (auto& t : w.value("types", json::array()))
    out += (out.empty() ? "" : ",") + t.get<std::string>();
  return out;
}

void print_hook(const json& w) {
  block rows = {{"id", text(w, "id")},
                {"url", text(w, "url")},
                {"types", types_text(w)},
                {"description", text(w, "description")},
                {"paused", text(w, "paused")}};
  if (w.contains("pauseReason"))
    rows.emplace_back("pause reason", text(w, "pauseReason"));
  if (w.contains("cursor"))
    rows.emplace_back("cursor", text(w, "cursor"));
  if (w.contains("failuresInARow"))
    rows.emplace_back("failures in a row", text(w, "failuresInARow"));
  if (w.contains("deadLetters"))
    rows.emplace_back("dead letters", text(w, "deadLetters"));
  if (w.contains("previousSecretUntil"))
    rows.emplace_back("old secret signs until", text(w, "previousSecretUntil"));
  rows.emplace_back("created", text(w, "createdAt"));
  rows.emplace_back("updated", text(w, "updatedAt"));
  if (w.contains("secret"))
    rows.emplace_back("secret",
                      text(w, "secret") + "  (shown this once: keep it)");
  print_block(rows);
}

void add_webhook_add(CLI::App* group, args& a, action& run) {
  auto* cmd = group->add_subcommand(
      "add", "Subscribe URL to event types; prints the secret, shown once "
             "(POST /v1/webhooks)");
  cmd->add_option("url", a.name, "Where to POST the events")->required();
  cmd->add_option("--type", a.skus,
                  "An event type or 'PREFIX.*' pattern (repeat for more)")
      ->required()
      ->type_name("TYPE");
  cmd->add_option("--description", a.note, "What it is for");
  set_action(cmd, run, [](session& s, const args& a) {
    json body{{"url", a.name}, {"types", a.skus}};
    put_if_given(body, "description", a.note);
    a.out.emit(s.call("POST", "/v1/webhooks", body), print_hook);
  });
}

void add_webhook_list(CLI::App* group, args&, action& run) {
  auto* cmd = group->add_subcommand("list", "Every subscription "
                                            "(GET /v1/webhooks)");
  set_action(cmd, run, [](session& s, const args& a) {
    a.out.emit(s.call("GET", "/v1/webhooks"), [](const json& page) {
      table t{{"ID", "URL", "TYPES", "PAUSED"}, "llll"};
      for (auto& w : page["webhooks"])
        t.add(
            {text(w, "id"), text(w, "url"), types_text(w), text(w, "paused")});
      t.print();
    });
  });
}

void add_webhook_show(CLI::App* group, args& a, action& run) {
  auto* cmd = group->add_subcommand(
      "show", "One subscription with its cursor and failures "
              "(GET /v1/webhooks/{id})");
  cmd->add_option("id", a.id, "The webhook id")->required();
  set_action(cmd, run, [](session& s, const args& a) {
    a.out.emit(s.call("GET", hook_path(a.id)), print_hook);
  });
}

void add_webhook_rm(CLI::App* group, args& a, action& run) {
  auto* cmd = group->add_subcommand("rm", "Delete a subscription "
                                          "(DELETE /v1/webhooks/{id})");
  cmd->add_option("id", a.id, "The webhook id")->required();
  set_action(cmd, run, [](session& s, const args& a) {
    s.send("DELETE", hook_path(a.id));
    a.out.emit(json{{"id", a.id}, {"deleted", true}},
               [&](const json&) { std::cout << "deleted " << a.id << '\n'; });
  });
}

void add_webhook_pause(CLI::App* group, args& a, action& run) {
  for (bool pause : {true, false}) {
    auto* cmd = group->add_subcommand(
        pause ? "pause" : "resume",
        pause ? "Stop delivering (the cursor stays; PATCH paused=true)"
              : "Deliver again from the cursor, nothing lost (PATCH "
                "paused=false)");
    cmd->add_option("id", a.id, "The webhook id")->required();
    set_action(cmd, run, [pause](session& s, const args& a) {
      a.out.emit(s.call("PATCH", hook_path(a.id), json{{"paused", pause}}),
                 print_hook);
    });
  }
}

void add_webhook_rotate(CLI::App* group, args& a, action& run) {
  auto* cmd = group->add_subcommand(
      "rotate", "A new secret, shown once; the old one signs on for the "
                "grace (POST /v1/webhooks/{id}/rotate)");
  cmd->add_option("id", a.id, "The webhook id")->required();
  cmd->add_option("--grace-seconds", a.limit,
                  "How long the old secret still signs (default: omsd's "
                  "--webhook-rotation-grace)")
      ->check(CLI::Range(0, 7 * 24 * 3600));
  set_action(cmd, run, [](session& s, const args& a) {
    json body = json::object();
    put_if_given(body, "graceSeconds", a.limit);
    a.out.emit(s.call("POST", hook_path(a.id) + "/rotate", body), print_hook);
  });
}

void add_webhook_deliveries(CLI::App* group, args& a, action& run) {
  auto* cmd = group->add_subcommand(
      "deliveries", "The latest deliveries, newest first, and the dead "
                    "letters (GET /v1/webhooks/{id}/deliveries)");
  cmd->add_option("id", a.id, "The webhook id")->required();
  set_action(cmd, run, [](session& s, const args& a) {
    a.out.emit(
        s.call("GET", hook_path(a.id) + "/deliveries"), [](const json& page) {
          table t{{"EVENT", "TYPE", "STATUS", "TRIES", "HTTP", "MS", "NEXT TRY",
                   "ERROR"},
                  "llrrrrll"};
          for (auto& d : page["deliveries"]) {
            char ms[32];
            std::snprintf(ms, sizeof ms, "%.1f", d.value("latencyMs", 0.0));
            t.add({text(d, "id"), text(d, "eventType"), text(d, "status"),
                   text(d, "attempts"), text(d, "responseStatus"), ms,
                   d.contains("nextRetryAt") ? text(d, "nextRetryAt") : "",
                   text(d, "error")});
          }
          t.print();
          std::cout << "cursor: " << text(page, "cursor")
                    << "  dead letters: " << page["deadLetters"].size() << '\n';
        });
  });
}

void add_webhook_retry(CLI::App* group, args& a, action& run) {
  auto* cmd = group->add_subcommand(
      "retry", "Deliver an event again: a dead letter, or the one waiting "
               "for its next try, at once "
               "(POST /v1/webhooks/{id}/deliveries/{event}/retry)");
  cmd->add_option("id", a.id, "The webhook id")->required();
  cmd->add_option("event", a.event_id, "The event id of the delivery")
      ->required();
  set_action(cmd, run, [](session& s, const args& a) {
    auto d = s.call("POST", hook_path(a.id) + "/deliveries/" +
                                client::url_encode(a.event_id) + "/retry");
    a.out.emit(d, [](const json& x) {
      std::cout << "queued: event " << text(x, "id") << " (was "
                << text(x, "status") << ")\n";
    });
  });
}

} // namespace

void add_webhook(CLI::App& app, args& a, action& run) {
  add_group(app, "webhook",
            "Webhook subscriptions: signed POSTs of committed events", a, run,
            {add_webhook_add, add_webhook_list, add_webhook_show,
             add_webhook_rm, add_webhook_pause, add_webhook_rotate,
             add_webhook_deliveries, add_webhook_retry});
}

} // namespace oms::cli
