# triage_add_plugin(<target> [SOURCES] <source>...) — builds a Triage check
# plugin: a shared library (MODULE) with hidden visibility, so only the
# extern "C" entry point is exported, no "lib" prefix, linked against the SDK.
#
# Works in the Triage source tree and from the installed TriageSDK package
# (find_package(TriageSDK 1 REQUIRED)) alike: both define TriageSDK::sdk.
# Install the result with
#   install(TARGETS <target> LIBRARY DESTINATION ${TRIAGE_PLUGIN_INSTALL_DIR})
function(triage_add_plugin target)
  set(sources ${ARGN})
  list(REMOVE_ITEM sources SOURCES)
  if(NOT sources)
    message(FATAL_ERROR "triage_add_plugin(${target}): no source files given")
  endif()
  if(NOT TARGET TriageSDK::sdk)
    message(FATAL_ERROR "triage_add_plugin(${target}): TriageSDK::sdk is not defined; "
      "call find_package(TriageSDK 1 REQUIRED) first")
  endif()
  add_library(${target} MODULE ${sources})
  target_link_libraries(${target} PRIVATE TriageSDK::sdk)
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  if(DEFINED TRIAGE_PLUGIN_OUTPUT_DIR)
    set_target_properties(${target} PROPERTIES
      LIBRARY_OUTPUT_DIRECTORY ${TRIAGE_PLUGIN_OUTPUT_DIR})
  endif()
  if(NOT APPLE)
    # A plugin must not resolve symbols from the host by accident.
    target_link_options(${target} PRIVATE -Wl,--no-undefined)
  endif()
endfunction()
