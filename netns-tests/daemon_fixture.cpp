#include "netns-tests/daemon_fixture.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <sstream>
#include <stdexcept>

#include "netns-tests/nft_listing.hpp"
#include "netns-tests/traffic.hpp"

namespace fnft::netns_test {
namespace {

constexpr int kEgressPort = 5301;

// `listing` with each table's chains in the order of their names and without blank lines:
// the order chains were created in is no part of what a table does (each base chain's hook
// and priority decide), and a repair that re-creates one chain leaves it last.
std::string chains_sorted(const std::string& listing) {
  std::istringstream in(listing);
  std::string sorted;
  std::vector<std::string> chains;
  bool in_chain = false;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("\tchain ", 0) == 0) {
      chains.emplace_back();
      in_chain = true;
    }
    if (in_chain) {
      chains.back() += line + "\n";
      in_chain = line != "\t}";
      continue;
    }
    if (line.empty()) continue;
    if (line == "}") {
      std::sort(chains.begin(), chains.end());
      for (const auto& chain : chains) sorted += chain;
      chains.clear();
    }
    sorted += line + "\n";
  }
  return sorted;
}

// `listing` with the names in each flowtable's `devices = { ... }` sorted: the kernel lists
// them in the order they were bound, which is no part of what the flowtable does.
std::string devices_sorted(const std::string& listing) {
  std::string result;
  std::size_t cursor = 0;
  while (auto clause = find_device_clause(listing, cursor)) {
    result.append(listing, cursor, clause->begin - cursor);
    std::sort(clause->names.begin(), clause->names.end());
    std::string joined;
    for (const auto& name : clause->names) joined += (joined.empty() ? "" : ", ") + name;
    result += "devices = { " + joined + " }";
    cursor = clause->end;
  }
  result.append(listing, cursor);
  return result;
}

// `listing` without what --protect adds to a table (`# progname ...` after its name, its
// `flags` line): the rules are what the listing compares; table_flags() reads protection.
std::string without_table_flags(const std::string& listing) {
  static const std::regex progname(R"( # progname [^\n]*)");
  static const std::regex flags(R"(\n\tflags [^\n]*\n)");
  return std::regex_replace(std::regex_replace(listing, progname, ""), flags, "\n");
}

// `nft list table` of each flannel table of `stack` in `ns`, counters zeroed, chains sorted.
std::string list_flannel_tables(const std::string& ns, Stack stack) {
  std::string text;
  for (const Family family : families(stack)) {
    const Addresses& a = addresses(family);
    const RunResult listed = run(in_namespace(ns, {"nft", "list", "table", a.nft_family, a.table}));
    text += listed.ok()
                ? devices_sorted(chains_sorted(without_table_flags(normalized_listing(listed.out))))
                : "(no table " + a.nft_family + " " + a.table + ": " + listed.err + ")\n";
  }
  return text;
}

}  // namespace

std::string subnet_env_text(const std::string& ipv4_subnet) {
  std::string text = "FLANNEL_NETWORK=10.244.0.0/16\n";
  text += "FLANNEL_SUBNET=" + ipv4_subnet + "\n";
  text += "FLANNEL_IPV6_NETWORK=fd00:10:244::/56\n";
  text += "FLANNEL_IPV6_SUBNET=fd00:10:244:1::1/64\n";
  text += "FLANNEL_MTU=1450\n";
  text += "FLANNEL_IPMASQ=false\n";
  return text;
}

std::string net_conf_text(Stack stack, bool nftables) {
  const auto enabled = [](bool on) { return std::string(on ? "true" : "false"); };
  std::string text = "{\n";
  text += "  \"Network\": \"10.244.0.0/16\",\n";
  text += "  \"IPv6Network\": \"fd00:10:244::/56\",\n";
  text += "  \"EnableIPv4\": " + enabled(stack != Stack::ipv6) + ",\n";
  text += "  \"EnableIPv6\": " + enabled(stack != Stack::ipv4) + ",\n";
  if (nftables) text += "  \"EnableNFTables\": true,\n";
  text += "  \"Backend\": {\"Type\": \"vxlan\"}\n";
  text += "}\n";
  return text;
}

