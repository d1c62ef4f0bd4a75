// Over 400 lines: one suite for one parser, every field of subnet.env and net-conf.json with
// its refusals, so each message a user can meet is pinned down here.
#include "state/config_parse.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

namespace fnft::state {
namespace {

const std::string kEnvPath = "/run/flannel/subnet.env";
const std::string kConfPath = "/etc/kube-flannel/net-conf.json";

// The flanneld-written sample of the issue.
constexpr std::string_view kFlanneldSubnetEnv =
    "FLANNEL_NETWORK=10.244.0.0/16\n"
    "FLANNEL_SUBNET=10.244.1.1/24\n"
    "FLANNEL_MTU=1450\n"
    "FLANNEL_IPMASQ=false\n";

Cidr cidr(std::string_view text) {
  CidrParseError error;
  const auto parsed = parse_cidr(text, &error);
  EXPECT_TRUE(parsed.has_value()) << text << ": " << error.reason;
  return parsed.value_or(Cidr{});
}

SubnetEnv env(std::string_view content) {
  return parse_subnet_env(content, kEnvPath);
}
NetConf conf(std::string_view content) {
  return parse_net_conf(content, kConfPath);
}

NodeConfig resolve(const SubnetEnv& subnet_env, const std::optional<NetConf>& net_conf,
                   const RuleOptions& options = {}) {
  return resolve_node_config(subnet_env, kEnvPath, net_conf, kConfPath, options);
}

// The ConfigError `action` throws; any other outcome is a message the checks cannot match.
std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const ConfigError& error) {
    return error.what();
  } catch (const std::exception& error) {
    return std::string("<not a ConfigError: ") + error.what() + ">";
  }
  return "<no error>";
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// ---- malformed input: every message is one line naming the file, the place and the value ----

struct BadCase {
  std::string name;
  std::function<void()> action;
  // The message must be exactly `exact` when given, else contain every fragment.
  std::vector<std::string> fragments;
  std::string exact;
};

std::ostream& operator<<(std::ostream& out, const BadCase& bad) {
  return out << bad.name;
}

BadCase bad_env(std::string name, std::string content, std::vector<std::string> fragments) {
  return {std::move(name), [content] { env(content); }, std::move(fragments), {}};
}

BadCase bad_env_exact(std::string name, std::string content, std::string exact) {
  return {std::move(name), [content] { env(content); }, {}, std::move(exact)};
}

BadCase bad_conf(std::string name, std::string content, std::vector<std::string> fragments) {
  return {std::move(name), [content] { conf(content); }, std::move(fragments), {}};
}

BadCase bad_conf_exact(std::string name, std::string content, std::string exact) {
  return {std::move(name), [content] { conf(content); }, {}, std::move(exact)};
}

BadCase bad_resolve(std::string name, std::string env_content,
                    std::optional<std::string> conf_content, std::vector<std::string> fragments,
                    std::string exact = {}) {
  auto action = [env_content, conf_content] {
    std::optional<NetConf> net_conf;
    if (conf_content) net_conf = conf(*conf_content);
    resolve(env(env_content), net_conf);
  };
  return {std::move(name), action, std::move(fragments), std::move(exact)};
}

class RejectsMalformedConfig : public testing::TestWithParam<BadCase> {};

TEST_P(RejectsMalformedConfig, WithOneLineMessageNamingFileKeyAndValue) {
  const BadCase& bad = GetParam();
  const std::string message = error_of(bad.action);
  const bool printable = std::all_of(message.begin(), message.end(), [](char c) {
    return static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f;
  });
  EXPECT_TRUE(printable) << "not one printable line: " << message;
  if (!bad.exact.empty()) {
    EXPECT_EQ(message, bad.exact);
    return;
  }
  ASSERT_FALSE(bad.fragments.empty()) << "a case must check something";
  for (const auto& fragment : bad.fragments) {
    EXPECT_NE(message.find(fragment), std::string::npos)
        << "missing: " << fragment << "\n   from: " << message;
  }
}

std::string with_byte(std::string text, std::size_t at, char byte) {
  text.insert(at, 1, byte);
  return text;
}

const std::vector<BadCase> kBadSubnetEnv = {
    bad_env_exact("CrlfLineEnding",
                  "FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\r\n",
                  "/run/flannel/subnet.env:2: line ends with CR (Windows line ending); expected "
                  "Unix LF line endings (convert the file with dos2unix)"),
    bad_env("CrOnLastLineWithoutLf", "FLANNEL_MTU=1450\r",
            {"subnet.env:1: line ends with CR (Windows line ending)"}),
    bad_env("LoneCrInsideLine", "FLANNEL_MTU=1450\rFLANNEL_IPMASQ=true\n",
            {"subnet.env:1: byte 0x0D at column 17 is not printable ASCII"}),
    bad_env("NulByte", with_byte("FLANNEL_MTU=1450\n", 14, '\0'),
            {"subnet.env:1: byte 0x00 at column 15 is not printable ASCII",
             "expected a text file of KEY=VALUE lines"}),
    bad_env("NonAsciiByteInComment", "FLANNEL_MTU=1450\n\n# caf\xc3\xa9\n",
            {"subnet.env:3: byte 0xC3 at column 6 is not printable ASCII"}),
    bad_env_exact("UnknownFlannelKey", "FLANNEL_MTU=1450\nFLANNEL_BACKEND=vxlan\n",
                  "/run/flannel/subnet.env:2: FLANNEL_BACKEND: unknown key; expected one of "
                  "FLANNEL_NETWORK, FLANNEL_SUBNET, FLANNEL_IPV6_NETWORK, FLANNEL_IPV6_SUBNET, "
                  "FLANNEL_MTU, FLANNEL_IPMASQ"),
    bad_env("KnownKeyInWrongCase", "flannel_mtu=1450\n",
            {"subnet.env:1: flannel_mtu: keys are case-sensitive; expected FLANNEL_MTU"}),
    bad_env("DuplicateKey", "FLANNEL_MTU=1450\n# again\nFLANNEL_MTU=1400\n",
            {"subnet.env:3: FLANNEL_MTU: duplicate key (first set on line 1); expected each key "
             "once"}),
    bad_env("LineWithoutEquals", "FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_MTU 1450\n",
            {"subnet.env:2: \"FLANNEL_MTU 1450\": missing '='; expected KEY=VALUE"}),
    bad_env("ShellExportPrefix", "export FLANNEL_MTU=1450\n",
            {"subnet.env:1: \"export FLANNEL_MTU\": not a variable name"}),
    bad_env("EmptyKey", "=1450\n", {"subnet.env:1: \"\": not a variable name"}),
    bad_env_exact("SubnetWithoutPrefix", "FLANNEL_SUBNET=10.244.1.1\n",
                  "/run/flannel/subnet.env:1: FLANNEL_SUBNET: \"10.244.1.1\" is not a CIDR "
                  "(missing \"/prefix-length\"); expected an IPv4 CIDR, e.g. 10.244.1.1/24"),
    bad_env("NetworkNotAnAddress", "FLANNEL_NETWORK=10.244.0/16\n",
            {"subnet.env:1: FLANNEL_NETWORK: \"10.244.0/16\" is not a CIDR (\"10.244.0\" is not "
             "an IPv4 or IPv6 address); expected an IPv4 CIDR, e.g. 10.244.0.0/16"}),
    bad_env("PrefixNotANumber", "FLANNEL_NETWORK=10.244.0.0/sixteen\n",
            {"FLANNEL_NETWORK: \"10.244.0.0/sixteen\" is not a CIDR (prefix length "
             "\"sixteen\" is not a number)"}),
    bad_env_exact("Ipv6InIpv4Network", "FLANNEL_NETWORK=fd00:10:244::/56\n",
                  "/run/flannel/subnet.env:1: FLANNEL_NETWORK: \"fd00:10:244::/56\" is an IPv6 "
                  "CIDR; expected an IPv4 CIDR, e.g. 10.244.0.0/16 (IPv6 goes in "
                  "FLANNEL_IPV6_NETWORK)"),
    bad_env("Ipv4InIpv6Subnet", "FLANNEL_IPV6_SUBNET=10.244.1.1/24\n",
            {"subnet.env:1: FLANNEL_IPV6_SUBNET: \"10.244.1.1/24\" is an IPv4 CIDR; expected an "
             "IPv6 CIDR, e.g. fd00:10:244:1::1/64 (IPv4 goes in FLANNEL_SUBNET)"}),
    bad_env("Ipv4InIpv6Network", "FLANNEL_IPV6_NETWORK=10.244.0.0/16\n",
            {"FLANNEL_IPV6_NETWORK: \"10.244.0.0/16\" is an IPv4 CIDR"}),
    bad_env("Ipv4PrefixOutOfRange", "FLANNEL_SUBNET=10.244.1.1/33\n",
            {"subnet.env:1: FLANNEL_SUBNET: \"10.244.1.1/33\"",
             "(prefix length 33 is out of range 0..32)"}),
    bad_env("Ipv6PrefixOutOfRange", "FLANNEL_IPV6_NETWORK=fd00:10:244::/129\n",
            {"FLANNEL_IPV6_NETWORK: \"fd00:10:244::/129\"",
             "(prefix length 129 is out of range 0..128)"}),
    bad_env("NetworkWithHostBits", "FLANNEL_NETWORK=10.244.1.0/16\n",
            {"subnet.env:1: FLANNEL_NETWORK: \"10.244.1.0/16\" has host bits set; expected the "
             "network address 10.244.0.0/16"}),
    bad_env("Ipv6NetworkWithHostBits", "FLANNEL_IPV6_NETWORK=fd00:10:244:1::/56\n",
            {"FLANNEL_IPV6_NETWORK: \"fd00:10:244:1::/56\" has host bits set; expected the "
             "network address fd00:10:244::/56"}),
    bad_env("SeveralNetworks", "FLANNEL_NETWORK=10.244.0.0/16,10.245.0.0/16\n",
            {"FLANNEL_NETWORK: \"10.244.0.0/16,10.245.0.0/16\" lists several networks",
             "multi-network mode is not supported"}),
    bad_env("BlankInsideValue", "FLANNEL_NETWORK=10.244.0.0/16 10.245.0.0/16\n",
            {"FLANNEL_NETWORK: \"10.244.0.0/16 10.245.0.0/16\" contains a blank"}),
    bad_env("EmptyValue", "FLANNEL_SUBNET=\n",
            {"subnet.env:1: FLANNEL_SUBNET: value is empty; expected an IPv4 CIDR"}),
    bad_env("QuotedValue", "FLANNEL_NETWORK=\"10.244.0.0/16\"\n",
            {"subnet.env:1: FLANNEL_NETWORK: \"\\\"10.244.0.0/16\\\"\" is quoted; expected the "
             "value unquoted"}),
    bad_env("SingleQuotedValue", "FLANNEL_MTU='1450'\n", {"FLANNEL_MTU: \"'1450'\" is quoted"}),
    bad_env_exact("MtuNotAnInteger", "FLANNEL_MTU=1450abc\n",
                  "/run/flannel/subnet.env:1: FLANNEL_MTU: \"1450abc\" is not an integer; "
                  "expected an MTU in 68..65535, e.g. 1450"),
    bad_env("MtuEmpty", "FLANNEL_MTU=\n", {"FLANNEL_MTU: \"\" is not an integer"}),
    bad_env("MtuTooSmall", "FLANNEL_MTU=67\n",
            {"subnet.env:1: FLANNEL_MTU: \"67\" is out of range; expected an MTU in 68..65535"}),
    bad_env("MtuTooLarge", "FLANNEL_MTU=65536\n", {"FLANNEL_MTU: \"65536\" is out of range"}),
    bad_env("MtuOverflowsInt", "FLANNEL_MTU=99999999999999999999\n",
            {"FLANNEL_MTU: \"99999999999999999999\" is out of range"}),
    bad_env("MtuNegative", "FLANNEL_MTU=-1450\n", {"FLANNEL_MTU: \"-1450\" is out of range"}),
    bad_env_exact("IpMasqNotBoolean", "FLANNEL_IPMASQ=yes\n",
                  "/run/flannel/subnet.env:1: FLANNEL_IPMASQ: \"yes\" is not a boolean; expected "
                  "true or false"),
    bad_env("IpMasqCapitalised", "FLANNEL_IPMASQ=True\n",
            {"FLANNEL_IPMASQ: \"True\" is not a boolean"}),
    bad_env("HugeFile", std::string(70000, '#'),
            {"/run/flannel/subnet.env: file is 70000 bytes, over the 65536-byte limit; expected"}),
    bad_env("EmptyFile", "",
            {"/run/flannel/subnet.env: no FLANNEL_* keys (the file is empty or holds only "
             "comments); expected"}),
    bad_env("OnlyCommentsAndBlankLines", "# written by hand\n\n   \n",
            {"/run/flannel/subnet.env: no FLANNEL_* keys"}),
    bad_env("OnlyForeignKeys", "OTHER=1\n", {"/run/flannel/subnet.env: no FLANNEL_* keys"}),
    bad_env("LongValueIsCutShort", "FLANNEL_IPMASQ=" + std::string(500, 'x') + "\n",
            {"FLANNEL_IPMASQ: \"" + std::string(80, 'x') + "...\" is not a boolean"}),
};

const std::vector<BadCase> kBadNetConf = {
    bad_conf("TrailingComma", R"({"Network": "10.244.0.0/16",})",
             {"/etc/kube-flannel/net-conf.json: invalid JSON at byte 29: parse error at line 1, "
              "column 29: syntax error while parsing object key - unexpected '}'"}),
    bad_conf("MissingCommaOnLineThree",
             "{\n  \"Network\": \"10.244.0.0/16\"\n  \"Backend\": {\"Type\": \"vxlan\"}\n}\n",
             {"net-conf.json: invalid JSON at byte", "parse error at line 3, column 11",
              "expected '}'"}),
    bad_conf("CommentInJson", "{\n// pods\n\"Network\": \"10.244.0.0/16\"}",
             {"net-conf.json: invalid JSON", "line 2, column 1"}),
    bad_conf("InvalidUtf8", "{\"Backend\": {\"Type\": \"vx\xff\"}}",
             {"net-conf.json: invalid JSON", "ill-formed UTF-8", "\"vx\\xFF'"}),
    bad_conf("NumberTooLarge", R"({"SubnetLen": 1e999})", {"net-conf.json: invalid JSON"}),
    bad_conf_exact("EmptyFile", "",
                   "/etc/kube-flannel/net-conf.json: file is empty; expected a JSON object such "
                   "as {\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"vxlan\"}}"),
    bad_conf("WhitespaceOnly", " \n\t\n", {"net-conf.json: file is empty"}),
    bad_conf("HugeFile",
             "{\"Network\": \"10.244.0.0/16\", \"x\": \"" + std::string(1 << 20, 'x') + "\"}",
             {"net-conf.json: file is 1048613 bytes, over the 1048576-byte limit"}),
    bad_conf("TopLevelArray", R"(["10.244.0.0/16"])",
             {"net-conf.json: top level is an array [\"10.244.0.0/16\"]; expected a JSON object"}),
    bad_conf("TopLevelString", R"("10.244.0.0/16")",
             {"net-conf.json: top level is a string \"10.244.0.0/16\"; expected a JSON object"}),
    bad_conf_exact("NetworkIsANumber", R"({"Network": 42})",
                   "/etc/kube-flannel/net-conf.json: Network: 42 is a number; expected a string "
                   "holding an IPv4 CIDR, e.g. \"10.244.0.0/16\""),
    bad_conf_exact("EnableIPv4IsAString", R"({"EnableIPv4": "yes"})",
                   "/etc/kube-flannel/net-conf.json: EnableIPv4: \"yes\" is a string; expected a "
                   "boolean (true or false)"),
    bad_conf("EnableIPv6IsANumber", R"({"EnableIPv6": 1})",
             {"net-conf.json: EnableIPv6: 1 is a number; expected a boolean"}),
    bad_conf("EnableNFTablesIsAString", R"({"EnableNFTables": "true"})",
             {"net-conf.json: EnableNFTables: \"true\" is a string; expected a boolean"}),
    bad_conf("TypeErrorNamesKeyAsWritten", R"({"enableipv4": [true]})",
             {"net-conf.json: enableipv4: [true] is an array; expected a boolean"}),
    bad_conf_exact("Ipv6CidrInNetwork", R"({"Network": "fd00:10:244::/56"})",
                   "/etc/kube-flannel/net-conf.json: Network: \"fd00:10:244::/56\" is an IPv6 "
                   "CIDR; expected an IPv4 CIDR, e.g. \"10.244.0.0/16\" (IPv6 goes in "
                   "\"IPv6Network\")"),
    bad_conf("Ipv4CidrInIPv6Network", R"({"IPv6Network": "10.244.0.0/16"})",
             {"net-conf.json: IPv6Network: \"10.244.0.0/16\" is an IPv4 CIDR; expected an IPv6 "
              "CIDR"}),
    bad_conf("NetworkWithHostBits", R"({"Network": "10.244.1.1/16"})",
             {"net-conf.json: Network: \"10.244.1.1/16\" has host bits set; expected the network "
              "address 10.244.0.0/16"}),
    bad_conf("NetworkWithoutPrefix", R"({"Network": "10.244.0.0"})",
             {"net-conf.json: Network: \"10.244.0.0\" is not a CIDR (missing \"/prefix-length\")"}),
    bad_conf("NetworkEmptyString", R"({"Network": ""})",
             {"net-conf.json: Network: value is empty; expected an IPv4 CIDR"}),
    bad_conf("NetworkWithEscapedNul", R"({"Network": "10.244.0.0\u0000/16"})",
             {"net-conf.json: Network: \"10.244.0.0\\x00/16\" contains a blank or non-printable "
              "character"}),
    bad_conf("NetworkWithEscapedNewline", R"({"Network": "10.244.0.0/16\n"})",
             {"net-conf.json: Network: \"10.244.0.0/16\\x0A\" contains"}),
    bad_conf("BackendIsAString", R"({"Backend": "vxlan"})",
             {"net-conf.json: Backend: \"vxlan\" is a string; expected an object such as "
              "{\"Type\": \"vxlan\"}"}),
    bad_conf("BackendTypeIsANumber", R"({"Backend": {"Type": 1}})",
             {"net-conf.json: Backend.Type: 1 is a number; expected a string"}),
    bad_conf_exact("KeysDifferingOnlyInCase",
                   R"({"Network": "10.244.0.0/16", "network": "10.245.0.0/16"})",
                   "/etc/kube-flannel/net-conf.json: network: duplicate of key Network (keys "
                   "match without regard to case, as in flanneld); expected each key once"),
    bad_conf("ExactDuplicateKey", R"({"EnableIPv6": true, "EnableIPv6": false})",
             {"net-conf.json: EnableIPv6: duplicate of key EnableIPv6"}),
    bad_conf("DuplicateBackendType", R"({"Backend": {"Type": "vxlan", "TYPE": "host-gw"}})",
             {"net-conf.json: Backend.TYPE: duplicate of key Backend.Type"}),
    // Deep nesting, under the 1 MiB limit: once a SIGSEGV (the message printed the value
    // recursively), now refused before anything parses or prints it.
    bad_conf("NetworkNestedHundredThousandLevels",
             R"({"Network": )" + std::string(100000, '[') + std::string(100000, ']') + "}",
             {"/etc/kube-flannel/net-conf.json: invalid JSON at byte 76: arrays and objects "
              "nest deeper than 64 levels"}),
    bad_conf("BackendTypeNestedSixtyFiveThousandLevels",
             R"({"Backend": {"Type": )" + std::string(65000, '[') + std::string(65000, ']') + "}}",
             {"invalid JSON at byte 84: arrays and objects nest deeper than 64 levels"}),
    bad_conf("ObjectsNestedDeeply", std::string(70, '{') + std::string(70, '}'),
             {"invalid JSON at byte 65: arrays and objects nest deeper than 64 levels"}),
    // Brackets inside strings are text, not nesting.
    bad_conf("BracketsInsideAStringAreNotNesting",
             R"({"Backend": {"Type": ")" + std::string(1000, '[') + R"(\"["}, "Network": 1})",
             {"net-conf.json: Network: 1 is a number"}),
};

