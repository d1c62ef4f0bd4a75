#include "netlink/netlink_messages.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <vector>

namespace fnft::netlink {
namespace {

// Datagrams as 4-byte words, each message a header and `payload_words` words of zeros.
class Datagram {
 public:
  Datagram& add(std::uint32_t length_field, std::size_t payload_words, std::uint16_t type) {
    nlmsghdr header{};
    header.nlmsg_len = length_field;
    header.nlmsg_type = type;
    const std::size_t at = words_.size();
    words_.resize(at + sizeof(header) / 4 + payload_words);
    std::memcpy(&words_[at], &header, sizeof(header));
    return *this;
  }
  std::span<const std::byte> bytes(std::size_t trim = 0) const {
    return std::as_bytes(std::span(words_)).first(words_.size() * 4 - trim);
  }

 private:
  std::vector<std::uint32_t> words_;
};

std::vector<std::uint16_t> types_of(std::span<const std::byte> datagram) {
  std::vector<std::uint16_t> types;
  NetlinkMessages messages(datagram);
  while (const nlmsghdr* message = messages.next()) types.push_back(message->nlmsg_type);
  return types;
}

TEST(NetlinkMessages, YieldsEveryWholeMessageInOrder) {
  Datagram datagram;
  datagram.add(20, 1, 1).add(16, 0, 2).add(24, 2, 3);
  EXPECT_EQ(types_of(datagram.bytes()), (std::vector<std::uint16_t>{1, 2, 3}));
}

TEST(NetlinkMessages, AcceptsALastMessageWithoutItsPadding) {
  Datagram datagram;
  datagram.add(16, 0, 1).add(17, 1, 2);  // 17 bytes, padded to 20 in the buffer
  EXPECT_EQ(types_of(datagram.bytes(3)), (std::vector<std::uint16_t>{1, 2}));
}

TEST(NetlinkMessages, StopsAtAMessageLongerThanWhatIsLeft) {
  Datagram datagram;
  datagram.add(16, 0, 1).add(64, 0, 2).add(16, 0, 3);
  EXPECT_EQ(types_of(datagram.bytes()), (std::vector<std::uint16_t>{1}));
}

// libmnl's mnl_nlmsg_ok() reads such a length as a negative int and lets it through.
TEST(NetlinkMessages, StopsAtALengthOfTwoGibibytesOrMore) {
  for (const std::uint32_t length : {0x80000000u, 0xfffffff0u, 0xffffffffu}) {
    Datagram datagram;
    datagram.add(16, 0, 1).add(length, 4, 2).add(16, 0, 3);
    EXPECT_EQ(types_of(datagram.bytes()), (std::vector<std::uint16_t>{1})) << length;
  }
}

TEST(NetlinkMessages, StopsAtALengthShorterThanAHeader) {
  Datagram datagram;
  datagram.add(0, 0, 1).add(16, 0, 2);
  EXPECT_TRUE(types_of(datagram.bytes()).empty());
  EXPECT_TRUE(types_of(datagram.bytes(datagram.bytes().size())).empty());
}

}  // namespace
}  // namespace fnft::netlink
