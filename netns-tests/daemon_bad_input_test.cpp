// Bad input, live: flanneld's two files replaced under a running daemon (renamed into place,
// as flanneld and the kubelet do, and written in place) with malformed and hostile content
// and by things that are not files at all; and hostile objects put into the daemon's tables.
// Each bad file gets one clear log line naming it, the rules in place are not touched, the
// daemon keeps repairing, and its CPU stays a small part of the time it all takes.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "netns-tests/daemon_fixture.hpp"

namespace fnft::netns_test {
namespace {

using testing::HasSubstr;
using Clock = std::chrono::steady_clock;

enum class File { subnet_env, net_conf };
enum class How { renamed, in_place };

// Content that must be refused, for one of the two files.
struct BadContent {
  std::string name;
  File file;
  std::string content;
};

std::string repeat(std::string_view piece, std::size_t times) {
  std::string out;
  out.reserve(piece.size() * times);
  for (std::size_t i = 0; i < times; ++i) out += piece;
  return out;
}

std::string random_bytes(std::size_t size, unsigned seed) {
  std::mt19937 generator(seed);
  std::string out(size, '\0');
  for (char& c : out) c = static_cast<char>(generator() & 0xff);
  return out;
}

// subnet.env with the test node's network and `lease` as FLANNEL_SUBNET's value.
std::string with_lease(const std::string& lease) {
  return "FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=" + lease + "\n";
}
const std::string kLease = with_lease("10.244.1.1/24");
const std::string kNetwork = R"({"Network": "10.244.0.0/16", "EnableNFTables": true)";

std::vector<BadContent> bad_contents() {
  const std::string nul("\0", 1);
  return {
      {"empty subnet.env", File::subnet_env, ""},
      {"only comments", File::subnet_env, "# flanneld\n# nothing else\n"},
      {"no FLANNEL_SUBNET", File::subnet_env, "FLANNEL_NETWORK=10.244.0.0/16\n"},
      {"empty FLANNEL_SUBNET", File::subnet_env, with_lease("")},
      {"lease without prefix", File::subnet_env, with_lease("10.244.1.1")},
      {"lease not an address", File::subnet_env, with_lease("pods/24")},
      {"prefix 33", File::subnet_env, with_lease("10.244.1.1/33")},
      {"negative prefix", File::subnet_env, with_lease("10.244.1.1/-1")},
      {"IPv6 lease in the IPv4 key", File::subnet_env, with_lease("fd00::1/64")},
      {"lease outside the network", File::subnet_env, with_lease("10.99.1.1/24")},
      {"CRLF endings", File::subnet_env,
       "FLANNEL_NETWORK=10.244.0.0/16\r\nFLANNEL_SUBNET=10.244.1.1/24\r\n"},
      {"duplicate key", File::subnet_env, kLease + "FLANNEL_SUBNET=10.244.2.1/24\n"},
      {"NUL in a value", File::subnet_env, with_lease("10.244" + nul + ".1.1/24")},
      {"4 KiB of NUL bytes", File::subnet_env, repeat(nul, 4096)},
      {"random bytes", File::subnet_env, random_bytes(3000, 1)},
      {"line without =", File::subnet_env, kLease + "FLANNEL_MTU\n"},
      {"quoted value", File::subnet_env,
       "FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=\"10.244.1.1/24\"\n"},
      {"network list", File::subnet_env,
       "FLANNEL_NETWORK=10.244.0.0/16,10.245.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\n"},
      {"unknown FLANNEL_ key", File::subnet_env, kLease + "FLANNEL_FROBNICATE=1\n"},
      {"a 500 KB line", File::subnet_env, with_lease(repeat("9", 500000))},
      {"byte order mark", File::subnet_env, "\xEF\xBB\xBF" + kLease},
      {"terminal escapes", File::subnet_env, with_lease("\x1b[2J\x1b[31mred")},
      {"lease wider than the network", File::subnet_env, with_lease("10.244.1.1/8")},
      {"10 MB subnet.env", File::subnet_env,
       kLease + repeat("# padding padding padding\n", 400000)},
      {"empty net-conf.json", File::net_conf, ""},
      {"not JSON", File::net_conf, "Network: 10.244.0.0/16\n"},
      {"a JSON array", File::net_conf, "[]"},
      {"a JSON string", File::net_conf, "\"10.244.0.0/16\""},
      {"Network a number", File::net_conf, R"({"Network": 5, "EnableNFTables": true})"},
      {"Network not a CIDR", File::net_conf,
       R"({"Network": "10.244.0.0", "EnableNFTables": true})"},
      {"Network disagrees", File::net_conf,
       R"({"Network": "10.99.0.0/16", "EnableNFTables": true})"},
      {"duplicate keys by case", File::net_conf,
       R"({"Network": "10.244.0.0/16", "network": "10.244.0.0/16"})"},
      {"nested 100,000 deep", File::net_conf,
       R"({"Network": )" + repeat("[", 100000) + repeat("]", 100000) + "}"},
      {"truncated", File::net_conf, R"({"Network": "10.244.)"},
      {"trailing garbage", File::net_conf, kNetwork + "} and more"},
      {"EnableNFTables a string", File::net_conf,
       R"({"Network": "10.244.0.0/16", "EnableNFTables": "yes"})"},
      {"IPv6Network an IPv4 CIDR", File::net_conf,
       kNetwork + R"(, "EnableIPv6": true, "IPv6Network": "10.0.0.0/8"})"},
      {"IPv6Network not a CIDR", File::net_conf,
       kNetwork + R"(, "EnableIPv6": true, "IPv6Network": "fd00::"})"},
      {"NUL in a string", File::net_conf, R"({"Network": "10.244)" + nul + R"(.0.0/16"})"},
      {"invalid UTF-8", File::net_conf, "{\"Network\": \"10.244.0.0/16\xff\xfe\"}"},
      {"a number too large", File::net_conf, kNetwork + R"(, "Backend": {"VNI": 1e999}})"},
      {"Backend not an object", File::net_conf, kNetwork + R"(, "Backend": [1, 2]})"},
      {"escapes in a key", File::net_conf, "{\"Net\x1b[2Jwork\": 1, \"Network\": 7}"},
      {"comments", File::net_conf, "// flannel\n" + kNetwork + "}"},
      {"random bytes", File::net_conf, random_bytes(3000, 2)},
      {"10 MB net-conf.json", File::net_conf,
       kNetwork + ", \"x\": \"" + repeat("y", 10'000'000) + "\"}"},
  };
}

class DaemonBadInputTest : public DaemonTest {
 protected:
  std::string path_of(File file) const {
    return file == File::subnet_env ? subnet_file() : net_conf_file();
  }

