#include "netlink/nft_dump.hpp"

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <linux/netfilter/nf_tables.h>

#include <algorithm>
#include <cerrno>
#include <string>

#include "netlink/detail/nft_codec.hpp"
#include "netlink/detail/nftnl_ptr.hpp"
#include "netlink/detail/nftnl_shape.hpp"
#include "netlink/netlink_error.hpp"

namespace fnft::netlink {
namespace {

// Dumps of the whole ruleset that must hold still before we read our tables on their own.
constexpr int kConsistentAttempts = 3;
// Reads of our tables on their own that may meet a change of those very tables.
constexpr int kNarrowAttempts = 10;
// Rules decoded per chain. Ours hold a handful; a chain with more than this is rewritten by
// any repair whatever the rest holds, so the rest are counted, not decoded: a flood of foreign
// rules costs neither the time nor the memory of decoding it.
constexpr std::size_t kMaxRulesDecodedPerChain = 1024;
// A request: headers plus at most a table name and a chain name.
constexpr std::size_t kRequestBufferBytes = 1024;

// What a dump found of one owned table: the model, plus what the model cannot hold.
struct FoundTable {
  state::Table table;
  std::vector<std::string> unmodeled;
  std::uint32_t use = 0;  // chains + sets + stateful objects + flowtables, as the kernel counts
  std::optional<std::uint32_t> owner_portid;
};

bool owns(const std::vector<state::OwnedTable>& owned, state::Family family,
          const std::string& name) {
  return std::any_of(owned.begin(), owned.end(), [&](const state::OwnedTable& table) {
    return table.family == family && table.name == name;
  });
}

FoundTable* find_table(std::vector<FoundTable>& tables, const std::string& name) {
  const auto it = std::find_if(tables.begin(), tables.end(),
                               [&](const FoundTable& found) { return found.table.name == name; });
  return it == tables.end() ? nullptr : &*it;
}

NetlinkError parse_failure(const std::string& what) {
  return NetlinkError(EPROTO, "cannot parse the kernel's answer to `" + what +
                                  "`: libnftnl and the kernel disagree; please report this");
}

// `own_portid`: the dumping socket's, which is the one our commits (and our ownership) use.
FoundTable decode_found_table(const nlmsghdr* reply, const std::string& what,
                              std::uint32_t own_portid) {
  const NftnlTable table = make_table();
  if (!parse_checked(reply, table.get())) throw parse_failure(what);
  FoundTable found{decode_table(table.get(), own_portid),
                   unmodeled_table_properties(table.get(), own_portid),
                   nftnl_table_get_u32(table.get(), NFTNL_TABLE_USE), std::nullopt};
  const std::uint32_t flags = nftnl_table_is_set(table.get(), NFTNL_TABLE_FLAGS)
                                  ? nftnl_table_get_u32(table.get(), NFTNL_TABLE_FLAGS)
                                  : 0;
  if ((flags & NFT_TABLE_F_OWNER) != 0 && nftnl_table_is_set(table.get(), NFTNL_TABLE_OWNER)) {
    found.owner_portid = nftnl_table_get_u32(table.get(), NFTNL_TABLE_OWNER);
  }
  return found;
}

// The kernel filters table and chain dumps by family only, so both list the whole family and
// we keep our tables; the rule dump below is filtered by table in the kernel.
bool dump_owned_tables(NfnlSocket& socket, state::Family family,
                       const std::vector<state::OwnedTable>& owned,
                       std::vector<FoundTable>& tables) {
  alignas(nlmsghdr) char buffer[kRequestBufferBytes];
  nlmsghdr* request =
      nftnl_nlmsg_build_hdr(buffer, NFT_MSG_GETTABLE, nfproto_of(family), NLM_F_DUMP, 0);
  const std::string what = "list tables " + std::string(state::nft_family_name(family));
  return socket.dump(request, what, [&](const nlmsghdr* reply) {
    FoundTable found = decode_found_table(reply, what, socket.portid());
    if (owns(owned, family, found.table.name)) tables.push_back(std::move(found));
  });
}

// One object by name, or nothing when the kernel answers ENOENT.
template <typename Build>
bool get_one(NfnlSocket& socket, std::uint16_t message, state::Family family,
             const std::string& what, const Build& build_payload,
             const NfnlSocket::MessageHandler& on_reply) {
  alignas(nlmsghdr) char buffer[kRequestBufferBytes];
  nlmsghdr* request = nftnl_nlmsg_build_hdr(buffer, message, nfproto_of(family), 0, 0);
  build_payload(request);
  bool found = false;
  try {
    socket.request(request, what, [&](const nlmsghdr* reply) {
      found = true;
      on_reply(reply);
    });
  } catch (const NetlinkError& error) {
    if (error.error_code() != ENOENT) throw;
    return false;
  }
  return found;
}

// Our tables by name: a commit to another table cannot move them in the answer.
void get_owned_tables(NfnlSocket& socket, state::Family family,
                      const std::vector<state::OwnedTable>& owned,
                      std::vector<FoundTable>& tables) {
  for (const auto& wanted : owned) {
    if (wanted.family != family) continue;
    const NftnlTable filter = make_table();
    nftnl_table_set_str(filter.get(), NFTNL_TABLE_NAME, wanted.name.c_str());
    const std::string what =
        "list table " + std::string(state::nft_family_name(family)) + " " + wanted.name;
    get_one(
        socket, NFT_MSG_GETTABLE, family, what,
        [&](nlmsghdr* request) { nftnl_table_nlmsg_build_payload(request, filter.get()); },
        [&](const nlmsghdr* reply) {
          tables.push_back(decode_found_table(reply, what, socket.portid()));
        });
  }
}

// Adds `chain` to the found table it belongs to, if one of ours.
void keep_chain(const nftnl_chain* chain, std::vector<FoundTable>& tables) {
  // Only chains of our tables are decoded: foreign chains may use hooks we cannot represent.
  const char* table_name = nftnl_chain_get_str(chain, NFTNL_CHAIN_TABLE);
  if (table_name == nullptr) return;
  FoundTable* found = find_table(tables, table_name);
  if (found == nullptr) return;
  state::Chain decoded = decode_chain(chain).chain;
  // A dump resumed after another commit may show a chain twice.
  if (found->table.find_chain(decoded.name) != nullptr) return;
  found->table.chains.push_back(std::move(decoded));
}

NftnlChain parse_chain(const nlmsghdr* reply, const std::string& what) {
  NftnlChain chain = make_chain();
  if (!parse_checked(reply, chain.get())) throw parse_failure(what);
  return chain;
}

bool dump_chains(NfnlSocket& socket, state::Family family, std::vector<FoundTable>& tables) {
  alignas(nlmsghdr) char buffer[kRequestBufferBytes];
  nlmsghdr* request =
      nftnl_nlmsg_build_hdr(buffer, NFT_MSG_GETCHAIN, nfproto_of(family), NLM_F_DUMP, 0);
  const std::string what = "list chains " + std::string(state::nft_family_name(family));
  return socket.dump(request, what, [&](const nlmsghdr* reply) {
    keep_chain(parse_chain(reply, what).get(), tables);
  });
}

// The chains `expected` wants that the family-wide dump did not show, asked for by name: a
// commit elsewhere can shift a resumed chain dump past one of ours, and planning from that
// would add a chain (and its rules) that exists.
void confirm_expected_chains(NfnlSocket& socket, std::vector<FoundTable>& tables,
                             const state::Ruleset& expected) {
  for (auto& found : tables) {
    const state::Table* want = expected.find_table(found.table.family, found.table.name);
    if (want == nullptr) continue;
    for (const auto& chain : want->chains) {
      if (found.table.find_chain(chain.name) != nullptr) continue;
      const NftnlChain filter = make_chain();
      nftnl_chain_set_str(filter.get(), NFTNL_CHAIN_TABLE, found.table.name.c_str());
      nftnl_chain_set_str(filter.get(), NFTNL_CHAIN_NAME, chain.name.c_str());
      const std::string what = "list chain " +
                               std::string(state::nft_family_name(found.table.family)) + " " +
                               found.table.name + " " + chain.name;
      get_one(
          socket, NFT_MSG_GETCHAIN, found.table.family, what,
          [&](nlmsghdr* request) { nftnl_chain_nlmsg_build_payload(request, filter.get()); },
          [&](const nlmsghdr* reply) { keep_chain(parse_chain(reply, what).get(), tables); });
    }
  }
}

// The flowtables of each found table, with a dump the kernel filters by table.
bool dump_flowtables(NfnlSocket& socket, std::vector<FoundTable>& tables) {
  bool consistent = true;
  for (auto& found : tables) {
    alignas(nlmsghdr) char buffer[kRequestBufferBytes];
    nlmsghdr* request = nftnl_nlmsg_build_hdr(buffer, NFT_MSG_GETFLOWTABLE,
                                              nfproto_of(found.table.family), NLM_F_DUMP, 0);
    const NftnlFlowtable filter = make_flowtable();
    nftnl_flowtable_set_str(filter.get(), NFTNL_FLOWTABLE_TABLE, found.table.name.c_str());
    nftnl_flowtable_nlmsg_build_payload(request, filter.get());
    const std::string what = "list flowtables " +
                             std::string(state::nft_family_name(found.table.family)) + " " +
                             found.table.name;
    consistent &= socket.dump(request, what, [&](const nlmsghdr* reply) {
      const NftnlFlowtable flowtable = make_flowtable();
      if (!parse_checked(reply, flowtable.get())) throw parse_failure(what);
      DecodedFlowtable decoded = decode_flowtable(flowtable.get());
      if (decoded.table != found.table.name) return;  // a kernel that ignores the filter
      if (found.table.find_flowtable(decoded.flowtable.name) != nullptr) return;
      found.table.flowtables.push_back(std::move(decoded.flowtable));
    });
  }
  return consistent;
}

// The rule dump is filtered by table in the kernel, and its resume position counts only that
// table's rules: commits to other tables cannot make it skip or repeat one of ours.
bool dump_rules(NfnlSocket& socket, state::Table& table, bool& complete) {
  alignas(nlmsghdr) char buffer[kRequestBufferBytes];
  nlmsghdr* request =
      nftnl_nlmsg_build_hdr(buffer, NFT_MSG_GETRULE, nfproto_of(table.family), NLM_F_DUMP, 0);
  const NftnlRule filter = make_rule();
  nftnl_rule_set_str(filter.get(), NFTNL_RULE_TABLE, table.name.c_str());
  nftnl_rule_nlmsg_build_payload(request, filter.get());
  const std::string what = "list table " + std::string(state::nft_family_name(table.family)) + " " +
                           table.name + " (rules)";
  std::vector<std::size_t> not_decoded(table.chains.size(), 0);
  const bool consistent = socket.dump(request, what, [&](const nlmsghdr* reply) {
    const RuleLocation location = rule_message_location(reply);
    if (location.table != table.name) return;  // a kernel that ignores the filter
    const auto chain =
        std::find_if(table.chains.begin(), table.chains.end(),
                     [&](const state::Chain& c) { return c.name == location.chain; });
    // A rule of a chain the chain dump did not show: the table changed in between.
    if (chain == table.chains.end()) {
      complete = false;
      return;
    }
    if (chain->rules.size() >= kMaxRulesDecodedPerChain) {
      ++not_decoded[static_cast<std::size_t>(chain - table.chains.begin())];
      return;
    }
    chain->rules.push_back(decode_rule_message(reply).rule);
  });
  for (std::size_t i = 0; i < table.chains.size(); ++i) {
    if (not_decoded[i] == 0) continue;
    state::Rule rest;
    rest.matches.push_back(state::UnknownExpression{"and " + std::to_string(not_decoded[i]) +
                                                    " more rules, not decoded"});
    table.chains[i].rules.push_back(std::move(rest));
  }
  return consistent;
}

ObservedRuleset assemble(std::vector<FoundTable>& found,
                         const std::vector<state::OwnedTable>& owned) {
  ObservedRuleset observed;
  for (const auto& wanted : owned) {
    FoundTable* table = nullptr;
    for (auto& candidate : found) {
      if (candidate.table.family == wanted.family && candidate.table.name == wanted.name) {
        table = &candidate;
      }
    }
    if (table == nullptr) continue;
    // The kernel counts sets, maps and stateful objects in a table's use too.
    const std::size_t modeled = table->table.chains.size() + table->table.flowtables.size();
    if (table->use > modeled) {
      table->unmodeled.push_back(std::to_string(table->use - modeled) +
                                 " sets, maps or stateful objects");
    }
    if (!table->unmodeled.empty()) {
      observed.unmodeled.push_back({table->table.family, table->table.name,
                                    std::move(table->unmodeled), table->owner_portid});
    }
    observed.ruleset.tables.push_back(std::move(table->table));
  }
  return observed;
}

std::vector<state::Family> families_of(const std::vector<state::OwnedTable>& owned) {
  std::vector<state::Family> families;
  for (const auto& table : owned) {
    if (std::find(families.begin(), families.end(), table.family) == families.end()) {
      families.push_back(table.family);
    }
  }
  return families;
}

// One read of the owned tables. `whole_ruleset`: dumps that say they were interrupted make it
// inconsistent (the caller compares generations too); otherwise only a rule of a chain we did
// not see does.
bool read_tables(NfnlSocket& socket, const std::vector<state::OwnedTable>& owned,
                 const state::Ruleset& expected, bool whole_ruleset,
                 std::vector<FoundTable>& found) {
  bool uninterrupted = true;
  bool complete = true;
  for (const state::Family family : families_of(owned)) {
    std::vector<FoundTable> tables;
    if (whole_ruleset) {
      uninterrupted &= dump_owned_tables(socket, family, owned, tables);
    } else {
      get_owned_tables(socket, family, owned, tables);
    }
    if (tables.empty()) continue;
    uninterrupted &= dump_chains(socket, family, tables);
    if (!whole_ruleset) confirm_expected_chains(socket, tables, expected);
    uninterrupted &= dump_flowtables(socket, tables);
    for (auto& table : tables) uninterrupted &= dump_rules(socket, table.table, complete);
    std::move(tables.begin(), tables.end(), std::back_inserter(found));
  }
  return complete && (uninterrupted || !whole_ruleset);
}

}  // namespace

ObservedRuleset dump_tables(NfnlSocket& socket, const std::vector<state::OwnedTable>& owned,
                            const state::Ruleset& expected) {
  for (int attempt = 1; attempt <= kConsistentAttempts; ++attempt) {
    const std::uint32_t before = socket.read_generation();
    std::vector<FoundTable> found;
    const bool consistent = read_tables(socket, owned, expected, true, found);
    const std::uint32_t after = socket.read_generation();
    if (consistent && before == after) {
      ObservedRuleset observed = assemble(found, owned);
      observed.generation = after;
      return observed;
    }
  }
  for (int attempt = 1; attempt <= kNarrowAttempts; ++attempt) {
    std::vector<FoundTable> found;
    if (read_tables(socket, owned, expected, false, found)) return assemble(found, owned);
  }
  throw NetlinkError(EAGAIN, "read the flannel tables: they changed during each of " +
                                 std::to_string(kNarrowAttempts) +
                                 " reads; another process changes them continuously (`nft monitor` "
                                 "shows which)");
}

void order_chains_like(state::Ruleset& observed, const state::Ruleset& desired) {
  for (auto& table : observed.tables) {
    const state::Table* want = desired.find_table(table.family, table.name);
    if (want == nullptr) continue;
    auto rank = [want](const state::Chain& chain) {
      const auto it = std::find_if(want->chains.begin(), want->chains.end(),
                                   [&](const state::Chain& c) { return c.name == chain.name; });
      return static_cast<std::size_t>(it - want->chains.begin());
    };
    std::stable_sort(
        table.chains.begin(), table.chains.end(),
        [&](const state::Chain& a, const state::Chain& b) { return rank(a) < rank(b); });
  }
}

}  // namespace fnft::netlink
