// oms-http-load: drives a running omsd over HTTP with N closed-loop
// keep-alive clients, on SKUs it receives for itself (a fresh prefix per
// run), then reads every SKU back through the API to check that nothing was
// oversold and that the SKUs hold exactly the units the clients were
// granted. Prints the shared one-line JSON summary last (system oms-http);
// exits 1 when a check fails. With --ack-log it records every acknowledged
// step so that `verify` can check, after a crash and a restart, that nothing
// acknowledged was lost and nothing unrequested appeared.
//
//   oms-http-load run --url URL --token ADMIN [--clients 8] [--seconds 5]
//                     [--warmup 1] [--workload hot|spread|multiline|
//                     lifecycle|cancel|flash|mixed] [--skus 10000]
//                     [--stock N] [--ack-log FILE] [--keyed] [--quiet]
//   oms-http-load verify --url URL --token ADMIN --ack-log FILE
//   oms-http-load wait --url URL [--seconds 20]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
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

#include "bench/bench_common.hpp"
#include "system/client/http_client.hpp"

namespace {

using json = nlohmann::json;
using oms::client::http_client;
using oms::client::http_result;
using steady = std::chrono::steady_clock;
namespace bench = oms::bench;
using bench::phase;

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

// -- run ----------------------------------------------------------------------

struct run_options {
  std::string url;
  std::string token;
  int clients = 8;
  double seconds = 5;
  bool seconds_given = false;
  double warmup = 1;
  std::string workload = "hot";
  int skus = 10'000;
  /// SKUs PREFIX-0, PREFIX-1, ... instead of a fresh prefix of this run's.
  std::string sku_prefix;
  int64_t stock = 0; // 0: 1,000,000 (flash: 1000)
  std::string ack_log;
  /// Each create under an Idempotency-Key of its own, as a careful client
  /// sends it.
  bool keyed = false;
  bool quiet = false;
};

// How the daemon answered one request.
enum class outcome {
  ok,      // 2xx
  refused, // 409 INSUFFICIENT_STOCK on a create
  failed,  // another 4xx: nothing was changed
  unknown, // no answer or 5xx: it may or may not have been applied
};

// What one client measured (while measuring) and changed (always).
struct client_stats : bench::client_counts {
  using client_counts::client_counts;
  // Over the whole run, warm-up included.
  uint64_t server_errors = 0; // 5xx answers
  bool refused_once = false;
  bool daemon_gone = false;
  std::map<std::string, uint64_t> outcomes;
};

struct customer_login {
  std::string id;
  std::string token;
};

struct run_state : bench::run_phase {
  run_options o;
  std::vector<std::string> skus;
  std::vector<customer_login> customers;
  std::atomic<int> clients_done{0};
  steady::time_point start;
};

bool chained(const std::string& workload) {
  return workload == "lifecycle" || workload == "cancel" || workload == "mixed";
}

// One closed-loop client on its own keep-alive connections.
void client_loop(run_state& r, ack_log& acks, size_t index, client_stats& st) {
  auto& me = r.customers[index];
  auto& w = r.o.workload;
  http_client c{r.o.url, me.token, std::chrono::seconds(10)};
  http_client adm{r.o.url, r.o.token, std::chrono::seconds(10)};
  std::mt19937 rng{static_cast<unsigned>(index * 7919 + 1)};
  int no_answer_in_a_row = 0;
  uint64_t tries = 0;
  // Sends one request and books its answer's kind and latency.
  auto send = [&](http_client& via, const std::string& path,
                  const std::string& body, bool create,
                  const std::vector<std::string>& headers = {}) {
    auto t0 = steady::now();
    auto res = via.post(path, body, headers);
    auto measuring = r.current() == phase::measure;
    if (measuring && chained(w))
      st.requests.record(steady::now() - t0);
    outcome kind;
    if (res.status >= 200 && res.status < 300) {
      kind = outcome::ok;
      ++st.outcomes["OK"];
    } else {
      auto code = code_of(res);
      ++st.outcomes[code];
      if (create && res.status == 409 && code == "INSUFFICIENT_STOCK") {
        kind = outcome::refused;
        if (measuring) {
          ++st.refused;
          st.refusals.record(steady::now() - t0);
        }
      } else {
        kind = res.status == 0 || res.status >= 500 ? outcome::unknown
                                                    : outcome::failed;
        if (res.status >= 500)
          ++st.server_errors;
        if (kind == outcome::unknown)
          ++st.unknown_outcomes;
        if (measuring)
          ++st.errors;
      }
    }
    no_answer_in_a_row = res.status == 0 ? no_answer_in_a_row + 1 : 0;
    return std::make_pair(kind, std::move(res));
  };
  auto done_op = [&](steady::time_point op_start) {
    if (r.current() != phase::measure)
      return;
    st.latency.record(steady::now() - op_start);
    ++st.operations;
    r.ops.fetch_add(1, std::memory_order_relaxed);
  };
  std::vector<size_t> lines;
  auto move_units = [&](std::vector<int64_t>* from, std::vector<int64_t>* to) {
    bench::move_units(lines, from, to);
  };
  auto& u = st.units;
  while (r.current() != phase::stop) {
    if (no_answer_in_a_row >= 3) {
      st.daemon_gone = true; // the daemon is gone
      break;
    }
    bench::pick_skus(w, r.skus.size(), rng, lines);
    json items = json::array();
    for (auto i : lines)
      items.push_back({{"sku", r.skus[i]}, {"quantity", 1}});
    acks.write("try " + me.id + " " + std::to_string(tries++));
    auto op_start = steady::now();
    std::vector<std::string> key;
    if (r.o.keyed)
      key.push_back("Idempotency-Key: create-" + me.id + "-" +
                    std::to_string(tries));
    auto [kind, res] =
        send(c, "/v1/orders",
             json{{"customerId", me.id}, {"items", items}, {"address", ship_to}}
                 .dump(),
             true, key);
    if (kind == outcome::refused) {
      if (!chained(w))
        done_op(op_start);
      if (w == "flash") {
        st.refused_once = true;
        break;
      }
      continue;
    }
    if (kind != outcome::ok)
      continue;
    move_units(nullptr, &u.reserved);
    ++st.granted_total;
    st.last_grant_ns = bench::nanos_since(r.start);
    if (r.current() == phase::measure)
      ++st.granted;
    auto order = parse(res);
    auto id = order.value("id", std::string{});
    acks.write("created " + id + " " + r.skus[lines.front()]);
    auto path = "/v1/orders/" + id;
    if (!chained(w)) {
      done_op(op_start);
      continue;
    }
    auto cancel = [&](std::vector<int64_t>& held) {
      acks.write("cancel " + id);
      if (send(c, path + "/cancel", "", false).first != outcome::ok)
        return;
      acks.write("cancelled " + id);
      move_units(&held, nullptr);
      done_op(op_start); // cancel, mixed: the order has ended
    };
    auto pay = [&](const std::vector<std::string>& headers) {
      auto body =
          json{{"amount", order["amountDue"]}, {"paymentToken", "tok_visa"}}
              .dump();
      if (send(c, path + "/pay", body, false, headers).first != outcome::ok)
        return false;
      acks.write("paid " + id);
      return true;
    };
    auto ship_and_deliver = [&] {
      if (send(adm, path + "/ship", "", false).first != outcome::ok)
        return;
      acks.write("shipped " + id);
      move_units(&u.blocked, &u.consumed);
      if (send(adm, path + "/deliver", "", false).first != outcome::ok)
        return;
      acks.write("delivered " + id);
      done_op(op_start);
    };
    if (w == "cancel") {
      cancel(u.reserved);
    } else if (w == "lifecycle") {
      if (!pay({}))
        continue;
      move_units(&u.reserved, &u.blocked);
      ship_and_deliver();
    } else {
      // mixed: 20 % cancelled at once, 20 % after payment, the rest
      // confirmed, paid, shipped and delivered.
      auto roll = rng() % 10;
      if (roll < 2) {
        cancel(u.reserved);
        continue;
      }
      if (send(adm, path + "/confirm", "", false).first != outcome::ok)
        continue;
      acks.write("confirmed " + id);
      move_units(&u.reserved, &u.blocked);
      if (!pay({"Idempotency-Key: pay-" + id}))
        continue;
      if (roll < 4) {
        cancel(u.blocked);
        continue;
      }
      ship_and_deliver();
    }
  }
  ++r.clients_done;
}

// Receives `stock` units on every SKU of the run, from a few connections at
// once (receipts of at most 1,000,000 units, omsd's default limit).
bool set_up_skus(const run_state& r) {
  auto receiver = [&r] {
    return [&r, admin = std::make_unique<http_client>(r.o.url, r.o.token)](
               size_t i, int64_t part) {
      auto res =
          admin->post("/v1/inventory/" + r.skus[i] + "/receipts",
                      json{{"quantity", part}, {"unitPrice", 100}}.dump());
      if (res.status == 200)
        return true;
      std::cerr << "oms-http-load: cannot receive stock at " << r.o.url << ": "
                << (res.status == 0 ? res.error : res.body) << "\n";
      return false;
    };
  };
  return bench::receive_in_parallel(r.skus.size(), r.o.stock, 1'000'000, 16,
                                    receiver);
}

// Every SKU of the run, read back through the API: nothing handed out beyond
// the stock received, and (when every answer was definite) exactly the units
// the clients hold in each state.
void check_skus(const run_state& r, const bench::expected_units& want,
                bool exact, bench::violations& out) {
  std::atomic<size_t> next{0};
  std::vector<std::thread> threads;
  auto n = std::min<size_t>(8, r.skus.size());
  for (size_t t = 0; t < n; ++t)
    threads.emplace_back([&] {
      http_client admin{r.o.url, r.o.token};
      for (auto i = next++; i < r.skus.size(); i = next++) {
        auto& sku = r.skus[i];
        auto res = admin.get("/v1/inventory/" + sku);
        auto v = parse(res);
        if (res.status != 200 || !v.is_object() || !v.contains("onHand")) {
          out.fail("SKU " + sku + " cannot be read: " + code_of(res));
          continue;
        }
        auto get = [&](const char* key) {
          return v.value(key, int64_t{-1});
        };
        bench::sku_counters have{get("receivedTotal"), get("onHand"),
                                 get("reserved"),      get("blocked"),
                                 get("consumedTotal"), get("available")};
        for (auto& problem :
             bench::check_sku(sku, have, want, i, r.o.stock, exact))
          out.fail(std::move(problem));
      }
    });
  for (auto& t : threads)
    t.join();
}

int run(run_options o) {
  auto& w = o.workload;
  if (w == "create")
    w = "hot";
  bool flash = w == "flash";
  if (o.stock <= 0)
    o.stock = flash ? 1000 : 1'000'000;
  if (flash) {
    o.warmup = 0;
    if (!o.seconds_given)
      o.seconds = 60; // a cap: the run ends when the stock is sold out
  }
  if (w == "multiline" && o.skus < 3) {
    std::cerr << "oms-http-load: multiline needs --skus of 3 or more\n";
    return 2;
  }
  auto r_ptr = std::make_unique<run_state>();
  auto& r = *r_ptr;
  r.o = o;
  http_client admin{o.url, o.token};
  ack_log acks{o.ack_log};
  auto ready = parse(admin.get("/readyz"));
  auto store = ready.is_object() ? ready.value("store", std::string{}) : "";
  // SKUs of this run only, and one customer per client.
  auto tag = std::to_string(::getpid()) + "-" +
             std::to_string(steady::now().time_since_epoch().count() % 1000000);
  auto sku_count = w == "hot" || flash ? 1 : o.skus;
  auto prefix = o.sku_prefix.empty() ? "LOAD-" + tag : o.sku_prefix;
  for (int i = 0; i < sku_count; ++i)
    r.skus.push_back(prefix + "-" + std::to_string(i));
  auto setup_start = steady::now();
  if (!set_up_skus(r))
    return 3;
  for (auto& sku : r.skus)
    acks.write("sku " + sku + " " + std::to_string(o.stock));
  for (int i = 0; i < o.clients; ++i) {
    auto res =
        admin.post("/v1/customers",
                   json{{"name", "load client " + std::to_string(i)}}.dump());
    if (res.status != 201) {
      std::cerr << "oms-http-load: cannot create a customer: "
                << (res.status == 0 ? res.error : res.body) << "\n";
      return 3;
    }
    auto j = parse(res);
    r.customers.push_back({j["customerId"], j["token"]});
    acks.write("customer " + r.customers.back().id);
  }
  auto setup_s = bench::seconds_since(setup_start);
  if (!o.quiet)
    std::cerr << "oms-http-load: " << w << " against " << o.url << " ("
              << (store.empty() ? "store unknown" : store) << "), " << o.clients
              << " clients, " << r.skus.size() << " SKUs of " << o.stock
              << " units\n";
  // -- the run ----------------------------------------------------------------
  std::vector<std::unique_ptr<client_stats>> stats;
  for (int i = 0; i < o.clients; ++i)
    stats.push_back(std::make_unique<client_stats>(r.skus.size()));
  r.now = static_cast<int>(o.warmup > 0 ? phase::warmup : phase::measure);
  r.start = steady::now();
  std::vector<std::thread> threads;
  for (size_t i = 0; i < stats.size(); ++i)
    threads.emplace_back(client_loop, std::ref(r), std::ref(acks), i,
                         std::ref(*stats[i]));
  auto all_done = [&] {
    return r.clients_done.load() >= o.clients;
  };
  auto nap_until = [&](steady::time_point t) {
    while (!all_done() && steady::now() < t)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
  };
  if (o.warmup > 0) {
    nap_until(r.start + bench::duration_of(o.warmup));
    r.now = static_cast<int>(phase::measure);
  }
  auto measure_start = steady::now();
  {
    bench::timed_progress bar{w, o.seconds, r.ops,
                              bench::progress_wanted(o.quiet)};
    nap_until(measure_start + bench::duration_of(o.seconds));
  }
  r.now = static_cast<int>(phase::stop);
  bench::summary out;
  out.seconds = bench::seconds_since(measure_start);
  for (auto& t : threads)
    t.join();
  // -- what the clients saw ---------------------------------------------------
  client_stats all{r.skus.size()};
  bool daemon_gone = false;
  uint64_t clients_refused = 0;
  for (auto& st : stats) {
    all.merge(*st);
    all.server_errors += st->server_errors;
    clients_refused += st->refused_once ? 1 : 0;
    daemon_gone = daemon_gone || st->daemon_gone;
    for (auto& [k, v] : st->outcomes)
      all.outcomes[k] += v;
  }
  // -- invariants, read back through the API ----------------------------------
  bench::violations chk;
  bool exact = all.unknown_outcomes == 0;
  if (daemon_gone) {
    chk.fail("omsd stopped answering: nothing can be checked");
  } else {
    check_skus(r, all.units, exact, chk);
    auto audit = admin.get("/v1/audit");
    auto report = parse(audit);
    if (audit.status != 200 || !report.is_object() ||
        !report["violations"].empty())
      chk.fail("the audit reports: " +
               (audit.status == 0 ? audit.error : audit.body));
  }
  if (all.server_errors > 0)
    chk.fail(std::to_string(all.server_errors) + " answers were 5xx");
  if (flash) {
    bench::check_flash_granted(all.granted_total, o.stock, chk);
    if (clients_refused != static_cast<uint64_t>(o.clients))
      chk.fail(
          "flash: " +
          std::to_string(static_cast<uint64_t>(o.clients) - clients_refused) +
          " clients were never refused (not sold out in time)");
  }
  chk.print_samples();
  // -- the summary ------------------------------------------------------------
  out.bench = "oms-http-load";
  out.system = "oms-http";
  out.workload = w;
  out.clients = o.clients;
  bench::add_counts(out, all);
  out.invariants_ok = chk.ok;
  auto& x = out.extra;
  x["store"] = store.substr(0, store.find(':'));
  x["storeDescription"] = store;
  x["url"] = o.url;
  x["keyed"] = o.keyed;
  bench::add_run_extra(x, all, r.skus.size(), o.stock, o.warmup, setup_s,
                       chained(w), flash);
  x["serverErrors"] = all.server_errors;
  x["exactCheck"] = exact && !daemon_gone;
  x["violations"] = chk.count;
  x["outcomes"] = all.outcomes;
  if (!o.quiet)
    std::cerr << "oms-http-load: " << bench::describe_operations(out) << "\n";
  return bench::print_summary(out);
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
  auto deadline = steady::now() + bench::duration_of(seconds);
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
  auto* run_cmd = app.add_subcommand(
      "run", "Closed-loop clients against omsd; one JSON line last on stdout");
  run_cmd->add_option("--url", o.url, "omsd's address")->capture_default_str();
  run_cmd->add_option("--token", o.token, "The admin token")
      ->required()
      ->envname("OMS_TOKEN");
  run_cmd->add_option("--clients", o.clients, "Concurrent keep-alive clients")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  auto* seconds_opt =
      run_cmd
          ->add_option("--seconds", o.seconds,
                       "Measured time (flash: the longest it may take, "
                       "default 60)")
          ->capture_default_str()
          ->check(CLI::PositiveNumber);
  run_cmd
      ->add_option("--warmup", o.warmup,
                   "Unmeasured time before (not for flash)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  run_cmd
      ->add_option("--workload", o.workload,
                   "hot (alias create): 1 unit of one SKU; spread: 1 unit of "
                   "a SKU among --skus; multiline: 3 distinct SKUs; "
                   "lifecycle: create, pay, ship, deliver (an operation is a "
                   "delivered order); cancel: create, cancel; flash: --stock "
                   "units of one SKU, each client buys 1 unit until refused; "
                   "mixed: create, then cancel (20 %), or confirm, pay and "
                   "cancel (20 %) or ship and deliver (the crash harness's)")
      ->capture_default_str()
      ->check(CLI::IsMember({"hot", "create", "spread", "multiline",
                             "lifecycle", "cancel", "flash", "mixed"}));
  run_cmd
      ->add_option("--sku-prefix", o.sku_prefix,
                   "Order SKUs PREFIX-0, PREFIX-1, ... (default: a fresh "
                   "prefix per run); for a cluster, where the shard of a SKU "
                   "decides which node owns it")
      ->check([](const std::string& p) {
        return p.empty() || p.size() > 40 ? std::string{"1-40 characters"}
                                          : std::string{};
      });
  run_cmd
      ->add_option("--skus", o.skus,
                   "SKUs of spread, multiline, lifecycle, cancel, mixed (hot "
                   "and flash use one)")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  run_cmd
      ->add_option("--stock", o.stock,
                   "Units received per SKU (default 1,000,000; flash: 1000)")
      ->check(CLI::Range(int64_t{1}, int64_t{1'000'000'000'000}));
  run_cmd->add_option("--ack-log", o.ack_log,
                      "Append every acknowledged step to this file");
  run_cmd->add_flag("--keyed", o.keyed,
                    "Send each create under an Idempotency-Key of its own");
  run_cmd->add_flag("--quiet", o.quiet, "No progress bar and no human lines");
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
  o.seconds_given = seconds_opt->count() > 0;
  if (*run_cmd)
    return run(o);
  if (*verify_cmd)
    return verify(vurl, vtoken, vlog);
  return wait_ready(wurl, wseconds);
}
