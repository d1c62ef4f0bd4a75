// Every kernel experiment of the benchmarks happens in a network namespace of their own:
// the host's ruleset, links and routes are never touched, and the namespace (with all it
// holds) disappears when the benchmark and its children exit, however they exit.
#pragma once

#include <string>
#include <vector>

namespace fnft::bench {

// Moves this process (and every child it starts afterwards) into a new, empty network
// namespace. Must run before any thread is started: unshare() moves only the calling
// thread. Throws std::runtime_error when not root (CAP_SYS_ADMIN) or the kernel refuses.
void enter_private_network_namespace();

// For benchmarks of several namespaces (a node and its pods): one made with `ip netns add`,
// deleted, with every link in it, on destruction.
class NamedNamespace {
 public:
  explicit NamedNamespace(std::string name);
  ~NamedNamespace();
  NamedNamespace(const NamedNamespace&) = delete;
  NamedNamespace& operator=(const NamedNamespace&) = delete;
  const std::string& name() const { return name_; }
  // `argv` run inside it (`ip netns exec`); throws std::runtime_error with its output when
  // it fails. Returns its stdout.
  std::string run(std::vector<std::string> argv, const std::string& input = {}) const;

 private:
  std::string name_;
};

// This thread in `ns` while the guard lives: what it creates then (sockets, children)
// belongs to `ns`, and /proc/self/net shows `ns`.
class InsideNamespace {
 public:
  explicit InsideNamespace(const NamedNamespace& ns);
  ~InsideNamespace();
  InsideNamespace(const InsideNamespace&) = delete;
  InsideNamespace& operator=(const InsideNamespace&) = delete;

 private:
  int home_;
};

}  // namespace fnft::bench
