// `flannel-nftd run`: everything on one Boost.Asio reactor, no thread, no lock. The event
// socket subscribes before the first dump, so no foreign commit is missed in between.
//
// The mode (nftables, or iptables through iptables-nft or iptables-legacy) follows the
// configuration, live: a switch commits the new mode's rules first and only then removes
// every trace of the others, so no packet meets a moment without masquerade.
//
// With --flowtable, in the nftables mode, the node's links are followed too: the flowtable's
// devices are part of the target like the configuration, and a change to them is applied
// the same way.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "daemon/backends/backend_set.hpp"
#include "daemon/config/config_files.hpp"
#include "daemon/config/config_watcher.hpp"
#include "daemon/config/options.hpp"
#include "daemon/core/connection_resetter.hpp"
#include "daemon/core/fast_path_controller.hpp"
#include "daemon/core/instance_lock.hpp"
#include "daemon/core/nft_event_source.hpp"
#include "daemon/core/reconciler.hpp"
#include "daemon/core/systemd_notify.hpp"
#include "daemon/observe/control_server.hpp"
#include "daemon/observe/health.hpp"
#include "daemon/observe/http_server.hpp"
#include "daemon/observe/node_snapshot.hpp"
#include "netlink/nfnl_socket.hpp"
#include "netlink/nft_probe.hpp"

namespace fnft::daemon {

// Loopback, and a port no common Kubernetes node component uses (kubelet and kube-proxy
// 10248-10259, node exporter 9100, Calico 9091/9099, Cilium 9962-9965).
inline constexpr const char* kDefaultMetricsAddress = "127.0.0.1:9478";

struct RunOptions {
  ConfigOptions config;
  std::chrono::seconds resync_period{300};
  // How often iptables-legacy, which sends no events, is read (flanneld: 5 s).
  std::chrono::milliseconds iptables_resync{5000};
  Reconciler::Options reconciler;
  FastPathSettings fast_path;
  ProtectOption protect = ProtectOption::automatic;
  std::string control_socket = kDefaultControlSocket;    // "" or "off": none
  std::string metrics_address = kDefaultMetricsAddress;  // "" or "off": none
  // /healthz turns 503 once the rules have been out of sync this long.
  std::chrono::seconds health_out_of_sync{5};
  // After each commit, delete the conntrack entries that met a window without masquerade.
  bool conntrack_reset = true;
};

class NodeDaemon {
 public:
  NodeDaemon(boost::asio::io_context& io, RunOptions options);

  void start();
  // kExitFailure after a fatal error (--flowtable=required on a kernel without flowtables).
  int exit_code() const { return exit_code_; }

 private:
  void reload(const std::string& why);
  // The configuration and the backend it asks for are known: apply them.
  void activate(Backend& backend, const std::string& reason, const LoadedConfig& loaded);
  // After the first apply of a mode: every trace of the other modes goes, and flanneld's own
  // nftables rules that ours replace.
  void clean_other_modes();
  // Logs what a cleanup of other rules removed, or why it could not.
  static void report_removed(const RemovedRules& rules, const BackendResult& result);
  // Sets what `status` lists under `topic`; a text already listed is not logged again.
  void set_warnings(const std::string& topic, std::vector<std::string> warnings);
  std::vector<std::string> warnings() const;
  // The neighbours a configuration tells of (flanneld's --ip-masq, a mode it does not share).
  void check_config_neighbours(const LoadedConfig& loaded);
  // Commits to flanneld's tables or to the nat tables' CNI-* chains (NftEventSource's
  // neighbour transactions), and flanneld's commands among the commits to our own rules.
  void neighbour_transactions(const std::vector<netlink::NftTransaction>& transactions);
  void note_flanneld_commands(const std::vector<netlink::NftTransaction>& transactions);
  // Counts the CNI bridge plugin's masquerade chains in iptables-nft's nat tables, soon
  // (a burst of pods is one survey).
  void survey_cni_masquerade_soon();
  // flanneld's tables and the nat tables' CNI-* chains (daemon/core/node_neighbours.cpp).
  std::vector<netlink::WatchedTable> neighbour_tables();
  void survey_cni_masquerade();
  // The kernel probes (daemon/core/node_kernel_probes.cpp).
  // Probes the kernel's flowtables once, when --flowtable asks for them.
  void probe_fast_path();
  // Probes `flags owner, persist` once, unless --protect=off.
  void probe_protection();
  // Starts or stops following the node's links as the active mode and the kernel allow.
  void update_fast_path();
  void fast_path_devices_changed(const std::string& change);
  // What the rules are built from now.
  state::Target target() const;
  void fatal(const std::string& message);
  void arm_resync();
  void arm_poll();
  void wait_for_signal();
  void reconciled(bool committed);
  // After a commit that changed the masquerade rules: has the conntrack entries that met a
  // window without them deleted (daemon/core/node_conntrack.cpp), and counts and logs what
  // was.
  void reset_missed_masquerade(const std::string& reason);
  void connections_reset(const ConnectionResetter::Result& result);
  // What the daemon has done so far, for STATUS= and the log.
  std::string activity() const;
  // The observers' answers (daemon/core/node_observers.cpp): one snapshot of the daemon,
  // turned into the status document, /metrics and the health answers by daemon/observe/.
  NodeSnapshot snapshot() const;
  void answer_status(ControlServer::Reply reply);
  void start_control_socket();
  std::string metrics_text();
  // Our tables as /metrics shows them: read again only once the last read is
  // kScrapedTablesMaxAge old, so scrapes at any rate cost the reactor one dump a second.
  const state::Ruleset& scraped_tables();
  HttpResponse http(const std::string& target);
  void start_http();
  bool in_sync() const;
  // A configuration that cannot be used: said once, the last good one stays in force.
  void config_failed(const std::string& error, const std::string& why);
  void retry_config_read();

