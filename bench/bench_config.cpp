#include "bench/bench_config.hpp"

#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <system_error>
#include <vector>

namespace fnft::bench {
namespace {

state::Cidr cidr(const char* text) {
  const auto parsed = state::parse_cidr(text);
  if (!parsed) throw std::logic_error(std::string("bad CIDR in the benchmark: ") + text);
  return *parsed;
}

}  // namespace

state::NodeConfig dual_stack_config() {
  state::NodeConfig config;
  config.ipv4 = state::FamilyNetworks{cidr("10.244.0.0/16"), cidr("10.244.1.0/24")};
  config.ipv6 = state::FamilyNetworks{cidr("fd00:10:244::/56"), cidr("fd00:10:244:1::/64")};
  return config;
}

std::string dual_stack_subnet_env() {
  return "FLANNEL_NETWORK=10.244.0.0/16\n"
         "FLANNEL_SUBNET=10.244.1.1/24\n"
         "FLANNEL_IPV6_NETWORK=fd00:10:244::/56\n"
         "FLANNEL_IPV6_SUBNET=fd00:10:244:1::1/64\n"
         "FLANNEL_MTU=1450\n"
         "FLANNEL_IPMASQ=false\n";
}

std::string dual_stack_net_conf_json() {
  return R"({"Network": "10.244.0.0/16", "IPv6Network": "fd00:10:244::/56", )"
         R"("EnableIPv4": true, "EnableIPv6": true, "EnableNFTables": true, )"
         R"("Backend": {"Type": "vxlan"}})"
         "\n";
}

TempDir::TempDir(const std::string& prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string pattern =
      std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/" + prefix + "XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (::mkdtemp(buffer.data()) == nullptr) {
    throw std::runtime_error("mkdtemp " + pattern + ": " + std::strerror(errno));
  }
  path_ = buffer.data();
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::filesystem::path TempDir::write(const std::string& name, const std::string& content) const {
  const auto file = path_ / name;
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << content;
  out.close();
  if (!out) throw std::runtime_error("cannot write " + file.string());
  return file;
}

}  // namespace fnft::bench
