#include "tests/e2e/daemon.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <utility>

extern char** environ;

namespace oms::e2e {

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in{path};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int exit_status(int status) {
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  if (WIFSIGNALED(status))
    return 128 + WTERMSIG(status);
  return -1;
}

} // namespace

pid_t spawn_process(const std::vector<std::string>& argv,
                    const std::vector<std::string>& env,
                    const std::string& out_path, const std::string& err_path) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  std::vector<char*> args;
  for (auto& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  // The entries given replace inherited ones of the same name.
  auto name_of = [](const std::string& entry) {
    return entry.substr(0, entry.find('='));
  };
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry{*e};
    bool replaced = false;
    for (auto& x : env)
      replaced = replaced || name_of(x) == name_of(entry);
    if (!replaced)
      env_strings.push_back(std::move(entry));
  }
  for (auto& e : env)
    env_strings.push_back(e);
  std::vector<char*> envp;
  for (auto& e : env_strings)
    envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  pid_t pid = -1;
  auto rc = posix_spawn(&pid, argv[0].c_str(), &actions, nullptr, args.data(),
                        envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0)
    throw std::runtime_error("cannot start " + argv[0]);
  return pid;
}

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

daemon::daemon(std::vector<std::string> extra_args, bool pass_admin_token)
    : args_(std::move(extra_args)), pass_admin_token_(pass_admin_token) {
  char tmpl[] = "/tmp/oms-e2e-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr)
    throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  // The free port may be taken by another process (an outgoing
  // connection's, another test's) before omsd binds it: a few more.
  for (int attempt = 1;; ++attempt) {
    port_ = free_port();
    try {
      start();
      return;
    } catch (const std::runtime_error& e) {
      std::string what = e.what();
      bool taken =
          what.find("cannot listen on 127.0.0.1:" + std::to_string(port_) +
                    ": Address already in use") != std::string::npos;
      if (!taken || attempt == 5)
        throw;
      std::filesystem::remove_all(dir_ + "/data");
    }
  }
}

daemon::~daemon() {
  if (pid_ > 0)
    stop();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string daemon::url() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

const char* omsd_path() {
  const char* chosen = std::getenv("OMS_E2E_OMSD");
  return chosen != nullptr && *chosen != '\0' ? chosen : OMSD_PATH;
}

void daemon::start() {
  paused_ = false;
  std::vector<std::string> argv{
      omsd_path(),  "--port",       std::to_string(port_),
      "--data-dir", dir_ + "/data", "--log-level",
      "warn"};
  if (pass_admin_token_) {
    argv.push_back("--admin-token");
    argv.push_back(admin_token());
  }
  argv.insert(argv.end(), args_.begin(), args_.end());
  pid_ = spawn_process(argv, {}, dir_ + "/omsd.out", dir_ + "/omsd.log");
  int status = 0;
  switch (wait_until_serving(url(), "/readyz", pid_, status)) {
    case start_outcome::serving:
      return;
    case start_outcome::exited:
      pid_ = -1;
      throw std::runtime_error("omsd exited at start with status " +
                               std::to_string(exit_status(status)) + ": " +
                               log());
    case start_outcome::timed_out:
      break;
  }
  throw std::runtime_error("omsd did not become ready: " + log());
}

start_outcome wait_until_serving(const std::string& url,
                                 const std::string& path, pid_t pid,
                                 int& status, std::chrono::seconds limit) {
  client::http_client probe{url, {}, std::chrono::milliseconds(500)};
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (probe.get(path).status == 200)
      return start_outcome::serving;
    if (::waitpid(pid, &status, WNOHANG) == pid)
      return start_outcome::exited;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return start_outcome::timed_out;
}

int daemon::stop() {
  if (pid_ <= 0)
    return -1;
  ::kill(pid_, SIGTERM);
  ::kill(pid_, SIGCONT); // a paused daemon takes the TERM once it runs
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  auto code = exit_status(status);
  if (code != 0) {
    // What the daemon said last, so a failed check of this status shows
    // why (a sanitizer's report is at the end); ctest prints it only for a
    // test that fails.
    auto said = log();
    constexpr std::size_t tail = 16384;
    if (said.size() > tail)
      said = said.substr(said.size() - tail);
    std::cerr << "omsd on port " << port_ << " ended with status " << code
              << "; the end of its log:\n"
              << said << std::endl;
  }
  return code;
}

void daemon::kill9() {
  if (pid_ <= 0)
    return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::optional<int> daemon::ended() {
  if (ended_while_pausing_)
    return std::exchange(ended_while_pausing_, std::nullopt);
  if (pid_ <= 0)
    return std::nullopt;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) != pid_)
    return std::nullopt;
  pid_ = -1;
  return exit_status(status);
}

