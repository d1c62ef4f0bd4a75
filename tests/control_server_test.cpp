// The control socket's file on a real directory: what a daemon creates, serves and removes,
// and what it leaves alone (another daemon's socket at the same path, directories it made
// for a socket that never came up).
#include "daemon/observe/control_server.hpp"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>

#include "tests/temporary_directory.hpp"

namespace fnft::daemon {
namespace {

using testing::HasSubstr;

ControlServer::Report answering(std::string text) {
  return [text](ControlServer::Reply reply) { reply(text); };
}

// The first bytes a client connecting to `path` reads, or "" when nothing answers there.
std::string first_words_at(boost::asio::io_context& io, const std::string& path) {
  namespace local = boost::asio::local;
  local::stream_protocol::socket client(io);
  boost::system::error_code error;
  client.connect(local::stream_protocol::endpoint(path), error);
  if (error) return {};
  io.restart();
  io.poll();  // the server accepts and writes
  char buffer[64] = {};
  const std::size_t got = client.read_some(boost::asio::buffer(buffer), error);
  return std::string(buffer, got);
}

TEST(ControlServerTest, LeavesTheSocketOfADaemonThatReplacedItsOwn) {
  const testing_support::TemporaryDirectory dir("fnft-control");
  const std::string path = (dir.path() / "control.sock").string();
  boost::asio::io_context io;
  auto first = std::make_unique<ControlServer>(io, path, answering("first"));
  first->start();
  // What a second daemon (another namespace, same path) does once the first stops answering:
  // the file is replaced by one of its own.
  ASSERT_EQ(::unlink(path.c_str()), 0);
  ControlServer second(io, path, answering("second"));
  second.start();
  first.reset();
  EXPECT_TRUE(std::filesystem::exists(path)) << "the first daemon removed the second's socket";
  EXPECT_EQ(first_words_at(io, path), "second\n");
}

TEST(ControlServerTest, RemovesItsOwnSocketWhenItStops) {
  const testing_support::TemporaryDirectory dir("fnft-control");
  const std::string path = (dir.path() / "control.sock").string();
  boost::asio::io_context io;
  {
    ControlServer server(io, path, answering("ours"));
    server.start();
    EXPECT_EQ(first_words_at(io, path), "ours\n");
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(ControlServerTest, APathTooLongForASocketIsNamedAndCreatesNothing) {
  const testing_support::TemporaryDirectory dir("fnft-control");
  const std::filesystem::path parent = dir.path() / "run" / std::string(120, 'd');
  const std::string path = (parent / "control.sock").string();
  boost::asio::io_context io;
  ControlServer server(io, path, answering("never"));
  try {
    server.start();
    FAIL() << "bound " << path;
  } catch (const std::runtime_error& error) {
    EXPECT_THAT(error.what(), HasSubstr(path));
    EXPECT_THAT(error.what(), HasSubstr("longer than a Unix socket's path may be (107)"));
    EXPECT_THAT(error.what(), HasSubstr("--control-socket"));
  }
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "run")) << "a directory was left behind";
}

TEST(ControlServerTest, AFileInTheWayIsNamedAndKept) {
  const testing_support::TemporaryDirectory dir("fnft-control");
  const std::string path = (dir.path() / "control.sock").string();
  ASSERT_EQ(::close(::creat(path.c_str(), 0600)), 0);
  boost::asio::io_context io;
  ControlServer server(io, path, answering("never"));
  try {
    server.start();
    FAIL() << "bound " << path;
  } catch (const std::runtime_error& error) {
    EXPECT_THAT(error.what(), HasSubstr(path + " exists and is not a socket"));
  }
  EXPECT_TRUE(std::filesystem::is_regular_file(path)) << "not ours to remove";
}

}  // namespace
}  // namespace fnft::daemon
