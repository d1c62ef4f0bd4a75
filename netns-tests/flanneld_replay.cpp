// flanneld v0.28.9, replayed: the netfilter commands flanneld issues, with the real `nft`,
// `iptables`, `ip6tables`, `iptables-restore` and `ip6tables-restore`, in flanneld's order,
// deciding like flanneld which failures end it (exit 1) and which it only logs. The tests run
// it beside flannel-nftd where flanneld itself cannot run (no Go toolchain here). Its process
// name is "flanneld", so the commands it starts have flanneld as their parent, as on a node.
//
// Followed from flannel-io/flannel v0.28.9 and the libraries it vendors:
//  - main.go 390-400: CleanUp of the traffic manager of the mode NOT in use
//    (newTrafficManager(!config.EnableNFTables)); an error is fatal, but only the iptables
//    manager's CleanUp returns one (iptables/ip6tables not runnable).
//  - main.go 401-409: Init of the mode in use; an error is fatal.
//  - main.go 411-433: with --ip-masq, SetupAndEnsureMasqRules with the previous network and
//    lease read from subnet.env (main.go 607-677: net.ParseCIDR, so masked); an error is fatal.
//  - main.go 438-443: with --iptables-forward-rules, SetupAndEnsureForwardRules; errors are
//    only logged.
//  - main.go 476-484: subnet.env written (pkg/subnet/subnet.go 70-90 WriteSubnetFile through
//    renameio: a temporary file in the same directory, renamed over the old one); then ready.
//  - pkg/trafficmngr/nftables/nftables.go 42-73 (Init, initTable: knftables.New and
//    `add table ... { comment "rules for NAME" ; }` for BOTH families, whatever is enabled),
//    79-147 (forward rules), 149-264 (masquerade rules: add chain, flush chain, six rules),
//    279-302 (CleanUp: delete each table, errors logged at V(2)); utils.go 31-57
//    (checkRandomfully: `nft --check` of a test chain with `masquerade fully-random`).
//  - sigs.k8s.io/knftables v0.0.18 nftables.go 84-127 (New: `nft --version`, then
//    `nft --check -f -` of `add table` with comment "test", falling back to one without),
//    143-187 (Run: `nft -f -`; Check: `nft --check -f -`); objects.go (the text of each
//    operation; priorities written as numbers: srcnat 100, filter 0).
//  - pkg/trafficmngr/iptables/iptables.go 58-90 (CleanUp: ClearAndDeleteChain nat
//    FLANNEL-POSTRTG and nat FLANNEL-FWD, IPv4 then IPv6), 92-133 (masquerade: recycle the
//    previous network's rules when network or lease changed, CreateIP4Chain, bootstrap),
//    135-207 (the rules), 209-231 (forward rules), 233-261 (CreateIP4Chain: ClearChain,
//    errors logged), 263-345 (existence checks; bootstrap: -D of each rule that exists and -A
//    of each, one `iptables-restore --noflush --wait`), 347-420 (setupAndEnsure: bootstrap,
//    then every --iptables-resync seconds ensureIPTables: all rules checked with -C, and on a
//    miss the bootstrap again), 482-500 (ensureIPTables), 502-545 (teardown);
//    iptables_restore.go (payload: "*table", the rules, "COMMIT"; `--noflush --wait`).
//  - github.com/coreos/go-iptables v0.8.0 iptables/iptables.go: New runs `iptables --version`;
//    Exists `-t T -C C spec...`, ChainExists `-t T -S C 1` (exit 1: absent), ClearChain `-N`
//    then `-F` when -N exits 1, ClearAndDeleteChain ChainExists then `-F` and `-X`; every
//    command with `--wait`.
//
// A lease change is flanneld started again with another lease: the kube subnet manager's
// lease is the Node's podCIDR, which changes only with a new Node, and an etcd lease that is
// lost ends flanneld (main.go 497-505); its next start finds the old lease in subnet.env.
// Stopping (SIGTERM) runs no netfilter command: flanneld leaves its rules in place.
//
// Over 400 lines: one standalone program that follows flanneld's path in its order, each step
// beside the source lines it replays; split, the steps would lose their citations.
//
//   flanneld_replay --subnet-file=F --network=CIDR --lease=CIDR [--ipv6-network=CIDR
//       --ipv6-lease=CIDR] [--no-ipv4] [--enable-nftables] [--ip-masq=true|false]
//       [--iptables-forward-rules=true|false] [--iptables-resync=SECONDS] [--mtu=N]
//       [--ip-masq-random-fully-disable]
//
// Every command goes to stdout as "$ argv" (with its stdin indented below) and "-> exit N";
// flanneld's log lines go to stderr.
//
// Over 400 lines: a standalone program that follows flanneld's source function by function;
// its order is flanneld's, cited as it goes.
#include <arpa/inet.h>
#include <sys/prctl.h>

