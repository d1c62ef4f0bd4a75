// How deep a JSON text nests, judged before it is parsed: nlohmann-json parses iteratively
// but prints and compares recursively, so a document nested 100,000 levels deep would
// overflow the stack the first time it is printed (in an error message, say).
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace fnft::state {

// The byte at which `json` opens its (max_depth + 1)-th nested array or object, if it does.
// Strings are skipped, escapes included; malformed JSON is left to the parser.
std::optional<std::size_t> json_too_deep_at(std::string_view json, std::size_t max_depth);

}  // namespace fnft::state
