#include "netns-tests/nft_listing.hpp"

#include <regex>

#include "netns-tests/testkit.hpp"

namespace fnft::netns_test {

std::string normalized_listing(const std::string& nft_listing) {
  static const std::regex counter(R"(counter packets [0-9]+ bytes [0-9]+)");
  return std::regex_replace(nft_listing, counter, "counter packets 0 bytes 0");
}

std::string reference_listing(const std::string& nft_text) {
  const Namespace ns(unique_prefix() + "reference");
  ns.run_checked({"nft", "-f", "-"}, nft_text);
  return normalized_listing(ns.run_checked({"nft", "list", "ruleset"}).out);
}

std::optional<DeviceClause> find_device_clause(const std::string& listing, std::size_t from) {
  static constexpr std::string_view kOpen = "devices = { ";
  const std::size_t begin = listing.find(kOpen, from);
  if (begin == std::string::npos) return std::nullopt;
  const std::size_t close = listing.find(" }", begin + kOpen.size());
  if (close == std::string::npos) return std::nullopt;
  DeviceClause clause{{}, begin, close + 2};
  std::string name;
  for (std::size_t i = begin + kOpen.size(); i <= close; ++i) {
    const char c = i < close ? listing[i] : ',';
    if (c == ',') {
      if (!name.empty()) clause.names.push_back(name);
      name.clear();
    } else if (c != ' ' && c != '\t' && c != '\n') {
      name += c;
    }
  }
  return clause;
}

}  // namespace fnft::netns_test
