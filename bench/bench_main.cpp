#include "bench/bench_main.hpp"

#include <iostream>

namespace po = boost::program_options;

namespace fnft::bench {

int bench_main(int argc, char** argv, const po::options_description& description,
               const std::string& name, const std::function<int()>& run) {
  try {
    po::variables_map vm;
    po::store(po::parse_command_line(argc, argv, description), vm);
    po::notify(vm);
    if (vm.count("help") != 0) {
      std::cout << description << "\n";
      return 0;
    }
    return run();
  } catch (const std::exception& error) {
    std::cerr << name << ": " << error.what() << "\n";
    return 1;
  }
}

}  // namespace fnft::bench