#include <array>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "testkit/programs.hpp"

namespace {

using fnft::testkit::RunResult;
using Argv = std::vector<std::string>;

std::atomic<bool> stopping{false};

void log_line(char level, const std::string& text) {
  std::cerr << level << " " << text << std::endl;
}

// One command, as flanneld runs it (no timeout: Go's exec has none; 60 s bounds a test).
RunResult command(const Argv& argv, const std::string& input = {}) {
  std::string line = "$";
  for (const auto& arg : argv) line += " " + arg;
  std::cout << line << "\n";
  if (!input.empty()) {
    std::istringstream lines(input);
    for (std::string text; std::getline(lines, text);) std::cout << "    " << text << "\n";
  }
  RunResult result = fnft::testkit::run(argv, input, std::chrono::seconds(60));
  std::cout << "-> exit " << result.exit_code << std::endl;
  return result;
}

std::string error_text(const RunResult& result) {
  std::string text = "exit status " + std::to_string(result.exit_code);
  std::string err = result.err;
  while (!err.empty() && err.back() == '\n') err.pop_back();
  if (!err.empty()) text += ": " + err;
  return text;
}

struct Options {
  std::string subnet_file;
  bool ipv4 = true;
  std::string network, lease;            // masked CIDRs
  std::string ipv6_network, ipv6_lease;  // "" when IPv6 is not enabled
  bool enable_nftables = false;
  bool ip_masq = false;
  bool forward_rules = true;  // flanneld's default
  int resync_seconds = 5;
  int mtu = 1450;
  bool random_fully_disable = false;
};

// ---- knftables ----

struct Knftables {
  std::string family;  // "ip" / "ip6"
  std::string table;
  bool no_object_comments = false;

  std::string table_operation(const std::string& verb,
                              const std::optional<std::string>& comment) const {
    std::string text = verb + " table " + family + " " + table;
    if (comment && !no_object_comments) text += " { comment \"" + *comment + "\" ; }";
    return text + "\n";
  }
  bool run(const std::string& transaction, std::string* error) const {
    const RunResult result = command({"nft", "-f", "-"}, transaction);
    if (!result.ok() && error) *error = error_text(result);
    return result.ok();
  }
  bool check(const std::string& transaction, std::string* error) const {
    const RunResult result = command({"nft", "--check", "-f", "-"}, transaction);
    if (!result.ok() && error) *error = error_text(result);
    return result.ok();
  }
};

// knftables.New(family, table).
std::optional<Knftables> knftables_new(const std::string& family, const std::string& table,
                                       std::string& error) {
  Knftables nft{family, table};
  const RunResult version = command({"nft", "--version"});
  if (!version.ok()) {
    error = "could not run nftables command: " + error_text(version);
    return std::nullopt;
  }
  if (!nft.check(nft.table_operation("add", "test"), nullptr)) {
    if (!nft.check(nft.table_operation("add", std::nullopt), &error)) {
      error = "could not run nftables command: " + error;
      return std::nullopt;
    }
    nft.no_object_comments = true;
  }
  return nft;
}

struct NftablesManager {
  std::optional<Knftables> v4, v6;

  static std::optional<Knftables> init_table(const std::string& family, const std::string& name,
                                             std::string& error) {
    std::optional<Knftables> nft = knftables_new(family, name, error);
    if (!nft) {
      error = "no nftables support: " + error;
      return std::nullopt;
    }
    std::string run_error;
    if (!nft->run(nft->table_operation("add", "rules for " + name), &run_error)) {
      error = "nftables: couldn't initialise table " + name + ": " + run_error;
      return std::nullopt;
    }
    return nft;
  }

