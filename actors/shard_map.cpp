#include "actors/shard_map.hpp"

#include <stdexcept>

#include <nlohmann/json.hpp>

#include "messages/errors.hpp"
#include "messages/shards.hpp"

namespace oms {

shard_map::shard_map(uint32_t count) : count_(count) {
  if (count == 0 || count > 65'536)
    throw std::invalid_argument("shard_map: shards must be 1..65536");
  epochs_ = std::make_unique<std::atomic<int64_t>[]>(count);
  for (uint32_t i = 0; i < count; ++i)
    epochs_[i].store(0, std::memory_order_relaxed);
}

uint32_t shard_map::shard_of(std::string_view sku) const {
  return shard_of_sku(sku, count_);
}

uint32_t shard_map::shard_of(seller from, std::string_view sku) const {
  return from == seller::external ? duty_shard : shard_of(sku);
}

uint32_t shard_map::shard_of(const order_record& rec) const {
  return rec.lines.empty() ? 0 : shard_of(rec.seller, rec.lines.front().sku);
}

int64_t shard_map::epoch(uint32_t shard) const {
  return shard < count_ ? epochs_[shard].load(std::memory_order_acquire) : 0;
}

void shard_map::serve(uint32_t shard, int64_t epoch) {
  if (shard < count_ && epoch > 0)
    epochs_[shard].store(epoch, std::memory_order_release);
}

void shard_map::stop(uint32_t shard) {
  if (shard < count_)
    epochs_[shard].store(0, std::memory_order_release);
}

bool shard_map::stop_if(uint32_t shard, int64_t epoch) {
  if (shard >= count_)
    return false;
  return epochs_[shard].compare_exchange_strong(epoch, 0,
                                                std::memory_order_acq_rel);
}

std::map<uint32_t, int64_t> shard_map::served() const {
  std::map<uint32_t, int64_t> result;
  for (uint32_t i = 0; i < count_; ++i)
    if (auto e = epoch(i); e > 0)
      result.emplace(i, e);
  return result;
}

caf::error shard_map::not_owner(uint32_t shard, std::string_view what,
                                std::string_view id) {
  nlohmann::json details{{"shard", shard}, {std::string{what}, id}};
  return make_error(
      errc::not_owner,
      "shard " + std::to_string(shard) + " (" + std::string{what} + " " +
          std::string{id} + ") is not served by this node: ask its owner",
      details.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void shard_map::set_routes(region_finder find) {
  std::lock_guard<std::mutex> guard{routes_mtx_};
  routes_ = std::move(find);
}

region_actor shard_map::region_for(uint32_t shard) const {
  region_finder find;
  {
    std::lock_guard<std::mutex> guard{routes_mtx_};
    find = routes_;
  }
  return find ? find(shard) : region_actor{};
}

std::vector<bool> lines_off_shard(const shard_map* map,
                                  const order_record& rec) {
  std::vector<bool> off(rec.lines.size(), false);
  if (map == nullptr || rec.seller != seller::internal || rec.lines.empty())
    return off;
  auto own = map->shard_of(rec);
  for (size_t i = 0; i < rec.lines.size(); ++i)
    off[i] = map->shard_of(rec.lines[i].sku) != own;
  return off;
}

} // namespace oms
