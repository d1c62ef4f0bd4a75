// The programs the daemon runs (the iptables tools), found in the system's own directories,
// never through the inherited PATH: whoever starts the daemon must not choose what it runs as
// CAP_NET_ADMIN. Children get a fixed environment for the same reason (an inherited
// XTABLES_LIBDIR would choose which extension libraries iptables loads).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fnft::daemon {

// Where programs are looked for, in order.
inline constexpr std::string_view kSystemProgramPath = "/usr/sbin:/usr/bin:/sbin:/bin";

// The absolute path of `name` in kSystemProgramPath, looked up once per name and remembered;
// nullopt when it is not installed there.
std::optional<std::string> find_system_program(const std::string& name);

// The whole environment of every child: PATH=kSystemProgramPath and LC_ALL=C.
const std::vector<std::string>& child_environment();

}  // namespace fnft::daemon
