// oms-http-load: drives a running omsd over HTTP with N keep-alive clients
// and reports orders/s and latency percentiles; with --ack-log it records
// every acknowledged step so that `verify` can check, after a crash and a
// restart, that nothing acknowledged was lost and nothing unrequested
// appeared.
//
//   oms-http-load run --url URL --token ADMIN [--clients 8] [--seconds 2]
//                     [--workload create|lifecycle] [--skus 1]
//                     [--ack-log FILE] [--quiet]
//   oms-http-load verify --url URL --token ADMIN --ack-log FILE
//   oms-http-load wait --url URL [--seconds 20]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "system/client/http_client.hpp"

namespace {

using json = nlohmann::json;
using oms::client::http_client;
using oms::client::http_result;
using steady = std::chrono::steady_clock;

const json ship_to = {{"line1", "1 Load Street"},
                      {"city", "Pune"},
                      {"postalCode", "411001"},
                      {"country", "IN"}};

json parse(const http_result& r) {
  auto j = json::parse(r.body, nullptr, false);
  return j.is_discarded() ? json{} : j;
}

std::string code_of(const http_result& r) {
  auto j = parse(r);
  if (j.is_object() && j.contains("error"))
    return j["error"].value("code", "");
  return r.status == 0 ? "NO_ANSWER" : "HTTP_" + std::to_string(r.status);
}

// Appends lines and flushes each: the load client outlives a killed daemon.
class ack_log {
 public:
  explicit ack_log(const std::string& path) {
    if (!path.empty())
      f_ = std::fopen(path.c_str(), "a");
  }
  ~ack_log() {
    if (f_)
      std::fclose(f_);
  }
  void write(const std::string& line) {
    if (!f_)
      return;
    std::lock_guard<std::mutex> guard{mtx_};
    std::fputs((line + "\n").c_str(), f_);
    std::fflush(f_);
  }

