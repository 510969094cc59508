#include "system/daemon/metrics.hpp"

#include <cstdio>
#include <iterator>

#include "messages/wms_protocol.hpp"

namespace oms::daemon {

namespace {

std::string num(double x) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.9g", x);
  return buf;
}

void header(std::string& out, const char* name, const char* type,
            const char* help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

// The HTTP server's connections and what it refused by itself.
void render_connections(std::string& out, const http::server_stats& c) {
  header(out, "oms_http_connections_open", "gauge", "Connections open now.");
  out += "oms_http_connections_open " +
         std::to_string(c.connections_open.load()) + "\n";
  header(out, "oms_http_connections_total", "counter",
         "Connections accepted since start.");
  out += "oms_http_connections_total " +
         std::to_string(c.connections_total.load()) + "\n";
  header(out, "oms_http_accept_errors_total", "counter",
         "Accepts that failed (e.g. out of file descriptors) and were "
         "retried.");
  out += "oms_http_accept_errors_total " +
         std::to_string(c.accept_errors.load()) + "\n";
  header(out, "oms_http_accept_paused_total", "counter",
         "Times accepting paused at the connection cap.");
  out += "oms_http_accept_paused_total " +
         std::to_string(c.accept_paused.load()) + "\n";
  header(out, "oms_http_refused_total", "counter",
         "Requests the server answered by itself as malformed (400, 414, "
         "431, 501, 505).");
  out += "oms_http_refused_total " + std::to_string(c.malformed.load()) + "\n";
  header(out, "oms_http_body_bytes_reserved", "gauge",
         "Bytes reserved for request bodies being read or answered.");
  out += "oms_http_body_bytes_reserved " + std::to_string(c.body_bytes.load()) +
         "\n";
}

// One histogram series: cumulative buckets (`counts` has one more entry
// than `bounds`, for +Inf), the sum and the count.
template <class Bounds, class Counts>
void histogram(std::string& out, const char* name, const std::string& labels,
               const Bounds& bounds, const Counts& counts, double scale,
               double sum) {
  uint64_t cumulative = 0;
  std::string sep = labels.empty() ? "" : ",";
  size_t n = std::size(bounds);
  for (size_t i = 0; i < n && i < counts.size(); ++i) {
    cumulative += counts[i];
    out += std::string{name} + "_bucket{" + labels + sep + "le=\"" +
           num(static_cast<double>(bounds[i]) * scale) + "\"} " +
           std::to_string(cumulative) + "\n";
  }
  if (counts.size() > n)
    cumulative += counts[n];
  out += std::string{name} + "_bucket{" + labels + sep + "le=\"+Inf\"} " +
         std::to_string(cumulative) + "\n";
  std::string braces = labels.empty() ? "" : "{" + labels + "}";
  out += std::string{name} + "_sum" + braces + " " + num(sum) + "\n";
  out += std::string{name} + "_count" + braces + " " +
         std::to_string(cumulative) + "\n";
}

} // namespace

void metrics::observe(std::string_view route, std::string_view method,
                      int status, double seconds) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto& s = series_[{std::string{route}, std::string{method}}];
  ++s.by_status[status];
  size_t i = 0;
  while (i < latency_bounds.size() && seconds > latency_bounds[i])
    ++i;
  ++s.buckets[i];
  s.sum += seconds;
  ++s.count;
}

