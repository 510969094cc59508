// The webhook receiver of the end-to-end tests: a process
// (tests/e2e/webhook_receiver.py) on a free loopback port that checks every
// signature with its own code, logs what came, and answers as told.
#pragma once

#include <csignal>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/e2e/daemon.hpp"

namespace oms::e2e {

// The receiver process on a free loopback port.
class webhook_receiver {
 public:
  webhook_receiver() {
    char tmpl[] = "/tmp/oms-hook-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr)
      throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    pid_ = spawn_process({"/usr/bin/python3",
                          OMS_SOURCE_DIR "/tests/e2e/webhook_receiver.py",
                          dir_ + "/port"},
                         {}, dir_ + "/out", dir_ + "/err");
    REQUIRE(eventually([&] { return std::filesystem::exists(dir_ + "/port"); },
                       std::chrono::seconds(20)));
    std::ifstream in{dir_ + "/port"};
    in >> port_;
    REQUIRE(port_ > 0);
  }

  ~webhook_receiver() {
    kill();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  void kill() {
    if (pid_ <= 0)
      return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  std::string url(const std::string& path = "/hook") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

  void secrets(const json& list) {
    auto r = http().post("/_secrets", list.dump());
    REQUIRE(r.status == 204);
  }

  void mode(const json& m) {
    auto r = http().post("/_mode", m.dump());
    REQUIRE(r.status == 204);
  }

  json log() {
    auto r = http().get("/_log");
    REQUIRE(r.status == 200);
    return body_of(r);
  }

  // Waits until at least `n` deliveries came.
  json wait_for(size_t n) {
    json got;
    bool came = eventually(
        [&] {
          got = log();
          return got.size() >= n;
        },
        std::chrono::seconds(30));
    REQUIRE_MESSAGE(came, got.dump());
    return got;
  }

 private:
  client::http_client http() const {
    return client::http_client{"http://127.0.0.1:" + std::to_string(port_)};
  }
  std::string dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

} // namespace oms::e2e