 private:
  std::FILE* f_ = nullptr;
  std::mutex mtx_;
};

double percentile(std::vector<double>& xs, double p) {
  if (xs.empty())
    return 0;
  auto i = static_cast<size_t>(p * static_cast<double>(xs.size() - 1));
  std::nth_element(xs.begin(), xs.begin() + static_cast<long>(i), xs.end());
  return xs[i];
}

struct run_options {
  std::string url;
  std::string token;
  int clients = 8;
  double seconds = 2;
  std::string workload = "create";
  int skus = 1;
  int64_t stock = 1'000'000;
  std::string ack_log;
  bool quiet = false;
};

int run(const run_options& o) {
  http_client admin{o.url, o.token};
  ack_log acks{o.ack_log};
  auto tag = std::to_string(::getpid()) + "-" +
             std::to_string(steady::now().time_since_epoch().count() % 1000000);
  // Stock on SKUs of this run, and one customer per client.
  std::vector<std::string> skus;
  for (int i = 0; i < o.skus; ++i) {
    auto sku = "LOAD-" + tag + "-" + std::to_string(i);
    auto r = admin.post("/v1/inventory/" + sku + "/receipts",
                        json{{"quantity", o.stock}, {"unitPrice", 100}}.dump());
    if (r.status != 200) {
      std::cerr << "oms-http-load: cannot receive stock at " << o.url << ": "
                << (r.status == 0 ? r.error : r.body) << "\n";
      return 3;
    }
    acks.write("sku " + sku + " " + std::to_string(o.stock));
    skus.push_back(sku);
  }
  struct customer {
    std::string id;
    std::string token;
  };
  std::vector<customer> customers;
  for (int i = 0; i < o.clients; ++i) {
    auto r =
        admin.post("/v1/customers",
                   json{{"name", "load client " + std::to_string(i)}}.dump());
    if (r.status != 201) {
      std::cerr << "oms-http-load: cannot create a customer: " << r.body
                << "\n";
      return 3;
    }
    auto j = parse(r);
    customers.push_back({j["customerId"], j["token"]});
    acks.write("customer " + customers.back().id);
  }
  std::atomic<bool> done{false};
  std::atomic<uint64_t> created{0};
  std::mutex mtx;
  std::vector<double> latencies; // create, seconds
  std::map<std::string, uint64_t> outcomes;
  auto deadline = steady::now() + std::chrono::duration_cast<steady::duration>(
                                      std::chrono::duration<double>(o.seconds));
  auto started = steady::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < o.clients; ++t)
    threads.emplace_back([&, t] {
      auto& me = customers[static_cast<size_t>(t)];
      http_client c{o.url, me.token, std::chrono::seconds(10)};
      http_client adm{o.url, o.token, std::chrono::seconds(10)};
      std::mt19937 rng{static_cast<unsigned>(t * 7919 + 1)};
      std::vector<double> lat;
      std::map<std::string, uint64_t> seen;
      int failures_in_a_row = 0;
      uint64_t n = 0;
      while (!done && steady::now() < deadline) {
        auto& sku = skus[rng() % skus.size()];
        acks.write("try " + me.id + " " + std::to_string(n++));
        auto t0 = steady::now();
        auto r = c.post("/v1/orders",
                        json{{"customerId", me.id},
                             {"items", {{{"sku", sku}, {"quantity", 1}}}},
                             {"address", ship_to}}
                            .dump());
        lat.push_back(
            std::chrono::duration<double>(steady::now() - t0).count());
        if (r.status != 201) {
          ++seen[code_of(r)];
          if (r.status == 0 && ++failures_in_a_row >= 3)
            break; // the daemon is gone
          continue;
        }
        failures_in_a_row = 0;
        ++seen["CREATED"];
        ++created;
        auto order = parse(r);
        auto id = order["id"].get<std::string>();
        acks.write("created " + id + " " + sku);
        if (o.workload != "lifecycle")
          continue;
        auto roll = rng() % 10;
        if (roll < 2) {
          acks.write("cancel " + id);
          auto x = c.post("/v1/orders/" + id + "/cancel", "");
          if (x.status == 200)
            acks.write("cancelled " + id);
          continue;
        }
        if (adm.post("/v1/orders/" + id + "/confirm", "").status != 200)
          continue;
        acks.write("confirmed " + id);
        auto pay = c.post("/v1/orders/" + id + "/pay",
                          json{{"amount", order["totalAmount"]}}.dump(),
                          {"Idempotency-Key: pay-" + id});
        if (pay.status != 200)
          continue;
        acks.write("paid " + id);
        if (roll < 4) {
          acks.write("cancel " + id);
          auto x = c.post("/v1/orders/" + id + "/cancel", "");
          if (x.status == 200)
            acks.write("cancelled " + id);
          continue;
        }
        if (adm.post("/v1/orders/" + id + "/ship", "").status == 200) {
          acks.write("shipped " + id);
          if (adm.post("/v1/orders/" + id + "/deliver", "").status == 200)
            acks.write("delivered " + id);
        }
      }
      std::lock_guard<std::mutex> guard{mtx};
      latencies.insert(latencies.end(), lat.begin(), lat.end());
      for (auto& [k, v] : seen)
        outcomes[k] += v;
    });
  // Progress on a terminal.
  bool tty = ::isatty(2) && !o.quiet;
  while (tty && steady::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    auto elapsed =
        std::chrono::duration<double>(steady::now() - started).count();
    std::fprintf(stderr, "\r  %5.1f s  %10llu orders  %9.0f orders/s", elapsed,
                 static_cast<unsigned long long>(created.load()),
                 created.load() / std::max(elapsed, 1e-9));
  }
  for (auto& t : threads)
    t.join();
  if (tty)
    std::fprintf(stderr, "\n");
  auto elapsed = std::chrono::duration<double>(steady::now() - started).count();
  json summary{{"workload", o.workload},
               {"clients", o.clients},
               {"skus", o.skus},
               {"seconds", elapsed},
               {"ordersCreated", created.load()},
               {"ordersPerSecond", created.load() / std::max(elapsed, 1e-9)},
               {"createLatencyMs",
                {{"p50", percentile(latencies, 0.50) * 1000},
                 {"p99", percentile(latencies, 0.99) * 1000},
                 {"p999", percentile(latencies, 0.999) * 1000}}},
               {"outcomes", outcomes}};
  if (!o.quiet)
    std::cout << summary.dump(2) << "\n";
  return 0;
}