// subnet.env written by flanneld for IPv4, with `extra` lines added.
std::string ipv4_env(std::string_view extra = "") {
  return std::string(kFlanneldSubnetEnv) + std::string(extra);
}

const std::vector<BadCase> kBadResolve = {
    bad_resolve("Ipv4NetworksDisagree", ipv4_env(), R"({"Network": "10.245.0.0/16"})", {},
                "/run/flannel/subnet.env: FLANNEL_NETWORK: 10.244.0.0/16 disagrees with "
                "/etc/kube-flannel/net-conf.json: Network: 10.245.0.0/16; expected the same IPv4 "
                "cluster network in both files (fix one of them)"),
    bad_resolve("Ipv4NetworkPrefixesDisagree", ipv4_env(), R"({"Network": "10.244.0.0/15"})",
                {"FLANNEL_NETWORK: 10.244.0.0/16 disagrees with /etc/kube-flannel/net-conf.json: "
                 "Network: 10.244.0.0/15"}),
    bad_resolve("Ipv6NetworksDisagree",
                "FLANNEL_IPV6_NETWORK=fd00:10:244::/56\nFLANNEL_IPV6_SUBNET=fd00:10:244:1::1/64\n",
                R"({"EnableIPv4": false, "EnableIPv6": true, "IPv6Network": "fd00:10:245::/56"})",
                {"/run/flannel/subnet.env: FLANNEL_IPV6_NETWORK: fd00:10:244::/56 disagrees with "
                 "/etc/kube-flannel/net-conf.json: IPv6Network: fd00:10:245::/56; expected the "
                 "same IPv6 cluster network in both files (fix one of them)"}),
    bad_resolve("Ipv4NetworkInNeitherFile", "FLANNEL_SUBNET=10.244.1.1/24\n", R"({})", {},
                "/run/flannel/subnet.env: FLANNEL_NETWORK: missing, and "
                "/etc/kube-flannel/net-conf.json has no Network; expected the IPv4 cluster "
                "network in one of them, e.g. FLANNEL_NETWORK=10.244.0.0/16 (IPv4 is enabled by "
                "/etc/kube-flannel/net-conf.json: EnableIPv4 is true or absent)"),
    bad_resolve("Ipv6NetworkInNeitherFile", ipv4_env("FLANNEL_IPV6_SUBNET=fd00:10:244:1::1/64\n"),
                R"({"Network": "10.244.0.0/16", "EnableIPv6": true})",
                {"subnet.env: FLANNEL_IPV6_NETWORK: missing, and /etc/kube-flannel/net-conf.json "
                 "has no IPv6Network",
                 "(IPv6 is enabled by /etc/kube-flannel/net-conf.json: EnableIPv6 is true)"}),
    bad_resolve("EtcdModeLeaseWithoutNetwork", "FLANNEL_SUBNET=10.244.1.1/24\n", std::nullopt, {},
                "/run/flannel/subnet.env: FLANNEL_NETWORK: missing; expected the IPv4 cluster "
                "network, e.g. FLANNEL_NETWORK=10.244.0.0/16 (IPv4 is enabled because "
                "/run/flannel/subnet.env has FLANNEL_SUBNET and there is no net-conf.json)"),
    bad_resolve("Ipv4LeaseMissing", "FLANNEL_NETWORK=10.244.0.0/16\n",
                R"({"Network": "10.244.0.0/16"})", {},
                "/run/flannel/subnet.env: FLANNEL_SUBNET: missing; expected this node's IPv4 "
                "lease, e.g. FLANNEL_SUBNET=10.244.1.1/24 (IPv4 is enabled by "
                "/etc/kube-flannel/net-conf.json: EnableIPv4 is true or absent)"),
    bad_resolve("Ipv6LeaseMissing", ipv4_env(),
                R"({"Network": "10.244.0.0/16", "EnableIPv6": true,
                    "IPv6Network": "fd00:10:244::/56"})",
                {"/run/flannel/subnet.env: FLANNEL_IPV6_SUBNET: missing; expected this node's "
                 "IPv6 lease, e.g. FLANNEL_IPV6_SUBNET=fd00:10:244:1::1/64 (IPv6 is enabled by "
                 "/etc/kube-flannel/net-conf.json: EnableIPv6 is true)"}),
    bad_resolve("EtcdModeLeaseMissing", "FLANNEL_IPV6_NETWORK=fd00:10:244::/56\n", std::nullopt,
                {"subnet.env: FLANNEL_IPV6_SUBNET: missing",
                 "(IPv6 is enabled because /run/flannel/subnet.env has FLANNEL_IPV6_NETWORK and "
                 "there is no net-conf.json)"}),
    bad_resolve("LeaseOutsideNetworkFromSubnetEnv",
                "FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.245.1.1/24\n", std::nullopt, {},
                "/run/flannel/subnet.env: FLANNEL_SUBNET: lease 10.245.1.0/24 is outside the IPv4 "
                "cluster network 10.244.0.0/16 (from /run/flannel/subnet.env: FLANNEL_NETWORK); "
                "expected a lease inside 10.244.0.0/16"),
    bad_resolve("LeaseOutsideNetworkFromNetConf", "FLANNEL_SUBNET=10.245.1.1/24\n",
                R"({"Network": "10.244.0.0/16"})",
                {"subnet.env: FLANNEL_SUBNET: lease 10.245.1.0/24 is outside the IPv4 cluster "
                 "network 10.244.0.0/16 (from /etc/kube-flannel/net-conf.json: Network)"}),
    bad_resolve("LeaseWiderThanNetwork",
                "FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.0.0.1/8\n", std::nullopt,
                {"FLANNEL_SUBNET: lease 10.0.0.0/8 is outside the IPv4 cluster network "
                 "10.244.0.0/16"}),
    bad_resolve("Ipv6LeaseOutsideNetwork",
                "FLANNEL_IPV6_NETWORK=fd00:10:244::/56\nFLANNEL_IPV6_SUBNET=fd00:10:245:1::1/64\n",
                std::nullopt,
                {"FLANNEL_IPV6_SUBNET: lease fd00:10:245:1::/64 is outside the IPv6 cluster "
                 "network fd00:10:244::/56"}),
    bad_resolve("NetConfEnablesNoFamily", ipv4_env(),
                R"({"Network": "10.244.0.0/16", "EnableIPv4": false, "EnableIPv6": false})", {},
                "/etc/kube-flannel/net-conf.json: EnableIPv4, EnableIPv6: both false; expected at "
                "least one address family enabled"),
    bad_resolve("EtcdModeNoNetworkAtAll", "FLANNEL_MTU=1450\nFLANNEL_IPMASQ=false\n", std::nullopt,
                {"/run/flannel/subnet.env: FLANNEL_NETWORK, FLANNEL_IPV6_NETWORK: neither is set "
                 "and there is no net-conf.json; expected at least one network"}),
};

