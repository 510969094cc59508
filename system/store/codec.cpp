#include "system/store/codec.hpp"

#include <charconv>
#include <cstdint>
#include <limits>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "messages/strict_json.hpp"

namespace oms {

namespace {

using json = nlohmann::json;

template <class Enum>
int as_int(Enum x) {
  return static_cast<int>(x);
}

// What the encoder cannot have written: the text does not decode.
struct undecodable {};

// A number as the encoder wrote it: a JSON integer that fits T. Never a
// float, a string or an integer out of T's range (json_int64).
template <class T>
T whole(const json& j) {
  int64_t x = 0;
  if (!json_int64(j, x))
    throw undecodable{};
  if constexpr (!std::is_same_v<T, int64_t>)
    if (x < std::numeric_limits<T>::min() || x > std::numeric_limits<T>::max())
      throw undecodable{};
  return static_cast<T>(x);
}

// The code of an Enum whose last value is `last`: a code that names no
// value is not one the encoder wrote.
template <class Enum>
Enum code_of(const json& j, Enum last) {
  auto x = whole<int>(j);
  if (x < 0 || x > as_int(last))
    throw undecodable{};
  return static_cast<Enum>(x);
}

json encode_lots(const std::vector<lot_allocation>& lots) {
  json result = json::array();
  for (auto& a : lots)
    if (a.expires_at != 0)
      result.push_back(json::array({a.lot, a.quantity, a.expires_at}));
    else
      result.push_back(json::array({a.lot, a.quantity}));
  return result;
}

bool decode_lots(const json& j, std::vector<lot_allocation>& out) {
  if (!j.is_array())
    return false;
  for (auto& a : j)
    out.push_back(lot_allocation{
        a.at(0).get<std::string>(), whole<int64_t>(a.at(1)),
        a.size() > 2 ? whole<timestamp_ms>(a.at(2)) : timestamp_ms{0}});
  return true;
}

} // namespace

std::string encode_stock_detail(const event& ev) {
  json j = json::object();
  if (!ev.lot.empty())
    j["lot"] = ev.lot;
  if (ev.expires_at != 0)
    j["expiresAt"] = ev.expires_at;
  if (!ev.reason.empty())
    j["reason"] = ev.reason;
  if (!ev.lots.empty())
    j["lots"] = encode_lots(ev.lots);
  if (!ev.inbox_id.empty())
    j["inbox"] = ev.inbox_id;
  if (ev.seller != seller::internal)
    j["seller"] = as_int(ev.seller);
  if (ev.version != 0)
    j["v"] = ev.version;
  return j.empty() ? std::string{} : j.dump();
}

bool decode_stock_detail(std::string_view text, event& ev) {
  if (text.empty())
    return true;
  auto j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return false;
  try {
    ev.lot = j.value("lot", std::string{});
    ev.expires_at = 0;
    if (auto i = j.find("expiresAt"); i != j.end())
      ev.expires_at = whole<timestamp_ms>(*i);
    ev.reason = j.value("reason", std::string{});
    ev.inbox_id = j.value("inbox", std::string{});
    ev.seller = seller::internal;
    if (auto i = j.find("seller"); i != j.end())
      ev.seller = code_of(*i, seller::external);
    if (auto i = j.find("lots"); i != j.end() && !decode_lots(*i, ev.lots))
      return false;
    ev.version = 0;
    if (auto i = j.find("v"); i != j.end()) {
      auto version = whole<int64_t>(*i);
      if (version < 1)
        return false;
      ev.version = static_cast<uint64_t>(version);
    }
  } catch (const json::exception&) {
    return false;
  } catch (const undecodable&) {
    return false;
  }
  return true;
}

std::string encode_payload(const event& ev) {
  if (is_order_event(ev.kind))
    return encode_record(ev.snapshot);
  if (ev.kind == event_kind::customer_created)
    return encode_customer(ev.customer);
  return encode_stock_detail(ev);
}

bool decode_payload(std::string_view text, event& ev) {
  if (text.empty())
    return true;
  if (is_order_event(ev.kind))
    return decode_record(text, ev.snapshot);
  if (ev.kind == event_kind::customer_created)
    return decode_customer(text, ev.customer);
  return decode_stock_detail(text, ev);
}

std::string encode_allocations(const std::vector<lot_allocation>& lots) {
  return encode_lots(lots).dump();
}

bool decode_allocations(std::string_view text,
                        std::vector<lot_allocation>& out) {
  out.clear();
  if (text.empty())
    return true;
  auto j = json::parse(text, nullptr, false);
  if (j.is_discarded())
    return false;
  try {
    return decode_lots(j, out);
  } catch (const json::exception&) {
    return false;
  } catch (const undecodable&) {
    return false;
  }
}

namespace {

// Writes JSON as nlohmann's dump() writes the same value (compact, the same
// escapes), for the encoders below that build their text directly: a record
// is encoded at every change of an order on the journal's thread, and
// building it as a json value first took most of that time. Only ASCII text
// is taken: anything else goes through nlohmann, which checks its UTF-8.
class json_text {
 public:
  explicit json_text(size_t reserve) { out_.reserve(reserve); }

