// The verbs drive the daemon's asynchronous backends one step at a time: each step is
// started on the verb's own io_context, which runs until that step is done.
#pragma once

#include <boost/asio/io_context.hpp>
#include <optional>
#include <stdexcept>

namespace fnft::daemon {

// `start(done)` begins an operation that calls `done(Result)` on `io`.
template <typename Result, typename Start>
Result run_to_completion(boost::asio::io_context& io, Start start) {
  std::optional<Result> result;
  start([&result](Result value) { result = std::move(value); });
  io.restart();
  io.run();
  if (!result) throw std::logic_error("an operation ended without a result");
  return std::move(*result);
}

}  // namespace fnft::daemon
