// Whatever bytes the files hold, parsing either succeeds or throws ConfigError with one
// printable line: never a crash, never another exception, never a multi-line message.
#include <gtest/gtest.h>

#include <functional>
#include <random>
#include <string>

#include "state/config_parse.hpp"

namespace fnft::state {
namespace {

// Mutations of valid files find the parser's edges faster than uniform noise.
std::string mutate(std::string text, std::mt19937& random) {
  std::uniform_int_distribution<int> byte(0, 255);
  const int edits = std::uniform_int_distribution<int>(1, 8)(random);
  for (int i = 0; i < edits && !text.empty(); ++i) {
    const std::size_t at = std::uniform_int_distribution<std::size_t>(0, text.size() - 1)(random);
    switch (random() % 3) {
      case 0: text[at] = static_cast<char>(byte(random)); break;
      case 1: text.erase(at, 1); break;
      default: text.insert(at, 1, static_cast<char>(byte(random))); break;
    }
  }
  return text;
}

void expect_one_line_or_success(const std::function<void()>& parse, const std::string& input) {
  try {
    parse();
  } catch (const ConfigError& error) {
    const std::string message = error.what();
    EXPECT_EQ(message.find('\n'), std::string::npos) << "input: " << testing::PrintToString(input);
    EXPECT_FALSE(message.empty());
  } catch (const std::exception& error) {
    ADD_FAILURE() << "unexpected " << error.what() << " for input "
                  << testing::PrintToString(input);
  }
}

TEST(ConfigParseFuzz, MutatedSubnetEnvNeverCrashesAndAlwaysGivesOneLine) {
  const std::string valid =
      "FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\n"
      "FLANNEL_IPV6_NETWORK=fd00:10:244::/56\nFLANNEL_IPV6_SUBNET=fd00:10:244:1::1/64\n"
      "FLANNEL_MTU=1450\nFLANNEL_IPMASQ=false\n";
  std::mt19937 random(20261123);
  for (int i = 0; i < 20000; ++i) {
    const std::string input = mutate(valid, random);
    expect_one_line_or_success([&] { parse_subnet_env(input, "subnet.env"); }, input);
  }
}

TEST(ConfigParseFuzz, MutatedNetConfNeverCrashesAndAlwaysGivesOneLine) {
  const std::string valid =
      R"({"Network": "10.244.0.0/16", "IPv6Network": "fd00:10:244::/56", "EnableIPv6": true,)"
      R"( "EnableNFTables": true, "Backend": {"Type": "vxlan"}})";
  std::mt19937 random(11232026);
  for (int i = 0; i < 20000; ++i) {
    const std::string input = mutate(valid, random);
    expect_one_line_or_success([&] { parse_net_conf(input, "net-conf.json"); }, input);
  }
}

}  // namespace
}  // namespace fnft::state
