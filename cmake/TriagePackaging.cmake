# Debian packages from the install rules, built with `cpack -G DEB` in the
# build folder. Two packages, one per install component:
#   triage          the triage binary, the built-in plugins, the triage(1) man
#                   page, bash completion, docs (README.md, docs/, each
#                   plugin's README.md and docs/), example configs; Depends
#                   computed by dpkg-shlibdeps (dpkg-dev).
#   triage-sdk-dev  headers, CMake package TriageSDK, triage-sdk.pc and the
#                   example plugin; Architecture: all, Depends on
#                   nlohmann-json3-dev (the C++ wrapper needs it).
# Operators install triage alone; plugin authors add triage-sdk-dev.
# Each package carries usr/share/doc/<package>/copyright (machine-readable,
# cmake/debian/copyright) and changelog.Debian.gz (cmake/debian/changelog,
# whose first entry must name this version: scripts/check-sdk checks it, and
# runs lintian on both packages).

# ---- the man page and the Debian files, gzipped as Debian wants (-9n: no
# name or timestamp, so the same source gives the same bytes) --------------
find_program(TRIAGE_GZIP gzip REQUIRED)
set(TRIAGE_PACKAGING_DIR ${PROJECT_BINARY_DIR}/packaging)
# The man page's date: SOURCE_DATE_EPOCH when set (reproducible builds).
string(TIMESTAMP TRIAGE_MAN_DATE "%Y-%m-%d" UTC)
configure_file(${PROJECT_SOURCE_DIR}/docs/man/triage.1.in ${TRIAGE_PACKAGING_DIR}/triage.1 @ONLY)
configure_file(${PROJECT_SOURCE_DIR}/cmake/debian/changelog
  ${TRIAGE_PACKAGING_DIR}/changelog.Debian COPYONLY)
execute_process(COMMAND ${TRIAGE_GZIP} -9nkf triage.1 changelog.Debian
  WORKING_DIRECTORY ${TRIAGE_PACKAGING_DIR} COMMAND_ERROR_IS_FATAL ANY)

install(FILES ${TRIAGE_PACKAGING_DIR}/triage.1.gz
  DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT runtime)
install(FILES ${PROJECT_SOURCE_DIR}/scripts/completion/triage.bash
  DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME triage
  COMPONENT runtime)
# Debian's files go into the packages only (a component install), not into a
# plain `cmake --install`.
foreach(component_package IN ITEMS runtime:triage sdk:triage-sdk-dev)
  string(REPLACE ":" ";" component_package ${component_package})
  list(GET component_package 0 component)
  list(GET component_package 1 package)
  install(FILES ${PROJECT_SOURCE_DIR}/cmake/debian/copyright
    ${TRIAGE_PACKAGING_DIR}/changelog.Debian.gz
    DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/${package} COMPONENT ${component} EXCLUDE_FROM_ALL)
  install(FILES ${PROJECT_SOURCE_DIR}/cmake/debian/${package}.lintian-overrides
    DESTINATION ${CMAKE_INSTALL_DATADIR}/lintian/overrides RENAME ${package}
    COMPONENT ${component} EXCLUDE_FROM_ALL)
endforeach()

set(CPACK_PACKAGE_NAME triage)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "Triage project")
set(CPACK_PACKAGE_CONTACT
  "Triage maintainers <maintainers@users.noreply.r-seed-3fa9bdad.example>")
# No CPACK_PACKAGE_DESCRIPTION_SUMMARY: CPack would put that one line before
# the description of both packages. Each package's description below starts
# with its own synopsis line; lines stay under 80 columns.
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# Debian ships stripped binaries; debug builds come from the source tree.
set(CPACK_STRIP_FILES ON)
set(CPACK_GENERATOR DEB)

set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL runtime sdk)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
# Control files 0644 and maintainer scripts 0755, as dpkg-deb expects.
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)

set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME triage)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SHLIBDEPS ON)
string(CONCAT CPACK_DEBIAN_RUNTIME_DESCRIPTION
  "plugin-based diagnostics of real systems, with remediation\n"
  "Triage runs check plugins concurrently against real systems (DNS, TCP,\n"
  "HTTP, TLS, routes, filesystems, backups, Azure Blob storage, Kafka) and\n"
  "says what is broken, the evidence, and what to do about it. Plugins load\n"
  "through a stable C ABI and run in their own host processes, so a plugin\n"
  "that crashes or hangs cannot take a run down. Reports are JSON with text,\n"
  "NDJSON, Nagios, JUnit and Prometheus views.")

set(CPACK_DEBIAN_SDK_PACKAGE_NAME triage-sdk-dev)
set(CPACK_DEBIAN_SDK_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_SDK_PACKAGE_ARCHITECTURE all)
set(CPACK_DEBIAN_SDK_PACKAGE_DEPENDS "nlohmann-json3-dev (>= 3)")
string(CONCAT CPACK_DEBIAN_SDK_DESCRIPTION
  "SDK to build check plugins for Triage\n"
  "The C ABI header, the header-only C++ wrapper, the CMake package\n"
  "TriageSDK (find_package(TriageSDK 1)), the pkg-config file triage-sdk and\n"
  "an example plugin, to build Triage check plugins out of tree. Plugins built\n"
  "against it keep loading across Triage 1.x releases.")
# To run and validate what one builds; not needed to compile.
set(CPACK_DEBIAN_SDK_PACKAGE_RECOMMENDS "triage (>= ${PROJECT_VERSION}), catch2, cmake")
set(CPACK_COMPONENT_RUNTIME_DESCRIPTION "${CPACK_DEBIAN_RUNTIME_DESCRIPTION}")
set(CPACK_COMPONENT_SDK_DESCRIPTION "${CPACK_DEBIAN_SDK_DESCRIPTION}")

include(CPack)
