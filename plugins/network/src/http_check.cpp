// PLACEHOLDER, being written: the http check.
#include "checks.hpp"

namespace triage::network {

const char* const HttpCheck::params_schema = R"({"type":"object"})";

void HttpCheck::run(Context& ctx) { ctx.error("http check is being written"); }

}  // namespace triage::network