  /// False once a string held a byte that is not ASCII.
  bool ascii() const { return ascii_; }
  std::string take() { return std::move(out_); }

  json_text& raw(char c) {
    out_ += c;
    return *this;
  }
  json_text& raw(std::string_view s) {
    out_ += s;
    return *this;
  }
  json_text& num(int64_t x) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, x);
    out_.append(buf, end);
    return *this;
  }
  json_text& str(std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    out_ += '"';
    for (char ch : s) {
      auto c = static_cast<unsigned char>(ch);
      switch (c) {
        case '"':
          out_ += "\\\"";
          break;
        case '\\':
          out_ += "\\\\";
          break;
        case '\b':
          out_ += "\\b";
          break;
        case '\f':
          out_ += "\\f";
          break;
        case '\n':
          out_ += "\\n";
          break;
        case '\r':
          out_ += "\\r";
          break;
        case '\t':
          out_ += "\\t";
          break;
        default:
          if (c < 0x20) {
            out_ += "\\u00";
            out_ += hex[c >> 4];
            out_ += hex[c & 0xf];
          } else {
            if (c >= 0x80)
              ascii_ = false;
            out_ += ch;
          }
      }
    }
    out_ += '"';
    return *this;
  }
  /// `"key":`
  json_text& key(std::string_view k) {
    out_ += '"';
    out_ += k;
    out_ += "\":";
    return *this;
  }

 private:
  std::string out_;
  bool ascii_ = true;
};

// `[item,item,...]`, each item written by `each`.
template <class T, class F>
void write_array(json_text& w, const std::vector<T>& items, F each) {
  w.raw('[');
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0)
      w.raw(',');
    each(items[i]);
  }
  w.raw(']');
}

void write_lots(json_text& w, const std::vector<lot_allocation>& lots) {
  write_array(w, lots, [&](const lot_allocation& a) {
    w.raw('[').str(a.lot).raw(',').num(a.quantity);
    if (a.expires_at != 0)
      w.raw(',').num(a.expires_at);
    w.raw(']');
  });
}

} // namespace