std::map<std::string, std::vector<std::string>> flanneld_lines(const std::string& text) {
  std::map<std::string, std::vector<std::string>> lines;
  std::string table;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("*", 0) == 0) table = line.substr(1);
    const bool flanneld =
        line.find("FLANNEL-") != std::string::npos || line.find("\"flanneld ") != std::string::npos;
    if (flanneld && (line.rfind(":", 0) == 0 || line.rfind("-A ", 0) == 0)) {
      lines[table].push_back(line);
    }
  }
  return lines;
}

std::string iptables_tool(const std::string& backend, Family family, const std::string& suffix) {
  return (family == Family::ipv4 ? "iptables-" : "ip6tables-") + backend + suffix;
}

std::string mutated_family_name(const testing::TestParamInfo<MutatedFamily>& info) {
  return to_string(info.param.stack) +
         (info.param.stack == Stack::dual ? "_" + to_string(info.param.family) : std::string());
}

void DaemonTest::TearDown() {
  // FNFT_DAEMON_TEST_LOGS=1 shows the daemons' logs of passing tests too.
  const char* show_logs = std::getenv("FNFT_DAEMON_TEST_LOGS");
  if (show_logs != nullptr && std::string(show_logs) == "1") {
    for (const auto& daemon : daemons_) std::printf("%s", daemon->describe().c_str());
  }
  // The daemons first: no process of ours may outlive the namespaces it runs in.
  daemons_.clear();
  // Whatever a test did, iptables-nft can still read every table: a rule iptables-nft did
  // not write itself makes it print "table ... is incompatible", which has crash-looped
  // Calico and broken kube-router on real nodes.
  if (node_ != nullptr) {
    for (const char* save : {"iptables-nft-save", "ip6tables-nft-save"}) {
      const RunResult saved = node().run_in(node().node(), {save});
      EXPECT_TRUE(saved.ok()) << saved.describe();
      EXPECT_EQ(saved.out.find("incompatible"), std::string::npos) << saved.out;
      EXPECT_EQ(saved.err.find("incompatible"), std::string::npos) << saved.err;
    }
  }
  NetnsTest::TearDown();
}

const FlannelNode& DaemonTest::make_daemon_node(Stack stack, bool nftables, PodLinks pod_links) {
  node_ = &make_node(stack, pod_links);
  subnet_file_ = config_dir_.write("subnet.env", subnet_env_text());
  config_dir_.write("net-conf.json", net_conf_text(stack, nftables));
  nftables_mode_ = nftables;
  return *node_;
}

void DaemonTest::replace_net_conf(bool nftables) {
  nftables_mode_ = nftables;
  const std::string temporary =
      config_dir_.write(".net-conf.json.tmp", net_conf_text(node().stack(), nftables));
  std::filesystem::rename(temporary, net_conf_file());
}

testing::AssertionResult DaemonTest::iptables_holds_flanneld_rules(
    const std::string& backend) const {
  const auto enabled = families(node().stack());
  for (const Family family : {Family::ipv4, Family::ipv6}) {
    const RunResult saved = node().run_in(node().node(), {iptables_tool(backend, family, "-save")});
    if (!saved.ok()) return testing::AssertionFailure() << saved.describe();
    std::map<std::string, std::vector<std::string>> want;
    if (std::find(enabled.begin(), enabled.end(), family) != enabled.end()) {
      const RunResult payload = node().run_in(
          node().node(), {FNFT_BINARY, "dump", "--mode=iptables",
                          family == Family::ipv4 ? "--family=ipv4" : "--family=ipv6",
                          "--subnet-file=" + subnet_file_, "--net-config-path=" + net_conf_file()});
      if (!payload.ok()) return testing::AssertionFailure() << payload.describe();
      want = flanneld_lines(payload.out);
    }
    if (flanneld_lines(saved.out) != want) {
      std::string expected;
      for (const auto& [table, lines] : want) {
        expected += "*" + table + "\n";
        for (const auto& line : lines) expected += line + "\n";
      }
      return testing::AssertionFailure()
             << iptables_tool(backend, family, "-save") << " does not hold exactly flanneld's "
             << "rules\n--- expected (from dump) ---\n"
             << expected << "--- saved ---\n"
             << saved.out << report();
    }
  }
  return testing::AssertionSuccess();
}

