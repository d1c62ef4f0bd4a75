// Children on the reactor: input in, output out, exit code back, a timeout that kills, and
// the reactor turning meanwhile. Only the system's programs are run, whatever PATH says.
#include "daemon/process/async_child.hpp"

#include <gtest/gtest.h>

#include <boost/asio/steady_timer.hpp>
#include <cstdlib>
#include <optional>
#include <system_error>

#include "daemon/process/system_programs.hpp"

namespace fnft::daemon {
namespace {

using namespace std::chrono_literals;

ChildResult run_on_reactor(const std::vector<std::string>& argv, std::string input,
                           std::chrono::milliseconds timeout = 5s) {
  boost::asio::io_context io;
  std::optional<ChildResult> result;
  AsyncChild::start(io, argv, std::move(input), timeout,
                    [&](ChildResult done) { result = std::move(done); });
  io.run();
  EXPECT_TRUE(result.has_value());
  return result.value_or(ChildResult{});
}

TEST(AsyncChild, FeedsInputAndCollectsOutput) {
  const std::string big(1 << 20, 'x');  // more than a pipe holds: both ends must be driven
  const ChildResult result = run_on_reactor({"cat"}, big);
  EXPECT_TRUE(result.ok());
  EXPECT_EQ(result.out.size(), big.size());
  EXPECT_GT(result.pid, 0);
}

TEST(AsyncChild, ReportsTheExitCodeAndStderr) {
  const ChildResult result = run_on_reactor({"ls", "/no/such/path"}, "");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("/no/such/path"), std::string::npos) << result.err;
  EXPECT_EQ(result.describe({"ls", "/no/such/path"}).rfind("ls /no/such/path exited 2: ", 0), 0u);
}

TEST(AsyncChild, KillsAChildThatOutlivesItsTimeout) {
  const auto started = std::chrono::steady_clock::now();
  const ChildResult result = run_on_reactor({"sleep", "30"}, "", 100ms);
  EXPECT_TRUE(result.timed_out);
  EXPECT_EQ(result.exit_code, -1);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
}

TEST(AsyncChild, TheReactorTurnsWhileAChildRuns) {
  boost::asio::io_context io;
  boost::asio::steady_timer timer(io, 20ms);
  bool timer_fired_first = false;
  bool child_done = false;
  timer.async_wait([&](const boost::system::error_code&) { timer_fired_first = !child_done; });
  AsyncChild::start(io, {"sleep", "0.3"}, "", 5s, [&](ChildResult) { child_done = true; });
  io.run();
  EXPECT_TRUE(child_done);
  EXPECT_TRUE(timer_fired_first);
}

// ip6tables-nft-save writes its tables to stdout and a warning about iptables-legacy to
// stderr: whenever both pipes have bytes waiting, each read must keep its own.
TEST(AsyncChild, OutputAndErrorsWrittenTogetherStayApart) {
  const ChildResult result = run_on_reactor(
      {"sh", "-c", "i=0; while [ $i -lt 5000 ]; do echo out$i; echo err$i >&2; i=$((i+1)); done"},
      "");
  ASSERT_TRUE(result.ok()) << result.err.substr(0, 200);
  std::string out, err;
  for (int i = 0; i < 5000; ++i) {
    out += "out" + std::to_string(i) + "\n";
    err += "err" + std::to_string(i) + "\n";
  }
  EXPECT_TRUE(result.out == out) << "stdout starts: " << result.out.substr(0, 200);
  EXPECT_TRUE(result.err == err) << "stderr starts: " << result.err.substr(0, 200);
}

TEST(AsyncChild, AProgramThatIsNotInstalledIsAnError) {
  boost::asio::io_context io;
  try {
    AsyncChild::start(io, {"no-such-program-fnft"}, "", 1s, [](ChildResult) {});
    FAIL() << "started a program that does not exist";
  } catch (const std::system_error& error) {
    EXPECT_EQ(error.code().value(), ENOENT);
    EXPECT_NE(std::string(error.what()).find("not found in /usr/sbin:/usr/bin:/sbin:/bin"),
              std::string::npos);
  }
}

TEST(SystemPrograms, AreFoundInTheSystemDirectoriesNotInPath) {
  ::setenv("PATH", "/nonexistent", 1);
  EXPECT_EQ(find_system_program("ls").value_or("").rfind("/usr/bin/ls", 0) == 0 ||
                find_system_program("ls").value_or("") == "/bin/ls",
            true);
  EXPECT_EQ(find_system_program("no-such-program-fnft"), std::nullopt);
  // A child sees the fixed environment, not ours.
  const ChildResult result = run_on_reactor({"env"}, "");
  EXPECT_EQ(result.out, "PATH=/usr/sbin:/usr/bin:/sbin:/bin\nLC_ALL=C\n");
}

}  // namespace
}  // namespace fnft::daemon