  bool init(std::string& error) {
    log_line('I', "Starting flannel in nftables mode...");
    v4 = init_table("ip", "flannel-ipv4", error);
    if (!v4) return false;
    v6 = init_table("ip6", "flannel-ipv6", error);
    return v6.has_value();
  }

  static void cleanup() {
    log_line('I', "Cleaning-up nftables rules...");
    for (const auto& [family, table] : {std::pair{"ip", "flannel-ipv4"}, {"ip6", "flannel-ipv6"}}) {
      std::string error;
      if (auto nft = knftables_new(family, table, error)) {
        nft->run("delete table " + std::string(family) + " " + table + "\n", &error);
      }
      if (!error.empty()) log_line('I', std::string("nftables: couldn't delete table: ") + error);
    }
  }

  static std::string chain_operation(const Knftables& nft, const std::string& name,
                                     const std::string& type, const std::string& hook, int priority,
                                     const std::string& comment) {
    std::string text = "add chain " + nft.family + " " + nft.table + " " + name + " { type " +
                       type + " hook " + hook + " priority " + std::to_string(priority) + " ;";
    if (!nft.no_object_comments) text += " comment \"" + comment + "\" ;";
    return text + " }\n";
  }

  bool random_fully_supported() const {
    const std::string name = "masqueradeTest";
    const std::string tx =
        chain_operation(*v4, name, "nat", "postrouting", 100,
                        "chain to test if masquerade random fully is supported") +
        "flush chain ip " + v4->table + " " + name + "\n" + "add rule ip " + v4->table + " " +
        name + " ip saddr != 127.0.0.1 masquerade fully-random\n";
    if (v4->check(tx, nullptr)) return true;
    log_line('W', "nftables: random fully unsupported");
    return false;
  }

  bool setup_masq(const Options& o, std::string& error) {
    for (const bool ipv6 : {false, true}) {
      const std::string network = ipv6 ? o.ipv6_network : (o.ipv4 ? o.network : "");
      if (network.empty()) continue;
      const Knftables& nft = ipv6 ? *v6 : *v4;
      const std::string lease = ipv6 ? o.ipv6_lease : o.lease;
      log_line('I', ipv6 ? "nftables: setting up masking rules (ipv6)"
                         : "nftables: setting up masking rules (ipv4)");
      std::string tx = chain_operation(nft, "postrtg", "nat", "postrouting", 100,
                                       "chain to manage traffic masquerading by flannel") +
                       "flush chain " + nft.family + " " + nft.table + " postrtg\n";
      const std::string masquerade = (!random_fully_supported() || o.random_fully_disable)
                                         ? "masquerade"
                                         : "masquerade fully-random";
      const std::string f = nft.family;
      const std::string multicast = ipv6 ? "ff00::/8" : "224.0.0.0/4";
      const std::string rule = "add rule " + f + " " + nft.table + " postrtg ";
      tx += rule + "meta mark 0x4000 return\n";
      tx += rule + f + " saddr " + lease + " " + f + " daddr " + network + " return\n";
      tx += rule + f + " saddr " + network + " " + f + " daddr " + lease + " return\n";
      tx += rule + f + " saddr != " + lease + " " + f + " daddr " + network + " return\n";
      tx += rule + f + " saddr " + network + " " + f + " daddr != " + multicast + " " + masquerade +
            "\n";
      tx += rule + f + " saddr != " + network + " " + f + " daddr " + network + " " + masquerade +
            "\n";
      std::string run_error;
      if (!nft.run(tx, &run_error)) {
        error = "nftables: couldn't setup masq rules: " + run_error;
        return false;
      }
    }
    return true;
  }

  void setup_forward(const Options& o) const {
    for (const bool ipv6 : {false, true}) {
      const std::string network = ipv6 ? o.ipv6_network : (o.ipv4 ? o.network : "");
      if (network.empty()) continue;
      const Knftables& nft = ipv6 ? *v6 : *v4;
      log_line('I', ipv6 ? "Changing default FORWARD chain policy to ACCEPT (ipv6)"
                         : "Changing default FORWARD chain policy to ACCEPT");
      const std::string f = nft.family;
      const std::string rule = "add rule " + f + " " + nft.table + " forward ";
      const std::string tx = chain_operation(nft, "forward", "filter", "forward", 0,
                                             "chain to accept flannel traffic") +
                             "flush chain " + f + " " + nft.table + " forward\n" + rule + f +
                             " saddr " + network + " accept\n" + rule + f + " daddr " + network +
                             " accept\n";
      std::string run_error;
      if (!nft.run(tx, &run_error))
        log_line('E', std::string("nftables: couldn't setup forward rules") +
                          (ipv6 ? " (ipv6): " : ": ") + run_error);
    }
  }
};

// ---- go-iptables and flanneld's iptables manager ----

struct Iptables {
  std::string tool;  // "iptables" / "ip6tables"

