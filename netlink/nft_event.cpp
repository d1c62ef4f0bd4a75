#include "netlink/nft_event.hpp"

#include <arpa/inet.h>
#include <endian.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <algorithm>
#include <array>

#include "netlink/detail/nft_codec.hpp"
#include "netlink/detail/nl_attributes.hpp"
#include "state/one_line.hpp"

namespace fnft::netlink {
namespace {

// Every nf_tables object message carries its table's name as attribute 1
// (NFTA_TABLE_NAME, NFTA_CHAIN_TABLE, NFTA_RULE_TABLE, NFTA_SET_TABLE, ...).
constexpr std::uint16_t kTableAttribute = 1;

struct ObjectKind {
  std::uint16_t message;
  const char* name;
  std::uint16_t chain_attribute;  // 0: the message names no chain
};

constexpr std::array kObjectKinds = {
    ObjectKind{NFT_MSG_NEWTABLE, "addtable", 0},
    ObjectKind{NFT_MSG_DELTABLE, "deltable", 0},
    ObjectKind{NFT_MSG_NEWCHAIN, "addchain", NFTA_CHAIN_NAME},
    ObjectKind{NFT_MSG_DELCHAIN, "delchain", NFTA_CHAIN_NAME},
    ObjectKind{NFT_MSG_NEWRULE, "addrule", NFTA_RULE_CHAIN},
    ObjectKind{NFT_MSG_DELRULE, "delrule", NFTA_RULE_CHAIN},
    ObjectKind{NFT_MSG_NEWSET, "addset", 0},
    ObjectKind{NFT_MSG_DELSET, "delset", 0},
    ObjectKind{NFT_MSG_NEWSETELEM, "addelem", 0},
    ObjectKind{NFT_MSG_DELSETELEM, "delelem", 0},
    ObjectKind{NFT_MSG_NEWOBJ, "addobj", 0},
    ObjectKind{NFT_MSG_DELOBJ, "delobj", 0},
    ObjectKind{NFT_MSG_NEWFLOWTABLE, "addflowtable", 0},
    ObjectKind{NFT_MSG_DELFLOWTABLE, "delflowtable", 0},
};

const ObjectKind* find_kind(std::uint16_t message) {
  for (const auto& kind : kObjectKinds) {
    if (kind.message == message) return &kind;
  }
  return nullptr;
}

// The string attributes we need, by type; absent ones stay empty.
struct Attributes {
  std::array<const nlattr*, 8> by_type{};
};

int collect_attribute(const nlattr* attribute, void* data) {
  auto* attributes = static_cast<Attributes*>(data);
  const auto type = mnl_attr_get_type(attribute);
  if (type < attributes->by_type.size()) attributes->by_type[type] = attribute;
  return MNL_CB_OK;
}

std::string string_attribute(const Attributes& attributes, std::uint16_t type) {
  const nlattr* attribute = type < attributes.by_type.size() ? attributes.by_type[type] : nullptr;
  if (attribute == nullptr || mnl_attr_validate(attribute, MNL_TYPE_NUL_STRING) < 0) return {};
  return mnl_attr_get_str(attribute);
}

std::uint64_t u64_attribute(const Attributes& attributes, std::uint16_t type) {
  const nlattr* attribute = type < attributes.by_type.size() ? attributes.by_type[type] : nullptr;
  if (attribute == nullptr || mnl_attr_validate(attribute, MNL_TYPE_U64) < 0) return 0;
  return be64toh(mnl_attr_get_u64(attribute));
}

// A deletion of a rule, a chain or a table, as an event reports it; nullopt for anything else.
std::optional<state::Deletion> deletion_of(std::uint16_t type, const state::OwnedTable& table,
                                           const std::string& chain, const Attributes& attributes) {
  switch (type) {
    case NFT_MSG_DELRULE:
      return state::Deletion{state::Deletion::Kind::rule, table.family, table.name, chain,
                             u64_attribute(attributes, NFTA_RULE_HANDLE)};
    case NFT_MSG_DELCHAIN:
      return state::Deletion{state::Deletion::Kind::chain, table.family, table.name, chain, 0};
    case NFT_MSG_DELTABLE:
      return state::Deletion{state::Deletion::Kind::table, table.family, table.name, {}, 0};
    default: return std::nullopt;
  }
}

std::uint32_t u32_attribute(const Attributes& attributes, std::uint16_t type) {
  const nlattr* attribute = type < attributes.by_type.size() ? attributes.by_type[type] : nullptr;
  if (attribute == nullptr || mnl_attr_validate(attribute, MNL_TYPE_U32) < 0) return 0;
  return ntohl(mnl_attr_get_u32(attribute));
}

// The chains the rule in `message` jumps or goes to (immediate verdicts), read straight from
// the attributes: kube-proxy adds thousands of rules to `nat`, and this costs a walk each.
std::vector<std::string> jump_targets(const nlmsghdr* message) {
  std::vector<std::string> targets;
  for_each_attribute(message, sizeof(nfgenmsg), [&](const nlattr* attribute) {
    if (mnl_attr_get_type(attribute) != NFTA_RULE_EXPRESSIONS) return;
    for_each_nested(attribute, [&](const nlattr* element) {
      bool immediate = false;
      const nlattr* data = nullptr;
      for_each_nested(element, [&](const nlattr* field) {
        if (mnl_attr_get_type(field) == NFTA_EXPR_NAME) {
          immediate = mnl_attr_validate(field, MNL_TYPE_NUL_STRING) == 0 &&
                      std::string_view(mnl_attr_get_str(field)) == "immediate";
        } else if (mnl_attr_get_type(field) == NFTA_EXPR_DATA) {
          data = field;
        }
      });
      if (!immediate || data == nullptr) return;
      for_each_nested(data, [&](const nlattr* field) {
        if (mnl_attr_get_type(field) != NFTA_IMMEDIATE_DATA) return;
        for_each_nested(field, [&](const nlattr* value) {
          if (mnl_attr_get_type(value) != NFTA_DATA_VERDICT) return;
          for_each_nested(value, [&](const nlattr* verdict) {
            if (mnl_attr_get_type(verdict) == NFTA_VERDICT_CHAIN &&
                mnl_attr_validate(verdict, MNL_TYPE_NUL_STRING) == 0) {
              targets.emplace_back(mnl_attr_get_str(verdict));
            }
          });
        });
      });
    });
  });
  return targets;
}

const char* family_name(std::uint8_t family) {
  switch (family) {
    case NFPROTO_IPV4: return "ip";
    case NFPROTO_IPV6: return "ip6";
    case NFPROTO_INET: return "inet";
    case NFPROTO_ARP: return "arp";
    case NFPROTO_BRIDGE: return "bridge";
    case NFPROTO_NETDEV: return "netdev";
    default: return "unspec";
  }
}

}  // namespace

NftEventAssembler::NftEventAssembler(std::vector<WatchedTable> watched)
    : watched_(std::move(watched)) {}

std::optional<state::OwnedTable> NftEventAssembler::watched(std::uint8_t nfproto,
                                                            const std::string& table,
                                                            const std::string& chain,
                                                            bool table_level) const {
  const auto family = family_of_nfproto(nfproto);
  if (!family) return std::nullopt;
  for (const auto& candidate : watched_) {
    if (candidate.family != *family || candidate.table != table) continue;
    const bool matters =
        candidate.chains.empty() || table_level ||
        std::any_of(candidate.chains.begin(), candidate.chains.end(),
                    [&chain](const std::string& watched_chain) {
                      if (watched_chain.ends_with('*'))
                        return std::string_view(chain).starts_with(
                            std::string_view(watched_chain).substr(0, watched_chain.size() - 1));
                      return watched_chain == chain;
                    });
    if (matters) return state::OwnedTable{*family, table};
  }
  return std::nullopt;
}

std::optional<NftTransaction> NftEventAssembler::feed(const nlmsghdr* message) {
  if (NFNL_SUBSYS_ID(message->nlmsg_type) != NFNL_SUBSYS_NFTABLES) return std::nullopt;
  const auto type = static_cast<std::uint16_t>(NFNL_MSG_TYPE(message->nlmsg_type));
  if (message->nlmsg_len < NLMSG_LENGTH(sizeof(nfgenmsg))) return std::nullopt;
  const auto* header = static_cast<const nfgenmsg*>(mnl_nlmsg_get_payload(message));

  Attributes attributes;
  mnl_attr_parse(message, sizeof(nfgenmsg), collect_attribute, &attributes);

  if (type == NFT_MSG_NEWGEN) {
    NftTransaction done = std::move(pending_);
    pending_ = {};
    done.generation = u32_attribute(attributes, NFTA_GEN_ID);
    done.pid = u32_attribute(attributes, NFTA_GEN_PROC_PID);
    // A process names itself (prctl, argv[0], a symlink): its bytes become text here, once,
    // before the name reaches a log line, the status document or a metrics label.
    done.process_name = state::one_line(string_attribute(attributes, NFTA_GEN_PROC_NAME));
    done.portid = message->nlmsg_pid;
    return done;
  }

  ++pending_.message_count;
  const ObjectKind* kind = find_kind(type);
  if (kind == nullptr) {
    // A message type newer than our headers (e.g. a future object kind): we cannot tell
    // which table it touched, so let the reconciler look.
    pending_.touched_owned = true;
    pending_.only_deletions = false;
    pending_.touched.push_back("message type " + std::to_string(type));
    return std::nullopt;
  }
  const std::string table = string_attribute(attributes, kTableAttribute);
  const std::string chain =
      kind->chain_attribute != 0 ? string_attribute(attributes, kind->chain_attribute) : "";
  const bool table_level = type == NFT_MSG_NEWTABLE || type == NFT_MSG_DELTABLE;
  auto ours = watched(header->nfgen_family, table, chain, table_level);
  // A rule added to another chain of the table that jumps into one of ours (say, our
  // forward chain entered from INPUT) is ours too.
  if (!ours && type == NFT_MSG_NEWRULE) {
    for (const auto& target : jump_targets(message)) {
      if ((ours = watched(header->nfgen_family, table, target, false))) break;
    }
  }
  if (!ours) return std::nullopt;
  pending_.touched_owned = true;
  if (const auto deletion = deletion_of(type, *ours, chain, attributes)) {
    pending_.deletions.push_back(*deletion);
  } else {
    pending_.only_deletions = false;
  }
  auto& tables = pending_.touched_tables;
  if (std::find(tables.begin(), tables.end(), *ours) == tables.end()) tables.push_back(*ours);
  // Names are identity in state (kept as bytes), but this is a description for people.
  std::string what = std::string(kind->name) + " " + family_name(header->nfgen_family) + " " +
                     state::one_line(table);
  if (!chain.empty()) what += " " + state::one_line(chain);
  pending_.touched.push_back(std::move(what));
  return std::nullopt;
}

}  // namespace fnft::netlink
