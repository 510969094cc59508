#include "messages/order_protocol.hpp"

#include "messages/errors.hpp"

namespace oms {

namespace {

caf::expected<order_message> to_message(order_command cmd) {
  auto who = std::move(cmd.customer);
  switch (cmd.kind) {
    case command_kind::confirm:
      return order_message{confirm_command{std::move(who)}};
    case command_kind::pay:
      return order_message{
          pay_command{std::move(who), cmd.amount, std::move(cmd.token),
                      std::move(cmd.client_key), std::move(cmd.fingerprint)}};
    case command_kind::ship:
    case command_kind::ship_part:
      return order_message{
          ship_command{std::move(who), std::move(cmd.lines),
                       std::move(cmd.carrier), std::move(cmd.tracking_number),
                       std::move(cmd.client_key), std::move(cmd.fingerprint)}};
    case command_kind::deliver:
      return order_message{deliver_command{std::move(who)}};
    case command_kind::cancel:
      if (cmd.lines.empty())
        return order_message{
            cancel_command{std::move(who), std::move(cmd.reason)}};
      return order_message{cancel_lines_command{
          std::move(who), std::move(cmd.reason), std::move(cmd.lines)}};
    default:
      return make_error(errc::validation_failed,
                        "expire is not a client command");
  }
}

} // namespace

caf::expected<order_message> to_order_message(order_command cmd) {
  auto if_version = cmd.if_version;
  auto msg = to_message(std::move(cmd));
  if (msg)
    std::visit([&](auto& x) { x.if_version = if_version; }, *msg);
  return msg;
}

uint64_t if_version_of(const order_message& msg) {
  return std::visit([](const auto& x) { return x.if_version; }, msg);
}

caf::error version_mismatch(const order_record& rec, uint64_t if_version) {
  return version_mismatch("order " + rec.id, rec.version, if_version);
}

} // namespace oms
