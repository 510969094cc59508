// End-to-end fixture: the real omsd process on a free loopback port with a
// temporary data dir, stopped with SIGTERM (and the dir removed) at the end.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <sys/types.h>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "system/client/http_client.hpp"
#include "tests/eventually.hpp"

namespace oms::e2e {

using json = nlohmann::json;

/// The delivery address the tests' orders go to.
inline const json ship_to = {{"line1", "1 MG Road"},
                             {"city", "Pune"},
                             {"postalCode", "411001"},
                             {"country", "IN"}};

class daemon {
 public:
  /// Starts omsd with `extra_args` after the fixture's own (port, data dir,
  /// admin token, log level); waits until /readyz answers 200.
  /// Without `pass_admin_token`, omsd is started without an admin token and
  /// generates one into DATA_DIR/admin.token.
  explicit daemon(std::vector<std::string> extra_args = {},
                  bool pass_admin_token = true);
  ~daemon();

  daemon(const daemon&) = delete;
  daemon& operator=(const daemon&) = delete;

  std::string url() const;
  std::string admin_token() const { return "admin-secret-token"; }
  const std::string& data_dir() const { return dir_; }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }

  /// SIGTERM; returns the exit status (or 128 + signal).
  int stop();
  /// SIGKILL, no cleanup by the daemon.
  void kill9();
  /// The exit status (or 128 + signal) if the daemon ended by itself; none
  /// while it runs.
  std::optional<int> ended();
  /// SIGSTOP (the process freezes, as in a long pause) and SIGCONT.
  /// pause() returns once every thread of the daemon has stopped: a signal
  /// is delivered when a thread of the target next runs, so on a busy
  /// machine the others may go on serving for a while after kill().
  void pause();
  void resume();
  /// Starts again on the same data dir and port.
  void restart(std::vector<std::string> extra_args = {});
  /// What the daemon wrote to stderr so far.
  std::string log() const;

 private:
  void start();
  std::vector<std::string> args_;
  bool pass_admin_token_ = true;
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
  // The exit status, had the daemon ended while pause() waited for it to
  // stop (ended() reports it).
  std::optional<int> ended_while_pausing_;
  bool paused_ = false;
};

/// The omsd the daemons run: OMS_E2E_OMSD if set (the fence check runs the
/// cluster cases against the test build omsd-unfenced), else this tree's.
const char* omsd_path();

struct run_result {
  int exit_code = -1;
  std::string out;
  std::string err;
};

/// Runs a program to completion; `env` entries ("K=V") are added to the
/// environment.
run_result run_process(const std::vector<std::string>& argv,
                       const std::vector<std::string>& env = {});

/// Starts a program with stdin from /dev/null and stdout/stderr appended to
/// the files given; `env` entries ("K=V") replace inherited ones.
pid_t spawn_process(const std::vector<std::string>& argv,
                    const std::vector<std::string>& env,
                    const std::string& out_path, const std::string& err_path);

/// How a process started by spawn_process came up.
enum class start_outcome { serving, exited, timed_out };

/// Polls `path` at `url` every 10 ms until it answers 200 (serving), the
/// process `pid` exits (exited, its wait status in `status`) or `limit`
/// passes (timed_out).
start_outcome
wait_until_serving(const std::string& url, const std::string& path, pid_t pid,
                   int& status,
                   std::chrono::seconds limit = std::chrono::seconds(20));

/// A free TCP port on 127.0.0.1 (free when asked).
int free_port();

/// An HTTP client for the daemon with `token`.
client::http_client client_for(const daemon& d, const std::string& token);

/// What a server on 127.0.0.1:`port` answers to `request`, bytes sent as
/// they are (an HTTP client would percent-encode some): a status (0 when the
/// connection closed with no answer) and the body. Send "Connection: close".
client::http_result raw_http(int port, const std::string& request);

/// The parsed body (null if not JSON).
json body_of(const client::http_result& r);

/// The error code of an error answer ("" if none).
std::string error_code(const client::http_result& r);

/// Polls `pred` every 100 ms (each poll may be a request to a daemon) until
/// it holds or `limit` passes; true when it held.
template <class Pred>
bool eventually(Pred pred, std::chrono::seconds limit) {
  return test::eventually(pred, limit, std::chrono::milliseconds{100});
}

} // namespace oms::e2e