  // What the daemon logged as a configuration error naming `path`, so far.
  std::vector<std::string> errors_about(const std::string& path) const {
    std::vector<std::string> lines;
    for (const auto& line :
         lines_containing(const_cast<DaemonBadInputTest*>(this)->daemon().log(), path)) {
      if (line.find(" error ") != std::string::npos) lines.push_back(line);
    }
    return lines;
  }

  void write_in_place(const std::string& path, const std::string& content) const {
    // Truncate and write, as an editor without a backup file does: the daemon may read the
    // file half written, which must be one more error, never a rule change.
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
  }

  void rename_into_place(const std::string& path,
                         const std::function<void(const std::string&)>& make) {
    const std::string temporary = config_dir() + "/.incoming";
    std::filesystem::remove_all(temporary);
    make(temporary);
    // rename(2) replaces a file by a file and an empty directory by a directory; between the
    // two, the old one goes first (as `rm file && mkdir file` would do).
    namespace fs = std::filesystem;
    if (fs::is_directory(fs::symlink_status(temporary)) !=
        fs::is_directory(fs::symlink_status(path)))
      fs::remove_all(path);
    std::filesystem::rename(temporary, path);
  }

  void restore(File file) {
    rename_into_place(path_of(file), [&](const std::string& temporary) {
      std::ofstream(temporary) << (file == File::subnet_env ? subnet_env_text()
                                                            : net_conf_text(Stack::ipv4));
    });
  }