int verify(const std::string& url, const std::string& token,
           const std::string& path) {
  http_client admin{url, token};
  std::ifstream in{path};
  if (!in) {
    std::cerr << "oms-http-load: cannot read " << path << "\n";
    return 2;
  }
  // The furthest acknowledged step of every order.
  const std::vector<std::string> steps = {"created", "confirmed", "paid",
                                          "shipped", "delivered"};
  std::map<std::string, int> furthest;
  std::set<std::string> cancelled;
  std::set<std::string> cancel_tried;
  std::map<std::string, uint64_t> tries;
  std::vector<std::string> customers;
  std::vector<std::string> skus;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls{line};
    std::string what, id;
    ls >> what >> id;
    if (what == "try")
      ++tries[id];
    else if (what == "customer")
      customers.push_back(id);
    else if (what == "sku")
      skus.push_back(id);
    else if (what == "cancelled")
      cancelled.insert(id);
    else if (what == "cancel")
      cancel_tried.insert(id);
    else if (auto i = std::find(steps.begin(), steps.end(), what);
             i != steps.end())
      furthest[id] =
          std::max(furthest[id], static_cast<int>(i - steps.begin()));
  }
  int bad = 0;
  auto complain = [&](const std::string& what) {
    if (++bad <= 20)
      std::cout << "violation: " << what << "\n";
  };
  for (auto& [id, step] : furthest) {
    auto r = admin.get("/v1/orders/" + id);
    if (r.status != 200) {
      complain("acknowledged order " + id + " is missing (" + code_of(r) + ")");
      continue;
    }
    auto status = parse(r)["status"].get<std::string>();
    if (cancelled.count(id)) {
      if (status != "CANCELLED")
        complain("order " + id + " was cancelled but is " + status);
      continue;
    }
    static const std::map<std::string, int> rank = {{"CREATED", 0},
                                                    {"CONFIRMED", 1},
                                                    {"PAID", 2},
                                                    {"SHIPPED", 3},
                                                    {"DELIVERED", 4}};
    if (status == "CANCELLED") {
      // Only an expiry (before confirmation) or a cancel we sent.
      if (step >= 1 && !cancel_tried.count(id))
        complain("order " + id + " was acknowledged " + steps[step] +
                 " but is CANCELLED");
    } else if (rank.count(status) == 0 || rank.at(status) < step) {
      complain("order " + id + " was acknowledged " + steps[step] + " but is " +
               status);
    }
  }
  // Nothing unrequested: no customer has more orders than it asked for.
  uint64_t listed = 0;
  for (auto& c : customers) {
    uint64_t count = 0;
    std::string cursor;
    for (;;) {
      auto r = admin.get("/v1/customers/" + c + "/orders?limit=100" +
                         (cursor.empty() ? "" : "&cursor=" + cursor));
      if (r.status != 200) {
        complain("customer " + c + " is missing (" + code_of(r) + ")");
        break;
      }
      auto page = parse(r);
      count += page["orders"].size();
      if (page["nextCursor"].is_null())
        break;
      cursor = page["nextCursor"].get<std::string>();
    }
    listed += count;
    if (count > tries[c])
      complain("customer " + c + " has " + std::to_string(count) +
               " orders but asked for " + std::to_string(tries[c]));
  }
  // Stock conservation, per SKU and across the system.
  for (auto& sku : skus) {
    auto v = parse(admin.get("/v1/inventory/" + sku));
    if (!v.is_object() || !v.contains("onHand")) {
      complain("SKU " + sku + " is missing");
      continue;
    }
    auto on_hand = v["onHand"].get<int64_t>();
    if (v["available"].get<int64_t>() < 0 ||
        on_hand != v["receivedTotal"].get<int64_t>() -
                       v["consumedTotal"].get<int64_t>() ||
        v["available"].get<int64_t>() != on_hand -
                                             v["reserved"].get<int64_t>() -
                                             v["blocked"].get<int64_t>())
      complain("SKU " + sku + " breaks conservation: " + v.dump());
  }
  auto audit = parse(admin.get("/v1/audit"));
  if (!audit.is_object() || !audit["violations"].empty())
    complain("the audit reports: " + audit.dump());
  std::cout << "verified " << furthest.size() << " acknowledged orders, "
            << listed << " orders listed for " << customers.size()
            << " customers, " << skus.size() << " SKUs: " << bad
            << " violations\n";
  return bad == 0 ? 0 : 1;
}

