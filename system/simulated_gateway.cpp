#include "system/simulated_gateway.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "messages/money.hpp"

namespace oms {

namespace {

// The sum of the approved refunds (or charges) among `by_key`'s entries;
// nothing if it does not fit in an amount.
template <class Map>
std::optional<money> approved_total(const Map& by_key, bool refunds) {
  money sum = 0;
  for (auto& kvp : by_key) {
    if (kvp.second.is_refund != refunds ||
        kvp.second.result.status != gateway_status::approved)
      continue;
    auto next = checked_add(sum, kvp.second.result.amount);
    if (!next)
      return std::nullopt;
    sum = *next;
  }
  return sum;
}

gateway_result unavailable() {
  return gateway_result{gateway_status::unavailable, "", "gateway timeout", 0};
}

// The number in a reference ("ch_12", "re_7"), or 0.
int reference_number(const std::string& reference) {
  auto us = reference.find('_');
  if (us == std::string::npos)
    return 0;
  try {
    return std::stoi(reference.substr(us + 1));
  } catch (const std::exception&) {
    return 0;
  }
}

gateway_status status_named(const std::string& name) {
  for (auto s : {gateway_status::approved, gateway_status::declined})
    if (name == to_string(s))
      return s;
  throw std::invalid_argument("unknown status " + name);
}

bool write_all(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    auto n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

} // namespace

simulated_gateway::simulated_gateway(config cfg, std::string ledger_path)
    : cfg_(cfg), ledger_path_(std::move(ledger_path)) {
  load_ledger();
  ledger_fd_ = ::open(ledger_path_.c_str(),
                      O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (ledger_fd_ < 0)
    throw ledger_error("cannot open the payment ledger " + ledger_path_ + ": " +
                       std::strerror(errno));
}

simulated_gateway::~simulated_gateway() {
  if (ledger_fd_ >= 0)
    ::close(ledger_fd_);
}

std::string simulated_gateway::describe() const {
  return ledger_path_.empty() ? "simulated" : "simulated:" + ledger_path_;
}

void simulated_gateway::load_ledger() {
  std::ifstream in{ledger_path_, std::ios::binary};
  if (!in)
    return; // a new ledger
  std::string text{std::istreambuf_iterator<char>{in}, {}};
  size_t begin = 0;
  size_t number = 0;
  while (begin < text.size()) {
    auto end = text.find('\n', begin);
    if (end == std::string::npos) {
      // A last line without its newline is a write torn by a crash: an
      // answer that was never given. It goes, so that the next append
      // starts a line of its own.
      if (::truncate(ledger_path_.c_str(), static_cast<off_t>(begin)) != 0)
        throw ledger_error("cannot repair the payment ledger " + ledger_path_ +
                           ": " + std::strerror(errno));
      return;
    }
    ++number;
    try {
      auto j = nlohmann::json::parse(text.substr(begin, end - begin));
      gateway_result res;
      res.status = status_named(j.at("status").get<std::string>());
      res.reference = j.at("reference").get<std::string>();
      res.reason = j.at("reason").get<std::string>();
      res.amount = j.at("amount").get<money>();
      if (res.amount < 0)
        throw std::invalid_argument("negative amount");
      remember(j.at("key").get<std::string>(), res, j.at("refund").get<bool>(),
               j.at("charge").get<std::string>());
    } catch (const std::exception& e) {
      throw ledger_error("the payment ledger " + ledger_path_ +
                         " is damaged at line " + std::to_string(number) +
                         ": " + e.what());
    }
    begin = end + 1;
  }
}

void simulated_gateway::remember(const std::string& key,
                                 const gateway_result& res, bool is_refund,
                                 const std::string& charge_reference) {
  by_key_[key] = entry{res, is_refund};
  next_reference_ =
      std::max(next_reference_, reference_number(res.reference) + 1);
  if (res.status != gateway_status::approved)
    return;
  if (is_refund) {
    // An approved refund never exceeds what is left of its charge, and
    // amounts are never negative: this cannot wrap.
    auto& left = charged_by_reference_[charge_reference];
    auto after = checked_sub(left, res.amount);
    if (!after)
      throw std::invalid_argument("a refund beyond any charge");
    left = *after;
  } else {
    charged_by_reference_[res.reference] = res.amount;
  }
}

bool simulated_gateway::persist(const std::string& key,
                                const gateway_result& res, bool is_refund,
                                const std::string& charge_reference) {
  if (ledger_fd_ < 0)
    return true;
  nlohmann::json j{{"key", key},
                   {"refund", is_refund},
                   {"charge", charge_reference},
                   {"status", to_string(res.status)},
                   {"reference", res.reference},
                   {"reason", res.reason},
                   {"amount", res.amount}};
  return write_all(ledger_fd_, j.dump() + "\n") && ::fdatasync(ledger_fd_) == 0;
}

bool simulated_gateway::consume_failure() {
  if (failures_left_ <= 0)
    return false;
  --failures_left_;
  return true;
}

void simulated_gateway::fail_next(int n) {
  std::lock_guard<std::mutex> guard{mtx_};
  failures_left_ = n;
}

gateway_result simulated_gateway::charge(const std::string& key, money amount,
                                         const std::string& token) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (consume_failure())
    return unavailable();
  if (auto i = by_key_.find(key); i != by_key_.end())
    return i->second.result;
  if (token == "tok_timeout_uncharged")
    return unavailable();
  gateway_result res;
  res.amount = amount;
  if (token == "tok_decline") {
    res.status = gateway_status::declined;
    res.reason = "card_declined";
  } else if (token == "tok_insufficient_funds") {
    res.status = gateway_status::declined;
    res.reason = "insufficient_funds";
  } else if (amount <= 0) {
    res.status = gateway_status::declined;
    res.reason = "invalid_amount";
  } else if (cfg_.decline_amount_min > 0 && amount >= cfg_.decline_amount_min) {
    res.status = gateway_status::declined;
    res.reason = "amount_too_large";
  } else {
    res.status = gateway_status::approved;
    res.reference = "ch_" + std::to_string(next_reference_);
  }
  if (!persist(key, res, false, ""))
    return unavailable(); // nothing charged: the ledger could not keep it
  remember(key, res, false, "");
  if (token == "tok_timeout")
    return unavailable(); // charged, but the answer is lost
  return res;
}

gateway_result simulated_gateway::lookup(const std::string& key) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (consume_failure())
    return unavailable();
  if (auto i = by_key_.find(key); i != by_key_.end())
    return i->second.result;
  return gateway_result{gateway_status::not_found, "", "unknown key", 0};
}

gateway_result simulated_gateway::refund(const std::string& key,
                                         const std::string& charge_reference,
                                         money amount) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (consume_failure())
    return unavailable();
  if (auto i = by_key_.find(key); i != by_key_.end())
    return i->second.result;
  gateway_result res;
  res.amount = amount;
  auto c = charged_by_reference_.find(charge_reference);
  if (c == charged_by_reference_.end()) {
    res.status = gateway_status::declined;
    res.reason = "unknown_charge";
  } else if (amount <= 0 || amount > c->second) {
    res.status = gateway_status::declined;
    res.reason = "amount_exceeds_charge";
  } else {
    res.status = gateway_status::approved;
    res.reference = "re_" + std::to_string(next_reference_);
  }
  if (!persist(key, res, true, charge_reference))
    return unavailable(); // nothing refunded: the ledger could not keep it
  remember(key, res, true, charge_reference);
  return res;
}

int simulated_gateway::charges() const {
  std::lock_guard<std::mutex> guard{mtx_};
  int n = 0;
  for (auto& kvp : by_key_)
    if (!kvp.second.is_refund &&
        kvp.second.result.status == gateway_status::approved)
      ++n;
  return n;
}

std::optional<money> simulated_gateway::charged_total() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return approved_total(by_key_, false);
}

int simulated_gateway::refunds() const {
  std::lock_guard<std::mutex> guard{mtx_};
  int n = 0;
  for (auto& kvp : by_key_)
    if (kvp.second.is_refund &&
        kvp.second.result.status == gateway_status::approved)
      ++n;
  return n;
}

std::optional<money> simulated_gateway::refunded_total() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return approved_total(by_key_, true);
}

} // namespace oms
