// omsd's data dir: created private to its user, kept so, and owned by one
// omsd at a time (an exclusive lock on DATA_DIR/omsd.lock that the kernel
// drops when the process ends, however it ends).
#pragma once

#include <string>

#include <caf/expected.hpp>

namespace oms {

/// The lock that makes one omsd the owner of a data dir; released when
/// destroyed (or when the process dies).
class data_dir_lock {
 public:
  data_dir_lock() = default;
  explicit data_dir_lock(int fd) : fd_(fd) {}
  data_dir_lock(data_dir_lock&& other) noexcept : fd_(other.fd_) {
    other.fd_ = -1;
  }
  data_dir_lock& operator=(data_dir_lock&& other) noexcept;
  data_dir_lock(const data_dir_lock&) = delete;
  data_dir_lock& operator=(const data_dir_lock&) = delete;
  ~data_dir_lock();

 private:
  int fd_ = -1;
};

/// Creates `dir` (mode 0700) if missing; takes away the group's and others'
/// access to it and to the files omsd keeps there (oms.db and its WAL,
/// admin.token, the payment ledger) where an older version left it; then takes
/// the data dir's lock. Errors (STORE_FAILURE) name the dir, or the process
/// that holds the lock.
caf::expected<data_dir_lock> claim_data_dir(const std::string& dir);

} // namespace oms
