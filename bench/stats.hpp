// Summaries of timing samples. The machine is shared and noisy, so the benchmarks report
// medians, high percentiles and ratios, never a single run or a mean.
#pragma once

#include <cstddef>
#include <vector>

namespace fnft::bench {

struct Summary {
  std::size_t count = 0;
  double median = 0;
  double p90 = 0;
  double p99 = 0;
  double min = 0;
  double max = 0;
};

// Percentiles by linear interpolation between the two nearest ranks (numpy's default), so
// p99 of 200 samples is not simply the second-largest sample. Empty input: all zero.
Summary summarize(std::vector<double> samples);

}  // namespace fnft::bench
