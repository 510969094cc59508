// omsd's data dir: private, and owned by one omsd at a time.
#include "system/daemon/data_dir.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "messages/errors.hpp"
#include "system/log.hpp"

namespace oms {

namespace fs = std::filesystem;

data_dir_lock& data_dir_lock::operator=(data_dir_lock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

data_dir_lock::~data_dir_lock() {
  if (fd_ >= 0)
    ::close(fd_);
}

namespace {

// Takes the group's and others' permissions off `path` if it exists.
void make_private(const fs::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 || S_ISLNK(st.st_mode))
    return;
  if ((st.st_mode & 077) == 0)
    return;
  char was[8];
  std::snprintf(was, sizeof was, "%04o",
                static_cast<unsigned>(st.st_mode & 07777));
  if (::chmod(path.c_str(), st.st_mode & 0700) == 0)
    log::warn("data_dir.permissions_tightened",
              {{"path", path.string()}, {"was", std::string{was}}});
}

} // namespace

caf::expected<data_dir_lock> claim_data_dir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    return make_error(errc::store_failure, "cannot create the data dir " + dir +
                                               ": " + ec.message());
  fs::path root{dir};
  make_private(root);
  for (auto* name :
       {"oms.db", "oms.db-wal", "oms.db-shm", "admin.token", "payments.db",
        "payments.db-wal", "payments.db-shm", "payments.jsonl", "omsd.lock"})
    make_private(root / name);
  auto path = (root / "omsd.lock").string();
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return make_error(errc::store_failure,
                      "cannot open " + path + ": " + std::strerror(errno));
  data_dir_lock lock{fd};
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    std::ifstream in{path};
    std::string holder;
    std::getline(in, holder);
    return make_error(
        errc::store_failure,
        "the data dir " + dir + " is in use by another omsd (" +
            (holder.empty() ? std::string{"pid unknown"} : "pid " + holder) +
            "; lock " + path + ")");
  }
  auto pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) !=
                                     static_cast<ssize_t>(pid.size()))
    log::warn("data_dir.lock_pid_unwritten", {{"path", path}});
  return lock;
}

} // namespace oms