  RunResult run(Argv args) const {
    args.insert(args.begin(), tool);
    args.push_back("--wait");
    return command(args);
  }
  bool exists(const std::string& table, const std::string& chain, const Argv& spec,
              std::string& error) const {
    Argv args = {"-t", table, "-C", chain};
    args.insert(args.end(), spec.begin(), spec.end());
    const RunResult result = run(args);
    if (result.exit_code == 1) return false;
    if (!result.ok()) error = error_text(result);
    return result.ok();
  }
  bool chain_exists(const std::string& table, const std::string& chain, std::string& error) const {
    const RunResult result = run({"-t", table, "-S", chain, "1"});
    if (result.exit_code == 1) return false;
    if (!result.ok()) error = error_text(result);
    return result.ok();
  }
  bool clear_chain(const std::string& table, const std::string& chain, std::string& error) const {
    RunResult result = run({"-t", table, "-N", chain});
    if (result.exit_code == 1) result = run({"-t", table, "-F", chain});
    if (!result.ok()) error = error_text(result);
    return result.ok();
  }
  bool clear_and_delete_chain(const std::string& table, const std::string& chain,
                              std::string& error) const {
    if (!chain_exists(table, chain, error)) return error.empty();
    RunResult result = run({"-t", table, "-F", chain});
    if (result.ok()) result = run({"-t", table, "-X", chain});
    if (!result.ok()) error = error_text(result);
    return result.ok();
  }
};

// iptables.New() / NewWithProtocol: `iptables --version`.
std::optional<Iptables> iptables_new(bool ipv6, std::string& error) {
  Iptables ipt{ipv6 ? "ip6tables" : "iptables"};
  const RunResult version = command({ipt.tool, "--version"});
  if (!version.ok()) {
    error = "could not get iptables version: " + error_text(version);
    return std::nullopt;
  }
  return ipt;
}

struct IptablesRule {
  std::string table, action, chain;
  Argv spec;
};

struct IptablesRuleSet {
  bool ipv6;
  std::vector<IptablesRule> rules;
};

// NewIPTablesRestoreWithProtocol: `iptables --version` for its --wait support.
bool restore_new(bool ipv6, std::string& error) {
  const RunResult version = command({ipv6 ? "ip6tables" : "iptables", "--version"});
  if (!version.ok()) error = error_text(version);
  return version.ok();
}

std::string restore_payload(const std::map<std::string, std::vector<Argv>>& tables) {
  std::string payload;
  for (const auto& [table, lines] : tables) {
    payload += "*" + table + "\n";
    for (const auto& line : lines) {
      for (std::size_t i = 0; i < line.size(); ++i) {
        payload += (i > 0 && line[i - 1] == "--comment") ? "\"" + line[i] + "\"" : line[i];
        payload += i + 1 < line.size() ? " " : "\n";
      }
    }
    payload += "COMMIT\n";
  }
  return payload;
}

bool apply_without_flush(bool ipv6, const std::map<std::string, std::vector<Argv>>& tables,
                         std::string& error) {
  const RunResult result =
      command({ipv6 ? "ip6tables-restore" : "iptables-restore", "--noflush", "--wait"},
              restore_payload(tables));
  if (!result.ok()) error = "unable to run iptables-restore: " + error_text(result);
  return result.ok();
}

const std::string* flannel_chain_of(const IptablesRule& rule) {
  static const std::array<std::string, 2> chains = {"FLANNEL-FWD", "FLANNEL-POSTRTG"};
  for (const auto& chain : chains)
    if (rule.chain == chain || rule.spec.back() == chain) return &chain;
  return nullptr;
}

bool rules_exist(const Iptables& ipt, const IptablesRuleSet& set, std::string& error) {
  for (const auto& rule : set.rules) {
    if (const std::string* chain = flannel_chain_of(rule)) {
      if (!ipt.chain_exists(rule.table, *chain, error)) return false;
    }
    if (!ipt.exists(rule.table, rule.chain, rule.spec, error)) return false;
  }
  return true;
}

bool bootstrap(const Iptables& ipt, const IptablesRuleSet& set, std::string& error) {
  std::map<std::string, std::vector<Argv>> tables;
  for (const auto& rule : set.rules) {
    if (const std::string* chain = flannel_chain_of(rule)) {
      if (!ipt.chain_exists(rule.table, *chain, error)) {
        if (!error.empty() || !ipt.clear_chain(rule.table, *chain, error)) {
          error = "failed to setup iptables-restore payload: " + error;
          return false;
        }
      }
    }
    const bool exists = ipt.exists(rule.table, rule.chain, rule.spec, error);
    if (!error.empty()) {
      error = "failed to setup iptables-restore payload: " + error;
      return false;
    }
    Argv line = {exists ? "-D" : rule.action, rule.chain};
    line.insert(line.end(), rule.spec.begin(), rule.spec.end());
    if (exists) {
      tables[rule.table].push_back(line);
      line[0] = rule.action;
    }
    tables[rule.table].push_back(line);
  }
  if (!apply_without_flush(set.ipv6, tables, error)) return false;
  log_line('I', "bootstrap done");
  return true;
}

bool teardown(const Iptables& ipt, const IptablesRuleSet& set, std::string& error) {
  std::map<std::string, std::vector<Argv>> tables;
  for (const auto& rule : set.rules) {
    if (const std::string* chain = flannel_chain_of(rule)) {
      if (!ipt.chain_exists(rule.table, *chain, error)) {
        if (!error.empty()) return false;
        continue;
      }
    }
    if (ipt.exists(rule.table, rule.chain, rule.spec, error)) {
      Argv line = {"-D", rule.chain};
      line.insert(line.end(), rule.spec.begin(), rule.spec.end());
      tables[rule.table].push_back(line);
    } else if (!error.empty()) {
      return false;
    }
  }
  return apply_without_flush(set.ipv6, tables, error);
}

struct IptablesManager {
  std::vector<IptablesRuleSet> ensured;

