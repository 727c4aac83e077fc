# What `cmake --install` puts where, for users and out-of-tree plugin authors
# (docs/plugins.md, "Shipping"). Included last from the top-level
# CMakeLists.txt; the binaries and bundled plugins install from their own
# folders.
#
#   bin/                      modvmm, modvmm-ctl, modvmm-plugin-check
#   lib/modvmm/plugins/       the bundled plugins (searched by default)
#   include/modvmm/           the SDK headers
#   lib/modvmm/               libmodvmm_harness.a + libmodvmm_core.a
#   lib/pkgconfig/            modvmm-plugin.pc, modvmm-harness.pc
#   lib/cmake/modvmm/         modvmmConfig.cmake + modvmmConfigVersion.cmake
#   share/modvmm/guestkit/    the guest kit: kit.elf, its sources, kit.mk
#
# Every file uses paths relative to where it was installed, so the tree
# works from `cmake --install build --prefix ANYWHERE`.
include(CMakePackageConfigHelpers)

# The plugin ABI version, read from the header so it is said once.
file(STRINGS ${CMAKE_SOURCE_DIR}/include/modvmm/plugin.h _abi
     REGEX "^#define MVM_ABI_(MAJOR|MINOR) [0-9]+")
string(REGEX REPLACE ".*MVM_ABI_MAJOR ([0-9]+).*" "\\1" MODVMM_ABI_MAJOR
       "${_abi}")
string(REGEX REPLACE ".*MVM_ABI_MINOR ([0-9]+).*" "\\1" MODVMM_ABI_MINOR
       "${_abi}")

set(MODVMM_SDK_LIBDIR ${CMAKE_INSTALL_LIBDIR}/modvmm)
set(MODVMM_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/modvmm)
set(MODVMM_PKGCONFIG_DIR ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
set(MODVMM_PLUGIN_RELDIR ${CMAKE_INSTALL_LIBDIR}/modvmm/plugins)
set(MODVMM_GUESTKIT_RELDIR ${CMAKE_INSTALL_DATADIR}/modvmm/guestkit)

install(DIRECTORY ${CMAKE_SOURCE_DIR}/include/modvmm
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h")

# The harness is a static library over the core's own objects (its loader
# and virtio transport), so both archives ship; only what the harness uses
# is linked into a test.
if(TARGET modvmm_harness)
  install(TARGETS modvmm_harness modvmm_core
          ARCHIVE DESTINATION ${MODVMM_SDK_LIBDIR})
endif()

# pkg-config: ${pcfiledir}-relative, hence relocatable.
file(RELATIVE_PATH MODVMM_PC_TO_PREFIX
     /${MODVMM_PKGCONFIG_DIR} /)
string(REGEX REPLACE "/$" "" MODVMM_PC_TO_PREFIX "${MODVMM_PC_TO_PREFIX}")
foreach(pc modvmm-plugin modvmm-harness)
  configure_file(${CMAKE_CURRENT_LIST_DIR}/${pc}.pc.in
                 ${CMAKE_BINARY_DIR}/sdk/${pc}.pc @ONLY)
  install(FILES ${CMAKE_BINARY_DIR}/sdk/${pc}.pc
          DESTINATION ${MODVMM_PKGCONFIG_DIR})
endforeach()

# CMake: find_package(modvmm 0.1) -> modvmm::plugin, modvmm::harness,
# modvmm_add_plugin(). While modvmm is 0.x, a 0.y release is compatible only
# with requests for 0.y; the plugin ABI (MVM_ABI_*) is what says which
# plugins load into which modvmm.
configure_package_config_file(
  ${CMAKE_CURRENT_LIST_DIR}/modvmmConfig.cmake.in
  ${CMAKE_BINARY_DIR}/sdk/modvmmConfig.cmake
  INSTALL_DESTINATION ${MODVMM_CMAKE_DIR}
  PATH_VARS CMAKE_INSTALL_INCLUDEDIR CMAKE_INSTALL_BINDIR MODVMM_SDK_LIBDIR
            MODVMM_PLUGIN_RELDIR MODVMM_GUESTKIT_RELDIR)
write_basic_package_version_file(
  ${CMAKE_BINARY_DIR}/sdk/modvmmConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/sdk/modvmmConfig.cmake
              ${CMAKE_BINARY_DIR}/sdk/modvmmConfigVersion.cmake
        DESTINATION ${MODVMM_CMAKE_DIR})
