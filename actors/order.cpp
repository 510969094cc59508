#include "actors/order.hpp"

#include <functional>
#include <memory>

#include <nlohmann/json.hpp>

#include "actors/order_machine.hpp"
#include "messages/type_ids.hpp"
#include "system/log.hpp"

namespace oms {

namespace {

using order_ptr = order_actor::stateful_pointer<order_state>;
using record_callback = std::function<void(caf::expected<order_record>)>;

timestamp_ms now(order_ptr self) {
  return self->state.ctx->now(self->clock());
}

order_actor handle_of(order_ptr self) {
  return caf::actor_cast<order_actor>(self);
}

event stock_event(event_kind kind, timestamp_ms at, const sku_id& sku,
                  const order_id& order, int64_t quantity) {
  event ev;
  ev.kind = kind;
  ev.at = at;
  ev.sku = sku;
  ev.order = order;
  ev.quantity = quantity;
  return ev;
}

event order_event(event_kind kind, const order_record& snapshot) {
  event ev;
  ev.kind = kind;
  ev.at = snapshot.updated_at;
  ev.order = snapshot.id;
  ev.amount = snapshot.total_amount;
  ev.snapshot = snapshot;
  return ev;
}

// Sends one request per selected line to its SKU actor and waits for all of
// them (nothing else is handled meanwhile). `send` issues the request for
// line i and returns its handle; `done` runs once every reply is in, with the
// number of failed requests.
template <class Send>
void for_lines(order_ptr self, const std::vector<size_t>& lines, Send send,
               std::function<void(size_t failures)> done) {
  if (lines.empty()) {
    done(0);
    return;
  }
  struct fan_in {
    size_t outstanding;
    size_t failures = 0;
    std::function<void(size_t)> done;
  };
  auto state =
      std::make_shared<fan_in>(fan_in{lines.size(), 0, std::move(done)});
  auto arrive = [state](bool ok) {
    if (!ok)
      ++state->failures;
    if (--state->outstanding == 0)
      state->done(state->failures);
  };
  for (auto i : lines) {
    const auto& sku = self->state.record.lines[i].sku;
    send(i).await([arrive](int64_t) { arrive(true); },
                  [arrive, self, sku](caf::error& err) {
                    log::error("order.sku_request_failed",
                               {{"order", self->state.record.id},
                                {"sku", sku},
                                {"error", describe(err)}});
                    arrive(false);
                  });
  }
}

// Lines whose units the order holds now.
std::vector<size_t> held_lines(const order_record& rec) {
  std::vector<size_t> result;
  for (size_t i = 0; i < rec.lines.size(); ++i)
    if (held_quantity(rec, rec.lines[i]) > 0)
      result.push_back(i);
  return result;
}

void release_lines(order_ptr self, const std::vector<size_t>& lines,
                   std::function<void(size_t)> done) {
  auto id = self->state.record.id;
  for_lines(
      self, lines,
      [=](size_t i) {
        return self->request(self->state.skus[i], caf::infinite,
                             atom::release_v, id);
      },
      std::move(done));
}

void arm_hold_timer(order_ptr self) {
  auto& st = self->state;
  auto left = std::chrono::milliseconds{st.record.hold_expires_at - now(self)};
  if (left.count() < 0)
    left = std::chrono::milliseconds{0};
  self->delayed_send(handle_of(self), left, atom::expire_v, ++st.generation);
}

// Ends the actor once its order is terminal: the SUPERVISOR keeps the record.
void finish_if_terminal(order_ptr self) {
  if (!is_terminal(self->state.record.status))
    return;
  self->send(self->state.supervisor, atom::archive_v, self->state.record);
  self->quit();
}

// -- creation -----------------------------------------------------------------

void finish_create(order_ptr self, create_order_request req,
                   std::vector<std::optional<reserve_reply>> replies,
                   caf::typed_response_promise<created_order> rp) {
  auto& st = self->state;
  auto& rec = st.record;
  std::vector<size_t> granted;
  nlohmann::json short_skus = nlohmann::json::array();
  bool broken = false;
  for (size_t i = 0; i < replies.size(); ++i) {
    if (!replies[i]) {
      broken = true;
    } else if (replies[i]->granted) {
      granted.push_back(i);
    } else {
      short_skus.push_back({{"sku", req.items[i].sku},
                            {"requested", req.items[i].quantity},
                            {"available", replies[i]->available}});
    }
  }
  if (broken || !short_skus.empty()) {
    // Give back what was granted before answering, then vanish: the order
    // never existed.
    caf::error err;
    if (broken) {
      err = make_error(errc::internal, "a SKU actor did not answer");
    } else {
      nlohmann::json details{{"skus", short_skus}};
      err = make_error(errc::insufficient_stock,
                       "not enough stock for " +
                           std::to_string(short_skus.size()) + " SKU(s)",
                       details.dump());
    }
    release_lines(self, granted, [=](size_t) mutable {
      rp.deliver(err);
      self->quit();
    });
    return;
  }
  // Every line is held: price it and make it durable.
  auto at = now(self);
  for (size_t i = 0; i < replies.size(); ++i)
    rec.lines[i].unit_price = replies[i]->unit_price;
  rec.total_amount = order_total(rec.lines);
  rec.created_at = at;
  rec.updated_at = at;
  rec.hold_expires_at = at + st.ctx->settings.hold_ttl.count();
  rec.history.push_back(history_entry{at, order_status::created,
                                      order_status::created, "created",
                                      rec.total_amount});
  std::vector<event> events;
  events.reserve(rec.lines.size() + 1);
  events.push_back(order_event(event_kind::order_created, rec));
  for (auto& line : rec.lines)
    events.push_back(stock_event(event_kind::stock_reserved, at, line.sku,
                                 rec.id, line.quantity));
  self->request(st.ctx->journal, caf::infinite, atom::append_v,
                std::move(events))
      .await(
          [=](uint64_t) mutable {
            arm_hold_timer(self);
            log::debug("order.created",
                       {{"order", self->state.record.id},
                        {"total", self->state.record.total_amount}});
            rp.deliver(created_order{self->state.record, handle_of(self)});
          },
          [=](caf::error& err) mutable {
            auto failure = make_error(errc::store_failure,
                                      "the order could not be made durable: " +
                                          message_of(err));
            auto all = held_lines(self->state.record);
            release_lines(self, all, [=](size_t) mutable {
              rp.deliver(failure);
              self->quit();
            });
          });
}

caf::result<created_order> start_create(order_ptr self,
                                        create_order_request& req,
                                        std::vector<inventory_actor>& skus) {
  auto& st = self->state;
  auto& rec = st.record;
  if (!rec.customer.empty() || skus.size() != req.items.size())
    return make_error(errc::internal, "create sent twice or malformed");
  rec.customer = req.customer;
  rec.seller = req.items.front().seller;
  rec.ship_to = req.ship_to;
  rec.status = order_status::created;
  rec.lines.reserve(req.items.size());
  for (auto& item : req.items)
    rec.lines.push_back(order_line{item.sku, item.quantity, 0, 0, 0});
  st.skus = std::move(skus);
  auto rp = self->make_response_promise<created_order>();
  auto n = req.items.size();
  struct fan_in {
    size_t outstanding;
    std::vector<std::optional<reserve_reply>> replies;
  };
  auto acc = std::make_shared<fan_in>(fan_in{n, decltype(fan_in::replies)(n)});
  auto request = std::make_shared<create_order_request>(std::move(req));
  auto arrive = [=]() {
    if (--acc->outstanding == 0)
      finish_create(self, std::move(*request), std::move(acc->replies), rp);
  };
  for (size_t i = 0; i < n; ++i)
    self->request(st.skus[i], caf::infinite, atom::reserve_v, rec.id,
                  rec.lines[i].quantity)
        .await(
            [=](reserve_reply& reply) {
              acc->replies[i] = reply;
              arrive();
            },
            [=](caf::error& err) {
              log::error("order.reserve_failed",
                         {{"order", self->state.record.id},
                          {"sku", request->items[i].sku},
                          {"error", describe(err)}});
              arrive();
            });
  return rp;
}

// -- transitions
// ----------------------------------------------------------------

caf::error transition_error(const order_record& rec, const order_command& cmd,
                            errc code) {
  nlohmann::json details{{"status", to_string(rec.status)},
                         {"command", to_string(cmd.kind)}};
  if (code == errc::order_expired)
    return make_error(code, "the order's hold expired and it was cancelled",
                      details.dump());
  return make_error(code,
                    std::string{"cannot "} + to_string(cmd.kind) +
                        " an order in state " + to_string(rec.status),
                    details.dump());
}

// Applies `cmd` and calls `done` with the new record or the error.
void run_command(order_ptr self, order_command cmd, record_callback done) {
  auto& st = self->state;
  const auto& rec = st.record;
  if (auto code = check_command(rec, cmd.kind); code != errc::none) {
    done(transition_error(rec, cmd, code));
    return;
  }
  if (cmd.kind == command_kind::pay && cmd.amount != rec.total_amount) {
    nlohmann::json details{{"expected", rec.total_amount},
                           {"given", cmd.amount}};
    done(make_error(errc::amount_mismatch,
                    "amount must equal the order total of " +
                        std::to_string(rec.total_amount),
                    details.dump()));
    return;
  }
  auto to = *next_status(rec.status, cmd.kind);
  auto before_hold = held_as(rec.status);
  auto after_hold = held_as(to);
  auto at = now(self);
  // The record as it will be once the change is durable.
  auto next = rec;
  next.status = to;
  next.updated_at = at;
  std::string reason = cmd.reason;
  if (cmd.kind == command_kind::expire)
    reason = expired_reason;
  if (to == order_status::cancelled) {
    if (reason.empty())
      reason = "CUSTOMER_REQUEST";
    next.cancel_reason = reason;
  }
  if (cmd.kind == command_kind::pay) {
    next.paid_amount = cmd.amount;
    next.payment_reference = cmd.reference;
  }
  if (to != order_status::created)
    next.hold_expires_at = 0;
  money amount = cmd.kind == command_kind::pay ? cmd.amount : 0;
  if (reason.empty())
    reason = to_string(cmd.kind);
  next.history.push_back(history_entry{at, rec.status, to, reason, amount});
  // Stock events and what the SKU actors must do afterwards.
  std::vector<event> events;
  auto lines = held_lines(rec);
  enum class sku_op { none, block, consume, release } op = sku_op::none;
  event_kind kind = event_kind::stock_blocked;
  if (to == order_status::cancelled) {
    op = sku_op::release;
    kind = event_kind::stock_released;
  } else if (to == order_status::shipped) {
    op = sku_op::consume;
    kind = event_kind::stock_consumed;
    for (auto i : lines)
      next.lines[i].shipped_quantity = held_quantity(rec, rec.lines[i]);
  } else if (before_hold == hold_kind::reserved &&
             after_hold == hold_kind::blocked) {
    op = sku_op::block;
    kind = event_kind::stock_blocked;
  }
  if (op != sku_op::none)
    for (auto i : lines)
      events.push_back(stock_event(kind, at, rec.lines[i].sku, rec.id,
                                   held_quantity(rec, rec.lines[i])));
  events.push_back(order_event(event_kind::order_changed, next));
  self->request(st.ctx->journal, caf::infinite, atom::append_v,
                std::move(events))
      .await(
          [=](uint64_t) {
            auto& st = self->state;
            st.record = next;
            if (to != order_status::created)
              ++st.generation; // disarms a pending hold timer
            auto id = st.record.id;
            auto reply = [=](size_t failures) {
              if (failures > 0)
                log::error(
                    "order.stock_diverged",
                    {{"order", id}, {"failed_skus", uint64_t{failures}}});
              log::debug("order.transition",
                         {{"order", id}, {"status", to_string(to)}});
              done(self->state.record);
              finish_if_terminal(self);
            };
            switch (op) {
              case sku_op::none:
                reply(0);
                break;
              case sku_op::block:
                for_lines(
                    self, lines,
                    [=](size_t i) {
                      return self->request(self->state.skus[i], caf::infinite,
                                           atom::block_v, id);
                    },
                    reply);
                break;
              case sku_op::consume:
                for_lines(
                    self, lines,
                    [=](size_t i) {
                      return self->request(self->state.skus[i], caf::infinite,
                                           atom::consume_v, id);
                    },
                    reply);
                break;
              case sku_op::release:
                release_lines(self, lines, reply);
                break;
            }
          },
          [=](caf::error& err) {
            done(make_error(errc::store_failure,
                            "the change could not be made durable: " +
                                message_of(err)));
          });
}

} // namespace

order_actor::behavior_type order(order_ptr self, order_id id, context_ptr ctx,
                                 supervisor_actor supervisor) {
  self->state.record.id = std::move(id);
  self->state.ctx = std::move(ctx);
  self->state.supervisor = std::move(supervisor);
  return {
      [=](atom::create, create_order_request& req,
          std::vector<inventory_actor>& skus) -> caf::result<created_order> {
        return start_create(self, req, skus);
      },
      [=](atom::get) { return self->state.record; },
      [=](atom::apply, order_command& cmd) -> caf::result<order_record> {
        if (self->state.record.customer.empty())
          return make_error(errc::order_not_found, "order not created");
        if (cmd.kind == command_kind::expire)
          return make_error(errc::validation_failed,
                            "expire is not a client command");
        auto rp = self->make_response_promise<order_record>();
        run_command(self, std::move(cmd),
                    [rp](caf::expected<order_record> res) mutable {
                      if (res)
                        rp.deliver(std::move(*res));
                      else
                        rp.deliver(res.error());
                    });
        return rp;
      },
      [=](atom::expire, uint64_t generation) {
        auto& st = self->state;
        if (generation != st.generation ||
            st.record.status != order_status::created)
          return; // a late timer for a hold that is gone
        log::info("order.expired", {{"order", st.record.id}});
        order_command cmd;
        cmd.kind = command_kind::expire;
        run_command(self, cmd,
                    [self, generation](caf::expected<order_record> res) {
                      if (res)
                        return;
                      // The journal refused: the order still holds its units.
                      // Try again shortly rather than leave an expired hold in
                      // place.
                      log::error("order.expire_failed",
                                 {{"order", self->state.record.id},
                                  {"error", describe(res.error())}});
                      self->delayed_send(
                          handle_of(self),
                          self->state.ctx->settings.expire_retry_interval,
                          atom::expire_v, generation);
                    });
      },
  };
}

} // namespace oms
