# Codec and message-building tests of netlink/: no privileges, no kernel state.
# Included from tests/CMakeLists.txt.
add_executable(netlink_unit_tests
  ${CMAKE_CURRENT_LIST_DIR}/nft_codec_test.cpp
)
target_link_libraries(netlink_unit_tests PRIVATE fnft_netlink fnft_state fnft_warnings GTest::gtest_main)
gtest_discover_tests(netlink_unit_tests DISCOVERY_MODE PRE_TEST PROPERTIES LABELS unit)
