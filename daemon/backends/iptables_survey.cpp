#include "daemon/backends/iptables_survey.hpp"

#include <boost/asio/post.hpp>
#include <memory>
#include <system_error>

#include "daemon/backends/iptables_tools.hpp"
#include "daemon/process/async_child.hpp"
#include "state/iptables_save.hpp"

namespace fnft::daemon {
namespace {

struct Step {
  state::IptablesVariant backend;
  state::Family family;
};

struct Survey {
  std::vector<Step> steps;
  std::size_t next = 0;
  IptablesSurvey result;
  std::function<void(IptablesSurvey)> done;
};

void next_step(boost::asio::io_context& io, const std::shared_ptr<Survey>& survey) {
  if (survey->next == survey->steps.size()) {
    survey->done(std::move(survey->result));
    return;
  }
  const Step step = survey->steps[survey->next++];
  state::IptablesContents& contents =
      step.backend == state::IptablesVariant::nft ? survey->result.nft : survey->result.legacy;
  if (step.backend == state::IptablesVariant::legacy) {
    std::string why;
    const LegacyTables tables = legacy_tables(step.family, why);
    if (tables != LegacyTables::some) {
      if (tables == LegacyTables::unknown) {
        contents.readable = false;
        survey->result.problems.push_back(why);
      }
      boost::asio::post(io, [&io, survey] { next_step(io, survey); });
      return;
    }
  }
  const std::vector<std::string> argv = {iptables_tools(step.backend, step.family).save};
  const auto record = [&io, survey, &contents, argv](const ChildResult& saved) {
    if (saved.ok()) {
      contents.families.push_back(state::parse_iptables_save(saved.out));
    } else {
      contents.readable = false;
      survey->result.problems.push_back(tool_failure(argv, saved));
    }
    next_step(io, survey);
  };
  try {
    AsyncChild::start(io, argv, {}, std::chrono::seconds(30), record);
  } catch (const std::system_error& error) {
    contents.readable = false;
    survey->result.problems.push_back(argv.front() + ": " + error.what());
    boost::asio::post(io, [&io, survey] { next_step(io, survey); });
  }
}

}  // namespace

void survey_iptables(boost::asio::io_context& io, std::function<void(IptablesSurvey)> done) {
  auto survey = std::make_shared<Survey>();
  for (const auto backend : {state::IptablesVariant::nft, state::IptablesVariant::legacy}) {
    for (const auto family : {state::Family::ipv4, state::Family::ipv6}) {
      survey->steps.push_back({backend, family});
    }
  }
  survey->done = std::move(done);
  next_step(io, survey);
}

}  // namespace fnft::daemon
