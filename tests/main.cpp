// The doctest runner of the order system's suites. Logs are off unless
// OMS_TEST_LOG names a level (e.g. OMS_TEST_LOG=debug), since many tests
// provoke errors on purpose.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdlib>

#include "system/log.hpp"

int main(int argc, char** argv) {
  auto lvl = oms::log::level::off;
  if (auto env = std::getenv("OMS_TEST_LOG"))
    oms::log::parse_level(env, lvl);
  oms::log::set_level(lvl);
  doctest::Context ctx;
  ctx.applyCommandLine(argc, argv);
  return ctx.run();
}
