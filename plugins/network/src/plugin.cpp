// Registers the network plugin's check types with the Triage core.
#include "checks.hpp"

using namespace triage::network;

TRIAGE_PLUGIN("network", "1.0.0", "DNS, TCP, HTTP, TLS and routing diagnostics", DnsCheck, TcpCheck,
              HttpCheck, TlsCheck, RouteCheck, LoopbackCheck)