std::string encode_record(const order_record& r) {
  // The keys in the order of nlohmann's objects (sorted), as
  // encode_record_as_json writes them.
  json_text w{512};
  w.raw("{").key("address").raw('[');
  auto& a = r.ship_to;
  w.str(a.line1).raw(',').str(a.line2).raw(',').str(a.city).raw(',');
  w.str(a.postal_code).raw(',').str(a.country).raw("],");
  w.key("cancelReason").str(r.cancel_reason).raw(',');
  w.key("createdAt").num(r.created_at).raw(',');
  w.key("customer").str(r.customer).raw(',');
  w.key("fingerprint").str(r.request_fingerprint).raw(',');
  w.key("history");
  write_array(w, r.history, [&](const history_entry& h) {
    w.raw('[').num(h.at).raw(',').num(as_int(h.from)).raw(',');
    w.num(as_int(h.to)).raw(',').str(h.reason).raw(',').num(h.amount);
    w.raw(']');
  });
  w.raw(',').key("holdExpiresAt").num(r.hold_expires_at).raw(',');
  w.key("id").str(r.id).raw(',');
  w.key("key").str(r.idempotency_key).raw(',');
  w.key("lines");
  write_array(w, r.lines, [&](const order_line& l) {
    w.raw('[').str(l.sku).raw(',').num(l.quantity).raw(',');
    w.num(l.unit_price).raw(',').num(l.cancelled_quantity).raw(',');
    w.num(l.shipped_quantity);
    if (!l.lots.empty()) {
      w.raw(',');
      write_lots(w, l.lots);
    }
    w.raw(']');
  });
  w.raw(',').key("paid").num(r.paid_amount).raw(',');
  w.key("paymentRef").str(r.payment_reference).raw(',');
  w.key("payments");
  write_array(w, r.payments, [&](const payment_record& p) {
    w.raw('[').num(as_int(p.kind)).raw(',').str(p.gateway_key).raw(',');
    w.num(p.amount).raw(',').num(as_int(p.status)).raw(',');
    w.str(p.reference).raw(',').str(p.reason).raw(',').num(p.at).raw(',');
    w.str(p.client_key).raw(',').str(p.fingerprint).raw(']');
  });
  w.raw(',').key("refunded").num(r.refunded_amount).raw(',');
  if (!r.returns.empty()) {
    w.key("returns");
    write_array(w, r.returns, [&](const order_return& x) {
      w.raw('[').str(x.id).raw(',').num(as_int(x.status)).raw(',');
      w.num(x.created_at).raw(',').num(x.updated_at).raw(',');
      w.str(x.reject_reason).raw(',').num(x.refund_amount).raw(',');
      w.str(x.refund_key).raw(',').str(x.client_key).raw(',');
      w.str(x.fingerprint).raw(',');
      write_array(w, x.lines, [&](const return_line& l) {
        w.raw('[').str(l.sku).raw(',').num(l.quantity).raw(',');
        w.str(l.reason).raw(',').num(l.restocked).raw(',');
        w.num(l.damaged).raw(',');
        write_lots(w, l.lots);
        w.raw(']');
      });
      w.raw(']');
    });
    w.raw(',');
  }
  w.key("seller").num(as_int(r.seller)).raw(',');
  if (!r.shipments.empty()) {
    w.key("shipments");
    write_array(w, r.shipments, [&](const shipment& s) {
      w.raw('[').str(s.id).raw(',').num(s.at).raw(',').str(s.carrier);
      w.raw(',').str(s.tracking_number).raw(',').str(s.client_key).raw(',');
      w.str(s.fingerprint).raw(',');
      write_array(w, s.lines, [&](const shipped_line& l) {
        w.raw('[').str(l.sku).raw(',').num(l.quantity).raw(',');
        write_lots(w, l.lots);
        w.raw(']');
      });
      w.raw(']');
    });
    w.raw(',');
  }
  w.key("status").num(as_int(r.status)).raw(',');
  w.key("total").num(r.total_amount).raw(',');
  w.key("updatedAt").num(r.updated_at).raw(',');
  w.key("v").num(1).raw(',');
  w.key("version").num(static_cast<int64_t>(r.version)).raw('}');
  if (!w.ascii())
    return encode_record_as_json(r);
  return w.take();
}

