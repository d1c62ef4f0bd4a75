// Watches the directories of flannel's config files with inotify. flanneld replaces
// subnet.env by rename and Kubernetes swaps ConfigMap volumes through a `..data` symlink,
// so the directory, not the file, is what tells us about a change.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace fnft::daemon {

class ConfigWatcher {
 public:
  // `on_change` runs once per burst of changes to the files, after `settle` without further
  // events, and at most `max_delay` after the first one: a directory that never stops
  // changing cannot hold a change back. Events for other names in those directories (other
  // programs' files, editors' temporaries) are ignored. The files as they are at start() are
  // not a change: the caller reads them itself.
  ConfigWatcher(boost::asio::io_context& io, const std::vector<std::string>& files,
                std::function<void()> on_change,
                std::chrono::milliseconds settle = std::chrono::milliseconds(100),
                std::chrono::milliseconds max_delay = std::chrono::milliseconds(500));

  void start();

 private:
  // Watches every directory not yet watched; `report_found`: one found now (created or
  // replaced since) counts as a change, since the files may have come with it.
  void add_missing_watches(bool report_found);
  void read_events();
  struct Drained {
    bool lost_directory = false;  // a watched directory went away or was replaced
    bool relevant = false;        // one of our names (or the directory) changed
  };
  // Reads every pending event.
  Drained drain_events();
  void changed();

  struct Directory {
    int watch = -1;                  // watch descriptor; -1: not watched (yet)
    std::vector<std::string> names;  // the names in it that matter
  };

  boost::asio::posix::stream_descriptor inotify_;
  boost::asio::steady_timer settle_timer_;
  boost::asio::steady_timer retry_timer_;
  std::map<std::string, Directory> directories_;
  std::function<void()> on_change_;
  std::chrono::milliseconds settle_;
  std::chrono::milliseconds max_delay_;
  // When the first change of the burst not yet reported arrived.
  std::optional<std::chrono::steady_clock::time_point> pending_since_;
  std::vector<char> buffer_;
};

}  // namespace fnft::daemon
