// The CUSTOMER actor's cart: stock checks when adding, current prices,
// checkout all or part, and what a failed checkout leaves behind.
#include "tests/fixture.hpp"

#include <nlohmann/json.hpp>

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
    return call<cart_view>(c, atom::put_v, sku, qty);
  }

  caf::expected<cart_view> add(const customer_actor& c, const sku_id& sku,
                               int64_t qty) {
    return call<cart_view>(c, atom::add_v, sku, qty);
  }

  cart_view view(const customer_actor& c) {
    auto res = call<cart_view>(c, atom::get_v);
    REQUIRE_MESSAGE(res, why(res));
    return *res;
  }

  caf::expected<order_record> checkout(const customer_actor& c,
                                       std::vector<sku_id> skus = {},
                                       std::string key = {}) {
    return call<order_record>(c, atom::checkout_v, sample_address(),
                              std::move(skus), std::move(key));
  }
};

} // namespace

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
  auto h = call<inventory_actor>(sup, atom::find_sku_v, sku_id{"A"});
  REQUIRE(call<stock_view>(*h, atom::price_v, money{1200}));
  CHECK(view(alice).total == 2 * 1200 + 750);
}

TEST_CASE_FIXTURE(cart_fixture, "cart lines can be updated and removed") {
  REQUIRE(put(alice, "A", 2));
  auto v = *put(alice, "A", 1);
  REQUIRE(v.lines.size() == 1);
  CHECK(v.lines[0].quantity == 1);
  auto removed = call<cart_view>(alice, atom::remove_v, sku_id{"A"});
  REQUIRE(removed);
  CHECK(removed->lines.empty());
  CHECK(removed->total == 0);
  CHECK(code(call<cart_view>(alice, atom::remove_v, sku_id{"A"})) ==
        "VALIDATION_FAILED");
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
  CHECK(refusal(call<cart_view>(alice, atom::remove_v, sku_id{"B"})) ==
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
  auto h1 =
      self->request(alice, caf::infinite, atom::checkout_v, sample_address(),
                    std::vector<sku_id>{}, std::string{});
  auto h2 =
      self->request(bob, caf::infinite, atom::checkout_v, sample_address(),
                    std::vector<sku_id>{}, std::string{});
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
  auto h1 =
      self->request(alice, caf::infinite, atom::checkout_v, sample_address(),
                    std::vector<sku_id>{}, std::string{});
  auto h2 =
      self->request(alice, caf::infinite, atom::checkout_v, sample_address(),
                    std::vector<sku_id>{}, std::string{});
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
  auto h1 =
      self->request(alice, caf::infinite, atom::checkout_v, sample_address(),
                    std::vector<sku_id>{}, std::string{});
  auto h2 =
      self->request(alice, caf::infinite, atom::checkout_v, sample_address(),
                    std::vector<sku_id>{}, std::string{});
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