  // Applies one bad input, then checks the one line and the untouched rules.
  void expect_refused(const std::string& name, File file, const std::function<void()>& apply) {
    SCOPED_TRACE(name);
    const std::string path = path_of(file);
    const std::size_t before = errors_about(path).size();
    // The good file goes back however the checks end.
    struct Restore {
      DaemonBadInputTest* test;
      File file;
      ~Restore() { test->restore(file); }
    } restore_after{this, file};
    apply();
    ASSERT_TRUE(eventually([&] { return errors_about(path).size() > before; }, 10s))
        << "no error line naming " << path << "\n"
        << report();
    // Let a writer's later events arrive: they must not repeat the line.
    std::this_thread::sleep_for(300ms);
    const auto errors = errors_about(path);
    EXPECT_EQ(errors.size(), before + 1) << "the same bad file said more than once\n" << report();
    const std::string& line = errors.back();
    EXPECT_THAT(line, HasSubstr("keeping the rules in place")) << line;
    EXPECT_LT(line.size(), 1200U) << line;
    for (const char c : line) {
      EXPECT_TRUE(static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f)
          << "unprintable byte in: " << line;
    }
    EXPECT_EQ(rule_handles(Family::ipv4), handles_) << "the rules in place were changed";
    const std::size_t message = line.find(" error ");
    std::printf("[ bad input ] %s: %s\n", name.c_str(),
                line.substr(message == std::string::npos ? 0 : message + 7, 240).c_str());
    ++cases_;
  }

  std::vector<std::pair<std::string, std::uint64_t>> handles_;
  int cases_ = 0;
};

TEST_F(DaemonBadInputTest, FiftyBadConfigFilesLiveEachOneLineAndTheRulesUntouched) {
  make_daemon_node(Stack::ipv4);
  run_daemons_unprivileged();
  start_daemon();
  const std::string desired = desired_tables();
  handles_ = rule_handles(Family::ipv4);
  const auto started = Clock::now();
  const CpuTime cpu_before = daemon().process().cpu_time();

  int index = 0;
  for (const BadContent& bad : bad_contents()) {
    // Alternately as flanneld writes (rename) and as an editor does (in place).
    const How how = index++ % 2 == 0 ? How::renamed : How::in_place;
    const std::string path = path_of(bad.file);
    expect_refused(bad.name + (how == How::renamed ? " (renamed)" : " (in place)"), bad.file, [&] {
      if (how == How::in_place) {
        write_in_place(path, bad.content);
      } else {
        rename_into_place(path, [&](const std::string& temporary) {
          std::ofstream(temporary, std::ios::binary) << bad.content;
        });
      }
    });
  }
  for (const File file : {File::subnet_env, File::net_conf}) {
    const std::string path = path_of(file);
    const std::string name = file == File::subnet_env ? "subnet.env" : "net-conf.json";
    expect_refused(name + ": a symlink loop", file, [&] {
      const std::string other = config_dir() + "/.loop";
      std::filesystem::remove(other);
      std::filesystem::create_symlink(path, other);
      rename_into_place(path,
                        [&](const std::string& t) { std::filesystem::create_symlink(other, t); });
    });
    expect_refused(name + ": a directory", file, [&] {
      rename_into_place(path, [](const std::string& t) { std::filesystem::create_directory(t); });
    });
    expect_refused(name + ": permission denied", file, [&] {
      rename_into_place(path, [&](const std::string& t) {
        std::ofstream(t) << (file == File::subnet_env ? subnet_env_text()
                                                      : net_conf_text(Stack::ipv4));
        std::filesystem::permissions(t, std::filesystem::perms::owner_read);
      });
    });
    expect_refused(name + ": a character device", file, [&] {
      rename_into_place(
          path, [](const std::string& t) { std::filesystem::create_symlink("/dev/zero", t); });
    });
    expect_refused(name + ": a directory it cannot enter", file, [&] {
      rename_into_place(path, [](const std::string& t) {
        std::filesystem::create_directory(t);
        std::filesystem::permissions(t, std::filesystem::perms::none);
      });
    });
  }
  // subnet.env is required (net-conf.json is optional: gone means flannel's defaults).
  expect_refused("subnet.env: a dangling symlink", File::subnet_env, [&] {
    rename_into_place(subnet_file(), [&](const std::string& t) {
      std::filesystem::create_symlink(config_dir() + "/nowhere", t);
    });
  });
  expect_refused("subnet.env: removed", File::subnet_env,
                 [&] { std::filesystem::remove(subnet_file()); });

  const double wall = std::chrono::duration<double>(Clock::now() - started).count();
  const double cpu =
      std::chrono::duration<double>(daemon().process().cpu_time().runtime - cpu_before.runtime)
          .count();
  std::printf("[ bad input ] %d bad files in %.1f s; the daemon used %.3f s of CPU (%.1f%%)\n",
              cases_, wall, cpu, 100.0 * cpu / wall);
  EXPECT_GE(cases_, 50);
  // A reactor that spun on any of them would use the whole core.
  EXPECT_LT(cpu, wall / 2) << report();

  // Still repairing, and a good change still lands.
  const auto handle = rule_handle(Family::ipv4, "cluster to outside: masquerade");
  nft({"delete", "rule", "ip", "flannel-nftd-ipv4", "postrtg", "handle", std::to_string(handle)});
  EXPECT_TRUE(eventually([&] { return flannel_tables() == desired; }, 10s)) << report();
  replace_subnet_env(subnet_env_text("10.244.7.1/24"));
  EXPECT_TRUE(tables_become_desired()) << report();
  EXPECT_TRUE(pod_egress_is_masqueraded());
}

}  // namespace
}  // namespace fnft::netns_test