  static bool cleanup(std::string& error) {
    log_line('I', "Cleaning-up iptables rules...");
    for (const bool ipv6 : {false, true}) {
      const auto ipt = iptables_new(ipv6, error);
      if (!ipt) {
        error = std::string("failed to setup IPTables. ") + (ipv6 ? "ip6tables" : "iptables") +
                " binary was not found: " + error;
        return false;
      }
      for (const char* chain : {"FLANNEL-POSTRTG", "FLANNEL-FWD"}) {
        std::string chain_error;
        if (!ipt->clear_and_delete_chain("nat", chain, chain_error))
          log_line('I', std::string("could not clean-up ") + chain + ": " + chain_error);
      }
    }
    return true;
  }

  static IptablesRuleSet masq_rules(bool ipv6, const std::string& cluster, const std::string& pod,
                                    bool random_fully_disable) {
    std::string error;
    // iptables >= 1.6.2 has --random-fully (go-iptables iptablesHasRandomFully); Debian 12's
    // 1.8.9 has.
    const bool random_fully = iptables_new(ipv6, error).has_value() && !random_fully_disable;
    const Argv comment = {"-m", "comment", "--comment", "flanneld masq"};
    auto with_comment = [&](Argv spec, Argv target) {
      spec.insert(spec.end(), comment.begin(), comment.end());
      spec.insert(spec.end(), target.begin(), target.end());
      return spec;
    };
    Argv masquerade = {"-j", "MASQUERADE"};
    if (random_fully) masquerade.push_back("--random-fully");
    const std::string multicast = ipv6 ? "ff00::/8" : "224.0.0.0/4";
    IptablesRuleSet set{ipv6, {}};
    set.rules.push_back({"nat", "-A", "POSTROUTING", with_comment({}, {"-j", "FLANNEL-POSTRTG"})});
    set.rules.push_back(
        {"nat", "-A", "FLANNEL-POSTRTG",
         with_comment({"-m", "mark", "--mark", "0x4000/0x4000"}, {"-j", "RETURN"})});
    set.rules.push_back({"nat", "-A", "FLANNEL-POSTRTG",
                         with_comment({"-s", pod, "-d", cluster}, {"-j", "RETURN"})});
    set.rules.push_back({"nat", "-A", "FLANNEL-POSTRTG",
                         with_comment({"-s", cluster, "-d", pod}, {"-j", "RETURN"})});
    set.rules.push_back({"nat", "-A", "FLANNEL-POSTRTG",
                         with_comment({"!", "-s", cluster, "-d", pod}, {"-j", "RETURN"})});
    set.rules.push_back({"nat", "-A", "FLANNEL-POSTRTG",
                         with_comment({"-s", cluster, "!", "-d", multicast}, masquerade)});
    set.rules.push_back({"nat", "-A", "FLANNEL-POSTRTG",
                         with_comment({"!", "-s", cluster, "-d", cluster}, masquerade)});
    return set;
  }

