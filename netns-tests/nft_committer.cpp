// nft_committer: another process committing to nftables, fast and under one known pid, for
// the daemon tests (an `nft` loop costs ~3 ms and a new pid per commit). Run in a node's
// namespace with `ip netns exec`.
//
//   nft_committer churn COUNT
//       creates table ip fnft-churn with chain c, then commits COUNT separate transactions
//       to it, alternately adding a rule to c and flushing c
//   nft_committer flush-loop ip|ip6 TABLE CHAIN SECONDS
//       flushes TABLE's CHAIN (deletes all its rules) every millisecond for SECONDS
//
// Prints one summary line; exit 0, or 1 with the error.
#include <chrono>
#include <cstdio>
#include <exception>
#include <string>
#include <thread>
#include <vector>

#include "netlink/nft_batch.hpp"
#include "netlink/nft_operations.hpp"
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

int churn(int count) {
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

  const auto started = Clock::now();
  for (int i = 0; i < count; ++i) commit(socket, {i % 2 == 0 ? add_rule : flush});
  const auto elapsed =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  std::printf("committed %d transactions in %lld ms\n", count,
              static_cast<long long>(elapsed.count()));
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

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (args.size() == 2 && args[0] == "churn") return churn(std::stoi(args[1]));
    if (args.size() == 5 && args[0] == "flush-loop") {
      return flush_loop(args[1], args[2], args[3], std::stoi(args[4]));
    }
  } catch (const std::exception& error) {
    std::fprintf(stderr, "nft_committer: %s\n", error.what());
    return 1;
  }
  std::fputs("usage: nft_committer churn COUNT | flush-loop ip|ip6 TABLE CHAIN SECONDS\n", stderr);
  return 2;
}
