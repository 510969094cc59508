// The JSON rendering of records (what clients will see) and the storage
// codec (what the stores write): every field, no floating point for money.
#include <doctest/doctest.h>

#include <limits>

#include <nlohmann/json.hpp>

#include "messages/json.hpp"
#include "system/store/codec.hpp"

using namespace oms;

namespace {

order_record json_sample() {
  order_record r;
  r.id = "ord_x";
  r.customer = "alice";
  r.lines = {{"A", 3, 1000, 1, 0, {}}, {"B", 1, 250, 0, 0, {}}};
  r.ship_to = {"12 MG Road", "", "Bengaluru", "560001", "IN"};
  r.status = order_status::paid;
  r.total_amount = 2250;
  r.paid_amount = 3250;
  r.refunded_amount = 1000;
  r.payment_reference = "ch_1";
  r.created_at = 1'800'000'000'000;
  r.updated_at = 1'800'000'000'500;
  r.hold_expires_at = 0;
  r.history = {{1'800'000'000'000, order_status::created, order_status::created,
                "created", 3250},
               {1'800'000'000'500, order_status::created, order_status::paid,
                "paid", 3250}};
  r.payments = {
      {payment_kind::charge, "ord_x:charge:1", 3250, payment_status::succeeded,
       "ch_1", "", 1'800'000'000'400, "pay-1", "abcd"},
      {payment_kind::refund, "ord_x:refund:1", 1000, payment_status::succeeded,
       "re_2", "PARTIAL_CANCEL", 1'800'000'000'500, "", ""}};
  r.idempotency_key = "key-1";
  r.request_fingerprint = "0011223344556677";
  return r;
}

} // namespace

TEST_CASE("an order renders with money in minor units and ISO timestamps") {
  nlohmann::json j = json_sample();
  CHECK(j["id"] == "ord_x");
  CHECK(j["status"] == "PAID");
  CHECK(j["currency"] == "INR");
  CHECK(j["totalAmount"] == 2250);
  CHECK(j["totalAmount"].is_number_integer());
  CHECK(j["paidAmount"] == 3250);
  CHECK(j["refundedAmount"] == 1000);
  CHECK(j["amountDue"] == 0);
  CHECK(j["holdExpiresAt"].is_null());
  CHECK(j["createdAt"] == "2027-01-15T08:00:00.000Z");
  REQUIRE(j["lines"].size() == 2);
  CHECK(j["lines"][0]["lineTotal"] == 2000);
  CHECK(j["lines"][0]["cancelledQuantity"] == 1);
  CHECK(j["address"]["postalCode"] == "560001");
  CHECK_FALSE(j["address"].contains("line2"));
  REQUIRE(j["history"].size() == 2);
  CHECK(j["history"][1]["to"] == "PAID");
  CHECK(j["history"][1]["amount"] == 3250);
}

TEST_CASE("a created order shows when its hold expires") {
  auto r = json_sample();
  r.status = order_status::created;
  r.hold_expires_at = 1'800'000'900'000;
  nlohmann::json j = r;
  CHECK(j["holdExpiresAt"] == "2027-01-15T08:15:00.000Z");
}

TEST_CASE("an INBOX result renders its outcome by name and an error only "
          "when rejected") {
  // Proves the wire text of the typed outcome and error code: the same
  // words clients read before they were typed.
  inbox_result applied;
  applied.event_id = "grn-1";
  applied.outcome = inbox_outcome::applied;
  auto j = nlohmann::json(applied);
  CHECK(j == nlohmann::json{{"eventId", "grn-1"}, {"outcome", "APPLIED"}});

  inbox_result duplicate;
  duplicate.outcome = inbox_outcome::duplicate;
  j = nlohmann::json(duplicate);
  CHECK(j == nlohmann::json{{"eventId", nullptr}, {"outcome", "DUPLICATE"}});

  inbox_result rejected;
  rejected.event_id = "adj-1";
  rejected.outcome = inbox_outcome::rejected;
  rejected.error_code = errc::insufficient_stock;
  rejected.error = "only 2 on hand";
  j = nlohmann::json(rejected);
  CHECK(j == nlohmann::json{{"eventId", "adj-1"},
                            {"outcome", "REJECTED"},
                            {"error",
                             {{"code", "INSUFFICIENT_STOCK"},
                              {"message", "only 2 on hand"}}}});
}

TEST_CASE("the storage codec keeps every field of a record") {
  auto r = json_sample();
  order_record back;
  REQUIRE(decode_record(encode_record(r), back));
  CHECK(encode_record(back) == encode_record(r));
  CHECK(back.payments.size() == 2);
  CHECK(back.payments[1].reason == "PARTIAL_CANCEL");
  CHECK(back.lines[0].cancelled_quantity == 1);
  CHECK(back.request_fingerprint == "0011223344556677");
  CHECK(back.history[1].to == order_status::paid);
}

