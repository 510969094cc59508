// The EXTERNAL seller on a cluster (docs/cluster.md, "The EXTERNAL seller
// on a cluster"): the holder of the duty shard serves its SKUs, its orders
// and its WMS feed; every other node refuses them NOT_OWNER of the duty
// shard (and forwards them there); a node that takes the duty shard goes on
// from what the shared store holds, without asking the WMS again for what
// it already acknowledged. On virtual time, two nodes on one memory store
// and one simulated WMS.
#include <optional>
#include <set>

#include "tests/external_fixture.hpp"

#include "actors/external_sku.hpp"
#include "messages/shards.hpp"
#include "system/cluster/region.hpp"

using namespace oms;
using namespace oms::test;
using namespace std::chrono_literals;

namespace {

constexpr uint32_t ext_shard_count = 4;

// A cluster node with the simulated WMS behind its gateway, the feed read
// every 5 s.
struct ext_node {
  std::shared_ptr<fake_wms> wms;
  std::unique_ptr<fixture> f;

  ext_node(std::shared_ptr<journal_store> store, std::shared_ptr<fake_wms> w)
      : wms(std::move(w)) {
    auto wp = wms;
    f = std::make_unique<fixture>(
        std::move(store), external_t0, external_settings_for_tests(true),
        simulated_gateway::config{}, nullptr,
        [wp](caf::actor_system& sys) -> wms_gateway_actor {
          return sys.spawn(fake_gateway, wp);
        },
        std::make_shared<shard_map>(ext_shard_count));
  }

  void adopt(uint32_t shard, int64_t epoch) {
    f->self->send(f->sup, atom::adopt_v, shard_epochs{{shard}, {epoch}});
    f->sched.run();
  }
  void disown(uint32_t shard) {
    f->self->send(f->sup, atom::disown_v, shard_epochs{{shard}, {0}});
    f->sched.run();
  }

  caf::expected<stock_view> stock(const sku_id& sku) {
    return f->call<stock_view>(f->sup, atom::get_v, sku, seller::external);
  }

  caf::expected<created_order> order(const customer_id& c, const sku_id& sku,
                                     int64_t qty) {
    return f->try_create(c, {{sku, qty, seller::external}});
  }
};

// The shard a NOT_OWNER refusal names (-1 for anything else).
template <class T>
int64_t refused_shard(const caf::expected<T>& x) {
  if (x || code(x) != "NOT_OWNER")
    return -1;
  auto details = nlohmann::json::parse(details_of(x.error()), nullptr, false);
  return details.is_object() ? details.value("shard", int64_t{-1}) : -1;
}

// An EXTERNAL order of 2 units of `sku` (6 at the WMS) granted by `first`
// while the WMS was down, so its reserve never got through; `first` then
// loses the duty, `next` takes it and cancels the order: its release will
// find nothing at the WMS. The WMS is up again; `releases` counts its
// releases so far.
struct stranded_order {
  order_id id;
  size_t releases = 0;
};

stranded_order cancelled_after_move(ext_node& first, ext_node& next,
                                    fake_wms& wms, const sku_id& sku) {
  wms.sim.put_sku(sku, 6, 1000, true);
  first.adopt(duty_shard, 3);
  REQUIRE(first.stock(sku));
  wms.down = true;
  auto a = first.order("c1", sku, 2);
  REQUIRE_MESSAGE(a, why(a));
  first.disown(duty_shard);
  next.adopt(duty_shard, 4);
  next.f->must_apply(a->record.id, command_kind::cancel);
  wms.down = false;
  return {a->record.id, wms.count(wms_op::release)};
}

} // namespace

