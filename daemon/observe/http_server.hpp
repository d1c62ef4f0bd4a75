// A small HTTP/1.1 server for /metrics, /healthz and /readyz, on the reactor (Boost.Beast):
// one request per connection, GET only, bounded in size and time, so a slow or hostile client
// costs a socket and a timer, never the reactor.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <functional>
#include <memory>
#include <string>

namespace fnft::daemon {

class HttpSession;

struct HttpResponse {
  unsigned status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

class HttpServer {
 public:
  // `handle` answers a GET of `target` (path and query), on the reactor.
  using Handler = std::function<HttpResponse(const std::string& target)>;

  // Connections served at once. Any local user can connect: past this many, a new
  // connection closes the oldest one still open, so a flood can cost neither the file
  // descriptors the repairs need (pipes for the iptables tools) nor a probe its answer for
  // longer than the flood lasts.
  static constexpr std::size_t kMaxConnections = 128;

  HttpServer(boost::asio::io_context& io, Handler handle);

  // Listens on `endpoint`. Throws std::runtime_error naming the address and what to do.
  void start(const boost::asio::ip::tcp::endpoint& endpoint);
  // Serves on a listening socket someone else made (systemd's socket activation).
  void adopt(int listening_fd);
  boost::asio::ip::tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }

 private:
  void accept();
  void serve(boost::asio::ip::tcp::socket socket);

  Handler handle_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_;  // after a failed accept (EMFILE): never a busy loop
  std::deque<std::weak_ptr<HttpSession>> sessions_;  // oldest first
};

// "127.0.0.1:9478", "[::1]:9478", "0.0.0.0:9478": the address and port to listen on.
// Throws UsageError-worthy std::invalid_argument for anything else.
boost::asio::ip::tcp::endpoint parse_listen_address(const std::string& text);

}  // namespace fnft::daemon