std::string case_name(const testing::TestParamInfo<BadCase>& info) {
  return info.param.name;
}

INSTANTIATE_TEST_SUITE_P(SubnetEnv, RejectsMalformedConfig, testing::ValuesIn(kBadSubnetEnv),
                         case_name);
INSTANTIATE_TEST_SUITE_P(NetConf, RejectsMalformedConfig, testing::ValuesIn(kBadNetConf),
                         case_name);
INSTANTIATE_TEST_SUITE_P(Resolve, RejectsMalformedConfig, testing::ValuesIn(kBadResolve),
                         case_name);

// ---- subnet.env ----------------------------------------------------------------------------

TEST(ParseSubnetEnv, ReadsTheFileFlanneldWritesAndClearsTheLeaseHostBits) {
  SubnetEnv expected;
  expected.network = cidr("10.244.0.0/16");
  expected.subnet = cidr("10.244.1.0/24");
  expected.mtu = 1450;
  expected.ip_masq = false;
  EXPECT_EQ(env(kFlanneldSubnetEnv), expected);
}

TEST(ParseSubnetEnv, ReadsAnIpv6OnlyFile) {
  const SubnetEnv parsed =
      env("FLANNEL_IPV6_NETWORK=fd00:10:244::/56\nFLANNEL_IPV6_SUBNET=fd00:10:244:1::1/64\n"
          "FLANNEL_MTU=1430\nFLANNEL_IPMASQ=true\n");
  EXPECT_FALSE(parsed.network.has_value());
  EXPECT_FALSE(parsed.subnet.has_value());
  EXPECT_EQ(parsed.ipv6_network, cidr("fd00:10:244::/56"));
  EXPECT_EQ(parsed.ipv6_subnet, cidr("fd00:10:244:1::/64"));
  EXPECT_EQ(parsed.mtu, 1430);
  EXPECT_EQ(parsed.ip_masq, true);
}

