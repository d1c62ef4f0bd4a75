// Every kernel experiment of the benchmarks happens in a network namespace of their own:
// the host's ruleset, links and routes are never touched, and the namespace (with all it
// holds) disappears when the benchmark and its children exit, however they exit.
#pragma once

namespace fnft::bench {

// Moves this process (and every child it starts afterwards) into a new, empty network
// namespace. Must run before any thread is started: unshare() moves only the calling
// thread. Throws std::runtime_error when not root (CAP_SYS_ADMIN) or the kernel refuses.
void enter_private_network_namespace();

}  // namespace fnft::bench
