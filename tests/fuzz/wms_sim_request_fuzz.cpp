// Fuzzes wms-sim's answers to requests (system/wms_sim/sim.hpp,
// sim::handle): path decoding, route matching, query strings and the
// strict reading of bodies, on a warehouse seeded with two SKUs. The input
// is up to 8 requests, separated by an empty line, each
// "METHOD TARGET" then its body (a method of other than A-Z is skipped: the
// HTTP server answers it 501 itself). Whatever the bytes: handle returns (never
// throws); an answer is a status in 200..599 whose error body carries a code
// and a message; a path wms-sim decodes is its segments, percent-decoded;
// and the warehouse's state encodes as strict UTF-8 JSON after every
// request.
#include <string>

#include <nlohmann/json.hpp>

#include "system/http/percent.hpp"
#include "system/wms_sim/routes.hpp"
#include "system/wms_sim/sim.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {

using namespace oms;
using namespace oms::wms_sim;

void check_path(const std::string& path) {
  auto seg = decode_path(path);
  if (!seg)
    return;
  FUZZ_CHECK(!path.empty() && path.front() == '/',
             "only a path in origin form decodes");
  std::vector<std::string> want;
  std::string part;
  for (size_t i = 1; i <= path.size(); ++i) {
    if (i == path.size() || path[i] == '/') {
      auto x = http::percent_decode(part, http::percent_mode::strict);
      FUZZ_CHECK(x.has_value(), "a decoded path's segments decode");
      want.push_back(*x);
      part.clear();
    } else {
      part += path[i];
    }
  }
  FUZZ_CHECK(*seg == want, "a path decodes to its segments");
}

// An HTTP method: one or more of A-Z (RFC 9110 allows more; the server
// passes on only the methods it knows, all upper-case letters).
bool token(const std::string& method) {
  if (method.empty())
    return false;
  for (auto c : method)
    if (c < 'A' || c > 'Z')
      return false;
  return true;
}

void check_answer(const response& resp) {
  FUZZ_CHECK(resp.status >= 200 && resp.status <= 599,
             "an answer has a status");
  FUZZ_CHECK(resp.delay_ms == 0, "no delay without latency or hangs");
  if (resp.status >= 400)
    FUZZ_CHECK(resp.body.is_object() && resp.body.contains("error") &&
                   resp.body["error"]["code"].is_string() &&
                   resp.body["error"]["message"].is_string(),
               "an error answer has a code and a message");
  // As wms-sim sends it (bytes of a path that are not UTF-8 become U+FFFD).
  resp.body.dump(-1, ' ', false, json::error_handler_t::replace);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto text = fuzz::text_of(data, size);
  options opts;
  opts.faults.rate_limit = 0;
  opts.batch_interval_ms = 0;
  int64_t now = 1'767'225'600'000;
  sim wms{opts, [&now] { return now; },
          [] {
            return 0.5;
          }};
  auto seeded = wms.load_seed(
      json::parse(R"({"skus":[{"sku":"A-1","onHand":10,"unitPrice":2500},)"
                  R"({"sku":"B.2","onHand":0,"unitPrice":0}]})"));
  FUZZ_CHECK(seeded.ok(), "the seed loads");
  for (int n = 0; n < 8 && !text.empty(); ++n) {
    auto end = text.find("\n\n");
    auto one = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{}
                                         : text.substr(end + 2);
    auto [line, body] = fuzz::split_line(one);
    auto space = line.find(' ');
    if (space == std::string_view::npos)
      continue;
    request req;
    req.method = std::string{line.substr(0, space)};
    // The HTTP server hands over only methods it knows, which are tokens.
    if (!token(req.method))
      continue;
    auto target = line.substr(space + 1);
    auto q = target.find('?');
    req.path = std::string{target.substr(0, q)};
    if (q != std::string_view::npos)
      req.query = std::string{target.substr(q + 1)};
    req.body = std::string{body};
    check_path(req.path);
    check_answer(wms.handle(req));
    FUZZ_CHECK(!wms.state()
                    .dump(-1, ' ', false, json::error_handler_t::strict)
                    .empty(),
               "the warehouse's state encodes");
    now += 250;
  }
  return 0;
}