TEST(ParseSubnetEnv, AcceptsCommentsBlankLinesBlanksAroundValuesAndNoFinalNewline) {
  const SubnetEnv parsed =
      env("# written by flanneld\n"
          "\n"
          "  FLANNEL_NETWORK = 10.244.0.0/16\t\n"
          "\t# indented comment\n"
          "FLANNEL_SUBNET=10.244.1.1/24\n"
          "FLANNEL_MTU=1450");
  EXPECT_EQ(parsed.network, cidr("10.244.0.0/16"));
  EXPECT_EQ(parsed.subnet, cidr("10.244.1.0/24"));
  EXPECT_EQ(parsed.mtu, 1450);
  EXPECT_FALSE(parsed.ip_masq.has_value());
}

TEST(ParseSubnetEnv, IgnoresVariablesThatAreNotFlannels) {
  EXPECT_EQ(env("NODE_NAME=worker-1\n" + ipv4_env()), env(kFlanneldSubnetEnv));
}

TEST(ParseSubnetEnv, AcceptsTheMtuBounds) {
  EXPECT_EQ(env("FLANNEL_MTU=68\n").mtu, 68);
  EXPECT_EQ(env("FLANNEL_MTU=65535\n").mtu, 65535);
}

TEST(ParseSubnetEnv, ReportsTheLineNumberAfterBlankAndCommentLines) {
  const auto message =
      error_of([] { env("# one\n\nFLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_MTU=x\n"); });
  EXPECT_EQ(message.rfind("/run/flannel/subnet.env:4: FLANNEL_MTU: ", 0), 0u) << message;
}

