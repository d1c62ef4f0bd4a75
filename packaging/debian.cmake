# The Debian package (cpack -G DEB, or `cmake --build build --target package`):
# flannel-nftd_<version>_amd64.deb with the binary, the unit and its socket, the options file
# as a conffile, flannel-nftd(8) from the binary's own --help, and the documentation.
# Paths are Debian's whatever the install prefix: /usr/sbin, /lib/systemd/system, /etc.
set(FNFT_DOC_DIR share/doc/flannel-nftd)

install(TARGETS flannel-nftd RUNTIME DESTINATION sbin)
install(FILES systemd/flannel-nftd.service systemd/flannel-nftd.socket
        DESTINATION /lib/systemd/system)
install(FILES systemd/flannel-nftd.default DESTINATION /etc/default RENAME flannel-nftd)
# The iptables-legacy mode's drop-in and tmpfiles line, for the operator to put in place.
install(FILES systemd/iptables-legacy.conf systemd/flannel-nftd-xtables.conf
        DESTINATION ${FNFT_DOC_DIR}/examples)
install(FILES README.md docs/design.md docs/benchmarks.md docs/hardening.md DESTINATION ${FNFT_DOC_DIR})
install(FILES packaging/debian/copyright DESTINATION ${FNFT_DOC_DIR})

find_program(HELP2MAN help2man)
if(HELP2MAN)
  set(FNFT_MAN_PAGE ${CMAKE_CURRENT_BINARY_DIR}/flannel-nftd.8.gz)
  add_custom_command(
    OUTPUT ${FNFT_MAN_PAGE}
    COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/packaging/make-man-page.sh $<TARGET_FILE:flannel-nftd>
            ${FNFT_MAN_PAGE}
    DEPENDS flannel-nftd packaging/make-man-page.sh
    COMMENT "flannel-nftd(8) from --help")
  add_custom_target(man_page ALL DEPENDS ${FNFT_MAN_PAGE})
  install(FILES ${FNFT_MAN_PAGE} DESTINATION share/man/man8)
else()
  message(STATUS "help2man not found: the package will have no man page")
endif()

configure_file(packaging/debian/changelog.in ${CMAKE_CURRENT_BINARY_DIR}/changelog @ONLY)
add_custom_command(
  OUTPUT ${CMAKE_CURRENT_BINARY_DIR}/changelog.gz
  COMMAND gzip -9n -c ${CMAKE_CURRENT_BINARY_DIR}/changelog > changelog.gz
  DEPENDS ${CMAKE_CURRENT_BINARY_DIR}/changelog
  WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
add_custom_target(debian_changelog ALL DEPENDS ${CMAKE_CURRENT_BINARY_DIR}/changelog.gz)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/changelog.gz DESTINATION ${FNFT_DOC_DIR})

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME flannel-nftd)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "flannel-nftd maintainers <flannel-nftd@lists.flannel.invalid>")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE https://github.com/flannel-io/flannel)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "flannel's masquerade and forward rules, kept in place")
set(CPACK_PACKAGE_DESCRIPTION
    "A per-node daemon that owns flannel's packet-filter rules (pod masquerade\n\
and forward accept) in nftables or iptables, repairs them the moment another\n\
component changes them, and can put established pod traffic on an nftables\n\
flowtable.")
# Libraries from dpkg-shlibdeps; the tools it runs in the iptables modes, and nft for the
# operator, are recommended: the nftables mode needs neither.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "iptables, nftables")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_CURRENT_SOURCE_DIR}/packaging/debian/conffiles
    ${CMAKE_CURRENT_SOURCE_DIR}/packaging/debian/postinst
    ${CMAKE_CURRENT_SOURCE_DIR}/packaging/debian/prerm
    ${CMAKE_CURRENT_SOURCE_DIR}/packaging/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# Only the daemon goes into the package, not the tests or benchmarks.
set(CPACK_INSTALL_CMAKE_PROJECTS "${CMAKE_CURRENT_BINARY_DIR};${PROJECT_NAME};Unspecified;/")
include(CPack)