namespace {

// The WMS gateway's counters: what callers asked, what went to the WMS and
// how it answered, what was refused, and the breaker and queue now.
void render_wms(std::string& out, const wms_gateway_stats& w) {
  auto line = [&](const std::string& series, uint64_t value) {
    out += series + " " + std::to_string(value) + "\n";
  };
  header(out, "oms_wms_calls_total", "counter",
         "WMS calls accepted from the order system (queued or joined to an "
         "identical read).");
  line("oms_wms_calls_total", w.calls_accepted);
  header(out, "oms_wms_sends_total", "counter",
         "Requests sent to the WMS, first tries and retries.");
  line("oms_wms_sends_total", w.calls_sent);
  header(out, "oms_wms_answers_total", "counter",
         "WMS answers per send, by class (transport_error: no answer).");
  line("oms_wms_answers_total{class=\"2xx\"}", w.answered_2xx);
  line("oms_wms_answers_total{class=\"4xx\"}", w.answered_4xx);
  line("oms_wms_answers_total{class=\"429\"}", w.answered_429);
  line("oms_wms_answers_total{class=\"5xx\"}", w.answered_5xx);
  line("oms_wms_answers_total{class=\"transport_error\"}", w.transport_errors);
  header(out, "oms_wms_retries_total", "counter",
         "Sends that repeated an earlier send of the same call.");
  line("oms_wms_retries_total", w.retries);
  header(out, "oms_wms_coalesced_total", "counter",
         "Reads answered by another caller's identical call.");
  line("oms_wms_coalesced_total", w.coalesced);
  header(out, "oms_wms_completed_total", "counter",
         "Calls answered with the WMS's response.");
  line("oms_wms_completed_total", w.completed);
  header(out, "oms_wms_rejected_total", "counter",
         "Calls refused or failed without the WMS's answer, by reason.");
  line("oms_wms_rejected_total{reason=\"queue_full\"}", w.rejected_queue_full);
  line("oms_wms_rejected_total{reason=\"breaker_open\"}",
       w.rejected_breaker_open);
  line("oms_wms_rejected_total{reason=\"deadline\"}", w.failed_deadline);
  line("oms_wms_rejected_total{reason=\"attempts\"}", w.failed_attempts);
  line("oms_wms_rejected_total{reason=\"invalid\"}", w.rejected_invalid);
  header(out, "oms_wms_breaker_state", "gauge",
         "The WMS circuit breaker: 0 closed, 1 open, 2 half open.");
  line("oms_wms_breaker_state", static_cast<uint64_t>(w.breaker));
  header(out, "oms_wms_breaker_opened_total", "counter",
         "Times the WMS circuit breaker opened.");
  line("oms_wms_breaker_opened_total", w.breaker_opened);
  header(out, "oms_wms_queue_depth", "gauge", "WMS calls waiting to be sent.");
  line("oms_wms_queue_depth", w.queue_depth);
  header(out, "oms_wms_queue_depth_max", "gauge",
         "Most WMS calls ever waiting at once.");
  line("oms_wms_queue_depth_max", w.queue_depth_max);
  header(out, "oms_wms_in_flight", "gauge",
         "Requests sent to the WMS and not answered yet.");
  line("oms_wms_in_flight", w.in_flight);
  header(out, "oms_wms_sends_per_window_max", "gauge",
         "Most requests sent to the WMS in any sliding 1-second window.");
  line("oms_wms_sends_per_window_max", w.sent_in_window_max);
}

} // namespace

