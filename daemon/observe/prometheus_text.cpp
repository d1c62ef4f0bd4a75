#include "daemon/observe/prometheus_text.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "state/one_line.hpp"

namespace fnft::daemon {
namespace {

// The text format wants UTF-8 label values. A chain name another process put in our table, or
// a rule comment, may hold any bytes: those that are not printable ASCII are written as
// one_line() writes them (\xHH), with the backslash escaped like any other.
std::string escaped(const std::string& value) {
  std::string out;
  for (const char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (byte < 0x20 || byte >= 0x7f) {
      out += "\\" + state::one_line(std::string_view(&c, 1));
    } else {
      out += c;
    }
  }
  return out;
}

std::string number(double value) {
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    return std::to_string(static_cast<long long>(value));
  }
  char text[32];
  std::snprintf(text, sizeof(text), "%.15g", value);
  return text;
}

std::string label_text(const Labels& labels) {
  if (labels.empty()) return "";
  std::string out = "{";
  for (std::size_t i = 0; i < labels.size(); ++i) {
    out += (i == 0 ? "" : ",") + labels[i].first + "=\"" + escaped(labels[i].second) + "\"";
  }
  return out + "}";
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double value) {
  const auto bucket = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  ++counts_[static_cast<std::size_t>(bucket)];
  ++count_;
  sum_ += value;
}

std::vector<double> latency_buckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 10};
}

void MetricsText::family(const std::string& name, const std::string& type,
                         const std::string& help) {
  text_ += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

void MetricsText::sample(const std::string& name, const Labels& labels, double value) {
  text_ += name + label_text(labels) + " " + number(value) + "\n";
}

void MetricsText::histogram(const std::string& name, const Labels& labels,
                            const Histogram& histogram) {
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i <= histogram.bounds().size(); ++i) {
    cumulative += histogram.counts()[i];
    Labels with_le = labels;
    with_le.emplace_back("le",
                         i < histogram.bounds().size() ? number(histogram.bounds()[i]) : "+Inf");
    sample(name + "_bucket", with_le, static_cast<double>(cumulative));
  }
  sample(name + "_sum", labels, histogram.sum());
  sample(name + "_count", labels, static_cast<double>(histogram.count()));
}

}  // namespace fnft::daemon
