#include "system/order_system.hpp"

#include <chrono>
#include <variant>

#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/journal.hpp"
#include "actors/journal_reader.hpp"
#include "actors/payment.hpp"
#include "actors/supervisor.hpp"
#include "actors/validation.hpp"
#include "messages/type_ids.hpp"
#include "system/log.hpp"
#include "system/store/projection.hpp"

namespace oms {

namespace {

// At most this many order handles are cached; past it the cache restarts.
constexpr size_t handle_cache_max = 100'000;

bool receiver_down(const caf::error& err) {
  return err == caf::sec::request_receiver_down;
}

} // namespace

void register_types(caf::actor_system_config& cfg) {
  cfg.add_message_types<caf::id_block::oms>();
  cfg.add_error_category(caf::atom("oms"), render_error);
}

journal_actor spawn_journal(caf::actor_system& sys,
                            std::shared_ptr<journal_store> store,
                            size_t batch_events_max, bool allow_detached,
                            std::unordered_map<order_id, open_order> open) {
  if (store->blocking() && allow_detached)
    return sys.spawn<caf::detached>(oms::journal, store, batch_events_max,
                                    std::move(open));
  return sys.spawn(oms::journal, store, batch_events_max, std::move(open));
}

payment_actor spawn_payment(caf::actor_system& sys,
                            std::shared_ptr<payment_gateway> gateway) {
  return sys.spawn(oms::payment, std::move(gateway));
}

context_ptr make_context(caf::actor_system& sys, settings cfg,
                         journal_actor journal, payment_actor payments) {
  using namespace std::chrono;
  auto ctx = std::make_shared<context>();
  ctx->settings = std::move(cfg);
  ctx->journal_reads = journal;
  ctx->journal = std::move(journal);
  ctx->payments = std::move(payments);
  ctx->epoch_anchor_ms =
      duration_cast<milliseconds>(system_clock::now().time_since_epoch())
          .count();
  ctx->clock_anchor = sys.clock().now();
  return ctx;
}

context_ptr make_context(caf::actor_system& sys, settings cfg,
                         journal_actor journal, payment_actor payments,
                         timestamp_ms epoch_anchor_ms) {
  auto ctx = std::make_shared<context>();
  ctx->settings = std::move(cfg);
  ctx->journal_reads = journal;
  ctx->journal = std::move(journal);
  ctx->payments = std::move(payments);
  ctx->epoch_anchor_ms = epoch_anchor_ms;
  ctx->clock_anchor = sys.clock().now();
  return ctx;
}

order_system::order_system(caf::actor_system& sys, settings cfg,
                           std::shared_ptr<journal_store> store,
                           std::shared_ptr<payment_gateway> gateway,
                           wms_gateway_actor wms,
                           std::shared_ptr<shard_map> shards)
    : sys_(sys) {
  // Limits under which a total could wrap stop the start before anything
  // runs (omsd's flags are checked the same way).
  if (auto why = check_money_bounds(cfg.limits, cfg.cart_lines_max))
    throw startup_error("settings: " + *why);
  // Rebuild from the store before anything runs; a store that cannot be
  // read completely stops the start.
  auto loaded = store->load();
  if (!loaded)
    throw startup_error(describe(loaded.error()));
  if (auto problem = check_consistency(*loaded); !problem.empty())
    throw startup_error(store->describe() + ": inconsistent state: " + problem);
  customers_at_start_ = std::move(loaded->customers);
  cursors_at_start_ = loaded->cursors;
  auto state = std::make_shared<const recovered_state>(std::move(*loaded));
  // The open orders the gauges count: a cluster node's are those it
  // places or changes (the shared store's live orders are every node's).
  std::unordered_map<order_id, open_order> open;
  if (!shards)
    for (auto& rec : state->live_orders)
      if (!is_terminal(rec.status))
        open.emplace(rec.id, open_order_of(rec));
  // The reads that need no append committed first get a store and a
  // thread of their own where the store has a reader (PostgreSQL): they
  // never wait behind a commit, nor a commit behind them.
  auto reader = store->open_reader();
  if (!reader)
    log::warn(
        "journal.reader_unavailable",
        {{"store", store->describe()}, {"error", describe(reader.error())}});
  journal_ = spawn_journal(sys, std::move(store), cfg.journal_batch_events_max,
                           true, std::move(open));
  if (reader && *reader)
    journal_reads_ =
        sys.spawn<caf::detached>(journal_reader, std::move(*reader));
  payments_ = spawn_payment(sys, std::move(gateway));
  auto ctx = std::make_shared<context>(
      *make_context(sys, std::move(cfg), journal_, payments_));
  if (journal_reads_)
    ctx->journal_reads = journal_reads_;
  ctx->wms = std::move(wms);
  ctx->shards = std::move(shards);
  ctx_ = ctx;
  supervisor_ = sys.spawn(oms::restored_supervisor, ctx_, std::move(state));
}

order_system::~order_system() {
  shutdown();
}

void order_system::shutdown() {
  if (stopped_)
    return;
  stopped_ = true;
  caf::scoped_actor self{sys_};
  // The supervisor takes SKU and order actors down; wait until it is gone.
  self->monitor(supervisor_);
  self->send_exit(supervisor_, caf::exit_reason::user_shutdown);
  self->receive([](const caf::down_msg&) {});
  // An empty append answers once everything before it is durable.
  self->request(journal_, ctx_->settings.request_timeout, atom::append_v,
                std::vector<event>{})
      .receive([](uint64_t) {}, [](caf::error&) {});
  self->send_exit(journal_, caf::exit_reason::user_shutdown);
  if (journal_reads_)
    self->send_exit(journal_reads_, caf::exit_reason::user_shutdown);
  self->send_exit(payments_, caf::exit_reason::user_shutdown);
  if (ctx_->wms)
    self->send_exit(ctx_->wms, caf::exit_reason::user_shutdown);
  std::lock_guard<std::mutex> guard{mtx_};
  handles_.clear();
  customers_.clear();
}

template <class T, class Handle, class... Ts>
caf::expected<T> order_system::call(const Handle& dest, Ts&&... xs) {
  caf::expected<T> result{make_error(errc::internal, "no reply")};
  caf::scoped_actor self{sys_};
  self->request(dest, ctx_->settings.request_timeout, std::forward<Ts>(xs)...)
      .receive([&](T& x) { result = std::move(x); },
               [&](caf::error& err) { result = std::move(err); });
  return result;
}

order_actor order_system::cached(const order_id& id) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = handles_.find(id);
  return i == handles_.end() ? order_actor{} : i->second;
}

