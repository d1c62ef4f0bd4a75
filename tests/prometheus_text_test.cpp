// The Prometheus text /metrics is written in, and the listen addresses --metrics-address takes.
#include "daemon/observe/prometheus_text.hpp"

#include <gtest/gtest.h>

#include "daemon/observe/http_server.hpp"

namespace fnft::daemon {
namespace {

TEST(PrometheusText, HistogramsAreCumulativeWithSumAndCount) {
  Histogram histogram({0.001, 0.01});
  histogram.observe(0.0005);
  histogram.observe(0.001);  // on a bound: counted in that bucket (le)
  histogram.observe(0.5);
  MetricsText text;
  text.family("x_seconds", "histogram", "help");
  text.histogram("x_seconds", {{"reason", "event"}}, histogram);
  EXPECT_EQ(text.text(),
            "# HELP x_seconds help\n# TYPE x_seconds histogram\n"
            "x_seconds_bucket{reason=\"event\",le=\"0.001\"} 2\n"
            "x_seconds_bucket{reason=\"event\",le=\"0.01\"} 2\n"
            "x_seconds_bucket{reason=\"event\",le=\"+Inf\"} 3\n"
            "x_seconds_sum{reason=\"event\"} 0.5015\n"
            "x_seconds_count{reason=\"event\"} 3\n");
}

TEST(PrometheusText, LabelValuesAreEscapedAndTimestampsKeepTheirDigits) {
  MetricsText text;
  text.sample("y", {{"rule", "a \"quoted\" \\ name\nnext"}}, 1796136000.25);
  EXPECT_EQ(text.text(), "y{rule=\"a \\\"quoted\\\" \\\\ name\\nnext\"} 1796136000.25\n");
}

TEST(PrometheusText, LabelValuesThatAreNotTextBecomeEscapedBytes) {
  MetricsText text;
  text.sample("z", {{"process", "x\xff\xfe\t"}}, 1);
  EXPECT_EQ(text.text(), "z{process=\"x\\\\xFF\\\\xFE\\\\x09\"} 1\n");
}

TEST(ListenAddress, TakesIpv4AndBracketedIpv6AndRefusesTheRest) {
  EXPECT_EQ(parse_listen_address("127.0.0.1:9478").port(), 9478);
  EXPECT_TRUE(parse_listen_address("[::1]:9478").address().is_v6());
  for (const char* bad : {"localhost:9478", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:70000",
                          "127.0.0.1:94x", ":9478"}) {
    EXPECT_THROW(parse_listen_address(bad), std::invalid_argument) << bad;
  }
}

}  // namespace
}  // namespace fnft::daemon
