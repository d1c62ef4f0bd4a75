// `flannel-nftd doctor`: reads the node (nf_tables, both iptables, sysctls, flanneld's files,
// flannel's own rules) without changing anything, and says what would break or weaken pod
// traffic (state/doctor.cpp judges). Works with or without the daemon running.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <utility>

#include "daemon/backends/backend_choice.hpp"
#include "daemon/backends/backend_set.hpp"
#include "daemon/backends/iptables_survey.hpp"
#include "daemon/cli/run_to_completion.hpp"
#include "daemon/cli/verbs.hpp"
#include "daemon/config/config_files.hpp"
#include "daemon/config/options.hpp"
#include "netlink/conntrack_table.hpp"
#include "netlink/nft_base_chains.hpp"
#include "netlink/nft_dump.hpp"
#include "netlink/nft_table_sync.hpp"
#include "state/config_parse.hpp"
#include "state/conntrack_repair.hpp"
#include "state/desired_ruleset.hpp"
#include "state/doctor.hpp"
#include "state/ruleset_diff.hpp"

namespace po = boost::program_options;

namespace fnft::daemon {
namespace {

constexpr const char* kUsage =
    "Usage: flannel-nftd doctor [--json] [config options]\n"
    "\n"
    "Read this node, change nothing, and say what would break or weaken pod traffic: another\n"
    "table's base chain that drops or masquerades it, iptables-legacy and iptables-nft both\n"
    "holding rules, a second masquerade writer (flanneld's --ip-masq, the CNI bridge plugin's\n"
    "ipMasq), forwarding off, strict rp_filter on the flannel device, a nearly full conntrack\n"
    "table, connections left without masquerade (conntrack entries that a moment without the\n"
    "rules left broken), and flannel's own rules missing or different. Each finding with its\n"
    "evidence and what to do. Exit code 0 when nothing is wrong (warnings allowed), 1 with an\n"
    "error.\n";

std::optional<std::uint64_t> read_number(const std::string& path) {
  std::ifstream in(path);
  std::uint64_t value = 0;
  if (!(in >> value)) return std::nullopt;
  return value;
}

std::optional<int> read_flag(const std::string& path) {
  const auto value = read_number(path);
  return value ? std::optional<int>(static_cast<int>(*value)) : std::nullopt;
}

// rp_filter's effective value on each flannel device: the larger of `all` and the device's.
std::vector<std::pair<std::string, int>> flannel_rp_filter() {
  std::vector<std::pair<std::string, int>> found;
  const int all = read_flag("/proc/sys/net/ipv4/conf/all/rp_filter").value_or(0);
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/sys/net/ipv4/conf", error)) {
    const std::string device = entry.path().filename().string();
    if (device.rfind("flannel", 0) != 0) continue;
    const int own = read_flag(entry.path() / "rp_filter").value_or(0);
    found.emplace_back(device, std::max(all, own));
  }
  return found;
}

// The "-"/"+" lines of a diff, each after the table and chain lines it belongs to.
std::string changed_lines(const std::string& diff) {
  std::istringstream in(diff);
  std::string out;
  std::string table;
  std::string chain;
  for (std::string line; std::getline(in, line);) {
    const std::string text = line.size() > 2 ? line.substr(2) : "";
    const auto start = text.find_first_not_of('\t');
    const std::string bare = start == std::string::npos ? "" : text.substr(start);
    const bool changed = line.rfind("- ", 0) == 0 || line.rfind("+ ", 0) == 0;
    if (!changed) {
      if (bare.rfind("table ", 0) == 0) table = bare, chain.clear();
      if (bare.rfind("chain ", 0) == 0 || bare.rfind("flowtable ", 0) == 0) chain = bare;
      continue;
    }
    if (!table.empty()) out += "  " + std::exchange(table, "") + "\n";
    if (!chain.empty()) out += "    " + std::exchange(chain, "") + "\n";
    out += line.substr(0, 2) + bare + "\n";
  }
  return out.empty() ? diff : out;
}

// Our rules against the desired ones; nullopt when they match.
std::optional<std::string> nftables_difference(netlink::NfnlSocket& socket,
                                               const state::NodeConfig& config) {
  netlink::NftTableSync tables(socket);
  state::Ruleset desired = state::desired_nft_ruleset(config);
  state::Ruleset observed = tables.observe(desired);
  // What the daemon was started with is not known here: a table's protection and its fast
  // path are taken as they are, and everything else compared.
  for (auto& table : desired.tables) {
    const state::Table* held = observed.find_table(table.family, table.name);
    if (held == nullptr) continue;
    table.protection = held->protection;
    if (const auto* flowtable = held->find_flowtable(state::kFlowtableName)) {
      state::FastPath fast_path{flowtable->devices, flowtable->counter};
      const state::Ruleset with_fast_path =
          state::desired_nft_ruleset(config, fast_path, held->protection);
      if (const auto* wanted = with_fast_path.find_table(table.family, table.name)) table = *wanted;
    }
  }
  netlink::order_chains_like(observed, desired);
  if (observed == desired) return std::nullopt;
  return changed_lines(state::diff_text(desired, observed));
}

const char* severity_name(state::Finding::Severity severity) {
  return severity == state::Finding::Severity::error ? "error" : "warning";
}

}  // namespace