  static IptablesRuleSet forward_rules(bool ipv6, const std::string& network) {
    const Argv comment = {"-m", "comment", "--comment", "flanneld forward"};
    auto spec = [&](Argv match, const std::string& target) {
      match.insert(match.end(), comment.begin(), comment.end());
      match.push_back("-j");
      match.push_back(target);
      return match;
    };
    return {ipv6,
            {{"filter", "-A", "FORWARD", spec({}, "FLANNEL-FWD")},
             {"filter", "-A", "FLANNEL-FWD", spec({"-s", network}, "ACCEPT")},
             {"filter", "-A", "FLANNEL-FWD", spec({"-d", network}, "ACCEPT")}}};
  }

  void setup_and_ensure(const IptablesRuleSet& set) {
    std::string error;
    const auto ipt = iptables_new(set.ipv6, error);
    if (!ipt) {
      log_line('E', "Failed to setup IPTables. iptables binary was not found: " + error);
      return;
    }
    if (!restore_new(set.ipv6, error)) {
      log_line('E', "Failed to setup IPTables. iptables-restore binary was not found: " + error);
      return;
    }
    if (!bootstrap(*ipt, set, error)) log_line('E', "Failed to bootstrap IPTables: " + error);
    ensured.push_back(set);
  }

  static void create_chain(bool ipv6, const std::string& table, const std::string& chain) {
    std::string error;
    const auto ipt = iptables_new(ipv6, error);
    if (!ipt) {
      log_line('E', "Failed to setup IPTables. iptables binary was not found: " + error);
      return;
    }
    if (!ipt->clear_chain(table, chain, error))
      log_line('E', "Failed to setup IPTables. Error on creating the chain: " + error);
  }

  bool setup_masq(const Options& o, const std::map<std::string, std::string>& previous,
                  std::string& error) {
    for (const bool ipv6 : {false, true}) {
      const std::string network = ipv6 ? o.ipv6_network : (o.ipv4 ? o.network : "");
      if (network.empty()) continue;
      const std::string lease = ipv6 ? o.ipv6_lease : o.lease;
      const auto previous_of = [&](const char* key) {
        const auto found = previous.find(key);
        return found == previous.end() ? std::string(ipv6 ? "::/0" : "0.0.0.0/0") : found->second;
      };
      const std::string prev_network =
          previous_of(ipv6 ? "FLANNEL_IPV6_NETWORK" : "FLANNEL_NETWORK");
      const std::string prev_lease = previous_of(ipv6 ? "FLANNEL_IPV6_SUBNET" : "FLANNEL_SUBNET");
      if (network != prev_network || lease != prev_lease) {
        log_line('I', "Current network or subnet (" + network + ", " + lease +
                          ") is not equal to previous one (" + prev_network + ", " + prev_lease +
                          "), trying to recycle old iptables rules");
        const IptablesRuleSet old_rules =
            masq_rules(ipv6, prev_network, prev_lease, o.random_fully_disable);
        const auto ipt = iptables_new(ipv6, error);
        if (!ipt || !restore_new(ipv6, error)) return false;
        if (!teardown(*ipt, old_rules, error)) {
          log_line('E', "Failed to teardown iptables: " + error);
          return false;
        }
      }
      log_line('I', ipv6 ? "Setting up masking rules for IPv6" : "Setting up masking rules");
      create_chain(ipv6, "nat", "FLANNEL-POSTRTG");
      setup_and_ensure(masq_rules(ipv6, network, lease, o.random_fully_disable));
    }
    return true;
  }

