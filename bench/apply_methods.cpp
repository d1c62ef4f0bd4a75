#include "bench/apply_methods.hpp"

#include <memory>
#include <optional>
#include <stdexcept>

#include "bench/bench_config.hpp"
#include "daemon/process/child_process.hpp"
#include "netlink/nfnl_socket.hpp"
#include "state/iptables_ruleset.hpp"
#include "state/nft_text.hpp"

namespace fnft::bench {
namespace {

// knftables (flanneld's nftables mode, kube-proxy, Istio) sends each transaction as one
// `nft -f -` with the text on stdin; a full sync declares the table, flushes it and
// re-adds everything, which is idempotent whatever the table held before.
std::string knftables_transaction(const state::Ruleset& ruleset) {
  std::string text;
  for (const auto& table : ruleset.tables) {
    const std::string name = std::string(state::nft_family_name(table.family)) + " " + table.name;
    text += "add table " + name + "\nflush table " + name + "\n";
  }
  return text + state::to_nft_text(ruleset);
}

// iptables-restore without --noflush flushes every chain of the tables it names and deletes
// their user chains: the "cleaned" state, with the built-in chains in place as on any node.
constexpr const char* kIptablesFlush = "*nat\nCOMMIT\n*filter\nCOMMIT\n";

void run_checked(const std::vector<std::string>& argv, std::string_view input) {
  const daemon::ChildResult result = daemon::run_child(argv, input);
  if (!result.ok()) throw std::runtime_error(result.describe(argv));
}

// One tool set for both families: two processes per load, their times added.
struct IptablesTools {
  std::string id;
  std::string ip4;
  std::string ip6;
};

// The legacy tools need the kernel's x_tables (ip_tables, iptable_nat, ...), which a kernel
// built for nftables only may lack: try once, and say why not if it fails.
std::optional<std::string> why_unusable(const IptablesTools& tools) {
  try {
    for (const auto& tool : {tools.ip4, tools.ip6}) {
      const daemon::ChildResult result = daemon::run_child({tool}, kIptablesFlush);
      if (!result.ok()) return result.describe({tool});
    }
  } catch (const std::exception& error) {
    return error.what();
  }
  return std::nullopt;
}

ApplyMethod iptables_method(const IptablesTools& tools, const state::NodeConfig& config) {
  // Shared by the lambdas, which outlive this call.
  const auto payload4 = std::make_shared<const std::string>(state::to_iptables_restore(
      state::desired_iptables_ruleset(state::Family::ipv4, *config.ipv4, config.options)));
  const auto payload6 = std::make_shared<const std::string>(state::to_iptables_restore(
      state::desired_iptables_ruleset(state::Family::ipv6, *config.ipv6, config.options)));
  const auto flush = [tools] {
    run_checked({tools.ip4}, kIptablesFlush);
    run_checked({tools.ip6}, kIptablesFlush);
  };
  ApplyMethod method;
  method.id = tools.id;
  method.name = tools.ip4;
  method.how = "`" + tools.ip4 + " --noflush` then `" + tools.ip6 +
               " --noflush`, flanneld's rules for both families (times added), into nat and "
               "filter tables whose chains were flushed before";
  method.prepare = flush;
  method.run = [tools, payload4, payload6] {
    run_checked({tools.ip4, "--noflush"}, *payload4);
    run_checked({tools.ip6, "--noflush"}, *payload6);
  };
  method.teardown = flush;
  return method;
}

}  // namespace

void wait_for_deferred_nftables_work() {
  // Binding gives the socket a portid; closing it then runs the kernel's release notifier.
  const netlink::NfnlSocket throwaway;
}

std::vector<ApplyMethod> apply_methods(const ApplyInputs& inputs,
                                       std::vector<std::string>& skipped) {
  // Pointers, copied into the lambdas: `inputs` outlives every method.
  netlink::NftTableSync* backend = &inputs.backend;
  const state::Ruleset* desired = &inputs.desired;
  const auto delete_flannel_tables = [backend] { backend->cleanup(); };
  const auto transaction = std::make_shared<const std::string>(knftables_transaction(*desired));
  const auto tables = std::make_shared<const std::string>(state::to_nft_text(*desired));

  std::vector<ApplyMethod> methods;
  methods.push_back({"in-process", "in-process apply (libnftnl batch)",
                     "NftTableSync::apply() from an empty state: dump our tables, plan, "
                     "one batch, acks, read the generation",
                     delete_flannel_tables,
                     [backend, desired] {
                       if (!backend->apply(*desired).committed)
                         throw std::runtime_error("apply from an empty state committed nothing");
                     },
                     delete_flannel_tables, false});
  // The daemon's own case after events told it what the kernel holds (here: nothing, at the
  // generation read after the teardown): plan and commit, nothing read first.
  const auto known_generation = std::make_shared<std::uint32_t>(0);
  methods.push_back(
      {"known", "in-process apply, starting state known from events",
       "NftTableSync::apply_known() from an empty state known at its generation: "
       "plan, one batch conditional on that generation, acks; no dump",
       [socket = &inputs.socket, known_generation, delete_flannel_tables] {
         delete_flannel_tables();
         *known_generation = socket->read_generation();
       },
       [backend, desired, known_generation] {
         if (!backend->apply_known(*desired, {}, *known_generation, backend->owned_tables())
                  .committed)
           throw std::runtime_error("apply from a known empty state committed nothing");
       },
       delete_flannel_tables, false});
  methods.push_back({"reapply", "in-process re-apply, unchanged",
                     "NftTableSync::apply() when the kernel already holds the ruleset: "
                     "dump and compare, no commit",
                     [backend, desired] { backend->apply(*desired); },
                     [backend, desired] {
                       if (backend->apply(*desired).committed)
                         throw std::runtime_error("re-applying an unchanged state committed");
                     },
                     delete_flannel_tables, false});
  methods.push_back({"nft-transaction", "nft -f - (knftables-style transaction)",
                     "posix_spawn `nft -f -` from an empty state, on stdin `add table` + "
                     "`flush table` per family, then both tables",
                     delete_flannel_tables,
                     [transaction] {
                       run_checked({"nft", "-f", "-"}, *transaction);
                     },
                     delete_flannel_tables, true});
  methods.push_back({"nft-resync", "nft -f - (knftables-style, over the existing tables)",
                     "the same `nft -f -` transaction when the kernel already holds the "
                     "ruleset, as a periodic full sync sends it: the flush frees the old rules, "
                     "so nft's exit waits for an RCU grace period (see "
                     "wait_for_deferred_nftables_work)",
                     [backend, desired] { backend->apply(*desired); },
                     [transaction] {
                       run_checked({"nft", "-f", "-"}, *transaction);
                     },
                     delete_flannel_tables, true});
  methods.push_back({"nft-tables", "nft -f - (table text only)",
                     "posix_spawn `nft -f -` from an empty state, only the two table blocks "
                     "on stdin",
                     delete_flannel_tables,
                     [tables] {
                       run_checked({"nft", "-f", "-"}, *tables);
                     },
                     delete_flannel_tables, true});
  // The whole command a node's operator runs: a process that reads flanneld's files, applies,
  // reads back, and clears the other modes' leftovers. Compared with `nft -f` process for
  // process, it shows what the verb's extra work costs (it runs no program of its own).
  const auto config_dir = std::make_shared<TempDir>("fnft-bench-apply");
  const std::string subnet_file = config_dir->write("subnet.env", dual_stack_subnet_env());
  const std::string net_conf = config_dir->write("net-conf.json", dual_stack_net_conf_json());
  methods.push_back({"apply-command", "flannel-nftd apply (the whole process)",
                     "posix_spawn `flannel-nftd apply` from an empty state with flanneld's "
                     "files for the same node: parse, dump, plan, one batch, read back, and "
                     "the other modes' leftovers looked for",
                     delete_flannel_tables,
                     [config_dir, subnet_file, net_conf] {
                       run_checked({FNFT_BINARY, "apply", "--subnet-file=" + subnet_file,
                                    "--net-config-path=" + net_conf},
                                   "");
                     },
                     delete_flannel_tables, true});
  for (const auto& tools :
       {IptablesTools{"iptables-nft", "iptables-nft-restore", "ip6tables-nft-restore"},
        IptablesTools{"iptables-legacy", "iptables-legacy-restore", "ip6tables-legacy-restore"}}) {
    if (const auto reason = why_unusable(tools)) {
      skipped.push_back(tools.ip4 + ": skipped, " + *reason);
      continue;
    }
    methods.push_back(iptables_method(tools, inputs.config));
  }
  return methods;
}

}  // namespace fnft::bench