namespace fnft::netns_test {
namespace {

// Objects nobody but the daemon should put in its table, all in one transaction: sets,
// maps, named counters and quotas, a chain of expressions the daemon does not model, foreign
// rules in its own chains, and (where the kernel has them) a flowtable. All go, in one repair.
TEST_F(DaemonBadInputTest, HostileObjectsInOurTableAreAllRemoved) {
  make_daemon_node(Stack::ipv4);
  start_daemon();
  const std::string t = "ip flannel-nftd-ipv4";
  std::string script =
      "add set " + t +
      " hostile-set { type ipv4_addr; flags interval; }\n"
      "add element " +
      t +
      " hostile-set { 10.0.0.0/8, 192.0.2.1 }\n"
      "add map " +
      t +
      " hostile-map { type ipv4_addr : verdict; }\n"
      "add element " +
      t +
      " hostile-map { 198.51.100.1 : drop }\n"
      "add counter " +
      t +
      " hostile-counter\n"
      "add quota " +
      t +
      " hostile-quota { over 1 mbytes }\n"
      "add chain " +
      t +
      " hostile-chain\n"
      "add rule " +
      t +
      " hostile-chain ip saddr @hostile-set counter name \"hostile-counter\" drop\n"
      "add rule " +
      t +
      " hostile-chain ip daddr vmap @hostile-map\n"
      "add rule " +
      t +
      " hostile-chain tcp dport { 22, 80-90 } limit rate 10/second counter accept\n"
      "add rule " +
      t +
      " hostile-chain meta l4proto udp quota name \"hostile-quota\" reject\n"
      "add rule " +
      t +
      " hostile-chain ct mark 0x1 meta mark set 0x2 notrack\n"
      "add rule " +
      t +
      " hostile-chain meta nftrace set 1 accept\n"
      "insert rule " +
      t +
      " forward jump hostile-chain\n"
      "add rule " +
      t + " postrtg ip saddr 10.244.1.0/24 snat to 192.0.2.9\n";
  for (int i = 0; i < 1000; ++i) {
    script += "add rule " + t + " forward ip daddr 203.0.113." + std::to_string(i % 250 + 1) +
              " tcp dport " + std::to_string(1000 + i) + " counter drop\n";
  }
  // A flowtable where the kernel has them, asked of a scratch table first.
  const bool flowtables =
      node()
          .run_in(node().node(), {"nft", "-f", "-"},
                  "add table ip probe\nadd flowtable ip probe f { hook ingress priority 0; "
                  "devices = { lo }; }\ndelete table ip probe\n")
          .ok();
  if (flowtables) {
    script += "add flowtable " + t + " hostile-ft { hook ingress priority 0; devices = { lo }; }\n";
  }
  const std::size_t before = repairs_logged();
  nft({"-f", "-"}, script);
  ASSERT_TRUE(repair_logged("repaired after", before + 1, 20s)) << report();
  EXPECT_TRUE(tables_become_desired(20s)) << report();
  const std::string listing = nft({"list", "table", "ip", "flannel-nftd-ipv4"}).out;
  for (const std::string name : {"hostile", "203.0.113", "limit", "quota", "nftrace", "snat"}) {
    EXPECT_THAT(listing, testing::Not(HasSubstr(name))) << listing;
  }
  std::printf(
      "[ hostile  ] sets, maps, counters, quotas, unknown expressions, 1,002 foreign "
      "rules%s: removed in %zu repair(s)\n",
      flowtables ? ", a flowtable" : "", repairs_logged() - before);
  EXPECT_TRUE(pod_egress_is_masqueraded());
}

}  // namespace
}  // namespace fnft::netns_test
