// The real wms-sim for end-to-end tests: on a free loopback port, seeded,
// stopped at the end.
#pragma once

#include <doctest/doctest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include "tests/e2e/daemon.hpp"

namespace oms::e2e {

// The real wms-sim on a free port, seeded, stopped at the end.
class wms {
 public:
  wms(const json& seed, std::vector<std::string> args) {
    dir_ = (std::filesystem::temp_directory_path() /
            ("oms-ext-e2e-" + std::to_string(::getpid()) + "-" +
             std::to_string(counter_++)))
               .string();
    std::filesystem::create_directories(dir_);
    std::ofstream{dir_ + "/seed.json"} << seed.dump();
    for (int attempt = 0; attempt < 5; ++attempt) {
      port_ = free_port();
      std::vector<std::string> argv{WMS_SIM_PATH,
                                    "--port",
                                    std::to_string(port_),
                                    "--seed-file",
                                    dir_ + "/seed.json",
                                    "--log-level",
                                    "warn"};
      argv.insert(argv.end(), args.begin(), args.end());
      pid_ = spawn_process(argv, {}, dir_ + "/out", dir_ + "/log");
      int status = 0;
      auto outcome = wait_until_serving(url(), "/healthz", pid_, status);
      if (outcome == start_outcome::serving)
        return;
      if (outcome == start_outcome::exited)
        pid_ = -1; // the port was taken meanwhile: another one
      else
        stop();
    }
    FAIL("wms-sim did not start");
  }

  ~wms() {
    if (pid_ > 0)
      stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  void stop() {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(port_);
  }

  json state() {
    client::http_client c{url()};
    auto r = c.get("/admin/state");
    REQUIRE_MESSAGE(r.status == 200, r.body);
    return body_of(r);
  }

  json post(const std::string& path, const json& body) {
    client::http_client c{url()};
    auto r = c.post(path, body.dump());
    REQUIRE_MESSAGE(r.ok(), r.body);
    return body_of(r);
  }

 private:
  static inline int counter_ = 0;
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

/// A SKU's part of wms-sim's GET /admin/state (null if it has none).
inline json sku_state(const json& state, const std::string& sku) {
  for (auto& s : state["skus"])
    if (s["sku"] == sku)
      return s;
  return json{};
}

} // namespace oms::e2e