TEST_CASE("the storage codec writes a record as nlohmann's dump of it would, "
          "byte for byte, whatever its text holds") {
  // encode_record writes its text directly (it runs at every change of an
  // order on the journal's thread); stores hold text nlohmann wrote before,
  // so the two must never differ.
  auto r = json_sample();
  CHECK(encode_record(r) == encode_record_as_json(r));
  // Every character JSON escapes, the ones it does not (DEL), empty text,
  // extreme numbers, lines with and without batches.
  r.id = "o\"1\\2";
  r.customer = std::string{"c\b\f\n\r\t"} + '\x01' + '\x1f' + '\x7f' + '/';
  r.ship_to.line2 = "";
  r.cancel_reason = std::string(1, '\0') + "x";
  r.total_amount = std::numeric_limits<int64_t>::max();
  r.refunded_amount = std::numeric_limits<int64_t>::min();
  r.lines.push_back(order_line{"S-2", 3, 0, 0, 0, {{"L\"1", 2}, {"", 1}}});
  r.history.push_back(history_entry{-5, order_status::created,
                                    order_status::cancelled, "a\tb", -1});
  CHECK(encode_record(r) == encode_record_as_json(r));
  order_record back;
  REQUIRE(decode_record(encode_record(r), back));
  CHECK(encode_record(back) == encode_record(r));
  CHECK(back.customer == r.customer);
  CHECK(back.cancel_reason == r.cancel_reason);
  // Text beyond ASCII goes through nlohmann, which checks its UTF-8.
  r.ship_to.city = "Z\xc3\xbcrich";
  CHECK(encode_record(r) == encode_record_as_json(r));
  r.ship_to.city = "Z\xc3";
  CHECK_THROWS(encode_record(r));
  // Nothing at all.
  CHECK(encode_record(order_record{}) == encode_record_as_json(order_record{}));
}

TEST_CASE("the storage codec refuses what it did not write") {
  order_record out;
  CHECK_FALSE(decode_record("", out));
  CHECK_FALSE(decode_record("not json", out));
  CHECK_FALSE(decode_record(R"({"v":2})", out));
  CHECK_FALSE(decode_record(R"({"v":1,"id":"x"})", out));
  CHECK_FALSE(decode_record("[1,2,3]", out));
}

TEST_CASE("the storage codec refuses a number of the wrong kind or a code "
          "that names nothing, instead of reading it as something else") {
  // Proves what fuzzing the codec found (tests/fuzz/store_event_fuzz.cpp): a
  // float where an integer belongs was converted (1e300 into an int is
  // undefined, 2.5 became 2), and a seller, status or payment code outside
  // its enum was taken as one.
  auto good = nlohmann::json::parse(encode_record(json_sample()));
  order_record out;
  REQUIRE(decode_record(good.dump(), out));
  auto with = [&](const nlohmann::json::json_pointer& at, nlohmann::json x) {
    auto j = good;
    j[at] = std::move(x);
    return j.dump();
  };
  using ptr = nlohmann::json::json_pointer;
  for (auto& [at, bad] : std::vector<std::pair<ptr, nlohmann::json>>{
           {ptr{"/v"}, 1e300},
           {ptr{"/v"}, 1.0},
           {ptr{"/seller"}, 1e300},
           {ptr{"/seller"}, 7},
           {ptr{"/seller"}, -1},
           {ptr{"/status"}, 2.5},
           {ptr{"/status"}, 99},
           {ptr{"/total"}, 1.5e300},
           {ptr{"/paid"}, 18446744073709551615u},
           {ptr{"/createdAt"}, 1.8e12},
           {ptr{"/lines/0/1"}, 2.5},
           {ptr{"/history/1/2"}, 250},
           {ptr{"/payments/0/0"}, 9},
           {ptr{"/payments/0/3"}, 3}}) {
    auto text = with(at, bad);
    CAPTURE(text);
    CHECK_FALSE(decode_record(text, out));
  }
  customer_record c;
  CHECK(decode_customer(
      R"({"id":"cus_1","name":"A","tokenHash":"ab","createdAt":1767225600000})",
      c));
  CHECK_FALSE(decode_customer(
      R"({"id":"cus_1","name":"A","tokenHash":"ab","createdAt":1.76722560067225600e20})",
      c));
  event ev;
  CHECK(decode_stock_detail(R"({"seller":1,"expiresAt":9000})", ev));
  for (auto* bad : {R"({"seller":1e300})", R"({"seller":0.5})",
                    R"({"expiresAt":1.5})", R"({"lots":[["L1",2.5]]})"}) {
    CAPTURE(bad);
    CHECK_FALSE(decode_stock_detail(bad, ev));
  }
  std::vector<lot_allocation> lots;
  CHECK_FALSE(decode_allocations(R"([["L1",1e300]])", lots));
  CHECK_FALSE(decode_allocations(R"([["L1",18446744073709551615]])", lots));
}

