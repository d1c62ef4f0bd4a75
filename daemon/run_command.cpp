// `flannel-nftd run`: the daemon.
#include <boost/asio/io_context.hpp>
#include <iostream>

#include "daemon/logging.hpp"
#include "daemon/node_daemon.hpp"
#include "daemon/verbs.hpp"

namespace po = boost::program_options;

namespace fnft::daemon {
namespace {

constexpr const char* kUsage =
    "Usage: flannel-nftd run [options]\n"
    "\n"
    "Keep this node's flannel tables (nftables mode: table ip flannel-ipv4, table ip6\n"
    "flannel-ipv6) exactly as desired. Every nftables commit by another process that touches\n"
    "them is seen as it happens and undone in one atomic transaction; config changes\n"
    "(subnet.env, net-conf.json) are applied live; SIGHUP reloads; SIGUSR1 logs what it has\n"
    "done so far; SIGTERM exits and leaves the rules in place. Waits for subnet.env when\n"
    "flanneld has not written it yet. One daemon per network namespace: a second one exits,\n"
    "naming the first. Needs CAP_NET_ADMIN only.\n";

}  // namespace

int run_command(const std::vector<std::string>& args) {
  RunOptions options;
  std::string log_level = "info";
  long resync_seconds = 300;
  po::options_description description = config_options_description(options.config);
  po::options_description daemon_options("Daemon");
  // clang-format off
  daemon_options.add_options()
      ("resync-period", po::value(&resync_seconds)->default_value(300)->value_name("SECONDS"),
       "re-read the kernel's tables this often even without events")
      ("repair-burst", po::value(&options.reconciler.budget.burst)->default_value(20)->value_name("N"),
       "repairs allowed back to back before a repair war backs off")
      ("repair-rate", po::value(&options.reconciler.budget.refill_per_second)->default_value(5)
           ->value_name("PER_SECOND"),
       "sustained repairs per second allowed before a repair war backs off")
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
  if (resync_seconds < 1) throw UsageError("--resync-period: must be at least 1 second");
  if (options.reconciler.budget.burst < 1) throw UsageError("--repair-burst: must be at least 1");
  if (options.reconciler.budget.refill_per_second <= 0)
    throw UsageError("--repair-rate: must be positive");
  options.resync_period = std::chrono::seconds(resync_seconds);
  if (options.config.mode) require_nftables_mode(*options.config.mode, "run");
  setup_logging(log_level);

  boost::asio::io_context io(1);
  NodeDaemon daemon(io, std::move(options));
  daemon.start();
  io.run();
  return kExitOk;
}

}  // namespace fnft::daemon
