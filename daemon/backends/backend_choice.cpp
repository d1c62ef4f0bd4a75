#include "daemon/backends/backend_choice.hpp"

#include "daemon/backends/iptables_survey.hpp"

namespace fnft::daemon {
namespace {

BackendKind kind_of(state::IptablesVariant backend) {
  return backend == state::IptablesVariant::nft ? BackendKind::iptables_nft
                                                : BackendKind::iptables_legacy;
}

}  // namespace

void choose_backend(boost::asio::io_context& io, state::Mode mode, const std::string& mode_reason,
                    IptablesBackendOption option, std::function<void(ChosenBackend)> done) {
  if (mode == state::Mode::nftables) {
    done({BackendKind::nftables, mode_reason, {}});
    return;
  }
  survey_iptables(io, [mode_reason, option, done = std::move(done)](const IptablesSurvey& survey) {
    ChosenBackend chosen;
    state::IptablesVariant backend = state::IptablesVariant::nft;
    if (option == IptablesBackendOption::automatic) {
      const state::IptablesVariantChoice choice =
          state::choose_iptables_variant(survey.nft, survey.legacy);
      backend = choice.variant;
      chosen.reason =
          mode_reason + "; " + std::string(state::to_string(backend)) + " because " + choice.reason;
    } else {
      backend = option == IptablesBackendOption::nft ? state::IptablesVariant::nft
                                                     : state::IptablesVariant::legacy;
      chosen.reason = mode_reason + "; --iptables-backend=" +
                      (option == IptablesBackendOption::nft ? "nft" : "legacy");
    }
    chosen.kind = kind_of(backend);
    // An iptables-legacy node seen through the hardened unit looks empty: say so rather than
    // choose iptables-nft quietly and split the node's rules across two backends.
    if (option == IptablesBackendOption::automatic && !survey.legacy.readable) {
      std::string why;
      for (const auto& problem : survey.problems) why += (why.empty() ? "" : "; ") + problem;
      chosen.warnings.push_back(
          "--iptables-backend=auto could not read iptables-legacy (" + why + "), so it chose " +
          std::string(state::to_string(backend)) +
          " without knowing what iptables-legacy holds. If kubelet and kube-proxy use "
          "iptables-legacy on this node, pass --iptables-backend=legacy and, under systemd, "
          "install the iptables-legacy drop-in (README: Running it under systemd)");
    }
    const state::IptablesContents& other =
        backend == state::IptablesVariant::nft ? survey.legacy : survey.nft;
    if (std::string warning = state::other_iptables_warning(backend, other); !warning.empty()) {
      chosen.warnings.push_back(std::move(warning));
    }
    done(std::move(chosen));
  });
}

}  // namespace fnft::daemon
