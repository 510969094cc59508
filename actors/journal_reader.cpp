#include "actors/journal_reader.hpp"

#include <utility>

#include "messages/type_ids.hpp"

namespace oms {

namespace {

// What a store's read answers: its value, or its error.
template <class T>
caf::result<T> answer(caf::expected<T> res) {
  if (!res)
    return std::move(res.error());
  return std::move(*res);
}

} // namespace

caf::result<std::vector<order_record>>
read_customer_orders(const journal_store& store, const customer_id& customer,
                     uint64_t offset, uint64_t limit) {
  return answer(store.list_orders(customer, offset, limit));
}

caf::result<order_hits> read_search(const journal_store& store,
                                    const order_query& query) {
  return answer(store.search_orders(query));
}

caf::result<std::vector<key_state>> read_key(const journal_store& store,
                                             const customer_id& customer,
                                             const std::string& key) {
  return answer(store.load_key(customer, key));
}

caf::result<bool> read_inbox_id(const journal_store& store,
                                const std::string& event_id) {
  return answer(store.knows_inbox_id(event_id));
}

journal_reader_actor::behavior_type journal_reader(
    journal_reader_actor::stateful_pointer<journal_reader_state> self,
    std::shared_ptr<journal_store> store) {
  self->state.store = std::move(store);
  return {
      [=](atom::list, const customer_id& customer, uint64_t offset,
          uint64_t limit) {
        return read_customer_orders(*self->state.store, customer, offset,
                                    limit);
      },
      [=](atom::search, const order_query& query) {
        return read_search(*self->state.store, query);
      },
      [=](atom::lookup, const customer_id& customer, const std::string& key) {
        return read_key(*self->state.store, customer, key);
      },
      [=](atom::lookup, const std::string& event_id) {
        return read_inbox_id(*self->state.store, event_id);
      },
  };
}

} // namespace oms