TEST_CASE("cluster external: only the duty shard's holder serves the "
          "EXTERNAL seller, and the next holder goes on from the store "
          "without asking the WMS twice") {
  auto store = std::make_shared<memory_store>();
  auto wms = std::make_shared<fake_wms>();
  wms->sim.put_sku("EXT-1", 10, 1000, true);
  ext_node first{store, wms};
  ext_node next{store, wms};

  // Neither holds the duty shard: stock and orders refused, naming it, and
  // the WMS not asked (not even by a feed reader).
  first.adopt(1, 2); // another shard is not the duty
  CHECK(refused_shard(first.stock("EXT-1")) == duty_shard);
  CHECK(refused_shard(first.order("c1", "EXT-1", 2)) == duty_shard);
  first.f->advance(20s);
  CHECK(wms->calls.empty());

  // The first takes it: it sells, the WMS hears of the reservation, the
  // feed is read, and all it journals is stamped with the duty's epoch.
  first.adopt(duty_shard, 3);
  auto from = store->last_seq() + 1;
  auto a = first.order("c1", "EXT-1", 2);
  REQUIRE_MESSAGE(a, why(a));
  auto id = a->record.id;
  first.f->sched.run();
  CHECK(wms->status_of(reservation_id(id, "EXT-1")) == "RESERVED");
  CHECK(first.f->must_apply(id, command_kind::confirm).status ==
        order_status::confirmed);
  CHECK(wms->status_of(reservation_id(id, "EXT-1")) == "BLOCKED");
  first.f->advance(6s);
  CHECK(wms->count(wms_op::read_events) >= 1);
  // (And each says it is the EXTERNAL seller's, which is what the fence
  // counts it by: an order's record, the feed's cursor, the others' own
  // seller.)
  std::set<int64_t> stamps;
  for (auto& ev : first.f->store_events(from, 100'000)) {
    stamps.insert(ev.fence);
    CAPTURE(std::string{to_string(ev.kind)});
    if (is_order_event(ev.kind))
      CHECK(ev.snapshot.seller == seller::external);
    else if (ev.kind == event_kind::inbox_cursor)
      CHECK(ev.reason == wms_feed_source);
    else
      CHECK(ev.seller == seller::external);
  }
  CHECK(stamps == std::set<int64_t>{3});
  REQUIRE(first.stock("EXT-1"));
  auto available = first.stock("EXT-1")->available;
  CHECK(available == 8);

  // It loses the duty: it refuses the order's steps and the stock, its
  // feed reader stops, and its gateway drops what it had not sent.
  auto purges = wms->purges;
  first.disown(duty_shard);
  CHECK(wms->purges == purges + 1);
  CHECK(refused_shard(first.f->apply(id, command_kind::ship)) == duty_shard);
  // (A read is answered from the store the nodes share, as any order's.)
  auto read = first.f->get_order(id);
  REQUIRE_MESSAGE(read, why(read));
  CHECK(read->status == order_status::confirmed);
  CHECK(refused_shard(first.stock("EXT-1")) == duty_shard);
  auto reads = wms->count(wms_op::read_events);
  first.f->advance(20s);
  CHECK(wms->count(wms_op::read_events) == reads);

  // The next holder serves the order from the store: the hold counted
  // (no unit sold twice), nothing reserved or blocked again at the WMS,
  // and its steps reach the WMS from there.
  next.adopt(duty_shard, 4);
  auto reserves = wms->count(wms_op::reserve);
  auto blocks = wms->count(wms_op::block);
  REQUIRE(next.stock("EXT-1"));
  CHECK(next.stock("EXT-1")->available == available);
  next.f->sched.run();
  CHECK(wms->count(wms_op::reserve) == reserves);
  CHECK(wms->count(wms_op::block) == blocks);
  next.f->must_pay(id, a->record.total_amount);
  CHECK(next.f->must_apply(id, command_kind::ship).status ==
        order_status::shipped);
  CHECK(wms->status_of(reservation_id(id, "EXT-1")) == "SHIPPED");
  // 8 left: a ninth unit is refused by the new holder's own count.
  CHECK(code(next.order("c2", "EXT-1", 9)) == "INSUFFICIENT_STOCK");
  CHECK(next.order("c2", "EXT-1", 8));
}

TEST_CASE("cluster external: a WMS feed change the duty's holder applied is "
          "a duplicate at the next holder, whose inbox never saw its id") {
  auto store = std::make_shared<memory_store>();
  auto wms = std::make_shared<fake_wms>();
  wms->sim.put_sku("EXT-2", 5, 1000, true);
  // Both start before the change: neither inbox has its id from the store.
  ext_node first{store, wms};
  ext_node next{store, wms};
  first.adopt(duty_shard, 3);
  REQUIRE(first.stock("EXT-2"));
  CHECK(first.stock("EXT-2")->available == 5);
  REQUIRE(wms->sim.receive("EXT-2", 4, "L-1").ok());
  first.f->advance(6s);
  CHECK(first.stock("EXT-2")->available == 9);
  // The change as the feed reader handed it to the INBOX.
  std::optional<stock_change> read;
  for (auto& ev : first.f->store_events(1, 100'000))
    if (ev.kind == event_kind::stock_received && ev.sku == "EXT-2") {
      read = stock_change{};
      read->sku = ev.sku;
      read->quantity = ev.quantity;
      read->lot = ev.lot;
      read->event_id = ev.inbox_id;
      read->source = std::string{wms_feed_source};
      read->seller = seller::external;
      read->wms_seq = ev.amount;
    }
  REQUIRE(read);
  REQUIRE_FALSE(read->event_id.empty());

  // The duty moves; the same change comes again at the next holder (its
  // feed read from an older cursor): a duplicate, counted once.
  first.disown(duty_shard);
  next.adopt(duty_shard, 4);
  REQUIRE(next.stock("EXT-2"));
  CHECK(next.stock("EXT-2")->available == 9);
  auto again = next.f->call<inbox_result>(next.f->sup, atom::apply_v, *read);
  REQUIRE_MESSAGE(again, why(again));
  CHECK(again->outcome == inbox_outcome::duplicate);
  CHECK(next.stock("EXT-2")->available == 9);
  // The former holder refuses it, and a new one is read once.
  read->event_id += "-x";
  CHECK(refused_shard(first.f->call<inbox_result>(first.f->sup, atom::apply_v,
                                                  *read)) == duty_shard);
  REQUIRE(wms->sim.receive("EXT-2", 2, "L-2").ok());
  next.f->advance(6s);
  CHECK(next.stock("EXT-2")->available == 11);
  next.f->advance(20s);
  CHECK(next.stock("EXT-2")->available == 11);
}

TEST_CASE("cluster external: a peer's cart reads an EXTERNAL SKU through "
          "the duty holder's region, and only there") {
  auto store = std::make_shared<memory_store>();
  auto wms = std::make_shared<fake_wms>();
  wms->sim.put_sku("EXT-3", 6, 1000, true);
  ext_node n{store, wms};
  auto slot = std::make_shared<oms::cluster::forward_slot>();
  slot->set_holds(n.f->sup);
  auto region = oms::cluster::spawn_region(
      n.f->sys, "n1", [] { return uint64_t{1}; }, slot);
  auto ask = [&] {
    return n.f->call<stock_reader_actor>(region, atom::find_sku_v,
                                         sku_id{"EXT-3"}, seller::external);
  };
  CHECK(refused_shard(ask()) == duty_shard);
  n.adopt(duty_shard, 2);
  auto reader = ask();
  REQUIRE_MESSAGE(reader, why(reader));
  auto view = n.f->call<stock_view>(*reader, atom::get_v);
  REQUIRE_MESSAGE(view, why(view));
  CHECK(view->seller == seller::external);
  CHECK(view->available == 6);
  // A reader and nothing more: a reservation through it is refused.
  hold_change change{hold_op::reserve, "ord_x", 1};
  CHECK_FALSE(n.f->call<hold_outcome>(caf::actor_cast<inventory_actor>(*reader),
                                      atom::hold_v, change));
  CHECK(n.stock("EXT-3")->available == 6);
}

TEST_CASE("cluster external: an EXTERNAL SKU's restart under way when the "
          "duty is lost ends there: no actor comes back to call the WMS") {
  auto store = std::make_shared<memory_store>();
  auto wms = std::make_shared<fake_wms>();
  wms->sim.put_sku("EXT-4", 6, 1000, true);
  ext_node n{store, wms};
  n.adopt(duty_shard, 3);
  auto a = n.order("c1", "EXT-4", 2);
  REQUIRE_MESSAGE(a, why(a));
  // Confirmed while the WMS is down: the block is owed, and a SKU actor
  // started from the store would send it.
  wms->down = true;
  n.f->must_apply(a->record.id, command_kind::confirm);
  auto sku = n.f->call<inventory_actor>(n.f->sup, atom::find_sku_v,
                                        sku_id{"EXT-4"}, seller::external);
  REQUIRE_MESSAGE(sku, why(sku));
  // The SKU's actor fails: its restart waits for its backoff.
  n.f->self->send_exit(*sku, make_error(errc::internal, "injected"));
  n.f->sched.run();
  auto health = n.f->call<std::vector<sku_fault>>(n.f->sup, atom::health_v);
  REQUIRE(health);
  REQUIRE(health->size() == 1);
  // The restart starts (its orders asked to settle), and the duty is lost
  // before they answer.
  n.f->self->send(n.f->sup, atom::restart_v, sku_id{"EXT-4"}, seller::external);
  n.f->self->send(n.f->sup, atom::disown_v, shard_epochs{{duty_shard}, {0}});
  n.f->sched.run();
  auto calls = wms->calls.size();
  n.f->advance(120s);
  CHECK(wms->calls.size() == calls);
  health = n.f->call<std::vector<sku_fault>>(n.f->sup, atom::health_v);
  REQUIRE(health);
  CHECK(health->empty());
  CHECK(refused_shard(n.stock("EXT-4")) == duty_shard);
}

TEST_CASE("cluster external: a reserve of the former holder that reaches the "
          "WMS after the next holder released it is released again") {
  auto store = std::make_shared<memory_store>();
  auto wms = std::make_shared<fake_wms>();
  ext_node first{store, wms};
  ext_node next{store, wms};
  // The former holder grants and journals its intent, but its reserve
  // does not get through before it loses the duty; cancelled at the next
  // holder, the release finds nothing at the WMS.
  auto [id, releases] = cancelled_after_move(first, next, *wms, "EXT-5");
  auto reservation = reservation_id(id, "EXT-5");
  next.f->advance(70s);
  REQUIRE(wms->count(wms_op::release) == releases + 1);
  CHECK(wms->status_of(reservation) == "NONE");
  // Its units stay counted as held meanwhile: not sold to anyone else
  // while the former holder's reserve may still come.
  CHECK(next.stock("EXT-5")->available == 4);
  // And it comes, after all.
  REQUIRE(wms->sim.reserve(reservation, "EXT-5", 2).status == 201);
  CHECK(wms->status_of(reservation) == "RESERVED");
  // Once the grace is over, the next holder releases it again, and only
  // then are the units free.
  next.f->advance(next.f->ctx->settings.external.stale_call_grace);
  CHECK(wms->status_of(reservation) == "RELEASED");
  CHECK(wms->count(wms_op::release) == releases + 2);
  CHECK(next.stock("EXT-5")->available == 6);
  // And no more than that.
  next.f->advance(10min);
  CHECK(wms->count(wms_op::release) == releases + 2);
}

TEST_CASE("cluster external: a release the WMS did not know is settled by "
          "the answer after its grace, also when nothing came meanwhile") {
  auto store = std::make_shared<memory_store>();
  auto wms = std::make_shared<fake_wms>();
  ext_node first{store, wms};
  ext_node next{store, wms};
  auto [id, releases] = cancelled_after_move(first, next, *wms, "EXT-6");
  next.f->advance(70s);
  REQUIRE(wms->count(wms_op::release) == releases + 1);
  CHECK(next.stock("EXT-6")->available == 4);
  // The duty moves back before the grace is over: the hold comes back
  // from the store as it was (nothing said the release was done), and
  // its new holder starts over with it.
  next.disown(duty_shard);
  first.adopt(duty_shard, 5);
  REQUIRE(first.stock("EXT-6"));
  CHECK(first.stock("EXT-6")->available == 4);
  first.f->advance(5s);
  CHECK(wms->count(wms_op::release) == releases + 2);
  first.f->advance(first.f->ctx->settings.external.stale_call_grace);
  CHECK(wms->count(wms_op::release) == releases + 3);
  CHECK(first.stock("EXT-6")->available == 6);
  CHECK(wms->status_of(reservation_id(id, "EXT-6")) == "NONE");
  first.f->advance(10min);
  CHECK(wms->count(wms_op::release) == releases + 3);
}
