# triage_add_plugin(<target> SOURCES...) — builds a Triage check plugin: a
# shared library with hidden visibility (only the extern "C" entry point is
# exported), no "lib" prefix, linked against the SDK.
function(triage_add_plugin target)
  add_library(${target} MODULE ${ARGN})
  target_link_libraries(${target} PRIVATE triage::sdk)
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
