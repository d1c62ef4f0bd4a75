// --flowtable and --cni-bridge as every verb that takes them parses them.
#include <gtest/gtest.h>

#include "daemon/config/options.hpp"

namespace fnft::daemon {
namespace {

FastPathSettings parsed(const std::vector<std::string>& args) {
  FastPathSettings settings;
  const auto description = fast_path_options_description(settings);
  const auto vm = parse_verb_arguments(args, description);
  finish_fast_path_options(vm, settings);
  return settings;
}

TEST(FastPathOptions, DefaultsToOffOnCni0) {
  const FastPathSettings settings = parsed({});
  EXPECT_EQ(settings.flowtable, FlowtableOption::off);
  EXPECT_EQ(settings.cni_bridge, "cni0");
}

TEST(FastPathOptions, TakesOnOffRequiredAndThePlainFlag) {
  EXPECT_EQ(parsed({"--flowtable"}).flowtable, FlowtableOption::on);
  EXPECT_EQ(parsed({"--flowtable=on"}).flowtable, FlowtableOption::on);
  EXPECT_EQ(parsed({"--flowtable=true"}).flowtable, FlowtableOption::on);
  EXPECT_EQ(parsed({"--flowtable=off"}).flowtable, FlowtableOption::off);
  EXPECT_EQ(parsed({"--flowtable=required"}).flowtable, FlowtableOption::required);
  EXPECT_EQ(parsed({"--cni-bridge=cbr0"}).cni_bridge, "cbr0");
}

TEST(FastPathOptions, RefusesWhatIsNoChoiceOrNoDeviceName) {
  for (const std::vector<std::string>& args : {std::vector<std::string>{"--flowtable=yes-please"},
                                               {"--cni-bridge="},
                                               {"--cni-bridge=a-name-too-long-for-ifnamsiz"},
                                               {"--cni-bridge=cni/0"},
                                               {"--cni-bridge=cni 0"}}) {
    try {
      parsed(args);
      ADD_FAILURE() << args[0] << " was accepted";
    } catch (const UsageError& error) {
      const std::string option = args[0].substr(0, args[0].find('='));
      EXPECT_NE(std::string(error.what()).find(option), std::string::npos) << error.what();
    }
  }
}

}  // namespace
}  // namespace fnft::daemon
