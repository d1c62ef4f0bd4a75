// flannel-nftd: owns flannel's packet-filter rules on a node.
#include <spdlog/spdlog.h>

#include <array>
#include <csignal>
#include <iostream>
#include <string_view>

#include "daemon/cli/verbs.hpp"
#include "daemon/config/options.hpp"
#include "state/config_parse.hpp"

namespace {

struct Verb {
  std::string_view name;
  std::string_view summary;
  int (*run)(const std::vector<std::string>&);
};

constexpr std::array kVerbs = {
    Verb{"run", "keep the rules in place, repairing them the moment anything changes them",
         fnft::daemon::run_command},
    Verb{"apply", "apply the rules once, verify, and exit", fnft::daemon::apply_command},
    Verb{"cleanup", "remove every rule a mode installs", fnft::daemon::cleanup_command},
    Verb{"dump", "print the desired ruleset (nft or iptables-restore syntax)",
         fnft::daemon::dump_command},
    Verb{"status", "ask the running daemon what it holds and why", fnft::daemon::status_command},
    Verb{"doctor", "say what on this node would break or weaken pod traffic",
         fnft::daemon::doctor_command},
};

void print_usage(std::ostream& out) {
  out << "Usage: flannel-nftd <verb> [options]\n"
         "\n"
         "Owns flannel's pod masquerade and forward rules in nftables or iptables, reading\n"
         "flanneld's own subnet.env and net-conf.json.\n"
         "\n"
         "Verbs:\n";
  for (const auto& verb : kVerbs)
    out << "  " << verb.name << std::string(10 - verb.name.size(), ' ') << verb.summary << "\n";
  out << "\n`flannel-nftd <verb> --help` explains each verb's options.\n"
         "Exit codes: 0 ok, 1 runtime failure, 2 bad usage or configuration.\n";
}

}  // namespace

int main(int argc, char** argv) {
  using namespace fnft::daemon;
  // A child that exits before reading its input must not kill us with SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  const std::vector<std::string> words(argv + 1, argv + argc);
  if (words.empty()) {
    print_usage(std::cerr);
    return kExitUsage;
  }
  if (words[0] == "--help" || words[0] == "-h" || words[0] == "help") {
    print_usage(std::cout);
    return kExitOk;
  }
  if (words[0] == "--version") {
    std::cout << "flannel-nftd " FNFT_VERSION "\n";
    return kExitOk;
  }
  for (const auto& verb : kVerbs) {
    if (words[0] != verb.name) continue;
    const std::vector<std::string> args(words.begin() + 1, words.end());
    try {
      return verb.run(args);
    } catch (const UsageError& error) {
      std::cerr << "flannel-nftd " << verb.name << ": " << error.what() << " (see `flannel-nftd "
                << verb.name << " --help`)\n";
      return kExitUsage;
    } catch (const fnft::state::ConfigError& error) {
      std::cerr << "flannel-nftd " << verb.name << ": " << error.what() << "\n";
      return kExitUsage;
    } catch (const std::exception& error) {
      std::cerr << "flannel-nftd " << verb.name << ": " << error.what() << "\n";
      return kExitFailure;
    }
  }
  std::cerr << "flannel-nftd: unknown verb \"" << words[0] << "\"\n\n";
  print_usage(std::cerr);
  return kExitUsage;
}
