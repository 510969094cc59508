// One connection of the HTTP server (server.hpp): reads each request's
// header and body within the limits, hands it to the handler, writes the
// answer (or a stream's pieces) and keeps the connection alive or closes it.
#include <array>
#include <cctype>
#include <optional>
#include <string_view>
#include <utility>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http.hpp>

#include "system/http/reason_phrase.hpp"
#include "system/http/server_parts.hpp"
#include "system/log.hpp"

namespace oms::http {

namespace bhttp = boost::beast::http;

body_stream::~body_stream() = default;

namespace {

// The answer the server gives by itself, in the API's error shape. The
// messages are fixed text of ours: nothing to escape.
std::string error_body(std::string_view code, std::string_view message) {
  std::string body = R"({"error":{"code":")";
  body += code;
  body += R"(","message":")";
  body += message;
  body += R"(","details":{}}})";
  return body;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i) {
    auto x = static_cast<unsigned char>(a[i]);
    auto y = static_cast<unsigned char>(b[i]);
    if (std::tolower(x) != std::tolower(y))
      return false;
  }
  return true;
}

// Longest wait, after the last answer on a connection that closes, for the
// client to stop sending (so that the close does not reset the connection
// before the answer is read), and most bytes read and dropped meanwhile.
constexpr auto linger_time = std::chrono::seconds(2);
constexpr size_t linger_bytes = 256 * 1024;