  void setup_forward(const Options& o) {
    for (const bool ipv6 : {false, true}) {
      const std::string network = ipv6 ? o.ipv6_network : (o.ipv4 ? o.network : "");
      if (network.empty()) continue;
      log_line('I', ipv6 ? "IPv6: Changing default FORWARD chain policy to ACCEPT"
                         : "Changing default FORWARD chain policy to ACCEPT");
      create_chain(ipv6, "filter", "FLANNEL-FWD");
      setup_and_ensure(forward_rules(ipv6, network));
    }
  }

  // One round of every ensure goroutine.
  void ensure() const {
    for (const auto& set : ensured) {
      std::string error;
      const auto ipt = iptables_new(set.ipv6, error);
      if (!ipt) continue;  // setupAndEnsure returned before starting this goroutine
      if (rules_exist(*ipt, set, error)) continue;
      if (!error.empty()) {
        log_line('E', "Failed to ensure iptables rules: error checking rule existence: " + error);
        continue;
      }
      log_line('I', "Some iptables rules are missing; deleting and recreating rules");
      if (!bootstrap(*ipt, set, error))
        log_line('E', "Failed to ensure iptables rules: error setting up rules: " + error);
    }
  }
};

// ---- subnet.env ----

// godotenv.Read of the keys flanneld reads back, each CIDR masked as net.ParseCIDR does.
std::string masked(const std::string& cidr) {
  const auto slash = cidr.find('/');
  if (slash == std::string::npos) return cidr;
  const std::string address = cidr.substr(0, slash);
  const int prefix = std::stoi(cidr.substr(slash + 1));
  const bool ipv6 = address.find(':') != std::string::npos;
  std::array<unsigned char, 16> bytes{};
  if (inet_pton(ipv6 ? AF_INET6 : AF_INET, address.c_str(), bytes.data()) != 1) return cidr;
  const int bits = ipv6 ? 128 : 32;
  for (int bit = prefix; bit < bits; ++bit)
    bytes[bit / 8] &= static_cast<unsigned char>(~(0x80 >> (bit % 8)));
  std::array<char, INET6_ADDRSTRLEN> text{};
  inet_ntop(ipv6 ? AF_INET6 : AF_INET, bytes.data(), text.data(), text.size());
  return std::string(text.data()) + "/" + std::to_string(prefix);
}

std::map<std::string, std::string> read_previous(const std::string& path) {
  std::map<std::string, std::string> values;
  std::ifstream file(path);
  for (std::string line; std::getline(file, line);) {
    const auto equals = line.find('=');
    if (equals == std::string::npos) continue;
    values[line.substr(0, equals)] = masked(line.substr(equals + 1));
  }
  return values;
}

// The lease's first address with its prefix (sn.IncrementIP()).
std::string first_address(const std::string& lease) {
  const auto slash = lease.find('/');
  const std::string address = lease.substr(0, slash);
  const bool ipv6 = address.find(':') != std::string::npos;
  std::array<unsigned char, 16> bytes{};
  inet_pton(ipv6 ? AF_INET6 : AF_INET, address.c_str(), bytes.data());
  for (int i = ipv6 ? 15 : 3; i >= 0 && ++bytes[static_cast<std::size_t>(i)] == 0; --i) {
  }
  std::array<char, INET6_ADDRSTRLEN> text{};
  inet_ntop(ipv6 ? AF_INET6 : AF_INET, bytes.data(), text.data(), text.size());
  return std::string(text.data()) + lease.substr(slash);
}

bool write_subnet_file(const Options& o) {
  std::string content;
  if (o.ipv4)
    content += "FLANNEL_NETWORK=" + o.network + "\nFLANNEL_SUBNET=" + first_address(o.lease) + "\n";
  if (!o.ipv6_network.empty())
    content += "FLANNEL_IPV6_NETWORK=" + o.ipv6_network +
               "\nFLANNEL_IPV6_SUBNET=" + first_address(o.ipv6_lease) + "\n";
  content += "FLANNEL_MTU=" + std::to_string(o.mtu) +
             "\nFLANNEL_IPMASQ=" + (o.ip_masq ? "true" : "false") + "\n";
  const std::filesystem::path path(o.subnet_file);
  std::error_code ignored;
  std::filesystem::create_directories(path.parent_path(), ignored);
  const std::filesystem::path temporary =
      path.parent_path() / ("." + path.filename().string() + std::to_string(getpid()));
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << content;
    if (!out.flush()) return false;
  }
  std::filesystem::rename(temporary, path, ignored);
  return !ignored;
}

