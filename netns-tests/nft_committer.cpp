// nft_committer: another process committing to nftables, fast and under one known pid, for
// the daemon tests (an `nft` loop costs ~3 ms and a new pid per commit). Run in a node's
// namespace with `ip netns exec`.
//
//   nft_committer churn COUNT
//       creates table ip fnft-churn with chain c, then commits COUNT separate transactions
//       to it, alternately adding a rule to c and flushing c
//   nft_committer churn-for SECONDS
//       the same as churn, back to back for SECONDS (tens of thousands a second)
//   nft_committer flush-loop ip|ip6 TABLE CHAIN SECONDS
//       flushes TABLE's CHAIN (deletes all its rules) every millisecond for SECONDS
//   nft_committer own-table ip|ip6 TABLE SECONDS [persist]
//       replaces TABLE by an empty one with `flags owner` (only this process may change it;
//       it vanishes when this process exits, or with `persist` stays unowned) in one
//       transaction, prints "owned", holds it for SECONDS and exits
//   nft_committer add-chain ip|ip6 TABLE CHAIN
//       adds CHAIN, whose name may hold any bytes (`nft` accepts only identifiers), to TABLE
//   nft_committer delete-rule ip|ip6 TABLE CHAIN HANDLE
//       deletes the rule with HANDLE in one transaction, reading nothing first (`nft` dumps
//       the ruleset first and starts again whenever it changed meanwhile, which under
//       back-to-back commits on one CPU may never end)
//
// Prints one summary line; exit 0, or 1 with the error.
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include <chrono>
#include <cstdio>
#include <exception>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "netlink/detail/nft_codec.hpp"
#include "netlink/detail/nft_operations.hpp"
#include "netlink/detail/nftnl_ptr.hpp"
#include "netlink/nft_batch.hpp"
#include "state/nft_plan.hpp"

