// The integration tests run the real `triage` binary against real services
// (nginx, dnsmasq) on loopback; see helpers.hpp.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
