// oms-bench-redis: the flash-sale trick a team would otherwise build, a Lua
// script in Redis that checks and decrements the stock of every line at once
// (Redis runs one script at a time) and appends the reservation records to a
// list. With appendonly yes and appendfsync always, Redis writes and fsyncs
// the AOF before it answers, so a granted reservation is on disk. Prints the
// shared result line (system "redis-always" or "redis-everysec", from
// CONFIG GET appendfsync, or --system-name).
//
//   oms-bench-redis [--host 127.0.0.1] [--port P]
//                   [--workload hot|spread|multiline|flash] [--clients 32]
//                   [--seconds 5] [--warmup 1] [--skus 10000] [--stock N]
//                   [--prefix oms_bench:] [--system-name NAME] [--keep]
//                   [--quiet]
//   oms-bench-redis --check-only [--host H] [--port P] [--skus N]
// --port defaults to $OMS_TEST_REDIS_PORT (bench/with-redis.sh sets it),
// else 6379.
#include <sys/time.h>

#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <hiredis/hiredis.h>

#include "bench/baseline.hpp"

namespace {

using namespace oms::bench;
using json = nlohmann::json;

// KEYS[1..n]: the stock hashes of the order's lines, KEYS[n+1]: the
// reservation list; ARGV[1]: the order id, ARGV[1+i]: line i's quantity.
// Answers 1 when every line was reserved, 0 when one had too little stock
// (nothing changed then).
constexpr const char* reserve_lua = R"(
local n = #KEYS - 1
for i = 1, n do
  local h = redis.call('HMGET', KEYS[i], 'on_hand', 'reserved')
  if not h[1] then return redis.error_reply('UNKNOWN_SKU ' .. KEYS[i]) end
  if tonumber(h[1]) - tonumber(h[2]) < tonumber(ARGV[i + 1]) then return 0 end
end
for i = 1, n do
  redis.call('HINCRBY', KEYS[i], 'reserved', ARGV[i + 1])
  redis.call('RPUSH', KEYS[n + 1], ARGV[1] .. ' ' .. KEYS[i] .. ' ' .. ARGV[i + 1])
end
return 1
)";

using reply_ptr = std::unique_ptr<redisReply, decltype(&freeReplyObject)>;

// One connection; commands as argument vectors (binary-safe, no formatting).
class connection {
 public:
  connection(const std::string& host, int port) {
    timeval connect_timeout{5, 0};
    ctx_ = redisConnectWithTimeout(host.c_str(), port, connect_timeout);
    if (ctx_ == nullptr || ctx_->err) {
      std::string why = ctx_ ? ctx_->errstr : "out of memory";
      if (ctx_)
        redisFree(ctx_);
      throw std::runtime_error("cannot connect to Redis at " + host + ":" +
                               std::to_string(port) + ": " + why);
    }
    // A server that stops answering fails the attempt instead of hanging it.
    timeval io_timeout{30, 0};
    redisSetTimeout(ctx_, io_timeout);
  }
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;
  ~connection() { redisFree(ctx_); }

  /// The reply, or null when the connection failed (error() says why).
  reply_ptr command(const std::vector<std::string>& args) {
    append(args);
    return next_reply();
  }

  /// Pipelining: queue commands with append, then read each reply in order.
  void append(const std::vector<std::string>& args) {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (auto& a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    redisAppendCommandArgv(ctx_, static_cast<int>(args.size()), argv.data(),
                           lens.data());
  }

  reply_ptr next_reply() {
    void* r = nullptr;
    if (redisGetReply(ctx_, &r) != REDIS_OK)
      r = nullptr;
    return {static_cast<redisReply*>(r), &freeReplyObject};
  }

  std::string error() const { return ctx_->errstr; }

 private:
  redisContext* ctx_ = nullptr;
};

// A reply that must be there and not an error, else the setup or the check
// cannot go on.
reply_ptr must(connection& c, reply_ptr r, const std::string& what) {
  if (!r)
    throw std::runtime_error(what + ": " + c.error());
  if (r->type == REDIS_REPLY_ERROR)
    throw std::runtime_error(what + ": " + std::string{r->str, r->len});
  return r;
}

std::string text(const redisReply* r) {
  return r && r->str ? std::string{r->str, r->len} : std::string{};
}

struct keys {
  std::string prefix;
  std::string stock(int sku) const { return prefix + "stock:" + sku_name(sku); }
  std::string reservations() const { return prefix + "reservations"; }
};

class redis_client : public client {
 public:
  redis_client(const std::string& host, int port, keys k, std::string sha)
      : conn_{host, port}, keys_{std::move(k)}, sha_{std::move(sha)} {}

