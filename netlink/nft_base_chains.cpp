#include "netlink/nft_base_chains.hpp"

#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include <cstring>

#include "netlink/detail/nft_codec.hpp"
#include "netlink/detail/nftnl_ptr.hpp"
#include "netlink/detail/nftnl_shape.hpp"
#include "netlink/netlink_error.hpp"

namespace fnft::netlink {
namespace {

std::string family_name(std::uint32_t family) {
  switch (family) {
    case NFPROTO_IPV4: return "ip";
    case NFPROTO_IPV6: return "ip6";
    case NFPROTO_INET: return "inet";
    case NFPROTO_BRIDGE: return "bridge";
    case NFPROTO_NETDEV: return "netdev";
    case NFPROTO_ARP: return "arp";
    default: return std::to_string(family);
  }
}

std::string hook_name(std::uint32_t family, std::uint32_t hook) {
  if (family == NFPROTO_NETDEV) return "";
  switch (hook) {
    case NF_INET_PRE_ROUTING: return "prerouting";
    case NF_INET_LOCAL_IN: return "input";
    case NF_INET_FORWARD: return "forward";
    case NF_INET_LOCAL_OUT: return "output";
    case NF_INET_POST_ROUTING: return "postrouting";
    default: return std::to_string(hook);
  }
}

const char* string_or_empty(const char* text) {
  return text == nullptr ? "" : text;
}

// What the rules of one chain do that matters here.
void survey_rules(NfnlSocket& socket, std::uint32_t family, BaseChainInfo& chain) {
  alignas(nlmsghdr) char buffer[1024];
  nlmsghdr* request = nftnl_nlmsg_build_hdr(buffer, NFT_MSG_GETRULE,
                                            static_cast<std::uint16_t>(family), NLM_F_DUMP, 0);
  const NftnlRule filter = make_rule();
  nftnl_rule_set_str(filter.get(), NFTNL_RULE_TABLE, chain.table.c_str());
  nftnl_rule_set_str(filter.get(), NFTNL_RULE_CHAIN, chain.chain.c_str());
  nftnl_rule_nlmsg_build_payload(request, filter.get());
  socket.dump(
      request, "list chain " + chain.family + " " + chain.table + " " + chain.chain,
      [&](const nlmsghdr* reply) {
        const std::optional<NftnlRule> rule = parse_rule_message(reply);
        if (!rule) return;
        nftnl_expr_foreach(
            rule->get(),
            [](nftnl_expr* expr, void* data) {
              auto* info = static_cast<BaseChainInfo*>(data);
              const char* name = nftnl_expr_get_str(expr, NFTNL_EXPR_NAME);
              if (std::strcmp(string_or_empty(name), "masq") == 0) info->masquerades = true;
              if (std::strcmp(string_or_empty(name), "reject") == 0) info->drops = true;
              if (std::strcmp(string_or_empty(name), "immediate") == 0 &&
                  nftnl_expr_is_set(expr, NFTNL_EXPR_IMM_VERDICT) &&
                  static_cast<int>(nftnl_expr_get_u32(expr, NFTNL_EXPR_IMM_VERDICT)) == NF_DROP) {
                info->drops = true;
              }
              return 0;
            },
            &chain);
      });
}

}  // namespace

std::vector<BaseChainInfo> list_base_chains(NfnlSocket& socket) {
  std::vector<std::pair<std::uint32_t, BaseChainInfo>> found;
  alignas(nlmsghdr) char buffer[1024];
  nlmsghdr* request =
      nftnl_nlmsg_build_hdr(buffer, NFT_MSG_GETCHAIN, NFPROTO_UNSPEC, NLM_F_DUMP, 0);
  socket.dump(request, "list chains", [&](const nlmsghdr* reply) {
    const NftnlChain chain = make_chain();
    if (!parse_checked(reply, chain.get())) return;
    if (!nftnl_chain_is_set(chain.get(), NFTNL_CHAIN_HOOKNUM)) return;  // a regular chain
    const std::uint32_t family = nftnl_chain_get_u32(chain.get(), NFTNL_CHAIN_FAMILY);
    BaseChainInfo info;
    info.family = family_name(family);
    info.table = string_or_empty(nftnl_chain_get_str(chain.get(), NFTNL_CHAIN_TABLE));
    info.chain = string_or_empty(nftnl_chain_get_str(chain.get(), NFTNL_CHAIN_NAME));
    info.type = string_or_empty(nftnl_chain_get_str(chain.get(), NFTNL_CHAIN_TYPE));
    info.hook = hook_name(family, nftnl_chain_get_u32(chain.get(), NFTNL_CHAIN_HOOKNUM));
    info.priority = nftnl_chain_get_s32(chain.get(), NFTNL_CHAIN_PRIO);
    info.policy_drop = nftnl_chain_is_set(chain.get(), NFTNL_CHAIN_POLICY) &&
                       nftnl_chain_get_u32(chain.get(), NFTNL_CHAIN_POLICY) == NF_DROP;
    found.emplace_back(family, std::move(info));
  });
  std::vector<BaseChainInfo> chains;
  for (auto& [family, info] : found) {
    survey_rules(socket, family, info);
    chains.push_back(std::move(info));
  }
  return chains;
}

}  // namespace fnft::netlink
