// What each iptables holds, read on the reactor: both families' iptables-save from
// iptables-nft, and from iptables-legacy where its kernel tables exist (nothing is loaded to
// find out). Decides `--iptables-backend=auto` and warns of rules left in the other one.
#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>
#include <string>
#include <vector>

#include "state/iptables_variant.hpp"

namespace fnft::daemon {

struct IptablesSurvey {
  state::IptablesContents nft;
  state::IptablesContents legacy;
  std::vector<std::string> problems;  // what could not be read, and why
};

void survey_iptables(boost::asio::io_context& io, std::function<void(IptablesSurvey)> done);

}  // namespace fnft::daemon
