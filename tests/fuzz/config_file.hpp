// The config fuzz targets read their input as a program would: from a file
// named by --config, or as the arguments of its command line.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace oms::fuzz {

/// A file of this process's own that holds the latest input.
class config_file {
 public:
  explicit config_file(const char* program) {
    const char* dir = std::getenv("TMPDIR");
    path_ = std::string{dir && *dir ? dir : "/tmp"} + "/" + program + "." +
            std::to_string(getpid()) + ".conf";
  }
  ~config_file() { std::remove(path_.c_str()); }

  /// Writes `text` into the file; its path.
  const std::string& write(std::string_view text) {
    auto* f = std::fopen(path_.c_str(), "wb");
    if (f == nullptr) {
      std::perror(path_.c_str());
      std::abort();
    }
    std::fwrite(text.data(), 1, text.size(), f);
    std::fclose(f);
    return path_;
  }

 private:
  std::string path_;
};

/// An argv: `program`, then one argument per line of `text`.
class arguments {
 public:
  arguments(const char* program, std::string_view text) {
    args_.emplace_back(program);
    while (!text.empty() && args_.size() < 64) {
      auto nl = text.find('\n');
      args_.emplace_back(text.substr(0, nl));
      text = nl == std::string_view::npos ? std::string_view{}
                                          : text.substr(nl + 1);
    }
    for (auto& a : args_)
      argv_.push_back(a.data());
    argv_.push_back(nullptr);
  }

  int argc() const { return static_cast<int>(args_.size()); }
  char** argv() { return argv_.data(); }

 private:
  std::vector<std::string> args_;
  std::vector<char*> argv_;
};

} // namespace oms::fuzz
