// PLACEHOLDER, being written: the tls check.
#include "checks.hpp"

namespace triage::network {

const char* const TlsCheck::params_schema = R"({"type":"object"})";

void TlsCheck::run(Context& ctx) { ctx.error("tls check is being written"); }

}  // namespace triage::network
