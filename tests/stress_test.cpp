// Many concurrent clients on the real threaded scheduler: create, confirm,
// pay, ship, deliver and cancel orders on a handful of hot SKUs with scarce
// stock. Afterwards every SKU must balance: on_hand + consumed = received,
// the holds equal what live orders hold, nothing negative, and no unit was
// granted twice. Removing the SKU actor's availability check makes this test
// fail (it oversells within the first few hundred orders).
#include <doctest/doctest.h>

#include "tests/together.hpp"
#include "tests/why.hpp"

#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "messages/type_ids.hpp"
#include "system/order_system.hpp"
#include "system/simulated_gateway.hpp"
#include "system/store/memory_store.hpp"

using namespace oms;
using oms::test::why;

namespace {

struct threaded_fixture {
  static caf::actor_system_config& init(caf::actor_system_config& cfg) {
    cfg.set("scheduler.max-threads", 4);
    cfg.set("logger.console-verbosity", caf::atom("quiet"));
    register_types(cfg);
    return cfg;
  }
  caf::actor_system_config cfg;
  caf::actor_system sys;
  std::shared_ptr<memory_store> store = std::make_shared<memory_store>();
  order_system oms_;

  threaded_fixture()
      : sys(init(cfg)),
        oms_(sys, settings{}, store, std::make_shared<simulated_gateway>()) {}
};

} // namespace

TEST_CASE_FIXTURE(threaded_fixture,
                  "concurrent clients never oversell and every SKU balances") {
  const std::vector<std::string> skus{"HOT-1", "HOT-2", "HOT-3", "HOT-4",
                                      "HOT-5"};
  const int64_t initial = 40;
  for (auto& sku : skus)
    REQUIRE(oms_.add_item_to_inventory(sku, initial, 100));
  constexpr int clients = 16;
  constexpr int orders_per_client = 60;
  std::atomic<int64_t> granted_orders{0};
  std::atomic<int64_t> refused_orders{0};
  std::atomic<int64_t> unexpected{0};
  std::atomic<int64_t> received_extra{0};
  std::mutex mtx;
  std::map<std::string, int64_t> shipped_units; // per SKU, from replies
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c)
    threads.emplace_back([&, c] {
      std::mt19937 rng(static_cast<unsigned>(c) * 7919u + 1);
      auto pick = [&](int n) {
        return std::uniform_int_distribution<int>(0, n - 1)(rng);
      };
      for (int i = 0; i < orders_per_client; ++i) {
        // 1-3 distinct hot SKUs, 1-4 units each.
        std::vector<order_item> items;
        auto first = pick(static_cast<int>(skus.size()));
        auto lines = 1 + pick(3);
        for (int l = 0; l < lines; ++l)
          items.push_back(
              {skus[(first + l) % skus.size()], 1 + pick(4), seller::internal});
        if (pick(25) == 0) {
          // Now and then stock arrives while orders race for it.
          if (oms_.add_item_to_inventory(items.front().sku, 3))
            received_extra += 3;
        }
        auto created =
            oms_.create_order("cust-" + std::to_string(c), items,
                              address{"1 Main St", "", "Pune", "411001", "IN"});
        if (!created) {
          if (code_of(created.error()) == errc::insufficient_stock)
            ++refused_orders;
          else
            ++unexpected;
          continue;
        }
        ++granted_orders;
        auto id = created->id;
        auto total = created->total_amount;
        // Pick a fate for the order.
        switch (pick(5)) {
          case 0: // leave it CREATED (holds stay reserved)
            break;
          case 1:
            if (!oms_.update_order(id, order_status::cancelled))
              ++unexpected;
            break;
          case 2: // confirm, then cancel
            if (!oms_.update_order(id, order_status::confirmed) ||
                !oms_.update_order(id, order_status::cancelled))
              ++unexpected;
            break;
          case 3: // pay, leave PAID (blocked)
            if (!oms_.pay_order(id, total, "tok_visa"))
              ++unexpected;
            break;
          default: { // the full lifecycle
            if (!oms_.update_order(id, order_status::confirmed) ||
                !oms_.pay_order(id, total, "tok_visa")) {
              ++unexpected;
              break;
            }
            auto shipped = oms_.update_order(id, order_status::shipped);
            if (!shipped) {
              ++unexpected;
              break;
            }
            {
              std::lock_guard<std::mutex> guard{mtx};
              for (auto& line : shipped->lines)
                shipped_units[line.sku] += line.shipped_quantity;
            }
            if (!oms_.update_order(id, order_status::delivered))
              ++unexpected;
          }
        }
      }
    });
  for (auto& t : threads)
    t.join();
  CHECK(unexpected == 0);
  CHECK(granted_orders > 0);
  CHECK(refused_orders > 0); // the stock really was contended
  auto report = oms_.audit();
  REQUIRE(report);
  for (auto& v : report->violations)
    FAIL_CHECK(v.sku << ": " << v.what);
  CHECK(report->violations.empty());
  int64_t received_total = 0;
  int64_t consumed_total = 0;
  for (auto& sku : skus) {
    auto v = oms_.get_available_inventory(sku, seller::internal);
    REQUIRE(v);
    CHECK(v->on_hand >= 0);
    CHECK(v->reserved >= 0);
    CHECK(v->blocked >= 0);
    CHECK(v->available >= 0);
    CHECK(v->on_hand + v->consumed_total == v->received_total);
    CHECK(v->consumed_total == shipped_units[sku]);
    received_total += v->received_total;
    consumed_total += v->consumed_total;
  }
  CHECK(received_total ==
        initial * static_cast<int64_t>(skus.size()) + received_extra);
  MESSAGE("granted=" << granted_orders.load()
                     << " refused=" << refused_orders.load()
                     << " consumed=" << consumed_total);
}

TEST_CASE_FIXTURE(threaded_fixture,
                  "50 concurrent creates with one idempotency key give one "
                  "order and one reservation") {
  REQUIRE(oms_.add_item_to_inventory("KEYED", 100, 500));
  constexpr int clients = 50;
  std::vector<caf::expected<order_record>> results(
      clients, caf::expected<order_record>{caf::error{}});
  oms::test::run_together(clients, [&](int i) {
    results[i] = oms_.create_order(
        "keyed-customer", {{"KEYED", 3, seller::internal}},
        address{"1 Main St", "", "Pune", "411001", "IN"}, "same-key");
  });
  std::set<order_id> ids;
  for (auto& res : results) {
    REQUIRE_MESSAGE(res, why(res));
    ids.insert(res->id);
  }
  CHECK(ids.size() == 1);
  auto v = oms_.get_available_inventory("KEYED", seller::internal);
  REQUIRE(v);
  CHECK(v->reserved == 3);
  auto page = oms_.list_orders("keyed-customer");
  REQUIRE(page);
  CHECK(page->orders.size() == 1);
  size_t created = 0;
  for (auto& ev : store->events())
    if (ev.kind == event_kind::order_created)
      ++created;
  CHECK(created == 1);
}
