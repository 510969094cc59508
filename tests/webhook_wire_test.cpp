// The webhooks' wire: signatures (the Standard Webhooks specification's own
// example), secrets, which destinations may be called, what an answer means
// and the backoff.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "system/daemon/webhook_wire.hpp"

using namespace oms::daemon;
using namespace std::chrono_literals;

TEST_CASE("webhook signature: the Standard Webhooks example") {
  // From the specification (and checked by hand with Python's hmac).
  CHECK(webhook_signature("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                          "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
                          R"({"test": 2432232314})") ==
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  // Any byte of id, timestamp or body changes it.
  CHECK(webhook_signature("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                          "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265331,
                          R"({"test": 2432232314})") !=
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  // A malformed secret signs nothing.
  CHECK(webhook_signature("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "m", 1, "b")
            .empty());
  CHECK(webhook_signature("whsec_not*base64", "m", 1, "b").empty());
  CHECK(webhook_signature("whsec_", "m", 1, "b").empty());
}

TEST_CASE("webhook signature: a rotated-out secret signs beside the new one "
          "until its grace ends") {
  webhook_config x;
  x.secret = new_webhook_secret();
  x.previous_secret = new_webhook_secret();
  x.previous_until = 2000;
  auto now_sig = webhook_signature(x.secret, "1", 5, "{}");
  auto old_sig = webhook_signature(x.previous_secret, "1", 5, "{}");
  CHECK(webhook_signatures(x, "1", 5, "{}", 1999) == now_sig + " " + old_sig);
  CHECK(webhook_signatures(x, "1", 5, "{}", 2000) == now_sig);
}

TEST_CASE("webhook secrets and ids are fresh and well formed") {
  auto a = new_webhook_secret();
  auto b = new_webhook_secret();
  CHECK(a != b);
  REQUIRE(a.rfind("whsec_", 0) == 0);
  auto key = base64_decode(a.substr(6));
  REQUIRE(key);
  CHECK(key->size() == 24);
  auto id = new_webhook_id();
  CHECK(id.size() == 19);
  CHECK(id.rfind("wh_", 0) == 0);
  CHECK(id != new_webhook_id());
}

TEST_CASE("base64 round trips and refuses what is not base64") {
  std::vector<std::string> samples = {"",    "a",    "ab",
                                      "abc", "abcd", std::string("\0\xff", 2)};
  for (auto& s : samples)
    CHECK(base64_decode(base64_encode(s)) == s);
  CHECK(base64_encode("abcd") == "YWJjZA==");
  CHECK_FALSE(base64_decode("YWJjZA="));
  CHECK_FALSE(base64_decode("YW=jZA=="));
  CHECK_FALSE(base64_decode("YWJj ZA="));
  CHECK_FALSE(base64_decode("Y==="));
}

TEST_CASE("a subscription survives its stored form, and a damaged one is "
          "refused") {
  webhook_config x;
  x.id = "wh_0123456789abcdef";
  x.url = "http://127.0.0.1:9/h";
  x.types = {"oms.order.*", "oms.stock.received"};
  x.description = "fulfilment";
  x.secret = new_webhook_secret();
  x.paused = true;
  x.pause_reason = "why";
  x.created_at = 1;
  x.updated_at = 2;
  auto back = webhook_from_stored(stored_json(x).dump());
  REQUIRE(back);
  CHECK(back->types == x.types);
  CHECK(back->secret == x.secret);
  CHECK(back->paused);
  CHECK(back->pause_reason == "why");
  CHECK_FALSE(webhook_from_stored("{}"));
  CHECK_FALSE(webhook_from_stored("[1]"));
  CHECK_FALSE(webhook_from_stored("{\"id\":3}"));
  // What the API shows holds no secret.
  auto shown = public_json(x).dump();
  CHECK(shown.find("whsec_") == std::string::npos);
}

TEST_CASE("destinations: only http(s) to an allowed host") {
  auto allowed = read_allowed_hosts(" 127.0.0.1, LocalHost ,[::1],,");
  REQUIRE(allowed.size() == 3);
  CHECK(allowed[1] == "localhost");
  CHECK(allowed[2] == "::1");
  CHECK(destination_refusal("http://127.0.0.1:8080/hook", allowed).empty());
  CHECK(destination_refusal("https://localhost/hook?x=1", allowed).empty());
  CHECK(destination_refusal("http://[::1]:9/", allowed).empty());
  CHECK(destination_refusal("HTTP://LOCALHOST/", allowed).empty());
  // Refused, each with its reason.
  CHECK(destination_refusal("http://10.0.0.1/", allowed).find("allowlist") !=
        std::string::npos);
  CHECK(destination_refusal("http://127.0.0.1.example.com/", allowed) != "");
  CHECK(destination_refusal("http://169.254.169.254/latest", allowed) != "");
  CHECK(destination_refusal("ftp://127.0.0.1/", allowed) != "");
  CHECK(destination_refusal("file:///etc/passwd", allowed) != "");
  CHECK(destination_refusal("gopher://localhost/", allowed) != "");
  CHECK(destination_refusal("http://u:p@127.0.0.1/", allowed) != "");
  CHECK(destination_refusal("http://u@127.0.0.1/", allowed) != "");
  CHECK(destination_refusal("//127.0.0.1/", allowed) != "");
  CHECK(destination_refusal("127.0.0.1/hook", allowed) != "");
  CHECK(destination_refusal("http://127.0.0.1/a b", allowed) != "");
  CHECK(destination_refusal("http://127.0.0.1/\xc3\xa9", allowed) != "");
  CHECK(destination_refusal("", allowed) != "");
  CHECK(destination_refusal("http://127.0.0.1/" + std::string(2100, 'a'),
                            allowed) != "");
  // Nothing allowed: nothing passes.
  CHECK(destination_refusal("http://127.0.0.1/", {}) != "");
}

TEST_CASE("answers: 2xx delivered, 5xx, 408, 429 and none retried, the rest "
          "dead") {
  CHECK(classify_answer(200) == attempt_outcome::delivered);
  CHECK(classify_answer(204) == attempt_outcome::delivered);
  CHECK(classify_answer(0) == attempt_outcome::retry);
  CHECK(classify_answer(500) == attempt_outcome::retry);
  CHECK(classify_answer(503) == attempt_outcome::retry);
  CHECK(classify_answer(408) == attempt_outcome::retry);
  CHECK(classify_answer(429) == attempt_outcome::retry);
  CHECK(classify_answer(400) == attempt_outcome::dead);
  CHECK(classify_answer(404) == attempt_outcome::dead);
  CHECK(classify_answer(410) == attempt_outcome::dead);
  CHECK(classify_answer(302) == attempt_outcome::dead);
  CHECK(classify_answer(100) == attempt_outcome::dead);
}

TEST_CASE("the backoff doubles up to its cap, less a random fifth at most") {
  CHECK(retry_delay(1, 2s, 10min, 0.0) == 2s);
  CHECK(retry_delay(2, 2s, 10min, 0.0) == 4s);
  CHECK(retry_delay(5, 2s, 10min, 0.0) == 32s);
  CHECK(retry_delay(20, 2s, 10min, 0.0) == 10min);
  CHECK(retry_delay(4000000000u, 2s, 10min, 0.0) == 10min);
  CHECK(retry_delay(1, 2s, 10min, 0.999) >= 1600ms);
  CHECK(retry_delay(1, 2s, 10min, 0.5) == 1800ms);
  CHECK(retry_delay(1, 1ms, 1ms, 0.99) == 1ms);
}
