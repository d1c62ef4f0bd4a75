// Watches the directories of flannel's config files with inotify. flanneld replaces
// subnet.env by rename and Kubernetes swaps ConfigMap volumes through a `..data` symlink,
// so the directory, not the file, is what tells us about a change.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace fnft::daemon {

class ConfigWatcher {
 public:
  // `on_change` runs once per burst of changes, after `settle` without further events.
  ConfigWatcher(boost::asio::io_context& io, const std::vector<std::string>& files,
                std::function<void()> on_change,
                std::chrono::milliseconds settle = std::chrono::milliseconds(100));

  void start();

 private:
  void add_missing_watches();
  void read_events();
  // Reads every pending event; true when a watched directory disappeared.
  bool drain_events();
  void changed();

  boost::asio::posix::stream_descriptor inotify_;
  boost::asio::steady_timer settle_timer_;
  boost::asio::steady_timer retry_timer_;
  std::map<std::string, int> directories_;  // directory -> watch descriptor (-1: not yet)
  std::function<void()> on_change_;
  std::chrono::milliseconds settle_;
  std::vector<char> buffer_;
};

}  // namespace fnft::daemon
