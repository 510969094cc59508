#include "system/store/memory_store.hpp"

#include "messages/errors.hpp"

namespace oms {

caf::error memory_store::commit(const std::vector<event>& events) {
  if (failing_)
    return make_error(errc::store_failure, "injected commit failure");
  std::lock_guard<std::mutex> guard{mtx_};
  for (auto& ev : events) {
    events_.push_back(ev);
    state_.apply(ev);
  }
  return caf::none;
}

caf::expected<std::vector<event>> memory_store::read(uint64_t from,
                                                     uint64_t max) const {
  std::lock_guard<std::mutex> guard{mtx_};
  std::vector<event> result;
  if (from == 0)
    from = 1;
  auto last = first_ - 1 + events_.size();
  if (from < first_ && from <= last)
    return events_expired(first_);
  for (auto i = from - first_; i < events_.size() && result.size() < max; ++i)
    result.push_back(events_[i]);
  return result;
}

uint64_t memory_store::last_seq() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return first_ - 1 + events_.size();
}

uint64_t memory_store::first_seq() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return first_;
}

caf::expected<uint64_t> memory_store::prune(timestamp_ms before, uint64_t max) {
  std::lock_guard<std::mutex> guard{mtx_};
  // A prefix of old events; the newest stays.
  size_t n = 0;
  while (n + 1 < events_.size() && n < max && events_[n].at < before)
    ++n;
  events_.erase(events_.begin(), events_.begin() + static_cast<ptrdiff_t>(n));
  first_ += n;
  return uint64_t{n};
}

caf::expected<recovered_state> memory_store::load() {
  std::lock_guard<std::mutex> guard{mtx_};
  return state_.recover();
}

caf::expected<stored_sku> memory_store::load_sku(const sku_id& sku) const {
  std::lock_guard<std::mutex> guard{mtx_};
  return state_.sku_of(sku);
}

caf::expected<stored_external>
memory_store::load_external(const sku_id& sku) const {
  std::lock_guard<std::mutex> guard{mtx_};
  return state_.external_of(sku);
}

caf::expected<std::vector<key_state>>
memory_store::load_key(const customer_id& customer,
                       const std::string& key) const {
  std::lock_guard<std::mutex> guard{mtx_};
  return state_.key_of(customer, key);
}

caf::expected<bool>
memory_store::knows_inbox_id(const std::string& event_id) const {
  std::lock_guard<std::mutex> guard{mtx_};
  return state_.knows_inbox_id(event_id);
}

caf::expected<order_record> memory_store::find_order(const order_id& id) const {
  std::lock_guard<std::mutex> guard{mtx_};
  if (auto* rec = state_.find_order(id))
    return *rec;
  return make_error(errc::order_not_found, "no order " + id);
}

caf::expected<std::vector<order_record>>
memory_store::list_orders(const customer_id& customer, uint64_t offset,
                          uint64_t limit) const {
  std::lock_guard<std::mutex> guard{mtx_};
  return state_.list_orders(customer, offset, limit);
}

caf::expected<order_hits>
memory_store::search_orders(const order_query& query) const {
  std::lock_guard<std::mutex> guard{mtx_};
  return state_.search_orders(query);
}

std::vector<event> memory_store::events() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return events_;
}

} // namespace oms