// The answer on the wire: status line, header fields and body in one buffer
// (one write, no serializer).
std::string serialize(const response& resp, unsigned version, bool close,
                      bool head) {
  std::string out;
  out.reserve(160 + resp.body.size());
  out += version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  out += std::to_string(resp.status);
  out += ' ';
  out += reason_phrase(resp.status);
  out += "\r\nContent-Type: ";
  out += resp.content_type;
  out += "\r\nCache-Control: ";
  out += resp.cache_control;
  out += "\r\n";
  for (auto& [name, value] : resp.headers) {
    // A line break in a field would start a field (or an answer) of its
    // own: such a field is dropped, whoever made it.
    if (name.find_first_of("\r\n") != std::string::npos ||
        value.find_first_of("\r\n") != std::string::npos)
      continue;
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  if (close)
    out += "Connection: close\r\n";
  else if (version == 10)
    out += "Connection: keep-alive\r\n";
  if (resp.stream) {
    // The body ends when the connection closes; a proxy is asked not to
    // hold pieces back.
    out += "X-Accel-Buffering: no\r\n\r\n";
    return out;
  }
  if (resp.status == 304) {
    out += "\r\n";
    return out;
  }
  out += "Content-Length: ";
  out += std::to_string(resp.body.size());
  out += "\r\n\r\n";
  if (!head)
    out += resp.body;
  return out;
}

class session : public std::enable_shared_from_this<session> {
 public:
  session(socket_t&& socket, std::shared_ptr<detail::listener> owner)
      : stream_(std::move(socket)),
        buffer_(owner->limits.header_bytes_max + 4096),
        owner_(std::move(owner)) {}

  ~session() {
    if (reserved_ > 0)
      owner_->release(reserved_);
    owner_->session_ended();
  }

  void start() {
    asio::dispatch(stream_.get_executor(),
                   [self = shared_from_this()] { self->read_header(); });
  }

 private:
  const server_limits& limits() const { return owner_->limits; }

  void read_header() {
    head_parser_.emplace();
    head_parser_->header_limit(
        static_cast<std::uint32_t>(limits().header_bytes_max));
    body_parser_.reset();
    close_after_ = false;
    head_ = false;
    stream_.expires_after(limits().idle_timeout);
    bhttp::async_read_header(
        stream_, buffer_, *head_parser_,
        [self = shared_from_this()](const error_code& ec, size_t) {
          self->on_header(ec);
        });
  }

  void on_header(const error_code& ec) {
    if (ec)
      return on_header_error(ec);
    stream_.expires_never();
    auto& msg = head_parser_->get();
    version_ = msg.version();
    keep_alive_ = msg.keep_alive();
    if (msg.version() >= 20)
      return refuse(505, "HTTP_VERSION_NOT_SUPPORTED",
                    "only HTTP/1.0 and HTTP/1.1 are served");
    if (msg.method() == bhttp::verb::unknown)
      return refuse(501, "NOT_IMPLEMENTED", "the method is not implemented");
    auto target = msg.target();
    if (target.size() > limits().url_bytes_max)
      return refuse(414, "URI_TOO_LONG", "the request target is too long");

    request head;
    head_ = msg.method() == bhttp::verb::head;
    head.head = head_;
    head.method = head_ ? std::string{"GET"} : std::string{msg.method_string()};
    auto q = target.find('?');
    head.path = std::string{target.substr(0, q)};
    if (q != std::string_view::npos)
      head.query = std::string{target.substr(q + 1)};
    head.authorization = std::string{msg[bhttp::field::authorization]};
    head.accept = std::string{msg[bhttp::field::accept]};
    head.last_event_id = std::string{msg["Last-Event-ID"]};
    head.if_match = std::string{msg[bhttp::field::if_match]};
    head.if_none_match = std::string{msg[bhttp::field::if_none_match]};
    head.idempotency_key = std::string{msg["Idempotency-Key"]};
    auto length = head_parser_->content_length();
    bool chunked = head_parser_->chunked();
    // A body whose length cannot be told for sure is refused (RFC 9112
    // 6.3): a Transfer-Encoding other than chunked, or beside a
    // Content-Length (the way requests are smuggled past proxies).
    if (msg.count(bhttp::field::transfer_encoding) > 0 &&
        (!chunked || msg.count(bhttp::field::content_length) > 0))
      return refuse(400, "MALFORMED_REQUEST",
                    "Transfer-Encoding must be chunked alone, without "
                    "Content-Length");
    if (length)
      head.content_length = *length;
    head.has_body = chunked || (length && *length > 0);
    bool expects_continue = iequals(msg[bhttp::field::expect], "100-continue");
    bool has_body = head.has_body;

    awaiting_answer_ = true;
    // Answered without the body (perhaps at once, inside the handler), the
    // connection cannot carry another request: the body is left unread.
    close_after_ = has_body;
    auto sink = owner_->handler(std::move(head), responder());
    if (!sink)
      return;
    close_after_ = false;
    if (!has_body)
      return sink(std::string{}, body_outcome::read);
    if (length && *length > limits().body_bytes_max) {
      close_after_ = true;
      return sink(std::string{}, body_outcome::too_large);
    }
    auto want = length ? *length : limits().body_bytes_max;
    if (!owner_->reserve(want)) {
      close_after_ = true;
      return sink(std::string{}, body_outcome::no_memory);
    }
    reserved_ = want;
    sink_ = std::move(sink);
    if (!expects_continue)
      return read_body();
    static constexpr std::string_view go_on = "HTTP/1.1 100 Continue\r\n\r\n";
    stream_.expires_after(limits().body_timeout);
    asio::async_write(
        stream_, asio::buffer(go_on.data(), go_on.size()),
        [self = shared_from_this()](const error_code& ec, size_t) {
          if (ec)
            return self->body_failed(false);
          self->read_body();
        });
  }

  void on_header_error(const error_code& ec) {
    if (ec == bhttp::error::header_limit ||
        ec == bhttp::error::buffer_overflow) {
      // Beast reads the request line first: if it is in, the header fields
      // after it are too large (431); if not, the line is (414).
      auto target = head_parser_->get().target();
      if (target.empty() || target.size() > limits().url_bytes_max)
        return refuse(414, "URI_TOO_LONG", "the request target is too long");
      return refuse(431, "HEADERS_TOO_LARGE",
                    "the request header fields are too large");
    }
    if (ec == bhttp::error::bad_version && names_other_version())
      return refuse(505, "HTTP_VERSION_NOT_SUPPORTED",
                    "only HTTP/1.0 and HTTP/1.1 are served");
    if (ec == bhttp::error::bad_content_length ||
        ec == bhttp::error::multiple_content_length)
      return refuse(400, "MALFORMED_REQUEST",
                    "Content-Length is malformed or repeated");
    if (ec == bhttp::error::bad_transfer_encoding)
      return refuse(400, "MALFORMED_REQUEST",
                    "Transfer-Encoding must be chunked alone, without "
                    "Content-Length");
    if (ec == bhttp::error::bad_method || ec == bhttp::error::bad_target ||
        ec == bhttp::error::bad_version)
      return refuse(400, "MALFORMED_REQUEST", "the request line is malformed");
    if (ec == bhttp::error::bad_field || ec == bhttp::error::bad_value ||
        ec == bhttp::error::bad_line_ending || ec == bhttp::error::bad_obs_fold)
      return refuse(400, "MALFORMED_REQUEST",
                    "a header field is malformed (names are tokens; values "
                    "hold no control bytes)");
    // The client went away, stopped mid-header, or idled past the timeout:
    // nobody to answer.
    close();
  }

  // The request line read so far ends in a well-formed version other than
  // HTTP/1.0 and 1.1 ("HTTP/2.0").
  bool names_other_version() const {
    auto data = buffer_.cdata();
    std::string_view seen{static_cast<const char*>(data.data()), data.size()};
    auto eol = seen.find("\r\n");
    if (eol == std::string_view::npos || eol < 9)
      return false;
    auto v = seen.substr(eol - 9, 9);
    auto digit = [](char ch) {
      return ch >= '0' && ch <= '9';
    };
    return v.substr(0, 6) == " HTTP/" && digit(v[6]) && v[7] == '.' &&
           digit(v[8]);
  }

  // Answers a request the server refuses by itself, and closes.
  void refuse(int status, std::string_view code, std::string_view message) {
    ++owner_->stats.malformed;
    log::warn("http.refused", {{"status", status},
                               {"code", std::string{code}},
                               {"message", std::string{message}}});
    close_after_ = true;
    awaiting_answer_ = true;
    response resp;
    resp.status = status;
    resp.body = error_body(code, message);
    answer(std::move(resp));
  }

  void read_body() {
    body_parser_.emplace(std::move(*head_parser_));
    body_parser_->body_limit(limits().body_bytes_max);
    stream_.expires_after(limits().body_timeout);
    reading_body_ = true;
    bhttp::async_read(stream_, buffer_, *body_parser_,
                      [self = shared_from_this()](
                          const error_code& ec, size_t) { self->on_body(ec); });
  }

  void on_body(const error_code& ec) {
    reading_body_ = false;
    stream_.expires_never();
    if (ec)
      return body_failed(ec == bhttp::error::body_limit);
    auto sink = std::move(sink_);
    sink(std::move(body_parser_->get().body()), body_outcome::read);
    after_body();
  }

  void body_failed(bool too_large) {
    reading_body_ = false;
    close_after_ = true;
    auto sink = std::move(sink_);
    sink(std::string{},
         too_large ? body_outcome::too_large : body_outcome::incomplete);
    after_body();
  }

  // An answer that came while the body was still being read goes now.
  void after_body() {
    if (early_answer_) {
      auto resp = std::move(*early_answer_);
      early_answer_.reset();
      answer(std::move(resp));
    }
  }

  // The one way the handler answers: from any thread, once.
  respond responder() {
    auto self = shared_from_this();
    auto once = std::make_shared<std::atomic<bool>>(false);
    return [self, once](response resp) {
      if (once->exchange(true))
        return;
      // On the connection's strand already (an answer decided at once),
      // it is written now; from another thread, it is queued there.
      asio::dispatch(self->stream_.get_executor(),
                     [self, resp = std::move(resp)]() mutable {
                       self->answer(std::move(resp));
                     });
    };
  }

  void answer(response resp) {
    if (!awaiting_answer_)
      return;
    if (reading_body_) {
      // Not before the body is in: the answer would cross it.
      close_after_ = true;
      early_answer_ = std::move(resp);
      return;
    }
    awaiting_answer_ = false;
    bool close = resp.close || close_after_ || !keep_alive_ ||
                 owner_->stopping.load() || resp.stream != nullptr;
    out_ = serialize(resp, version_, close, head_);
    if (resp.stream) {
      if (head_)
        resp.stream->cancel();
      else
        stream_body_ = std::move(resp.stream);
    }
    stream_.expires_after(limits().body_timeout);
    asio::async_write(
        stream_, asio::buffer(out_),
        [self = shared_from_this(), close](const error_code& ec, size_t) {
          self->on_written(ec, close);
        });
  }

  void on_written(const error_code& ec, bool close_now) {
    out_.clear();
    if (reserved_ > 0) {
      owner_->release(reserved_);
      reserved_ = 0;
    }
    if (ec) {
      end_stream();
      return close();
    }
    if (stream_body_) {
      if (!watching_) {
        watching_ = true;
        watch_client();
      }
      return next_piece();
    }
    if (close_now)
      return linger();
    read_header();
  }

  // -- a body sent in pieces (response::stream) -------------------------------

  // Asks the stream for its next piece; writes it on this connection's
  // strand when it comes.
  void next_piece() {
    stream_.expires_never();
    auto self = shared_from_this();
    auto once = std::make_shared<std::atomic<bool>>(false);
    stream_body_->next([self, once](std::optional<std::string> piece) {
      if (once->exchange(true))
        return;
      asio::dispatch(self->stream_.get_executor(),
                     [self, piece = std::move(piece)]() mutable {
                       self->write_piece(std::move(piece));
                     });
    });
  }

  void write_piece(std::optional<std::string> piece) {
    if (!stream_body_)
      return; // the client went away meanwhile
    if (!piece) {
      // The body is whole: the watch's read, cancelled, closes.
      stream_body_.reset();
      error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      stream_.socket().cancel(ignored);
      return;
    }
    out_ = std::move(*piece);
    stream_.expires_after(limits().body_timeout);
    asio::async_write(
        stream_, asio::buffer(out_),
        [self = shared_from_this()](const error_code& ec, size_t) {
          self->on_written(ec, true);
        });
  }

  // Reads (and drops) what the client sends while the body streams: the
  // read fails when the client closes, which ends the stream at once rather
  // than at the next piece's write.
  void watch_client() {
    stream_.socket().async_read_some(
        asio::buffer(scratch_),
        [self = shared_from_this()](const error_code& ec, size_t) {
          if (!ec)
            return self->watch_client();
          self->end_stream();
          self->close();
        });
  }

  void end_stream() {
    if (auto body = std::move(stream_body_))
      body->cancel();
  }

  // Stops sending, then reads and drops what the client still sends (a
  // body left unread) for a short while before closing, so that the close
  // does not reset the connection under the answer.
  void linger() {
    error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(linger_time);
    drain_some();
  }

  void drain_some() {
    stream_.async_read_some(
        asio::buffer(scratch_),
        [self = shared_from_this()](const error_code& ec, size_t n) {
          self->lingered_ += n;
          if (ec || self->lingered_ >= linger_bytes)
            return self->close();
          self->drain_some();
        });
  }

  void close() {
    error_code ignored;
    stream_.socket().close(ignored);
  }

  stream_t stream_;
  beast::flat_buffer buffer_;
  std::shared_ptr<detail::listener> owner_;
  std::optional<bhttp::request_parser<bhttp::empty_body>> head_parser_;
  std::optional<bhttp::request_parser<bhttp::string_body>> body_parser_;
  std::string out_;
  std::optional<response> early_answer_;
  std::shared_ptr<body_stream> stream_body_;
  bool watching_ = false;
  body_sink sink_;
  uint64_t reserved_ = 0;
  unsigned version_ = 11;
  bool keep_alive_ = true;
  bool head_ = false;
  bool close_after_ = false;
  bool reading_body_ = false;
  bool awaiting_answer_ = false;
  size_t lingered_ = 0;
  std::array<char, 4096> scratch_{};
};

} // namespace

void detail::start_session(socket_t socket, std::shared_ptr<listener> owner) {
  std::make_shared<session>(std::move(socket), std::move(owner))->start();
}

} // namespace oms::http
