#include "state/ruleset_diff.hpp"

#include <sstream>
#include <vector>

#include "state/nft_text.hpp"

namespace fnft::state {
namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace

std::string diff_text(const Ruleset& want, const Ruleset& have) {
  if (want == have) return {};
  const auto a = lines_of(to_nft_text(want));
  const auto b = lines_of(to_nft_text(have));
  // Longest common subsequence; rulesets are tens of lines, so the table is tiny.
  std::vector<std::vector<std::size_t>> lcs(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = a.size(); i-- > 0;) {
    for (std::size_t j = b.size(); j-- > 0;) {
      lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  std::string out;
  std::size_t i = 0;
  std::size_t j = 0;
  while (i < a.size() || j < b.size()) {
    if (i < a.size() && j < b.size() && a[i] == b[j]) {
      out += "  " + a[i++] + "\n";
      ++j;
    } else if (j < b.size() && (i == a.size() || lcs[i][j + 1] >= lcs[i + 1][j])) {
      out += "+ " + b[j++] + "\n";
    } else {
      out += "- " + a[i++] + "\n";
    }
  }
  // Equal text but unequal values: only handles or hidden fields differ in a way the text
  // cannot show (e.g. an unknown expression printing like a known one).
  if (out.find("\n+ ") == std::string::npos && out.find("\n- ") == std::string::npos &&
      out.rfind("+ ", 0) != 0 && out.rfind("- ", 0) != 0) {
    out += "# rulesets differ in values the nft text does not show\n";
  }
  return out;
}

}  // namespace fnft::state
