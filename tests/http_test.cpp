// What omsd, omsctl and wms-sim share (system/http): percent-decoding in its
// two modes, UTF-8 validation, query strings, route tables, durations, reason phrases, log
// levels and the duration flags, including the bad input each must refuse.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "system/http/duration.hpp"
#include "system/http/flags.hpp"
#include "system/http/log_line.hpp"
#include "system/http/percent.hpp"
#include "system/http/reason_phrase.hpp"
#include "system/http/route.hpp"
#include "system/http/utf8.hpp"

using namespace oms::http;
using namespace std::string_literals;

namespace {

std::optional<std::string> strict(std::string_view x) {
  return percent_decode(x, percent_mode::strict);
}

std::optional<std::string> form(std::string_view x) {
  return percent_decode(x, percent_mode::lenient_form);
}

struct row {
  const char* method;
  const char* pattern;
};

const std::vector<row> table = {{"GET", "/healthz"},
                                {"GET", "/items/{id}"},
                                {"PATCH", "/items/{id}"},
                                {"POST", "/items/{id}/ship"},
                                {"DELETE", "/items/{id}"}};

std::vector<std::string> path(std::string_view x) {
  return split_path(x);
}

} // namespace

TEST_CASE("http: percent-decoding, strict and as a form") {
  // What each mode makes of a text; a null strict result is a refusal.
  struct decoding {
    std::string in;
    std::optional<std::string> strict;
    std::string form;
  };
  auto refused = std::optional<std::string>{};
  for (auto& x : std::vector<decoding>{{"", "", ""},
                                       {"abc", "abc", "abc"},
                                       {"A%41%6a", "AAj", "AAj"},
                                       {"a+b", "a+b", "a b"},
                                       {"a%2Bb", "a+b", "a+b"},
                                       {"%2F", "/", "/"},
                                       {"%00", "\0"s, "\0"s},
                                       {"EXT%45RNAL", "EXTERNAL", "EXTERNAL"},
                                       {"%", refused, "%"},
                                       {"%4", refused, "%4"},
                                       {"a%", refused, "a%"},
                                       {"%zz", refused, "%zz"},
                                       {"%4g", refused, "%4g"},
                                       {"%g4", refused, "%g4"},
                                       {"100%", refused, "100%"},
                                       {"%%41", refused, "%A"}}) {
    CHECK_MESSAGE(strict(x.in) == x.strict, x.in);
    CHECK_MESSAGE(form(x.in) == x.form, x.in);
  }
}

TEST_CASE("http: decoding passes bytes that are not UTF-8 through as bytes") {
  CHECK(strict("%E2%82%AC") == "\xE2\x82\xAC");
  CHECK(strict("%FF%FE") == "\xFF\xFE");
  CHECK(strict("\xC3(") == "\xC3(");
  CHECK(form("%C3%28") == "\xC3(");
}

TEST_CASE("http: percent-encoding keeps only unreserved bytes and round-trips "
          "every byte") {
  CHECK(percent_encode("") == "");
  CHECK(percent_encode("Az09-_.~") == "Az09-_.~");
  CHECK(percent_encode("a b/€+") == "a%20b%2F%E2%82%AC%2B");
  CHECK(percent_encode("\xFF\x00"s) == "%FF%00");
  std::string all;
  for (int c = 0; c < 256; ++c)
    all += static_cast<char>(c);
  CHECK(strict(percent_encode(all)) == all);
  CHECK(form(percent_encode(all)) == all);
}

TEST_CASE("http: a query string splits into decoded parameters in order") {
  CHECK(split_query("", percent_mode::strict).empty());
  CHECK(split_query("&&", percent_mode::strict).empty());
  auto q = split_query("a=1&&b&c=x%3Dy&=v", percent_mode::strict);
  REQUIRE(q.size() == 4);
  CHECK(q[0]->key == "a");
  CHECK(q[0]->value == "1");
  CHECK(q[1]->key == "b");
  CHECK(q[1]->value == "");
  CHECK(q[2]->value == "x=y");
  CHECK(q[3]->key == "");
  CHECK(q[3]->value == "v");
  // A part that does not decode stays in its place.
  auto bad = split_query("x=1&after=%zz&k%=1&limit=2", percent_mode::strict);
  REQUIRE(bad.size() == 4);
  CHECK(bad[0]);
  CHECK_FALSE(bad[1]);
  CHECK_FALSE(bad[2]);
  CHECK(bad[3]->key == "limit");
  auto lenient =
      split_query("se+ller=EXT%45RNAL&x=%zz", percent_mode::lenient_form);
  REQUIRE(lenient.size() == 2);
  CHECK(lenient[0]->key == "se ller");
  CHECK(lenient[0]->value == "EXTERNAL");
  CHECK(lenient[1]->value == "%zz");
}

