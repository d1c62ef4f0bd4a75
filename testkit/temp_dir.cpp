#include "testkit/temp_dir.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace fnft::testkit {

TempDir::TempDir() {
  const std::string name = "fnft-netns-" + std::to_string(::getpid()) + "-XXXXXX";
  std::string pattern = (std::filesystem::temp_directory_path() / name).string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("mkdtemp " + pattern + ": " + std::strerror(errno));
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string TempDir::write(const std::string& name, const std::string& content) const {
  const std::string file = path_ + "/" + name;
  std::ofstream out(file);
  out << content;
  if (!out.flush()) throw std::runtime_error("cannot write " + file);
  return file;
}

}  // namespace fnft::testkit
