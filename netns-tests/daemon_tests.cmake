# The daemon's integration tests: the real `flannel-nftd run` in a fresh node, other
# processes (nft, iptables-nft, nft_committer) changing its tables, the kernel's state and
# pod traffic checked after each repair. Root; `ctest -L netns` runs them with the others.

# Another process committing nftables transactions quickly under one pid.
add_executable(nft_committer ${CMAKE_CURRENT_LIST_DIR}/nft_committer.cpp)
target_link_libraries(nft_committer PRIVATE fnft_netlink fnft_warnings)

# A process sending the daemon's sockets datagrams the kernel never wrote.
add_executable(netlink_spoofer ${CMAKE_CURRENT_LIST_DIR}/netlink_spoofer.cpp)
target_link_libraries(netlink_spoofer PRIVATE PkgConfig::MNL fnft_warnings)

add_executable(netns_daemon_tests
  ${CMAKE_CURRENT_LIST_DIR}/daemon_main.cpp
  ${CMAKE_CURRENT_LIST_DIR}/nft_listing.cpp
  ${CMAKE_CURRENT_LIST_DIR}/traffic.cpp
  ${CMAKE_CURRENT_LIST_DIR}/daemon_process.cpp
  ${CMAKE_CURRENT_LIST_DIR}/daemon_fixture.cpp
  ${CMAKE_CURRENT_LIST_DIR}/daemon_repair_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/daemon_coexistence_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/daemon_conntrack_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/daemon_war_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/daemon_lifecycle_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/daemon_hostile_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/daemon_bad_input_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/daemon_iptables_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/daemon_mode_switch_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/daemon_flowtable_option_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/daemon_protect_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/daemon_status_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/daemon_doctor_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/daemon_neighbours_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cni_pods.cpp
  ${CMAKE_CURRENT_LIST_DIR}/table_flags.cpp
  ${CMAKE_CURRENT_LIST_DIR}/private_xtables_lock.cpp
)
target_include_directories(netns_daemon_tests PRIVATE ${PROJECT_SOURCE_DIR})
# fnft_netlink: table_flags.cpp reads `flags persist`, which Debian 12's nft cannot print.
target_link_libraries(netns_daemon_tests PRIVATE fnft_testkit fnft_netlink fnft_warnings GTest::gtest
                      GTest::gmock nlohmann_json::nlohmann_json)
target_compile_definitions(netns_daemon_tests PRIVATE
  FNFT_BINARY="$<TARGET_FILE:flannel-nftd>"
  FNFT_PROBE_BINARY="$<TARGET_FILE:traffic_probe>"
  FNFT_COMMITTER_BINARY="$<TARGET_FILE:nft_committer>"
  FNFT_SPOOFER_BINARY="$<TARGET_FILE:netlink_spoofer>"
  FNFT_FLANNELD_REPLAY_BINARY="$<TARGET_FILE:flanneld_replay>")
add_dependencies(netns_daemon_tests flannel-nftd traffic_probe nft_committer netlink_spoofer
                 flanneld_replay)

# Serial, like netns_tests: the CPU-time prints and packet streams want the machine to
# themselves. The repair-war test alone waits up to ~40 s for the daemon's backoff.
gtest_discover_tests(netns_daemon_tests DISCOVERY_MODE PRE_TEST NO_PRETTY_VALUES
                     PROPERTIES LABELS netns RUN_SERIAL TRUE TIMEOUT 180)

# The fast path (--flowtable) with real traffic: needs a kernel with flowtables, so ctest runs
# it under the project's kernel harness (netns-tests/kernel/uml.sh, `ctest -L uml`). It links
# the daemon's library too, for the one test that hands the nftables backend a device the
# kernel no longer has.
add_executable(netns_fast_path_tests
  ${CMAKE_CURRENT_LIST_DIR}/daemon_main.cpp
  ${CMAKE_CURRENT_LIST_DIR}/nft_listing.cpp
  ${CMAKE_CURRENT_LIST_DIR}/traffic.cpp
  ${CMAKE_CURRENT_LIST_DIR}/daemon_process.cpp
  ${CMAKE_CURRENT_LIST_DIR}/daemon_fixture.cpp
  ${CMAKE_CURRENT_LIST_DIR}/fast_path_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cni_pods.cpp
  ${CMAKE_CURRENT_LIST_DIR}/link_watcher_test.cpp
)
target_include_directories(netns_fast_path_tests PRIVATE ${PROJECT_SOURCE_DIR})
target_link_libraries(netns_fast_path_tests PRIVATE fnft_testkit fnft_daemon fnft_warnings GTest::gtest
                      GTest::gmock nlohmann_json::nlohmann_json)
target_compile_definitions(netns_fast_path_tests PRIVATE
  FNFT_BINARY="$<TARGET_FILE:flannel-nftd>"
  FNFT_PROBE_BINARY="$<TARGET_FILE:traffic_probe>")
add_dependencies(netns_fast_path_tests flannel-nftd traffic_probe)