TEST(ParseSubnetEnv, NamesThePathItIsGiven) {
  const auto message = error_of([] { parse_subnet_env("FLANNEL_MTU=x\n", "/tmp/other.env"); });
  EXPECT_EQ(message.rfind("/tmp/other.env:1: ", 0), 0u) << message;
}

// ---- net-conf.json --------------------------------------------------------------------------

TEST(ParseNetConf, AppliesFlanneldDefaults) {
  NetConf expected;
  expected.network = cidr("10.244.0.0/16");
  expected.backend_type = "udp";
  const NetConf parsed = conf(R"({"Network": "10.244.0.0/16"})");
  EXPECT_EQ(parsed, expected);
  EXPECT_TRUE(parsed.enable_ipv4);
  EXPECT_FALSE(parsed.enable_ipv6);
  EXPECT_FALSE(parsed.enable_nftables);
}

TEST(ParseNetConf, ReadsEveryKey) {
  const NetConf parsed = conf(R"({
    "Network": "10.244.0.0/16",
    "IPv6Network": "fd00:10:244::/56",
    "EnableIPv4": false,
    "EnableIPv6": true,
    "EnableNFTables": true,
    "Backend": {"Type": "host-gw"}
  })");
  EXPECT_EQ(parsed.network, cidr("10.244.0.0/16"));
  EXPECT_EQ(parsed.ipv6_network, cidr("fd00:10:244::/56"));
  EXPECT_FALSE(parsed.enable_ipv4);
  EXPECT_TRUE(parsed.enable_ipv6);
  EXPECT_TRUE(parsed.enable_nftables);
  EXPECT_EQ(parsed.backend_type, "host-gw");
}