testing::AssertionResult DaemonTest::iptables_holds_no_flanneld_rules(
    const std::string& backend) const {
  for (const Family family : {Family::ipv4, Family::ipv6}) {
    const RunResult saved = node().run_in(node().node(), {iptables_tool(backend, family, "-save")});
    if (!saved.ok()) return testing::AssertionFailure() << saved.describe();
    if (!flanneld_lines(saved.out).empty()) {
      return testing::AssertionFailure()
             << iptables_tool(backend, family, "-save") << " still holds flanneld's rules\n"
             << saved.out << report();
    }
  }
  return testing::AssertionSuccess();
}

testing::AssertionResult DaemonTest::iptables_become_flanneld_rules(
    const std::string& backend, std::chrono::milliseconds timeout) const {
  if (eventually([&] { return bool(iptables_holds_flanneld_rules(backend)); }, timeout)) {
    return testing::AssertionSuccess();
  }
  return iptables_holds_flanneld_rules(backend);
}

testing::AssertionResult DaemonTest::iptables_lose_flanneld_rules(
    const std::string& backend, std::chrono::milliseconds timeout) const {
  if (eventually([&] { return bool(iptables_holds_no_flanneld_rules(backend)); }, timeout)) {
    return testing::AssertionSuccess();
  }
  return iptables_holds_no_flanneld_rules(backend);
}

void DaemonTest::run_daemons_unprivileged() {
  namespace fs = std::filesystem;
  fs::permissions(config_dir(), fs::perms::owner_all | fs::perms::group_read |
                                    fs::perms::group_exec | fs::perms::others_read |
                                    fs::perms::others_exec);
  set_daemon_wrapper({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                      "--inh-caps=+net_admin", "--ambient-caps=+net_admin"});
}

DaemonProcess& DaemonTest::start_daemon(std::vector<std::string> options, bool wait_ready) {
  // Most tests are about the repair loop, which the kernel's protection would leave nothing
  // to do; the tests of protection ask for it.
  if (std::none_of(options.begin(), options.end(),
                   [](const std::string& option) { return option.rfind("--protect", 0) == 0; })) {
    options.push_back("--protect=off");
  }
  const std::string log =
      log_dir_.path() + "/daemon-" + std::to_string(daemons_.size() + 1) + ".log";
  daemons_.push_back(std::make_unique<DaemonProcess>(node(), subnet_file_, net_conf_file(),
                                                     std::move(options), log, wrapper_));
  if (wait_ready) {
    const bool ready = daemon().wait_for_log("); watching for changes", 10s);
    EXPECT_TRUE(ready) << "the daemon never said it was ready\n" << report();
    if (ready && nftables_mode_) {
      EXPECT_TRUE(tables_become_desired());
    }
  }
  return daemon();
}

void DaemonTest::replace_subnet_env(const std::string& content) const {
  const std::string temporary = config_dir_.write(".subnet.env.tmp", content);
  std::filesystem::rename(temporary, subnet_file_);
}

RunResult DaemonTest::nft(std::vector<std::string> args, std::string_view input) const {
  args.insert(args.begin(), "nft");
  return node().run_in_checked(node().node(), std::move(args), input);
}

std::string DaemonTest::flannel_tables() const {
  return list_flannel_tables(node().node(), node().stack());
}

std::string DaemonTest::desired_tables() const {
  std::vector<std::string> argv = {FNFT_BINARY, "dump", "--mode=nftables",
                                   "--subnet-file=" + subnet_file_,
                                   "--net-config-path=" + net_conf_file()};
  argv.insert(argv.end(), dump_options_.begin(), dump_options_.end());
  const RunResult dump = node().run_in(node().node(), argv);
  if (!dump.ok()) return "(flannel-nftd dump failed)\n" + dump.describe();
  if (dump.out != cached_dump_) {
    const Namespace scratch(unique_prefix() + "scratch");
    // A flowtable binds to devices that exist: give the scratch namespace stand-ins.
    if (const auto clause = find_device_clause(dump.out)) {
      std::string batch;
      for (const auto& name : clause->names) batch += "link add " + name + " type dummy\n";
      run_checked({"ip", "-n", scratch.name(), "-batch", "-"}, batch);
    }
    run_checked(in_namespace(scratch.name(), {"nft", "-f", "-"}), dump.out);
    cached_desired_ = list_flannel_tables(scratch.name(), node().stack());
    cached_dump_ = dump.out;
  }
  return cached_desired_;
}

