// The chaos fault tests: misbehaving plugins run through the real `triage`
// binary; see chaos_test.cpp and README.md.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