TEST(ParseNetConf, MatchesKeysWithoutRegardToCase) {
  const NetConf parsed = conf(R"({
    "network": "10.244.0.0/16",
    "IPV6NETWORK": "fd00:10:244::/56",
    "enableIPv4": false,
    "ENABLEIPV6": true,
    "enablenftables": true,
    "backend": {"TYPE": "wireguard"}
  })");
  EXPECT_EQ(parsed, conf(R"({
    "Network": "10.244.0.0/16",
    "IPv6Network": "fd00:10:244::/56",
    "EnableIPv4": false,
    "EnableIPv6": true,
    "EnableNFTables": true,
    "Backend": {"Type": "wireguard"}
  })"));
  EXPECT_EQ(parsed.backend_type, "wireguard");
  EXPECT_TRUE(parsed.enable_nftables);
}

TEST(ParseNetConf, IgnoresUnknownKeysEvenWhenRepeated) {
  const NetConf parsed = conf(R"({
    "Network": "10.244.0.0/16",
    "SubnetLen": 24,
    "SubnetMin": "10.244.10.0",
    "Plugins": [{"Network": 1}, {"Network": 2}],
    "Extra": {"Network": "not a cidr"},
    "Backend": {"Type": "vxlan", "VNI": 1, "vni": 2, "Port": 8472}
  })");
  EXPECT_EQ(parsed.network, cidr("10.244.0.0/16"));
  EXPECT_EQ(parsed.backend_type, "vxlan");
}

