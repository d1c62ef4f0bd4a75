#include "daemon/observe/http_server.hpp"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <memory>
#include <stdexcept>

namespace fnft::daemon {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

// A scrape or a probe sends a few hundred bytes and waits for the answer.
constexpr std::chrono::seconds kRequestTimeout{5};
constexpr std::uint32_t kMaxHeaderBytes = 8192;

}  // namespace

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket socket, const HttpServer::Handler& handle)
      : stream_(std::move(socket)), handle_(handle) {
    parser_.header_limit(kMaxHeaderBytes);
    parser_.body_limit(0);
  }

  // Ends the connection now; its pending operations complete with an error.
  void close() {
    beast::error_code ignored;
    stream_.socket().close(ignored);
  }

  void start() {
    stream_.expires_after(kRequestTimeout);
    http::async_read(
        stream_, buffer_, parser_,
        [self = shared_from_this()](beast::error_code error, std::size_t) { self->read(error); });
  }

 private:
  void read(beast::error_code error) {
    if (error) return;  // timed out, closed, too big: the socket goes with us
    const auto& request = parser_.get();
    HttpResponse answer;
    if (request.method() != http::verb::get && request.method() != http::verb::head) {
      answer = {405, "text/plain; charset=utf-8", "only GET is served\n"};
    } else {
      answer = handle_(std::string(request.target()));
    }
    response_.result(answer.status);
    response_.version(request.version());
    response_.set(http::field::content_type, answer.content_type);
    response_.set(http::field::server, "flannel-nftd");
    response_.keep_alive(false);
    if (request.method() != http::verb::head) response_.body() = std::move(answer.body);
    response_.prepare_payload();
    http::async_write(stream_, response_,
                      [self = shared_from_this()](beast::error_code, std::size_t) {
                        beast::error_code ignored;
                        self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
                      });
  }

  beast::tcp_stream stream_;
  const HttpServer::Handler& handle_;
  beast::flat_buffer buffer_;
  http::request_parser<http::empty_body> parser_;
  http::response<http::string_body> response_;
};

HttpServer::HttpServer(boost::asio::io_context& io, Handler handle)
    : handle_(std::move(handle)), acceptor_(io), retry_(io) {}

void HttpServer::start(const tcp::endpoint& endpoint) {
  boost::system::error_code error;
  acceptor_.open(endpoint.protocol(), error);
  if (!error) acceptor_.set_option(tcp::acceptor::reuse_address(true), error);
  if (!error) acceptor_.bind(endpoint, error);
  if (!error) acceptor_.listen(64, error);
  if (error) {
    throw std::runtime_error("cannot listen on " + endpoint.address().to_string() + ":" +
                             std::to_string(endpoint.port()) + ": " + error.message() +
                             " (another process on that port? choose another --metrics-address, "
                             "or off)");
  }
  accept();
}

void HttpServer::adopt(int listening_fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof(address);
  ::getsockname(listening_fd, reinterpret_cast<sockaddr*>(&address), &length);
  acceptor_.assign(address.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), listening_fd);
  accept();
}

void HttpServer::accept() {
  acceptor_.async_accept([this](const boost::system::error_code& error, tcp::socket socket) {
    if (error == boost::asio::error::operation_aborted) return;
    if (!error) {
      serve(std::move(socket));
      accept();
      return;
    }
    // Out of file descriptors, most likely: the pending connection stays in the backlog and
    // the acceptor would report it again at once.
    spdlog::debug("metrics: accept failed: {}", error.message());
    retry_.expires_after(std::chrono::milliseconds(100));
    retry_.async_wait([this](const boost::system::error_code& wait_error) {
      if (!wait_error) accept();
    });
  });
}

void HttpServer::serve(tcp::socket socket) {
  std::erase_if(sessions_,
                [](const std::weak_ptr<HttpSession>& session) { return session.expired(); });
  while (sessions_.size() >= kMaxConnections) {
    if (const auto oldest = sessions_.front().lock()) oldest->close();
    sessions_.pop_front();
  }
  auto session = std::make_shared<HttpSession>(std::move(socket), handle_);
  sessions_.push_back(session);
  session->start();
}

tcp::endpoint parse_listen_address(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon + 1 == text.size()) {
    throw std::invalid_argument("\"" + text + "\" is not ADDRESS:PORT (e.g. 127.0.0.1:9478)");
  }
  std::string host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  boost::system::error_code error;
  const auto address = boost::asio::ip::make_address(host, error);
  if (error) throw std::invalid_argument("\"" + host + "\" is not an IP address");
  const std::string port_text = text.substr(colon + 1);
  unsigned long port = 0;
  try {
    // stoul takes "+80", " 80" and "-1" (as a huge number): a port is digits only.
    if (port_text.find_first_not_of("0123456789") != std::string::npos)
      throw std::invalid_argument(port_text);
    std::size_t used = 0;
    port = std::stoul(port_text, &used);
    if (used != port_text.size()) throw std::invalid_argument(port_text);
  } catch (const std::exception&) {
    throw std::invalid_argument("\"" + port_text + "\" is not a port number");
  }
  if (port == 0 || port > 65535)
    throw std::invalid_argument("port " + port_text + " is out of range");
  return {address, static_cast<unsigned short>(port)};
}

}  // namespace fnft::daemon