TEST_CASE("http: paths split at every slash") {
  CHECK(path("").empty());
  CHECK(path("/") == std::vector<std::string>{""});
  CHECK(path("/a/b") == std::vector<std::string>{"a", "b"});
  CHECK(path("/a//b/") == std::vector<std::string>{"a", "", "b", ""});
  // A path not in origin form has no segments, so it fits no route; its
  // first byte was dropped, and "Xv1/inventory" read as "/v1/inventory"
  // (found by tests/fuzz/http_route_fuzz.cpp).
  CHECK(path("v1/inventory").empty());
  CHECK(path("Xv1/inventory").empty());
  CHECK(path("*").empty());
  CHECK(path("http://host/v1/inventory").empty());
}

TEST_CASE("http: a route table matches path and method, else names the "
          "methods the path allows") {
  auto m = match_route(table, "PATCH", path("/items/42"));
  CHECK(m.found());
  CHECK(m.index == 2);
  CHECK(m.pattern == "/items/{id}");
  CHECK(m.params == std::vector<std::string>{"42"});

  auto wrong = match_route(table, "PUT", path("/items/42"));
  CHECK_FALSE(wrong.found());
  CHECK(wrong.path_found());
  CHECK(wrong.pattern == "/items/{id}");
  CHECK(wrong.params == std::vector<std::string>{"42"});
  CHECK(wrong.allow == "GET, PATCH, DELETE");

  auto ship = match_route(table, "POST", path("/items/7/ship"));
  CHECK(ship.index == 3);
  CHECK(ship.params == std::vector<std::string>{"7"});

  for (auto* missing : {"", "/", "/nope", "/healthz/", "/items", "/items/",
                        "/items//ship", "/items/1/2", "/Healthz"}) {
    auto none = match_route(table, "GET", path(missing));
    CHECK_MESSAGE(!none.found(), missing);
    CHECK_MESSAGE(!none.path_found(), missing);
    CHECK(none.allow.empty());
  }
}

