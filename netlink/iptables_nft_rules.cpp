#include "netlink/iptables_nft_rules.hpp"

#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/xt_comment.h>

#include <algorithm>
#include <cstring>

#include "netlink/detail/nft_codec.hpp"
#include "netlink/detail/nftnl_ptr.hpp"
#include "netlink/nft_chain_names.hpp"
#include "state/iptables_ruleset.hpp"

namespace fnft::netlink {
namespace {

// iptables-nft writes `-m comment --comment X` as an xt match expression named "comment"
// whose info is the kernel's struct xt_comment_info (a NUL-padded char array).
bool has_flanneld_comment_match(nftnl_rule* rule) {
  bool found = false;
  nftnl_expr_foreach(
      rule,
      [](nftnl_expr* expr, void* data) {
        const char* name = nftnl_expr_get_str(expr, NFTNL_EXPR_NAME);
        if (name == nullptr || std::strcmp(name, "match") != 0) return 0;
        const char* match = nftnl_expr_get_str(expr, NFTNL_EXPR_MT_NAME);
        if (match == nullptr || std::strcmp(match, "comment") != 0) return 0;
        std::uint32_t length = 0;
        const auto* info =
            static_cast<const char*>(nftnl_expr_get_data(expr, NFTNL_EXPR_MT_INFO, &length));
        if (info == nullptr) return 0;
        const std::string_view comment(
            info, ::strnlen(info, std::min<std::size_t>(length, XT_MAX_COMMENT_LEN)));
        if (state::is_flanneld_iptables_comment(comment)) *static_cast<bool*>(data) = true;
        return 0;
      },
      &found);
  return found;
}

bool table_holds_flanneld_comment(NfnlSocket& socket, state::Family family, const char* table) {
  alignas(nlmsghdr) char buffer[1024];
  nlmsghdr* request =
      nftnl_nlmsg_build_hdr(buffer, NFT_MSG_GETRULE, nfproto_of(family), NLM_F_DUMP, 0);
  const NftnlRule filter = make_rule();
  nftnl_rule_set_str(filter.get(), NFTNL_RULE_TABLE, table);
  nftnl_rule_nlmsg_build_payload(request, filter.get());
  bool found = false;
  socket.dump(request, "list rules " + std::string(state::nft_family_name(family)) + " " + table,
              [&](const nlmsghdr* reply) {
                if (found) return;
                const std::optional<NftnlRule> rule = parse_rule_message(reply);
                if (!rule) return;
                found = state::is_flanneld_iptables_comment(decode_comment(rule->get())) ||
                        has_flanneld_comment_match(rule->get());
              });
  return found;
}

}  // namespace

bool iptables_nft_holds_flanneld_rules(NfnlSocket& socket, state::Family family) {
  for (const char* table : {"nat", "filter"}) {
    const auto chains = list_chain_names(socket, family, table);
    // No table, no rule of anyone's: nothing more to read.
    if (chains.empty()) continue;
    if (std::any_of(chains.begin(), chains.end(), state::is_flanneld_iptables_chain)) return true;
    if (table_holds_flanneld_comment(socket, family, table)) return true;
  }
  return false;
}

}  // namespace fnft::netlink
