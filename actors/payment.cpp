#include "actors/payment.hpp"

#include "messages/type_ids.hpp"
#include "system/log.hpp"

namespace oms {

payment_actor::behavior_type
payment(payment_actor::stateful_pointer<payment_state> self,
        std::shared_ptr<payment_gateway> gateway) {
  self->state.gateway = std::move(gateway);
  auto logged = [](const char* what, const std::string& key,
                   const gateway_result& res) {
    log::info(what, {{"key", key},
                     {"status", to_string(res.status)},
                     {"reference", res.reference},
                     {"reason", res.reason}});
    return res;
  };
  return {
      [=](atom::charge, const std::string& key, money amount,
          const std::string& token) {
        return logged("payment.charge", key,
                      self->state.gateway->charge(key, amount, token));
      },
      [=](atom::lookup, const std::string& key) {
        return logged("payment.lookup", key, self->state.gateway->lookup(key));
      },
      [=](atom::refund, const std::string& key, const std::string& charge_ref,
          money amount) {
        return logged("payment.refund", key,
                      self->state.gateway->refund(key, charge_ref, amount));
      },
  };
}

} // namespace oms
