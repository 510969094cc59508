// The order state machine's transition table, on its own.
#include <doctest/doctest.h>

#include <map>
#include <optional>

#include "actors/order_machine.hpp"

using namespace oms;

namespace {

constexpr order_status all_states[] = {
    order_status::created,
    order_status::confirmed,
    order_status::paid,
    order_status::shipped,
    order_status::delivered,
    order_status::cancelled,
    order_status::partially_shipped,
};

constexpr command_kind all_commands[] = {
    command_kind::confirm,   command_kind::pay,    command_kind::ship,
    command_kind::deliver,   command_kind::cancel, command_kind::expire,
    command_kind::ship_part,
};

} // namespace

TEST_CASE("the transition table allows exactly the drawn transitions") {
  // Proves every (state, command) pair: the legal ones lead where the
  // diagram says, every other pair is refused.
  using s = order_status;
  using c = command_kind;
  std::map<std::pair<s, c>, s> legal{
      {{s::created, c::confirm}, s::confirmed},
      {{s::created, c::pay}, s::paid},
      {{s::created, c::cancel}, s::cancelled},
      {{s::created, c::expire}, s::cancelled},
      {{s::confirmed, c::pay}, s::paid},
      {{s::confirmed, c::cancel}, s::cancelled},
      {{s::paid, c::ship}, s::shipped},
      {{s::paid, c::ship_part}, s::partially_shipped},
      {{s::paid, c::cancel}, s::cancelled},
      {{s::partially_shipped, c::ship}, s::shipped},
      {{s::partially_shipped, c::ship_part}, s::partially_shipped},
      {{s::partially_shipped, c::cancel}, s::shipped},
      {{s::shipped, c::deliver}, s::delivered},
  };
  size_t checked = 0;
  for (auto from : all_states)
    for (auto cmd : all_commands) {
      CAPTURE(to_string(from));
      CAPTURE(to_string(cmd));
      auto got = next_status(from, cmd);
      auto i = legal.find({from, cmd});
      if (i == legal.end()) {
        CHECK_FALSE(got.has_value());
      } else {
        REQUIRE(got.has_value());
        CHECK(*got == i->second);
      }
      ++checked;
    }
  CHECK(checked == 49);
}

TEST_CASE("terminal states have no way out") {
  // DELIVERED and CANCELLED refuse every command.
  for (auto cmd : all_commands) {
    CHECK_FALSE(next_status(order_status::delivered, cmd).has_value());
    CHECK_FALSE(next_status(order_status::cancelled, cmd).has_value());
  }
  CHECK(is_terminal(order_status::delivered));
  CHECK(is_terminal(order_status::cancelled));
  CHECK_FALSE(is_terminal(order_status::shipped));
}

TEST_CASE("shipping is refused before payment and cancelling after shipping") {
  // Payment before shipping; cancellation only before shipping.
  CHECK_FALSE(next_status(order_status::created, command_kind::ship));
  CHECK_FALSE(next_status(order_status::confirmed, command_kind::ship));
  CHECK_FALSE(next_status(order_status::shipped, command_kind::cancel));
  CHECK_FALSE(next_status(order_status::delivered, command_kind::cancel));
  CHECK_FALSE(next_status(order_status::confirmed, command_kind::ship_part));
  CHECK_FALSE(next_status(order_status::shipped, command_kind::ship_part));
}

TEST_CASE("only an unconfirmed order can expire") {
  CHECK(next_status(order_status::created, command_kind::expire) ==
        order_status::cancelled);
  CHECK_FALSE(next_status(order_status::confirmed, command_kind::expire));
  CHECK_FALSE(next_status(order_status::paid, command_kind::expire));
}

TEST_CASE("confirming or paying an expired order says ORDER_EXPIRED") {
  // The distinct code tells the client why, other commands stay invalid.
  order_record rec;
  rec.status = order_status::cancelled;
  rec.cancel_reason = expired_reason;
  CHECK(check_command(rec, command_kind::confirm) == errc::order_expired);
  CHECK(check_command(rec, command_kind::pay) == errc::order_expired);
  CHECK(check_command(rec, command_kind::ship) == errc::invalid_transition);
  rec.cancel_reason = "CUSTOMER_REQUEST";
  CHECK(check_command(rec, command_kind::confirm) == errc::invalid_transition);
  rec.status = order_status::created;
  CHECK(check_command(rec, command_kind::confirm) == errc::none);
}

TEST_CASE("the hold kind follows the state") {
  CHECK(held_as(order_status::created) == hold_kind::reserved);
  CHECK(held_as(order_status::confirmed) == hold_kind::blocked);
  CHECK(held_as(order_status::paid) == hold_kind::blocked);
  CHECK(held_as(order_status::partially_shipped) == hold_kind::blocked);
  CHECK_FALSE(held_as(order_status::shipped).has_value());
  CHECK_FALSE(held_as(order_status::delivered).has_value());
  CHECK_FALSE(held_as(order_status::cancelled).has_value());
}

TEST_CASE("status names parse back, FULFILLED means DELIVERED") {
  for (auto x : all_states) {
    order_status parsed = order_status::created;
    REQUIRE(parse_order_status(to_string(x), parsed));
    CHECK(parsed == x);
  }
  order_status parsed = order_status::created;
  CHECK(parse_order_status("FULFILLED", parsed));
  CHECK(parsed == order_status::delivered);
  CHECK_FALSE(parse_order_status("shipped", parsed));
  CHECK_FALSE(parse_order_status("", parsed));
}

TEST_CASE("later states are reachable, earlier ones are not") {
  CHECK(can_reach(order_status::created, order_status::delivered));
  CHECK(can_reach(order_status::created, order_status::cancelled));
  CHECK(can_reach(order_status::paid, order_status::paid));
  CHECK(can_reach(order_status::confirmed, order_status::shipped));
  CHECK_FALSE(can_reach(order_status::paid, order_status::confirmed));
  CHECK_FALSE(can_reach(order_status::shipped, order_status::cancelled));
  CHECK_FALSE(can_reach(order_status::cancelled, order_status::created));
  CHECK_FALSE(can_reach(order_status::delivered, order_status::shipped));
  // A state that leads to itself (ship_part) ends the walk all the same.
  CHECK(can_reach(order_status::paid, order_status::partially_shipped));
  CHECK(can_reach(order_status::partially_shipped, order_status::delivered));
  CHECK_FALSE(
      can_reach(order_status::partially_shipped, order_status::cancelled));
  CHECK_FALSE(can_reach(order_status::confirmed, order_status::created));
}
