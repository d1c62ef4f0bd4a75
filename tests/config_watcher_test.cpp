// The config watcher on a real directory: what counts as a change of flannel's files, and
// what does not (the files as they were at start, other names in the directory).
#include "daemon/config/config_watcher.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/temporary_directory.hpp"

namespace fnft::daemon {
namespace {

using namespace std::chrono_literals;

class ConfigWatcherTest : public testing::Test {
 protected:
  static void write(const std::filesystem::path& path, const std::string& text) {
    std::ofstream(path) << text;
  }
  // Writes a new file beside `path` and renames it over `path`, as flanneld does.
  static void replace(const std::filesystem::path& path, const std::string& text) {
    const std::filesystem::path temporary = path.string() + ".tmp";
    write(temporary, text);
    std::filesystem::rename(temporary, path);
  }
  ConfigWatcher& watch(const std::vector<std::string>& files) {
    watcher_.emplace(
        io_, files, [this] { ++changes_; }, 20ms, 200ms);
    watcher_->start();
    return *watcher_;
  }
  // Turns the reactor for `duration` (long next to the 20 ms settle time).
  void turn(std::chrono::milliseconds duration = 300ms) {
    io_.restart();
    io_.run_for(duration);
  }
  // Turns the reactor until `count` changes were reported (10 s at most: a slow machine is
  // no failure), then 300 ms more, in which no further one may come.
  int changes_after(int count) {
    const auto give_up = std::chrono::steady_clock::now() + 10s;
    while (changes_ < count && std::chrono::steady_clock::now() < give_up) turn(10ms);
    turn();
    return changes_;
  }

  testing_support::TemporaryDirectory directory_{"fnft-watch"};
  const std::filesystem::path& root_ = directory_.path();
  boost::asio::io_context io_;
  std::optional<ConfigWatcher> watcher_;
  int changes_ = 0;
};

TEST_F(ConfigWatcherTest, TheFilesAsTheyAreAtStartAreNoChange) {
  write(root_ / "subnet.env", "FLANNEL_NETWORK=10.244.0.0/16\n");
  write(root_ / "net-conf.json", "{}");
  watch({(root_ / "subnet.env").string(), (root_ / "net-conf.json").string()});
  turn();
  EXPECT_EQ(changes_, 0);
}

TEST_F(ConfigWatcherTest, AReplacedFileIsOneChange) {
  write(root_ / "subnet.env", "a\n");
  watch({(root_ / "subnet.env").string()});
  turn(50ms);
  replace(root_ / "subnet.env", "b\n");
  EXPECT_EQ(changes_after(1), 1);
  write(root_ / "subnet.env", "c\n");  // in place this time
  EXPECT_EQ(changes_after(2), 2);
}

TEST_F(ConfigWatcherTest, ABurstOfWritesIsOneChange) {
  watch({(root_ / "subnet.env").string()});
  for (int i = 0; i < 20; ++i) write(root_ / "subnet.env", std::to_string(i));
  EXPECT_EQ(changes_after(1), 1);
}

TEST_F(ConfigWatcherTest, OtherNamesInTheDirectoryAreNoChange) {
  watch({(root_ / "subnet.env").string()});
  for (int i = 0; i < 50; ++i) write(root_ / ("other-" + std::to_string(i)), "x");
  std::filesystem::remove(root_ / "other-0");
  turn();
  EXPECT_EQ(changes_, 0);
}

TEST_F(ConfigWatcherTest, AConfigMapSwapIsAChange) {
  watch({(root_ / "net-conf.json").string()});
  std::filesystem::create_directory(root_ / "..2026_12_01");
  std::filesystem::create_directory_symlink("..2026_12_01", root_ / "..data_tmp");
  std::filesystem::rename(root_ / "..data_tmp", root_ / "..data");
  EXPECT_EQ(changes_after(1), 1);
}

// flanneld creates /run/flannel when it starts: the directory showing up with the file in it
// is a change, seen at the next look for it (once a second).
TEST_F(ConfigWatcherTest, ADirectoryThatAppearsLaterIsAChange) {
  const std::filesystem::path directory = root_ / "flannel";
  watch({(directory / "subnet.env").string()});
  turn();
  EXPECT_EQ(changes_, 0);
  std::filesystem::create_directory(directory);
  write(directory / "subnet.env", "a\n");
  EXPECT_EQ(changes_after(1), 1);
  // Watched from then on.
  replace(directory / "subnet.env", "b\n");
  EXPECT_EQ(changes_after(2), 2);
}

TEST_F(ConfigWatcherTest, AReplacedDirectoryIsAChangeAndWatchedAgain) {
  const std::filesystem::path directory = root_ / "flannel";
  std::filesystem::create_directory(directory);
  write(directory / "subnet.env", "a\n");
  watch({(directory / "subnet.env").string()});
  turn(50ms);
  std::filesystem::remove_all(directory);
  std::filesystem::create_directory(directory);
  write(directory / "subnet.env", "b\n");
  EXPECT_GE(changes_after(1), 1);
  const int before = changes_;
  replace(directory / "subnet.env", "c\n");
  EXPECT_EQ(changes_after(before + 1), before + 1);
}

}  // namespace
}  // namespace fnft::daemon