namespace {

using fnft::state::NftOperation;
using Kind = NftOperation::Kind;
using Clock = std::chrono::steady_clock;

NftOperation operation(Kind kind, fnft::state::Family family, std::string table,
                       std::string chain = {}) {
  NftOperation op;
  op.kind = kind;
  op.family = family;
  op.table = std::move(table);
  op.chain = std::move(chain);
  return op;
}

// One transaction, unconditional (no generation check), as `nft` commits.
void commit(fnft::netlink::NfnlSocket& socket, const std::vector<NftOperation>& operations) {
  fnft::netlink::NftBatch batch;
  for (const auto& op : operations) fnft::netlink::add_operation(batch, op);
  batch.send(socket);
}

// Alternately adds a rule to table ip fnft-churn and flushes it, until `count` transactions
// or `deadline`, whichever comes first; returns how many it committed.
long churn(long count, Clock::time_point deadline) {
  using fnft::state::Family;
  fnft::netlink::NfnlSocket socket;
  commit(socket, {operation(Kind::add_table, Family::ipv4, "fnft-churn"),
                  operation(Kind::add_chain, Family::ipv4, "fnft-churn", "c")});
  // ip saddr 198.51.100.0/24 counter accept comment "churn"
  NftOperation add_rule = operation(Kind::add_rule, Family::ipv4, "fnft-churn", "c");
  add_rule.rule.matches.push_back(fnft::state::AddressMatch{
      fnft::state::AddressField::saddr, false, *fnft::state::parse_cidr("198.51.100.0/24")});
  add_rule.rule.counter = true;
  add_rule.rule.action.kind = fnft::state::Action::Kind::accept;
  add_rule.rule.comment = "churn";
  const NftOperation flush = operation(Kind::flush_chain, Family::ipv4, "fnft-churn", "c");

  long committed = 0;
  for (; committed < count && Clock::now() < deadline; ++committed) {
    commit(socket, {committed % 2 == 0 ? add_rule : flush});
  }
  return committed;
}

int churn_report(long count, Clock::time_point deadline) {
  const auto started = Clock::now();
  const long committed = churn(count, deadline);
  const auto elapsed =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  std::printf("committed %ld transactions in %lld ms\n", committed,
              static_cast<long long>(elapsed.count()));
  return 0;
}

int own_table(const std::string& family, const std::string& table, int seconds, bool persist) {
  const auto nfproto = family == "ip6" ? NFPROTO_IPV6 : NFPROTO_IPV4;
  fnft::netlink::NfnlSocket socket;
  fnft::netlink::NftBatch batch;
  const fnft::netlink::NftnlTable existing = fnft::netlink::make_table();
  nftnl_table_set_str(existing.get(), NFTNL_TABLE_NAME, table.c_str());
  batch.add(NFT_MSG_DELTABLE, nfproto, 0, "delete table " + family + " " + table,
            [&](nlmsghdr* nlh) { nftnl_table_nlmsg_build_payload(nlh, existing.get()); });
  const fnft::netlink::NftnlTable owned = fnft::netlink::make_table();
  nftnl_table_set_str(owned.get(), NFTNL_TABLE_NAME, table.c_str());
  nftnl_table_set_u32(owned.get(), NFTNL_TABLE_FLAGS,
                      NFT_TABLE_F_OWNER | (persist ? fnft::netlink::kTableFlagPersist : 0));
  batch.add(NFT_MSG_NEWTABLE, nfproto, NLM_F_CREATE, "add table " + family + " " + table,
            [&](nlmsghdr* nlh) { nftnl_table_nlmsg_build_payload(nlh, owned.get()); });
  batch.send(socket);
  std::printf("owned\n");
  std::fflush(stdout);
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  return 0;
}

int flush_loop(const std::string& family, const std::string& table, const std::string& chain,
               int seconds) {
  const auto nft_family = family == "ip6" ? fnft::state::Family::ipv6 : fnft::state::Family::ipv4;
  fnft::netlink::NfnlSocket socket;
  const NftOperation flush = operation(Kind::flush_chain, nft_family, table, chain);
  const auto deadline = Clock::now() + std::chrono::seconds(seconds);
  long flushes = 0;
  while (Clock::now() < deadline) {
    // A flush of the chain the daemon has not restored yet deletes nothing and commits
    // nothing: the kernel sends no event for an empty transaction.
    commit(socket, {flush});
    ++flushes;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::printf("flushed %s %s %s %ld times\n", family.c_str(), table.c_str(), chain.c_str(),
              flushes);
  return 0;
}

int delete_rule(const std::string& family, const std::string& table, const std::string& chain,
                std::uint64_t handle) {
  fnft::netlink::NfnlSocket socket;
  NftOperation deletion = operation(
      Kind::delete_rule, family == "ip6" ? fnft::state::Family::ipv6 : fnft::state::Family::ipv4,
      table, chain);
  deletion.handle = handle;
  commit(socket, {deletion});
  std::printf("deleted rule %llu of %s %s %s\n", static_cast<unsigned long long>(handle),
              family.c_str(), table.c_str(), chain.c_str());
  return 0;
}

int add_chain(const std::string& family, const std::string& table, const std::string& chain) {
  fnft::netlink::NfnlSocket socket;
  commit(socket, {operation(Kind::add_chain,
                            family == "ip6" ? fnft::state::Family::ipv6 : fnft::state::Family::ipv4,
                            table, chain)});
  std::printf("added a chain of %zu bytes to %s %s\n", chain.size(), family.c_str(), table.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (args.size() == 2 && args[0] == "churn") {
      return churn_report(std::stol(args[1]), Clock::time_point::max());
    }
    if (args.size() == 2 && args[0] == "churn-for") {
      return churn_report(std::numeric_limits<long>::max(),
                          Clock::now() + std::chrono::seconds(std::stoi(args[1])));
    }
    if ((args.size() == 4 || (args.size() == 5 && args[4] == "persist")) &&
        args[0] == "own-table") {
      return own_table(args[1], args[2], std::stoi(args[3]), args.size() == 5);
    }
    if (args.size() == 4 && args[0] == "add-chain") return add_chain(args[1], args[2], args[3]);
    if (args.size() == 5 && args[0] == "delete-rule") {
      return delete_rule(args[1], args[2], args[3], std::stoull(args[4]));
    }
    if (args.size() == 5 && args[0] == "flush-loop") {
      return flush_loop(args[1], args[2], args[3], std::stoi(args[4]));
    }
  } catch (const std::exception& error) {
    std::fprintf(stderr, "nft_committer: %s\n", error.what());
    return 1;
  }
  std::fputs(
      "usage: nft_committer churn COUNT | churn-for SECONDS | flush-loop ip|ip6 TABLE CHAIN "
      "SECONDS | own-table ip|ip6 TABLE SECONDS [persist] | add-chain ip|ip6 TABLE CHAIN | "
      "delete-rule ip|ip6 TABLE CHAIN HANDLE\n",
      stderr);
  return 2;
}
