#include "daemon/core/namespace_file_lock.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "daemon/core/instance_lock.hpp"

namespace fnft::daemon {
namespace {

[[noreturn]] void fail(const std::string& what, const std::string& path, int error) {
  throw std::runtime_error(what + " " + path + ": " + std::strerror(error));
}

// The directory, refused when anyone but this user (root, or the unit's user) could have
// written into it: then the lock file might be someone else's.
void check_directory(const std::string& directory) {
  if (::mkdir(directory.c_str(), 0755) != 0 && errno != EEXIST) {
    fail("cannot create the lock directory", directory, errno);
  }
  struct stat info {};
  if (::lstat(directory.c_str(), &info) != 0) fail("cannot stat", directory, errno);
  if (!S_ISDIR(info.st_mode) || info.st_uid != ::geteuid() || (info.st_mode & 0022) != 0) {
    throw std::runtime_error(directory +
                             " is not a directory of this user that no one else can write: "
                             "the instance lock cannot be kept there; remove it");
  }
}

std::string lock_path(const std::string& directory) {
  struct stat own_namespace {};
  if (::stat("/proc/self/ns/net", &own_namespace) != 0) {
    fail("cannot stat", "/proc/self/ns/net", errno);
  }
  return directory + "/run-" + std::to_string(own_namespace.st_ino) + ".lock";
}

struct flock whole_file(short type) {
  struct flock lock {};
  lock.l_type = type;
  lock.l_whence = SEEK_SET;
  return lock;
}

}  // namespace

std::optional<pid_t> NamespaceFileLock::holder(const std::string& directory) {
  const UniqueFd fd(::open(lock_path(directory).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) return std::nullopt;
  struct flock lock = whole_file(F_WRLCK);
  if (::fcntl(fd.get(), F_GETLK, &lock) != 0 || lock.l_type == F_UNLCK) return std::nullopt;
  return lock.l_pid;
}

NamespaceFileLock::NamespaceFileLock(const std::string& directory) {
  check_directory(directory);
  path_ = lock_path(directory);
  // A holder that exits removes the file: the one opened may be gone by the time it is ours.
  for (;;) {
    UniqueFd fd(::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd.valid()) fail("cannot open the lock file", path_, errno);
    struct flock lock = whole_file(F_WRLCK);
    if (::fcntl(fd.get(), F_SETLK, &lock) != 0) {
      const int error = errno;
      if (error != EAGAIN && error != EACCES) fail("cannot lock", path_, error);
      struct flock holder = lock;
      const bool known = ::fcntl(fd.get(), F_GETLK, &holder) == 0 && holder.l_type != F_UNLCK;
      throw InstanceLockError(
          "another `flannel-nftd run`" +
          (known ? " (pid " + std::to_string(holder.l_pid) + ")" : std::string()) + " holds " +
          path_ +
          " and keeps the flannel tables of this network namespace, and two would undo each "
          "other's changes: stop it first (systemctl stop flannel-nftd)");
    }
    struct stat locked {};
    struct stat named {};
    if (::fstat(fd.get(), &locked) != 0) fail("cannot stat", path_, errno);
    if (::stat(path_.c_str(), &named) == 0 && named.st_ino == locked.st_ino &&
        named.st_dev == locked.st_dev) {
      fd_ = std::move(fd);
      return;
    }
  }
}

NamespaceFileLock::~NamespaceFileLock() {
  ::unlink(path_.c_str());
}

}  // namespace fnft::daemon
