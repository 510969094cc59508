#include "system/memory_store.hpp"

#include "messages/errors.hpp"

namespace oms {

journal_store::~journal_store() = default;

caf::error memory_store::commit(const std::vector<event>& events) {
  if (failing_)
    return make_error(errc::store_failure, "injected commit failure");
  std::lock_guard<std::mutex> guard{mtx_};
  events_.insert(events_.end(), events.begin(), events.end());
  return caf::none;
}

std::vector<event> memory_store::read(uint64_t from, uint64_t max) const {
  std::lock_guard<std::mutex> guard{mtx_};
  std::vector<event> result;
  if (from == 0)
    from = 1;
  for (auto i = from - 1; i < events_.size() && result.size() < max; ++i)
    result.push_back(events_[i]);
  return result;
}

uint64_t memory_store::last_seq() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return events_.size();
}

} // namespace oms
