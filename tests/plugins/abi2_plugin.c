/* Claims plugin ABI 2.0: the core must refuse it before calling init(). */
#include <triage/plugin.h>

static triage_rc init(const triage_host_api* host, const triage_check_type* const** out_types,
                      uint32_t* out_count) {
  (void)host;
  (void)out_types;
  (void)out_count;
  return TRIAGE_RC_ERROR;
}

static const triage_plugin_descriptor descriptor = {sizeof(triage_plugin_descriptor),
                                                    TRIAGE_PLUGIN_MAGIC,
                                                    2,
                                                    0,
                                                    "2.0.0",
                                                    "future",
                                                    "2.0.0",
                                                    "A plugin from the future",
                                                    init};

TRIAGE_EXPORT const triage_plugin_descriptor* triage_plugin_v1(void) {
  return &descriptor;
}
