// NodeDaemon and its neighbours: what flanneld's configuration and its commits say (its own
// nftables or iptables rules beside ours), and the CNI bridge plugin's masquerade chains, each
// a warning in `status`.
#include <spdlog/spdlog.h>

#include "daemon/core/node_daemon.hpp"
#include "daemon/core/process_lineage.hpp"
#include "netlink/netlink_error.hpp"
#include "netlink/nft_chain_names.hpp"
#include "state/desired_ruleset.hpp"
#include "state/flanneld_tables.hpp"
#include "state/neighbours.hpp"

namespace fnft::daemon {
namespace {

// A pod burst is surveyed once it pauses this long.
constexpr std::chrono::milliseconds kCniSurveyDelay{250};

// What the daemon watches of its neighbours' tables: flanneld's own, and the chains the CNI
// bridge plugin's masquerade makes in iptables-nft's nat tables.
std::vector<netlink::WatchedTable> watched_tables(const NftablesBackend& nftables) {
  std::vector<netlink::WatchedTable> watched = nftables.flanneld_watched();
  watched.push_back({state::Family::ipv4, "nat", {"CNI-*"}});
  watched.push_back({state::Family::ipv6, "nat", {"CNI-*"}});
  return watched;
}

// The first chain of flanneld's that `transaction` wrote into flanneld's tables ("chain ip
// flannel-ipv4 postrtg"), if any.
std::optional<std::string> flanneld_chain_written(const netlink::NftTransaction& transaction) {
  for (const auto& what : transaction.touched) {
    for (const auto family : {state::Family::ipv4, state::Family::ipv6}) {
      const std::string table = std::string(state::nft_family_name(family)) + " " +
                                std::string(state::flanneld_table_name(family));
      for (const auto chain : {state::kPostroutingChainName, state::kForwardChainName}) {
        const std::string object = table + " " + std::string(chain);
        if (what == "addchain " + object || what == "addrule " + object) return "chain " + object;
      }
    }
  }
  return std::nullopt;
}

}  // namespace

std::vector<netlink::WatchedTable> NodeDaemon::neighbour_tables() {
  return watched_tables(backends_.nftables());
}

void NodeDaemon::check_config_neighbours(const LoadedConfig& loaded) {
  const auto as_list = [](std::optional<std::string> warning) {
    return warning ? std::vector<std::string>{std::move(*warning)} : std::vector<std::string>{};
  };
  set_warnings("flanneld --ip-masq",
               as_list(state::flanneld_ip_masq_warning(options_.config.subnet_file,
                                                       loaded.subnet_env, loaded.node.options)));
  set_warnings("mode", as_list(state::mode_mismatch_warning(loaded.mode, loaded.net_conf,
                                                            options_.config.net_config_path)));
}

void NodeDaemon::neighbour_transactions(const std::vector<netlink::NftTransaction>& transactions) {
  bool flanneld_wrote = false;
  for (const auto& transaction : transactions) {
    if (backends_.is_own(transaction)) continue;
    for (const auto& table : transaction.touched_tables) {
      if (table.name == "nat") survey_cni_masquerade_soon();
    }
    const auto written = flanneld_chain_written(transaction);
    if (!written) continue;
    flanneld_wrote = true;
    set_warnings("flanneld nftables rules",
                 {state::flanneld_nftables_writer_warning(
                     committer_with_parent(transaction.pid, transaction.process_name), *written)});
  }
  if (!flanneld_wrote) return;
  if (!config_ || active_ == nullptr) {
    clean_others_pending_ = true;  // the first apply's cleanup takes them
    return;
  }
  backends_.nftables().remove_flanneld_rules(*config_, [](const BackendResult& result) {
    report_removed(flanneld_removed_rules(), result);
  });
}

void NodeDaemon::note_flanneld_commands(const std::vector<netlink::NftTransaction>& transactions) {
  if (active_ == nullptr || active_->kind() == BackendKind::nftables) return;
  for (const auto& transaction : transactions) {
    if (!transaction.touched_owned || transaction.touched.empty() || backends_.is_own(transaction))
      continue;
    const auto committer = committer_with_parent(transaction.pid, transaction.process_name);
    if (!state::started_by_flanneld(committer)) continue;
    set_warnings("flanneld iptables rules",
                 {state::flanneld_iptables_writer_warning(committer, transaction.touched.front())});
  }
}

void NodeDaemon::survey_cni_masquerade_soon() {
  if (cni_survey_pending_) return;
  cni_survey_pending_ = true;
  cni_survey_timer_.expires_after(kCniSurveyDelay);
  cni_survey_timer_.async_wait([this](const boost::system::error_code& error) {
    if (error) return;
    cni_survey_pending_ = false;
    survey_cni_masquerade();
  });
}

void NodeDaemon::survey_cni_masquerade() {
  std::vector<std::string> chains;
  try {
    for (const auto family : {state::Family::ipv4, state::Family::ipv6}) {
      for (const auto& chain : netlink::list_chain_names(command_socket_, family, "nat")) {
        if (state::is_cni_masquerade_chain(chain))
          chains.push_back(std::string(state::nft_family_name(family)) + " nat " + chain);
      }
    }
  } catch (const netlink::NetlinkError& error) {
    spdlog::debug("cannot list the nat tables' chains: {}", error.what());
    return;
  }
  const auto warning = state::cni_masquerade_warning(chains);
  set_warnings("cni masquerade",
               warning ? std::vector<std::string>{*warning} : std::vector<std::string>{});
}

}  // namespace fnft::daemon
