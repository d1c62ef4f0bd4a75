// A scratch directory of one test or benchmark.
#pragma once

#include <string>

namespace fnft::testkit {

// A mkdtemp directory named fnft-netns-<pid>-XXXXXX (so remove_stale_namespaces() finds it
// after a killed run), removed with its contents by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  // Writes `content` to `name` in it; returns the file's path.
  std::string write(const std::string& name, const std::string& content) const;

 private:
  std::string path_;
};

}  // namespace fnft::testkit
