#include "daemon/config/config_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "daemon/process/unique_fd.hpp"

namespace fnft::daemon {
namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw state::ConfigError(path + ": " + what);
}

[[noreturn]] void fail_to_read(const std::string& path, const std::string& what) {
  throw ConfigReadError(path + ": " + what);
}

std::string_view kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  return "a special file";
}

}  // namespace

std::optional<std::string> read_config_file(const std::string& path) {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer, on the reactor.
  // A regular file reads the same either way, and anything else is refused below.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (fd.get() < 0) {
    const int error = errno;
    if (error == ENOENT) return std::nullopt;
    std::string what = std::string("cannot open: ") + std::strerror(error);
    if (error == EACCES) {
      what += "; expected a file this daemon's user (uid " + std::to_string(::geteuid()) +
              ") can read, as flanneld leaves it (check its mode and its directory's)";
    } else if (error == ELOOP) {
      what += "; expected the file itself or a symlink that ends at one";
    }
    fail_to_read(path, what);
  }
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0)
    fail_to_read(path, std::string("cannot stat: ") + std::strerror(errno));
  if (!S_ISREG(info.st_mode)) {
    fail(path, "is " + std::string(kind_of(info.st_mode)) +
                   ", not a regular file; expected flannel's config file (replace it with one)");
  }

  std::string content;
  char buffer[16384];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_to_read(path, std::string("cannot read: ") + std::strerror(errno));
    }
    if (n == 0) break;
    content.append(buffer, static_cast<std::size_t>(n));
    if (content.size() > kMaxConfigFileSize) {
      fail(path, "is larger than " + std::to_string(kMaxConfigFileSize / 1024) +
                     " KiB; expected a small flannel config file");
    }
  }
  return content;
}

LoadedConfig load_config(const ConfigOptions& options) {
  LoadedConfig loaded;
  const auto subnet_text = read_config_file(options.subnet_file);
  if (!subnet_text) {
    fail(options.subnet_file,
         "no such file; flanneld writes it once it holds a lease: start flanneld or pass "
         "--subnet-file");
  }
  loaded.subnet_env = state::parse_subnet_env(*subnet_text, options.subnet_file);
  if (const auto net_conf_text = read_config_file(options.net_config_path)) {
    loaded.net_conf = state::parse_net_conf(*net_conf_text, options.net_config_path);
  }
  loaded.node = state::resolve_node_config(loaded.subnet_env, options.subnet_file, loaded.net_conf,
                                           options.net_config_path, options.rules);
  loaded.mode = state::resolve_mode(options.mode, loaded.net_conf);
  if (options.mode) {
    loaded.mode_reason =
        "--mode=" + std::string(loaded.mode == state::Mode::nftables ? "nftables" : "iptables");
  } else if (loaded.mode == state::Mode::nftables) {
    loaded.mode_reason = options.net_config_path + ": \"EnableNFTables\": true";
  } else {
    loaded.mode_reason = (loaded.net_conf ? options.net_config_path + " does not enable NFTables"
                                          : "no " + options.net_config_path) +
                         ": flannel's default, the iptables mode";
  }
  return loaded;
}

}  // namespace fnft::daemon
