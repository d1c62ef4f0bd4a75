#include "bench/stats.hpp"

#include <algorithm>
#include <cmath>

namespace fnft::bench {
namespace {

double percentile(const std::vector<double>& sorted, double fraction) {
  const double rank = fraction * static_cast<double>(sorted.size() - 1);
  const auto lower = static_cast<std::size_t>(std::floor(rank));
  const auto upper = static_cast<std::size_t>(std::ceil(rank));
  const double weight = rank - static_cast<double>(lower);
  return sorted[lower] + (sorted[upper] - sorted[lower]) * weight;
}

}  // namespace

Summary summarize(std::vector<double> samples) {
  Summary summary;
  if (samples.empty()) return summary;
  std::sort(samples.begin(), samples.end());
  summary.count = samples.size();
  summary.median = percentile(samples, 0.5);
  summary.p90 = percentile(samples, 0.9);
  summary.p99 = percentile(samples, 0.99);
  summary.min = samples.front();
  summary.max = samples.back();
  return summary;
}

}  // namespace fnft::bench
