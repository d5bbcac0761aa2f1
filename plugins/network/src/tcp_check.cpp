// PLACEHOLDER, being written: the tcp check.
#include "checks.hpp"

namespace triage::network {

const char* const TcpCheck::params_schema = R"({"type":"object"})";

void TcpCheck::run(Context& ctx) { ctx.error("tcp check is being written"); }

}  // namespace triage::network
