// `flannel-nftd run`: the daemon.
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <iostream>

#include "daemon/cli/logging.hpp"
#include "daemon/cli/verbs.hpp"
#include "daemon/core/node_daemon.hpp"
#include "daemon/observe/http_server.hpp"

namespace po = boost::program_options;

namespace fnft::daemon {
namespace {

constexpr const char* kUsage =
    "Usage: flannel-nftd run [options]\n"
    "\n"
    "Keep this node's flannel rules exactly as desired. nftables mode: table ip flannel-nftd-ipv4\n"
    "and table ip6 flannel-nftd-ipv6. iptables mode (flannel's default): flanneld's chains\n"
    "FLANNEL-POSTRTG (nat) and FLANNEL-FWD (filter) and the jumps to them, through\n"
    "iptables-nft or iptables-legacy. Every commit by another process that touches them is\n"
    "seen as it happens (iptables-legacy, which sends no events, is read every\n"
    "--iptables-resync) and undone in one atomic transaction. The mode follows net-conf.json\n"
    "live: the new mode's rules are committed first, then the other modes' removed.\n"
    "With --flowtable (nftables mode), established pod traffic is put on flowtable fastpath\n"
    "in each table, bound to the CNI bridge and its pod veths, the flannel devices and the\n"
    "default routes' uplinks, kept current as pods come and go.\n"
    "With --protect (the default where the kernel has it, Linux 6.9+), the kernel itself\n"
    "refuses other processes' changes to the nftables tables.\n"
    "Config changes (subnet.env, net-conf.json) are applied live; SIGHUP reloads; SIGUSR1\n"
    "logs what it has done so far; SIGTERM exits and leaves the rules in place. Waits for\n"
    "subnet.env when flanneld has not written it yet. One daemon per network namespace: a\n"
    "second one exits, naming the first. `flannel-nftd status` asks it over --control-socket;\n"
    "/metrics, /healthz and /readyz are on --metrics-address (loopback). Needs CAP_NET_ADMIN\n"
    "(iptables-legacy also CAP_NET_RAW).\n";

// The soft limit of open files is 1,024 on most systems (systemd's default too), kept low only
// for programs that still use select(); the reactor uses epoll. Taking the hard limit leaves
// the repairs their pipes and sockets while clients hold connections (65,536 at most).
void raise_open_files_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
  constexpr rlim_t kEnough = 65536;  // a container's hard limit may be 2^30
  const rlim_t before = limit.rlim_cur;
  if (before >= kEnough) return;
  limit.rlim_cur = std::min(limit.rlim_max, kEnough);
  if (::setrlimit(RLIMIT_NOFILE, &limit) == 0) {
    spdlog::debug("open files limit raised from {} to {}", before, limit.rlim_cur);
  }
}

}  // namespace

int run_command(const std::vector<std::string>& args) {
  RunOptions options;
  std::string log_level = "info";
  long resync_seconds = 300;
  double iptables_resync_seconds = 5;
  long health_seconds = 5;
  po::options_description description = config_options_description(options.config);
  description.add(fast_path_options_description(options.fast_path));
  po::options_description daemon_options("Daemon");
  // clang-format off
  daemon_options.add_options()
      ("resync-period", po::value(&resync_seconds)->default_value(300)->value_name("SECONDS"),
       "re-read the kernel's tables this often even without events")
      ("iptables-resync", po::value(&iptables_resync_seconds)->default_value(5)->value_name("SECONDS"),
       "how often the iptables-legacy mode, which has no change events, reads its chains")
      ("protect", po::value<std::string>()->default_value("auto")->value_name("auto|on|off"),
       "nftables mode: hold the tables with `flags owner, persist`, so that the kernel refuses "
       "every other process's change to them (`nft flush ruleset` skips them) and keeps them, "
       "rules and all, when the daemon exits; the next daemon takes them back. auto: where the "
       "kernel has it (Linux 6.9+), else changes are repaired as they happen; on: exit 1 "
       "without it; off: never (then `flannel-nftd cleanup` or stopping the daemon is how to "
       "get out of protected tables)")
      ("conntrack-reset", po::value<std::string>()->default_value("on")->value_name("on|off"),
       "after every commit, delete the conntrack entries of connections whose first packet left "
       "while our masquerade rules were missing (no NAT, never answered, masqueraded by the "
       "rules now), so their next packet is masqueraded instead of unanswered until the entry "
       "expires (UDP 30 s, a TCP connect 120 s); off: leave the conntrack table alone")
      ("repair-burst", po::value(&options.reconciler.budget.burst)->default_value(20)->value_name("N"),
       "repairs allowed back to back before a repair war backs off")
      ("repair-rate", po::value(&options.reconciler.budget.refill_per_second)->default_value(5)
           ->value_name("PER_SECOND"),
       "sustained repairs per second allowed before a repair war backs off")
      ("control-socket", po::value(&options.control_socket)->default_value(kDefaultControlSocket)
           ->value_name("PATH"),
       "where `flannel-nftd status` asks this daemon (a Unix socket, mode 0600); off: none")
      ("metrics-address", po::value(&options.metrics_address)->default_value(kDefaultMetricsAddress)
           ->value_name("ADDRESS:PORT"),
       "serve /metrics (Prometheus), /healthz and /readyz over HTTP here; off: none. Loopback "
       "by default: another address only when given here")
      ("health-out-of-sync", po::value(&health_seconds)->default_value(5)->value_name("SECONDS"),
       "/healthz answers 503 once the rules have been out of sync this long")
      ("log-level", po::value(&log_level)->default_value("info"), "trace, debug, info, warn or error")
      ("help,h", "show this help");
  // clang-format on
  description.add(daemon_options);
  const auto vm = parse_verb_arguments(args, description);
  if (vm.count("help") != 0) {
    std::cout << kUsage << "\n" << description << "\n";
    return kExitOk;
  }
  finish_config_options(vm, options.config);
  finish_fast_path_options(vm, options.fast_path);
  options.protect = parse_protect(vm["protect"].as<std::string>());
  options.conntrack_reset =
      parse_on_off("--conntrack-reset", vm["conntrack-reset"].as<std::string>());
  // The upper bounds are far past any sane setting and keep every duration representable.
  constexpr double kDay = 86400;
  bounded_option("--resync-period", static_cast<double>(resync_seconds), 1, kDay, "seconds");
  bounded_option("--repair-burst", options.reconciler.budget.burst, 1, 1e6, "repairs");
  bounded_option("--repair-rate", options.reconciler.budget.refill_per_second, 0.001, 1e6,
                 "repairs per second");
  bounded_option("--iptables-resync", iptables_resync_seconds, 0.1, kDay, "seconds");
  bounded_option("--health-out-of-sync", static_cast<double>(health_seconds), 1, kDay, "seconds");
  options.health_out_of_sync = std::chrono::seconds(health_seconds);
  if (options.metrics_address != "off" && !options.metrics_address.empty()) {
    try {
      parse_listen_address(options.metrics_address);
    } catch (const std::invalid_argument& error) {
      throw UsageError(std::string("--metrics-address: ") + error.what() + ", or off");
    }
  }
  options.resync_period = std::chrono::seconds(resync_seconds);
  options.iptables_resync =
      std::chrono::milliseconds(static_cast<long>(iptables_resync_seconds * 1000));
  setup_logging(log_level);
  raise_open_files_limit();

  boost::asio::io_context io(1);
  NodeDaemon daemon(io, std::move(options));
  daemon.start();
  io.run();
  return daemon.exit_code();
}

}  // namespace fnft::daemon
