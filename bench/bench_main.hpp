// What every benchmark's main() does: parse the options, print them for --help, run, and say
// whatever went wrong on one line (exit 1).
#pragma once

#include <boost/program_options.hpp>
#include <functional>
#include <string>

namespace fnft::bench {

// `run` sees the parsed options (stored into `description`'s targets); it may throw
// std::exception, which is printed as "NAME: what".
int bench_main(int argc, char** argv,
               const boost::program_options::options_description& description,
               const std::string& name, const std::function<int()>& run);

}  // namespace fnft::bench
