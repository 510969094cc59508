#include "system/wms_sim/sim.hpp"

#include <algorithm>
#include <set>

#include "system/wms_sim/body_reader.hpp"
#include "system/wms_sim/routes.hpp"

namespace oms::wms_sim {

json to_json(const fault_settings& f) {
  return json{
      {"rateLimit", f.rate_limit},  {"failRate", f.fail_rate},
      {"latencyMs", f.latency_ms},  {"hangRate", f.hang_rate},
      {"hangForMs", f.hang_for_ms}, {"duplicateRate", f.duplicate_rate}};
}

sim::sim(options opts, clock_fn now, std::function<double()> uniform)
    : warehouse(opts.batch_interval_ms, opts.limits, opts.seed, std::move(now),
                std::move(uniform)),
      faults_(opts.faults) {}

outcome sim::events(const std::string& after, int64_t limit) {
  bool duplicated = false;
  auto res = feed_page(after, limit, faults_.duplicate_rate, duplicated);
  if (duplicated)
    ++stats_.duplicates;
  return res;
}

outcome sim::load_seed(const json& seed) {
  if (!seed.is_object() || !seed.contains("skus") || !seed["skus"].is_array())
    return invalid("skus", "a seed is {\"skus\":[{\"sku\",\"onHand\","
                           "\"unitPrice\"}]}");
  // Checked whole before anything changes: a bad seed loads nothing.
  std::vector<sku_row> rows;
  std::set<std::string> seen;
  size_t n = 0;
  for (auto& entry : seed["skus"]) {
    auto where = "skus[" + std::to_string(n++) + "]";
    body_reader r{entry.dump(), {"sku", "onHand", "unitPrice"}};
    sku_row row{r.text("sku", true), r.integer("onHand", true),
                r.integer("unitPrice", true)};
    if (r.error()) {
      auto err = *r.error();
      err.body["error"]["message"] =
          where + ": " + err.body["error"]["message"].get<std::string>();
      return err;
    }
    if (!valid_id(row.sku) || row.on_hand < 0 || row.on_hand > on_hand_max ||
        row.unit_price < 0 || row.unit_price > unit_price_max)
      return invalid(where, where +
                                ": sku must be 1..128 characters of "
                                "[A-Za-z0-9._:-], onHand in 0.." +
                                std::to_string(on_hand_max) +
                                ", unitPrice in 0.." +
                                std::to_string(unit_price_max));
    if (!seen.insert(row.sku).second)
      return invalid(where, where + ": SKU " + row.sku + " appears twice");
    rows.push_back(std::move(row));
  }
  return load_rows(rows);
}

json sim::state() const {
  auto j = stock_state();
  json by_route = json::object();
  for (auto& [route, n] : stats_.by_route)
    by_route[route] = n;
  j["requests"] = {
      {"total", stats_.total},           {"rateLimited", stats_.rate_limited},
      {"faults", stats_.faults},         {"hangs", stats_.hangs},
      {"duplicates", stats_.duplicates}, {"byRoute", by_route}};
  j["maxRequestsInAnySecond"] = max_in_second_;
  j["faults"] = to_json(faults_);
  return j;
}

bool sim::arrive(int64_t now, int64_t& retry_after_ms) {
  // The sliding window behind maxRequestsInAnySecond: arrivals less than
  // 1000 ms apart from this one.
  arrivals_.push_back(now);
  while (!arrivals_.empty() && arrivals_.front() <= now - 1000)
    arrivals_.pop_front();
  max_in_second_ =
      std::max(max_in_second_, static_cast<int64_t>(arrivals_.size()));
  // The limiter counts per wall-clock second (now / 1000).
  auto window = now >= 0 ? now / 1000 : (now - 999) / 1000;
  if (window != window_) {
    window_ = window;
    window_count_ = 0;
  }
  ++window_count_;
  auto limit = faults_.rate_limit;
  if (limit <= 0 || window_count_ <= limit)
    return false;
  retry_after_ms = (window + 1) * 1000 - now;
  return true;
}

bool sim::admit(const request& req, const std::vector<std::string>& seg,
                response& resp) {
  resp.is_public = true;
  auto now = warehouse::now();
  ++stats_.total;
  resp.route = route_name(req.method, seg);
  ++stats_.by_route[resp.route];
  auto& f = faults_;
  resp.delay_ms = f.latency_ms;
  auto refuse = [&resp](outcome o) {
    resp.status = o.status;
    resp.body = std::move(o.body);
    return false;
  };
  int64_t retry_after_ms = 0;
  if (arrive(now, retry_after_ms)) {
    ++stats_.rate_limited;
    auto secs = std::max<int64_t>(1, (retry_after_ms + 999) / 1000);
    resp.headers.emplace_back("Retry-After", std::to_string(secs));
    return refuse(fail(429, "RATE_LIMITED",
                       "more than " + std::to_string(f.rate_limit) +
                           " requests in this second",
                       json{{"retryAfterMs", retry_after_ms}}));
  }
  if (f.fail_rate > 0 && draw() < f.fail_rate) {
    ++stats_.faults;
    return refuse(fail(503, "INJECTED_FAULT", "injected fault: try again"));
  }
  if (f.hang_rate > 0 && draw() < f.hang_rate) {
    ++stats_.hangs;
    resp.delay_ms += f.hang_for_ms;
  }
  return true;
}

response sim::handle(const request& req) {
  auto seg = decode_path(req.path);
  response resp;
  if (seg && is_public_path(*seg) && !admit(req, *seg, resp))
    return resp;
  auto routed = seg ? route(*this, req, *seg) : no_route(req.path);
  resp.status = routed.status;
  resp.body = std::move(routed.body);
  resp.headers.insert(resp.headers.end(), routed.headers.begin(),
                      routed.headers.end());
  if (!resp.is_public)
    resp.route = routed.route;
  return resp;
}

} // namespace oms::wms_sim
