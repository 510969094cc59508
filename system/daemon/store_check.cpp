#include "system/daemon/store_check.hpp"

#include <chrono>
#include <filesystem>

#include "messages/errors.hpp"
#include "system/log.hpp"
#include "system/store/sqlite_check.hpp"

namespace oms::daemon {

const char* to_string(store_check_view::state x) {
  switch (x) {
    case store_check_view::state::off:
      return "off";
    case store_check_view::state::running:
      return "running";
    case store_check_view::state::ok:
      return "ok";
    case store_check_view::state::damaged:
      return "damaged";
    case store_check_view::state::failed:
      return "failed";
  }
  return "off";
}

store_check::~store_check() {
  cancel_ = true;
  if (thread_.joinable())
    thread_.join();
}

void store_check::start(std::vector<std::string> files) {
  if (thread_.joinable())
    return;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    view_.status = store_check_view::state::running;
  }
  thread_ = std::thread{[this, files = std::move(files)] {
    run(files);
  }};
}

store_check_view store_check::view() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return view_;
}

void store_check::run(const std::vector<std::string>& files) {
  auto t0 = std::chrono::steady_clock::now();
  store_check_view out;
  out.status = store_check_view::state::ok;
  for (auto& file : files) {
    std::error_code ec;
    if (!std::filesystem::exists(file, ec))
      continue;
    auto res = check_sqlite_file(file, check_depth::quick, &cancel_);
    if (!res) {
      out.status = store_check_view::state::failed;
      out.file = file;
      out.problems = {message_of(res.error())};
      break;
    }
    if (!res->problems.empty()) {
      out.status = store_check_view::state::damaged;
      out.file = file;
      out.problems = std::move(res->problems);
      break;
    }
  }
  out.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
          .count();
  switch (out.status) {
    case store_check_view::state::ok:
      log::info("store.check_ok",
                {{"files", uint64_t{files.size()}}, {"seconds", out.seconds}});
      break;
    case store_check_view::state::damaged:
      log::error("store.check_damaged",
                 {{"file", out.file},
                  {"problems", uint64_t{out.problems.size()}},
                  {"first", out.problems.front()},
                  {"what_to_do", "stop omsd, run omsd --check, restore the "
                                 "store from a backup"}});
      break;
    default:
      if (!cancel_)
        log::warn("store.check_failed",
                  {{"file", out.file}, {"error", out.problems.front()}});
      break;
  }
  std::lock_guard<std::mutex> guard{mtx_};
  view_ = std::move(out);
}

} // namespace oms::daemon