void daemon::pause() {
  if (pid_ <= 0 || paused_)
    return; // (a second wait would never hear of the stop)
  paused_ = true;
  ::kill(pid_, SIGSTOP);
  // The parent hears of the stop once the last of its threads stopped.
  int status = 0;
  while (true) {
    auto got = ::waitpid(pid_, &status, WUNTRACED);
    if (got == -1 && errno == EINTR)
      continue;
    if (got == pid_ && WIFSTOPPED(status))
      return;
    if (got == pid_ && (WIFEXITED(status) || WIFSIGNALED(status))) {
      pid_ = -1;
      ended_while_pausing_ = exit_status(status);
    }
    return;
  }
}

void daemon::resume() {
  paused_ = false;
  if (pid_ > 0)
    ::kill(pid_, SIGCONT);
}

void daemon::restart(std::vector<std::string> extra_args) {
  if (pid_ > 0)
    stop();
  if (!extra_args.empty())
    args_ = std::move(extra_args);
  start();
}

std::string daemon::log() const {
  return read_file(dir_ + "/omsd.log");
}

run_result run_process(const std::vector<std::string>& argv,
                       const std::vector<std::string>& env) {
  char tmpl[] = "/tmp/oms-run-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr)
    throw std::runtime_error("mkdtemp failed");
  std::string dir = tmpl;
  auto pid = spawn_process(argv, env, dir + "/out", dir + "/err");
  int status = 0;
  ::waitpid(pid, &status, 0);
  run_result result{exit_status(status), read_file(dir + "/out"),
                    read_file(dir + "/err")};
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return result;
}

client::http_client client_for(const daemon& d, const std::string& token) {
  return client::http_client{d.url(), token};
}

client::http_result raw_http(int port, const std::string& request) {
  client::http_result result;
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval limit{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
          static_cast<ssize_t>(request.size())) {
    ::close(fd);
    result.error = "cannot send";
    return result;
  }
  std::string text;
  char buf[4096];
  for (;;) {
    auto n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0)
      break;
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  // "HTTP/1.1 400 Bad Request\r\n...\r\n\r\nBODY"
  auto end = text.find("\r\n\r\n");
  if (text.rfind("HTTP/1.1 ", 0) != 0 || end == std::string::npos) {
    result.error = "no answer";
    return result;
  }
  result.status = std::stol(text.substr(9, 3));
  result.body = text.substr(end + 4);
  // The header fields after the status line, as sent.
  for (auto at = text.find("\r\n") + 2; at < end;) {
    auto eol = text.find("\r\n", at);
    auto line = text.substr(at, eol - at);
    if (auto colon = line.find(':'); colon != std::string::npos)
      result.headers.emplace_back(
          line.substr(0, colon),
          line.substr(line.find_first_not_of(' ', colon + 1)));
    at = eol + 2;
  }
  return result;
}

json body_of(const client::http_result& r) {
  auto j = json::parse(r.body, nullptr, false);
  return j.is_discarded() ? json{} : j;
}

std::string error_code(const client::http_result& r) {
  auto j = body_of(r);
  if (j.is_object() && j.contains("error") && j["error"].contains("code"))
    return j["error"]["code"].get<std::string>();
  return {};
}

} // namespace oms::e2e
