// The doctest runner of the order system's suites. Logs are off unless
// OMS_TEST_LOG names a level (e.g. OMS_TEST_LOG=debug), since many tests
// provoke errors on purpose. A run whose filters select no test case fails:
// ctest runs one case per process by its name, and a name that selects
// nothing (CMake cuts names at a ';') would otherwise pass without running.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>

#include "system/log.hpp"

namespace {

// Counts the test cases a run's filters select.
struct selection : doctest::IReporter {
  static inline unsigned selected = 0;
  static inline bool ended = false;

  explicit selection(const doctest::ContextOptions&) {}
  void report_query(const doctest::QueryData&) override {}
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats& stats) override {
    selected = stats.numTestCasesPassingFilters;
    ended = true;
  }
  void test_case_start(const doctest::TestCaseData&) override {}
  void test_case_reenter(const doctest::TestCaseData&) override {}
  void test_case_end(const doctest::CurrentTestCaseStats&) override {}
  void test_case_exception(const doctest::TestCaseException&) override {}
  void subcase_start(const doctest::SubcaseSignature&) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData&) override {}
  void log_message(const doctest::MessageData&) override {}
  void test_case_skipped(const doctest::TestCaseData&) override {}
};

REGISTER_LISTENER("selection", 1, selection);

} // namespace

int main(int argc, char** argv) {
  auto lvl = oms::log::level::off;
  if (auto env = std::getenv("OMS_TEST_LOG"))
    oms::log::parse_level(env, lvl);
  oms::log::set_level(lvl);
  doctest::Context ctx;
  ctx.applyCommandLine(argc, argv);
  auto rc = ctx.run();
  // Listing (--list-test-cases, as ctest's discovery does) runs nothing.
  if (ctx.shouldExit() || !selection::ended)
    return rc;
  if (rc == 0 && selection::selected == 0) {
    std::fprintf(stderr, "no test case matches the filters: nothing ran\n");
    return 1;
  }
  return rc;
}
