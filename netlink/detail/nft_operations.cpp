#include "netlink/detail/nft_operations.hpp"

#include <linux/netfilter/nf_tables.h>

#include "netlink/detail/nft_codec.hpp"
#include "netlink/detail/nftnl_ptr.hpp"

namespace fnft::netlink {

void add_operation(NftBatch& batch, const state::NftOperation& op) {
  using Kind = state::NftOperation::Kind;
  const std::uint8_t family = nfproto_of(op.family);
  std::string description = state::describe(op);
  switch (op.kind) {
    case Kind::add_table: {
      // NLM_F_CREATE without NLM_F_EXCL: an existing table is kept as it is, which is how
      // we take over upstream flanneld's table in place, or takes the flags (an orphan's
      // ownership).
      const NftnlTable table = encode_table(op.family, op.table, op.protection);
      batch.add(NFT_MSG_NEWTABLE, family, NLM_F_CREATE, std::move(description),
                [&](nlmsghdr* nlh) { nftnl_table_nlmsg_build_payload(nlh, table.get()); });
      return;
    }
    case Kind::delete_table: {
      const NftnlTable table = encode_table(op.family, op.table);
      nftnl_table_unset(table.get(), NFTNL_TABLE_FLAGS);  // a delete names the table, nothing more
      batch.add(NFT_MSG_DELTABLE, family, 0, std::move(description),
                [&](nlmsghdr* nlh) { nftnl_table_nlmsg_build_payload(nlh, table.get()); });
      return;
    }
    case Kind::add_chain: {
      // On an existing chain with the same hook this updates the policy.
      const NftnlChain chain = encode_chain(op.family, op.table, op.chain, op.base);
      batch.add(NFT_MSG_NEWCHAIN, family, NLM_F_CREATE, std::move(description),
                [&](nlmsghdr* nlh) { nftnl_chain_nlmsg_build_payload(nlh, chain.get()); });
      return;
    }
    case Kind::delete_chain: {
      const NftnlChain chain = encode_chain(op.family, op.table, op.chain, std::nullopt);
      batch.add(NFT_MSG_DELCHAIN, family, 0, std::move(description),
                [&](nlmsghdr* nlh) { nftnl_chain_nlmsg_build_payload(nlh, chain.get()); });
      return;
    }
    case Kind::flush_chain: {
      // DELRULE naming a chain but no handle deletes every rule of that chain.
      const NftnlRule rule = encode_rule_reference(op.family, op.table, op.chain, std::nullopt);
      batch.add(NFT_MSG_DELRULE, family, 0, std::move(description),
                [&](nlmsghdr* nlh) { nftnl_rule_nlmsg_build_payload(nlh, rule.get()); });
      return;
    }
    case Kind::add_rule: {
      const NftnlRule rule = encode_rule(op.family, op.table, op.chain, op.rule);
      // Without NLM_F_APPEND a rule goes first in its chain; with it, after the rule at
      // NFTA_RULE_POSITION, or last.
      if (op.after) nftnl_rule_set_u64(rule.get(), NFTNL_RULE_POSITION, *op.after);
      const std::uint16_t placement = op.first ? 0 : NLM_F_APPEND;
      batch.add(NFT_MSG_NEWRULE, family, NLM_F_CREATE | placement, std::move(description),
                [&](nlmsghdr* nlh) { build_rule_payload(nlh, rule.get()); });
      return;
    }
    case Kind::add_flowtable: {
      // NLM_F_CREATE without NLM_F_EXCL: on an existing flowtable, the devices it lacks are
      // bound and the others left as they are.
      const NftnlFlowtable flowtable = encode_flowtable(op.family, op.table, op.flowtable);
      batch.add(NFT_MSG_NEWFLOWTABLE, family, NLM_F_CREATE, std::move(description),
                [&](nlmsghdr* nlh) { nftnl_flowtable_nlmsg_build_payload(nlh, flowtable.get()); });
      return;
    }
    case Kind::delete_flowtable: {
      state::Flowtable name_only;
      name_only.name = op.flowtable.name;
      const NftnlFlowtable flowtable = encode_flowtable(op.family, op.table, name_only, false);
      batch.add(NFT_MSG_DELFLOWTABLE, family, 0, std::move(description),
                [&](nlmsghdr* nlh) { nftnl_flowtable_nlmsg_build_payload(nlh, flowtable.get()); });
      return;
    }
    case Kind::unbind_flowtable_devices: {
      // DELFLOWTABLE naming devices unbinds those and keeps the flowtable.
      const NftnlFlowtable flowtable = encode_flowtable(op.family, op.table, op.flowtable, false);
      batch.add(NFT_MSG_DELFLOWTABLE, family, 0, std::move(description),
                [&](nlmsghdr* nlh) { nftnl_flowtable_nlmsg_build_payload(nlh, flowtable.get()); });
      return;
    }
    case Kind::delete_rule: {
      const NftnlRule rule = encode_rule_reference(op.family, op.table, op.chain, op.handle);
      batch.add(NFT_MSG_DELRULE, family, 0, std::move(description),
                [&](nlmsghdr* nlh) { nftnl_rule_nlmsg_build_payload(nlh, rule.get()); });
      return;
    }
  }
}

}  // namespace fnft::netlink