TEST_CASE("http: durations in omsd's and wms-sim's syntax") {
  CHECK(parse_duration_ms("500ms", omsd_durations) == 500);
  CHECK(parse_duration_ms("2s", omsd_durations) == 2000);
  CHECK(parse_duration_ms("15m", omsd_durations) == 900'000);
  CHECK(parse_duration_ms("1h", omsd_durations) == 3'600'000);
  CHECK(parse_duration_ms("1d", omsd_durations) == 86'400'000);
  CHECK_FALSE(parse_duration_ms("15", omsd_durations));
  CHECK(parse_duration_ms("15", wms_sim_durations) == 15'000);
  CHECK(parse_duration_ms("0", wms_sim_durations) == 0);
  CHECK_FALSE(parse_duration_ms("1d", wms_sim_durations));
  for (auto syntax : {omsd_durations, wms_sim_durations})
    for (auto* bad : {"", "s", "ms", "-1s", "+1s", "1.5s", " 1s", "1s ", "1 s",
                      "2w", "1S", "s2", "1ms5", "\xC3\xA9"})
      CHECK_MESSAGE(!parse_duration_ms(bad, syntax), bad);
}

TEST_CASE("http: a duration too large for int64 milliseconds is refused") {
  // 13 digits and a little more are read; past that the text is refused.
  CHECK(parse_duration_ms("10000000000009ms", omsd_durations) ==
        10'000'000'000'009);
  CHECK_FALSE(parse_duration_ms("100000000000000ms", omsd_durations));
  CHECK_FALSE(parse_duration_ms("99999999999999999999", wms_sim_durations));
  // The largest count of hours that fits, and one more.
  CHECK(parse_duration_ms("2562047788015h", omsd_durations) ==
        int64_t{2'562'047'788'015} * 3'600'000);
  CHECK_FALSE(parse_duration_ms("2562047788016h", omsd_durations));
  CHECK_FALSE(parse_duration_ms("10000000000000h", wms_sim_durations));
  CHECK_FALSE(parse_duration_ms("10000000000000d", omsd_durations));
  CHECK(parse_duration_ms("10000000000000s", wms_sim_durations) ==
        10'000'000'000'000'000);
}

TEST_CASE("http: durations format in the largest unit that divides them") {
  CHECK(format_duration_ms(0, omsd_durations) == "0ms");
  CHECK(format_duration_ms(1500, omsd_durations) == "1500ms");
  CHECK(format_duration_ms(900'000, omsd_durations) == "15m");
  CHECK(format_duration_ms(86'400'000, omsd_durations) == "1d");
  CHECK(format_duration_ms(86'400'000, wms_sim_durations) == "24h");
  CHECK(format_duration_ms(int64_t{7} * 86'400'000, wms_sim_durations) ==
        "168h");
  CHECK(format_duration_ms(-2000, omsd_durations) == "-2s");
}

TEST_CASE("http: reason phrases") {
  CHECK(std::string{reason_phrase(200)} == "OK");
  CHECK(std::string{reason_phrase(201)} == "Created");
  CHECK(std::string{reason_phrase(405)} == "Method Not Allowed");
  CHECK(std::string{reason_phrase(413)} == "Payload Too Large");
  CHECK(std::string{reason_phrase(503)} == "Service Unavailable");
  CHECK(std::string{reason_phrase(507)} == "Insufficient Storage");
  // What the HTTP server answers by itself.
  CHECK(std::string{reason_phrase(100)} == "Continue");
  CHECK(std::string{reason_phrase(414)} == "URI Too Long");
  CHECK(std::string{reason_phrase(431)} == "Request Header Fields Too Large");
  CHECK(std::string{reason_phrase(501)} == "Not Implemented");
  CHECK(std::string{reason_phrase(505)} == "HTTP Version Not Supported");
  for (auto unknown : {0, -1, 204, 302, 418, 599, 1000})
    CHECK(std::string{reason_phrase(unknown)} == "Unknown");
}

TEST_CASE("http: log levels by name, and which lines are written") {
  for (auto x : {log_level::debug, log_level::info, log_level::warn,
                 log_level::error, log_level::off}) {
    auto parsed = log_level::info;
    CHECK(parse_log_level(level_name(x), parsed));
    CHECK(parsed == x);
  }
  auto kept = log_level::warn;
  for (auto* bad : {"", "INFO", "information", "debug ", "\xFF"})
    CHECK_FALSE(parse_log_level(bad, kept));
  CHECK(kept == log_level::warn);
  CHECK(log_enabled(log_level::warn, log_level::info));
  CHECK_FALSE(log_enabled(log_level::debug, log_level::info));
  CHECK_FALSE(log_enabled(log_level::off, log_level::debug));
  CHECK_FALSE(log_enabled(log_level::error, log_level::off));
  auto ts = log_timestamp_now();
  REQUIRE(ts.size() == 24);
  CHECK(ts[4] == '-');
  CHECK(ts[10] == 'T');
  CHECK(ts[19] == '.');
  CHECK(ts.back() == 'Z');
}

namespace {

std::optional<cli_exit> run_flags(std::vector<std::string> args,
                                  int64_t& target) {
  CLI::App app{"test", "test"};
  add_duration_flag(app, "--wait", target,
                    {wms_sim_durations, "a number with ms, s, m or h", 60'000},
                    "How long to wait");
  args.insert(args.begin(), "test");
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  return parse_command_line(app, static_cast<int>(argv.size()), argv.data(),
                            "test");
}

} // namespace

TEST_CASE("http: a duration flag refuses what is not a duration or too long") {
  int64_t wait = 2000;
  CHECK_FALSE(run_flags({"--wait", "1m"}, wait));
  CHECK(wait == 60'000);
  auto bad = run_flags({"--wait", "soon"}, wait);
  REQUIRE(bad);
  CHECK(bad->code == 2);
  CHECK(bad->output.rfind("test: ", 0) == 0);
  CHECK(bad->output.find("'soon' is not a duration (a number with ms, s, m or "
                         "h)") != std::string::npos);
  auto empty = run_flags({"--wait", ""}, wait);
  REQUIRE(empty);
  CHECK(empty->code == 2);
  auto long_one = run_flags({"--wait", "61s"}, wait);
  REQUIRE(long_one);
  CHECK(long_one->output.find("'61s' is longer than 1m") != std::string::npos);
  auto huge = run_flags({"--wait", "10000000000000h"}, wait);
  REQUIRE(huge);
  CHECK(huge->output.find("is not a duration") != std::string::npos);
  CHECK(wait == 60'000);
  int64_t fresh = 2000;
  auto help = run_flags({"--help"}, fresh);
  REQUIRE(help);
  CHECK(help->code == 0);
  CHECK(help->output.find("How long to wait (default 2s)") !=
        std::string::npos);
}

namespace {

std::optional<cli_exit> run_log_level(const char* value, std::string& text) {
  CLI::App app{"test", "test"};
  add_log_level_flag(app, text);
  std::vector<std::string> args = {"test", "--log-level", value};
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  return parse_command_line(app, 3, argv.data(), "test");
}

} // namespace

TEST_CASE("http: --log-level takes the five level names only") {
  for (auto* name : {"debug", "info", "warn", "error", "off"}) {
    std::string text = "info";
    CHECK_FALSE(run_log_level(name, text));
    CHECK(text == name);
  }
  for (auto* bad : {"", "loud", "INFO"}) {
    std::string text = "info";
    auto res = run_log_level(bad, text);
    REQUIRE(res);
    CHECK(res->code == 2);
    CHECK(res->output.rfind("test: ", 0) == 0);
  }
}

TEST_CASE("http: UTF-8 validation takes every well-formed sequence and "
          "refuses overlongs, surrogates, code points above U+10FFFF and "
          "broken sequences") {
  // Proves the boundaries of RFC 3629's table: each good case is the first
  // or last of its range, each bad one the byte just past it.
  for (auto good : {""s, "plain ascii"s, "\0"s, "\x7F"s,
                    "\xC2\x80"s,         // U+0080, the first two-byte form
                    "\xDF\xBF"s,         // U+07FF
                    "\xE0\xA0\x80"s,     // U+0800, the first three-byte form
                    "\xED\x9F\xBF"s,     // U+D7FF, just below the surrogates
                    "\xEE\x80\x80"s,     // U+E000, just above them
                    "\xEF\xBF\xBF"s,     // U+FFFF
                    "\xF0\x90\x80\x80"s, // U+10000, the first four-byte form
                    "\xF4\x8F\xBF\xBF"s, // U+10FFFF, the last code point
                    "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x93\xA6"s})
    CHECK_MESSAGE(valid_utf8(good), percent_encode(good));
  for (auto bad : {"\xFF"s, "\xFE"s,
                   "a\xFF"
                   "b"s,
                   "\x80"s, // a continuation byte alone
                   "\xBF"s,
                   "\xC0\x80"s,         // overlong NUL
                   "\xC1\xBF"s,         // overlong U+007F
                   "\xE0\x9F\xBF"s,     // overlong U+07FF
                   "\xF0\x8F\xBF\xBF"s, // overlong U+FFFF
                   "\xED\xA0\x80"s,     // U+D800, a surrogate
                   "\xED\xBF\xBF"s,     // U+DFFF
                   "\xF4\x90\x80\x80"s, // U+110000
                   "\xF5\x80\x80\x80"s, // no such lead byte
                   "\xC3"s,             // truncated at the end
                   "\xE2\x82"s, "\xF0\x9F\x93"s,
                   "\xC3("s, // a lead byte before ASCII
                   "\xE2\x28\xA1"s, "\xF0\x9F\x93("s})
    CHECK_MESSAGE(!valid_utf8(bad), percent_encode(bad));
  // What the query decoder turns "%FF" into is refused; "%C3%A9" is not.
  CHECK_FALSE(valid_utf8(*form("%FF")));
  CHECK(valid_utf8(*form("caf%C3%A9")));
}
