// Command-line options shared by the verbs, parsed with Boost.Program_options.
#pragma once

#include <boost/program_options.hpp>
#include <optional>
#include <string>

#include "state/config.hpp"

namespace fnft::daemon {

inline constexpr const char* kDefaultSubnetFile = "/run/flannel/subnet.env";
inline constexpr const char* kDefaultNetConfigPath = "/etc/kube-flannel/net-conf.json";

// Exit codes of every verb.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// --iptables-backend: which iptables the iptables mode writes to.
enum class IptablesBackendOption { automatic, nft, legacy };

struct ConfigOptions {
  std::string subnet_file = kDefaultSubnetFile;
  std::string net_config_path = kDefaultNetConfigPath;
  std::optional<state::Mode> mode;
  IptablesBackendOption iptables_backend = IptablesBackendOption::automatic;
  state::RuleOptions rules;
};

// --flowtable: off; on (the fast path where the kernel has flowtables, a warning where it
// has not); required (a kernel without flowtables is an error).
enum class FlowtableOption { off, on, required };

struct FastPathSettings {
  FlowtableOption flowtable = FlowtableOption::off;
  std::string cni_bridge = "cni0";  // --cni-bridge
};

// --protect: hold the nftables tables with `flags owner, persist` so that the kernel refuses
// every other process's change. auto: where the kernel has it (6.9+); on: an error where not.
enum class ProtectOption { automatic, on, off };
// "auto", "on" or "off"; anything else is a UsageError.
ProtectOption parse_protect(const std::string& text);
// A switch like --conntrack-reset: "on"/"true" or "off"/"false"; else a UsageError naming
// `option`.
bool parse_on_off(const std::string& option, const std::string& text);

// Thrown for bad usage; main prints it with the verb's usage hint and exits 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// --subnet-file, --net-config-path, --mode, --iptables-backend, --ip-masq, --forward-rules,
// --ip-masq-fully-random-disable.
// `cleanup` takes them too (one set of flags serves every verb of a unit or a script), with
// --mode also accepting "all".
enum class ModeChoices { one_mode, or_all };
boost::program_options::options_description config_options_description(
    ConfigOptions& out, ModeChoices mode_choices = ModeChoices::one_mode);

// --flowtable, --cni-bridge.
boost::program_options::options_description fast_path_options_description(FastPathSettings& out);
void finish_fast_path_options(const boost::program_options::variables_map& vm,
                              FastPathSettings& out);

// Parses `args` (the words after the verb) against `description`; --help is handled by the
// caller through the returned map. Throws UsageError.
boost::program_options::variables_map parse_verb_arguments(
    const std::vector<std::string>& args,
    const boost::program_options::options_description& description);

// A number option's value, checked: Program_options reads "nan", "inf" and "1e300" as doubles
// and any 64-bit integer as a long, and each must fail here with one line, not misbehave
// later (a poll of every nanosecond, a duration that overflows). Returns `value`.
double bounded_option(const char* option, double value, double min, double max, const char* unit);

// Applies what Program_options cannot express directly (the mode and backend strings).
void finish_config_options(const boost::program_options::variables_map& vm, ConfigOptions& out);

// "nftables" or "iptables"; anything else is a UsageError.
state::Mode parse_mode(const std::string& text);
// "auto", "nft" or "legacy"; anything else is a UsageError.
IptablesBackendOption parse_iptables_backend(const std::string& text);

}  // namespace fnft::daemon
