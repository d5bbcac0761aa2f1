// libFuzzer target: config text → parse_config → resolve_references. A
// ConfigError is the expected outcome for bad input; any other exception, a
// crash, a sanitizer report or a hang is a bug. On success, checks the
// invariants the runner relies on.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <set>
#include <string>
#include <typeinfo>

#include "triage/core/config.hpp"

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_config: invariant violated: %s\n", what);
  std::abort();
}

void check(const triage::core::Config& config) {
  std::set<std::string> base_ids;
  for (const auto& c : config.checks) base_ids.insert(c.base_id);
  for (const auto& c : config.checks) {
    if (c.id.empty() || c.base_id.empty()) fail("empty check id");
    if (c.plugin.empty() && c.type.empty() && c.id.empty()) fail("empty check");
    if (c.timeout.count() <= 0) fail("timeout not positive");
    if (c.retries < 0) fail("negative retries");
    if (!c.params.is_object()) fail("params is not an object");
    if (!c.target.empty() && c.params.value("target", std::string()) != c.target)
      fail("target differs from params.target");
    for (const auto& dep : c.depends_on)
      if (base_ids.count(dep) == 0) fail("depends_on names an unknown check");
    for (const auto& [metric, spec] : c.thresholds) {
      for (const auto* range : {&spec.warning, &spec.critical}) {
        if (!*range) continue;
        (void)(*range)->alerts(0.0);
        (void)(*range)->describe();
      }
    }
    (void)config.isolation_of(c.plugin);
    (void)c.location.where();
  }
  if (config.defaults.jobs < 1) fail("jobs below 1");
  // Serialising params must not throw (invalid UTF-8 is replaced).
  for (const auto& c : config.checks)
    (void)c.params.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    auto config = triage::core::parse_config(text, "fuzz.yaml");
    check(config);
    triage::core::resolve_references(config);
    for (const auto& c : config.checks)
      if (!c.resolved()) fail("a check left unresolved");
    check(config);
  } catch (const triage::core::ConfigError& e) {
    if (std::string(e.what()).rfind("fuzz.yaml", 0) != 0)
      fail("ConfigError does not start with the source name");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz_config: unexpected %s escaped the config: %s\n", typeid(e).name(),
                 e.what());
    std::abort();
  }
  return 0;
}
