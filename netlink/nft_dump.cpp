#include "netlink/nft_dump.hpp"

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <linux/netfilter/nf_tables.h>

#include <algorithm>
#include <cerrno>
#include <string>

#include "netlink/netlink_error.hpp"
#include "netlink/nft_codec.hpp"
#include "netlink/nftnl_ptr.hpp"

namespace fnft::netlink {
namespace {

constexpr int kMaxAttempts = 10;
// A dump request: headers plus at most a table name.
constexpr std::size_t kRequestBufferBytes = 1024;

// What a dump found of one owned table: the model, plus what the model cannot hold.
struct FoundTable {
  state::Table table;
  std::vector<std::string> unmodeled;
  std::uint32_t use = 0;  // chains + sets + stateful objects + flowtables, as the kernel counts
};

std::string family_name(state::Family family) {
  return std::string(state::nft_family_name(family));
}

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

// The kernel filters table and chain dumps by family only, so both list the whole family and
// we keep our tables; the rule dump below is filtered by table in the kernel.
bool dump_owned_tables(NfnlSocket& socket, state::Family family,
                       const std::vector<state::OwnedTable>& owned,
                       std::vector<FoundTable>& tables) {
  alignas(nlmsghdr) char buffer[kRequestBufferBytes];
  nlmsghdr* request =
      nftnl_nlmsg_build_hdr(buffer, NFT_MSG_GETTABLE, nfproto_of(family), NLM_F_DUMP, 0);
  const std::string what = "list tables " + family_name(family);
  return socket.dump(request, what, [&](const nlmsghdr* reply) {
    const NftnlTable table = make_table();
    if (nftnl_table_nlmsg_parse(reply, table.get()) < 0) throw parse_failure(what);
    state::Table decoded = decode_table(table.get());
    if (!owns(owned, family, decoded.name)) return;
    tables.push_back({std::move(decoded), unmodeled_table_properties(table.get()),
                      nftnl_table_get_u32(table.get(), NFTNL_TABLE_USE)});
  });
}

bool dump_chains(NfnlSocket& socket, state::Family family, std::vector<FoundTable>& tables) {
  alignas(nlmsghdr) char buffer[kRequestBufferBytes];
  nlmsghdr* request =
      nftnl_nlmsg_build_hdr(buffer, NFT_MSG_GETCHAIN, nfproto_of(family), NLM_F_DUMP, 0);
  const std::string what = "list chains " + family_name(family);
  return socket.dump(request, what, [&](const nlmsghdr* reply) {
    const NftnlChain chain = make_chain();
    if (nftnl_chain_nlmsg_parse(reply, chain.get()) < 0) throw parse_failure(what);
    // Only chains of our tables are decoded: foreign chains may use hooks we cannot represent.
    const char* table_name = nftnl_chain_get_str(chain.get(), NFTNL_CHAIN_TABLE);
    if (table_name == nullptr) return;
    FoundTable* found = find_table(tables, table_name);
    if (found == nullptr) return;
    found->table.chains.push_back(decode_chain(chain.get()).chain);
  });
}

bool dump_rules(NfnlSocket& socket, state::Table& table) {
  alignas(nlmsghdr) char buffer[kRequestBufferBytes];
  nlmsghdr* request =
      nftnl_nlmsg_build_hdr(buffer, NFT_MSG_GETRULE, nfproto_of(table.family), NLM_F_DUMP, 0);
  const NftnlRule filter = make_rule();
  nftnl_rule_set_str(filter.get(), NFTNL_RULE_TABLE, table.name.c_str());
  nftnl_rule_nlmsg_build_payload(request, filter.get());
  const std::string what =
      "list table " + family_name(table.family) + " " + table.name + " (rules)";
  bool complete = true;
  const bool consistent = socket.dump(request, what, [&](const nlmsghdr* reply) {
    DecodedRule decoded = decode_rule_message(reply);
    if (decoded.table != table.name) return;  // a kernel that ignores the filter
    const auto chain = std::find_if(table.chains.begin(), table.chains.end(),
                                    [&](const state::Chain& c) { return c.name == decoded.chain; });
    // A rule of a chain the chain dump did not show: the ruleset changed in between.
    if (chain == table.chains.end()) {
      complete = false;
      return;
    }
    chain->rules.push_back(std::move(decoded.rule));
  });
  return consistent && complete;
}

ObservedRuleset assemble(std::vector<FoundTable>& found,
                         const std::vector<state::OwnedTable>& owned, std::uint32_t generation) {
  ObservedRuleset observed;
  observed.generation = generation;
  for (const auto& wanted : owned) {
    FoundTable* table = nullptr;
    for (auto& candidate : found) {
      if (candidate.table.family == wanted.family && candidate.table.name == wanted.name) {
        table = &candidate;
      }
    }
    if (table == nullptr) continue;
    // The kernel counts sets, maps, stateful objects and flowtables in a table's use too.
    if (table->use > table->table.chains.size()) {
      table->unmodeled.push_back(std::to_string(table->use - table->table.chains.size()) +
                                 " sets, maps, stateful objects or flowtables");
    }
    if (!table->unmodeled.empty()) {
      observed.unmodeled.push_back(
          {table->table.family, table->table.name, std::move(table->unmodeled)});
    }
    observed.ruleset.tables.push_back(std::move(table->table));
  }
  return observed;
}

}  // namespace

ObservedRuleset dump_tables(NfnlSocket& socket, const std::vector<state::OwnedTable>& owned) {
  std::vector<state::Family> families;
  for (const auto& table : owned) {
    if (std::find(families.begin(), families.end(), table.family) == families.end()) {
      families.push_back(table.family);
    }
  }
  for (int attempt = 1; attempt <= kMaxAttempts; ++attempt) {
    const std::uint32_t before = socket.read_generation();
    bool consistent = true;
    std::vector<FoundTable> found;
    for (const state::Family family : families) {
      std::vector<FoundTable> tables;
      consistent &= dump_owned_tables(socket, family, owned, tables);
      if (tables.empty()) continue;
      consistent &= dump_chains(socket, family, tables);
      for (auto& table : tables) consistent &= dump_rules(socket, table.table);
      std::move(tables.begin(), tables.end(), std::back_inserter(found));
    }
    const std::uint32_t after = socket.read_generation();
    if (consistent && before == after) return assemble(found, owned, after);
  }
  throw NetlinkError(EAGAIN,
                     "read the flannel tables: the nftables ruleset changed during each of " +
                         std::to_string(kMaxAttempts) +
                         " dumps; another process commits continuously (`nft monitor` "
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