std::string encode_record_as_json(const order_record& r) {
  json lines = json::array();
  for (auto& l : r.lines) {
    json line = {l.sku, l.quantity, l.unit_price, l.cancelled_quantity,
                 l.shipped_quantity};
    if (!l.lots.empty())
      line.push_back(encode_lots(l.lots));
    lines.push_back(std::move(line));
  }
  json history = json::array();
  for (auto& h : r.history)
    history.push_back({h.at, as_int(h.from), as_int(h.to), h.reason, h.amount});
  json payments = json::array();
  for (auto& p : r.payments)
    payments.push_back({as_int(p.kind), p.gateway_key, p.amount,
                        as_int(p.status), p.reference, p.reason, p.at,
                        p.client_key, p.fingerprint});
  json j = {
      {"v", 1},
      {"id", r.id},
      {"customer", r.customer},
      {"seller", as_int(r.seller)},
      {"lines", lines},
      {"address",
       {r.ship_to.line1, r.ship_to.line2, r.ship_to.city, r.ship_to.postal_code,
        r.ship_to.country}},
      {"status", as_int(r.status)},
      {"total", r.total_amount},
      {"paid", r.paid_amount},
      {"refunded", r.refunded_amount},
      {"paymentRef", r.payment_reference},
      {"cancelReason", r.cancel_reason},
      {"createdAt", r.created_at},
      {"updatedAt", r.updated_at},
      {"holdExpiresAt", r.hold_expires_at},
      {"history", history},
      {"payments", payments},
      {"key", r.idempotency_key},
      {"fingerprint", r.request_fingerprint},
      {"version", r.version},
  };
  if (!r.returns.empty()) {
    json returns = json::array();
    for (auto& x : r.returns) {
      json lines = json::array();
      for (auto& l : x.lines)
        lines.push_back(json::array({l.sku, l.quantity, l.reason, l.restocked,
                                     l.damaged, encode_lots(l.lots)}));
      returns.push_back(json::array(
          {x.id, as_int(x.status), x.created_at, x.updated_at, x.reject_reason,
           x.refund_amount, x.refund_key, x.client_key, x.fingerprint, lines}));
    }
    j["returns"] = std::move(returns);
  }
  if (!r.shipments.empty()) {
    json shipments = json::array();
    for (auto& s : r.shipments) {
      json lines = json::array();
      for (auto& l : s.lines)
        lines.push_back(json::array({l.sku, l.quantity, encode_lots(l.lots)}));
      shipments.push_back(json::array({s.id, s.at, s.carrier, s.tracking_number,
                                       s.client_key, s.fingerprint, lines}));
    }
    j["shipments"] = std::move(shipments);
  }
  return j.dump();
}

