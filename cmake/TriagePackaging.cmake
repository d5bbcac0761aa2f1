# Debian packages from the install rules, built with `cpack -G DEB` in the
# build folder. Two packages, one per install component:
#   triage          the triage binary, the built-in plugins, docs, example
#                   configs; Depends computed by dpkg-shlibdeps (dpkg-dev).
#   triage-sdk-dev  headers, CMake package TriageSDK, triage-sdk.pc and the
#                   example plugin; Architecture: all, Depends on
#                   nlohmann-json3-dev (the C++ wrapper needs it).
# Operators install triage alone; plugin authors add triage-sdk-dev.
set(CPACK_PACKAGE_NAME triage)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "Triage project")
set(CPACK_PACKAGE_CONTACT "Triage maintainers <triage-maintainers@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "plugin-based diagnostics: runs checks against real systems and reports")
set(CPACK_PACKAGE_DESCRIPTION
  "Triage loads check plugins through a stable C ABI, runs their checks concurrently\n"
  "and writes JSON, text, Nagios and JUnit reports.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# Debian ships stripped binaries; debug builds come from the source tree.
set(CPACK_STRIP_FILES ON)
set(CPACK_GENERATOR DEB)

set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL runtime sdk)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)

set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME triage)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SHLIBDEPS ON)

set(CPACK_DEBIAN_SDK_PACKAGE_NAME triage-sdk-dev)
set(CPACK_DEBIAN_SDK_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_SDK_PACKAGE_ARCHITECTURE all)
set(CPACK_DEBIAN_SDK_PACKAGE_DEPENDS "nlohmann-json3-dev (>= 3)")
# To run and validate what one builds; not needed to compile.
set(CPACK_DEBIAN_SDK_PACKAGE_RECOMMENDS "triage (>= ${PROJECT_VERSION}), catch2, cmake")
set(CPACK_COMPONENT_RUNTIME_DESCRIPTION "${CPACK_PACKAGE_DESCRIPTION_SUMMARY}")
set(CPACK_COMPONENT_SDK_DESCRIPTION
  "SDK to build Triage check plugins: C ABI header, header-only C++ wrapper, CMake package TriageSDK, pkg-config triage-sdk")

include(CPack)
