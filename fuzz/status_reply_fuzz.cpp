// What `flannel-nftd status` reads from the control socket and prints, in words and as JSON.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>

#include "daemon/observe/status_format.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view answer(reinterpret_cast<const char*>(data), size);
  try {
    const nlohmann::json status = fnft::daemon::parse_status_document(answer);
    fnft::daemon::format_status(status);
    status.dump(2);
    status.value("in_sync", false);
  } catch (const nlohmann::json::exception&) {
    // `status` says "not a status document" and exits 1.
  }
  return 0;
}