TEST(ParseNetConf, TreatsNullAsAbsentAsGoDoes) {
  const NetConf parsed =
      conf(R"({"Network": "10.244.0.0/16", "EnableIPv4": null, "IPv6Network": null,
               "Backend": null})");
  EXPECT_TRUE(parsed.enable_ipv4);
  EXPECT_FALSE(parsed.ipv6_network.has_value());
  EXPECT_EQ(parsed.backend_type, "udp");
}

TEST(ParseNetConf, LeavesTheBackendTypeEmptyWhenTheBackendHasNone) {
  EXPECT_EQ(conf(R"({"Backend": {"VNI": 4096}})").backend_type, "");
}

TEST(ParseNetConf, AcceptsAnObjectWithoutNetworks) {
  // The networks may come from subnet.env; resolve_node_config decides.
  const NetConf parsed = conf("{}");
  EXPECT_FALSE(parsed.network.has_value());
  EXPECT_FALSE(parsed.ipv6_network.has_value());
}

// ---- resolve_node_config --------------------------------------------------------------------

FamilyNetworks networks(std::string_view cluster, std::string_view lease) {
  return {cidr(cluster), cidr(lease)};
}

TEST(ResolveNodeConfig, CombinesAgreeingFilesForIpv4) {
  const NodeConfig config =
      resolve(env(kFlanneldSubnetEnv), conf(R"({"Network": "10.244.0.0/16"})"));
  EXPECT_EQ(config.ipv4, networks("10.244.0.0/16", "10.244.1.0/24"));
  EXPECT_FALSE(config.ipv6.has_value());
}

TEST(ResolveNodeConfig, TakesTheNetworkFromNetConfWhenSubnetEnvLacksIt) {
  const NodeConfig config =
      resolve(env("FLANNEL_SUBNET=10.244.1.1/24\n"), conf(R"({"Network": "10.244.0.0/16"})"));
  EXPECT_EQ(config.ipv4, networks("10.244.0.0/16", "10.244.1.0/24"));
}

TEST(ResolveNodeConfig, TakesTheNetworkFromSubnetEnvWhenNetConfLacksIt) {
  const NodeConfig config = resolve(env(kFlanneldSubnetEnv), conf("{}"));
  EXPECT_EQ(config.ipv4, networks("10.244.0.0/16", "10.244.1.0/24"));
}

TEST(ResolveNodeConfig, ResolvesIpv6Only) {
  const NodeConfig config = resolve(
      env("FLANNEL_IPV6_NETWORK=fd00:10:244::/56\nFLANNEL_IPV6_SUBNET=fd00:10:244:1::1/64\n"),
      conf(R"({"EnableIPv4": false, "EnableIPv6": true, "IPv6Network": "fd00:10:244::/56"})"));
  EXPECT_FALSE(config.ipv4.has_value());
  EXPECT_EQ(config.ipv6, networks("fd00:10:244::/56", "fd00:10:244:1::/64"));
}

TEST(ResolveNodeConfig, ResolvesDualStack) {
  const NodeConfig config = resolve(
      env(ipv4_env(
          "FLANNEL_IPV6_NETWORK=fd00:10:244::/56\nFLANNEL_IPV6_SUBNET=fd00:10:244:1::1/64\n")),
      conf(R"({"Network": "10.244.0.0/16", "EnableIPv6": true,
               "IPv6Network": "fd00:10:244::/56"})"));
  EXPECT_EQ(config.ipv4, networks("10.244.0.0/16", "10.244.1.0/24"));
  EXPECT_EQ(config.ipv6, networks("fd00:10:244::/56", "fd00:10:244:1::/64"));
}