bool decode_record(std::string_view text, order_record& r) {
  auto j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return false;
  try {
    if (whole<int>(j.at("v")) != 1)
      return false;
    r = order_record{};
    r.id = j.at("id").get<std::string>();
    r.customer = j.at("customer").get<std::string>();
    r.seller = code_of(j.at("seller"), seller::external);
    for (auto& l : j.at("lines")) {
      r.lines.push_back(order_line{l.at(0).get<std::string>(),
                                   whole<int64_t>(l.at(1)),
                                   whole<money>(l.at(2)),
                                   whole<int64_t>(l.at(3)),
                                   whole<int64_t>(l.at(4)),
                                   {}});
      if (l.size() > 5 && !decode_lots(l.at(5), r.lines.back().lots))
        return false;
    }
    auto& a = j.at("address");
    r.ship_to = address{a.at(0).get<std::string>(), a.at(1).get<std::string>(),
                        a.at(2).get<std::string>(), a.at(3).get<std::string>(),
                        a.at(4).get<std::string>()};
    r.status = code_of(j.at("status"), last_order_status);
    r.total_amount = whole<money>(j.at("total"));
    r.paid_amount = whole<money>(j.at("paid"));
    r.refunded_amount = whole<money>(j.at("refunded"));
    r.payment_reference = j.at("paymentRef").get<std::string>();
    r.cancel_reason = j.at("cancelReason").get<std::string>();
    r.created_at = whole<timestamp_ms>(j.at("createdAt"));
    r.updated_at = whole<timestamp_ms>(j.at("updatedAt"));
    r.hold_expires_at = whole<timestamp_ms>(j.at("holdExpiresAt"));
    for (auto& h : j.at("history"))
      r.history.push_back(history_entry{
          whole<timestamp_ms>(h.at(0)), code_of(h.at(1), last_order_status),
          code_of(h.at(2), last_order_status), h.at(3).get<std::string>(),
          whole<money>(h.at(4))});
    for (auto& p : j.at("payments"))
      r.payments.push_back(payment_record{
          code_of(p.at(0), payment_kind::refund), p.at(1).get<std::string>(),
          whole<money>(p.at(2)), code_of(p.at(3), payment_status::failed),
          p.at(4).get<std::string>(), p.at(5).get<std::string>(),
          whole<timestamp_ms>(p.at(6)), p.at(7).get<std::string>(),
          p.at(8).get<std::string>()});
    r.idempotency_key = j.at("key").get<std::string>();
    r.request_fingerprint = j.at("fingerprint").get<std::string>();
    if (auto sh = j.find("shipments"); sh != j.end())
      for (auto& s : *sh) {
        shipment out{s.at(0).get<std::string>(),
                     whole<timestamp_ms>(s.at(1)),
                     {},
                     s.at(2).get<std::string>(),
                     s.at(3).get<std::string>(),
                     s.at(4).get<std::string>(),
                     s.at(5).get<std::string>()};
        for (auto& l : s.at(6)) {
          out.lines.push_back(shipped_line{
              l.at(0).get<std::string>(), whole<int64_t>(l.at(1)), {}});
          if (!decode_lots(l.at(2), out.lines.back().lots))
            return false;
        }
        r.shipments.push_back(std::move(out));
      }
    if (auto rs = j.find("returns"); rs != j.end())
      for (auto& x : *rs) {
        order_return out;
        out.id = x.at(0).get<std::string>();
        out.status = code_of(x.at(1), last_return_status);
        out.created_at = whole<timestamp_ms>(x.at(2));
        out.updated_at = whole<timestamp_ms>(x.at(3));
        out.reject_reason = x.at(4).get<std::string>();
        out.refund_amount = whole<money>(x.at(5));
        out.refund_key = x.at(6).get<std::string>();
        out.client_key = x.at(7).get<std::string>();
        out.fingerprint = x.at(8).get<std::string>();
        for (auto& l : x.at(9)) {
          return_line line{l.at(0).get<std::string>(), whole<int64_t>(l.at(1)),
                           l.at(2).get<std::string>(), {},
                           whole<int64_t>(l.at(3)),    whole<int64_t>(l.at(4))};
          if (!decode_lots(l.at(5), line.lots))
            return false;
          out.lines.push_back(std::move(line));
        }
        r.returns.push_back(std::move(out));
      }
    if (auto v = j.find("version"); v != j.end()) {
      auto version = whole<int64_t>(*v);
      if (version < 0)
        return false;
      r.version = static_cast<uint64_t>(version);
    }
  } catch (const json::exception&) {
    return false;
  } catch (const undecodable&) {
    return false;
  }
  return true;
}

std::string encode_customer(const customer_record& rec) {
  return json{{"id", rec.id},
              {"name", rec.name},
              {"tokenHash", rec.token_hash},
              {"createdAt", rec.created_at}}
      .dump();
}

bool decode_customer(std::string_view text, customer_record& out) {
  auto j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return false;
  try {
    out.id = j.at("id").get<std::string>();
    out.name = j.at("name").get<std::string>();
    out.token_hash = j.at("tokenHash").get<std::string>();
    out.created_at = whole<timestamp_ms>(j.at("createdAt"));
  } catch (const json::exception&) {
    return false;
  } catch (const undecodable&) {
    return false;
  }
  return true;
}

} // namespace oms
