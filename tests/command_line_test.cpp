// The command line as a user types it: values Program_options parses but the daemon cannot
// use (nan, inf, 1e300, a 64-bit count of seconds, "+80" as a port), stray words, and the
// configuration flags every verb shares. Each bad input is one line on stderr and exit 2,
// before anything touches the kernel, so these run without privileges.
#include <gmock/gmock.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "daemon/process/child_process.hpp"

namespace fnft::daemon {
namespace {

using testing::HasSubstr;

// Run as root (the test command is), a regression that accepted a bad input would act: it
// runs in a network namespace of its own, never the machine's, with no lease to apply.
ChildResult flannel_nftd(std::vector<std::string> args) {
  if (args.front() == "run") args.emplace_back("--control-socket=off");
  args.insert(args.begin(), FNFT_BINARY);
  if (::geteuid() == 0) args.insert(args.begin(), {"unshare", "--net"});
  return run_child(args, "", std::chrono::seconds(10));
}

std::size_t lines(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

struct BadInput {
  std::vector<std::string> args;
  std::string says;  // what the one line must contain
};

TEST(CommandLine, ValuesOutOfRangeAreOneLineAndExitTwo) {
  const std::vector<BadInput> cases = {
      {{"run", "--iptables-resync=nan"}, "--iptables-resync: nan is out of range"},
      {{"run", "--iptables-resync=inf"}, "--iptables-resync: inf is out of range"},
      {{"run", "--iptables-resync=1e300"}, "--iptables-resync: 1e+300 is out of range"},
      {{"run", "--iptables-resync=0.01"}, "expected a number from 0.1 to 86400 seconds"},
      {{"run", "--resync-period=9223372036854775807"}, "--resync-period: "},
      {{"run", "--resync-period=0"}, "--resync-period: 0 is out of range"},
      {{"run", "--repair-rate=nan"}, "--repair-rate: nan is out of range"},
      {{"run", "--repair-rate=-1"}, "--repair-rate: -1 is out of range"},
      {{"run", "--repair-burst=nan"}, "--repair-burst: nan is out of range"},
      {{"run", "--repair-burst=inf"}, "--repair-burst: inf is out of range"},
      {{"run", "--health-out-of-sync=9223372036854775807"}, "--health-out-of-sync: "},
      {{"run", "--metrics-address=127.0.0.1:+80"}, "\"+80\" is not a port number"},
      {{"run", "--metrics-address=127.0.0.1:-1"}, "\"-1\" is not a port number"},
      {{"run", "--metrics-address=127.0.0.1: 80"}, "\" 80\" is not a port number"},
  };
  for (const auto& bad : cases) {
    const ChildResult result = flannel_nftd(bad.args);
    EXPECT_EQ(result.exit_code, 2) << bad.args[1] << ": " << result.err;
    EXPECT_THAT(result.err, HasSubstr(bad.says)) << bad.args[1];
    EXPECT_EQ(lines(result.err), 1U) << bad.args[1] << ": " << result.err;
    EXPECT_EQ(result.out, "") << bad.args[1];
  }
}

TEST(CommandLine, StrayWordsAreRefusedByEveryVerb) {
  for (const char* verb : {"run", "apply", "cleanup", "dump", "status", "doctor"}) {
    const ChildResult result = flannel_nftd({verb, "x"});
    EXPECT_EQ(result.exit_code, 2) << verb << ": " << result.err;
    EXPECT_THAT(result.err, HasSubstr("unexpected argument \"x\"")) << verb;
    EXPECT_EQ(lines(result.err), 1U) << verb << ": " << result.err;
  }
}

TEST(CommandLine, CleanupTakesTheConfigurationFlagsEveryVerbTakes) {
  // --help: accepted, and nothing is removed.
  const ChildResult help =
      flannel_nftd({"cleanup", "--subnet-file=/run/flannel/subnet.env", "--ip-masq=false",
                    "--forward-rules=false", "--iptables-backend=nft", "--flowtable=on",
                    "--cni-bridge=cni0", "--ip-masq-fully-random-disable", "--help"});
  EXPECT_EQ(help.exit_code, 0) << help.err;
  EXPECT_THAT(help.out, HasSubstr("nftables|iptables|all"));
  EXPECT_THAT(help.out, HasSubstr("one set of flags"));
  // They are checked as every verb checks them.
  const ChildResult bad = flannel_nftd({"cleanup", "--subnet-file=/x", "--flowtable=maybe"});
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_THAT(bad.err, HasSubstr("--flowtable: \"maybe\" is not a choice"));
  const ChildResult mode = flannel_nftd({"cleanup", "--subnet-file=/x", "--mode=every"});
  EXPECT_EQ(mode.exit_code, 2) << mode.err;
  EXPECT_THAT(mode.err, HasSubstr("expected nftables, iptables or all"));
}

}  // namespace
}  // namespace fnft::daemon
