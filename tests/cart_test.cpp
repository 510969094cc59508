// The CUSTOMER actor's cart: stock checks when adding, current prices,
// checkout all or part, and what a failed checkout leaves behind.
#include "tests/fixture.hpp"

#include <type_traits>

#include <nlohmann/json.hpp>

#include "actors/customer.hpp"

using namespace oms;
using namespace oms::test;

namespace {

struct cart_fixture : fixture {
  customer_actor alice;
  customer_actor bob;

  cart_fixture() {
    receive("A", 10, 1000);
    receive("B", 5, 250);
    alice = customer("alice");
    bob = customer("bob");
  }

  caf::expected<cart_view> put(const customer_actor& c, const sku_id& sku,
                               int64_t qty) {
    return call<cart_view>(c, atom::put_v, sku, qty, seller::internal);
  }

  caf::expected<cart_view> add(const customer_actor& c, const sku_id& sku,
                               int64_t qty) {
    return call<cart_view>(c, atom::add_v, sku, qty, seller::internal);
  }

  cart_view view(const customer_actor& c) {
    auto res = call<cart_view>(c, atom::get_v);
    REQUIRE_MESSAGE(res, why(res));
    return *res;
  }

  /// Sends a checkout of the whole cart without waiting for its answer (for
  /// checkouts that race).
  auto start_checkout(const customer_actor& c) {
    return self->request(c, caf::infinite, atom::checkout_v, sample_address(),
                         std::vector<sku_id>{}, std::string{}, seller::internal,
                         false);
  }

  caf::expected<order_record> checkout(const customer_actor& c,
                                       std::vector<sku_id> skus = {},
                                       std::string key = {}) {
    return call<order_record>(c, atom::checkout_v, sample_address(),
                              std::move(skus), std::move(key), seller::internal,
                              false);
  }
};

// Limits the startup check refuses (10^9 units per line, unit prices up to
// 10^11): the cart's own check is what keeps its totals from wrapping.
settings cart_unbounded_settings() {
  auto s = default_test_settings();
  s.limits.line_quantity_max = 1'000'000'000;
  s.limits.unit_price_max = 100'000'000'000;
  return s;
}

// GOLD and SILVER: 10^9 units each at 10^10, under unbounded limits.
struct big_cart_fixture : fixture {
  customer_actor alice;

  big_cart_fixture() : fixture(cart_unbounded_settings()) {
    receive("GOLD", 1'000'000'000, 10'000'000'000);
    receive("SILVER", 1'000'000'000, 10'000'000'000);
    alice = customer("alice");
  }

  caf::expected<cart_view> put(const sku_id& sku, int64_t qty) {
    return call<cart_view>(alice, atom::put_v, sku, qty, seller::internal);
  }

  caf::expected<cart_view> add(const sku_id& sku, int64_t qty) {
    return call<cart_view>(alice, atom::add_v, sku, qty, seller::internal);
  }

  caf::expected<cart_view> view() {
    return call<cart_view>(alice, atom::get_v);
  }

  static std::string field_of(const caf::error& err) {
    return nlohmann::json::parse(details_of(err)).value("field", "");
  }
};

} // namespace