  outcome reserve(const std::string& order_id,
                  const std::vector<line>& lines) override {
    std::vector<std::string> args{"EVALSHA", sha_,
                                  std::to_string(lines.size() + 1)};
    for (auto& l : lines)
      args.push_back(keys_.stock(l.sku));
    args.push_back(keys_.reservations());
    args.push_back(order_id);
    for (auto& l : lines)
      args.push_back(std::to_string(l.quantity));
    auto r = conn_.command(args);
    if (!r) {
      // Sent, not answered: the script may or may not have run.
      error_ = conn_.error();
      return outcome::unknown;
    }
    if (r->type == REDIS_REPLY_INTEGER)
      return r->integer == 1 ? outcome::granted : outcome::refused;
    error_ = r->type == REDIS_REPLY_ERROR ? text(r.get()) : "unexpected reply";
    return outcome::error;
  }

  std::string last_error() const override { return error_; }

 private:
  connection conn_;
  keys keys_;
  std::string sha_;
  std::string error_;
};

std::string config_get(connection& c, const std::string& name) {
  auto r = must(c, c.command({"CONFIG", "GET", name}), "CONFIG GET " + name);
  return r->type == REDIS_REPLY_ARRAY && r->elements == 2 ? text(r->element[1])
                                                          : std::string{};
}

// Deletes every key under the bench's prefix.
void remove_keys(connection& c, const keys& k) {
  std::string cursor = "0";
  do {
    auto r = must(
        c,
        c.command({"SCAN", cursor, "MATCH", k.prefix + "*", "COUNT", "1000"}),
        "SCAN");
    cursor = text(r->element[0]);
    auto* found = r->element[1];
    if (found->elements > 0) {
      std::vector<std::string> del{"DEL"};
      for (size_t i = 0; i < found->elements; ++i)
        del.push_back(text(found->element[i]));
      must(c, c.command(del), "DEL");
    }
  } while (cursor != "0");
}

// Removes every key of an earlier run, then puts `stock` units on each SKU.
void set_up(connection& c, const keys& k, const options& o) {
  remove_keys(c, k);
  constexpr int batch = 1000;
  auto stock = std::to_string(stock_of(o));
  for (int from = 0; from < o.skus; from += batch) {
    int to = std::min(o.skus, from + batch);
    for (int s = from; s < to; ++s)
      c.append({"HSET", k.stock(s), "on_hand", stock, "reserved", "0"});
    for (int s = from; s < to; ++s)
      must(c, c.next_reply(), "HSET");
  }
}

// What holds whatever the clients did: every SKU's reserved count is the sum
// of its reservation records and never exceeds what is on hand, and no record
// names an unknown SKU.
json structural_check(connection& c, const keys& k, int skus,
                      int64_t& units_reserved, int64_t& sku0_on_hand,
                      int64_t& sku0_reserved) {
  std::map<std::string, int64_t> recorded;
  auto length = must(c, c.command({"LLEN", k.reservations()}), "LLEN")->integer;
  constexpr long long chunk = 10'000;
  int64_t malformed = 0;
  units_reserved = 0;
  for (long long from = 0; from < length; from += chunk) {
    auto r = must(c,
                  c.command({"LRANGE", k.reservations(), std::to_string(from),
                             std::to_string(from + chunk - 1)}),
                  "LRANGE");
    for (size_t i = 0; i < r->elements; ++i) {
      std::istringstream in{text(r->element[i])};
      std::string order, key;
      int64_t qty = 0;
      if (!(in >> order >> key >> qty) || qty <= 0) {
        ++malformed;
        continue;
      }
      recorded[key] += qty;
      units_reserved += qty;
    }
  }
  int64_t mismatched = 0;
  int64_t oversold = 0;
  int64_t missing = 0;
  constexpr int batch = 1000;
  for (int from = 0; from < skus; from += batch) {
    int to = std::min(skus, from + batch);
    for (int s = from; s < to; ++s)
      c.append({"HMGET", k.stock(s), "on_hand", "reserved"});
    for (int s = from; s < to; ++s) {
      auto r = must(c, c.next_reply(), "HMGET");
      if (r->elements != 2 || r->element[0]->type == REDIS_REPLY_NIL) {
        ++missing;
        continue;
      }
      auto on_hand = std::stoll(text(r->element[0]));
      auto reserved = std::stoll(text(r->element[1]));
      if (s == 0) {
        sku0_on_hand = on_hand;
        sku0_reserved = reserved;
      }
      auto i = recorded.find(k.stock(s));
      int64_t sum = i == recorded.end() ? 0 : i->second;
      if (i != recorded.end())
        recorded.erase(i);
      mismatched += reserved != sum;
      oversold += reserved > on_hand || reserved < 0;
    }
  }
  return {{"skusWhoseReservedIsNotTheSumOfTheirRecords", mismatched},
          {"skusReservedBeyondOnHand", oversold},
          {"skusMissing", missing},
          {"recordsOfUnknownSkus", static_cast<int64_t>(recorded.size())},
          {"malformedRecords", malformed}};
}

} // namespace