// ---- the command line ----

bool parse_bool(const std::string& value) {
  return value == "true" || value == "1";
}

std::optional<Options> parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto equals = arg.find('=');
    const std::string key = arg.substr(0, equals);
    const std::string value = equals == std::string::npos ? "" : arg.substr(equals + 1);
    if (key == "--subnet-file")
      o.subnet_file = value;
    else if (key == "--network")
      o.network = masked(value);
    else if (key == "--lease")
      o.lease = masked(value);
    else if (key == "--ipv6-network")
      o.ipv6_network = masked(value);
    else if (key == "--ipv6-lease")
      o.ipv6_lease = masked(value);
    else if (key == "--no-ipv4")
      o.ipv4 = false;
    else if (key == "--enable-nftables")
      o.enable_nftables = true;
    else if (key == "--ip-masq")
      o.ip_masq = equals == std::string::npos || parse_bool(value);
    else if (key == "--iptables-forward-rules")
      o.forward_rules = equals == std::string::npos || parse_bool(value);
    else if (key == "--iptables-resync")
      o.resync_seconds = std::stoi(value);
    else if (key == "--mtu")
      o.mtu = std::stoi(value);
    else if (key == "--ip-masq-random-fully-disable")
      o.random_fully_disable = true;
    else {
      std::cerr << "flanneld_replay: unknown option " << arg << "\n";
      return std::nullopt;
    }
  }
  if (o.subnet_file.empty() || (o.ipv4 && (o.network.empty() || o.lease.empty()))) {
    std::cerr << "flanneld_replay: --subnet-file, --network and --lease are required\n";
    return std::nullopt;
  }
  return o;
}

int fatal(const std::string& error) {
  log_line('E', error);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  prctl(PR_SET_NAME, "flanneld", 0, 0, 0);
  const std::optional<Options> parsed = parse(argc, argv);
  if (!parsed) return 2;
  const Options& o = *parsed;
  std::signal(SIGTERM, [](int) { stopping = true; });
  std::signal(SIGINT, [](int) { stopping = true; });

  const std::map<std::string, std::string> previous = read_previous(o.subnet_file);
  std::string error;
  log_line('I', "Cleaning-up unused traffic manager rules");
  if (o.enable_nftables) {
    if (!IptablesManager::cleanup(error)) return fatal(error);
  } else {
    NftablesManager::cleanup();
  }

  NftablesManager nftables;
  IptablesManager iptables;
  if (o.enable_nftables) {
    if (!nftables.init(error)) return fatal(error);
  } else {
    log_line('I', "Starting flannel in iptables mode...");
  }

  if (o.ip_masq) {
    const bool ok =
        o.enable_nftables ? nftables.setup_masq(o, error) : iptables.setup_masq(o, previous, error);
    if (!ok) return fatal("Failed to setup masq rules, " + error);
  }
  if (o.forward_rules) {
    if (o.enable_nftables)
      nftables.setup_forward(o);
    else
      iptables.setup_forward(o);
  }

  if (!write_subnet_file(o)) {
    log_line('W', "Failed to write subnet file: " + o.subnet_file);
  } else {
    log_line('I', "Wrote subnet file to " + o.subnet_file);
    log_line('I', "flannel is ready");
  }

  // Running: the iptables mode's ensure goroutines, until SIGTERM.
  auto next_ensure = std::chrono::steady_clock::now() + std::chrono::seconds(o.resync_seconds);
  while (!stopping) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (std::chrono::steady_clock::now() < next_ensure) continue;
    iptables.ensure();
    next_ensure = std::chrono::steady_clock::now() + std::chrono::seconds(o.resync_seconds);
  }
  log_line('I', "Exiting cleanly...");
  return 0;
}
