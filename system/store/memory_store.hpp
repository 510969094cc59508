// The in-memory journal backend: fast, lost on exit. For unit tests and for
// runs that do not need durability. A "restart" in tests reuses the object.
#pragma once

#include <atomic>
#include <mutex>

#include "messages/journal_store.hpp"
#include "system/store/store_state.hpp"

namespace oms {

/// Keeps events in a vector and their current state in a store_state.
/// Thread-safe, so tests may inspect it while the JOURNAL runs.
class memory_store : public journal_store {
 public:
  caf::error commit(const std::vector<event>& events) override;
  caf::expected<std::vector<event>> read(uint64_t from,
                                         uint64_t max) const override;
  uint64_t last_seq() const override;
  uint64_t first_seq() const override;
  caf::expected<uint64_t> prune(timestamp_ms before, uint64_t max) override;
  caf::expected<recovered_state> load() override;
  caf::expected<stored_sku> load_sku(const sku_id& sku) const override;
  caf::expected<stored_external>
  load_external(const sku_id& sku) const override;
  caf::expected<std::vector<key_state>>
  load_key(const customer_id& customer, const std::string& key) const override;
  caf::expected<bool>
  knows_inbox_id(const std::string& event_id) const override;
  caf::expected<order_record> find_order(const order_id& id) const override;
  caf::expected<std::vector<order_record>>
  list_orders(const customer_id& customer, uint64_t offset,
              uint64_t limit) const override;
  caf::expected<order_hits>
  search_orders(const order_query& query) const override;
  bool blocking() const override { return false; }
  std::string describe() const override { return "memory"; }

  /// While set, every commit fails with STORE_FAILURE (fault injection).
  void fail_commits(bool on) { failing_ = on; }

  /// All events (for tests).
  std::vector<event> events() const;

 private:
  mutable std::mutex mtx_;
  std::vector<event> events_;
  /// The sequence number of events_.front() (events before were pruned).
  uint64_t first_ = 1;
  store_state state_;
  std::atomic<bool> failing_{false};
};

} // namespace oms
