#include "tests/backends.hpp"

#include "messages/errors.hpp"

namespace oms::test {

std::vector<backend_case> backends(const temp_dir& dir) {
  std::vector<backend_case> result;
  auto mem = std::make_shared<memory_store>();
  result.push_back({"memory", [mem] {
                      return mem;
                    }});
  auto path = (dir.path / "oms.db").string();
  result.push_back({"sqlite", [path]() -> std::shared_ptr<journal_store> {
                      auto s = sqlite_store::open(path);
                      REQUIRE_MESSAGE(s, describe(s.error()));
                      return std::shared_ptr<journal_store>{std::move(*s)};
                    }});
  return result;
}

} // namespace oms::test