testing::AssertionResult DaemonTest::tables_become_desired(
    std::chrono::milliseconds timeout) const {
  const std::string desired = desired_tables();
  std::string observed;
  if (eventually([&] { return (observed = flannel_tables()) == desired; }, timeout)) {
    return testing::AssertionSuccess();
  }
  return testing::AssertionFailure()
         << "after " << timeout.count() << " ms the flannel tables still differ from `dump`\n"
         << "--- desired (dump loaded into a scratch namespace) ---\n"
         << desired << "--- observed (node) ---\n"
         << observed << report();
}

testing::AssertionResult DaemonTest::repair_logged(const std::string& what, std::size_t count,
                                                   std::chrono::milliseconds timeout) {
  const bool logged = eventually(
      [&] {
        const auto repairs = daemon().log_lines("repaired after");
        if (repairs.size() < count) return false;
        for (const auto& line : repairs) {
          if (line.find(what) != std::string::npos) return true;
        }
        return false;
      },
      timeout);
  if (logged) return testing::AssertionSuccess();
  return testing::AssertionFailure()
         << "no " << count << " \"repaired after\" line(s) with \"" << what
         << "\" in the daemon's log within " << timeout.count() << " ms" << report();
}

testing::AssertionResult DaemonTest::pod_egress_is_masqueraded() const {
  for (const Family family : families(node().stack())) {
    const Addresses& a = addresses(family);
    const RunResult pinged = ping(node(), node().pod(0), a.outside);
    if (!pinged.ok()) {
      return testing::AssertionFailure() << to_string(family) << " ping pod -> outside failed\n"
                                         << pinged.describe() << report();
    }
    const SourceSeen seen = source_seen_by_server(node(), Protocol::udp, node().pod(0),
                                                  node().outside(), a.outside, kEgressPort);
    if (seen.source != a.uplink_node) {
      return testing::AssertionFailure()
             << to_string(family) << " UDP pod -> outside: expected the server to see "
             << a.uplink_node << "\n"
             << seen.describe() << report();
    }
  }
  return testing::AssertionSuccess();
}

std::vector<std::pair<std::string, std::uint64_t>> DaemonTest::rule_handles(Family family) const {
  static const std::regex rule(R"#(comment "([^"]*)" # handle ([0-9]+))#");
  const Addresses& a = addresses(family);
  const std::string listing = nft({"-a", "list", "table", a.nft_family, a.table}).out;
  std::vector<std::pair<std::string, std::uint64_t>> handles;
  for (std::sregex_iterator it(listing.begin(), listing.end(), rule), end; it != end; ++it) {
    handles.emplace_back((*it)[1].str(), std::stoull((*it)[2].str()));
  }
  return handles;
}

std::uint64_t DaemonTest::rule_handle(Family family, const std::string& comment) const {
  for (const auto& [rule_comment, handle] : rule_handles(family)) {
    if (rule_comment == comment) return handle;
  }
  throw std::runtime_error("no rule with comment \"" + comment + "\" in the node's " +
                           addresses(family).table + report());
}

std::string DaemonTest::report() const {
  std::string text = node_ != nullptr ? node().rules_report() : std::string();
  // A flood test's ruleset holds ~100000 rules: show its beginning only.
  constexpr std::size_t kShown = 20000;
  if (text.size() > kShown) text = text.substr(0, kShown) + "\n[... ruleset truncated ...]\n";
  for (const auto& daemon : daemons_) {
    text += "--- flannel-nftd run ---\n" + daemon->describe();
  }
  return text;
}

}  // namespace fnft::netns_test
