// The verbs of the flannel-nftd command line; each returns the process exit code.
#pragma once

#include <string>
#include <vector>

namespace fnft::daemon {

int dump_command(const std::vector<std::string>& args);
int apply_command(const std::vector<std::string>& args);
int cleanup_command(const std::vector<std::string>& args);
int run_command(const std::vector<std::string>& args);
int status_command(const std::vector<std::string>& args);
int doctor_command(const std::vector<std::string>& args);

}  // namespace fnft::daemon
