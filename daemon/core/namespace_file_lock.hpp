// A lock file for one network namespace, under a directory only root can write: the instance
// lock's second line, for when the abstract socket name is held by a process that cannot be
// a flannel-nftd (any local user can bind an abstract name; nobody else can create files in
// /run/flannel-nftd).
#pragma once

#include <sys/types.h>

#include <optional>
#include <stdexcept>
#include <string>

#include "daemon/process/unique_fd.hpp"

namespace fnft::daemon {

class NamespaceFileLock {
 public:
  // Takes `directory`/run-<the network namespace's inode>.lock with a POSIX write lock,
  // creating the directory (0755) and file (0600). Throws InstanceLockError naming the pid
  // that holds it, std::runtime_error naming the path for any other failure.
  explicit NamespaceFileLock(const std::string& directory);
  // Removes the file while still holding it: the next daemon creates a new one (and one that
  // opened this file meanwhile sees that it was replaced, and opens the new one).
  ~NamespaceFileLock();
  NamespaceFileLock(const NamespaceFileLock&) = delete;
  NamespaceFileLock& operator=(const NamespaceFileLock&) = delete;

  const std::string& path() const { return path_; }

  // The pid of the process that holds this namespace's lock file in `directory`, if one
  // does. Creates nothing.
  static std::optional<pid_t> holder(const std::string& directory);

 private:
  std::string path_;
  UniqueFd fd_;
};

}  // namespace fnft::daemon
