/* Loader case: a descriptor claiming plugin ABI 2.0. The core must refuse it
 * from the descriptor alone: init() aborts, so calling it would show. */
#include <stdlib.h>
#include <triage/plugin.h>

static triage_rc init(const triage_host_api* host, const triage_check_type* const** out_types,
                      uint32_t* out_count) {
  (void)host;
  (void)out_types;
  (void)out_count;
  abort();
}

static const triage_plugin_descriptor descriptor = {
    sizeof(triage_plugin_descriptor),
    TRIAGE_PLUGIN_MAGIC,
    2,
    0,
    "2.0.0",
    "abi-major2",
    "2.0.0",
    "Built for a plugin ABI this core does not speak",
    init};

TRIAGE_EXPORT const triage_plugin_descriptor* triage_plugin_v1(void) {
  return &descriptor;
}
