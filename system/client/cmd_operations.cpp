// omsctl audit, health, metrics and cluster, and the WMS gateway's
// `wms status`.
#include <iostream>
#include <optional>
#include <string>

#include "system/client/commands.hpp"

namespace oms::cli {

namespace {

void print_audit(const json& a) {
  auto violations = a.value("violations", json::array());
  print_block({{"SKUs checked", text(a, "skusChecked")},
               {"live orders", text(a, "liveOrders")},
               {"violations", std::to_string(violations.size())}});
  if (violations.empty())
    return;
  std::cout << '\n';
  table t{{"SKU", "VIOLATION"}, "ll"};
  for (auto& v : violations)
    t.add({text(v, "sku"), text(v, "what")});
  t.print();
}

void print_health(const json& h) {
  auto& r = h["readyz"];
  std::string detail;
  if (r.contains("store"))
    detail = " (store " + text(r, "store") + ", last seq " +
             text(r, "lastSeq") + ")";
  print_block({{"healthz", text(h["healthz"], "status")},
               {"readyz", text(r, "status") + detail}});
}

void print_wms(const json& w) {
  print_block({{"breaker", text(w, "breaker")},
               {"breaker opened", text(w, "breakerOpened")},
               {"calls accepted", text(w, "callsAccepted")},
               {"calls completed", text(w, "completed")},
               {"requests sent", text(w, "callsSent")},
               {"retries", text(w, "retries")},
               {"coalesced reads", text(w, "coalesced")},
               {"answers 2xx", text(w, "answered2xx")},
               {"answers 4xx", text(w, "answered4xx")},
               {"answers 429", text(w, "answered429")},
               {"answers 5xx", text(w, "answered5xx")},
               {"transport errors", text(w, "transportErrors")},
               {"rejected: queue full", text(w, "rejectedQueueFull")},
               {"rejected: breaker open", text(w, "rejectedBreakerOpen")},
               {"failed: deadline", text(w, "failedDeadline")},
               {"failed: attempts", text(w, "failedAttempts")},
               {"rejected: invalid", text(w, "rejectedInvalid")},
               {"queue depth", text(w, "queueDepth") + " (max " +
                                   text(w, "queueDepthMax") + ")"},
               {"in flight", text(w, "inFlight")},
               {"most sends in 1 s", text(w, "sentInWindowMax")}});
}

// A cluster node's view: itself, who runs the duties, each node.
void print_cluster(const json& v) {
  auto duty = v.value("duty", json::object());
  auto served = v.value("served", json::array());
  print_block(
      {{"node", text(v, "node")},
       {"shards", text(v, "shards") + " (" + std::to_string(served.size()) +
                      " served here)"},
       {"lease TTL", text(v, "leaseTtlMs") + " ms"},
       {"duty shard",
        text(duty, "shard") + " held by " +
            (duty["holder"].is_string() ? text(duty, "holder") : "nobody now") +
            (duty.value("servedHere", false) ? " (this node)" : "")}});
  std::cout << '\n';
  table t{{"NODE", "HTTP", "LIVE", "SHARDS", "REACHABLE"}, "lllrl"};
  for (auto& n : v.value("nodes", json::array())) {
    std::string reach = n.value("self", false) ? "(self)" : "-";
    if (n.contains("link"))
      reach = n["link"].value("reachable", false) ? "yes" : "no";
    t.add({text(n, "id"), text(n, "http"),
           n.value("live", false) ? "yes" : "no", text(n, "shardsHeld"),
           reach});
  }
  t.print();
}

void add_audit(CLI::App& app, action& run) {
  auto* audit = app.add_subcommand(
      "audit", "Check every SKU's stock against the holds of the live "
               "orders; exits 1 if an invariant is broken "
               "(GET /v1/audit; admin)");
  set_action(audit, run, [](session& s, const args& a) {
    auto report = s.call("GET", "/v1/audit");
    a.out.emit(report, print_audit);
    auto n = report.value("violations", json::array()).size();
    if (n > 0)
      throw api_error{200, "AUDIT_FAILED",
                      std::to_string(n) + " invariant violation(s)"};
  });
}

void add_health(CLI::App& app, action& run) {
  auto* health = app.add_subcommand(
      "health", "Is omsd alive (GET /healthz) and ready to serve "
                "(GET /readyz)? Exits 1 if it is not ready; no token needed");
  set_action(health, run, [](session& s, const args& a) {
    auto live = s.call("GET", "/healthz");
    std::optional<api_error> not_ready;
    json ready;
    try {
      ready = s.call("GET", "/readyz");
    } catch (const api_error& e) {
      not_ready = e;
      ready = json{{"status", "not ready"}, {"error", e.code}};
    }
    a.out.emit(json{{"healthz", live}, {"readyz", ready}}, print_health);
    if (not_ready)
      throw *not_ready;
  });
}

void add_cluster(CLI::App& app, action& run) {
  auto* cluster = app.add_subcommand(
      "cluster", "A cluster node's view: the nodes, the shards each holds, "
                 "who runs the duty shard (webhooks and the EXTERNAL "
                 "seller); exits 1 with NOT_FOUND on a single node "
                 "(GET /v1/cluster?leases=none; admin)");
  set_action(cluster, run, [](session& s, const args& a) {
    a.out.emit(s.call("GET", "/v1/cluster?leases=none"), print_cluster);
  });
}

void add_metrics(CLI::App& app, action& run) {
  auto* metrics = app.add_subcommand(
      "metrics", "The Prometheus metrics as text (GET /metrics)");
  set_action(metrics, run, [](session& s, const args&) {
    std::cout << s.send("GET", "/metrics").body;
  });
}

void add_wms_status(CLI::App* wms, args&, action& run) {
  auto* status = wms->add_subcommand(
      "status", "The WMS gateway's counters: calls, answers by class, "
                "retries, refusals, breaker and queue; exits 1 with "
                "WMS_UNAVAILABLE when omsd has no WMS (GET /v1/wms; admin)");
  set_action(status, run, [](session& s, const args& a) {
    a.out.emit(s.call("GET", "/v1/wms"), print_wms);
  });
}

} // namespace

void add_operations(CLI::App& app, action& run) {
  add_audit(app, run);
  add_health(app, run);
  add_metrics(app, run);
  add_cluster(app, run);
}

void add_wms(CLI::App& app, args& a, action& run) {
  add_group(app, "wms",
            "The gateway to the EXTERNAL seller's warehouse system (WMS)", a,
            run, {add_wms_status});
}

} // namespace oms::cli
