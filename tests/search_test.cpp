// The admin order search (journal_store::search_orders) on every backend:
// each filter alone and together, newest first, pages that meet without a
// gap or a repeat. The memory store walks every order; the SQL stores start
// from an index: both must give the same orders.
#include "tests/fixture.hpp"

#include "tests/backends.hpp"

using namespace oms;
using namespace oms::test;
using namespace std::chrono_literals;

namespace {

constexpr timestamp_ms search_t0 = 1'800'000'000'000;

std::vector<order_id> ids_of(const order_hits& hits) {
  std::vector<order_id> ids;
  for (auto& rec : hits.orders)
    ids.push_back(rec.id);
  return ids;
}

order_hits search(fixture& f, order_query q) {
  auto res = f.call<order_hits>(f.journal, atom::search_v, q);
  REQUIRE_MESSAGE(res, why(res));
  return *res;
}

} // namespace

TEST_CASE("the admin search selects by every filter, newest first, in pages "
          "on every backend") {
  temp_dir dir;
  for (auto& b : backends(dir)) {
    SUBCASE(b.name.c_str()) {
      fixture f{b.open(), search_t0};
      f.receive("A", 100, 100);
      f.receive("B", 100, 250);
      // o[0..5], oldest first; a minute apart.
      std::vector<order_id> o;
      auto add = [&](const customer_id& who, std::vector<order_item> items) {
        o.push_back(f.create(who, std::move(items)).record.id);
        f.advance(1min);
      };
      add("alice", {{"A", 1}});
      add("bob", {{"B", 2}});
      add("alice", {{"A", 1}, {"B", 1}});
      add("carol", {{"A", 3}});
      add("bob", {{"A", 1}});
      add("alice", {{"B", 1}});
      f.must_apply(o[1], command_kind::confirm);
      f.must_apply(o[3], command_kind::confirm);
      f.must_apply(o[4], command_kind::cancel);

      order_query all;
      CHECK(ids_of(search(f, all)) ==
            std::vector<order_id>{o[5], o[4], o[3], o[2], o[1], o[0]});
      order_query by_sku;
      by_sku.sku = "B";
      CHECK(ids_of(search(f, by_sku)) ==
            std::vector<order_id>{o[5], o[2], o[1]});
      order_query by_customer;
      by_customer.customer = "alice";
      CHECK(ids_of(search(f, by_customer)) ==
            std::vector<order_id>{o[5], o[2], o[0]});
      order_query by_status;
      by_status.status = "CONFIRMED";
      CHECK(ids_of(search(f, by_status)) == std::vector<order_id>{o[3], o[1]});
      order_query cancelled;
      cancelled.status = "CANCELLED";
      CHECK(ids_of(search(f, cancelled)) == std::vector<order_id>{o[4]});
      // Together: SKU A, still CREATED, alice's.
      order_query mixed;
      mixed.sku = "A";
      mixed.status = "CREATED";
      mixed.customer = "alice";
      CHECK(ids_of(search(f, mixed)) == std::vector<order_id>{o[2], o[0]});
      // A SKU's orders in one status; a customer's in one status.
      order_query sku_status;
      sku_status.sku = "A";
      sku_status.status = "CANCELLED";
      CHECK(ids_of(search(f, sku_status)) == std::vector<order_id>{o[4]});
      order_query customer_status;
      customer_status.customer = "bob";
      customer_status.status = "CONFIRMED";
      CHECK(ids_of(search(f, customer_status)) == std::vector<order_id>{o[1]});
      order_query status_sku_customer;
      status_sku_customer.status = "CONFIRMED";
      status_sku_customer.sku = "A";
      status_sku_customer.customer = "bob";
      CHECK(search(f, status_sku_customer).orders.empty());
      // Created in the window [t0 + 1 min, t0 + 3 min).
      order_query window;
      window.created_from = search_t0 + 60'000;
      window.created_to = search_t0 + 3 * 60'000;
      CHECK(ids_of(search(f, window)) == std::vector<order_id>{o[2], o[1]});
      order_query external;
      external.seller = "EXTERNAL";
      CHECK(search(f, external).orders.empty());
      order_query nobody;
      nobody.customer = "dave";
      CHECK(search(f, nobody).orders.empty());
      CHECK(search(f, nobody).next == 0);

      // Pages of two meet: the next page starts after the last order given.
      order_query page;
      page.limit = 2;
      std::vector<order_id> seen;
      for (int n = 0; n < 5; ++n) {
        auto hits = search(f, page);
        for (auto& rec : hits.orders)
          seen.push_back(rec.id);
        if (hits.next == 0)
          break;
        page.before = hits.next;
      }
      CHECK(seen == std::vector<order_id>{o[5], o[4], o[3], o[2], o[1], o[0]});
      // A filtered page that ends exactly at the last match has no next.
      order_query two_b;
      two_b.sku = "B";
      two_b.limit = 3;
      CHECK(search(f, two_b).next == 0);
      two_b.limit = 2;
      auto first = search(f, two_b);
      REQUIRE(first.next != 0);
      two_b.before = first.next;
      CHECK(ids_of(search(f, two_b)) == std::vector<order_id>{o[1]});
      // The records are the orders as they are now.
      auto hits = search(f, by_status);
      REQUIRE(hits.orders.size() == 2);
      CHECK(hits.orders[0].status == order_status::confirmed);
      CHECK(hits.orders[0].version == 2);
    }
  }
}