std::string metrics::render(const journal_stats* journal,
                            const process_view& process,
                            const wms_gateway_stats* wms) const {
  std::string out;
  out.reserve(16 * 1024);
  header(out, "oms_up", "gauge", "1 while omsd runs.");
  out += "oms_up 1\n";
  // As /readyz answers: not ready while stopping or while commits fail.
  bool ready = process.ready && (journal == nullptr || !journal->failing) &&
               process.store_check != "damaged";
  header(out, "oms_ready", "gauge",
         "1 when the store is open, recovery finished, the journal "
         "commits and no damage was found in the store.");
  out += "oms_ready " + std::to_string(ready ? 1 : 0) + "\n";
  header(out, "oms_store_check", "gauge",
         "The background integrity check of the store's SQLite files: 1 for "
         "its state (off, running, ok, damaged, failed), 0 for the others.");
  for (const char* state : {"off", "running", "ok", "damaged", "failed"})
    out += std::string{"oms_store_check{state=\""} + state + "\"} " +
           (process.store_check == state ? "1" : "0") + "\n";
  header(out, "oms_process_start_time_seconds", "gauge",
         "Start time of omsd since the Unix epoch.");
  out += "oms_process_start_time_seconds " + num(process.start_time_seconds) +
         "\n";
  header(out, "oms_skus_unavailable", "gauge",
         "SKUs whose actor stopped on a failure (a broken invariant); they "
         "answer UNAVAILABLE until omsd restarts.");
  out +=
      "oms_skus_unavailable " + std::to_string(process.skus_unavailable) + "\n";
  header(out, "oms_actors_running", "gauge",
         "Actors running: one per SKU, per open order in use (an idle one "
         "rests without one), per customer in use, and omsd's services.");
  out += "oms_actors_running " + std::to_string(process.actors) + "\n";
  header(out, "oms_event_streams_open", "gauge",
         "Change-feed streams open (Server-Sent Events).");
  out +=
      "oms_event_streams_open " + std::to_string(process.event_streams) + "\n";
  header(out, "oms_event_polls_waiting", "gauge",
         "Long polls of the change feed waiting for an event.");
  out +=
      "oms_event_polls_waiting " + std::to_string(process.event_polls) + "\n";
  if (auto& w = process.webhooks) {
    header(out, "oms_webhook_deliveries_total", "counter",
           "Webhook delivery attempts by outcome: delivered (2xx), failed "
           "(retried later), dead (refused by the receiver).");
    out += "oms_webhook_deliveries_total{outcome=\"delivered\"} " +
           std::to_string(w->delivered) + "\n";
    out += "oms_webhook_deliveries_total{outcome=\"failed\"} " +
           std::to_string(w->failed) + "\n";
    out += "oms_webhook_deliveries_total{outcome=\"dead\"} " +
           std::to_string(w->dead) + "\n";
    header(out, "oms_webhook_events_expired_total", "counter",
           "Events the retention pruned before a webhook subscription read "
           "them (never delivered).");
    out +=
        "oms_webhook_events_expired_total " + std::to_string(w->expired) + "\n";
    header(out, "oms_webhooks", "gauge", "Webhook subscriptions by state.");
    out += "oms_webhooks{state=\"active\"} " + std::to_string(w->active) + "\n";
    out += "oms_webhooks{state=\"paused\"} " + std::to_string(w->paused) + "\n";
    header(out, "oms_webhook_lag_events", "gauge",
           "Committed events past the webhooks' cursors, summed over "
           "subscriptions.");
    out += "oms_webhook_lag_events " + std::to_string(w->lag_events) + "\n";
    header(out, "oms_webhook_oldest_undelivered_seconds", "gauge",
           "Age of the oldest event a webhook is still trying to deliver (0: "
           "none).");
    out += "oms_webhook_oldest_undelivered_seconds " +
           std::to_string(w->oldest_undelivered_s) + "\n";
  }
  if (auto& k = process.cluster) {
    header(out, "oms_cluster_shards", "gauge",
           "Shards of the cluster (S, fixed when it was made).");
    out += "oms_cluster_shards " + std::to_string(k->shards) + "\n";
    header(out, "oms_cluster_shards_owned", "gauge",
           "Shards whose lease this node holds.");
    out += "oms_cluster_shards_owned " + std::to_string(k->shards_owned) + "\n";
    header(out, "oms_cluster_nodes_live", "gauge",
           "Nodes whose heartbeat is younger than the lease TTL, as this "
           "node's last tick read the table.");
    out += "oms_cluster_nodes_live " + std::to_string(k->nodes_live) + "\n";
    header(out, "oms_cluster_shard_changes_total", "counter",
           "Shard leases this node took (gained) or stopped holding (lost: "
           "taken over, not renewed in time, or handed back).");
    out += "oms_cluster_shard_changes_total{change=\"gained\"} " +
           std::to_string(k->gained_total) + "\n";
    out += "oms_cluster_shard_changes_total{change=\"lost\"} " +
           std::to_string(k->lost_total) + "\n";
    header(out, "oms_cluster_lease_ticks_total", "counter",
           "Ticks of the lease keeper; failed: with at least one error (the "
           "lease table unreachable, a lock wait run out).");
    out += "oms_cluster_lease_ticks_total{outcome=\"clean\"} " +
           std::to_string(k->ticks - k->ticks_failed) + "\n";
    out += "oms_cluster_lease_ticks_total{outcome=\"failed\"} " +
           std::to_string(k->ticks_failed) + "\n";
    header(out, "oms_cluster_last_tick_age_seconds", "gauge",
           "Since the lease keeper's last tick ended (-1: none yet).");
    out += "oms_cluster_last_tick_age_seconds " +
           num(k->last_tick_age_seconds) + "\n";
    header(out, "oms_cluster_peers", "gauge",
           "Other nodes whose region this node watches (--cluster-listen), "
           "by whether their last ping was answered in time.");
    out += "oms_cluster_peers{reachable=\"true\"} " +
           std::to_string(k->peers_reachable) + "\n";
    out += "oms_cluster_peers{reachable=\"false\"} " +
           std::to_string(k->peers - k->peers_reachable) + "\n";
    if (k->forwarding) {
      header(out, "oms_cluster_forwarded_total", "counter",
             "Requests for another node's shard forwarded to its owner, by "
             "outcome: answered by the owner, failed (no answer in time: "
             "the client got 503), unroutable (the owner's region not "
             "connected: 421).");
      out += "oms_cluster_forwarded_total{outcome=\"answered\"} " +
             std::to_string(k->forwarded_answered) + "\n";
      out += "oms_cluster_forwarded_total{outcome=\"failed\"} " +
             std::to_string(k->forwarded_failed) + "\n";
      out += "oms_cluster_forwarded_total{outcome=\"unroutable\"} " +
             std::to_string(k->forwarded_unroutable) + "\n";
      header(out, "oms_cluster_forward_duration_seconds", "histogram",
             "Round trips of the forwarded requests the owner answered.");
      histogram(out, "oms_cluster_forward_duration_seconds", "",
                k->forward_bounds_us, k->forward_buckets, 1e-6,
                k->forward_seconds_sum);
    }
  }
  header(out, "oms_customers", "gauge", "Customers with an API token.");
  out += "oms_customers " + std::to_string(process.customers) + "\n";
  header(out, "oms_http_requests_in_flight", "gauge",
         "Requests received and not yet answered.");
  out += "oms_http_requests_in_flight " + std::to_string(in_flight()) + "\n";
  render_connections(out, connections_);
  {
    std::lock_guard<std::mutex> guard{mtx_};
    header(out, "oms_http_requests_total", "counter",
           "HTTP requests answered, by route, method and status.");
    for (auto& [key, s] : series_)
      for (auto& [status, n] : s.by_status)
        out += "oms_http_requests_total{route=\"" + key.first + "\",method=\"" +
               key.second + "\",status=\"" + std::to_string(status) + "\"} " +
               std::to_string(n) + "\n";
    header(out, "oms_http_request_duration_seconds", "histogram",
           "Time from a request's arrival to its answer, by route and "
           "method.");
    for (auto& [key, s] : series_)
      histogram(out, "oms_http_request_duration_seconds",
                "route=\"" + key.first + "\",method=\"" + key.second + "\"",
                latency_bounds, s.buckets, 1.0, s.sum);
  }
  if (wms != nullptr)
    render_wms(out, *wms);
  if (journal == nullptr)
    return out;
  auto& j = *journal;
  header(out, "oms_orders_open", "gauge",
         "Orders not yet DELIVERED or CANCELLED, by status.");
  for (size_t i = 0; i < j.open_orders.size(); ++i) {
    auto st = static_cast<order_status>(i);
    if (!is_terminal(st))
      out += std::string{"oms_orders_open{status=\""} + to_string(st) + "\"} " +
             std::to_string(j.open_orders[i]) + "\n";
  }
  header(out, "oms_order_transitions_total", "counter",
         "Orders that entered each status since start.");
  for (size_t i = 0; i < j.entered.size(); ++i)
    out += std::string{"oms_order_transitions_total{status=\""} +
           to_string(static_cast<order_status>(i)) + "\"} " +
           std::to_string(j.entered[i]) + "\n";
  header(out, "oms_orders_holding_stock", "gauge",
         "Open orders holding units: provisionally (CREATED: reserved) or "
         "firmly (CONFIRMED, PAID: blocked).");
  auto open = [&](order_status st) {
    auto i = static_cast<size_t>(st);
    return i < j.open_orders.size() ? j.open_orders[i] : 0;
  };
  out += "oms_orders_holding_stock{kind=\"reserved\"} " +
         std::to_string(open(order_status::created)) + "\n";
  out +=
      "oms_orders_holding_stock{kind=\"blocked\"} " +
      std::to_string(open(order_status::confirmed) + open(order_status::paid)) +
      "\n";
  header(out, "oms_units_held", "gauge",
         "Units the open orders hold: reserved (CREATED) or blocked "
         "(CONFIRMED, PAID), as their records say.");
  out += "oms_units_held{kind=\"reserved\"} " +
         std::to_string(j.units_reserved) + "\n";
  out += "oms_units_held{kind=\"blocked\"} " + std::to_string(j.units_blocked) +
         "\n";
  header(out, "oms_journal_events_total", "counter",
         "Events made durable since start.");
  out += "oms_journal_events_total " + std::to_string(j.events) + "\n";
  header(out, "oms_journal_commits_total", "counter",
         "Journal commits (one transaction and one sync each).");
  out += "oms_journal_commits_total " + std::to_string(j.batches) + "\n";
  header(out, "oms_journal_commit_failures_total", "counter",
         "Journal commits that failed.");
  out +=
      "oms_journal_commit_failures_total " + std::to_string(j.failures) + "\n";
  header(out, "oms_journal_failing", "gauge",
         "1 while the journal's last commit failed (omsd is not ready).");
  out += std::string{"oms_journal_failing "} + (j.failing ? "1" : "0") + "\n";
  header(out, "oms_journal_last_seq", "gauge",
         "Sequence number of the last durable event.");
  out += "oms_journal_last_seq " + std::to_string(j.last_seq) + "\n";
  header(out, "oms_journal_unapplied_events", "gauge",
         "Durable events not yet applied to the store's current-state tables "
         "(reads apply them first).");
  out += "oms_journal_unapplied_events " + std::to_string(j.unapplied) + "\n";
  header(out, "oms_journal_applies_total", "counter",
         "Transactions that applied durable events to the current-state "
         "tables.");
  out += "oms_journal_applies_total " + std::to_string(j.applies) + "\n";
  header(out, "oms_journal_batch_events", "histogram",
         "Events per journal commit.");
  histogram(out, "oms_journal_batch_events", "", journal_batch_bounds,
            j.batch_sizes, 1.0, static_cast<double>(j.events));
  header(out, "oms_journal_commit_seconds", "histogram",
         "Duration of a journal commit, sync included.");
  histogram(out, "oms_journal_commit_seconds", "", journal_commit_us_bounds,
            j.commit_us, 1e-6, static_cast<double>(j.commit_us_sum) * 1e-6);
  return out;
}

} // namespace oms::daemon
