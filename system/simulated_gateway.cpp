#include "system/simulated_gateway.hpp"

namespace oms {

namespace {

gateway_result unavailable() {
  return gateway_result{gateway_status::unavailable, "", "gateway timeout", 0};
}

} // namespace

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
  } else if (cfg_.decline_amount_min > 0 && amount >= cfg_.decline_amount_min) {
    res.status = gateway_status::declined;
    res.reason = "amount_too_large";
  } else {
    res.status = gateway_status::approved;
    res.reference = "ch_" + std::to_string(next_reference_++);
    charged_by_reference_[res.reference] = amount;
  }
  by_key_[key] = entry{res, false};
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
    c->second -= amount;
    res.status = gateway_status::approved;
    res.reference = "re_" + std::to_string(next_reference_++);
  }
  by_key_[key] = entry{res, true};
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

money simulated_gateway::charged_total() const {
  std::lock_guard<std::mutex> guard{mtx_};
  money sum = 0;
  for (auto& kvp : by_key_)
    if (!kvp.second.is_refund &&
        kvp.second.result.status == gateway_status::approved)
      sum += kvp.second.result.amount;
  return sum;
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

money simulated_gateway::refunded_total() const {
  std::lock_guard<std::mutex> guard{mtx_};
  money sum = 0;
  for (auto& kvp : by_key_)
    if (kvp.second.is_refund &&
        kvp.second.result.status == gateway_status::approved)
      sum += kvp.second.result.amount;
  return sum;
}

} // namespace oms