void order_system::remember(const order_id& id, const order_actor& handle) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (handles_.size() >= handle_cache_max)
    handles_.clear();
  handles_.insert_or_assign(id, handle);
}

void order_system::forget(const order_id& id) {
  std::lock_guard<std::mutex> guard{mtx_};
  handles_.erase(id);
}

caf::expected<stock_view>
order_system::add_item_to_inventory(const sku_id& sku, int64_t quantity,
                                    money unit_price) {
  return call<stock_view>(supervisor_, atom::receive_v, sku, seller::internal,
                          quantity, unit_price);
}

caf::expected<stock_view>
order_system::get_available_inventory(const sku_id& sku, seller from) {
  return call<stock_view>(supervisor_, atom::get_v, sku, from);
}

caf::expected<stock_view> order_system::set_price(const sku_id& sku,
                                                  money unit_price) {
  auto handle = call<inventory_actor>(supervisor_, atom::find_sku_v, sku,
                                      seller::internal);
  if (!handle)
    return handle.error();
  return call<stock_view>(*handle, atom::price_v, unit_price, uint64_t{0});
}

caf::expected<customer_actor> order_system::customer(const customer_id& id) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (auto i = customers_.find(id); i != customers_.end())
      return i->second;
  }
  auto res = call<customer_actor>(supervisor_, atom::customer_v, id);
  if (res) {
    std::lock_guard<std::mutex> guard{mtx_};
    customers_.emplace(id, *res);
  }
  return res;
}

caf::expected<order_record> order_system::create_order(
    const customer_id& customer, std::vector<order_item> items,
    const address& ship_to, const std::string& idempotency_key) {
  // Through the customer's actor, so the order is listed and keyed there.
  auto c = this->customer(customer);
  if (!c)
    return c.error();
  create_order_request req{customer, std::move(items), ship_to, {}, {}};
  return call<order_record>(*c, atom::create_v, std::move(req),
                            idempotency_key);
}

caf::expected<order_record> order_system::apply(const order_id& id,
                                                order_command cmd) {
  // A cached handle may belong to an order that ended meanwhile; the
  // SUPERVISOR then answers from the final record.
  auto direct = [&](const order_actor& handle) -> caf::expected<order_record> {
    auto msg = to_order_message(cmd);
    if (!msg)
      return std::move(msg.error());
    return std::visit(
        [&](auto& m) { return call<order_record>(handle, std::move(m)); },
        *msg);
  };
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto handle = cached(id);
    auto res = handle ? direct(handle)
                      : call<order_record>(supervisor_, atom::apply_v, id, cmd);
    if (!res && receiver_down(res.error())) {
      forget(id);
      continue;
    }
    if (res && is_terminal(res->status))
      forget(id);
    return res;
  }
  return make_error(errc::internal, "order " + id + " kept vanishing");
}