TEST_CASE("strict JSON: a key given twice in one object is refused at any "
          "depth, naming its path") {
  // Proves the defect of issue #16 item 8 is gone: nlohmann keeps the last
  // of two equal keys, so {"quantity":1,"quantity":1000000} meant 1,000,000.
  struct repeat {
    const char* text;
    const char* field;
  };
  for (auto r : {repeat{R"({"quantity":1,"quantity":1000000})", "quantity"},
                 repeat{R"({"a":{"b":1,"c":2,"b":3}})", "a.b"},
                 repeat{R"({"items":[{"sku":"A"},{"sku":"B","sku":"C"}]})",
                        "items[1].sku"},
                 repeat{R"({"x":[1,[2,3],{"y":{}},{"z":1,"z":1}]})", "x[3].z"},
                 repeat{R"([{"k":1,"k":2}])", "[0].k"},
                 repeat{R"({"a":1,"b":{"a":1},"a":2})", "a"}}) {
    json_refusal why;
    auto j = parse_strict(r.text, why);
    INFO(r.text);
    CHECK(j.is_discarded());
    CHECK(why.field == r.field);
    CHECK(why.message == "is given more than once");
  }
  // Equal keys in different objects, and equal values, are not repeats.
  json_refusal why;
  auto j = parse_strict(
      R"({"a":{"k":1},"b":{"k":1},"c":[{"k":1},{"k":1}],"k":"k"})", why);
  REQUIRE_FALSE(j.is_discarded());
  CHECK(j["c"][1]["k"] == 1);
  CHECK(why.field.empty());
  CHECK(why.message.empty());
}

TEST_CASE("strict JSON: nesting deeper than the limit is refused, so nothing "
          "that walks the value recursively can overflow the stack") {
  // Proves what a crafted input through tests/fuzz/wms_answer_fuzz.cpp
  // found: parse_strict read any depth, and a WMS feed event 300,000 arrays
  // deep overflowed the stack of the code that encoded it again.
  auto nested = [](size_t depth) {
    return std::string(depth, '[') + std::string(depth, ']');
  };
  json_refusal why;
  CHECK_FALSE(parse_strict(nested(json_depth_default), why).is_discarded());
  CHECK(why.message.empty());
  for (size_t depth : {json_depth_default + 1, size_t{300'000}}) {
    CAPTURE(depth);
    CHECK(parse_strict(nested(depth), why).is_discarded());
    CHECK(why.field.empty());
    CHECK(why.message ==
          "is nested deeper than " + std::to_string(json_depth_default));
  }
  // A caller may set its own limit.
  CHECK_FALSE(parse_strict(R"({"a":[1]})", why, 2).is_discarded());
  CHECK(parse_strict(R"({"a":[[1]]})", why, 2).is_discarded());
  CHECK(why.message == "is nested deeper than 2");
}

TEST_CASE("strict JSON: a NUL byte is refused wherever it stands, what is "
          "not JSON is refused as a whole") {
  // nlohmann stops reading at a NUL byte, so {"a":1}<NUL>garbage parsed as
  // {"a":1}. An escaped \u0000 inside a string is JSON and stays allowed.
  using namespace std::string_literals;
  for (auto text :
       {"{\"a\":1}\0garbage"s, "{\"a\":\"x\0y\"}"s, "\0"s, "{\"a\":1}\0"s}) {
    json_refusal why;
    CHECK(parse_strict(text, why).is_discarded());
    CHECK(why.field.empty());
    CHECK(why.message.rfind("holds a NUL byte at offset ", 0) == 0);
  }
  json_refusal why;
  CHECK(parse_strict("{\"a\":1}\0"s, why).is_discarded());
  CHECK(why.message == "holds a NUL byte at offset 7");
  auto escaped = parse_strict(R"({"a":"x\u0000y"})", why);
  REQUIRE_FALSE(escaped.is_discarded());
  CHECK(escaped["a"].get<std::string>() == "x\0y"s);
  for (auto text : {""s, "{"s, "{\"a\":1} {}"s, "{\"a\":\"\xFF\"}"s,
                    "{\"\xC0\x80\":1}"s, "[1,]"s, "nul"s}) {
    CHECK(parse_strict(text, why).is_discarded());
    CHECK(why.field.empty());
    CHECK(why.message == "is not valid JSON (UTF-8)");
  }
  auto ok = parse_strict(R"({"n":[1,2,{"m":null}],"s":"caf\u00e9"})", why);
  REQUIRE_FALSE(ok.is_discarded());
  CHECK(ok["n"][2]["m"].is_null());
}
