// Reading flanneld's files from disk: whatever sits at the path, the answer comes at once,
// either the bytes or a one-line ConfigError naming the file and what is there instead.
#include "daemon/config/config_files.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>

#include "tests/temporary_directory.hpp"

namespace fnft::daemon {
namespace {

class ConfigFilesTest : public testing::Test {
 protected:
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // The message read_config_file throws for `file`, or what it did instead.
  static std::string error_reading(const std::string& file) {
    try {
      const auto content = read_config_file(file);
      return content ? "<read " + std::to_string(content->size()) + " bytes>" : "<absent>";
    } catch (const state::ConfigError& error) {
      return error.what();
    }
  }

  testing_support::TemporaryDirectory directory_{"fnft-config"};
  const std::filesystem::path& dir_ = directory_.path();
};

TEST_F(ConfigFilesTest, ReadsARegularFileAndAFileBehindASymlink) {
  const std::string file = path("subnet.env");
  std::ofstream(file) << "FLANNEL_NETWORK=10.244.0.0/16\n";
  std::filesystem::create_symlink(file, path("link"));
  EXPECT_EQ(read_config_file(file), "FLANNEL_NETWORK=10.244.0.0/16\n");
  EXPECT_EQ(read_config_file(path("link")), "FLANNEL_NETWORK=10.244.0.0/16\n");
}

TEST_F(ConfigFilesTest, AMissingFileIsAbsent) {
  EXPECT_EQ(read_config_file(path("missing")), std::nullopt);
}

// Opening a FIFO for reading waited for a writer: on the reactor, that was a hang.
TEST_F(ConfigFilesTest, AFifoIsRefusedAtOnce) {
  const std::string fifo = path("subnet.env");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(error_reading(fifo),
            fifo +
                ": is a FIFO (named pipe), not a regular file; expected flannel's config file "
                "(replace it with one)");
}

TEST_F(ConfigFilesTest, ADirectoryIsRefused) {
  std::filesystem::create_directory(path("net-conf.json"));
  EXPECT_EQ(error_reading(path("net-conf.json")),
            path("net-conf.json") +
                ": is a directory, not a regular file; expected flannel's config file (replace "
                "it with one)");
}

TEST_F(ConfigFilesTest, AUnixSocketIsRefused) {
  const std::string socket_path = path("s");
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  socket_path.copy(address.sun_path, sizeof address.sun_path - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  EXPECT_EQ(error_reading(socket_path), socket_path + ": cannot open: No such device or address");
  ::close(fd);
}

TEST_F(ConfigFilesTest, ACharacterDeviceIsRefusedWithoutReadingIt) {
  EXPECT_EQ(error_reading("/dev/zero"),
            "/dev/zero: is a character device, not a regular file; expected flannel's config "
            "file (replace it with one)");
}

TEST_F(ConfigFilesTest, ASymlinkLoopIsRefused) {
  std::filesystem::create_symlink(path("b"), path("a"));
  std::filesystem::create_symlink(path("a"), path("b"));
  EXPECT_EQ(error_reading(path("a")),
            path("a") +
                ": cannot open: Too many levels of symbolic links; expected the file itself or a "
                "symlink that ends at one");
}

TEST_F(ConfigFilesTest, AFileOverTheLimitIsRefused) {
  const std::string file = path("net-conf.json");
  std::ofstream(file) << std::string(kMaxConfigFileSize + 1, ' ');
  EXPECT_EQ(error_reading(file),
            file + ": is larger than 1024 KiB; expected a small flannel config file");
}

// Out of file descriptors, the file is there but cannot be opened now: a ConfigReadError,
// which the daemon reads again later; what the file is (a directory) is a plain ConfigError,
// which only a change of the file can end.
TEST_F(ConfigFilesTest, AReadTheSystemRefusesIsAReadErrorAndBadKindsAreNot) {
  const std::string file = path("subnet.env");
  std::ofstream(file) << "FLANNEL_NETWORK=10.244.0.0/16\n";
  std::filesystem::create_directory(path("net-conf.json"));

  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  // The lowest descriptor free now is the next one open() would return.
  const int lowest_free = ::dup(0);
  ASSERT_GE(lowest_free, 0);
  ::close(lowest_free);
  rlimit exhausted = saved;
  exhausted.rlim_cur = static_cast<rlim_t>(lowest_free);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &exhausted), 0);
  // What was thrown is looked at once the limit is back: under UndefinedBehaviorSanitizer a
  // virtual call such as what() checks its object through a pipe, which needs descriptors.
  std::exception_ptr thrown;
  try {
    read_config_file(file);
  } catch (...) {
    thrown = std::current_exception();
  }
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);
  std::string message;
  bool read_error = false;
  try {
    if (thrown) std::rethrow_exception(thrown);
  } catch (const ConfigReadError& error) {
    read_error = true;
    message = error.what();
  } catch (const state::ConfigError& error) {
    message = error.what();
  }
  EXPECT_TRUE(read_error) << message;
  EXPECT_EQ(message, file + ": cannot open: Too many open files");
  EXPECT_TRUE(read_config_file(file).has_value());

  try {
    read_config_file(path("net-conf.json"));
    ADD_FAILURE() << "a directory was read";
  } catch (const ConfigReadError& error) {
    ADD_FAILURE() << "a directory counted as a passing failure: " << error.what();
  } catch (const state::ConfigError&) {
  }
}

}  // namespace
}  // namespace fnft::daemon