  boost::asio::io_context& io_;
  RunOptions options_;
  // First: nothing is touched before we know we are the namespace's only daemon.
  InstanceLock instance_lock_;
  netlink::NfnlSocket command_socket_;
  BackendSet backends_;
  Backend* active_ = nullptr;
  NftEventSource events_;
  Reconciler reconciler_;
  FastPathController fast_path_;
  std::optional<netlink::FlowtableSupport> flowtable_support_;
  ConfigWatcher watcher_;
  SystemdNotifier notifier_;
  boost::asio::signal_set signals_;
  boost::asio::steady_timer resync_timer_;
  boost::asio::steady_timer poll_timer_;
  std::optional<state::NodeConfig> config_;  // the last valid configuration
  // Choosing an iptables backend reads both iptables first: a reload asked for meanwhile
  // runs once it is done.
  bool choosing_ = false;
  std::optional<std::string> reload_again_;
  bool clean_others_pending_ = false;
  // What `status` lists as warnings, by topic, in topic order.
  std::map<std::string, std::vector<std::string>> warnings_;
  boost::asio::steady_timer cni_survey_timer_;
  bool cni_survey_pending_ = false;
  bool ready_ = false;
  bool said_iptables_has_no_fast_path_ = false;
  bool protect_ = false;  // the nftables tables are held with `flags owner, persist`
  std::string protection_ = "off (--protect=off)";  // what `status` says of it
  std::chrono::system_clock::time_point started_at_ = std::chrono::system_clock::now();
  std::optional<ControlServer> control_;
  std::optional<HttpServer> http_;
  static constexpr std::chrono::seconds kScrapedTablesMaxAge{1};
  std::optional<std::chrono::steady_clock::time_point> scraped_at_;
  std::optional<state::Ruleset> scraped_tables_;
  std::string scraped_error_;                // why the last read failed, while it had
  std::optional<std::string> config_error_;  // the config files' error, while they have one
  // A read the system refused is tried again: 1 s, doubling to 30 s, until a read succeeds.
  static constexpr std::chrono::milliseconds kFirstConfigRetry{1000};
  static constexpr std::chrono::milliseconds kLastConfigRetry{30000};
  static constexpr const char* kConfigRetry = "trying the read again";
  boost::asio::steady_timer config_retry_timer_;
  std::chrono::milliseconds config_retry_delay_ = kFirstConfigRetry;
  ConnectionResetter connection_resetter_;
  bool said_conntrack_failed_ = false;
  std::map<state::Family, std::uint64_t> connections_reset_;  // for `status` and /metrics
  int exit_code_ = kExitOk;
};

}  // namespace fnft::daemon
