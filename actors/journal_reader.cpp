#include "actors/journal_reader.hpp"

#include <string>
#include <utility>
#include <vector>

#include "messages/type_ids.hpp"

namespace oms {

journal_reader_actor::behavior_type journal_reader(
    journal_reader_actor::stateful_pointer<journal_reader_state> self,
    std::shared_ptr<journal_store> store, const caf::actor& journal) {
  self->state.store = std::move(store);
  self->monitor(journal);
  self->set_down_handler([=](caf::down_msg&) { self->quit(); });
  return {
      [=](atom::list, const customer_id& customer, uint64_t offset,
          uint64_t limit) -> caf::result<std::vector<order_record>> {
        auto res = self->state.store->list_orders(customer, offset, limit);
        if (!res)
          return res.error();
        return std::move(*res);
      },
      [=](atom::search, const order_query& query) -> caf::result<order_hits> {
        auto res = self->state.store->search_orders(query);
        if (!res)
          return std::move(res.error());
        return std::move(*res);
      },
      [=](atom::lookup, const customer_id& customer,
          const std::string& key) -> caf::result<std::vector<key_state>> {
        auto res = self->state.store->load_key(customer, key);
        if (!res)
          return res.error();
        return std::move(*res);
      },
      [=](atom::lookup, const std::string& event_id) -> caf::result<bool> {
        auto res = self->state.store->knows_inbox_id(event_id);
        if (!res)
          return res.error();
        return *res;
      },
  };
}

} // namespace oms