int main(int argc, char** argv) {
  options o;
  std::string host = "127.0.0.1";
  int port = 6379;
  if (auto env = std::getenv("OMS_TEST_REDIS_PORT"))
    port = std::atoi(env);
  std::string workload_name = "hot";
  keys k{"oms_bench:"};
  std::string system;
  bool keep = false;
  bool check_only = false;
  CLI::App app{"Reservations by a Lua script in Redis: the baseline"};
  app.add_option("--host", host, "Redis host")->capture_default_str();
  app.add_option("--port", port, "Redis port")->capture_default_str();
  add_run_options(app, o, workload_name, "SKUs");
  app.add_option("--prefix", k.prefix, "Prefix of every key the bench owns");
  app.add_option("--system-name", system,
                 "Name in the result (default: from CONFIG GET appendfsync)");
  app.add_flag("--keep", keep, "Keep the keys afterwards");
  app.add_flag("--check-only", check_only,
               "Only check the invariants of the keys under --prefix");
  app.add_flag("--quiet", o.quiet, "No progress bar");
  CLI11_PARSE(app, argc, argv);
  o.load = *parse_workload(workload_name);
  if (auto bad = validate(o)) {
    std::cerr << "oms-bench-redis: " << *bad << "\n";
    return 2;
  }
  if (port < 1 || port > 65535) {
    std::cerr << "oms-bench-redis: --port must be between 1 and 65535\n";
    return 2;
  }
  if (k.prefix.empty()) {
    std::cerr << "oms-bench-redis: --prefix must not be empty (the bench "
                 "deletes every key under it)\n";
    return 2;
  }
  try {
    connection admin{host, port};
    int64_t units = 0, on_hand0 = 0, reserved0 = 0;
    if (check_only) {
      auto violations =
          structural_check(admin, k, o.skus, units, on_hand0, reserved0);
      return print_check("oms-bench-redis", units, violations);
    }
    auto appendonly = config_get(admin, "appendonly");
    auto appendfsync = config_get(admin, "appendfsync");
    if (system.empty())
      system = appendonly == "yes" ? "redis-" + appendfsync : "redis-noaof";
    auto info = must(admin, admin.command({"INFO", "server"}), "INFO");
    std::string version;
    {
      std::istringstream in{text(info.get())};
      std::string row;
      while (std::getline(in, row))
        if (row.rfind("redis_version:", 0) == 0)
          version = row.substr(14, row.find_last_not_of("\r") - 13);
    }
    say("oms-bench-redis: Redis " + version + " appendonly=" + appendonly +
        " appendfsync=" + appendfsync + ", " + describe_run(system, o));
    set_up(admin, k, o);
    auto sha = text(must(admin, admin.command({"SCRIPT", "LOAD", reserve_lua}),
                         "SCRIPT LOAD")
                        .get());
    auto t = drive(o, [&](int) {
      return std::make_unique<redis_client>(host, port, k, sha);
    });
    auto violations =
        structural_check(admin, k, o.skus, units, on_hand0, reserved0);
    nlohmann::ordered_json extra{{"redisVersion", version},
                                 {"appendonly", appendonly},
                                 {"appendfsync", appendfsync}};
    return finish(
        "oms-bench-redis", system, o, t, units, violations, extra,
        [&] { return std::make_pair(on_hand0, reserved0); },
        [&] {
          if (!keep)
            remove_keys(admin, k);
        });
  } catch (const std::exception& e) {
    std::cerr << "oms-bench-redis: " << e.what() << "\n";
    return 2;
  }
}
