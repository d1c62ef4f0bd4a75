#include "daemon/backends/backend_set.hpp"

#include <memory>

namespace fnft::daemon {
namespace {

struct Cleaning {
  std::vector<BackendKind> kinds;
  std::size_t next = 0;
  BackendSet::Report report;
  std::function<void()> done;
};

RemovedRules rules_of(BackendKind kind) {
  return {"the " + std::string(to_string(kind)) + " mode's", std::string(to_string(kind)),
          kind == BackendKind::nftables ? "nftables" : "iptables"};
}

void clean_next(BackendSet& set, const std::shared_ptr<Cleaning>& cleaning) {
  if (cleaning->next == cleaning->kinds.size()) {
    cleaning->done();
    return;
  }
  const BackendKind kind = cleaning->kinds[cleaning->next++];
  set.of(kind).cleanup([&set, cleaning, kind](const BackendResult& result) {
    cleaning->report(rules_of(kind), result);
    clean_next(set, cleaning);
  });
}

}  // namespace

BackendSet::BackendSet(boost::asio::io_context& io, netlink::NfnlSocket& socket,
                       std::chrono::milliseconds iptables_legacy_poll)
    : nftables_(socket),
      iptables_nft_(io, socket, {state::IptablesVariant::nft, iptables_legacy_poll}),
      iptables_legacy_(io, socket, {state::IptablesVariant::legacy, iptables_legacy_poll}) {}

Backend& BackendSet::of(BackendKind kind) {
  switch (kind) {
    case BackendKind::nftables: return nftables_;
    case BackendKind::iptables_nft: return iptables_nft_;
    case BackendKind::iptables_legacy: return iptables_legacy_;
  }
  return nftables_;
}

bool BackendSet::is_own(const netlink::NftTransaction& transaction) const {
  return nftables_.is_own(transaction) || iptables_nft_.is_own(transaction) ||
         iptables_legacy_.is_own(transaction);
}

void BackendSet::clean(std::vector<BackendKind> kinds, Report report, std::function<void()> done) {
  auto cleaning = std::make_shared<Cleaning>();
  cleaning->kinds = std::move(kinds);
  cleaning->report = std::move(report);
  cleaning->done = std::move(done);
  clean_next(*this, cleaning);
}

void BackendSet::clean_all_but(BackendKind active, const state::NodeConfig& config, Report report,
                               std::function<void()> done) {
  std::vector<BackendKind> others;
  for (const auto kind : kAll) {
    if (kind != active) others.push_back(kind);
  }
  clean(std::move(others), report, [this, config, report, done = std::move(done)] {
    nftables_.remove_flanneld_rules(config, [&report, &done](const BackendResult& result) {
      report(flanneld_removed_rules(), result);
      done();
    });
  });
}

}  // namespace fnft::daemon
