// The SUPERVISOR's orders: the registry of their actors, their creation,
// and the commands and reads it relays to an order's actor, or answers from
// the order's record when the actor has ended.
#include <memory>
#include <vector>

#include <nlohmann/json.hpp>

#include "actors/ids.hpp"
#include "actors/order.hpp"
#include "actors/order_machine.hpp"
#include "actors/supervisor_steps.hpp"
#include "actors/validation.hpp"
#include "messages/type_ids.hpp"

namespace oms::supervisor_steps {

namespace {

// Answers a command from the order's durable record: a terminal order
// refuses every command (INVALID_TRANSITION), another customer's order does
// not exist for the caller. A live record means the order's actor is being
// restarted: with `ended`, request_receiver_down (retry) is the answer.
void answer_from_record(supervisor_ptr self,
                        caf::typed_response_promise<order_record> rp,
                        const order_id& id, const customer_id& customer,
                        command_kind kind, uint64_t if_version, bool ended) {
  self->request(self->state.ctx->journal, caf::infinite, atom::get_v, id)
      .then(
          [=](order_record& rec) mutable {
            if (!customer.empty() && customer != rec.customer)
              rp.deliver(order_not_found(id));
            else if (auto err = version_mismatch(rec, if_version))
              rp.deliver(std::move(err));
            else if (auto gate = order_gate(self->state, rec);
                     gate && !is_terminal(rec.status))
              rp.deliver(std::move(gate));
            else if (!is_terminal(rec.status) && ended)
              rp.deliver(caf::make_error(caf::sec::request_receiver_down));
            else
              rp.deliver(to_error(transition_error(rec, kind)));
          },
          [=](caf::error& err) mutable { rp.deliver(err); });
}

// Sends the command to the order's actor, waking it if it rests. An actor
// that ended as the command reached it either rested (then it is woken and
// asked again, a few times at most) or ended the order (then its final
// record answers).
void send_command(supervisor_ptr self,
                  caf::typed_response_promise<order_record> rp,
                  const order_id& id, const customer_id& customer,
                  command_kind kind, order_message msg, int attempt) {
  with_live_order(self, id, [=](caf::expected<order_actor> handle) mutable {
    if (!handle) {
      // Woken, it had ended (or was gone): its record answers.
      if (code_of(handle.error()) == errc::order_not_found)
        answer_from_record(self, rp, id, customer, kind, if_version_of(msg),
                           false);
      else
        rp.deliver(handle.error());
      return;
    }
    request_order(self, *handle, caf::infinite, msg)
        .then([rp](order_record& rec) mutable { rp.deliver(std::move(rec)); },
              [=](caf::error& err) mutable {
                if (err != caf::sec::request_receiver_down) {
                  rp.deliver(std::move(err));
                  return;
                }
                // It rested (and may have been woken again meanwhile: the
                // bounce can come after the new actor's start).
                auto& st = self->state;
                if ((rests(st, id) || st.orders.count(id) > 0) && attempt < 3) {
                  send_command(self, rp, id, customer, kind, std::move(msg),
                               attempt + 1);
                  return;
                }
                answer_from_record(self, rp, id, customer, kind,
                                   if_version_of(msg), true);
              });
  });
}

} // namespace

void adopt_order(supervisor_ptr self, order_record rec) {
  auto& st = self->state;
  std::vector<inventory_actor> handles;
  for (auto& line : rec.lines) {
    if (rec.seller == seller::external) {
      auto i = st.external.find(line.sku);
      handles.push_back(i == st.external.end() ? inventory_actor{}
                                               : inventory_actor{i->second});
      continue;
    }
    auto i = st.skus.find(line.sku);
    handles.push_back(i == st.skus.end() ? inventory_actor{} : i->second);
  }
  auto id = rec.id;
  auto me = caf::actor_cast<supervisor_actor>(self);
  auto activity = std::make_shared<order_activity>();
  auto fence = epoch_of(st, rec);
  auto handle = self->spawn(restored_order, std::move(rec), std::move(handles),
                            st.ctx, me, activity, fence);
  register_order(self, id, handle, std::move(activity));
}

void register_order(supervisor_ptr self, const order_id& id,
                    const order_actor& handle,
                    std::shared_ptr<order_activity> activity) {
  auto& st = self->state;
  self->monitor(handle);
  st.order_of.emplace(handle.address(), id);
  st.orders.emplace(id, live_order{handle, std::move(activity)});
}

caf::error order_not_found(const order_id& id) {
  nlohmann::json details{{"orderId", id}};
  return make_error(errc::order_not_found, "no order " + id, details.dump());
}

// An order's record: from its actor while it lives, else from the journal.
// The actor may end (archive, quit) before it reads the request; its final
// record is durable by then, so the journal answers instead of a
// request_receiver_down the caller could only retry.
caf::result<order_record> get_order(supervisor_ptr self, const order_id& id) {
  auto& st = self->state;
  auto i = st.orders.find(id);
  if (i == st.orders.end())
    return self->delegate(st.ctx->journal, atom::get_v, id);
  auto rp = self->make_response_promise<order_record>();
  self->request(i->second.handle, caf::infinite, atom::get_v)
      .then([rp](order_record& rec) mutable { rp.deliver(std::move(rec)); },
            [self, rp, id](caf::error& err) mutable {
              if (err != caf::sec::request_receiver_down) {
                rp.deliver(std::move(err));
                return;
              }
              self->request(self->state.ctx->journal, caf::infinite,
                            atom::get_v, id)
                  .then(
                      [rp](order_record& rec) mutable {
                        rp.deliver(std::move(rec));
                      },
                      [rp](caf::error& err) mutable { rp.deliver(err); });
            });
  return rp;
}

caf::result<created_order> create_order(supervisor_ptr self,
                                        create_order_request& req) {
  auto& st = self->state;
  if (auto p = check_create_order(req, st.ctx->settings.limits))
    return to_error(*p);
  std::vector<inventory_actor> handles;
  handles.reserve(req.items.size());
  std::vector<sku_id> unknown;
  auto from = req.items.front().seller;
  // A cluster node places an order on its first line's shard, which it
  // must serve; a line on another shard is held at that shard's owner
  // (docs/cluster.md, "Orders across shards"): no handle here, its SKU is
  // checked by the owner's reservation.
  // An EXTERNAL order is on the duty shard, as its SKUs are.
  uint32_t shard = 0;
  const bool sharded = static_cast<bool>(st.ctx->shards);
  if (sharded) {
    shard = st.ctx->shards->shard_of(from, req.items.front().sku);
    if (auto err = sku_gate(st, from, req.items.front().sku))
      return err;
  }
  if (from == seller::external && !st.ctx->wms)
    return no_wms();
  for (auto& item : req.items) {
    if (from == seller::external) {
      // Unknown at the WMS shows when the SKU's actor reads it.
      auto h = live_external(self, item.sku);
      if (!h)
        return std::move(h.error());
      handles.push_back(inventory_actor{*h});
      continue;
    }
    if (sharded && st.ctx->shards->shard_of(item.sku) != shard) {
      handles.push_back(inventory_actor{});
      continue;
    }
    auto i = st.skus.find(item.sku);
    if (i != st.skus.end())
      handles.push_back(i->second);
    else if (sku_down(st, item.sku, seller::internal))
      return missing_sku(self, item.sku, seller::internal);
    else
      unknown.push_back(item.sku);
  }
  if (!unknown.empty()) {
    nlohmann::json details{{"skus", unknown}};
    return make_error(errc::unknown_sku, "unknown SKU(s) for seller INTERNAL",
                      details.dump());
  }
  // Time-ordered: the store appends the order's rows instead of scattering
  // them over its indexes.
  auto id = time_ordered_id("ord_",
                            static_cast<uint64_t>(st.ctx->now(self->clock())));
  auto me = caf::actor_cast<supervisor_actor>(self);
  auto activity = std::make_shared<order_activity>();
  auto fence = sharded ? writer_epoch(st.ctx->shards.get(), shard) : 0;
  auto handle =
      self->spawn<caf::lazy_init>(order, id, st.ctx, me, activity, fence);
  register_order(self, id, handle, std::move(activity));
  if (sharded)
    st.order_shard[id] = shard;
  return self->delegate(handle, atom::create_v, std::move(req),
                        std::move(handles));
}

// A live order's actor gets the command as its own message. A terminal
// order's final record is in the store, and the transition table refuses
// every command on it; so is the record of an order whose actor ended just
// as the command reached it.
caf::result<order_record> apply_command(supervisor_ptr self, const order_id& id,
                                        order_command& cmd) {
  auto& st = self->state;
  if (st.orders.count(id) == 0 && !rests(st, id)) {
    auto rp = self->make_response_promise<order_record>();
    answer_from_record(self, rp, id, cmd.customer, cmd.kind, cmd.if_version,
                       false);
    return rp;
  }
  auto customer = cmd.customer;
  auto kind = cmd.kind;
  // Refused before a promise exists: once one is made, CAF drops the error
  // returned instead of delivering it.
  auto msg = to_order_message(std::move(cmd));
  if (!msg)
    return std::move(msg.error());
  auto rp = self->make_response_promise<order_record>();
  send_command(self, rp, id, customer, kind, std::move(*msg), 0);
  return rp;
}

namespace {

// Sends a step of a return to the order's actor, started again if the
// order ended; an actor that ended as the step reached it is started again
// (a few times at most).
void send_return(supervisor_ptr self,
                 caf::typed_response_promise<order_record> rp,
                 const order_id& id, return_command cmd, int attempt) {
  with_order_actor(self, id, [=](caf::expected<order_actor> handle) mutable {
    if (!handle) {
      rp.deliver(handle.error());
      return;
    }
    self->request(*handle, caf::infinite, cmd)
        .then([rp](order_record& rec) mutable { rp.deliver(std::move(rec)); },
              [=](caf::error& err) mutable {
                if (err == caf::sec::request_receiver_down) {
                  if (attempt < 8) {
                    send_return(self, rp, id, std::move(cmd), attempt + 1);
                    return;
                  }
                  err = make_error(errc::unavailable,
                                   "order " + id + " is busy: ask again");
                }
                rp.deliver(std::move(err));
              });
  });
}

} // namespace

caf::result<order_record> apply_return(supervisor_ptr self, const order_id& id,
                                       return_command cmd) {
  auto rp = self->make_response_promise<order_record>();
  send_return(self, rp, id, std::move(cmd), 0);
  return rp;
}

caf::result<order_actor> find_order(supervisor_ptr self, const order_id& id) {
  auto& st = self->state;
  if (auto i = st.orders.find(id); i != st.orders.end())
    return i->second.handle;
  if (!rests(st, id))
    return order_not_found(id);
  auto rp = self->make_response_promise<order_actor>();
  with_live_order(self, id, [rp](caf::expected<order_actor> handle) mutable {
    if (handle)
      rp.deliver(std::move(*handle));
    else
      rp.deliver(handle.error());
  });
  return rp;
}

} // namespace oms::supervisor_steps
