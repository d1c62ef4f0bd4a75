// Text from outside (a file, the kernel, another program) made fit for one log line: every
// byte that is not printable ASCII becomes \xHH, so a name holding a newline or an escape
// sequence can neither split a journal entry nor repaint the operator's terminal.
#pragma once

#include <string>
#include <string_view>

namespace fnft::state {

std::string one_line(std::string_view text);

}  // namespace fnft::state