int doctor_command(const std::vector<std::string>& args) {
  ConfigOptions options;
  bool json = false;
  po::options_description description = config_options_description(options);
  po::options_description own("Doctor");
  own.add_options()("json", po::bool_switch(&json), "print the findings as JSON")("help,h",
                                                                                  "show this help");
  description.add(own);
  const auto vm = parse_verb_arguments(args, description);
  if (vm.count("help") != 0) {
    std::cout << kUsage << "\n" << description << "\n";
    return kExitOk;
  }
  finish_config_options(vm, options);

  state::NodeReading node;
  node.subnet_file = options.subnet_file;
  try {
    const LoadedConfig loaded = load_config(options);
    node.config = loaded.node;
    node.mode = loaded.mode;
    node.flanneld_ip_masq = loaded.subnet_env.ip_masq;
  } catch (const state::ConfigError& error) {
    node.config_problem = error.what();
    node.mode = options.mode.value_or(state::Mode::iptables);
  }

  boost::asio::io_context io;
  netlink::NfnlSocket socket;
  std::vector<std::string> unread;  // what could not be read, said after the findings
  try {
    for (const auto& chain : netlink::list_base_chains(socket)) {
      const bool ours = (chain.family == "ip" && chain.table == state::kIpv4TableName) ||
                        (chain.family == "ip6" && chain.table == state::kIpv6TableName);
      if (ours) continue;
      node.base_chains.push_back({chain.family, chain.table, chain.chain, chain.type, chain.hook,
                                  chain.priority, chain.policy_drop, chain.masquerades,
                                  chain.drops});
    }
  } catch (const std::exception& error) {
    unread.push_back(std::string("the nf_tables ruleset: ") + error.what());
  }
  const IptablesSurvey survey =
      run_to_completion<IptablesSurvey>(io, [&](auto done) { survey_iptables(io, done); });
  node.iptables_nft = survey.nft;
  node.iptables_legacy = survey.legacy;
  unread.insert(unread.end(), survey.problems.begin(), survey.problems.end());

  node.ip_forward = read_flag("/proc/sys/net/ipv4/ip_forward");
  node.ipv6_forwarding = read_flag("/proc/sys/net/ipv6/conf/all/forwarding");
  node.bridge_nf_call_iptables = read_flag("/proc/sys/net/bridge/bridge-nf-call-iptables");
  node.rp_filter = flannel_rp_filter();
  node.conntrack_count = read_number("/proc/sys/net/netfilter/nf_conntrack_count");
  node.conntrack_max = read_number("/proc/sys/net/netfilter/nf_conntrack_max");

  if (node.config && node.config->options.ip_masq) {
    try {
      netlink::ConntrackTable conntrack;
      const state::Ruleset rules = state::desired_nft_ruleset(*node.config);
      std::vector<std::pair<std::string, std::uint64_t>> counts;
      for (const auto family : {state::Family::ipv4, state::Family::ipv6}) {
        counts.emplace_back(std::string(state::family_name(family)),
                            conntrack.count(family, [&](const state::ConntrackEntry& entry) {
                              return state::missed_masquerade(rules, entry);
                            }));
      }
      node.unmasqueraded_connections = std::move(counts);
    } catch (const std::exception& error) {
      unread.push_back(std::string("the conntrack table: ") + error.what());
    }
  }
  if (node.config) {
    try {
      if (node.mode == state::Mode::nftables) {
        node.rules_difference = nftables_difference(socket, *node.config);
      } else {
        BackendSet backends(io, socket, std::chrono::seconds(5));
        const ChosenBackend chosen = run_to_completion<ChosenBackend>(io, [&](auto done) {
          choose_backend(io, node.mode, "", options.iptables_backend, done);
        });
        const state::Target target{*node.config, std::nullopt};
        const BackendObservation observed = run_to_completion<BackendObservation>(
            io, [&](auto done) { backends.of(chosen.kind).observe(target, done); });
        if (observed.error) {
          unread.push_back("flannel's rules: " + *observed.error);
        } else if (!observed.matches) {
          node.rules_difference = observed.difference;
        }
      }
    } catch (const std::exception& error) {
      unread.push_back(std::string("flannel's rules: ") + error.what());
    }
  }

  const auto findings = state::diagnose(node);
  const bool any_error = std::any_of(findings.begin(), findings.end(), [](const auto& finding) {
    return finding.severity == state::Finding::Severity::error;
  });
  const std::string mode = node.mode == state::Mode::nftables ? "nftables" : "iptables";
  if (json) {
    nlohmann::json out;
    out["mode"] = mode;
    out["findings"] = nlohmann::json::array();
    for (const auto& finding : findings) {
      out["findings"].push_back({{"severity", severity_name(finding.severity)},
                                 {"what", finding.what},
                                 {"evidence", finding.evidence},
                                 {"action", finding.action}});
    }
    out["unread"] = unread;
    std::cout << out.dump(2) << "\n";
  } else {
    if (findings.empty()) {
      std::cout << "flannel-nftd doctor: nothing found that would break or weaken pod traffic ("
                << mode << " mode)\n";
    } else {
      std::cout << "flannel-nftd doctor: " << findings.size() << " finding(s) (" << mode
                << " mode)\n";
    }
    for (const auto& finding : findings) {
      std::cout << "\n" << severity_name(finding.severity) << ": " << finding.what << "\n";
      std::string evidence = finding.evidence;
      if (!evidence.empty() && evidence.back() == '\n') evidence.pop_back();
      std::cout << "  evidence: ";
      for (const char c : evidence) {
        std::cout << c;
        if (c == '\n') std::cout << "    ";
      }
      std::cout << "\n  what to do: " << finding.action << "\n";
    }
    for (const auto& what : unread) std::cout << "\nnot read: " << what << "\n";
  }
  return any_error ? kExitFailure : kExitOk;
}

}  // namespace fnft::daemon