TEST(ResolveNodeConfig, NetConfDecidesTheFamiliesOverSubnetEnv) {
  // A stale IPv6 lease in subnet.env does not enable IPv6 when net-conf.json leaves it off.
  const NodeConfig config = resolve(
      env(ipv4_env(
          "FLANNEL_IPV6_NETWORK=fd00:10:244::/56\nFLANNEL_IPV6_SUBNET=fd00:10:244:1::1/64\n")),
      conf(R"({"Network": "10.244.0.0/16"})"));
  EXPECT_TRUE(config.ipv4.has_value());
  EXPECT_FALSE(config.ipv6.has_value());
}

TEST(ResolveNodeConfig, EtcdModeEnablesWhatSubnetEnvNames) {
  const NodeConfig ipv4_only = resolve(env(kFlanneldSubnetEnv), std::nullopt);
  EXPECT_EQ(ipv4_only.ipv4, networks("10.244.0.0/16", "10.244.1.0/24"));
  EXPECT_FALSE(ipv4_only.ipv6.has_value());

  const NodeConfig dual = resolve(
      env(ipv4_env(
          "FLANNEL_IPV6_NETWORK=fd00:10:244::/56\nFLANNEL_IPV6_SUBNET=fd00:10:244:1::1/64\n")),
      std::nullopt);
  EXPECT_EQ(dual.ipv4, networks("10.244.0.0/16", "10.244.1.0/24"));
  EXPECT_EQ(dual.ipv6, networks("fd00:10:244::/56", "fd00:10:244:1::/64"));
}

TEST(ResolveNodeConfig, CopiesTheRuleOptions) {
  RuleOptions options;
  options.ip_masq = false;
  options.forward_rules = false;
  options.masq_fully_random = false;
  EXPECT_EQ(resolve(env(kFlanneldSubnetEnv), std::nullopt, options).options, options);
  EXPECT_EQ(resolve(env(kFlanneldSubnetEnv), std::nullopt).options, RuleOptions{});
}

TEST(ResolveNodeConfig, AcceptsALeaseAsLargeAsTheNetwork) {
  const NodeConfig config =
      resolve(env("FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.0.1/16\n"), std::nullopt);
  EXPECT_EQ(config.ipv4, networks("10.244.0.0/16", "10.244.0.0/16"));
}

// ---- resolve_mode ---------------------------------------------------------------------------

TEST(ResolveMode, TheFlagWins) {
  const NetConf nftables = conf(R"({"EnableNFTables": true})");
  EXPECT_EQ(resolve_mode(Mode::iptables, nftables), Mode::iptables);
  EXPECT_EQ(resolve_mode(Mode::nftables, conf("{}")), Mode::nftables);
  EXPECT_EQ(resolve_mode(Mode::nftables, std::nullopt), Mode::nftables);
}

TEST(ResolveMode, ElseNetConfEnableNFTables) {
  EXPECT_EQ(resolve_mode(std::nullopt, conf(R"({"EnableNFTables": true})")), Mode::nftables);
  EXPECT_EQ(resolve_mode(std::nullopt, conf(R"({"EnableNFTables": false})")), Mode::iptables);
}

TEST(ResolveMode, ElseIptablesAsFlanneld) {
  EXPECT_EQ(resolve_mode(std::nullopt, conf("{}")), Mode::iptables);
  EXPECT_EQ(resolve_mode(std::nullopt, std::nullopt), Mode::iptables);
}

// ---- the sample files the golden tests use --------------------------------------------------

struct SampleExpectation {
  std::string directory;
  std::optional<FamilyNetworks> ipv4;
  std::optional<FamilyNetworks> ipv6;
};

TEST(SampleConfigFiles, ResolveToTheDocumentedNetworksInNftablesMode) {
  const auto v4 = networks("10.244.0.0/16", "10.244.1.0/24");
  const auto v6 = networks("fd00:10:244::/56", "fd00:10:244:1::/64");
  const std::vector<SampleExpectation> samples = {
      {"ipv4", v4, std::nullopt}, {"ipv6", std::nullopt, v6}, {"dual", v4, v6}};
  for (const auto& sample : samples) {
    SCOPED_TRACE(sample.directory);
    const std::string dir = std::string(FNFT_TEST_DATA_DIR) + "/config/" + sample.directory;
    const SubnetEnv subnet_env =
        parse_subnet_env(read_file(dir + "/subnet.env"), dir + "/subnet.env");
    const NetConf net_conf =
        parse_net_conf(read_file(dir + "/net-conf.json"), dir + "/net-conf.json");
    const NodeConfig config = resolve_node_config(subnet_env, dir + "/subnet.env", net_conf,
                                                  dir + "/net-conf.json", RuleOptions{});
    EXPECT_EQ(config.ipv4, sample.ipv4);
    EXPECT_EQ(config.ipv6, sample.ipv6);
    EXPECT_EQ(subnet_env.ip_masq, false);
    EXPECT_EQ(net_conf.backend_type, "vxlan");
    EXPECT_EQ(resolve_mode(std::nullopt, net_conf), Mode::nftables);
  }
}

}  // namespace
}  // namespace fnft::state
