// Every kernel experiment of the tests and benchmarks happens in network namespaces of their
// own: the host's ruleset, links and routes are never touched, and what a run creates goes
// with it, pass or fail.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "testkit/programs.hpp"

namespace fnft::testkit {

// "fnft-<pid>-<counter>-", a prefix no other test (of this or another run) uses.
std::string unique_prefix();

// `argv` run inside namespace `ns` through `ip netns exec`.
std::vector<std::string> in_namespace(const std::string& ns, std::vector<std::string> argv);

// A network namespace of our own (`ip netns add`, loopback up), deleted with every link in
// it by the destructor.
class Namespace {
 public:
  explicit Namespace(std::string name);
  ~Namespace();
  Namespace(const Namespace&) = delete;
  Namespace& operator=(const Namespace&) = delete;
  const std::string& name() const { return name_; }

  // `argv` inside it.
  RunResult run(std::vector<std::string> argv, std::string_view input = {},
                std::chrono::milliseconds timeout = 15s) const;
  // Throws with the command's output when it fails: for setup steps.
  RunResult run_checked(std::vector<std::string> argv, std::string_view input = {},
                        std::chrono::milliseconds timeout = 15s) const;

 private:
  std::string name_;
};

// This thread in namespace `ns` while the guard lives: what it creates then (sockets,
// children) belongs to `ns`, and /proc/self/net shows `ns`. Sockets keep the namespace they
// were made in.
class InNamespace {
 public:
  explicit InNamespace(const std::string& ns);
  ~InNamespace();
  InNamespace(const InNamespace&) = delete;
  InNamespace& operator=(const InNamespace&) = delete;

 private:
  int home_;
};

// Moves this process (and every child it starts afterwards) into a new, empty network
// namespace with loopback up. Must run before any thread is started: unshare() moves only
// the calling thread. Throws std::runtime_error when not root or the kernel refuses.
void enter_private_network_namespace();

// Deletes namespaces named fnft-<pid>-* and temp dirs named fnft-netns-<pid>-* whose
// creating process no longer exists (a test binary killed before its destructors ran).
// Those of live processes are left alone.
void remove_stale_namespaces();

}  // namespace fnft::testkit