int wait_ready(const std::string& url, double seconds) {
  http_client c{url, {}, std::chrono::milliseconds(500)};
  auto deadline = steady::now() + std::chrono::duration_cast<steady::duration>(
                                      std::chrono::duration<double>(seconds));
  while (steady::now() < deadline) {
    if (c.get("/readyz").status == 200)
      return 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::cerr << "oms-http-load: " << url << " not ready after " << seconds
            << " s\n";
  return 1;
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"oms-http-load: load and crash checks against a running omsd"};
  app.require_subcommand(1);
  run_options o;
  o.url = "http://127.0.0.1:8080";
  auto* run_cmd = app.add_subcommand("run", "Create orders with N clients");
  run_cmd->add_option("--url", o.url, "omsd's address")->capture_default_str();
  run_cmd->add_option("--token", o.token, "The admin token")
      ->required()
      ->envname("OMS_TOKEN");
  run_cmd->add_option("--clients", o.clients, "Concurrent keep-alive clients")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  run_cmd->add_option("--seconds", o.seconds, "How long to run")
      ->capture_default_str();
  run_cmd
      ->add_option("--workload", o.workload,
                   "create: single-line creates; lifecycle: create, then "
                   "confirm, pay, ship, deliver or cancel")
      ->capture_default_str()
      ->check(CLI::IsMember({"create", "lifecycle"}));
  run_cmd->add_option("--skus", o.skus, "SKUs the orders spread over")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  run_cmd->add_option("--stock", o.stock, "Units received per SKU")
      ->capture_default_str();
  run_cmd->add_option("--ack-log", o.ack_log,
                      "Append every acknowledged step to this file");
  run_cmd->add_flag("--quiet", o.quiet, "No progress and no summary");
  std::string vurl = o.url, vtoken, vlog;
  auto* verify_cmd =
      app.add_subcommand("verify", "Check an ack log against the daemon");
  verify_cmd->add_option("--url", vurl, "omsd's address")
      ->capture_default_str();
  verify_cmd->add_option("--token", vtoken, "The admin token")
      ->required()
      ->envname("OMS_TOKEN");
  verify_cmd->add_option("--ack-log", vlog, "The log run wrote")->required();
  std::string wurl = o.url;
  double wseconds = 20;
  auto* wait_cmd = app.add_subcommand("wait", "Wait until /readyz answers");
  wait_cmd->add_option("--url", wurl, "omsd's address")->capture_default_str();
  wait_cmd->add_option("--seconds", wseconds, "Longest wait")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (*run_cmd)
    return run(o);
  if (*verify_cmd)
    return verify(vurl, vtoken, vlog);
  return wait_ready(wurl, wseconds);
}
