// PLACEHOLDER, being written: the route check.
#include "checks.hpp"

namespace triage::network {

const char* const RouteCheck::params_schema = R"({"type":"object"})";

void RouteCheck::run(Context& ctx) { ctx.error("route check is being written"); }

}  // namespace triage::network