caf::expected<order_record> order_system::update_order(const order_id& id,
                                                       order_status target,
                                                       std::string reason) {
  order_command cmd;
  switch (target) {
    case order_status::confirmed:
      cmd.kind = command_kind::confirm;
      break;
    case order_status::shipped:
      cmd.kind = command_kind::ship;
      break;
    case order_status::delivered:
      cmd.kind = command_kind::deliver;
      break;
    case order_status::cancelled:
      cmd.kind = command_kind::cancel;
      break;
    case order_status::paid:
      return make_error(errc::validation_failed,
                        "status PAID needs a payment: use pay_order",
                        field_details("status"));
    default:
      return make_error(errc::validation_failed,
                        std::string{"status "} + to_string(target) +
                            " is not a target of updateOrder",
                        field_details("status"));
  }
  cmd.reason = std::move(reason);
  return apply(id, std::move(cmd));
}

caf::expected<order_record>
order_system::pay_order(const order_id& id, money amount,
                        const std::string& token,
                        const std::string& idempotency_key) {
  if (idempotency_key.empty()) {
    order_command cmd;
    cmd.kind = command_kind::pay;
    cmd.amount = amount;
    cmd.token = token;
    return apply(id, std::move(cmd));
  }
  // Keys are scoped to the order's customer.
  auto rec = get_order(id);
  if (!rec)
    return rec.error();
  auto c = this->customer(rec->customer);
  if (!c)
    return c.error();
  return call<order_record>(*c, atom::pay_v, id, amount, token, idempotency_key,
                            uint64_t{0});
}

caf::expected<order_record>
order_system::cancel_lines(const order_id& id, std::vector<order_item> lines,
                           std::string reason) {
  order_command cmd;
  cmd.kind = command_kind::cancel;
  cmd.lines = std::move(lines);
  cmd.reason = std::move(reason);
  return apply(id, std::move(cmd));
}

caf::expected<cart_view> order_system::view_cart(const customer_id& customer) {
  auto c = this->customer(customer);
  if (!c)
    return c.error();
  return call<cart_view>(*c, atom::get_v);
}

caf::expected<cart_view>
order_system::set_cart_item(const customer_id& customer, const sku_id& sku,
                            int64_t quantity, seller from) {
  auto c = this->customer(customer);
  if (!c)
    return c.error();
  return call<cart_view>(*c, atom::put_v, sku, quantity, from);
}

caf::expected<cart_view> order_system::add_to_cart(const customer_id& customer,
                                                   const sku_id& sku,
                                                   int64_t quantity,
                                                   seller from) {
  auto c = this->customer(customer);
  if (!c)
    return c.error();
  return call<cart_view>(*c, atom::add_v, sku, quantity, from);
}

caf::expected<cart_view>
order_system::remove_from_cart(const customer_id& customer, const sku_id& sku,
                               seller from) {
  auto c = this->customer(customer);
  if (!c)
    return c.error();
  return call<cart_view>(*c, atom::remove_v, sku, from);
}

caf::expected<order_record>
order_system::checkout(const customer_id& customer, const address& ship_to,
                       std::vector<sku_id> skus,
                       const std::string& idempotency_key,
                       std::optional<seller> from) {
  auto c = this->customer(customer);
  if (!c)
    return c.error();
  return call<order_record>(*c, atom::checkout_v, ship_to, std::move(skus),
                            idempotency_key, from.value_or(seller::internal),
                            from.has_value());
}

caf::expected<order_page> order_system::list_orders(const customer_id& customer,
                                                    uint32_t limit,
                                                    const std::string& cursor) {
  auto c = this->customer(customer);
  if (!c)
    return c.error();
  return call<order_page>(*c, atom::list_v, limit, cursor);
}

caf::expected<order_record> order_system::get_order(const order_id& id) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto handle = cached(id);
    auto res = handle ? call<order_record>(handle, atom::get_v)
                      : call<order_record>(supervisor_, atom::get_v, id);
    if (!res && receiver_down(res.error())) {
      forget(id);
      continue;
    }
    return res;
  }
  return make_error(errc::internal, "order " + id + " kept vanishing");
}

caf::expected<audit_report> order_system::audit() {
  return call<audit_report>(supervisor_, atom::audit_v);
}

caf::expected<journal_stats> order_system::journal_counters() {
  return call<journal_stats>(journal_, atom::stats_v);
}

} // namespace oms