TEST_CASE_FIXTURE(big_cart_fixture,
                  "money: a cart change that would make the total overflow is "
                  "refused with VALIDATION_FAILED and changes nothing") {
  // Proves the cart never shows a wrapped total: a line whose product does
  // not fit, or a change whose sum with the other lines does not, is
  // refused naming quantity, and the cart stays as it was; changes that
  // fit, up to the last paisa of the range, are made.
  auto too_much = put("GOLD", 1'000'000'000);
  REQUIRE(code(too_much) == "VALIDATION_FAILED");
  CHECK(field_of(too_much.error()) == "quantity");
  CHECK(view()->lines.empty());
  auto v = put("GOLD", 900'000'000);
  REQUIRE_MESSAGE(v, why(v));
  CHECK(v->total == 9'000'000'000'000'000'000);
  REQUIRE(put("SILVER", 1));
  auto sum = add("SILVER", 100'000'000);
  REQUIRE(code(sum) == "VALIDATION_FAILED");
  CHECK(field_of(sum.error()) == "quantity");
  auto now = view();
  REQUIRE(now);
  REQUIRE(now->lines.size() == 2);
  CHECK(now->lines[1].quantity == 1);
  CHECK(now->total == 9'000'000'010'000'000'000);
  // The largest total that fits: 922,337,203 units at 10^10 in all.
  auto edge = put("GOLD", 922'337'202);
  REQUIRE_MESSAGE(edge, why(edge));
  CHECK(edge->lines[0].line_total == 9'223'372'020'000'000'000);
  CHECK(edge->total == 9'223'372'030'000'000'000);
  CHECK(code(add("SILVER", 1)) == "VALIDATION_FAILED");
  CHECK(stock("GOLD").reserved == 0);
}

TEST_CASE_FIXTURE(big_cart_fixture,
                  "money: a cart whose price rose past the amount range is "
                  "refused, not shown wrapped, and cannot be checked out") {
  // Proves the view and the checkout of a cart whose total stopped fitting
  // after a price change: the view answers VALIDATION_FAILED (items), the
  // checkout is refused by the order's own check and puts the line back,
  // and removing the line makes the cart viewable again.
  REQUIRE(put("GOLD", 900'000'000));
  auto h = call<inventory_actor>(sup, atom::find_sku_v, sku_id{"GOLD"},
                                 seller::internal);
  REQUIRE(h);
  REQUIRE(
      call<stock_view>(*h, atom::price_v, money{20'000'000'000}, uint64_t{0}));
  auto v = view();
  REQUIRE(code(v) == "VALIDATION_FAILED");
  CHECK(field_of(v.error()) == "items");
  CHECK(code(put("SILVER", 1)) == "VALIDATION_FAILED");
  auto before = store->last_seq();
  auto order = call<order_record>(alice, atom::checkout_v, sample_address(),
                                  std::vector<sku_id>{}, std::string{},
                                  seller::internal, false);
  REQUIRE(code(order) == "VALIDATION_FAILED");
  CHECK(field_of(order.error()) == "items");
  CHECK(store->last_seq() == before);
  CHECK(stock("GOLD").reserved == 0);
  CHECK(stock("GOLD").available == 1'000'000'000);
  auto removed =
      call<cart_view>(alice, atom::remove_v, sku_id{"GOLD"}, seller::internal);
  REQUIRE_MESSAGE(removed, why(removed));
  CHECK(removed->lines.empty());
  CHECK(removed->total == 0);
}

TEST_CASE_FIXTURE(cart_fixture,
                  "adding to the cart is refused when stock is short") {
  auto res = put(alice, "B", 6);
  REQUIRE(code(res) == "INSUFFICIENT_STOCK");
  auto details = nlohmann::json::parse(details_of(res.error()));
  CHECK(details["skus"][0]["available"] == 5);
  CHECK(details["skus"][0]["requested"] == 6);
  CHECK(view(alice).lines.empty());
  REQUIRE(add(alice, "B", 3));
  // Raising the line to 6 is refused, and the line stays at 3.
  CHECK(code(add(alice, "B", 3)) == "INSUFFICIENT_STOCK");
  auto v = view(alice);
  REQUIRE(v.lines.size() == 1);
  CHECK(v.lines[0].quantity == 3);
}

TEST_CASE_FIXTURE(cart_fixture,
                  "the cart shows current prices, line totals and the total") {
  REQUIRE(put(alice, "A", 2));
  auto v = *put(alice, "B", 3);
  REQUIRE(v.lines.size() == 2);
  CHECK(v.lines[0].sku == "A");
  CHECK(v.lines[0].unit_price == 1000);
  CHECK(v.lines[0].line_total == 2000);
  CHECK(v.lines[1].line_total == 750);
  CHECK(v.total == 2750);
  auto h = call<inventory_actor>(sup, atom::find_sku_v, sku_id{"A"},
                                 seller::internal);
  REQUIRE(call<stock_view>(*h, atom::price_v, money{1200}, uint64_t{0}));
  CHECK(view(alice).total == 2 * 1200 + 750);
}

TEST_CASE_FIXTURE(cart_fixture, "cart lines can be updated and removed") {
  REQUIRE(put(alice, "A", 2));
  auto v = *put(alice, "A", 1);
  REQUIRE(v.lines.size() == 1);
  CHECK(v.lines[0].quantity == 1);
  auto removed =
      call<cart_view>(alice, atom::remove_v, sku_id{"A"}, seller::internal);
  REQUIRE(removed);
  CHECK(removed->lines.empty());
  CHECK(removed->total == 0);
  CHECK(code(call<cart_view>(alice, atom::remove_v, sku_id{"A"},
                             seller::internal)) == "VALIDATION_FAILED");
}

TEST_CASE_FIXTURE(cart_fixture,
                  "bad cart input is refused and changes nothing") {
  REQUIRE(put(alice, "A", 2));
  CHECK(code(put(alice, "NOPE", 1)) == "UNKNOWN_SKU");
  CHECK(code(put(alice, "A", 0)) == "VALIDATION_FAILED");
  CHECK(code(put(alice, "A", -2)) == "VALIDATION_FAILED");
  CHECK(code(put(alice, "bad sku", 1)) == "VALIDATION_FAILED");
  CHECK(code(add(alice, "A", 1'000'001)) == "VALIDATION_FAILED");
  auto v = view(alice);
  REQUIRE(v.lines.size() == 1);
  CHECK(v.lines[0].quantity == 2);
  CHECK(code(call<customer_actor>(sup, atom::customer_v, customer_id{""})) ==
        "VALIDATION_FAILED");
}

TEST_CASE_FIXTURE(cart_fixture, "cart refusals name the field to blame in "
                                "their details and change nothing") {
  // Proves issue #16 item 12 for the CUSTOMER actor: its VALIDATION_FAILED
  // answers carry details.field, as the API's own refusals do.
  auto refusal = [](const auto& res) {
    REQUIRE_FALSE(res);
    CHECK(code(res) == "VALIDATION_FAILED");
    auto details = nlohmann::json::parse(details_of(res.error()));
    return message_of(res.error()) + " | " +
           details.value("field", std::string{"(none)"});
  };
  REQUIRE(put(alice, "A", 2));
  CHECK(refusal(put(alice, "A", 0)) ==
        "quantity must be between 1 and 1000000 | quantity");
  // The sum of the line and the addition passes the line limit.
  CHECK(refusal(add(alice, "A", 999'999)) ==
        "quantity must be between 1 and 1000000 | quantity");
  CHECK(refusal(put(alice, "bad sku", 1)) ==
        "sku may only contain letters, digits, '.', '_' and '-' | sku");
  CHECK(refusal(call<cart_view>(alice, atom::remove_v, sku_id{"B"},
                                seller::internal)) ==
        "sku B is not in the cart | sku");
  CHECK(refusal(checkout(alice, {"B"})) ==
        "skus[0] B is not in the cart | skus[0]");
  CHECK(refusal(checkout(alice, {}, "has space")).find(" | Idempotency-Key") !=
        std::string::npos);
  auto v = view(alice);
  REQUIRE(v.lines.size() == 1);
  CHECK(v.lines[0].quantity == 2);
  CHECK(stock("A").reserved == 0);
}

TEST_CASE_FIXTURE(cart_fixture, "a cart holds no stock") {
  REQUIRE(put(alice, "A", 3));
  auto a = stock("A");
  CHECK(a.reserved == 0);
  CHECK(a.available == 10);
}

TEST_CASE_FIXTURE(cart_fixture, "checkout of an empty cart is CART_EMPTY") {
  CHECK(code(checkout(alice)) == "CART_EMPTY");
  CHECK(code(checkout(alice, {}, "key-1")) == "CART_EMPTY");
  CHECK(store->last_seq() == 4);
}

TEST_CASE_FIXTURE(
    cart_fixture,
    "checkout of chosen lines orders them and they leave the cart") {
  REQUIRE(put(alice, "A", 2));
  REQUIRE(put(alice, "B", 1));
  auto order = checkout(alice, {"A"});
  REQUIRE_MESSAGE(order, why(order));
  REQUIRE(order->lines.size() == 1);
  CHECK(order->lines[0].sku == "A");
  CHECK(order->total_amount == 2000);
  CHECK(order->customer == "alice");
  auto v = view(alice);
  REQUIRE(v.lines.size() == 1);
  CHECK(v.lines[0].sku == "B");
  CHECK(stock("A").reserved == 2);
  CHECK(stock("B").reserved == 0);
  CHECK(code(checkout(alice, {"A"})) == "VALIDATION_FAILED");
  auto rest = checkout(alice);
  REQUIRE(rest);
  CHECK(view(alice).lines.empty());
}

TEST_CASE_FIXTURE(
    cart_fixture,
    "a failed checkout leaves the cart unchanged and names the short SKUs") {
  REQUIRE(put(alice, "A", 1));
  REQUIRE(put(alice, "B", 4));
  create("someone", {{"B", 3, seller::internal}});
  auto res = checkout(alice);
  REQUIRE(code(res) == "INSUFFICIENT_STOCK");
  auto details = nlohmann::json::parse(details_of(res.error()));
  REQUIRE(details["skus"].size() == 1);
  CHECK(details["skus"][0]["sku"] == "B");
  CHECK(details["skus"][0]["available"] == 2);
  auto v = view(alice);
  REQUIRE(v.lines.size() == 2);
  CHECK(v.lines[1].quantity == 4);
  CHECK(stock("A").reserved == 0);
}

TEST_CASE_FIXTURE(
    cart_fixture,
    "two carts racing to check out the last unit: one order, one refusal") {
  receive("LAST", 1, 5000);
  REQUIRE(put(alice, "LAST", 1));
  REQUIRE(put(bob, "LAST", 1));
  auto h1 = start_checkout(alice);
  auto h2 = start_checkout(bob);
  sched.run();
  int granted = 0;
  int refused = 0;
  for (auto* h : {&h1, &h2})
    h->receive([&](order_record&) { ++granted; },
               [&](caf::error& err) {
                 CHECK(code_of(err) == errc::insufficient_stock);
                 ++refused;
               });
  CHECK(granted == 1);
  CHECK(refused == 1);
  auto v = stock("LAST");
  CHECK(v.reserved == 1);
  CHECK(v.available == 0);
  // The winner's cart is empty, the loser's still has the line.
  auto a = view(alice).lines.size();
  auto b = view(bob).lines.size();
  CHECK(a + b == 1);
  CHECK(audit().violations.empty());
}

TEST_CASE_FIXTURE(cart_fixture,
                  "two checkouts of one cart at once order its lines once: one "
                  "order, one CART_EMPTY") {
  // Without a key, both requests reach the CUSTOMER actor before the first
  // order exists; the second must not order the same lines again.
  REQUIRE(put(alice, "A", 5));
  auto h1 = start_checkout(alice);
  auto h2 = start_checkout(alice);
  sched.run();
  int granted = 0;
  int empty = 0;
  for (auto* h : {&h1, &h2})
    h->receive([&](order_record& rec) { granted += rec.lines.size() == 1; },
               [&](caf::error& err) {
                 CHECK(code_of(err) == errc::cart_empty);
                 ++empty;
               });
  CHECK(granted == 1);
  CHECK(empty == 1);
  CHECK(stock("A").reserved == 5);
  CHECK(view(alice).lines.empty());
  CHECK(audit().violations.empty());
}

TEST_CASE_FIXTURE(cart_fixture,
                  "a checkout that fails while another runs puts its lines "
                  "back where they were") {
  // The first checkout takes A and B; it fails on B, and both lines come
  // back in their places.
  REQUIRE(put(alice, "A", 1));
  REQUIRE(put(alice, "B", 4));
  create("someone", {{"B", 3, seller::internal}});
  auto h1 = start_checkout(alice);
  auto h2 = start_checkout(alice);
  sched.run();
  h1.receive([&](order_record&) { FAIL("the first checkout was granted"); },
             [&](caf::error& err) {
               CHECK(code_of(err) == errc::insufficient_stock);
             });
  h2.receive([&](order_record&) { FAIL("the second checkout was granted"); },
             [&](caf::error& err) { CHECK(code_of(err) == errc::cart_empty); });
  auto v = view(alice);
  REQUIRE(v.lines.size() == 2);
  CHECK(v.lines[0].sku == "A");
  CHECK(v.lines[0].quantity == 1);
  CHECK(v.lines[1].sku == "B");
  CHECK(v.lines[1].quantity == 4);
  CHECK(stock("A").reserved == 0);
}

TEST_CASE_FIXTURE(cart_fixture, "the CUSTOMER keeps no handle of an order "
                                "that has ended, whoever ended it") {
  // Orders cancelled through the SUPERVISOR (an admin, the hold's expiry)
  // never answer the CUSTOMER; their actors' end must still free the
  // handle, or every finished order costs memory for good.
  using customer_impl =
      std::remove_pointer_t<customer_actor::stateful_pointer<customer_state>>;
  auto& alice_state = dynamic_cast<customer_impl&>(
                          *caf::actor_cast<caf::abstract_actor*>(alice))
                          .state;
  for (int i = 0; i < 3; ++i) {
    REQUIRE(put(alice, "A", 1));
    auto order = checkout(alice);
    REQUIRE_MESSAGE(order, why(order));
    CHECK(alice_state.handles.count(order->id) == 1);
    must_apply(order->id, command_kind::cancel);
    sched.run();
    CHECK(alice_state.handles.count(order->id) == 0);
  }
  CHECK(alice_state.handles.empty());
  CHECK(alice_state.order_of.empty());
  CHECK(view(alice).lines.empty());
}

TEST_CASE_FIXTURE(cart_fixture, "an idle customer at rest is released and "
                                "comes back on next use, one with a cart "
                                "stays") {
  // Before, every customer ever seen kept an actor (about 2 KB each) for
  // the life of the process.
  REQUIRE(put(bob, "A", 1));
  auto tick = ctx->settings.customer_idle_timeout;
  view(alice); // active in this interval: kept at the next tick
  advance(tick);
  CHECK(call<customer_actor>(sup, atom::customer_v, customer_id{"alice"})
            .value() == alice);
  advance(tick); // a whole interval idle, empty cart: released
  auto again =
      call<customer_actor>(sup, atom::customer_v, customer_id{"alice"});
  REQUIRE(again);
  CHECK(*again != alice);
  CHECK(view(*again).lines.empty());
  // Bob's cart is in memory only: however idle, his actor stays.
  advance(tick);
  advance(tick);
  CHECK(
      call<customer_actor>(sup, atom::customer_v, customer_id{"bob"}).value() ==
      bob);
  CHECK(view(bob).lines.size() == 1);
}
